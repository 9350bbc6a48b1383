//! The emulator as an application's test portal: the install handshake, `event.bind`
//! subscriptions, events POSTed to bound handlers when stored records change, and the offline
//! queue of `event.offline.get`.
//!
//! Everything an event carries is read from the docs: the event of a change is the documented
//! event named `ON{PREFIX}{OP}` or `{PREFIX}.ON.{OP}` (`crm.deal` + `add` → `ONCRMDEALADD`,
//! `catalog.price` + `update` → `CATALOG.PRICE.ON.UPDATE`), its `data` is the `data` of the
//! event page's example with every `ID` set to the record's id (`{"FIELDS": {"ID": "42"}}`
//! when the page has no example). Events go form-encoded, as the portal sends them, with the
//! `auth` block of the installed application (`auth[application_token]`, `auth[member_id]`,
//! a fresh access token), one at a time in the order of the changes.
//!
//! Handlers must be `http://` URLs on loopback (`127.0.0.0/8`, `localhost`, `[::1]`): the
//! emulator sends nothing elsewhere. Bounded: 1,000 subscriptions, 10,000 offline records (the
//! oldest go first), 1,000 delivery reports, 10,000 events waiting to be sent (more are
//! dropped and counted in [`crate::Stats`]-like reports: [`Delivery::status`] `None`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Map, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::family::{Family, Op};
use crate::reply::{ApiError, Success};
use crate::state::{Inner, Shared};

/// The portal's id, as the token endpoint reports it.
pub const MEMBER_ID: &str = "b24emulator0000000000000000000000";

const MAX_SUBSCRIPTIONS: usize = 1_000;
const MAX_OFFLINE: usize = 10_000;
const MAX_REPORTS: usize = 1_000;
const MAX_WAITING: usize = 10_000;
const POST_TIMEOUT: Duration = Duration::from_secs(10);

/// One event sent to a handler, and how the handler answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The event code.
    pub event: String,
    /// The handler's URL.
    pub handler: String,
    /// The HTTP status it answered; `None` when it could not be reached (or the event was
    /// dropped because too many were waiting).
    pub status: Option<u16>,
}

/// One `event.bind` subscription.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    /// The event code, upper-case.
    pub event: String,
    /// The handler's URL (online subscriptions).
    pub handler: Option<String>,
    /// True for `event_type=offline`.
    pub offline: bool,
    /// The `auth_connector` of an offline subscription.
    pub connector: Option<String>,
}

#[derive(Clone, Debug)]
struct Record {
    id: u64,
    name: String,
    data: Value,
    message_id: String,
    timestamp: String,
    process: Option<String>,
    error: bool,
}

/// A form-encoded event on its way to a handler.
struct Post {
    url: String,
    event: String,
    body: String,
}

/// The installed application (set by an install).
#[derive(Clone, Debug)]
struct Installed {
    application_token: String,
    base_url: String,
}

#[derive(Default)]
struct State {
    subs: Vec<(u64, Subscription)>,
    next_sub: u64,
    queue: VecDeque<Record>,
    next_record: u64,
    next_process: u64,
    next_message: u64,
    installed: Option<Installed>,
    sender: Option<mpsc::Sender<Post>>,
}

/// The apps' side of the emulator.
#[derive(Default)]
pub(crate) struct Apps {
    state: Mutex<State>,
    reports: Arc<Mutex<VecDeque<Delivery>>>,
}

impl std::fmt::Debug for Apps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Apps").finish_non_exhaustive()
    }
}

