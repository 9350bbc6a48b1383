//! Authentication: an incoming webhook, or OAuth 2 with automatic refresh.
//!
//! OAuth refresh is single-flight: when many calls see `expired_token` at once, the first one
//! renews the token while the others wait for it; each then retries once with the new token.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use tracing::Instrument;

use crate::error::{ApiError, DecodeError, RefreshError, TransportError};
use crate::http::{self as wire, Failure};
use crate::method::ApiVersion;
use crate::secret::{Redactor, Secret};
use crate::store::{Replaced, StoreError, StoreFuture, TokenStore};

/// The Bitrix24 authorization server's token endpoint.
pub const DEFAULT_TOKEN_ENDPOINT: &str = "https://oauth.bitrix.info/oauth/token/";

/// An OAuth token pair and what the portal or the token server said with it.
///
/// Every field the token server, an install request or an event's `auth` block sends is kept:
/// the known ones below, the rest in [`Tokens::extra`]. `Debug` shows no token and only the keys
/// of `extra`.
#[derive(Clone)]
#[non_exhaustive]
pub struct Tokens {
    /// The access token (lives one hour).
    pub access_token: Secret,
    /// The refresh token (lives 180 days, works once), if known.
    pub refresh_token: Option<Secret>,
    /// Unix time when the access token expires, if known.
    pub expires: Option<i64>,
    /// The access token's lifetime in seconds, as sent (`expires_in`, `AUTH_EXPIRES`).
    pub expires_in: Option<i64>,
    /// The scopes granted, comma-separated (`crm,placement`).
    pub scope: Option<String>,
    /// The portal's identifier: the key a [`crate::store::TokenStore`] keeps the pair under.
    pub member_id: Option<String>,
    /// The portal's address (`some.bitrix24.com`). A token server answer's `domain` names the
    /// authorization server instead; it is kept in `extra` as `domain`.
    pub domain: Option<String>,
    /// The authorization server's REST address (`https://oauth.bitrix.info/rest/`).
    pub server_endpoint: Option<String>,
    /// The portal's REST address (`https://some.bitrix24.com/rest/`): calls go there.
    pub client_endpoint: Option<String>,
    /// The token the portal signs this application's events with.
    pub application_token: Option<Secret>,
    /// The application's status on the portal (`L`, `F`, `D`, `T`, `P`).
    pub status: Option<String>,
    /// The user the tokens act for, when the sender says.
    pub user_id: Option<i64>,
    /// Fields not listed above, as sent.
    pub extra: crate::Extra,
}

impl Tokens {
    /// A pair from its two tokens.
    pub fn new(access_token: impl Into<Secret>, refresh_token: Option<Secret>) -> Self {
        Tokens {
            access_token: access_token.into(),
            refresh_token,
            expires: None,
            expires_in: None,
            scope: None,
            member_id: None,
            domain: None,
            server_endpoint: None,
            client_endpoint: None,
            application_token: None,
            status: None,
            user_id: None,
            extra: crate::Extra::new(),
        }
    }

    /// Reads a token server's answer (or any object with its field names: an event's `auth`).
    /// `None` without an `access_token`.
    pub fn from_json(answer: serde_json::Map<String, serde_json::Value>) -> Option<Tokens> {
        let mut answer = answer;
        let mut text = |k: &str| match answer.remove(k) {
            Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            Some(serde_json::Value::Null) | None => None,
            Some(other) => {
                answer.insert(k.to_owned(), other);
                None
            }
        };
        let access = text("access_token")?;
        let mut t = Tokens::new(access, text("refresh_token").map(Secret::new));
        t.expires = text("expires").and_then(|s| s.trim().parse().ok());
        t.expires_in = text("expires_in").and_then(|s| s.trim().parse().ok());
        t.scope = text("scope");
        t.member_id = text("member_id");
        t.server_endpoint = text("server_endpoint");
        t.client_endpoint = text("client_endpoint");
        t.application_token = text("application_token").map(Secret::new);
        t.status = text("status");
        t.user_id = text("user_id").and_then(|s| s.trim().parse().ok());
        t.extra = answer;
        t.fill_expires();
        Some(t)
    }

