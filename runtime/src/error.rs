//! Errors of a call: the API's own error answers ([`ApiError`]) and everything that can go
//! wrong around them ([`Error`]).
//!
//! No error here ever holds a URL with a secret, a token or a webhook code: transport errors
//! are stripped of their URL, and what the server sent back is kept with every secret the
//! client holds scrubbed out (a server or proxy may echo the request).

use std::fmt;

use b24_form::comparable_error_text as comparable;

use crate::method::MethodError;
use crate::secret::Redactor;

/// An error answer of the API: HTTP status, code, description and the raw body.
///
/// Classic REST sends `{"error": "CODE", "error_description": "…"}`; REST 3.0 sends
/// `{"error": {"code": "…", "message": "…", "validation": […]}}`. Both land here.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiError {
    status: u16,
    code: String,
    description: String,
    body: String,
}

impl ApiError {
    /// An API error from its parts.
    pub fn new(
        status: u16,
        code: impl Into<String>,
        description: impl Into<String>,
        body: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            code: code.into(),
            description: description.into(),
            body: body.into(),
        }
    }

    /// The HTTP status of the answer (for an error inside a batch: the batch's status).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The error code: `error` (classic) or `error.code` (REST 3.0).
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The description: `error_description` (classic) or `error.message` (REST 3.0).
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The raw body the server sent.
    pub fn body(&self) -> &str {
        &self.body
    }

    /// The identifier to match documented error codes against.
    ///
    /// It is the code, except when the code is `0`, `100` or empty: the docs say those codes
    /// carry no meaning and the message is the real identifier, so the description is returned.
    pub fn key(&self) -> &str {
        match self.code.trim() {
            "" | "0" | "100" => self.description.trim(),
            _ => &self.code,
        }
    }
}

