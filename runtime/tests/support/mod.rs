//! A small HTTP server on 127.0.0.1 for wire tests: records every request and answers with
//! whatever the test's handler says.
#![allow(dead_code)]

pub mod portal;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Bytes, Frame, SizeHint};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

/// The secret webhook code every test uses.
pub const CODE: &str = "s3cr3twebhookc0de";

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Unix time of arrival.
    pub at: f64,
}

impl Recorded {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The REST method name from the path (`…/crm.item.add.json` → `crm.item.add`).
    pub fn rest_method(&self) -> String {
        let last = self.path.rsplit('/').next().unwrap_or("");
        last.strip_suffix(".json").unwrap_or(last).to_owned()
    }
}

/// What to answer.
pub enum Reply {
    Json(u16, Value),
    Text(u16, &'static str),
    /// Close the connection without an answer.
    Drop,
    /// Wait, then answer.
    Delay(Duration, Box<Reply>),
    /// Any status, headers and body.
    Raw(u16, Vec<(String, String)>, Vec<u8>),
    /// A body of `len` bytes, streamed as hyper asks for it; `sent` counts what it took.
    Stream {
        status: u16,
        len: u64,
        /// Declare the length (`Content-Length`) instead of streaming chunked.
        declared: bool,
        sent: Arc<AtomicU64>,
    },
}

/// A redirect to `location`.
pub fn redirect(status: u16, location: &str) -> Reply {
    Reply::Raw(
        status,
        vec![("location".into(), location.into())],
        Vec::new(),
    )
}

/// A body of spaces, 64 KiB a frame, counting what the server handed to the connection.
struct Endless {
    left: u64,
    declared: bool,
    sent: Arc<AtomicU64>,
}

impl Body for Endless {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        const CHUNK: Bytes = Bytes::from_static(&[b' '; 64 * 1024]);
        if self.left == 0 {
            return Poll::Ready(None);
        }
        let n = self.left.min(CHUNK.len() as u64);
        self.left -= n;
        self.sent.fetch_add(n, Ordering::Relaxed);
        Poll::Ready(Some(Ok(Frame::data(CHUNK.slice(..n as usize)))))
    }

    fn size_hint(&self) -> SizeHint {
        if self.declared {
            SizeHint::with_exact(self.left)
        } else {
            SizeHint::default()
        }
    }
}

pub fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// A success envelope.
pub fn ok(result: Value) -> Reply {
    Reply::Json(
        200,
        json!({ "result": result, "time": { "start": now(), "finish": now(), "duration": 0.001, "processing": 0.001, "date_start": "2024-08-29T10:34:19+03:00", "date_finish": "2024-08-29T10:34:19+03:00", "operating": 0.001, "operating_reset_at": now() + 600.0 } }),
    )
}

/// A classic error answer.
pub fn err(status: u16, code: &str, description: &str) -> Reply {
    Reply::Json(
        status,
        json!({ "error": code, "error_description": description }),
    )
}

type Handler = dyn Fn(&Recorded) -> Reply + Send + Sync;

