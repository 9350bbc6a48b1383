//! The routes on loopback: installs stored, genuine events and placements handed over with the
//! portal's client, forged ones refused, oversized and too-deep bodies refused before anything
//! is parsed or looked up.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use b24_axum::AppRoutes;
use b24_emulator::Emulator;
use b24_runtime::events::Event;
use b24_runtime::query::Limits;
use b24_runtime::store::{MemoryStore, Replaced, StoreFuture, TokenStore};
use b24_runtime::{Access, ApiVersion, App, Secret, Tokens};
use serde_json::json;

/// A store that counts its loads: a refused request must not get as far as one.
#[derive(Default)]
struct Counting {
    inner: MemoryStore,
    loads: AtomicUsize,
}

impl TokenStore for Counting {
    fn load<'a>(&'a self, member_id: &'a str) -> StoreFuture<'a, Option<Tokens>> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        self.inner.load(member_id)
    }
    fn save<'a>(&'a self, tokens: &'a Tokens) -> StoreFuture<'a, ()> {
        self.inner.save(tokens)
    }
    fn replace<'a>(
        &'a self,
        expected: &'a Secret,
        tokens: &'a Tokens,
    ) -> StoreFuture<'a, Replaced> {
        self.inner.replace(expected, tokens)
    }
}

struct Fixture {
    emulator: Emulator,
    store: Arc<Counting>,
    base: String,
    got: Arc<Mutex<Vec<(String, serde_json::Value)>>>,
    http: reqwest::Client,
}

const MEMBER: &str = "member-1";
const APP_TOKEN: &str = "0123456789abcdef0123456789abcdef";

async fn fixture(limits: Limits) -> Fixture {
    let emulator = Emulator::builder().start().await.expect("emulator");
    let oauth = emulator.oauth_app();
    let store = Arc::new(Counting::default());
    let app = Arc::new(
        App::builder(oauth.client_id.clone(), oauth.client_secret.clone())
            .token_endpoint(emulator.token_url())
            .store(store.clone())
            .build()
            .expect("app"),
    );
    let got: Arc<Mutex<Vec<(String, serde_json::Value)>>> = Arc::default();
    let routes = AppRoutes::<Event>::new(app)
        .limits(limits)
        .on_event({
            let got = got.clone();
            move |event, client| {
                let got = got.clone();
                async move {
                    // The handed-over client works against the portal.
                    let answer = client
                        .call_raw(
                            "crm.activity.badge.list",
                            ApiVersion::V2,
                            Access::Read,
                            &json!({}),
                        )
                        .await?;
                    assert!(answer.result.is_array() || answer.result.is_object());
                    got.lock().expect("got").push((event.event, event.data));
                    Ok(())
                }
            }
        })
        .on_placement({
            let got = got.clone();
            move |frame, _client| {
                let got = got.clone();
                async move {
                    got.lock()
                        .expect("got")
                        .push((frame.placement.clone(), frame.options.clone()));
                    b24_axum::axum::response::IntoResponse::into_response("widget")
                }
            }
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { b24_axum::axum::serve(listener, routes.router()).await });
    let http = reqwest::Client::new();
    let f = Fixture {
        emulator,
        store,
        base,
        got,
        http,
    };
    // Install through the route, as the portal's install frame.
    let pair = f.emulator.issue_tokens();
    let host = f
        .emulator
        .base_url()
        .trim_start_matches("http://")
        .to_owned();
    let r = f
        .http
        .post(format!("{}/install?DOMAIN={host}&PROTOCOL=0&LANG=en", f.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "AUTH_ID={}&AUTH_EXPIRES=3600&REFRESH_ID={}&APPLICATION_TOKEN={APP_TOKEN}&member_id={MEMBER}&PLACEMENT=DEFAULT",
            pair.access_token, pair.refresh_token
        ))
        .send()
        .await
        .expect("install");
    assert_eq!(r.status(), 200);
    assert!(r
        .text()
        .await
        .expect("page")
        .contains("BX24.installFinish()"));
    f.store.loads.store(0, Ordering::SeqCst);
    f
}

fn event_body(token: &str) -> String {
    format!(
        "event=ONCRMDEALADD&event_handler_id=3&data%5BFIELDS%5D%5BID%5D=42&ts=1772442900\
         &auth%5Bdomain%5D=x&auth%5Bmember_id%5D={MEMBER}&auth%5Bapplication_token%5D={token}"
    )
}

impl Fixture {
    async fn post(&self, path: &str, content_type: &str, body: String) -> (u16, String) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("sent");
        (r.status().as_u16(), r.text().await.unwrap_or_default())
    }
}

const FORM: &str = "application/x-www-form-urlencoded";

#[tokio::test]
async fn a_genuine_event_is_handed_over_with_the_portals_client() {
    let f = fixture(Limits::DEFAULT).await;
    let (status, _) = f.post("/events", FORM, event_body(APP_TOKEN)).await;
    assert_eq!(status, 200);
    let json_body = json!({
        "event": "ONCRMDEALUPDATE",
        "data": {"FIELDS": {"ID": "43"}},
        "auth": {"member_id": MEMBER, "application_token": APP_TOKEN}
    })
    .to_string();
    let (status, _) = f.post("/events", "application/json", json_body).await;
    assert_eq!(status, 200);
    let got = f.got.lock().expect("got").clone();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].0, "ONCRMDEALADD");
    assert_eq!(got[0].1["FIELDS"]["ID"], "42");
    assert_eq!(got[1].1["FIELDS"]["ID"], "43");
}

