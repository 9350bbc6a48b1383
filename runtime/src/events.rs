//! Incoming events: the form-encoded POST Bitrix24 sends to an event handler.
//!
//! ```
//! use b24_runtime::events::Event;
//! let body = b"event=ONCRMDEALADD&data%5BFIELDS%5D%5BID%5D=7405&ts=1766047124\
//!     &auth%5Bdomain%5D=x.bitrix24.com&auth%5Bapplication_token%5D=51856fef";
//! let event = Event::parse_verified(body, "51856fef").expect("genuine");
//! assert_eq!(event.event, "ONCRMDEALADD");
//! assert_eq!(event.data["FIELDS"]["ID"], "7405");
//! ```
//!
//! The body is untrusted until its `application_token` is checked: [`Event::parse_verified`]
//! finds and compares the token first, in one pass that builds nothing, and parses the rest only
//! for a genuine event. Parsing is linear and bounded by [`Limits`] (size, bracket depth,
//! number of fields), so a hostile body costs at most one read of a bounded input.
//!
//! The `application_token` is compared in constant time, and it and any OAuth tokens in `auth`
//! are [`Secret`]s: they never show in `Debug` output or errors; the values of `auth` fields
//! this crate does not know are not shown either.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::query::{find, parse_str, FormError, Limits};
use crate::secret::{debug_scrubbed, scrub, Secret};
use crate::value::Int;
use crate::Extra;

/// Where the token is in the form: `auth[application_token]`.
const TOKEN_PATH: [&str; 2] = ["auth", "application_token"];

/// The `auth` fields that hold secrets.
const SECRET_FIELDS: [&str; 3] = ["application_token", "access_token", "refresh_token"];

/// An incoming event.
#[derive(Clone, Deserialize)]
pub struct Event {
    /// The event code in upper case, e.g. `ONCRMDEALADD`.
    pub event: String,
    /// The id of the registered handler.
    #[serde(default)]
    pub event_handler_id: Option<Int>,
    /// The event's data (its keys depend on the event; usually `FIELDS`).
    #[serde(default)]
    pub data: serde_json::Value,
    /// Unix time the event left the queue.
    #[serde(default)]
    pub ts: Option<Int>,
    /// Authorization data and the portal the event came from.
    #[serde(default)]
    pub auth: EventAuth,
    /// Top-level fields not listed above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The `auth` part of an event. OAuth tokens come only to applications, and only when a user
/// caused the event.
#[derive(Clone, Default, Deserialize)]
pub struct EventAuth {
    /// The OAuth access token of the user who caused the event.
    #[serde(default, deserialize_with = "secret")]
    pub access_token: Option<Secret>,
    /// The OAuth refresh token (only with some events, e.g. `OnAppInstall`).
    #[serde(default, deserialize_with = "secret")]
    pub refresh_token: Option<Secret>,
    /// Seconds until the access token expires.
    #[serde(default)]
    pub expires_in: Option<Int>,
    /// The scope the event belongs to.
    #[serde(default)]
    pub scope: Option<String>,
    /// The portal's address.
    #[serde(default)]
    pub domain: Option<String>,
    /// The authorization server's REST address.
    #[serde(default)]
    pub server_endpoint: Option<String>,
    /// The application's status (`L`, `F`, `D`, `T`, `P`).
    #[serde(default)]
    pub status: Option<String>,
    /// The portal's REST address.
    #[serde(default)]
    pub client_endpoint: Option<String>,
    /// The portal's identifier.
    #[serde(default)]
    pub member_id: Option<String>,
    /// The token proving the event came from Bitrix24.
    #[serde(default, deserialize_with = "secret")]
    pub application_token: Option<Secret>,
    /// Fields not listed above (their values are not shown by `Debug`: they may be secrets).
    #[serde(flatten)]
    pub extra: Extra,
}

impl EventAuth {
    /// The OAuth pair and the portal's data in this block, when it carries an access token.
    pub fn tokens(&self) -> Option<crate::Tokens> {
        let mut t = crate::Tokens::new(self.access_token.clone()?, self.refresh_token.clone());
        t.expires_in = self.expires_in.as_ref().map(Int::get);
        t.scope = self.scope.clone();
        t.domain = self.domain.clone();
        t.server_endpoint = self.server_endpoint.clone();
        t.status = self.status.clone();
        t.client_endpoint = self.client_endpoint.clone();
        t.member_id = self.member_id.clone();
        t.application_token = self.application_token.clone();
        t.extra = self.extra.clone();
        t.fill_expires();
        Some(t)
    }