impl ApiError {
    pub(crate) fn redacted(self, r: &Redactor) -> Self {
        ApiError {
            status: self.status,
            code: r.scrub(&self.code),
            description: r.scrub(&self.description),
            body: r.scrub(&self.body),
        }
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("status", &self.status)
            .field("code", &self.code)
            .field("description", &self.description)
            .field("body", &self.body)
            .finish()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {} {}", self.status, self.code)?;
        if !self.description.is_empty() {
            write!(f, ": {}", self.description)?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// The error codes the runtime handles itself on every call, before a method's own error type
/// sees them: rate and time limits (retried), an expired token (refreshed) and the other
/// authentication failures. They reach callers as [`Error::QueryLimitExceeded`],
/// [`Error::OperationTimeLimit`], [`Error::ExpiredToken`] and [`Error::Auth`], so a generated
/// method error has no variant for them.
pub const RUNTIME_CODES: &[&str] = &[
    "QUERY_LIMIT_EXCEEDED",
    "OPERATION_TIME_LIMIT",
    "expired_token",
    "NO_AUTH_FOUND",
    "invalid_token",
    "INVALID_CREDENTIALS",
    "wrong_auth_type",
    "invalid_client",
    "invalid_grant",
];

/// How a documented error is recognised in an answer: what [`method_error!`] matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Recognise {
    /// The answer's code is this one.
    Code(&'static str),
    /// The answer's description is this text: compared without letter case, surrounding
    /// whitespace, a trailing period or a trailing `<br>` (the server appends one to some).
    Message(&'static str),
    /// The answer's description starts with this text (compared as for `Message`): the
    /// server adds details after it.
    Prefix(&'static str),
}

impl Recognise {
    /// True when this is a code and the answer carries it.
    pub fn by_code(self, e: &ApiError) -> bool {
        matches!(self, Recognise::Code(code) if e.code() == code)
    }

    /// True when this is a text and the answer's description is (or starts with) it.
    pub fn by_message(self, e: &ApiError) -> bool {
        match self {
            Recognise::Code(_) => false,
            Recognise::Message(text) => comparable(e.description()) == comparable(text),
            Recognise::Prefix(text) => comparable(e.description()).starts_with(&comparable(text)),
        }
    }
}

/// An untyped API error is a valid method error: used where no method is known (e.g. a batch
/// as a whole, or raw calls).
impl MethodError for ApiError {
    fn api_error(&self) -> &ApiError {
        self
    }
}

/// A response body that could not be decoded, with the HTTP status and the body kept.
#[derive(Debug)]
pub struct DecodeError {
    /// The HTTP status.
    pub status: u16,
    /// The raw body (lossy UTF-8).
    pub body: String,
    /// What was wrong.
    pub reason: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot decode the response (HTTP {}): {}",
            self.status, self.reason
        )
    }
}

impl std::error::Error for DecodeError {}

impl DecodeError {
    pub(crate) fn redacted(self, r: &Redactor) -> Self {
        DecodeError {
            status: self.status,
            body: r.scrub(&self.body),
            reason: r.scrub(&self.reason),
        }
    }
}

/// A network failure, with any URL removed (a webhook URL holds its secret code).
#[derive(Debug)]
pub struct TransportError {
    source: reqwest::Error,
    sent: bool,
    timeout: bool,
}

impl TransportError {
    /// Wraps a reqwest error, dropping its URL.
    pub(crate) fn new(e: reqwest::Error) -> Self {
        let sent = !e.is_connect() && !e.is_builder();
        TransportError {
            timeout: e.is_timeout(),
            source: e.without_url(),
            sent,
        }
    }

    /// Whether the exchange timed out.
    pub fn is_timeout(&self) -> bool {
        self.timeout
    }

    /// Whether the request may have reached the server (false only when the connection was
    /// never made, which proves the server did not run it).
    pub fn maybe_sent(&self) -> bool {
        self.sent
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "transport error: {}", self.source)?;
        let mut cur = std::error::Error::source(&self.source);
        while let Some(e) = cur {
            write!(f, ": {e}")?;
            cur = e.source();
        }
        Ok(())
    }
}

impl std::error::Error for TransportError {}

/// The error of a call: the method's own typed error `E`, or what the runtime met on the way.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error<E> {
    /// An API error the runtime does not handle itself, as the method's typed error.
    Method(E),
    /// HTTP 503 `QUERY_LIMIT_EXCEEDED`: the portal's request-rate bucket overflowed and the
    /// retries allowed by the policy ran out.
    QueryLimitExceeded(ApiError),
    /// HTTP 429 `OPERATION_TIME_LIMIT`: the method's time budget is spent and waiting for its
    /// reset was not allowed (or did not help).
    OperationTimeLimit(ApiError),
    /// HTTP 401 `expired_token`: the access token expired and could not be renewed.
    ExpiredToken(ApiError),
    /// Any other authentication failure (`NO_AUTH_FOUND`, `invalid_token`, `INVALID_CREDENTIALS`, …).
    Auth(ApiError),
    /// Renewing the OAuth token failed.
    Refresh(RefreshError),
    /// The network failed (URL removed).
    Transport(TransportError),
    /// The call took longer than the configured timeout.
    Timeout,
    /// The response could not be decoded; status and body are kept.
    Decode(DecodeError),
    /// The server answered with a redirect (3xx), which was not followed: redirects are never
    /// followed for writes, to another site, or unless
    /// [`ClientBuilder::follow_read_redirects`](crate::ClientBuilder::follow_read_redirects)
    /// allows it. A moved portal or a proxy in the way; nothing was sent to the new location.
    Redirect {
        /// The HTTP status (301, 302, 303, 307, 308, …).
        status: u16,
        /// Where it pointed (resolved against the request; secrets removed), if it said.
        location: Option<String>,
    },
    /// The response body was longer than
    /// [`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes); it was
    /// not read further.
    BodyTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// An argument could not be used (e.g. a request that does not serialize to an object).
    InvalidArgument(String),
    /// A paged export stopped making progress (the same cursor came back).
    StalledCursor {
        /// The method being paged.
        method: &'static str,
        /// Where it stalled (a `start` value or the last ID).
        at: String,
    },
    /// A batch command was not run (the batch halted before it, or a reference it used failed).
    NotRun {
        /// The command's key in the batch.
        command: String,
    },
}

/// Renewing an OAuth token failed: the token server's answer (no tokens in it).
#[derive(Debug)]
#[non_exhaustive]
pub enum RefreshError {
    /// The client has no refresh configuration (client id, secret, refresh token).
    NotConfigured,
    /// The token server answered with an error (`invalid_grant`, `PAYMENT_REQUIRED`, …).
    Rejected(ApiError),
    /// The token server could not be reached.
    Transport(TransportError),
    /// The token server's answer could not be read.
    Decode(DecodeError),
    /// The token server answered with a redirect, which is never followed for a token request
    /// (it carries the client secret and the refresh token).
    Redirect {
        /// The HTTP status.
        status: u16,
        /// Where it pointed (secrets removed), if it said.
        location: Option<String>,
    },
    /// The token server's answer was longer than the client's body limit.
    BodyTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The token store (or the [`OAuth::on_refresh`](crate::OAuth::on_refresh) hook) failed.
    /// A new pair the token server gave is kept in memory and saved again on the next refresh.
    Store(crate::store::StoreError),
    /// The token server's answer names another portal than the one the tokens were asked for
    /// (its `member_id` differs): nothing was stored for either portal and the answer's tokens
    /// were dropped, unused. A refresh that ends so has spent the portal's refresh token if
    /// the token server took it; the portal must then be installed again.
    WrongPortal {
        /// The portal the tokens were asked for.
        expected: String,
        /// The portal the answer names.
        answered: String,
    },
}

impl RefreshError {
    pub(crate) fn redacted(self, r: &Redactor) -> Self {
        match self {
            RefreshError::Rejected(a) => RefreshError::Rejected(a.redacted(r)),
            RefreshError::Decode(d) => RefreshError::Decode(d.redacted(r)),
            RefreshError::Redirect { status, location } => RefreshError::Redirect {
                status,
                location: location.map(|l| r.scrub(&l)),
            },
            other => other,
        }
    }
}

fn fmt_redirect(f: &mut fmt::Formatter<'_>, status: u16, location: &Option<String>) -> fmt::Result {
    write!(f, "HTTP {status} redirect")?;
    match location {
        Some(l) => write!(f, " to {l}"),
        None => f.write_str(" without a location"),
    }
}

impl fmt::Display for RefreshError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefreshError::NotConfigured => f.write_str("no OAuth refresh is configured"),
            RefreshError::Rejected(e) => write!(f, "the token server refused the refresh: {e}"),
            RefreshError::Transport(e) => write!(f, "token refresh: {e}"),
            RefreshError::Decode(e) => write!(f, "token refresh: {e}"),
            RefreshError::Redirect { status, location } => {
                f.write_str("the token server answered a ")?;
                fmt_redirect(f, *status, location)?;
                f.write_str(", not followed")
            }
            RefreshError::BodyTooLarge { limit } => write!(
                f,
                "token refresh: the answer is longer than the limit of {limit} bytes"
            ),
            RefreshError::Store(e) => write!(f, "token refresh: {e}"),
            RefreshError::WrongPortal { expected, answered } => write!(
                f,
                "the token server answered for the portal `{answered}`, not `{expected}`: \
                 nothing was stored"
            ),
        }
    }
}