fn text(params: &Map<String, Value>, key: &str) -> Option<String> {
    params.iter().find_map(|(k, v)| {
        if !k.eq_ignore_ascii_case(key) {
            return None;
        }
        match v {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    })
}

fn ids(params: &Map<String, Value>, key: &str) -> Option<Vec<String>> {
    let v = params.iter().find(|(k, _)| k.eq_ignore_ascii_case(key))?.1;
    let list: Vec<String> = match v {
        Value::Array(a) => a.iter().filter_map(value_text).collect(),
        Value::Object(o) => o.values().filter_map(value_text).collect(),
        other => value_text(other).into_iter().collect(),
    };
    Some(list)
}

fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn flag(params: &Map<String, Value>, key: &str, default: bool) -> bool {
    match text(params, key).as_deref() {
        Some("0") | Some("N") | Some("false") => false,
        Some(_) => true,
        None => default,
    }
}

/// True for an `http://` URL on loopback: the only place the emulator sends events.
fn loopback_http(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let host = match authority.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !h.ends_with(':') => h,
        _ => authority,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    (loopback && !authority.contains('@')).then(|| (authority.to_owned(), path.to_owned()))
}

impl Apps {
    /// Runs an `event.*` method; `None` for any other method.
    pub(crate) fn call(
        &self,
        shared: &Shared,
        inner: &mut Inner,
        name: &str,
        params: &Map<String, Value>,
    ) -> Option<Result<Success, ApiError>> {
        let name = name.to_ascii_lowercase();
        let answer = match name.as_str() {
            "event.bind" => self.bind(shared, params),
            "event.unbind" => self.unbind(params),
            "event.get" => Ok(self.list()),
            "event.offline.get" => self.offline_get(params),
            "event.offline.clear" => self.offline_clear(params),
            "event.offline.error" => self.offline_error(params),
            _ => return None,
        };
        let _ = inner; // the lock order: `inner` is held while the apps' state is taken
        Some(answer)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn bind(&self, shared: &Shared, params: &Map<String, Value>) -> Result<Success, ApiError> {
        let event = text(params, "event")
            .ok_or_else(|| ApiError::new(400, "ERROR_REQUIRED_PARAMETERS_MISSING", "event"))?
            .to_ascii_uppercase();
        if !shared
            .api
            .events
            .iter()
            .any(|e| e.name.eq_ignore_ascii_case(&event))
        {
            return Err(ApiError::new(
                400,
                "ERROR_EVENT_NOT_FOUND",
                "Event not found",
            ));
        }
        let offline = text(params, "event_type").is_some_and(|t| t.eq_ignore_ascii_case("offline"));
        let handler = text(params, "handler");
        if !offline {
            let Some(h) = &handler else {
                return Err(ApiError::new(
                    400,
                    "ERROR_HANDLER_NOT_FOUND",
                    "Handler not found",
                ));
            };
            if loopback_http(h).is_none() {
                return Err(ApiError::new(
                    400,
                    "ERROR_HANDLER_URL",
                    "The emulator sends events only to http:// URLs on loopback",
                ));
            }
        }
        let sub = Subscription {
            event,
            handler: if offline { None } else { handler },
            offline,
            connector: text(params, "auth_connector"),
        };
        let mut st = self.lock();
        if st.subs.iter().any(|(_, s)| *s == sub) {
            return Err(ApiError::new(400, "ERROR_CORE", "Handler already binded"));
        }
        if st.subs.len() >= MAX_SUBSCRIPTIONS {
            return Err(ApiError::new(400, "ERROR_CORE", "Too many handlers"));
        }
        st.next_sub += 1;
        let id = st.next_sub;
        st.subs.push((id, sub));
        Ok(Success::plain(json!(true)))
    }

    fn unbind(&self, params: &Map<String, Value>) -> Result<Success, ApiError> {
        let event = text(params, "event")
            .ok_or_else(|| ApiError::new(400, "ERROR_REQUIRED_PARAMETERS_MISSING", "event"))?;
        let handler = text(params, "handler");
        let offline = text(params, "event_type").is_some_and(|t| t.eq_ignore_ascii_case("offline"));
        let mut st = self.lock();
        let before = st.subs.len();
        st.subs.retain(|(_, s)| {
            !(s.event.eq_ignore_ascii_case(&event)
                && s.offline == offline
                && handler
                    .as_ref()
                    .map_or(true, |h| s.handler.as_ref() == Some(h)))
        });
        Ok(Success::plain(json!({"count": before - st.subs.len()})))
    }

    fn list(&self) -> Success {
        let st = self.lock();
        let items: Vec<Value> = st
            .subs
            .iter()
            .map(|(_, s)| {
                let mut v = json!({
                    "event": s.event,
                    "handler": s.handler.clone().unwrap_or_default(),
                    "auth_type": "0",
                    "offline": i32::from(s.offline),
                });
                if let Some(c) = &s.connector {
                    v["connector_id"] = json!(c);
                }
                v
            })
            .collect();
        Success::plain(Value::Array(items))
    }

    fn offline_get(&self, params: &Map<String, Value>) -> Result<Success, ApiError> {
        let limit = text(params, "limit")
            .and_then(|l| l.parse::<usize>().ok())
            .unwrap_or(50)
            .clamp(1, 1000);
        let clear = flag(params, "clear", true);
        let errors = flag(params, "error", false);
        let wanted_process = text(params, "process_id");
        let mut st = self.lock();
        // The records of the given reservation first, then free ones.
        let mut picked: Vec<usize> = Vec::new();
        if let Some(p) = &wanted_process {
            picked.extend(
                st.queue
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.process.as_ref() == Some(p) && r.error == errors)
                    .map(|(i, _)| i)
                    .take(limit),
            );
        }
        if picked.len() < limit {
            let free = st
                .queue
                .iter()
                .enumerate()
                .filter(|(_, r)| r.process.is_none() && r.error == errors)
                .map(|(i, _)| i)
                .take(limit - picked.len())
                .collect::<Vec<_>>();
            picked.extend(free);
        }
        let process = if clear || picked.is_empty() {
            wanted_process.clone()
        } else {
            Some(wanted_process.clone().unwrap_or_else(|| {
                st.next_process += 1;
                format!("{:016x}", crate::auth::splitmix(st.next_process))
            }))
        };
        let mut events = Vec::new();
        for &i in &picked {
            if let Some(r) = st.queue.get_mut(i) {
                if !clear {
                    r.process = process.clone();
                }
                events.push(json!({
                    "ID": r.id.to_string(),
                    "TIMESTAMP_X": r.timestamp,
                    "EVENT_NAME": r.name,
                    "EVENT_DATA": r.data,
                    "EVENT_ADDITIONAL": {"user_id": "1"},
                    "MESSAGE_ID": r.message_id,
                }));
            }
        }
        if clear {
            let mut i = 0;
            st.queue.retain(|_| {
                let keep = !picked.contains(&i);
                i += 1;
                keep
            });
        }
        Ok(Success::plain(json!({
            "process_id": process,
            "events": events,
        })))
    }

    fn offline_clear(&self, params: &Map<String, Value>) -> Result<Success, ApiError> {
        let process = text(params, "process_id")
            .ok_or_else(|| ApiError::new(400, "ERROR_REQUIRED_PARAMETERS_MISSING", "process_id"))?;
        let by_id = ids(params, "id");
        let by_message = ids(params, "message_id");
        let mut st = self.lock();
        st.queue.retain(|r| {
            let mine = r.process.as_deref() == Some(process.as_str());
            let chosen = match (&by_id, &by_message) {
                (Some(ids), _) => ids.contains(&r.id.to_string()),
                (None, Some(m)) => m.contains(&r.message_id),
                (None, None) => true,
            };
            !(mine && chosen)
        });
        Ok(Success::plain(json!(true)))
    }

    fn offline_error(&self, params: &Map<String, Value>) -> Result<Success, ApiError> {
        let process = text(params, "process_id")
            .ok_or_else(|| ApiError::new(400, "ERROR_REQUIRED_PARAMETERS_MISSING", "process_id"))?;
        let messages = ids(params, "message_id").unwrap_or_default();
        let mut st = self.lock();
        for r in st.queue.iter_mut() {
            if r.process.as_deref() == Some(process.as_str()) && messages.contains(&r.message_id) {
                r.error = true;
                r.process = None;
            }
        }
        Ok(Success::plain(json!(true)))
    }

    /// After a family operation succeeded: the documented event of the change, to its
    /// subscribers.
    pub(crate) fn changed(
        &self,
        shared: &Shared,
        inner: &mut Inner,
        family: &Family,
        op: Op,
        params: &Map<String, Value>,
        reply: &Success,
    ) {
        let verb = match op {
            Op::Add => "ADD",
            Op::Update => "UPDATE",
            Op::Delete => "DELETE",
            Op::Get | Op::List | Op::Fields => return,
        };
        let flat = family.prefix.replace('.', "").to_ascii_uppercase();
        let dotted = format!("{}.ON.{verb}", family.prefix.to_ascii_uppercase());
        let Some(event) = shared.api.events.iter().find(|e| {
            e.name.eq_ignore_ascii_case(&format!("ON{flat}{verb}"))
                || e.name.eq_ignore_ascii_case(&dotted)
        }) else {
            return;
        };
        let id = match op {
            Op::Add => record_id(&reply.result, &family.id_field),
            _ => family
                .op_ids
                .get(&op)
                .and_then(|k| text(params, k))
                .or_else(|| text(params, &family.id_param)),
        };
        let Some(id) = id else { return };
        let example = event
            .examples
            .iter()
            .find_map(|e| e.json.as_ref()?.get("data"));
        let data = match example {
            Some(d) => with_id(d, &id),
            None => json!({"FIELDS": {"ID": id}}),
        };
        self.emit(inner, &event.name.to_ascii_uppercase(), data);
    }

    /// Sends `event` with `data` to its online subscribers and queues it for the offline ones.
    pub(crate) fn emit(&self, inner: &mut Inner, event: &str, data: Value) {
        let mut st = self.lock();
        let online: Vec<(u64, String)> = st
            .subs
            .iter()
            .filter(|(_, s)| s.event.eq_ignore_ascii_case(event))
            .filter_map(|(id, s)| s.handler.clone().map(|h| (*id, h)))
            .collect();
        let offline = st
            .subs
            .iter()
            .any(|(_, s)| s.offline && s.event.eq_ignore_ascii_case(event));
        let now = crate::clock::unix_now();
        if offline {
            st.next_record += 1;
            st.next_message += 1;
            let record = Record {
                id: st.next_record,
                name: event.to_owned(),
                data: data.clone(),
                message_id: format!("{:012x}", st.next_message),
                timestamp: timestamp(now),
                process: None,
                error: false,
            };
            if st.queue.len() >= MAX_OFFLINE {
                st.queue.pop_front();
            }
            st.queue.push_back(record);
        }
        if online.is_empty() {
            return;
        }
        let Some(installed) = st.installed.clone() else {
            return;
        };
        let sender = self.sender(&mut st);
        drop(st);
        let clock_now = inner.clock.now();
        let lifetime = inner.oauth.access_token_lifetime;
        for (handler_id, url) in online {
            let (access, _) = inner.tokens.issue(clock_now, lifetime);
            let payload = json!({
                "event": event,
                "event_handler_id": handler_id.to_string(),
                "data": data,
                "ts": (now as i64).to_string(),
                "auth": auth_block(&installed, &access, &inner.oauth.client_id),
            });
            let post = Post {
                url: url.clone(),
                event: event.to_owned(),
                body: b24_form::http_build_query(&payload),
            };
            let sent = match &sender {
                Some(s) => s.try_send(post).is_ok(),
                None => false,
            };
            if !sent {
                self.report(Delivery {
                    event: event.to_owned(),
                    handler: url,
                    status: None,
                });
            }
        }
    }

    /// The channel to the task that sends events, started on first use (`None` outside a
    /// tokio runtime: nothing can be sent then).
    fn sender(&self, st: &mut State) -> Option<mpsc::Sender<Post>> {
        if let Some(s) = &st.sender {
            if !s.is_closed() {
                return Some(s.clone());
            }
        }
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        let (tx, mut rx) = mpsc::channel::<Post>(MAX_WAITING);
        let reports = self.reports.clone();
        runtime.spawn(async move {
            while let Some(post) = rx.recv().await {
                let status = send(&post.url, &post.body).await;
                let mut r = reports.lock().unwrap_or_else(|p| p.into_inner());
                if r.len() >= MAX_REPORTS {
                    r.pop_front();
                }
                r.push_back(Delivery {
                    event: post.event,
                    handler: post.url,
                    status,
                });
            }
        });
        st.sender = Some(tx.clone());
        Some(tx)
    }

    fn report(&self, d: Delivery) {
        let mut r = self.reports.lock().unwrap_or_else(|p| p.into_inner());
        if r.len() >= MAX_REPORTS {
            r.pop_front();
        }
        r.push_back(d);
    }

    /// What was sent, oldest first.
    pub(crate) fn deliveries(&self) -> Vec<Delivery> {
        let r = self.reports.lock().unwrap_or_else(|p| p.into_inner());
        r.iter().cloned().collect()
    }

    /// The subscriptions.
    pub(crate) fn subscriptions(&self) -> Vec<Subscription> {
        self.lock().subs.iter().map(|(_, s)| s.clone()).collect()
    }

    /// Records in the offline queue (erroneous ones included).
    pub(crate) fn offline_len(&self) -> usize {
        self.lock().queue.len()
    }

    /// Sets the installed application's token and the portal's address.
    pub(crate) fn set_installed(&self, application_token: &str, base_url: &str) {
        self.lock().installed = Some(Installed {
            application_token: application_token.to_owned(),
            base_url: base_url.to_owned(),
        });
    }

    /// The installed application's token.
    pub(crate) fn application_token(&self) -> Option<String> {
        self.lock()
            .installed
            .as_ref()
            .map(|i| i.application_token.clone())
    }
}

/// What an install handshake sent, and how the application answered.
#[derive(Clone, PartialEq, Eq)]
pub struct Installation {
    /// The HTTP status the application's install URL answered.
    pub status: u16,
    /// The application token events of this portal carry (`auth[application_token]`).
    pub application_token: String,
    /// The portal's id.
    pub member_id: String,
}

impl std::fmt::Debug for Installation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Installation")
            .field("status", &self.status)
            .field("application_token", &"<redacted>")
            .field("member_id", &self.member_id)
            .finish()
    }
}

