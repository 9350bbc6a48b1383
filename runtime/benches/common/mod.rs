//! A loopback server for the benchmarks: answers every POST with a fixed envelope, optionally
//! behind the docs' leaky bucket (503 `QUERY_LIMIT_EXCEEDED` above `X`, drained `Y` per second).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

pub const CODE: &str = "benchcode";

/// A realistic `crm.item.get`-sized answer.
pub const BODY: &str = r#"{"result":{"item":{"id":1,"title":"Deal #1","stageId":"NEW","opportunity":1500.5,"currencyId":"USD","assignedById":1,"createdTime":"2024-08-29T10:34:19+03:00","updatedTime":"2024-08-29T10:34:19+03:00","opened":"Y","categoryId":0,"ufCrm_1":null,"observers":[1,2,3],"contactIds":[5,6]}},"time":{"start":1724916859.46156,"finish":1724916859.464775,"duration":0.0032150745391845703,"processing":0.003075838088989258,"date_start":"2024-08-29T10:34:19+03:00","date_finish":"2024-08-29T10:34:19+03:00","operating_reset_at":1724917459,"operating":0.0032}}"#;
pub const LIMITED: &str =
    r#"{"error":"QUERY_LIMIT_EXCEEDED","error_description":"Too many requests"}"#;

pub struct Bucket {
    pub x: f64,
    pub y: f64,
    level: f64,
    last: Instant,
}

impl Bucket {
    pub fn new(x: u32, y: f64) -> Self {
        Bucket {
            x: f64::from(x),
            y,
            level: 0.0,
            last: Instant::now(),
        }
    }
    fn admit(&mut self) -> bool {
        let now = Instant::now();
        self.level = (self.level - now.duration_since(self.last).as_secs_f64() * self.y).max(0.0);
        self.last = now;
        if self.level + 1.0 > self.x + 1e-6 {
            false
        } else {
            self.level += 1.0;
            true
        }
    }
}

#[derive(Default)]
pub struct Counters {
    pub served: AtomicU64,
    pub refused: AtomicU64,
}

pub async fn serve(bucket: Option<Bucket>) -> (SocketAddr, Arc<Counters>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let counters = Arc::new(Counters::default());
    let bucket = Arc::new(bucket.map(Mutex::new));
    let c = counters.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let (c, bucket) = (c.clone(), bucket.clone());
            tokio::spawn(async move {
                let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let (c, bucket) = (c.clone(), bucket.clone());
                    async move {
                        let _ = req.into_body().collect().await;
                        let ok = bucket
                            .as_ref()
                            .as_ref()
                            .map_or(true, |b| b.lock().expect("bucket").admit());
                        let (status, body) = if ok {
                            c.served.fetch_add(1, Ordering::Relaxed);
                            (200, BODY)
                        } else {
                            c.refused.fetch_add(1, Ordering::Relaxed);
                            (503, LIMITED)
                        };
                        let mut resp =
                            hyper::Response::new(Full::new(Bytes::from_static(body.as_bytes())));
                        *resp.status_mut() = hyper::StatusCode::from_u16(status).expect("status");
                        resp.headers_mut().insert(
                            "content-type",
                            hyper::header::HeaderValue::from_static("application/json"),
                        );
                        Ok::<_, std::convert::Infallible>(resp)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (addr, counters)
}

/// `--name value` from the command line, or the default.
pub fn arg<T: std::str::FromStr>(name: &str, default: T) -> T {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == &format!("--{name}"))
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The tokio runtime both benchmarks run on: two workers, like the machine's two cores.
pub fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// The `crm.item.get`-like method both sides call.
pub mod item {
    use b24_runtime::{Access, ApiVersion, Extra, Method};
    use serde::{Deserialize, Serialize};

    b24_runtime::method_error! {
        /// Errors of the benchmark method.
        pub enum Error {
            /// Not found
            NotFound = Code("NOT_FOUND"),
        }
    }

    #[derive(Clone, Debug, Serialize)]
    pub struct Request {
        #[serde(rename = "entityTypeId")]
        pub entity_type_id: i64,
        pub id: i64,
    }

    #[derive(Debug, Deserialize)]
    pub struct Item {
        pub id: i64,
        pub title: String,
        #[serde(rename = "stageId")]
        pub stage_id: String,
        pub opportunity: f64,
        #[serde(flatten)]
        pub extra: Extra,
    }

    #[derive(Debug, Deserialize)]
    pub struct Response {
        pub item: Item,
    }

    impl Method for Request {
        const NAME: &'static str = "crm.item.get";
        const VERSION: ApiVersion = ApiVersion::V2;
        const ACCESS: Access = Access::Read;
        type Response = Response;
        type Error = Error;
    }

    /// What a hand-written raw client decodes: the same `result` type in the envelope.
    #[derive(Debug, Deserialize)]
    pub struct RawEnvelope {
        pub result: Response,
        #[serde(default)]
        pub time: Option<serde_json::Value>,
    }
}