    /// Sets `expires` from `expires_in` when only the lifetime is known.
    pub(crate) fn fill_expires(&mut self) {
        if self.expires.is_none() {
            if let Some(lifetime) = self
                .expires_in
                .filter(|s| (0..=10 * 365 * 86_400).contains(s))
            {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs() as i64)
                    .unwrap_or(0);
                self.expires = Some(now + lifetime);
            }
        }
    }

    /// The new pair of a refresh: what the token server sent, and what it did not send kept
    /// from the pair it replaces (the portal's id and domain, the application token, …).
    fn renewed_from(mut self, old: &Tokens) -> Tokens {
        if self.refresh_token.is_none() {
            self.refresh_token = old.refresh_token.clone();
        }
        macro_rules! keep {
            ($($f:ident),*) => { $( if self.$f.is_none() { self.$f = old.$f.clone(); } )* };
        }
        keep!(
            scope,
            member_id,
            domain,
            server_endpoint,
            client_endpoint,
            application_token,
            status,
            user_id
        );
        self
    }

    /// The secrets of the pair, to scrub from text.
    pub(crate) fn secrets(&self) -> impl Iterator<Item = &Secret> {
        std::iter::once(&self.access_token)
            .chain(&self.refresh_token)
            .chain(&self.application_token)
    }
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("access_token", &self.access_token)
            .field("refresh_token", &self.refresh_token)
            .field("expires", &self.expires)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("member_id", &self.member_id)
            .field("domain", &self.domain)
            .field("server_endpoint", &self.server_endpoint)
            .field("client_endpoint", &self.client_endpoint)
            .field("application_token", &self.application_token)
            .field("status", &self.status)
            .field("user_id", &self.user_id)
            .field("extra", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The hook [`OAuth::on_refresh`] installs.
type PersistFn = dyn Fn(Tokens) -> StoreFuture<'static, ()> + Send + Sync;

/// OAuth settings for [`crate::ClientBuilder::oauth`].
pub struct OAuth {
    portal: String,
    tokens: Tokens,
    client_id: Option<String>,
    client_secret: Option<Secret>,
    token_endpoint: String,
    refresh_by_get: bool,
    on_refresh: Option<Arc<PersistFn>>,
    store: Option<Arc<dyn TokenStore>>,
}

impl OAuth {
    /// An access token for a portal (`https://portal.bitrix24.com`, with or without `/rest/`).
    pub fn new(portal_url: impl Into<String>, access_token: impl Into<Secret>) -> Self {
        OAuth::with_tokens(portal_url, Tokens::new(access_token, None))
    }

    /// A whole pair (as an install or a [`crate::store::TokenStore`] gives it) for a portal.
    pub fn with_tokens(portal_url: impl Into<String>, tokens: Tokens) -> Self {
        OAuth {
            portal: portal_url.into(),
            tokens,
            client_id: None,
            client_secret: None,
            token_endpoint: DEFAULT_TOKEN_ENDPOINT.to_owned(),
            refresh_by_get: false,
            on_refresh: None,
            store: None,
        }
    }

    /// The refresh token; with [`OAuth::client`] it enables automatic refresh.
    pub fn refresh_token(mut self, token: impl Into<Secret>) -> Self {
        self.tokens.refresh_token = Some(token.into());
        self
    }

    /// The application's `client_id` and `client_secret`.
    pub fn client(mut self, id: impl Into<String>, secret: impl Into<Secret>) -> Self {
        self.client_id = Some(id.into());
        self.client_secret = Some(secret.into());
        self
    }

    /// The token endpoint (default [`DEFAULT_TOKEN_ENDPOINT`]); tests point it at a local server.
    pub fn token_endpoint(mut self, url: impl Into<String>) -> Self {
        self.token_endpoint = url.into();
        self
    }

    /// Send the refresh as a GET with the client secret and the refresh token in the query
    /// string, for a token server that takes nothing else (default off: they are sent as a
    /// POST form body). A URL is written to the logs of every proxy on the way: use this only
    /// when the POST is refused.
    pub fn refresh_by_get(mut self, yes: bool) -> Self {
        self.refresh_by_get = yes;
        self
    }

    /// Called with every new pair, to persist it, *before* the client uses it. When it fails,
    /// the call that needed the refresh fails with [`RefreshError::Store`] and the new pair is
    /// kept in memory: the next refresh saves it again before anything else, so the spent
    /// refresh token is never lost. With [`OAuth::store`] too, it runs after the store's save.
    pub fn on_refresh<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Tokens) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), StoreError>> + Send + 'static,
    {
        self.on_refresh = Some(Arc::new(move |t| Box::pin(f(t))));
        self
    }

    /// Refresh through a token store, under the pair's `member_id`: the stored pair is read
    /// before the token server is asked, and the new pair is stored by compare-and-set before
    /// it is used (see [`crate::store`]).
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }
}