impl std::error::Error for RefreshError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RefreshError::Store(e) => Some(e),
            _ => None,
        }
    }
}

impl<E> Error<E> {
    /// The API error behind this error, when there is one.
    pub fn api_error(&self) -> Option<&ApiError>
    where
        E: MethodError,
    {
        match self {
            Error::Method(e) => Some(e.api_error()),
            Error::QueryLimitExceeded(a)
            | Error::OperationTimeLimit(a)
            | Error::ExpiredToken(a)
            | Error::Auth(a) => Some(a),
            Error::Refresh(RefreshError::Rejected(a)) => Some(a),
            _ => None,
        }
    }

    /// The HTTP status, when a response was received.
    pub fn status(&self) -> Option<u16>
    where
        E: MethodError,
    {
        match self {
            Error::Decode(d) => Some(d.status),
            Error::Redirect { status, .. } => Some(*status),
            _ => self.api_error().map(ApiError::status),
        }
    }

    /// Converts the method error type, keeping every runtime variant.
    pub fn map_method<F>(self, f: impl FnOnce(E) -> F) -> Error<F> {
        match self {
            Error::Method(e) => Error::Method(f(e)),
            Error::QueryLimitExceeded(a) => Error::QueryLimitExceeded(a),
            Error::OperationTimeLimit(a) => Error::OperationTimeLimit(a),
            Error::ExpiredToken(a) => Error::ExpiredToken(a),
            Error::Auth(a) => Error::Auth(a),
            Error::Refresh(r) => Error::Refresh(r),
            Error::Transport(t) => Error::Transport(t),
            Error::Timeout => Error::Timeout,
            Error::Decode(d) => Error::Decode(d),
            Error::Redirect { status, location } => Error::Redirect { status, location },
            Error::BodyTooLarge { limit } => Error::BodyTooLarge { limit },
            Error::InvalidArgument(s) => Error::InvalidArgument(s),
            Error::StalledCursor { method, at } => Error::StalledCursor { method, at },
            Error::NotRun { command } => Error::NotRun { command },
        }
    }
}

