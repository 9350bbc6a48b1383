//! Bitrix24 applications: the install and placement requests a portal sends, the OAuth code
//! exchange, and one ready [`Client`] per portal.
//!
//! A portal talks to an application in three ways:
//!
//! - it opens the application (its install page, its main page, a placement) in a frame with a
//!   form POST: `AUTH_ID`, `AUTH_EXPIRES`, `REFRESH_ID`, `SERVER_ENDPOINT`, `APPLICATION_TOKEN`,
//!   `APPLICATION_SCOPE`, `member_id`, `status`, `PLACEMENT`, `PLACEMENT_OPTIONS` in the body,
//!   `DOMAIN`, `PROTOCOL`, `LANG`, `APP_SID` in the query string: a [`FrameRequest`];
//! - an application without a page gets the `ONAPPINSTALL` event at its install handler, with
//!   both tokens in `auth[...]`;
//! - an application outside the portal sends the user to `/oauth/authorize/` and exchanges the
//!   `code` it gets back (`grant_type=authorization_code`): [`App::authorize`].
//!
//! [`InstallRequest::parse`] reads the first two; [`App::install`] stores the pair in the
//! [`TokenStore`] under the portal's `member_id` and hands back a [`Client`] that refreshes
//! through that store. [`App::client`] gives the client of an installed portal later (one per
//! portal, shared, so its refreshes are single-flight).
//!
//! An install is trusted on first use: nothing signs it. The `application_token` it carries is
//! what every later event of that portal is checked against ([`App::verify_event`]). Once a
//! portal is installed, an install request for it must carry the same `application_token`
//! (else [`EventError::BadToken`]), so a forged install cannot take over an installed portal;
//! [`AppBuilder::accept_reinstall`] lifts that for portals that change the token on a reinstall.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::auth::{same_portal, token_request, Tokens, DEFAULT_TOKEN_ENDPOINT};
use crate::client::{BuildError, Client, ClientBuilder};
use crate::error::RefreshError;
use crate::events::{Event, EventError};
use crate::query::{find, parse_str, FormError, Limits};
use crate::secret::{scrub, Secret};
use crate::store::{StoreError, TokenStore};
use crate::Extra;

/// The most portals whose clients an [`App`] keeps at once (then the cache starts over; a
/// dropped client is rebuilt from the store on the next use).
const CLIENTS_KEPT: usize = 10_000;

/// The longest answer of the token server read, in bytes.
const TOKEN_ANSWER_LIMIT: usize = 64 << 10;