    fn secrets(&self) -> impl Iterator<Item = &str> {
        [
            &self.application_token,
            &self.access_token,
            &self.refresh_token,
        ]
        .into_iter()
        .flatten()
        .map(Secret::expose)
    }
}

impl fmt::Debug for EventAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Hidden<'a>(&'a Extra);
        impl fmt::Debug for Hidden<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_map()
                    .entries(self.0.keys().map(|k| (k, format_args!("[redacted]"))))
                    .finish()
            }
        }
        f.debug_struct("EventAuth")
            .field("access_token", &self.access_token)
            .field("refresh_token", &self.refresh_token)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("domain", &self.domain)
            .field("server_endpoint", &self.server_endpoint)
            .field("status", &self.status)
            .field("client_endpoint", &self.client_endpoint)
            .field("member_id", &self.member_id)
            .field("application_token", &self.application_token)
            .field("extra", &Hidden(&self.extra))
            .finish()
    }
}

impl fmt::Debug for Event {
    /// Without the event's tokens, wherever they appear (an echo in `data`, say).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Shown<'a>(&'a Event);
        impl fmt::Debug for Shown<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let e = self.0;
                f.debug_struct("Event")
                    .field("event", &e.event)
                    .field("event_handler_id", &e.event_handler_id)
                    .field("data", &e.data)
                    .field("ts", &e.ts)
                    .field("auth", &e.auth)
                    .field("extra", &e.extra)
                    .finish()
            }
        }
        debug_scrubbed(f, &Shown(self), self.auth.secrets())
    }
}

fn secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(Secret::new))
}

/// An event could not be read or is not genuine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// The body is not an event.
    #[error("not an event: {0}")]
    Malformed(String),
    /// The `application_token` is missing or wrong.
    #[error("the event's application_token does not match")]
    BadToken,
    /// `data` does not have the expected shape.
    #[error("unexpected event data: {0}")]
    Data(String),
    /// The body goes beyond the parser's [`Limits`].
    #[error("the event body is beyond the limits: {0}")]
    Limit(#[from] FormError),
}

impl Event {
    /// Parses a form-encoded event body (`event=…&data[…]=…&auth[…]=…`) within
    /// [`Limits::DEFAULT`]. It does not check the token: prefer [`Event::parse_verified`].
    pub fn parse(body: &[u8]) -> Result<Event, EventError> {
        Event::parse_with(body, &Limits::DEFAULT)
    }

    /// [`Event::parse`] within other limits.
    pub fn parse_with(body: &[u8], limits: &Limits) -> Result<Event, EventError> {
        let body = body.trim_ascii();
        std::str::from_utf8(body)
            .map_err(|_| EventError::Malformed("the body is not UTF-8".into()))?;
        let form = parse_str(body, limits)?;
        Event::from_value(serde_json::Value::Object(form))
    }

    /// Parses an event given as JSON (the same structure as the form), within
    /// [`Limits::DEFAULT`]: its size and nesting are checked before anything is parsed.
    pub fn parse_json(body: &[u8]) -> Result<Event, EventError> {
        Event::parse_json_with(body, &Limits::DEFAULT)
    }