impl fmt::Debug for OAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth")
            .field("portal", &self.portal)
            .field("tokens", &self.tokens)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("token_endpoint", &self.token_endpoint)
            .field("refresh_by_get", &self.refresh_by_get)
            .field("store", &self.store.is_some())
            .finish_non_exhaustive()
    }
}

/// How calls are authorized: the resolved, ready-to-use form of the builder's settings.
pub(crate) enum Auth {
    Webhook {
        /// `scheme://host[:port][/prefix]`, no trailing slash.
        portal: String,
        user: String,
        code: Secret,
    },
    OAuth(Arc<OAuthState>),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Webhook { portal, user, .. } => f
                .debug_struct("Webhook")
                .field("portal", portal)
                .field("user", user)
                .field("code", &"[redacted]")
                .finish(),
            Auth::OAuth(s) => f
                .debug_struct("OAuth")
                .field("portal", &s.portal)
                .field("refreshes", &s.refreshes.load(Ordering::Relaxed))
                .finish_non_exhaustive(),
        }
    }
}

/// Parses an incoming-webhook URL `https://portal/rest/{user}/{code}/`.
pub(crate) fn parse_webhook(url: &str) -> Result<Auth, String> {
    let parsed = reqwest::Url::parse(url.trim())
        .map_err(|e| format!("the webhook URL is not a URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err("the webhook URL must be http(s)://host/rest/{user}/{code}/".to_owned());
    }
    let segments: Vec<&str> = parsed
        .path_segments()
        .map(|s| s.filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    let rest = segments
        .iter()
        .rposition(|s| *s == "rest")
        .filter(|&i| i + 3 == segments.len())
        .ok_or_else(|| "the webhook URL must end in /rest/{user}/{code}/".to_owned())?;
    let mut portal = format!("{}://{}", parsed.scheme(), parsed.host_str().unwrap_or(""));
    if let Some(port) = parsed.port() {
        portal.push_str(&format!(":{port}"));
    }
    for s in &segments[..rest] {
        portal.push('/');
        portal.push_str(s);
    }
    Ok(Auth::Webhook {
        portal,
        user: segments[rest + 1].to_owned(),
        code: Secret::new(segments[rest + 2]),
    })
}

fn normalize_portal(url: &str) -> Result<String, String> {
    let parsed = reqwest::Url::parse(url.trim())
        .map_err(|e| format!("the portal URL is not a URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err("the portal URL must be http(s)://host".to_owned());
    }
    let mut s = parsed.as_str().trim_end_matches('/').to_owned();
    if let Some(stripped) = s.strip_suffix("/rest") {
        s = stripped.to_owned();
    }
    Ok(s)
}

/// A request ready to send: the URL, the body and the token generation it used.
pub(crate) struct Prepared {
    pub url: String,
    pub body: bytes::Bytes,
    pub generation: u64,
}

impl Auth {
    pub(crate) fn oauth(cfg: OAuth) -> Result<Auth, String> {
        let portal = normalize_portal(&cfg.portal)?;
        reqwest::Url::parse(&cfg.token_endpoint)
            .map_err(|e| format!("the token endpoint is not a URL ({e})"))?;
        let redactor = Redactor::default();
        if let Some(secret) = &cfg.client_secret {
            redactor.fixed(secret);
        }
        for secret in cfg.tokens.secrets() {
            redactor.rotating(secret);
        }
        Ok(Auth::OAuth(Arc::new(OAuthState {
            portal,
            current: RwLock::new((cfg.tokens, 0)),
            refresh_lock: tokio::sync::Mutex::new(()),
            client_id: cfg.client_id,
            client_secret: cfg.client_secret,
            endpoint: cfg.token_endpoint,
            refresh_by_get: cfg.refresh_by_get,
            on_refresh: cfg.on_refresh,
            store: cfg.store,
            pending: std::sync::Mutex::new(None),
            refreshes: AtomicU64::new(0),
            redactor,
        })))
    }

    /// What scrubs every secret of this authorization from text (it follows token refreshes).
    pub(crate) fn redactor(&self) -> Redactor {
        match self {
            Auth::Webhook { code, .. } => {
                let r = Redactor::default();
                r.fixed(code);
                r
            }
            Auth::OAuth(state) => state.redactor.clone(),
        }
    }

    /// Builds the URL and body of a call. `params` is the JSON object of the parameters.
    pub(crate) fn prepare(
        &self,
        method: &str,
        version: ApiVersion,
        params: &bytes::Bytes,
    ) -> Prepared {
        match self {
            Auth::Webhook { portal, user, code } => Prepared {
                url: match version {
                    ApiVersion::V2 => {
                        format!("{portal}/rest/{user}/{}/{method}.json", code.expose())
                    }
                    ApiVersion::V3 => {
                        format!("{portal}/rest/api/{user}/{}/{method}", code.expose())
                    }
                },
                body: params.clone(),
                generation: 0,
            },
            Auth::OAuth(state) => {
                let (token, generation) = state.access_token();
                let portal = &state.portal;
                Prepared {
                    url: match version {
                        ApiVersion::V2 => format!("{portal}/rest/{method}.json"),
                        ApiVersion::V3 => format!("{portal}/rest/api/{method}"),
                    },
                    body: with_auth_field(params, token.expose()).into(),
                    generation,
                }
            }
        }
    }
}

/// Adds `"auth": token` to a JSON object's bytes.
fn with_auth_field(params: &[u8], token: &str) -> Vec<u8> {
    let token = serde_json::Value::String(token.to_owned()).to_string();
    let inner = params
        .strip_prefix(b"{")
        .and_then(|p| p.strip_suffix(b"}"))
        .unwrap_or(b"");
    let inner_is_empty = inner.iter().all(u8::is_ascii_whitespace);
    let mut out = Vec::with_capacity(params.len() + token.len() + 10);
    out.extend_from_slice(b"{\"auth\":");
    out.extend_from_slice(token.as_bytes());
    if !inner_is_empty {
        out.push(b',');
        out.extend_from_slice(inner);
    }
    out.push(b'}');
    out
}

pub(crate) struct OAuthState {
    portal: String,
    /// The current pair and its generation (bumped by every refresh).
    current: RwLock<(Tokens, u64)>,
    refresh_lock: tokio::sync::Mutex<()>,
    client_id: Option<String>,
    client_secret: Option<Secret>,
    endpoint: String,
    refresh_by_get: bool,
    on_refresh: Option<Arc<PersistFn>>,
    store: Option<Arc<dyn TokenStore>>,
    /// A new pair the token server gave whose save failed, with the refresh token it spent:
    /// saved again before anything else on the next refresh.
    pending: std::sync::Mutex<Option<(Tokens, Secret)>>,
    refreshes: AtomicU64,
    redactor: Redactor,
}

impl OAuthState {
    fn access_token(&self) -> (Secret, u64) {
        let guard = self.current.read().unwrap_or_else(|p| p.into_inner());
        (guard.0.access_token.clone(), guard.1)
    }

    /// How many refreshes this client performed.
    pub(crate) fn refresh_count(&self) -> u64 {
        self.refreshes.load(Ordering::Relaxed)
    }

    /// The current pair.
    pub(crate) fn tokens(&self) -> Tokens {
        let guard = self.current.read().unwrap_or_else(|p| p.into_inner());
        guard.0.clone()
    }

    /// Makes `tokens` the current pair.
    fn install(&self, tokens: Tokens) {
        for secret in tokens.secrets() {
            self.redactor.rotating(secret);
        }
        let mut guard = self.current.write().unwrap_or_else(|p| p.into_inner());
        guard.0 = tokens;
        guard.1 += 1;
    }

    /// Renews the token unless a refresh already happened since generation `seen`; the answer
    /// is read up to `max_body` bytes.
    ///
    /// The order (see [`crate::store`]): a pair whose save failed before is saved first; a
    /// newer pair in the store is taken as it is; otherwise the token server is asked and the
    /// new pair is saved, then used.
    pub(crate) async fn refresh(
        &self,
        http: &reqwest::Client,
        seen: u64,
        max_body: usize,
    ) -> Result<(), RefreshError> {
        let _flight = self.refresh_lock.lock().await;
        let current = {
            let guard = self.current.read().unwrap_or_else(|p| p.into_inner());
            if guard.1 != seen {
                return Ok(()); // another caller renewed it while we waited
            }
            guard.0.clone()
        };
        let pending = self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some((new, spent)) = pending {
            return self.persist_and_install(new, spent).await;
        }
        let (Some(id), Some(secret), Some(refresh_token)) = (
            &self.client_id,
            &self.client_secret,
            current.refresh_token.clone(),
        ) else {
            return Err(RefreshError::NotConfigured);
        };
        if let Some(stored) = self.claim(&current, &refresh_token).await? {
            tracing::info!("OAuth token taken from the store (renewed elsewhere)");
            self.install(stored);
            return Ok(());
        }
        let form = [
            ("grant_type", "refresh_token"),
            ("client_id", id.as_str()),
            ("client_secret", secret.expose()),
            ("refresh_token", refresh_token.expose()),
        ];
        let answer = token_request(http, &self.endpoint, &form, self.refresh_by_get, max_body)
            .instrument(tracing::info_span!("b24.oauth_refresh"))
            .await;
        let new = match answer.and_then(|new| same_portal(current.member_id.as_deref(), new)) {
            Ok(new) => new.renewed_from(&current),
            Err(RefreshError::Rejected(e)) => {
                // Spent by another process between our look at the store and our request?
                if let Ok(Some(stored)) = self.newer_in_store(&current).await {
                    tracing::info!("OAuth token taken from the store (renewed elsewhere)");
                    self.install(stored);
                    return Ok(());
                }
                self.release(&current, &refresh_token).await;
                return Err(RefreshError::Rejected(e));
            }
            Err(e) => {
                self.release(&current, &refresh_token).await;
                return Err(e);
            }
        };
        self.refreshes.fetch_add(1, Ordering::Relaxed);
        tracing::info!("OAuth token renewed");
        self.persist_and_install(new, refresh_token).await
    }

    /// With a store: waits until this process may spend `refresh` (see [`crate::store`]), or
    /// gives the newer pair another process stored meanwhile.
    async fn claim(
        &self,
        current: &Tokens,
        refresh: &Secret,
    ) -> Result<Option<Tokens>, RefreshError> {
        let (Some(store), Some(member)) = (&self.store, &current.member_id) else {
            return Ok(None);
        };
        let deadline = std::time::Instant::now() + crate::store::CLAIM_WAIT;
        loop {
            if let Some(stored) = self.newer_in_store(current).await? {
                return Ok(Some(stored));
            }
            let claim = store
                .claim(member, refresh, crate::store::CLAIM_TTL)
                .await
                .map_err(RefreshError::Store)?;
            if claim == crate::store::Claim::Granted {
                return Ok(None);
            }
            if std::time::Instant::now() >= deadline {
                return Err(RefreshError::Store(StoreError::new(
                    "another process held the refresh for too long",
                )));
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Gives up this process's claim on `refresh` (nothing was spent).
    async fn release(&self, current: &Tokens, refresh: &Secret) {
        if let (Some(store), Some(member)) = (&self.store, &current.member_id) {
            if let Err(e) = store.release(member, refresh).await {
                tracing::warn!("a token store claim could not be released: {e}");
            }
        }
    }

    /// The stored pair, when the store holds one whose refresh token is not `current`'s.
    async fn newer_in_store(&self, current: &Tokens) -> Result<Option<Tokens>, RefreshError> {
        let (Some(store), Some(member)) = (&self.store, &current.member_id) else {
            return Ok(None);
        };
        let stored = store.load(member).await.map_err(RefreshError::Store)?;
        Ok(
            stored
                .filter(|s| s.refresh_token.is_some() && s.refresh_token != current.refresh_token),
        )
    }

    /// Saves the new pair of a refresh that spent `spent`, then makes it current; when the
    /// save fails, keeps it for the next refresh.
    async fn persist_and_install(&self, new: Tokens, spent: Secret) -> Result<(), RefreshError> {
        for secret in new.secrets() {
            self.redactor.rotating(secret);
        }
        match self.persist(&new, &spent).await {
            Ok(used) => {
                self.install(used);
                Ok(())
            }
            Err(e) => {
                tracing::warn!("the new OAuth pair could not be saved; kept to be saved again");
                *self.pending.lock().unwrap_or_else(|p| p.into_inner()) = Some((new, spent));
                Err(RefreshError::Store(e))
            }
        }
    }

    /// Saves `new` through the store (compare-and-set on `spent`) and the hook; gives the pair
    /// to use (the store's, when another process stored a newer one).
    async fn persist(&self, new: &Tokens, spent: &Secret) -> Result<Tokens, StoreError> {
        let mut used = new.clone();
        if let Some(store) = &self.store {
            if new.member_id.is_none() {
                return Err(StoreError::no_member_id());
            }
            match store.replace(spent, new).await? {
                Replaced::Stored => {}
                // Ours, saved before (a retried save), or a newer one stored elsewhere.
                Replaced::Changed(Some(stored)) => {
                    if stored.refresh_token != new.refresh_token {
                        tracing::info!("a newer OAuth pair was stored elsewhere; using it");
                    }
                    used = *stored;
                }
                Replaced::Changed(None) => store.save(new).await?,
            }
        }
        if let Some(hook) = &self.on_refresh {
            hook(used.clone()).await?;
        }
        Ok(used)
    }
}

/// `tokens`, when the token server's answer names the portal `expected` (or no portal, or
/// nothing was expected); else [`RefreshError::WrongPortal`], so that one portal's answer is
/// never stored under, or used for, another portal. The tokens are dropped unshown.
pub(crate) fn same_portal(expected: Option<&str>, tokens: Tokens) -> Result<Tokens, RefreshError> {
    match (expected, tokens.member_id.as_deref()) {
        (Some(expected), Some(answered)) if expected != answered => {
            tracing::warn!(
                expected,
                answered,
                "the token server answered for another portal; its tokens are dropped"
            );
            Err(RefreshError::WrongPortal {
                expected: expected.to_owned(),
                answered: answered.to_owned(),
            })
        }
        _ => Ok(tokens),
    }
}

/// Asks the token server for a pair (a refresh, or an authorization code exchange), with the
/// form as a POST body (or, with `by_get`, in the query string). The answer is read up to
/// `max_body` bytes; no token appears in an error.
pub(crate) async fn token_request(
    http: &reqwest::Client,
    endpoint: &str,
    form: &[(&str, &str)],
    by_get: bool,
    max_body: usize,
) -> Result<Tokens, RefreshError> {
    let request = if by_get {
        http.get(endpoint).query(form)
    } else {
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", b24_form::urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        http.post(endpoint)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body)
    };
    let request = request
        .header(reqwest::header::ACCEPT, "application/json")
        .build()
        .map_err(|e| RefreshError::Transport(TransportError::new(e)))?;
    // A token request carries the client secret and a token: never redirected.
    let (status, body) = wire::exchange(http, request, max_body, |_| false)
        .await
        .map_err(|f| match f {
            Failure::Transport(e) => RefreshError::Transport(e),
            Failure::Redirect { status, location } => RefreshError::Redirect { status, location },
            Failure::TooLarge { limit } => RefreshError::BodyTooLarge { limit },
        })?;
    // A token answer's body holds tokens: never keep it in an error.
    let redacted = |reason: String| {
        RefreshError::Decode(DecodeError {
            status,
            body: "[token server answer redacted]".to_owned(),
            reason,
        })
    };
    let mut answer: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&body)
        .map_err(|e| {
            redacted(format!(
                "not a token answer: {}",
                e.classify_name().unwrap_or("syntax")
            ))
        })?;
    if let Some(code) = answer.get("error").and_then(|v| v.as_str()) {
        // Only the two error fields are kept: the rest of the answer may hold tokens.
        let code = code.to_owned();
        let description = answer
            .get("error_description")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned();
        let kept = serde_json::json!({"error": &code, "error_description": &description});
        return Err(RefreshError::Rejected(ApiError::new(
            status,
            code,
            description,
            kept.to_string(),
        )));
    }
    if !(200..300).contains(&status) {
        return Err(redacted(format!("HTTP {status} without an error code")));
    }
    // The answer's `domain` is the authorization server's: kept in `extra`, not as the portal.
    let server_domain = answer.remove("domain");
    let mut tokens = Tokens::from_json(answer)
        .ok_or_else(|| redacted("no access_token in the answer".to_owned()))?;
    if let Some(d) = server_domain {
        tokens.extra.insert("domain".to_owned(), d);
    }
    Ok(tokens)
}

trait ClassifyName {
    fn classify_name(&self) -> Option<&'static str>;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> Option<&'static str> {
        Some(match self.classify() {
            serde_json::error::Category::Io => "io",
            serde_json::error::Category::Syntax => "syntax",
            serde_json::error::Category::Data => "data",
            serde_json::error::Category::Eof => "eof",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: bytes::Bytes = bytes::Bytes::from_static(b"{}");

    #[test]
    fn webhook_urls() {
        let a = parse_webhook("https://portal.example/rest/1/abc123/").expect("parses");
        let p = a.prepare("crm.item.add", ApiVersion::V2, &EMPTY);
        assert_eq!(
            p.url,
            "https://portal.example/rest/1/abc123/crm.item.add.json"
        );
        let p = a.prepare("tasks.task.add", ApiVersion::V3, &EMPTY);
        assert_eq!(
            p.url,
            "https://portal.example/rest/api/1/abc123/tasks.task.add"
        );
        let a = parse_webhook("http://127.0.0.1:8080/rest/7/xyz").expect("parses");
        let p = a.prepare("user.current", ApiVersion::V2, &EMPTY);
        assert_eq!(p.url, "http://127.0.0.1:8080/rest/7/xyz/user.current.json");
        assert!(parse_webhook("https://portal.example/rest/1/").is_err());
        assert!(parse_webhook("ftp://portal.example/rest/1/c/").is_err());
        assert!(parse_webhook("not a url").is_err());
        assert!(!format!("{a:?}").contains("xyz"));
    }

    #[test]
    fn auth_field_is_spliced_into_the_object() {
        assert_eq!(with_auth_field(b"{}", "t"), br#"{"auth":"t"}"#);
        assert_eq!(
            with_auth_field(br#"{"id":1}"#, "t\"x"),
            br#"{"auth":"t\"x","id":1}"#
        );
        let v: serde_json::Value =
            serde_json::from_slice(&with_auth_field(br#"{"a":{"b":[1]}}"#, "tok")).expect("json");
        assert_eq!(v, serde_json::json!({"auth": "tok", "a": {"b": [1]}}));
    }

    #[test]
    fn oauth_urls() {
        let a = Auth::oauth(OAuth::new("https://portal.example/rest/", "tok")).expect("ok");
        let p = a.prepare("crm.item.add", ApiVersion::V2, &EMPTY);
        assert_eq!(p.url, "https://portal.example/rest/crm.item.add.json");
        let p = a.prepare("tasks.task.add", ApiVersion::V3, &EMPTY);
        assert_eq!(p.url, "https://portal.example/rest/api/tasks.task.add");
    }
}