/// Something an application was sent could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// The request is not what the portal sends (a field is missing or has the wrong form).
    #[error("not a Bitrix24 request: {0}")]
    Malformed(String),
    /// The body goes beyond the parser's limits.
    #[error("the request is beyond the limits: {0}")]
    Limit(#[from] FormError),
    /// An event is not genuine or could not be read.
    #[error(transparent)]
    Event(#[from] EventError),
    /// The portal is not installed: the store has no pair for this `member_id`.
    #[error("no tokens are stored for the portal `{0}`")]
    NotInstalled(String),
    /// The token server refused or could not be asked.
    #[error("token request: {0}")]
    Token(#[from] RefreshError),
    /// The token store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A client could not be built (the portal address is not a URL, say).
    #[error(transparent)]
    Build(#[from] BuildError),
}

/// The frame request a portal opens an application or a placement with.
#[derive(Clone)]
pub struct FrameRequest {
    /// The placement code: `DEFAULT` for the application's own page and its install page,
    /// else the widget's (`CRM_DEAL_DETAIL_TAB`, …).
    pub placement: String,
    /// `PLACEMENT_OPTIONS`, the call context (sent as a JSON string, or as form fields): an
    /// empty object when absent. Read it with [`FrameRequest::options_as`], e.g. into a
    /// generated `b24::placements::...` type.
    pub options: Value,
    /// The user's interface language (`LANG`).
    pub lang: Option<String>,
    /// The frame session's id (`APP_SID`).
    pub app_sid: Option<String>,
    /// The tokens and the portal they belong to.
    pub tokens: Tokens,
    /// Fields not listed above (values not shown by `Debug`).
    pub extra: Extra,
}

impl fmt::Debug for FrameRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = format!(
            "FrameRequest {{ placement: {:?}, options: {:?}, lang: {:?}, app_sid: {:?}, tokens: {:?}, extra: {:?} }}",
            self.placement,
            self.options,
            self.lang,
            self.app_sid,
            self.tokens,
            self.extra.keys().collect::<Vec<_>>()
        );
        f.write_str(&scrub(&shown, self.tokens.secrets().map(Secret::expose)))
    }
}

impl FrameRequest {
    /// Reads a frame request from the query string of its URL and its form body, within
    /// [`Limits::DEFAULT`] each (a field in both: the body's wins).
    pub fn parse(query: &str, body: &[u8]) -> Result<FrameRequest, AppError> {
        FrameRequest::parse_with(query, body, &Limits::DEFAULT)
    }

    /// [`FrameRequest::parse`] within other limits.
    pub fn parse_with(query: &str, body: &[u8], limits: &Limits) -> Result<FrameRequest, AppError> {
        FrameRequest::from_form(form(query, body, limits)?)
    }

    fn from_form(mut f: Map<String, Value>) -> Result<FrameRequest, AppError> {
        let mut text = |k: &str| match f.remove(k) {
            Some(Value::String(s)) if !s.is_empty() => Some(s),
            _ => None,
        };
        let access = text("AUTH_ID").ok_or_else(|| AppError::Malformed("no AUTH_ID".into()))?;
        let domain = text("DOMAIN").ok_or_else(|| AppError::Malformed("no DOMAIN".into()))?;
        if !valid_host(&domain) {
            return Err(AppError::Malformed("DOMAIN is not a host name".into()));
        }
        let scheme = match text("PROTOCOL").as_deref() {
            Some("0") => "http",
            _ => "https",
        };
        let mut tokens = Tokens::new(access, text("REFRESH_ID").map(Secret::new));
        tokens.expires_in = text("AUTH_EXPIRES").and_then(|s| s.trim().parse().ok());
        tokens.server_endpoint = text("SERVER_ENDPOINT");
        tokens.application_token = text("APPLICATION_TOKEN").map(Secret::new);
        tokens.scope = text("APPLICATION_SCOPE");
        tokens.member_id = text("member_id");
        tokens.status = text("status");
        tokens.client_endpoint = Some(format!("{scheme}://{domain}/rest/"));
        tokens.domain = Some(domain);
        tokens.fill_expires();
        let placement = text("PLACEMENT").unwrap_or_else(|| "DEFAULT".to_owned());
        let lang = text("LANG");
        let app_sid = text("APP_SID");
        let options = match f.remove("PLACEMENT_OPTIONS") {
            None => Value::Object(Map::new()),
            Some(Value::String(s)) if s.trim().is_empty() => Value::Object(Map::new()),
            // The JSON string is at most the form's size; serde_json bounds its nesting.
            Some(Value::String(s)) => serde_json::from_str(&s)
                .map_err(|e| AppError::Malformed(format!("PLACEMENT_OPTIONS is not JSON: {e}")))?,
            Some(other) => other,
        };
        Ok(FrameRequest {
            placement,
            options,
            lang,
            app_sid,
            tokens,
            extra: f,
        })
    }

    /// `PLACEMENT_OPTIONS` decoded into a type of your choice.
    pub fn options_as<T: DeserializeOwned>(&self) -> Result<T, AppError> {
        T::deserialize(&self.options)
            .map_err(|e| AppError::Malformed(format!("PLACEMENT_OPTIONS: {e}")))
    }
}

/// What a portal sends when the application is installed.
#[derive(Clone, Debug)]
pub enum InstallRequest {
    /// The install page opened in a frame (an application with an interface).
    Frame(Box<FrameRequest>),
    /// The `ONAPPINSTALL` event at the install handler (an application without one).
    Event(Box<Event>),
}

impl InstallRequest {
    /// Reads an install request (either kind) from the query string and the form body, within
    /// [`Limits::DEFAULT`]: a body with an `event` field is the `ONAPPINSTALL` event.
    pub fn parse(query: &str, body: &[u8]) -> Result<InstallRequest, AppError> {
        InstallRequest::parse_with(query, body, &Limits::DEFAULT)
    }

    /// [`InstallRequest::parse`] within other limits.
    pub fn parse_with(
        query: &str,
        body: &[u8],
        limits: &Limits,
    ) -> Result<InstallRequest, AppError> {
        let body = body.trim_ascii();
        if find(body, &["event"], limits)?.is_some() {
            let event = Event::parse_with(body, limits)?;
            if !event.event.eq_ignore_ascii_case("ONAPPINSTALL") {
                return Err(AppError::Malformed(format!(
                    "`{}` is not the install event",
                    event.event
                )));
            }
            if event.auth.access_token.is_none() {
                return Err(AppError::Malformed(
                    "the install event has no tokens".into(),
                ));
            }
            return Ok(InstallRequest::Event(Box::new(event)));
        }
        FrameRequest::parse_with(query, body, limits).map(|f| InstallRequest::Frame(Box::new(f)))
    }

    /// The tokens and the portal they belong to.
    pub fn tokens(&self) -> Result<Tokens, AppError> {
        match self {
            InstallRequest::Frame(f) => Ok(f.tokens.clone()),
            InstallRequest::Event(e) => e
                .auth
                .tokens()
                .ok_or_else(|| AppError::Malformed("the install event has no tokens".into())),
        }
    }
}

/// Both parts of a request as one form: the query string, then the body (which wins).
fn form(query: &str, body: &[u8], limits: &Limits) -> Result<Map<String, Value>, AppError> {
    let body = body.trim_ascii();
    std::str::from_utf8(body).map_err(|_| AppError::Malformed("the body is not UTF-8".into()))?;
    let mut all = parse_str(query.trim_start_matches('?').as_bytes(), limits)?;
    all.extend(parse_str(body, limits)?);
    Ok(all)
}

/// A host name, or a host and port, as `DOMAIN` must be (it becomes the portal's URL).
fn valid_host(domain: &str) -> bool {
    !domain.is_empty()
        && domain.len() <= 253
        && domain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

type Configure = dyn Fn(ClientBuilder) -> ClientBuilder + Send + Sync;

/// An application: its credentials, its token store, and a client per installed portal.
/// Cheap to share (`Arc` it), `Send + Sync`.
pub struct App {
    client_id: String,
    client_secret: Secret,
    token_endpoint: String,
    store: Arc<dyn TokenStore>,
    http: reqwest::Client,
    configure: Option<Arc<Configure>>,
    accept_reinstall: bool,
    clients: Mutex<HashMap<String, Client>>,
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("token_endpoint", &self.token_endpoint)
            .finish_non_exhaustive()
    }
}

/// Settings for an [`App`].
pub struct AppBuilder {
    client_id: String,
    client_secret: Secret,
    token_endpoint: String,
    store: Option<Arc<dyn TokenStore>>,
    configure: Option<Arc<Configure>>,
    accept_reinstall: bool,
}

impl fmt::Debug for AppBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppBuilder")
            .field("client_id", &self.client_id)
            .field("token_endpoint", &self.token_endpoint)
            .finish_non_exhaustive()
    }
}