pub struct Server {
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    pub async fn start(handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let log: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let handler: Arc<Handler> = Arc::new(handler);
        let task = {
            let log = log.clone();
            tokio::spawn(async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let (log, handler) = (log.clone(), handler.clone());
                    tokio::spawn(async move {
                        let service =
                            service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                                let (log, handler) = (log.clone(), handler.clone());
                                async move {
                                    let (parts, body) = req.into_parts();
                                    let body = body
                                        .collect()
                                        .await
                                        .map(|b| b.to_bytes().to_vec())
                                        .unwrap_or_default();
                                    let rec = Recorded {
                                        method: parts.method.to_string(),
                                        path: parts.uri.path().to_owned(),
                                        query: parts.uri.query().unwrap_or("").to_owned(),
                                        headers: parts
                                            .headers
                                            .iter()
                                            .map(|(k, v)| {
                                                (k.to_string(), v.to_str().unwrap_or("").to_owned())
                                            })
                                            .collect(),
                                        body,
                                        at: now(),
                                    };
                                    log.lock().expect("log").push(rec.clone());
                                    let mut reply = handler(&rec);
                                    loop {
                                        match reply {
                                            Reply::Delay(d, next) => {
                                                tokio::time::sleep(d).await;
                                                reply = *next;
                                            }
                                            Reply::Drop => return Err("dropped"),
                                            Reply::Json(status, v) => {
                                                return Ok::<_, &'static str>(respond(
                                                    status,
                                                    v.to_string(),
                                                    "application/json",
                                                ))
                                            }
                                            Reply::Text(status, t) => {
                                                return Ok(respond(
                                                    status,
                                                    t.to_owned(),
                                                    "text/html",
                                                ))
                                            }
                                            Reply::Raw(status, headers, body) => {
                                                let mut resp = respond(status, body, "text/plain");
                                                for (k, v) in headers {
                                                    if let (Ok(k), Ok(v)) = (
                                                        hyper::header::HeaderName::from_bytes(
                                                            k.as_bytes(),
                                                        ),
                                                        hyper::header::HeaderValue::from_str(&v),
                                                    ) {
                                                        resp.headers_mut().insert(k, v);
                                                    }
                                                }
                                                return Ok(resp);
                                            }
                                            Reply::Stream {
                                                status,
                                                len,
                                                declared,
                                                sent,
                                            } => {
                                                let mut resp = respond(status, "", "text/plain");
                                                *resp.body_mut() = Endless {
                                                    left: len,
                                                    declared,
                                                    sent,
                                                }
                                                .boxed();
                                                return Ok(resp);
                                            }
                                        }
                                    }
                                }
                            });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            })
        };
        Server { addr, log, task }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn webhook(&self) -> String {
        format!("http://{}/rest/1/{CODE}/", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.log.lock().expect("log").clone()
    }

    pub fn count(&self, rest_method: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.rest_method() == rest_method)
            .count()
    }
}

fn respond(
    status: u16,
    body: impl Into<Bytes>,
    content_type: &str,
) -> hyper::Response<BoxBody<Bytes, Infallible>> {
    let mut resp = hyper::Response::new(Full::new(body.into()).boxed());
    *resp.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_str(content_type)
            .unwrap_or(hyper::header::HeaderValue::from_static("text/plain")),
    );
    resp
}

/// Hand-written methods in the shape the code generator emits.
pub mod methods {
    use b24_runtime::value::{Bool, Int};
    use b24_runtime::{Access, ApiVersion, Extra, ListMethod, Method};
    use serde::{Deserialize, Serialize};

    b24_runtime::method_error! {
        /// Errors of the badge methods.
        pub enum BadgeError {
            /// Insufficient permissions to perform the operation
            AccessDenied = Code("ACCESS_DENIED"),
            /// Required fields are not filled
            RequiredArgMissing = Code("REQUIRED_ARG_MISSING"),
        }
    }

    #[derive(Clone, Debug, Serialize)]
    pub struct BadgeAdd {
        pub code: String,
        pub title: String,
        pub value: String,
        #[serde(rename = "type")]
        pub r#type: String,
    }
    impl Method for BadgeAdd {
        const NAME: &'static str = "crm.activity.badge.add";
        const VERSION: ApiVersion = ApiVersion::V2;
        const ACCESS: Access = Access::Write;
        type Response = Bool;
        type Error = BadgeError;
    }

    #[derive(Clone, Debug, Serialize)]
    pub struct BadgeGet {
        pub code: String,
    }
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct Badge {
        pub code: String,
        pub title: String,
        pub value: String,
        #[serde(rename = "type")]
        pub r#type: String,
        #[serde(flatten)]
        pub extra: Extra,
    }
    impl Method for BadgeGet {
        const NAME: &'static str = "crm.activity.badge.get";
        const VERSION: ApiVersion = ApiVersion::V2;
        const ACCESS: Access = Access::Read;
        type Response = Badge;
        type Error = BadgeError;
    }

    #[derive(Clone, Debug, Default, Serialize)]
    pub struct BadgeList {}
    impl Method for BadgeList {
        const NAME: &'static str = "crm.activity.badge.list";
        const VERSION: ApiVersion = ApiVersion::V2;
        const ACCESS: Access = Access::Read;
        type Response = Vec<Badge>;
        type Error = BadgeError;
    }
    impl ListMethod for BadgeList {
        type Item = Badge;
        fn into_items(r: Vec<Badge>) -> Vec<Badge> {
            r
        }
    }