impl crate::Emulator {
    /// Installs an application, as a portal does: issues a token pair and an application
    /// token and POSTs the install frame's form to `install_url` (`AUTH_ID`, `REFRESH_ID`,
    /// `APPLICATION_TOKEN`, `member_id`, … in the body; `DOMAIN`, `PROTOCOL=0`, `LANG`,
    /// `APP_SID` in the query). From then on events carry that application token. The URL
    /// must be `http://` on loopback.
    pub async fn install_app(&self, install_url: &str) -> std::io::Result<Installation> {
        self.install(install_url, false).await
    }

    /// [`Emulator::install_app`] for an application without an interface: POSTs the
    /// `ONAPPINSTALL` event, with both tokens in `auth[...]`.
    pub async fn install_app_by_event(&self, handler_url: &str) -> std::io::Result<Installation> {
        self.install(handler_url, true).await
    }

    async fn install(&self, url: &str, by_event: bool) -> std::io::Result<Installation> {
        let refused = || {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not an http:// URL on loopback",
            )
        };
        loopback_http(url).ok_or_else(refused)?;
        let (access, refresh, app_token, expires_in) = {
            let mut inner = self.shared.lock();
            let now = inner.clock.now();
            let lifetime = inner.oauth.access_token_lifetime;
            let (access, refresh) = inner.tokens.issue(now, lifetime);
            // Not a token the server accepts for anything: it only signs events.
            let seed =
                crate::auth::splitmix(crate::clock::unix_now().to_bits() ^ access.len() as u64);
            let app_token = format!("{seed:016x}{:016x}", crate::auth::splitmix(seed));
            let expires_in = inner.clock.real_duration(lifetime).as_secs_f64().ceil() as u64;
            (access, refresh, app_token, expires_in)
        };
        self.shared.apps.set_installed(&app_token, &self.base_url);
        let host = self.base_url.trim_start_matches("http://");
        let (target, body) = if by_event {
            let installed = Installed {
                application_token: app_token.clone(),
                base_url: self.base_url.to_string(),
            };
            let mut auth = auth_block(&installed, &access, "");
            auth["refresh_token"] = json!(refresh);
            auth["expires_in"] = json!(expires_in.to_string());
            let payload = json!({
                "event": "ONAPPINSTALL",
                "event_handler_id": "1",
                "data": {"VERSION": "1", "ACTIVE": "Y", "INSTALLED": "Y", "LANGUAGE_ID": "en"},
                "ts": (crate::clock::unix_now() as i64).to_string(),
                "auth": auth,
            });
            (url.to_owned(), b24_form::http_build_query(&payload))
        } else {
            let sep = if url.contains('?') { '&' } else { '?' };
            let target = format!("{url}{sep}DOMAIN={host}&PROTOCOL=0&LANG=en&APP_SID=emulator");
            let form = json!({
                "AUTH_ID": access,
                "AUTH_EXPIRES": expires_in.to_string(),
                "REFRESH_ID": refresh,
                "SERVER_ENDPOINT": format!("{}/oauth/", self.base_url),
                "APPLICATION_TOKEN": app_token,
                "APPLICATION_SCOPE": "crm,user,task,placement",
                "member_id": self.shared.member_id,
                "status": "L",
                "PLACEMENT": "DEFAULT",
                "PLACEMENT_OPTIONS": "{}",
            });
            (target, b24_form::http_build_query(&form))
        };
        let status = send(&target, &body).await.ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::ConnectionRefused,
                "the install URL did not answer",
            )
        })?;
        Ok(Installation {
            status,
            application_token: app_token,
            member_id: self.shared.member_id.clone(),
        })
    }

    /// Opens a placement of the installed application, as a user opening the widget would:
    /// POSTs the placement frame's form (`PLACEMENT`, `PLACEMENT_OPTIONS` as a JSON string, a
    /// fresh token pair, `APPLICATION_TOKEN`) to `handler_url`; the status it answered.
    pub async fn open_placement(
        &self,
        handler_url: &str,
        placement: &str,
        options: Value,
    ) -> std::io::Result<u16> {
        let invalid =
            |why: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, why.to_owned());
        loopback_http(handler_url).ok_or_else(|| invalid("not an http:// URL on loopback"))?;
        let app_token = self
            .application_token()
            .ok_or_else(|| invalid("no application is installed"))?;
        let (access, refresh) = {
            let mut inner = self.shared.lock();
            let now = inner.clock.now();
            let lifetime = inner.oauth.access_token_lifetime;
            inner.tokens.issue(now, lifetime)
        };
        let host = self.base_url.trim_start_matches("http://");
        let sep = if handler_url.contains('?') { '&' } else { '?' };
        let target = format!("{handler_url}{sep}DOMAIN={host}&PROTOCOL=0&LANG=en&APP_SID=emulator");
        let form = json!({
            "AUTH_ID": access,
            "AUTH_EXPIRES": "3600",
            "REFRESH_ID": refresh,
            "SERVER_ENDPOINT": format!("{}/oauth/", self.base_url),
            "APPLICATION_TOKEN": app_token,
            "member_id": self.shared.member_id,
            "status": "L",
            "PLACEMENT": placement,
            "PLACEMENT_OPTIONS": options.to_string(),
        });
        send(&target, &b24_form::http_build_query(&form))
            .await
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::ConnectionRefused,
                    "the handler did not answer",
                )
            })
    }

    /// Sends a documented event (any code, e.g. one no stored family raises) with `data` to
    /// its subscribers, as a change would.
    pub fn emit_event(&self, event: &str, data: Value) {
        let mut inner = self.shared.lock();
        self.shared
            .apps
            .emit(&mut inner, &event.to_ascii_uppercase(), data);
    }

    /// The events sent to handlers so far (the last 1,000), oldest first.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.apps.deliveries()
    }

    /// The `event.bind` subscriptions.
    pub fn subscriptions(&self) -> Vec<Subscription> {
        self.shared.apps.subscriptions()
    }

    /// Records in the offline queue.
    pub fn offline_events(&self) -> usize {
        self.shared.apps.offline_len()
    }

    /// The installed application's token, once an application is installed.
    pub fn application_token(&self) -> Option<String> {
        self.shared.apps.application_token()
    }
}

