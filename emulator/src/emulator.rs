//! The public handle: start a server, read its addresses, turn its knobs, inspect its state.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use b24_codegen::model::Api;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::{Map, Value};
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use crate::auth::TokenPair;
use crate::config::{Bucket, Fault, Faults, Limits, OAuthApp, ServerLimits, WebhookAuth};
use crate::http;
use crate::state::{Shared, StartSettings, Stats};
use crate::store::StoreError;

/// The project's own docs (`docs/` at the repository root), the default API served.
pub fn default_docs_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs"))
}

/// The code used in [`Emulator::webhook_url`] when any code is accepted.
pub const DEFAULT_WEBHOOK_CODE: &str = "b24emulator";

/// Builds and starts an [`Emulator`].
#[derive(Debug, Clone)]
pub struct EmulatorBuilder {
    api: Option<Api>,
    docs: Option<PathBuf>,
    host: IpAddr,
    port: u16,
    settings: StartSettings,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        EmulatorBuilder {
            api: None,
            docs: None,
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            settings: StartSettings {
                limits: Limits::default(),
                faults: Faults::default(),
                time_scale: 1.0,
                webhook: WebhookAuth::default(),
                oauth: OAuthApp::default(),
                server: ServerLimits::default(),
                member_id: crate::MEMBER_ID.to_owned(),
            },
        }
    }
}

impl EmulatorBuilder {
    /// Serves this model (instead of loading docs).
    pub fn api(mut self, api: Api) -> Self {
        self.api = Some(api);
        self
    }

    /// Serves the methods of this docs folder or page (default: [`default_docs_dir`]).
    pub fn docs(mut self, dir: impl AsRef<Path>) -> Self {
        self.docs = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Listens on this port (default: an ephemeral one).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Listens on this address (default `127.0.0.1`).
    pub fn host(mut self, host: IpAddr) -> Self {
        self.host = host;
        self
    }

    /// All limits at once.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.settings.limits = limits;
        self
    }

    /// The leaky bucket; `None` turns rate limiting off.
    pub fn bucket(mut self, bucket: Option<Bucket>) -> Self {
        self.settings.limits.bucket = bucket;
        self
    }

    /// The operating budget per method and caller; `None` turns it off.
    pub fn operating_limit(mut self, seconds: Option<f64>) -> Self {
        self.settings.limits.operating_limit = seconds;
        self
    }

    /// Emulated seconds every call takes by default.
    pub fn processing_time(mut self, seconds: f64) -> Self {
        self.settings.limits.processing_time = seconds;
        self
    }

    /// Latency and random faults.
    pub fn faults(mut self, faults: Faults) -> Self {
        self.settings.faults = faults;
        self
    }

    /// Emulated seconds per real second (default 1).
    pub fn time_scale(mut self, scale: f64) -> Self {
        self.settings.time_scale = scale;
        self
    }

    /// Accepts webhooks of this user only (default `1`).
    pub fn webhook_user(mut self, user: impl Into<String>) -> Self {
        self.settings.webhook.user = user.into();
        self
    }

    /// Accepts this webhook code only (default: any code).
    pub fn webhook_code(mut self, code: impl Into<String>) -> Self {
        self.settings.webhook.code = Some(code.into());
        self
    }

    /// The OAuth application the token endpoint knows.
    pub fn oauth_app(mut self, app: OAuthApp) -> Self {
        self.settings.oauth = app;
        self
    }

    /// All server limits at once: body size, connections, timeouts, the log of received
    /// parameters (default [`ServerLimits::default`]).
    pub fn server_limits(mut self, limits: ServerLimits) -> Self {
        self.settings.server = limits;
        self
    }