impl AppBuilder {
    /// The token endpoint (default [`DEFAULT_TOKEN_ENDPOINT`]).
    pub fn token_endpoint(mut self, url: impl Into<String>) -> Self {
        self.token_endpoint = url.into();
        self
    }

    /// Where the tokens are kept (default: a new [`crate::store::MemoryStore`]).
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Settings for every portal's client (rate limit, timeouts, …); its auth is set by the app.
    pub fn configure_clients(
        mut self,
        f: impl Fn(ClientBuilder) -> ClientBuilder + Send + Sync + 'static,
    ) -> Self {
        self.configure = Some(Arc::new(f));
        self
    }

    /// Accept an install request for an installed portal whose `application_token` differs
    /// from the stored one (default off: such a request is refused, as a forged install would
    /// be). Turn it on when the portal's reinstalls change the token and nothing removes the
    /// stored pair on `ONAPPUNINSTALL`.
    pub fn accept_reinstall(mut self, yes: bool) -> Self {
        self.accept_reinstall = yes;
        self
    }

    /// The application.
    pub fn build(self) -> Result<App, BuildError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| BuildError::new(format!("the HTTP client: {e}")))?;
        Ok(App {
            client_id: self.client_id,
            client_secret: self.client_secret,
            token_endpoint: self.token_endpoint,
            store: self
                .store
                .unwrap_or_else(|| Arc::new(crate::store::MemoryStore::new())),
            http,
            configure: self.configure,
            accept_reinstall: self.accept_reinstall,
            clients: Mutex::new(HashMap::new()),
        })
    }
}