    /// [`Event::parse_json`] within other limits (`max_bytes`, and `max_depth` levels of
    /// objects and arrays below the top one; `max_keys` does not apply).
    pub fn parse_json_with(body: &[u8], limits: &Limits) -> Result<Event, EventError> {
        if body.len() > limits.max_bytes {
            return Err(EventError::Limit(FormError::TooLarge {
                size: body.len(),
                limit: limits.max_bytes,
            }));
        }
        if !json_depth_within(body, limits.max_depth.saturating_add(1)) {
            return Err(EventError::Limit(FormError::TooDeep {
                limit: limits.max_depth,
            }));
        }
        let v: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| EventError::Malformed(e.to_string()))?;
        Event::from_value(v)
    }

    /// Reads the event from parsed JSON; an error shows none of its tokens.
    fn from_value(v: serde_json::Value) -> Result<Event, EventError> {
        let secrets: Vec<String> = SECRET_FIELDS
            .iter()
            .filter_map(|f| v.get("auth")?.get(f)?.as_str())
            .map(str::to_owned)
            .collect();
        serde_json::from_value(v).map_err(|e| {
            EventError::Malformed(scrub(&e.to_string(), secrets.iter().map(String::as_str)))
        })
    }

    /// Checks a form-encoded event's `application_token`, then parses it, within
    /// [`Limits::DEFAULT`].
    ///
    /// The token is found and compared before anything else is built: a body without the
    /// right token costs one pass over at most `max_bytes`, and fails with
    /// [`EventError::BadToken`] (or [`EventError::Limit`] beyond the limits).
    pub fn parse_verified(body: &[u8], application_token: &str) -> Result<Event, EventError> {
        Event::parse_verified_with(body, application_token, &Limits::DEFAULT)
    }

    /// [`Event::parse_verified`] within other limits.
    pub fn parse_verified_with(
        body: &[u8],
        application_token: &str,
        limits: &Limits,
    ) -> Result<Event, EventError> {
        let body = body.trim_ascii();
        let got = find(body, &TOKEN_PATH, limits)?;
        if !got.is_some_and(|got| tokens_match(&got, application_token)) {
            return Err(EventError::BadToken);
        }
        Event::parse_with(body, limits)
    }

    /// Checks the `application_token` against the expected one, in constant time.
    pub fn verify(&self, application_token: &str) -> Result<(), EventError> {
        let got = self
            .auth
            .application_token
            .as_ref()
            .ok_or(EventError::BadToken)?;
        if tokens_match(got.expose(), application_token) {
            Ok(())
        } else {
            Err(EventError::BadToken)
        }
    }

    /// `data` decoded into a type of your choice.
    ///
    /// A form cannot carry an empty list or object (PHP's `http_build_query` writes nothing
    /// for `[]`), so a portal's `"data": []` arrives as no `data` at all: an absent (`null`)
    /// `data` reads as an empty list, or else an empty object, when `T` does not take `null`.
    pub fn data_as<T: DeserializeOwned>(&self) -> Result<T, EventError> {
        let first = T::deserialize(&self.data);
        let read = match first {
            Err(e) if self.data.is_null() => T::deserialize(&serde_json::Value::Array(Vec::new()))
                .or_else(|_| T::deserialize(&serde_json::Value::Object(Default::default())))
                .map_err(|_| e),
            other => other,
        };
        read.map_err(|e| EventError::Data(scrub(&e.to_string(), self.auth.secrets())))
    }
}

/// An event whose `data` is typed: what the generated `events` module's types are
/// (`b24::events::crm::OnCrmDealAdd = Incoming<on_crm_deal_add::Data>`). The envelope and the
/// `auth` block are the same for every event and typed once here.
#[derive(Clone)]
pub struct Incoming<D> {
    /// The event code as sent, e.g. `ONCRMDEALADD`.
    pub event: String,
    /// The id of the registered handler.
    pub event_handler_id: Option<Int>,
    /// The event's data, typed from its page.
    pub data: D,
    /// Unix time the event left the queue.
    pub ts: Option<Int>,
    /// Authorization data and the portal the event came from.
    pub auth: EventAuth,
    /// Top-level fields not listed above.
    pub extra: Extra,
}

impl<D: DeserializeOwned> Incoming<D> {
    /// Types an event's `data` (the raw event is left as it is).
    pub fn from_event(event: &Event) -> Result<Incoming<D>, EventError> {
        Ok(Incoming {
            data: event.data_as()?,
            event: event.event.clone(),
            event_handler_id: event.event_handler_id.clone(),
            ts: event.ts.clone(),
            auth: event.auth.clone(),
            extra: event.extra.clone(),
        })
    }
}

impl<D: fmt::Debug> fmt::Debug for Incoming<D> {
    /// Without the event's tokens, wherever they appear.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Shown<'a, D>(&'a Incoming<D>);
        impl<D: fmt::Debug> fmt::Debug for Shown<'_, D> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let e = self.0;
                f.debug_struct("Incoming")
                    .field("event", &e.event)
                    .field("event_handler_id", &e.event_handler_id)
                    .field("data", &e.data)
                    .field("ts", &e.ts)
                    .field("auth", &e.auth)
                    .field("extra", &e.extra)
                    .finish()
            }
        }
        debug_scrubbed(f, &Shown(self), self.auth.secrets())
    }
}

/// A type an incoming [`Event`] is turned into by its name: the generated `events::Event`
/// enum (a variant per documented event, `Other` for the rest), or [`Event`] itself.
pub trait FromEvent: Sized + Send + 'static {
    /// Turns a parsed (and verified) event into this type; never fails: what cannot be typed
    /// is kept raw.
    fn from_event(event: Event) -> Self;
    /// The `auth` block of the event.
    fn auth(&self) -> &EventAuth;
}

impl FromEvent for Event {
    fn from_event(event: Event) -> Self {
        event
    }
    fn auth(&self) -> &EventAuth {
        &self.auth
    }
}