    /// The largest request body in bytes (default 32 MiB); larger ones get 413.
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.settings.server.max_body_bytes = bytes;
        self
    }

    /// Connections served at once (default 512); more wait until one closes.
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.settings.server.max_connections = connections;
        self
    }

    /// How long a connection may take to send a complete request head, idle time between
    /// requests included (default 30 s); `None`: no limit.
    pub fn header_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.settings.server.header_timeout = timeout;
        self
    }

    /// How long a request body may take to arrive once its head has (default 30 s); `None`:
    /// no limit.
    pub fn body_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.settings.server.body_timeout = timeout;
        self
    }

    /// The portal's `member_id` (default [`crate::MEMBER_ID`]), as its token answers and
    /// install requests say.
    pub fn member_id(mut self, id: impl Into<String>) -> Self {
        self.settings.member_id = id.into();
        self
    }

    /// The model (loaded now unless given), the address, and the settings.
    pub(crate) fn into_parts(self) -> (Api, IpAddr, u16, StartSettings) {
        let api = match self.api {
            Some(api) => api,
            None => b24_codegen::load(&self.docs.unwrap_or_else(default_docs_dir)),
        };
        (api, self.host, self.port, self.settings)
    }

    /// Loads the docs (unless a model was given), binds the port and starts serving.
    pub async fn start(self) -> std::io::Result<Emulator> {
        let (api, host, port, settings) = self.into_parts();
        let listener = TcpListener::bind(SocketAddr::new(host, port)).await?;
        let addr = listener.local_addr()?;
        let base_url: Arc<str> = Arc::from(format!("http://{addr}"));
        let shared = Arc::new(Shared::new(Arc::new(api), settings));
        let routing = Routing::One(Arc::clone(&shared), Arc::clone(&base_url));
        let server = tokio::spawn(serve(listener, shared.server.clone(), Arc::new(routing)));
        Ok(Emulator {
            shared,
            addr,
            base_url,
            server: Some(server),
        })
    }
}

/// The longest timeout handed to hyper, which adds it to an `Instant` (and would panic on
/// overflow): a year is "no limit" for a test server.
const LONGEST_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 3600);

/// The pause after the first failed accept; it doubles with every failure in a row, up to
/// [`LONGEST_ACCEPT_PAUSE`].
const FIRST_ACCEPT_PAUSE: Duration = Duration::from_millis(5);
const LONGEST_ACCEPT_PAUSE: Duration = Duration::from_millis(250);

/// Which portal a request is for.
pub(crate) enum Routing {
    /// One portal, at the root.
    One(Arc<Shared>, Arc<str>),
    /// A fleet's portals: portal `i` at the root of its domain `p{i}.`[`FLEET_DOMAIN`] when
    /// the `Host` header names it, else under `/p/{i}` (the prefix cut before it answers).
    Fleet(Vec<FleetRoute>),
}

/// One portal of a fleet and its two base URLs.
pub(crate) struct FleetRoute {
    pub(crate) shared: Arc<Shared>,
    /// `http://{addr}/p/{i}`.
    pub(crate) by_path: Arc<str>,
    /// `http://p{i}.example.test:{port}`.
    pub(crate) by_host: Arc<str>,
}

impl Routing {
    /// The portal of `request`, with the request's URI made relative to it; `None` for a
    /// host or a path that names no portal.
    fn pick(
        &self,
        request: &mut hyper::Request<hyper::body::Incoming>,
    ) -> Option<(Arc<Shared>, Arc<str>)> {
        let portals = match self {
            Routing::One(shared, base) => return Some((Arc::clone(shared), Arc::clone(base))),
            Routing::Fleet(portals) => portals,
        };
        let host = request
            .headers()
            .get(hyper::header::HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| request.uri().host());
        match host.map(fleet_index) {
            Some(HostName::Portal(i)) => {
                let route = portals.get(i)?;
                return Some((Arc::clone(&route.shared), Arc::clone(&route.by_host)));
            }
            Some(HostName::NoPortal) => return None,
            Some(HostName::Other) | None => {}
        }
        let path = request.uri().path();
        let rest = path.strip_prefix("/p/")?;
        let (index, rest) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let route = portals.get(decimal_index(index)?)?;
        let rest = if rest.is_empty() { "/" } else { rest };
        let relative = match request.uri().query() {
            Some(q) => format!("{rest}?{q}"),
            None => rest.to_owned(),
        };
        *request.uri_mut() = relative.parse().ok()?;
        Some((Arc::clone(&route.shared), Arc::clone(&route.by_path)))
    }
}