impl App {
    /// An application with its `client_id` and `client_secret`.
    pub fn builder(client_id: impl Into<String>, client_secret: impl Into<Secret>) -> AppBuilder {
        AppBuilder {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            token_endpoint: DEFAULT_TOKEN_ENDPOINT.to_owned(),
            store: None,
            configure: None,
            accept_reinstall: false,
        }
    }

    /// The application's `client_id`.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The token store.
    pub fn store(&self) -> &Arc<dyn TokenStore> {
        &self.store
    }

    /// Installs the portal an install request comes from: stores its pair (saved before it is
    /// used) and gives its client.
    pub async fn install(&self, request: &InstallRequest) -> Result<Client, AppError> {
        let tokens = request.tokens()?;
        if !self.accept_reinstall {
            if let Some(member) = &tokens.member_id {
                let stored = self.application_token(member).await?;
                let sent = tokens.application_token.as_ref();
                if let Some(stored) = stored {
                    let same = sent
                        .is_some_and(|s| crate::events::tokens_match(s.expose(), stored.expose()));
                    if !same {
                        return Err(AppError::Event(EventError::BadToken));
                    }
                }
            }
        }
        self.adopt(tokens).await
    }

    /// Exchanges an authorization code (`grant_type=authorization_code`, a POST form body),
    /// stores the pair and gives the portal's client. The code lives 30 seconds.
    pub async fn authorize(&self, code: &str) -> Result<Client, AppError> {
        let tokens = self.exchange_code(code).await?;
        self.adopt(tokens).await
    }

    /// [`App::authorize`] for the portal `member_id` (the `member_id` the portal's redirect
    /// brought with the code): when the token server's answer names another portal, the call
    /// fails with [`RefreshError::WrongPortal`] and nothing is stored.
    pub async fn authorize_for(&self, code: &str, member_id: &str) -> Result<Client, AppError> {
        let tokens = same_portal(Some(member_id), self.exchange_code(code).await?)?;
        self.adopt(tokens).await
    }

    /// Exchanges an authorization code for a pair, without storing it.
    pub async fn exchange_code(&self, code: &str) -> Result<Tokens, AppError> {
        let form = [
            ("grant_type", "authorization_code"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose()),
            ("code", code),
        ];
        let tokens = token_request(
            &self.http,
            &self.token_endpoint,
            &form,
            false,
            TOKEN_ANSWER_LIMIT,
        )
        .await?;
        Ok(tokens)
    }

    /// Stores a pair under its `member_id` and gives the portal's client. The application
    /// token of the pair stored before is kept when the new pair has none (a token answer
    /// does not carry it).
    pub async fn adopt(&self, mut tokens: Tokens) -> Result<Client, AppError> {
        let member = tokens.member_id.clone().ok_or_else(|| {
            AppError::Malformed("the tokens do not say which portal (member_id)".into())
        })?;
        if tokens.application_token.is_none() {
            if let Some(before) = self.store.load(&member).await? {
                tokens.application_token = before.application_token;
            }
        }
        self.store.save(&tokens).await?;
        let client = self.build_client(tokens)?;
        self.keep(member, client.clone());
        Ok(client)
    }

    /// The client of an installed portal (one per portal, shared by every caller).
    pub async fn client(&self, member_id: &str) -> Result<Client, AppError> {
        if let Some(c) = self.cached(member_id) {
            return Ok(c);
        }
        let tokens = self
            .store
            .load(member_id)
            .await?
            .ok_or_else(|| AppError::NotInstalled(member_id.to_owned()))?;
        let client = self.build_client(tokens)?;
        // Two callers at once may both build one; the first kept wins, so the clients agree.
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if clients.len() >= CLIENTS_KEPT {
            clients.clear();
        }
        Ok(clients
            .entry(member_id.to_owned())
            .or_insert(client)
            .clone())
    }