/// The `auth` block of an event, as the portal sends it to the installed application.
fn auth_block(installed: &Installed, access: &str, _client_id: &str) -> Value {
    let host = installed.base_url.trim_start_matches("http://");
    json!({
        "access_token": access,
        "expires_in": "3600",
        "scope": "crm,user,task",
        "domain": host,
        "server_endpoint": format!("{}/oauth/", installed.base_url),
        "status": "L",
        "client_endpoint": format!("{}/rest/", installed.base_url),
        "member_id": MEMBER_ID,
        "application_token": installed.application_token,
    })
}

/// The id of a record an `add` answered with: the result itself, or its id field.
fn record_id(result: &Value, id_field: &str) -> Option<String> {
    match result {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o
            .get(id_field)
            .or_else(|| o.get("id"))
            .or_else(|| o.get("ID"))
            .and_then(|v| record_id(v, id_field))
            .or_else(|| {
                o.values()
                    .find_map(|v| v.as_object().and_then(|_| record_id(v, id_field)))
            }),
        _ => None,
    }
}

/// `data` with every `ID` key set to `id`.
fn with_id(data: &Value, id: &str) -> Value {
    match data {
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| {
                    let v = if k == "ID" && !v.is_object() && !v.is_array() {
                        json!(id)
                    } else {
                        with_id(v, id)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|v| with_id(v, id)).collect()),
        other => other.clone(),
    }
}