/// The domain under which a fleet's portals answer by `Host`: portal `i` is
/// `p{i}.example.test` (a reserved name, never resolved by DNS: point a client at the fleet's
/// address for it, e.g. with `reqwest::ClientBuilder::resolve`).
pub const FLEET_DOMAIN: &str = "example.test";

/// What a `Host` header names.
enum HostName {
    /// Portal `i` of the fleet (`p{i}.example.test`, any port).
    Portal(usize),
    /// A name under [`FLEET_DOMAIN`] that is no portal's.
    NoPortal,
    /// Anything else (an IP address, `localhost`): the path decides.
    Other,
}

fn fleet_index(host: &str) -> HostName {
    // `name[:port]`; a bracketed IPv6 address is never under the fleet's domain.
    let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
    let name = name.trim_end_matches('.');
    let Some(label) = name
        .len()
        .checked_sub(FLEET_DOMAIN.len() + 1)
        .filter(|&cut| {
            name.is_char_boundary(cut)
                && name[cut..].starts_with('.')
                && name[cut + 1..].eq_ignore_ascii_case(FLEET_DOMAIN)
        })
        .map(|cut| &name[..cut])
    else {
        return HostName::Other;
    };
    match label.strip_prefix(['p', 'P']).and_then(decimal_index) {
        Some(i) => HostName::Portal(i),
        None => HostName::NoPortal,
    }
}