    /// Checks a form-encoded event against the `application_token` stored for the portal it
    /// names (`auth[member_id]`), in constant time and before anything else is parsed, then
    /// parses it within `limits`.
    pub async fn verify_event(&self, body: &[u8], limits: &Limits) -> Result<Event, AppError> {
        let body = body.trim_ascii();
        let member = find(body, &["auth", "member_id"], limits)?
            .ok_or(AppError::Event(EventError::BadToken))?;
        let expected = self.application_token(&member).await?;
        Ok(Event::parse_verified_with(
            body,
            expected.as_ref().map_or("", Secret::expose),
            limits,
        )?)
    }

    /// [`App::verify_event`] for an event sent as JSON: its size and nesting are checked before
    /// it is parsed, its token (in constant time) before it is returned.
    pub async fn verify_event_json(&self, body: &[u8], limits: &Limits) -> Result<Event, AppError> {
        let event = Event::parse_json_with(body, limits)?;
        let member = event
            .auth
            .member_id
            .clone()
            .ok_or(AppError::Event(EventError::BadToken))?;
        let expected = self.application_token(&member).await?;
        event.verify(expected.as_ref().map_or("", Secret::expose))?;
        Ok(event)
    }

    /// Checks a frame request (a placement, the application's page) against the
    /// `application_token` stored for its portal, in constant time.
    pub async fn verify_frame(&self, frame: &FrameRequest) -> Result<(), AppError> {
        let member = frame
            .tokens
            .member_id
            .as_deref()
            .ok_or(AppError::Event(EventError::BadToken))?;
        let expected = self.application_token(member).await?;
        let got = frame.tokens.application_token.as_ref();
        match (got, expected) {
            (Some(got), Some(expected))
                if crate::events::tokens_match(got.expose(), expected.expose()) =>
            {
                Ok(())
            }
            _ => Err(AppError::Event(EventError::BadToken)),
        }
    }

    /// The `application_token` stored for a portal.
    pub async fn application_token(&self, member_id: &str) -> Result<Option<Secret>, AppError> {
        Ok(self
            .store
            .load(member_id)
            .await?
            .and_then(|t| t.application_token))
    }

    fn cached(&self, member_id: &str) -> Option<Client> {
        let clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        clients.get(member_id).cloned()
    }

    fn keep(&self, member_id: String, client: Client) {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if clients.len() >= CLIENTS_KEPT {
            clients.clear();
        }
        clients.insert(member_id, client);
    }

    fn build_client(&self, tokens: Tokens) -> Result<Client, AppError> {
        self.build_client_with(tokens, |b| b)
    }