#[tokio::test]
async fn a_forged_application_token_is_refused() {
    let f = fixture(Limits::DEFAULT).await;
    for token in ["0123456789abcdef0123456789abcdee", "", "short"] {
        let (status, text) = f.post("/events", FORM, event_body(token)).await;
        assert_eq!(status, 401, "{token}");
        assert!(!text.contains(APP_TOKEN));
    }
    // A portal that is not installed, and an event naming no portal.
    let other = event_body(APP_TOKEN).replace(MEMBER, "member-2");
    assert_eq!(f.post("/events", FORM, other).await.0, 401);
    assert_eq!(
        f.post("/events", FORM, "event=ONCRMDEALADD".into()).await.0,
        401
    );
    let forged_json =
        json!({"event": "X", "auth": {"member_id": MEMBER, "application_token": "nope"}});
    assert_eq!(
        f.post("/events", "application/json", forged_json.to_string())
            .await
            .0,
        401
    );
    // A placement with a forged token.
    let frame = format!(
        "AUTH_ID=a&DOMAIN=x.example&member_id={MEMBER}&APPLICATION_TOKEN=forged&PLACEMENT=CRM_DEAL_DETAIL_TAB"
    );
    assert_eq!(f.post("/placement", FORM, frame).await.0, 401);
    assert!(f.got.lock().expect("got").is_empty(), "no handler ran");
}

#[tokio::test]
async fn oversized_and_too_deep_bodies_are_refused_before_anything_is_parsed() {
    let limits = Limits {
        max_bytes: 4096,
        max_depth: 8,
        max_keys: 100,
    };
    let f = fixture(limits).await;
    let big = format!("{}&pad={}", event_body(APP_TOKEN), "x".repeat(5000));
    let (status, _) = f.post("/events", FORM, big.clone()).await;
    assert_eq!(status, 413);
    // Without a Content-Length (chunked): still cut at the limit.
    assert_eq!(
        chunked_status(&f.base, "/events", big.as_bytes()).await,
        413
    );
    let deep = format!("{}&a{}=1", event_body(APP_TOKEN), "[b]".repeat(9));
    assert_eq!(f.post("/events", FORM, deep).await.0, 400);
    let deep_json = format!(
        "{{\"event\":\"E\",\"auth\":{{\"member_id\":\"{MEMBER}\",\"application_token\":\"{APP_TOKEN}\"}},\"data\":{}1{}}}",
        "[".repeat(20),
        "]".repeat(20)
    );
    assert_eq!(
        f.post("/events", "application/json", deep_json).await.0,
        400
    );
    let many = format!("{}{}", event_body(APP_TOKEN), "&k=v".repeat(200));
    assert_eq!(f.post("/events", FORM, many).await.0, 400);
    assert_eq!(f.post("/install", FORM, big.clone()).await.0, 413);
    assert_eq!(f.post("/placement", FORM, big).await.0, 413);
    assert_eq!(
        f.store.loads.load(Ordering::SeqCst),
        0,
        "no token was looked up"
    );
    assert!(f.got.lock().expect("got").is_empty(), "no handler ran");
    // Within the limits, the same route works.
    assert_eq!(f.post("/events", FORM, event_body(APP_TOKEN)).await.0, 200);
}

#[tokio::test]
async fn a_genuine_placement_gets_its_options() {
    let f = fixture(Limits::DEFAULT).await;
    let frame = format!(
        "AUTH_ID=a&REFRESH_ID=r&member_id={MEMBER}&APPLICATION_TOKEN={APP_TOKEN}\
         &PLACEMENT=CRM_DEAL_DETAIL_TAB&PLACEMENT_OPTIONS=%7B%22ID%22%3A%2242%22%7D"
    );
    let (status, text) = f
        .post(
            "/placement?DOMAIN=x.example&PROTOCOL=1&LANG=en",
            FORM,
            frame,
        )
        .await;
    assert_eq!((status, text.as_str()), (200, "widget"));
    let got = f.got.lock().expect("got").clone();
    assert_eq!(got[0].0, "CRM_DEAL_DETAIL_TAB");
    assert_eq!(got[0].1["ID"], "42");
}

/// POSTs `body` with chunked transfer encoding (no length declared); the answer's status.
async fn chunked_status(base: &str, path: &str, body: &[u8]) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {FORM}\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.expect("head");
    for chunk in body.chunks(1000) {
        let _ = s
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .await;
        let _ = s.write_all(chunk).await;
        let _ = s.write_all(b"\r\n").await;
    }
    let _ = s.write_all(b"0\r\n\r\n").await;
    let mut answer = vec![0u8; 64];
    let n = s.read(&mut answer).await.expect("answer");
    let line = String::from_utf8_lossy(&answer[..n]).into_owned();
    line.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}