impl Error<ApiError> {
    /// Turns an untyped error into the typed error of method error type `E`.
    pub fn typed<E: MethodError>(self) -> Error<E> {
        self.map_method(E::from)
    }

    /// The error with every secret `r` knows scrubbed from what the server sent back.
    pub(crate) fn redacted(self, r: &Redactor) -> Self {
        match self {
            Error::Method(a) => Error::Method(a.redacted(r)),
            Error::QueryLimitExceeded(a) => Error::QueryLimitExceeded(a.redacted(r)),
            Error::OperationTimeLimit(a) => Error::OperationTimeLimit(a.redacted(r)),
            Error::ExpiredToken(a) => Error::ExpiredToken(a.redacted(r)),
            Error::Auth(a) => Error::Auth(a.redacted(r)),
            Error::Refresh(e) => Error::Refresh(e.redacted(r)),
            Error::Decode(d) => Error::Decode(d.redacted(r)),
            Error::Redirect { status, location } => Error::Redirect {
                status,
                location: location.map(|l| r.scrub(&l)),
            },
            Error::StalledCursor { method, at } => Error::StalledCursor {
                method,
                at: r.scrub(&at),
            },
            other => other,
        }
    }
}

impl<E: fmt::Display> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Method(e) => fmt::Display::fmt(e, f),
            Error::QueryLimitExceeded(a) => write!(f, "request rate limit exceeded ({a})"),
            Error::OperationTimeLimit(a) => write!(f, "method time budget exceeded ({a})"),
            Error::ExpiredToken(a) => write!(f, "access token expired ({a})"),
            Error::Auth(a) => write!(f, "authentication failed ({a})"),
            Error::Refresh(r) => fmt::Display::fmt(r, f),
            Error::Transport(t) => fmt::Display::fmt(t, f),
            Error::Timeout => f.write_str("the call timed out"),
            Error::Decode(d) => fmt::Display::fmt(d, f),
            Error::Redirect { status, location } => {
                f.write_str("the server answered a ")?;
                fmt_redirect(f, *status, location)?;
                f.write_str(", not followed")
            }
            Error::BodyTooLarge { limit } => write!(
                f,
                "the response body is longer than the limit of {limit} bytes"
            ),
            Error::InvalidArgument(s) => write!(f, "invalid argument: {s}"),
            Error::StalledCursor { method, at } => {
                write!(
                    f,
                    "paging {method} stalled at {at}: the cursor did not advance"
                )
            }
            Error::NotRun { command } => write!(f, "batch command {command:?} was not run"),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for Error<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Method(e) => Some(e),
            Error::QueryLimitExceeded(a)
            | Error::OperationTimeLimit(a)
            | Error::ExpiredToken(a)
            | Error::Auth(a) => Some(a),
            Error::Refresh(r) => Some(r),
            Error::Transport(t) => Some(t),
            Error::Decode(d) => Some(d),
            _ => None,
        }
    }
}