/// A portal index written in 1 to 9 decimal digits.
fn decimal_index(text: &str) -> Option<usize> {
    if text.is_empty() || text.len() > 9 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

pub(crate) async fn serve(listener: TcpListener, server: ServerLimits, routing: Arc<Routing>) {
    let max_connections = server.max_connections.max(1);
    let header_timeout = server.header_timeout.map(|t| t.min(LONGEST_TIMEOUT));
    // Dropping the set (when this task is aborted) aborts every open connection.
    let mut connections = JoinSet::new();
    let mut pause = FIRST_ACCEPT_PAUSE;
    loop {
        tokio::select! {
            accepted = listener.accept(), if connections.len() < max_connections => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(_) => {
                        // Out of file descriptors (EMFILE, ENFILE), memory, or a connection
                        // aborted in the backlog: the listener stays readable, so retrying at
                        // once would spin. Wait, longer each time, for descriptors to free up.
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(LONGEST_ACCEPT_PAUSE);
                        continue;
                    }
                };
                pause = FIRST_ACCEPT_PAUSE;
                let _ = stream.set_nodelay(true);
                let routing = Arc::clone(&routing);
                connections.spawn(async move {
                    let service = service_fn(move |mut request| {
                        let picked = routing.pick(&mut request);
                        async move {
                            match picked {
                                Some((shared, base_url)) => http::handle(shared, base_url, request).await,
                                None => Ok(http::not_found()),
                            }
                        }
                    });
                    let _ = http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(header_timeout)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// A running Bitrix24 emulator on loopback. Stops when dropped or on [`Emulator::shutdown`].
pub struct Emulator {
    pub(crate) shared: Arc<Shared>,
    addr: SocketAddr,
    pub(crate) base_url: Arc<str>,
    server: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.addr)
            .field("methods", &self.shared.api.methods.len())
            .field("families", &self.shared.families.len())
            .finish_non_exhaustive()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

impl Emulator {
    /// A builder with the defaults: the project's docs, an ephemeral port, bucket 50/2 per
    /// second, operating budget 480 s, no processing time, time scale 1, webhook user `1`
    /// with any code.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// Starts with the defaults of [`Emulator::builder`].
    pub async fn start() -> std::io::Result<Emulator> {
        Emulator::builder().start().await
    }

    /// A portal served by someone else's listener (a [`crate::Fleet`]'s).
    pub(crate) fn unserved(shared: Arc<Shared>, addr: SocketAddr, base_url: Arc<str>) -> Emulator {
        Emulator {
            shared,
            addr,
            base_url,
            server: None,
        }
    }

    /// The portal's `member_id`.
    pub fn member_id(&self) -> &str {
        &self.shared.member_id
    }

    /// Stops serving and closes every connection.
    pub async fn shutdown(mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
            let _ = server.await;
        }
    }

    /// The address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The webhook base URL, `http://127.0.0.1:PORT/rest/1/CODE/`: append `method.json`.
    pub fn webhook_url(&self) -> String {
        let inner = self.shared.lock();
        let code = inner
            .webhook
            .code
            .clone()
            .unwrap_or_else(|| DEFAULT_WEBHOOK_CODE.to_string());
        format!("{}/rest/{}/{}/", self.base_url, inner.webhook.user, code)
    }

    /// The REST 3.0 webhook base URL, `http://127.0.0.1:PORT/rest/api/1/CODE/`.
    pub fn webhook_url_v3(&self) -> String {
        self.webhook_url().replacen("/rest/", "/rest/api/", 1)
    }

    /// The OAuth client endpoint, `http://127.0.0.1:PORT/rest/` (pass the token as `auth`).
    pub fn rest_url(&self) -> String {
        format!("{}/rest/", self.base_url)
    }

    /// The token endpoint, `http://127.0.0.1:PORT/oauth/token/`.
    pub fn token_url(&self) -> String {
        format!("{}/oauth/token/", self.base_url)
    }

    /// The OAuth application (client id and secret) the token endpoint accepts.
    pub fn oauth_app(&self) -> OAuthApp {
        self.shared.lock().oauth.clone()
    }

    /// Issues a fresh access/refresh token pair, as after an app installation.
    pub fn issue_tokens(&self) -> TokenPair {
        let mut inner = self.shared.lock();
        let now = inner.clock.now();
        let lifetime = inner.oauth.access_token_lifetime;
        let (access_token, refresh_token) = inner.tokens.issue(now, lifetime);
        let expires_in = inner.clock.real_duration(lifetime).as_secs_f64().ceil() as u64;
        TokenPair {
            access_token,
            refresh_token,
            expires_in,
        }
    }

    /// Issues a one-time authorization code (valid 30 emulated seconds), as Bitrix24 gives an
    /// application after the user authorizes it; exchange it at [`Emulator::token_url`] with
    /// `grant_type=authorization_code`.
    pub fn issue_auth_code(&self) -> String {
        let mut inner = self.shared.lock();
        let now = inner.clock.now();
        inner.tokens.issue_code(now)
    }

    /// Makes every access token issued so far expired (refresh tokens stay valid).
    pub fn expire_access_tokens(&self) {
        let mut inner = self.shared.lock();
        let now = inner.clock.now();
        inner.tokens.expire_all(now);
    }

    /// The lifetime of access tokens issued from now on, in emulated seconds.
    pub fn set_access_token_lifetime(&self, seconds: f64) {
        self.shared.lock().oauth.access_token_lifetime = seconds;
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.shared.lock().limits.clone()
    }

    /// Replaces the limits.
    pub fn set_limits(&self, limits: Limits) {
        self.shared.lock().limits = limits;
    }

    /// Replaces the leaky bucket (`None`: no rate limit).
    pub fn set_bucket(&self, bucket: Option<Bucket>) {
        self.shared.lock().limits.bucket = bucket;
    }

    /// Sets the processing time of one method, in emulated seconds (overrides the default).
    pub fn set_processing_time(&self, method: &str, seconds: f64) {
        self.shared
            .lock()
            .processing
            .insert(method.to_ascii_lowercase(), seconds);
    }

    /// Emulated seconds per real second, from now on.
    pub fn set_time_scale(&self, scale: f64) {
        self.shared.lock().clock.set_scale(scale);
    }

    /// The time scale in force.
    pub fn time_scale(&self) -> f64 {
        self.shared.lock().clock.scale()
    }

    /// Replaces latency and random faults.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.lock().faults = faults;
    }

    /// Injects `fault` into the next REST request, whatever its method.
    pub fn inject(&self, fault: Fault) {
        self.shared.lock().queue_fault(None, fault);
    }

    /// Injects `fault` into the next REST request to `method` (`batch` for a batch call).
    pub fn inject_for(&self, method: &str, fault: Fault) {
        self.shared
            .lock()
            .queue_fault(Some(method.to_string()), fault);
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        self.shared.lock().stats.clone()
    }

    /// How many times `method` ran (validated and executed; batch commands included).
    pub fn runs(&self, method: &str) -> u64 {
        let inner = self.shared.lock();
        inner
            .runs
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case(method))
            .map(|(_, n)| *n)
            .sum()
    }

    /// The parameters of the latest runs of `method`, oldest first, as the server decoded them
    /// (form bodies and batch commands included, `auth` removed): up to
    /// [`ServerLimits::received_per_method`] runs of at most
    /// [`ServerLimits::received_bytes_per_method`] bytes in all (100 and 8 MiB by default).
    /// Parameters larger than that are kept as `{"b24_emulator_dropped_bytes": N}`, their
    /// size as JSON (and counted in [`Stats::received_dropped`]).
    pub fn received(&self, method: &str) -> Vec<Value> {
        let inner = self.shared.lock();
        inner
            .received
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case(method))
            .flat_map(|(_, kept)| kept.values().cloned())
            .collect()
    }

    /// The server limits in force (fixed at start).
    pub fn server_limits(&self) -> &ServerLimits {
        &self.shared.server
    }

    /// The model served.
    pub fn api(&self) -> &Api {
        &self.shared.api
    }

    /// The prefixes of the entity families recognised in the model (e.g. `crm.item`).
    pub fn families(&self) -> Vec<String> {
        self.shared
            .families
            .iter()
            .map(|f| f.prefix.clone())
            .collect()
    }

    fn family(&self, prefix: &str) -> Result<usize, StoreError> {
        self.shared
            .family_index(prefix)
            .ok_or_else(|| StoreError(format!("no entity family `{prefix}` in the model")))
    }

    /// Every stored record of the family `prefix`, over all partitions.
    pub fn records(&self, prefix: &str) -> Result<Vec<Value>, StoreError> {
        let index = self.family(prefix)?;
        Ok(self.shared.lock().store.records(index))
    }

    /// Stores records directly, bypassing limits (to seed large data sets). `partition` holds
    /// the values of the partition parameters (e.g. `{"entityTypeId": 2}`, or `{}`). A record
    /// without an id gets the next one. Returns how many were stored.
    pub fn insert_records(
        &self,
        prefix: &str,
        partition: &Value,
        records: impl IntoIterator<Item = Value>,
    ) -> Result<usize, StoreError> {
        let index = self.family(prefix)?;
        let empty = Map::new();
        let partition = partition.as_object().unwrap_or(&empty);
        let family = self
            .shared
            .families
            .get(index)
            .ok_or_else(|| StoreError(format!("no entity family `{prefix}`")))?;
        self.shared
            .lock()
            .store
            .seed(index, family, partition, records)
    }

    /// Removes one record directly; true when it existed.
    pub fn remove_record(
        &self,
        prefix: &str,
        partition: &Value,
        id: &Value,
    ) -> Result<bool, StoreError> {
        let index = self.family(prefix)?;
        let empty = Map::new();
        let partition = partition.as_object().unwrap_or(&empty);
        let family = self
            .shared
            .families
            .get(index)
            .ok_or_else(|| StoreError(format!("no entity family `{prefix}`")))?;
        Ok(self
            .shared
            .lock()
            .store
            .remove(index, family, partition, id))
    }
}