    /// A client for `tokens`, with the app's settings and then `extra`'s.
    pub(crate) fn build_client_with(
        &self,
        tokens: Tokens,
        extra: impl FnOnce(ClientBuilder) -> ClientBuilder,
    ) -> Result<Client, AppError> {
        let portal = tokens
            .client_endpoint
            .clone()
            .or_else(|| tokens.domain.as_ref().map(|d| format!("https://{d}/rest/")))
            .ok_or_else(|| AppError::Malformed("the tokens do not say which portal".into()))?;
        let oauth = crate::OAuth::with_tokens(portal, tokens)
            .client(self.client_id.clone(), self.client_secret.clone())
            .token_endpoint(self.token_endpoint.clone())
            .store(self.store.clone());
        let builder = Client::builder();
        let builder = match &self.configure {
            Some(f) => f(builder),
            None => builder,
        };
        Ok(extra(builder).oauth(oauth).build()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME_QUERY: &str = "DOMAIN=xxx.bitrix24.com&PROTOCOL=1&LANG=en&APP_SID=5552d735";
    const FRAME_BODY: &str = "AUTH_ID=9d4c7166&AUTH_EXPIRES=3600&REFRESH_ID=8c3b9966\
        &SERVER_ENDPOINT=https%3A%2F%2Foauth.bitrix.info%2Frest%2F&APPLICATION_TOKEN=ec1b2074\
        &APPLICATION_SCOPE=crm%2Cplacement&member_id=d897063e&status=L&PLACEMENT=CRM_DEAL_DETAIL_TAB\
        &PLACEMENT_OPTIONS=%7B%22ID%22%3A%228061%22%7D";

    #[test]
    fn a_placement_frame_keeps_every_field() {
        let f = FrameRequest::parse(FRAME_QUERY, FRAME_BODY.as_bytes()).expect("parses");
        assert_eq!(f.placement, "CRM_DEAL_DETAIL_TAB");
        assert_eq!(f.options["ID"], "8061");
        assert_eq!(f.lang.as_deref(), Some("en"));
        assert_eq!(f.app_sid.as_deref(), Some("5552d735"));
        let t = &f.tokens;
        assert_eq!(t.access_token.expose(), "9d4c7166");
        assert_eq!(
            t.refresh_token.as_ref().map(Secret::expose),
            Some("8c3b9966")
        );
        assert_eq!(
            t.application_token.as_ref().map(Secret::expose),
            Some("ec1b2074")
        );
        assert_eq!(t.member_id.as_deref(), Some("d897063e"));
        assert_eq!(t.domain.as_deref(), Some("xxx.bitrix24.com"));
        assert_eq!(
            t.client_endpoint.as_deref(),
            Some("https://xxx.bitrix24.com/rest/")
        );
        assert_eq!(
            t.server_endpoint.as_deref(),
            Some("https://oauth.bitrix.info/rest/")
        );
        assert_eq!(t.scope.as_deref(), Some("crm,placement"));
        assert_eq!(t.status.as_deref(), Some("L"));
        assert_eq!(t.expires_in, Some(3600));
        assert!(t.expires.is_some());
        let shown = format!("{f:?}");
        for secret in ["9d4c7166", "8c3b9966", "ec1b2074"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        #[derive(serde::Deserialize)]
        struct Options {
            #[serde(rename = "ID")]
            id: crate::value::Int,
        }
        assert_eq!(f.options_as::<Options>().expect("typed").id.get(), 8061);
        match InstallRequest::parse(FRAME_QUERY, FRAME_BODY.as_bytes()).expect("install") {
            InstallRequest::Frame(f) => assert_eq!(f.tokens.member_id.as_deref(), Some("d897063e")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_install_event_and_bad_requests() {
        let body = "event=ONAPPINSTALL&data%5BVERSION%5D=1&data%5BLANGUAGE_ID%5D=en&ts=1\
            &auth%5Baccess_token%5D=acc&auth%5Brefresh_token%5D=ref&auth%5Bexpires_in%5D=3600\
            &auth%5Bdomain%5D=p.bitrix24.com&auth%5Bclient_endpoint%5D=https%3A%2F%2Fp.bitrix24.com%2Frest%2F\
            &auth%5Bmember_id%5D=m1&auth%5Bapplication_token%5D=apptok&auth%5Bscope%5D=crm";
        let r = InstallRequest::parse("", body.as_bytes()).expect("install event");
        let t = r.tokens().expect("tokens");
        assert!(matches!(r, InstallRequest::Event(_)));
        assert_eq!(t.refresh_token.as_ref().map(Secret::expose), Some("ref"));
        assert_eq!(
            t.application_token.as_ref().map(Secret::expose),
            Some("apptok")
        );
        assert_eq!(t.member_id.as_deref(), Some("m1"));
        assert_eq!(t.domain.as_deref(), Some("p.bitrix24.com"));
        assert!(matches!(
            InstallRequest::parse("", b"event=ONCRMDEALADD&auth%5Baccess_token%5D=a"),
            Err(AppError::Malformed(_))
        ));
        assert!(matches!(
            FrameRequest::parse("", b"AUTH_ID=x"),
            Err(AppError::Malformed(_))
        ));
        assert!(matches!(
            FrameRequest::parse("DOMAIN=evil.com/x%3F", b"AUTH_ID=x"),
            Err(AppError::Malformed(_))
        ));
        assert!(matches!(
            FrameRequest::parse("DOMAIN=a.b", b"AUTH_ID=x&PLACEMENT_OPTIONS=%7B"),
            Err(AppError::Malformed(_))
        ));
        let deep = format!("AUTH_ID=x&DOMAIN=a&a{}=1", "[b]".repeat(100));
        assert!(matches!(
            FrameRequest::parse("", deep.as_bytes()),
            Err(AppError::Limit(_))
        ));
    }
}
