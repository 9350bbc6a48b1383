//! The client: one `send` with the layers around it (auth, limits, retries, decoding).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::Serialize;
use tracing::Instrument;

use crate::auth::{self, Auth, OAuth};
use crate::envelope::{decode, Decoded, Envelope};
use crate::error::{ApiError, Error};
use crate::http::{self as wire, Failure};
use crate::limits::{Limiter, OperatingBudget, RateLimit, SharedLimits};
use crate::method::{Access, ApiVersion, Method};
use crate::retry::RetryPolicy;
use crate::secret::Redactor;

/// The default of [`ClientBuilder::max_response_bytes`]: 64 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 << 20;

/// A Bitrix24 REST client: cheap to clone (an `Arc` inside), `Send + Sync`.
///
/// Built by [`Client::builder`]. All clones share the rate limiter, the time budgets and the
/// OAuth tokens.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    auth: Auth,
    redactor: Redactor,
    limiter: Limiter,
    budget: OperatingBudget,
    retry: RetryPolicy,
    follow_read_redirects: bool,
    max_response_bytes: usize,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("auth", &self.inner.auth)
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

/// A client could not be built from the given settings.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the Bitrix24 client: {0}")]
pub struct BuildError(String);

impl BuildError {
    pub(crate) fn new(reason: impl Into<String>) -> Self {
        BuildError(reason.into())
    }
}

/// Per-call options for [`Client::call_with`].
#[derive(Clone, Debug, Default)]
pub struct CallOptions {
    idempotency_key: Option<String>,
    retry_uncertain_writes: bool,
}

impl CallOptions {
    /// Default options.
    pub fn new() -> Self {
        CallOptions::default()
    }

    /// The `Idempotency-Key` to send with a REST 3.0 write (1–255 printable ASCII characters).
    /// Without one, a fresh random key is made per call (and reused by its retries).
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// Allow re-sending this write after errors that do not prove the server skipped it.
    pub fn retry_uncertain_writes(mut self, yes: bool) -> Self {
        self.retry_uncertain_writes = yes;
        self
    }
}

/// Settings for a [`Client`].
pub struct ClientBuilder {
    auth: Option<Result<Auth, String>>,
    rate_limit: Option<RateLimit>,
    shared_limits: Option<Arc<dyn SharedLimits>>,
    retry: RetryPolicy,
    timeout: Duration,
    connect_timeout: Duration,
    operating_limit: Duration,
    operating_fallback_wait: Duration,
    follow_read_redirects: bool,
    max_response_bytes: usize,
    http: Option<reqwest::Client>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("auth", &self.auth)
            .field("rate_limit", &self.rate_limit)
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            auth: None,
            rate_limit: Some(RateLimit::STANDARD),
            shared_limits: None,
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(65),
            connect_timeout: Duration::from_secs(10),
            operating_limit: Duration::from_secs(480),
            operating_fallback_wait: Duration::from_secs(60),
            follow_read_redirects: false,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            http: None,
        }
    }
}

impl ClientBuilder {
    /// Authorize by an incoming webhook URL `https://portal/rest/{user}/{code}/`.
    pub fn webhook(mut self, url: impl AsRef<str>) -> Self {
        self.auth = Some(auth::parse_webhook(url.as_ref()));
        self
    }

    /// Authorize by OAuth (refreshing automatically when configured).
    pub fn oauth(mut self, oauth: OAuth) -> Self {
        self.auth = Some(Auth::oauth(oauth));
        self
    }