/// True when no object or array in the JSON text nests deeper than `max` levels (the top one
/// is level 1). One pass, nothing built; brackets inside strings do not count.
fn json_depth_within(body: &[u8], max: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in body {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return false;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    true
}

/// Constant-time comparison (for equal lengths; an empty expected token never matches).
pub(crate) fn tokens_match(got: &str, expected: &str) -> bool {
    !expected.is_empty() && bool::from(got.as_bytes().ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP_EVENT: &str = "event=ONCRMDEALADD&event_handler_id=185&data%5BFIELDS%5D%5BID%5D=7405&ts=1766047124\
        &auth%5Baccess_token%5D=s6p6eclrvim6da22ft9ch94ekreb52lv&auth%5Bexpires_in%5D=3600&auth%5Bscope%5D=crm\
        &auth%5Bdomain%5D=some-domain.bitrix24.com&auth%5Bserver_endpoint%5D=https%3A%2F%2Foauth.bitrix.info%2Frest%2F\
        &auth%5Bstatus%5D=L&auth%5Bclient_endpoint%5D=https%3A%2F%2Fsome-domain.bitrix24.com%2Frest%2F\
        &auth%5Bmember_id%5D=d897063e1ce7c5eb9f04b9751eef5915&auth%5Bapplication_token%5D=51856fefc120afa4b628cc82d3935cce";

    #[test]
    fn parses_the_docs_application_event() {
        let e = Event::parse(APP_EVENT.as_bytes()).expect("parses");
        assert_eq!(e.event, "ONCRMDEALADD");
        assert_eq!(e.event_handler_id.as_ref().map(Int::get), Some(185));
        assert_eq!(e.ts.as_ref().map(Int::get), Some(1766047124));
        assert_eq!(e.data["FIELDS"]["ID"], "7405");
        assert_eq!(e.auth.domain.as_deref(), Some("some-domain.bitrix24.com"));
        assert_eq!(
            e.auth.client_endpoint.as_deref(),
            Some("https://some-domain.bitrix24.com/rest/")
        );
        assert_eq!(e.auth.expires_in.as_ref().map(Int::get), Some(3600));
        assert!(e.verify("51856fefc120afa4b628cc82d3935cce").is_ok());
        assert!(matches!(
            e.verify("51856fefc120afa4b628cc82d3935ccf"),
            Err(EventError::BadToken)
        ));
        assert!(matches!(e.verify(""), Err(EventError::BadToken)));
        assert!(matches!(e.verify("short"), Err(EventError::BadToken)));

        #[derive(Deserialize)]
        struct Fields {
            #[serde(rename = "FIELDS")]
            fields: Ids,
        }
        #[derive(Deserialize)]
        struct Ids {
            #[serde(rename = "ID")]
            id: Int,
        }
        assert_eq!(e.data_as::<Fields>().expect("typed").fields.id.get(), 7405);

        let shown = format!("{e:?}");
        for secret in [
            "s6p6eclrvim6da22ft9ch94ekreb52lv",
            "51856fefc120afa4b628cc82d3935cce",
        ] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn webhook_event_without_tokens_and_bad_bodies() {
        let body =
            b"event=ONCRMDEALADD&data[FIELDS][ID]=1&auth[application_token]=abc&auth[member_id]=m";
        let e = Event::parse_verified(body, "abc").expect("genuine");
        assert!(e.auth.access_token.is_none());
        assert!(matches!(
            Event::parse_verified(body, "abd"),
            Err(EventError::BadToken)
        ));
        assert!(matches!(
            Event::parse(b"data[FIELDS][ID]=1"),
            Err(EventError::Malformed(_))
        ));
        assert!(matches!(
            Event::parse(b"\xff\xfe"),
            Err(EventError::Malformed(_))
        ));
        let no_token = Event::parse(b"event=X").expect("parses");
        assert!(matches!(no_token.verify("abc"), Err(EventError::BadToken)));
        let j = Event::parse_json(
            br#"{"event":"E","data":{"FIELDS":{"ID":"2","N":"a\"{[{["}},"auth":{"application_token":"t"}}"#,
        )
        .expect("json");
        assert!(j.verify("t").is_ok());
        let limits = Limits {
            max_depth: 2,
            ..Limits::DEFAULT
        };
        // `data.FIELDS` is two levels below the top: within 2, not within 1.
        let body = br#"{"event":"E","data":{"FIELDS":{"ID":"[{"}}}"#;
        assert!(Event::parse_json_with(body, &limits).is_ok());
        let one = Limits {
            max_depth: 1,
            ..Limits::DEFAULT
        };
        assert!(matches!(
            Event::parse_json_with(body, &one),
            Err(EventError::Limit(FormError::TooDeep { limit: 1 }))
        ));
        let deep = format!(
            "{{\"event\":\"E\",\"data\":{}1{}}}",
            "[".repeat(5000),
            "]".repeat(5000)
        );
        assert!(matches!(
            Event::parse_json(deep.as_bytes()),
            Err(EventError::Limit(FormError::TooDeep { .. }))
        ));
    }
}