fn timestamp(unix: f64) -> String {
    // ISO 8601 in UTC, from Unix seconds (days from the civil calendar algorithm).
    let secs = unix.max(0.0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+00:00",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// POSTs a form body to a loopback `http://` URL; the answer's status.
pub(crate) async fn send(url: &str, body: &str) -> Option<u16> {
    let (authority, path) = loopback_http(url)?;
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(&authority).await.ok()?;
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: b24-emulator\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.ok()?;
        stream.write_all(body.as_bytes()).await.ok()?;
        let mut answer = Vec::with_capacity(256);
        let mut buf = [0u8; 256];
        // The status line is all that is read (at most 8 KiB of it).
        while !answer.contains(&b'\n') && answer.len() < 8192 {
            let n = stream.read(&mut buf).await.ok()?;
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buf[..n]);
        }
        let line = String::from_utf8_lossy(&answer);
        line.split_whitespace().nth(1)?.parse::<u16>().ok()
    };
    tokio::time::timeout(POST_TIMEOUT, attempt)
        .await
        .ok()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_http_handlers() {
        assert!(loopback_http("http://127.0.0.1:8080/events").is_some());
        assert!(loopback_http("http://localhost/x").is_some());
        assert!(loopback_http("http://[::1]:9/x").is_some());
        assert!(loopback_http("https://127.0.0.1/x").is_none());
        assert!(loopback_http("http://10.0.0.1/x").is_none());
        assert!(loopback_http("http://example.com/x").is_none());
        assert!(loopback_http("http://127.0.0.1@example.com/x").is_none());
    }

    #[test]
    fn ids_are_put_into_the_documented_data() {
        assert_eq!(
            with_id(&json!({"FIELDS": {"ID": "6641", "X": 1}}), "7"),
            json!({"FIELDS": {"ID": "7", "X": 1}})
        );
        assert_eq!(record_id(&json!(42), "ID").as_deref(), Some("42"));
        assert_eq!(
            record_id(&json!({"item": {"id": 5}}), "id").as_deref(),
            Some("5")
        );
        assert_eq!(timestamp(0.0), "1970-01-01T00:00:00+00:00");
        assert_eq!(timestamp(1_772_442_900.0), "2026-03-02T09:15:00+00:00");
    }
}