    #[derive(Clone, Debug, Serialize)]
    pub struct BadgeDelete {
        pub code: String,
    }
    impl Method for BadgeDelete {
        const NAME: &'static str = "crm.activity.badge.delete";
        const VERSION: ApiVersion = ApiVersion::V2;
        const ACCESS: Access = Access::Write;
        type Response = Bool;
        type Error = BadgeError;
    }

    b24_runtime::method_error! {
        /// Errors of the record methods.
        pub enum RecordError {}
    }

    /// `test.record.add`: adds a record, returns its id.
    #[derive(Clone, Debug, Serialize)]
    pub struct RecordAdd {
        pub fields: serde_json::Value,
    }
    impl Method for RecordAdd {
        const NAME: &'static str = "test.record.add";
        const VERSION: ApiVersion = ApiVersion::V2;
        const ACCESS: Access = Access::Write;
        type Response = Int;
        type Error = RecordError;
    }

    /// `test.record.get`.
    #[derive(Clone, Debug, Serialize)]
    pub struct RecordGet {
        pub id: serde_json::Value,
    }
    #[derive(Clone, Debug, PartialEq, Deserialize)]
    pub struct Record {
        #[serde(rename = "ID")]
        pub id: Int,
        #[serde(flatten)]
        pub extra: Extra,
    }
    impl Method for RecordGet {
        const NAME: &'static str = "test.record.get";
        const VERSION: ApiVersion = ApiVersion::V2;
        const ACCESS: Access = Access::Read;
        type Response = Record;
        type Error = RecordError;
    }

    /// `test.record.list`: classic paging, records as a bare list.
    #[derive(Clone, Debug, Default, Serialize)]
    pub struct RecordList {
        #[serde(skip_serializing_if = "Option::is_none")]
        pub filter: Option<serde_json::Value>,
    }
    impl Method for RecordList {
        const NAME: &'static str = "test.record.list";
        const VERSION: ApiVersion = ApiVersion::V2;
        const ACCESS: Access = Access::Read;
        type Response = Vec<Record>;
        type Error = RecordError;
    }
    impl ListMethod for RecordList {
        type Item = Record;
        fn into_items(r: Vec<Record>) -> Vec<Record> {
            r
        }
    }

    /// `test.task.add` (REST 3.0).
    #[derive(Clone, Debug, Serialize)]
    pub struct TaskAdd {
        pub fields: serde_json::Value,
    }
    impl Method for TaskAdd {
        const NAME: &'static str = "tasks.task.add";
        const VERSION: ApiVersion = ApiVersion::V3;
        const ACCESS: Access = Access::Write;
        type Response = serde_json::Value;
        type Error = RecordError;
    }

    /// `test.item.list`: records under `items`, with a lowercase `id`.
    #[derive(Clone, Debug, Default, Serialize)]
    pub struct ItemList {}
    #[derive(Clone, Debug, PartialEq, Deserialize)]
    pub struct Item {
        pub id: i64,
        pub title: String,
    }
    #[derive(Clone, Debug, Deserialize)]
    pub struct Items {
        pub items: Vec<Item>,
    }
    impl Method for ItemList {
        const NAME: &'static str = "test.item.list";
        const VERSION: ApiVersion = ApiVersion::V2;
        const ACCESS: Access = Access::Read;
        type Response = Items;
        type Error = RecordError;
    }
    impl ListMethod for ItemList {
        type Item = Item;
        fn into_items(r: Items) -> Vec<Item> {
            r.items
        }
    }

    /// `test.stuck.list`: ignores its filter (a server bug the export must notice).
    #[derive(Clone, Debug, Default, Serialize)]
    pub struct StuckList {}
    impl Method for StuckList {
        const NAME: &'static str = "test.stuck.list";
        const VERSION: ApiVersion = ApiVersion::V2;
        const ACCESS: Access = Access::Read;
        type Response = Vec<Record>;
        type Error = RecordError;
    }
    impl ListMethod for StuckList {
        type Item = Record;
        fn into_items(r: Vec<Record>) -> Vec<Record> {
            r
        }
    }
}