/// Defines a method's error enum: one variant per documented error, plus `Other`.
///
/// ```
/// b24_runtime::method_error! {
///     /// Errors of `crm.deal.get`.
///     pub enum Error {
///         /// Insufficient permissions to perform the operation
///         AccessDenied = Code("ACCESS_DENIED"),
///         /// No deal with this `id`
///         NotFound = Message("Not found"),
///         /// A required field is missing (the server names it after the colon)
///         RequiredFields = Prefix("Required fields:"),
///     }
/// }
/// use b24_runtime::ApiError;
/// assert!(matches!(Error::from(ApiError::new(400, "ACCESS_DENIED", "", "")), Error::AccessDenied(_)));
/// assert!(matches!(Error::from(ApiError::new(400, "", "Not found.", "")), Error::NotFound(_)));
/// assert!(matches!(Error::from(ApiError::new(400, "0", "Required fields: code", "")), Error::RequiredFields(_)));
/// assert!(matches!(Error::from(ApiError::new(400, "X", "Other", "")), Error::Other(_)));
/// ```
///
/// Each variant holds the [`ApiError`]. `From<ApiError>` picks the first variant whose code
/// the answer carries, else the first whose text its description is or starts with (see
/// [`Recognise`]), else `Other`. `Display` shows the variant's documented meaning with the code
/// and description. A variant may carry `#[deprecated(note = "...")]` after its docs (a code
/// the docs dropped that a lock of the published API keeps).
#[macro_export]
macro_rules! method_error {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[doc = $doc:literal])*
                $(#[deprecated(note = $deprecated:literal)])?
                $variant:ident = $kind:ident($text:literal)
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug)]
        #[non_exhaustive]
        $vis enum $name {
            $(
                $(#[doc = $doc])*
                $(#[deprecated(note = $deprecated)])?
                $variant($crate::ApiError),
            )*
            /// Any other API error.
            Other($crate::ApiError),
        }

        impl $name {
            /// How the docs say this error is recognised; `None` for `Other`.
            #[inline]
            pub fn documented(&self) -> ::core::option::Option<$crate::error::Recognise> {
                match self {
                    $( $name::$variant(_) => ::core::option::Option::Some($crate::error::Recognise::$kind($text)), )*
                    $name::Other(_) => ::core::option::Option::None,
                }
            }

            /// The documented code of this variant, for variants recognised by their code.
            #[inline]
            pub fn documented_code(&self) -> ::core::option::Option<&'static str> {
                match self.documented() {
                    ::core::option::Option::Some($crate::error::Recognise::Code(code)) => ::core::option::Option::Some(code),
                    _ => ::core::option::Option::None,
                }
            }

            #[inline]

            fn meaning(&self) -> &'static [&'static str] {
                match self {
                    $( $name::$variant(_) => &[$($doc),*], )*
                    $name::Other(_) => &[],
                }
            }
        }

        impl ::core::convert::From<$crate::ApiError> for $name {
            #[inline]
            fn from(e: $crate::ApiError) -> Self {
                $( if $crate::error::Recognise::$kind($text).by_code(&e) { return $name::$variant(e); } )*
                $( if $crate::error::Recognise::$kind($text).by_message(&e) { return $name::$variant(e); } )*
                $name::Other(e)
            }
        }

        impl ::core::fmt::Display for $name {
            #[inline]
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                $crate::error::__fmt_method_error(
                    f,
                    self.meaning(),
                    $crate::MethodError::api_error(self),
                )
            }
        }

        impl ::std::error::Error for $name {}

        impl $crate::MethodError for $name {
            #[inline]
            fn api_error(&self) -> &$crate::ApiError {
                match self {
                    $( $name::$variant(e) => e, )*
                    $name::Other(e) => e,
                }
            }
        }
    };
}

#[doc(hidden)]
pub fn __fmt_method_error(
    f: &mut fmt::Formatter<'_>,
    meaning: &[&str],
    api: &ApiError,
) -> fmt::Result {
    let mut first = true;
    for line in meaning.iter().map(|l| l.trim()).filter(|l| !l.is_empty()) {
        if !first {
            f.write_str(" ")?;
        }
        f.write_str(line)?;
        first = false;
    }
    if first {
        write!(f, "API error {api}")
    } else {
        write!(f, " ({api})")
    }
}
