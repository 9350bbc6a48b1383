//! Authentication: an incoming webhook, or OAuth 2 with automatic refresh.
//!
//! OAuth refresh is single-flight: when many calls see `expired_token` at once, the first one
//! renews the token while the others wait for it; each then retries once with the new token.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use serde::Deserialize;
use tracing::Instrument;

use crate::error::{ApiError, DecodeError, RefreshError, TransportError};
use crate::http::{self as wire, Failure};
use crate::method::ApiVersion;
use crate::secret::{Redactor, Secret};

/// The Bitrix24 authorization server's token endpoint.
pub const DEFAULT_TOKEN_ENDPOINT: &str = "https://oauth.bitrix.info/oauth/token/";

/// An OAuth token pair, as received from the token server.
#[derive(Clone, Debug)]
pub struct Tokens {
    /// The access token (lives one hour).
    pub access_token: Secret,
    /// The refresh token (lives 180 days), if known.
    pub refresh_token: Option<Secret>,
    /// Unix time when the access token expires, if known.
    pub expires: Option<i64>,
    /// The portal's REST address as the token server reported it, if it did.
    pub client_endpoint: Option<String>,
}

impl Tokens {
    /// A pair from its two tokens.
    pub fn new(access_token: impl Into<Secret>, refresh_token: Option<Secret>) -> Self {
        Tokens {
            access_token: access_token.into(),
            refresh_token,
            expires: None,
            client_endpoint: None,
        }
    }
}

type PersistFn = dyn Fn(&Tokens) + Send + Sync;

/// OAuth settings for [`crate::ClientBuilder::oauth`].
pub struct OAuth {
    portal: String,
    tokens: Tokens,
    client_id: Option<String>,
    client_secret: Option<Secret>,
    token_endpoint: String,
    refresh_by_get: bool,
    on_refresh: Option<Arc<PersistFn>>,
}

impl OAuth {
    /// An access token for a portal (`https://portal.bitrix24.com`, with or without `/rest/`).
    pub fn new(portal_url: impl Into<String>, access_token: impl Into<Secret>) -> Self {
        OAuth {
            portal: portal_url.into(),
            tokens: Tokens::new(access_token, None),
            client_id: None,
            client_secret: None,
            token_endpoint: DEFAULT_TOKEN_ENDPOINT.to_owned(),
            refresh_by_get: false,
            on_refresh: None,
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

    /// Called with the new pair after every refresh, to persist it.
    pub fn on_refresh(mut self, f: impl Fn(&Tokens) + Send + Sync + 'static) -> Self {
        self.on_refresh = Some(Arc::new(f));
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
        redactor.rotating(&cfg.tokens.access_token);
        if let Some(refresh) = &cfg.tokens.refresh_token {
            redactor.rotating(refresh);
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
    refreshes: AtomicU64,
    redactor: Redactor,
}

#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires: Option<i64>,
    #[serde(default)]
    client_endpoint: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
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

    /// Renews the token unless a refresh already happened since generation `seen`; the answer
    /// is read up to `max_body` bytes.
    pub(crate) async fn refresh(
        &self,
        http: &reqwest::Client,
        seen: u64,
        max_body: usize,
    ) -> Result<(), RefreshError> {
        let _flight = self.refresh_lock.lock().await;
        let refresh_token = {
            let guard = self.current.read().unwrap_or_else(|p| p.into_inner());
            if guard.1 != seen {
                return Ok(()); // another caller renewed it while we waited
            }
            guard.0.refresh_token.clone()
        };
        let (Some(id), Some(secret), Some(refresh_token)) =
            (&self.client_id, &self.client_secret, refresh_token)
        else {
            return Err(RefreshError::NotConfigured);
        };
        let form = [
            ("grant_type", "refresh_token"),
            ("client_id", id.as_str()),
            ("client_secret", secret.expose()),
            ("refresh_token", refresh_token.expose()),
        ];
        let request = if self.refresh_by_get {
            http.get(&self.endpoint).query(&form)
        } else {
            let body = form
                .iter()
                .map(|(k, v)| format!("{k}={}", b24_form::urlencode(v)))
                .collect::<Vec<_>>()
                .join("&");
            http.post(&self.endpoint)
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
        // A token request carries the client secret and the refresh token: never redirected.
        let (status, body) = wire::exchange(http, request, max_body, |_| false)
            .instrument(tracing::info_span!("b24.oauth_refresh"))
            .await
            .map_err(|f| match f {
                Failure::Transport(e) => RefreshError::Transport(e),
                Failure::Redirect { status, location } => {
                    RefreshError::Redirect { status, location }
                }
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
        let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|e| {
            redacted(format!(
                "not a token answer: {}",
                e.classify_name().unwrap_or("syntax")
            ))
        })?;
        if let Some(code) = answer.error {
            // Only the two error fields are kept: the rest of the answer may hold tokens.
            let description = answer.error_description.unwrap_or_default();
            let kept = serde_json::json!({"error": &code, "error_description": &description});
            return Err(RefreshError::Rejected(ApiError::new(
                status,
                code,
                description,
                kept.to_string(),
            )));
        }
        let Some(access) = answer.access_token.filter(|_| (200..300).contains(&status)) else {
            return Err(redacted("no access_token in the answer".to_owned()));
        };
        let tokens = Tokens {
            access_token: Secret::new(access),
            refresh_token: answer
                .refresh_token
                .map(Secret::new)
                .or(Some(refresh_token)),
            expires: answer.expires,
            client_endpoint: answer.client_endpoint,
        };
        self.redactor.rotating(&tokens.access_token);
        if let Some(refresh) = &tokens.refresh_token {
            self.redactor.rotating(refresh);
        }
        {
            let mut guard = self.current.write().unwrap_or_else(|p| p.into_inner());
            guard.0 = tokens.clone();
            guard.1 += 1;
        }
        self.refreshes.fetch_add(1, Ordering::Relaxed);
        tracing::info!("OAuth token renewed");
        if let Some(persist) = &self.on_refresh {
            persist(&tokens);
        }
        Ok(())
    }
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