    /// The portal's request-rate bucket (default [`RateLimit::STANDARD`]).
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }

    /// Meters the portal's bucket and shares its time-budget pauses through `shared` (one
    /// per portal, the same for every process calling it) instead of in this process alone.
    /// The bucket's numbers are still [`ClientBuilder::rate_limit`]'s.
    pub fn shared_limits(mut self, shared: Arc<dyn SharedLimits>) -> Self {
        self.shared_limits = Some(shared);
        self
    }

    /// Do not meter requests on the client side (503s are still backed off and retried).
    pub fn no_rate_limit(mut self) -> Self {
        self.rate_limit = None;
        self
    }

    /// The retry policy.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The timeout of one HTTP exchange (default 65 s: the portal stops a request at 60 s).
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// The connect timeout (default 10 s).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// The portal's per-method time budget in seconds of `time.operating` (default 480 s).
    pub fn operating_limit(mut self, d: Duration) -> Self {
        self.operating_limit = d;
        self
    }

    /// How long to pause a method after a 429 when the response says nothing of the reset
    /// (default 60 s, one basket; at most a day). A reset the response names is waited for,
    /// up to 10 minutes (the budget's window) whatever it says.
    pub fn operating_fallback_wait(mut self, d: Duration) -> Self {
        self.operating_fallback_wait = d;
        self
    }

    /// Follow a redirect of a *read* to the same site: the same host, and the same scheme and
    /// port or `http` upgraded to `https` (default off). The call is sent again whole, with the
    /// same method and body. A write, a token request or a redirect to another site is never
    /// followed: it fails with [`Error::Redirect`] and nothing goes to the new location.
    pub fn follow_read_redirects(mut self, yes: bool) -> Self {
        self.follow_read_redirects = yes;
        self
    }

    /// The longest response body read, in bytes, for calls and token requests (default
    /// [`DEFAULT_MAX_RESPONSE_BYTES`], 64 MiB). A longer body fails with
    /// [`Error::BodyTooLarge`] as soon as it passes the limit (or at once, when its declared
    /// length does); no more than the limit plus one chunk is held.
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// Use this reqwest client (its own timeouts apply then).
    ///
    /// Build it with `.redirect(reqwest::redirect::Policy::none())`: a client that follows
    /// redirects itself sends the request, with its secrets, wherever the server points, before
    /// this crate can refuse the answer (it still does: an answer from another URL than the one
    /// asked is an [`Error::Redirect`]).
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, BuildError> {
        let auth = self
            .auth
            .ok_or_else(|| BuildError("no authorization: call .webhook(…) or .oauth(…)".into()))?
            .map_err(BuildError)?;
        let http = match self.http {
            Some(h) => h,
            None => wire::client(self.timeout, self.connect_timeout)
                .map_err(|e| BuildError(e.without_url().to_string()))?,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                redactor: auth.redactor(),
                auth,
                limiter: Limiter::new(self.rate_limit, self.shared_limits),
                budget: OperatingBudget::new(self.operating_limit, self.operating_fallback_wait),
                retry: self.retry,
                follow_read_redirects: self.follow_read_redirects,
                max_response_bytes: self.max_response_bytes,
            }),
        })
    }
}

/// What is being called.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Target<'a> {
    pub name: &'a str,
    pub version: ApiVersion,
    pub access: Access,
}

/// Serializes parameters to the bytes of a JSON object.
pub(crate) fn params_bytes<P: Serialize + ?Sized>(params: &P) -> Result<Vec<u8>, Error<ApiError>> {
    let bytes = serde_json::to_vec(params)
        .map_err(|e| Error::InvalidArgument(format!("the parameters do not serialize: {e}")))?;
    match bytes.first() {
        Some(b'{') => Ok(bytes),
        Some(b'n') => Ok(b"{}".to_vec()), // `null`: a method without parameters
        _ => Err(Error::InvalidArgument(
            "the parameters must serialize to a JSON object".into(),
        )),
    }
}

fn random_idempotency_key() -> String {
    format!("b24-{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

#[allow(clippy::large_enum_variant)]
enum Verdict<T> {
    Done(Result<Envelope<T>, Error<ApiError>>),
    Retry {
        wait: Duration,
        reason: &'static str,
    },
}

impl Client {
    /// Settings for a new client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Calls a method and returns its decoded `result`.
    pub async fn call<M: Method>(&self, request: &M) -> Result<M::Response, Error<M::Error>> {
        self.call_envelope(request).await.map(|e| e.result)
    }

    /// Calls a method and returns the whole envelope (`result`, `next`, `total`, `time`).
    pub async fn call_envelope<M: Method>(
        &self,
        request: &M,
    ) -> Result<Envelope<M::Response>, Error<M::Error>> {
        self.call_with(request, &CallOptions::default()).await
    }

    /// Calls a method with per-call options.
    pub async fn call_with<M: Method>(
        &self,
        request: &M,
        options: &CallOptions,
    ) -> Result<Envelope<M::Response>, Error<M::Error>> {
        let target = Target {
            name: M::NAME,
            version: M::VERSION,
            access: M::ACCESS,
        };
        let params = params_bytes(request).map_err(Error::typed)?;
        self.execute(target, params, options)
            .await
            .map_err(Error::typed)
    }

    /// Calls any method by name with JSON parameters, untyped.
    pub async fn call_raw(
        &self,
        method: &str,
        version: ApiVersion,
        access: Access,
        params: &serde_json::Value,
    ) -> Result<Envelope<serde_json::Value>, Error<ApiError>> {
        let params = params_bytes(params)?;
        let target = Target {
            name: method,
            version,
            access,
        };
        self.execute(target, params, &CallOptions::default()).await
    }

    /// How many OAuth refreshes this client (and its clones) performed.
    pub fn refresh_count(&self) -> u64 {
        match &self.inner.auth {
            Auth::OAuth(s) => s.refresh_count(),
            Auth::Webhook { .. } => 0,
        }
    }

    /// The current OAuth pair (to persist it yourself), or `None` for a webhook client.
    pub fn tokens(&self) -> Option<crate::Tokens> {
        match &self.inner.auth {
            Auth::OAuth(s) => Some(s.tokens()),
            Auth::Webhook { .. } => None,
        }
    }

    /// The last `time.operating` seen for a method, in seconds.
    pub fn operating(&self, method: &str) -> Option<f64> {
        self.inner.budget.operating(method)
    }

    /// The requests this client's bucket lets through at once, if it meters requests.
    pub(crate) fn burst(&self) -> Option<u32> {
        self.inner.limiter.burst()
    }

    /// Waits while `method`'s time budget is spent; fails when the wait would be too long.
    pub(crate) async fn wait_for_budget(&self, method: &str) -> Result<(), Error<ApiError>> {
        let inner = &*self.inner;
        let mut blocked = inner.budget.blocked_for(method);
        if let (None, Some(shared)) = (blocked, inner.limiter.shared()) {
            match shared.method_paused(method).await {
                Ok(wait) => blocked = wait,
                Err(e) => tracing::warn!("{e}; using this process's time budget alone"),
            }
        }
        if let Some(wait) = blocked {
            if wait > inner.retry.max_operating_wait {
                return Err(Error::OperationTimeLimit(ApiError::new(
                    429,
                    "OPERATION_TIME_LIMIT",
                    format!(
                        "the time budget of {method} is spent for {:.0} s more (client-side pause)",
                        wait.as_secs_f64()
                    ),
                    "",
                )));
            }
            tracing::info!(
                method,
                wait_ms = wait.as_millis() as u64,
                "time budget spent, pausing method"
            );
            tokio::time::sleep(wait).await;
        }
        Ok(())
    }

    pub(crate) fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// What scrubs this client's secrets from what it shows.
    pub(crate) fn redactor(&self) -> &Redactor {
        &self.inner.redactor
    }

    pub(crate) fn record_budget(&self, method: &str, time: &crate::envelope::Time) {
        self.inner.budget.record(method, time);
        self.share_pause(method);
    }

    /// Pauses `method` after a refusal (`OPERATION_TIME_LIMIT`) until the reset the refusal's
    /// `time` names, or the last one known.
    pub(crate) fn note_operating_limit(
        &self,
        method: &str,
        time: Option<&crate::envelope::Time>,
    ) -> Duration {
        let wait = self.inner.budget.on_limit(method, time);
        self.share_pause(method);
        wait
    }

    /// Tells the other processes (through the shared limits) that `method` is paused, when it
    /// is; in the background, so a slow shared store does not hold the answer.
    fn share_pause(&self, method: &str) {
        let (Some(shared), Some(wait)) = (
            self.inner.limiter.shared(),
            self.inner.budget.blocked_for(method),
        ) else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (shared, method) = (shared.clone(), method.to_owned());
        runtime.spawn(async move {
            if let Err(e) = shared.pause_method(&method, wait).await {
                tracing::warn!("{e}; the pause of {method} stays in this process");
            }
        });
    }

    /// The call loop: wait for the limits, send, decode, and decide about a retry.
    pub(crate) async fn execute<T: DeserializeOwned>(
        &self,
        target: Target<'_>,
        params: Vec<u8>,
        options: &CallOptions,
    ) -> Result<Envelope<T>, Error<ApiError>> {
        let span = tracing::info_span!(
            "b24.call",
            method = target.name,
            attempts = tracing::field::Empty,
            status = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
            operating = tracing::field::Empty,
        );
        async {
            let started = Instant::now();
            let result = self
                .execute_inner(target, params, options)
                .await
                .map_err(|e| e.redacted(&self.inner.redactor));
            let span = tracing::Span::current();
            span.record("duration_ms", started.elapsed().as_secs_f64() * 1000.0);
            if let Ok(env) = &result {
                if let Some(op) = env.time.as_ref().and_then(|t| t.operating) {
                    span.record("operating", op);
                }
            }
            result
        }
        .instrument(span)
        .await
    }

    async fn execute_inner<T: DeserializeOwned>(
        &self,
        target: Target<'_>,
        params: Vec<u8>,
        options: &CallOptions,
    ) -> Result<Envelope<T>, Error<ApiError>> {
        let inner = &*self.inner;
        let params = bytes::Bytes::from(params);
        let idempotency_key = (target.version == ApiVersion::V3 && target.access == Access::Write)
            .then(|| {
                options
                    .idempotency_key
                    .clone()
                    .unwrap_or_else(random_idempotency_key)
            });
        let retry_safe = target.access == Access::Read
            || idempotency_key.is_some()
            || options.retry_uncertain_writes
            || inner.retry.retry_uncertain_writes;
        let mut attempts = 0u32;
        let mut failures = 0u32;
        let mut limit_hits = 0u32;
        let mut refreshed = false;
        loop {
            attempts += 1;
            tracing::Span::current().record("attempts", attempts);
            self.wait_for_budget(target.name).await?;
            inner.limiter.acquire().await;
            let prepared = inner.auth.prepare(target.name, target.version, &params);
            let verdict = match self
                .send(
                    prepared.url,
                    prepared.body,
                    idempotency_key.as_deref(),
                    target.access,
                )
                .await
            {
                Err(Failure::Redirect { status, location }) => {
                    Verdict::Done(Err(Error::Redirect { status, location }))
                }
                Err(Failure::TooLarge { limit }) => {
                    Verdict::Done(Err(Error::BodyTooLarge { limit }))
                }
                Err(Failure::Transport(e)) => {
                    let proven_unsent = !e.maybe_sent();
                    let err = if e.is_timeout() {
                        Error::Timeout
                    } else {
                        Error::Transport(e)
                    };
                    if (retry_safe || proven_unsent) && failures + 1 < inner.retry.max_attempts {
                        failures += 1;
                        Verdict::Retry {
                            wait: inner.retry.backoff(inner.retry.backoff_base, failures - 1),
                            reason: "transport",
                        }
                    } else {
                        Verdict::Done(Err(err))
                    }
                }
                Ok((status, body)) => {
                    tracing::Span::current().record("status", status);
                    match decode::<T>(status, &body) {
                        Decoded::Ok(env) => {
                            if let Some(time) = &env.time {
                                self.record_budget(target.name, time);
                            }
                            Verdict::Done(Ok(env))
                        }
                        Decoded::Api(api) => {
                            self.judge_api_error(
                                api,
                                target,
                                retry_safe,
                                prepared.generation,
                                &mut failures,
                                &mut limit_hits,
                                &mut refreshed,
                            )
                            .await
                        }
                        Decoded::Bad(d) => {
                            // A body that is not JSON at all (cut off, an HTML error page) says
                            // nothing about the call: a retry-safe call is sent again. JSON of
                            // the wrong shape would come back the same, so it is reported.
                            let garbled = status >= 500
                                || serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_err();
                            if garbled && retry_safe && failures + 1 < inner.retry.max_attempts {
                                failures += 1;
                                Verdict::Retry {
                                    wait: inner
                                        .retry
                                        .backoff(inner.retry.backoff_base, failures - 1),
                                    reason: "undecodable body",
                                }
                            } else {
                                Verdict::Done(Err(Error::Decode(d)))
                            }
                        }
                    }
                }
            };
            match verdict {
                Verdict::Done(r) => return r,
                Verdict::Retry { wait, reason } => {
                    tracing::debug!(reason, wait_ms = wait.as_millis() as u64, "retrying");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn judge_api_error<T>(
        &self,
        api: ApiError,
        target: Target<'_>,
        retry_safe: bool,
        generation: u64,
        failures: &mut u32,
        limit_hits: &mut u32,
        refreshed: &mut bool,
    ) -> Verdict<T> {
        let inner = &*self.inner;
        match api.code() {
            "QUERY_LIMIT_EXCEEDED" => {
                // Proven not run: safe to re-send even a write.
                if *limit_hits < inner.retry.max_limit_retries {
                    let wait = inner
                        .retry
                        .backoff(inner.retry.limit_backoff_base, *limit_hits);
                    *limit_hits += 1;
                    inner.limiter.pause(wait);
                    tracing::warn!("503 QUERY_LIMIT_EXCEEDED, backing off");
                    Verdict::Retry {
                        wait: Duration::ZERO,
                        reason: "QUERY_LIMIT_EXCEEDED",
                    }
                } else {
                    Verdict::Done(Err(Error::QueryLimitExceeded(api)))
                }
            }
            "OPERATION_TIME_LIMIT" => {
                let time = serde_json::from_str::<serde_json::Value>(api.body())
                    .ok()
                    .and_then(|v| v.get("time").cloned())
                    .and_then(|t| serde_json::from_value(t).ok());
                let wait = self.note_operating_limit(target.name, time.as_ref());
                tracing::warn!(
                    wait_ms = wait.as_millis() as u64,
                    "429 OPERATION_TIME_LIMIT"
                );
                if wait <= inner.retry.max_operating_wait
                    && *limit_hits < inner.retry.max_limit_retries
                {
                    *limit_hits += 1;
                    // The pause itself is taken at the top of the loop, from the budget.
                    Verdict::Retry {
                        wait: Duration::ZERO,
                        reason: "OPERATION_TIME_LIMIT",
                    }
                } else {
                    Verdict::Done(Err(Error::OperationTimeLimit(api)))
                }
            }
            "expired_token" => match &inner.auth {
                Auth::OAuth(state) if !*refreshed => {
                    *refreshed = true;
                    match state
                        .refresh(&inner.http, generation, inner.max_response_bytes)
                        .await
                    {
                        Ok(()) => Verdict::Retry {
                            wait: Duration::ZERO,
                            reason: "token refreshed",
                        },
                        Err(crate::error::RefreshError::NotConfigured) => {
                            Verdict::Done(Err(Error::ExpiredToken(api)))
                        }
                        Err(e) => Verdict::Done(Err(Error::Refresh(e))),
                    }
                }
                _ => Verdict::Done(Err(Error::ExpiredToken(api))),
            },
            // The rest of the codes the runtime handles itself: authentication failures.
            code if crate::error::RUNTIME_CODES.contains(&code) => {
                Verdict::Done(Err(Error::Auth(api)))
            }
            _ if api.status() == 401 => Verdict::Done(Err(Error::Auth(api))),
            _ if api.status() >= 500
                && api.code() != "OVERLOAD_LIMIT"
                && api.code() != "PORTAL_DELETED"
                && retry_safe
                && *failures + 1 < inner.retry.max_attempts =>
            {
                *failures += 1;
                Verdict::Retry {
                    wait: inner.retry.backoff(inner.retry.backoff_base, *failures - 1),
                    reason: "5xx",
                }
            }
            _ => Verdict::Done(Err(Error::Method(api))),
        }
    }

    /// One HTTP exchange: POST the JSON body, read the status and the body (capped). A
    /// redirect is followed only for a read, with the opt-in, to the same site.
    async fn send(
        &self,
        url: String,
        body: bytes::Bytes,
        idempotency_key: Option<&str>,
        access: Access,
    ) -> Result<(u16, bytes::Bytes), Failure> {
        let inner = &*self.inner;
        let mut req = inner
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body);
        if let Some(key) = idempotency_key {
            req = req.header("Idempotency-Key", key);
        }
        let req = req
            .build()
            .map_err(|e| Failure::Transport(crate::error::TransportError::new(e)))?;
        let origin = req.url().clone();
        let follow = |to: &reqwest::Url| {
            access == Access::Read && inner.follow_read_redirects && wire::same_site(&origin, to)
        };
        wire::exchange(&inner.http, req, inner.max_response_bytes, follow).await
    }
}
