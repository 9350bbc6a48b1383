//! Wire tests against a real HTTP server on 127.0.0.1: exact requests, decoding, errors,
//! faults, retries that never duplicate a write, limits.

mod support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use b24_runtime::value::Bool;
use b24_runtime::{CallOptions, Client, Error, MethodError, RateLimit, RetryPolicy};
use serde_json::json;
use support::methods::*;
use support::{err, ok, Reply, Server, CODE};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .backoff_base(ms(5))
        .backoff_max(ms(40))
        .limit_backoff_base(ms(5))
}

fn client(server: &Server) -> Client {
    Client::builder()
        .webhook(server.webhook())
        .retry(fast_retries())
        .build()
        .expect("client")
}

fn badge() -> serde_json::Value {
    json!({"code": "missedCall", "title": "Missed call", "value": "Call back", "type": "failure"})
}

#[tokio::test]
async fn add_get_list_delete_send_exact_requests_and_decode() {
    let server = Server::start(|r| match r.rest_method().as_str() {
        "crm.activity.badge.add" | "crm.activity.badge.delete" => ok(json!(true)),
        "crm.activity.badge.get" => ok(json!({"code": "missedCall", "title": "Missed call", "value": "Call back", "type": "failure", "createdAt": "2024-01-01"})),
        "crm.activity.badge.list" => ok(json!([badge(), badge()])),
        _ => err(404, "ERROR_METHOD_NOT_FOUND", "Method not found!"),
    })
    .await;
    let c = client(&server);
    let added = c
        .call(&BadgeAdd {
            code: "missedCall".into(),
            title: "Missed call".into(),
            value: "Call back".into(),
            r#type: "failure".into(),
        })
        .await
        .expect("add");
    assert!(added.get());
    let got = c
        .call(&BadgeGet {
            code: "missedCall".into(),
        })
        .await
        .expect("get");
    assert_eq!(got.title, "Missed call");
    assert_eq!(got.extra.get("createdAt"), Some(&json!("2024-01-01")));
    let list = c.call_envelope(&BadgeList {}).await.expect("list");
    assert_eq!(list.result.len(), 2);
    assert!(list.time.is_some());
    let deleted = c
        .call(&BadgeDelete {
            code: "missedCall".into(),
        })
        .await
        .expect("delete");
    assert!(deleted.get());

    let reqs = server.requests();
    assert_eq!(reqs.len(), 4);
    let paths: Vec<&str> = reqs.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            format!("/rest/1/{CODE}/crm.activity.badge.add.json"),
            format!("/rest/1/{CODE}/crm.activity.badge.get.json"),
            format!("/rest/1/{CODE}/crm.activity.badge.list.json"),
            format!("/rest/1/{CODE}/crm.activity.badge.delete.json"),
        ]
    );
    for r in &reqs {
        assert_eq!(r.method, "POST");
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.query, "");
    }
    assert_eq!(reqs[0].json(), badge());
    assert_eq!(reqs[1].json(), json!({"code": "missedCall"}));
    assert_eq!(reqs[2].json(), json!({}));
    assert_eq!(reqs[3].json(), json!({"code": "missedCall"}));
}

#[tokio::test]
async fn oauth_puts_the_token_in_the_body() {
    let server = Server::start(|_| ok(json!(badge()))).await;
    let c = Client::builder()
        .oauth(b24_runtime::OAuth::new(
            format!("{}/rest/", server.base()),
            "acc3ss",
        ))
        .build()
        .expect("client");
    c.call(&BadgeGet { code: "x".into() }).await.expect("get");
    let r = &server.requests()[0];
    assert_eq!(r.path, "/rest/crm.activity.badge.get.json");
    assert_eq!(r.json(), json!({"auth": "acc3ss", "code": "x"}));
}

#[tokio::test]
async fn documented_error_comes_back_typed() {
    let server = Server::start(|_| {
        err(
            400,
            "REQUIRED_ARG_MISSING",
            "Required fields are missing: code",
        )
    })
    .await;
    let e = client(&server)
        .call(&BadgeGet {
            code: String::new(),
        })
        .await
        .expect_err("error");
    let Error::Method(BadgeError::RequiredArgMissing(api)) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(api.status(), 400);
    assert_eq!(api.description(), "Required fields are missing: code");
    assert!(api.body().contains("REQUIRED_ARG_MISSING"));
    // A read is not retried after a 4xx.
    assert_eq!(server.requests().len(), 1);

    let server = Server::start(|_| err(403, "ACCESS_DENIED", "Access denied")).await;
    let e = client(&server)
        .call(&BadgeGet { code: "x".into() })
        .await
        .expect_err("error");
    assert!(
        matches!(e, Error::Method(BadgeError::AccessDenied(_))),
        "{e:?}"
    );
    let server = Server::start(|_| err(400, "SOMETHING_ELSE", "?")).await;
    let e = client(&server)
        .call(&BadgeGet { code: "x".into() })
        .await
        .expect_err("error");
    assert!(
        matches!(&e, Error::Method(BadgeError::Other(a)) if a.code() == "SOMETHING_ELSE"),
        "{e:?}"
    );
}

#[tokio::test]
async fn expired_token_and_auth_failures_are_runtime_errors() {
    let server = Server::start(|_| {
        err(
            401,
            "expired_token",
            "The access token provided has expired.",
        )
    })
    .await;
    let e = client(&server)
        .call(&BadgeGet { code: "x".into() })
        .await
        .expect_err("error");
    let Error::ExpiredToken(api) = &e else {
        panic!("{e:?}")
    };
    assert_eq!((api.status(), api.code()), (401, "expired_token"));
    assert_eq!(
        server.requests().len(),
        1,
        "a webhook cannot refresh: no retry"
    );

    let server = Server::start(|_| err(401, "NO_AUTH_FOUND", "Wrong authorization data")).await;
    let e = client(&server)
        .call(&BadgeGet { code: "x".into() })
        .await
        .expect_err("error");
    assert!(
        matches!(&e, Error::Auth(a) if a.code() == "NO_AUTH_FOUND"),
        "{e:?}"
    );
    let server = Server::start(|_| {
        err(
            401,
            "invalid_token",
            "The access token provided is invalid.",
        )
    })
    .await;
    let e = client(&server)
        .call(&BadgeGet { code: "x".into() })
        .await
        .expect_err("error");
    assert!(
        matches!(&e, Error::Auth(a) if a.code() == "invalid_token"),
        "{e:?}"
    );
}

#[tokio::test]
async fn query_limit_is_typed_once_retries_run_out() {
    let server = Server::start(|_| err(503, "QUERY_LIMIT_EXCEEDED", "Too many requests")).await;
    let c = Client::builder()
        .webhook(server.webhook())
        .retry(fast_retries().max_limit_retries(2))
        .build()
        .expect("client");
    let e = c
        .call(&BadgeAdd {
            code: "a".into(),
            title: "b".into(),
            value: "c".into(),
            r#type: "d".into(),
        })
        .await
        .expect_err("error");
    let Error::QueryLimitExceeded(api) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(api.status(), 503);
    assert_eq!(server.requests().len(), 3, "one call and two retries");
}

#[tokio::test]
async fn non_json_body_is_a_decode_error_keeping_the_body() {
    let server = Server::start(|_| Reply::Text(200, "<html>maintenance</html>")).await;
    let e = client(&server)
        .call(&BadgeAdd {
            code: "a".into(),
            title: "b".into(),
            value: "c".into(),
            r#type: "d".into(),
        })
        .await
        .expect_err("error");
    let Error::Decode(d) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(d.status, 200);
    assert_eq!(d.body, "<html>maintenance</html>");
    assert_eq!(e.status(), Some(200));

    // A 502 HTML page from a proxy: a read retries, then reports it.
    let server = Server::start(|_| Reply::Text(502, "<html>Bad gateway</html>")).await;
    let e = client(&server)
        .call(&BadgeGet { code: "x".into() })
        .await
        .expect_err("error");
    assert!(
        matches!(&e, Error::Decode(d) if d.status == 502 && d.body.contains("Bad gateway")),
        "{e:?}"
    );
    assert_eq!(
        server.requests().len(),
        4,
        "default policy: 4 attempts for a read"
    );
}

fn add_req(code: &str) -> BadgeAdd {
    BadgeAdd {
        code: code.into(),
        title: "t".into(),
        value: "v".into(),
        r#type: "success".into(),
    }
}

#[tokio::test]
async fn a_write_is_never_resent_after_an_uncertain_failure() {
    // The server runs the method, then the connection drops.
    let server = Server::start(|_| Reply::Drop).await;
    let e = client(&server)
        .call(&add_req("a"))
        .await
        .expect_err("error");
    assert!(matches!(e, Error::Transport(_)), "{e:?}");
    assert_eq!(server.requests().len(), 1);

    // 500 after running.
    let server =
        Server::start(|_| err(500, "INTERNAL_SERVER_ERROR", "Internal server error")).await;
    let e = client(&server)
        .call(&add_req("a"))
        .await
        .expect_err("error");
    assert!(
        matches!(&e, Error::Method(BadgeError::Other(a)) if a.status() == 500),
        "{e:?}"
    );
    assert_eq!(server.requests().len(), 1);

    // Too slow.
    let server = Server::start(|_| Reply::Delay(ms(600), Box::new(ok(json!(true))))).await;
    let c = Client::builder()
        .webhook(server.webhook())
        .retry(fast_retries())
        .timeout(ms(150))
        .build()
        .expect("client");
    let e = c.call(&add_req("a")).await.expect_err("error");
    assert!(matches!(e, Error::Timeout), "{e:?}");
    assert_eq!(server.requests().len(), 1);
}

/// Answers from a script, one per request; the last repeats.
fn script(replies: Vec<fn() -> Reply>) -> impl Fn(&support::Recorded) -> Reply + Send + Sync {
    let n = AtomicUsize::new(0);
    move |_| {
        let i = n.fetch_add(1, Ordering::SeqCst).min(replies.len() - 1);
        replies[i]()
    }
}

#[tokio::test]
async fn a_read_is_retried_after_uncertain_failures() {
    let server = Server::start(script(vec![
        || Reply::Drop,
        || err(500, "INTERNAL_SERVER_ERROR", "x"),
        || Reply::Text(502, "bad gateway"),
        || ok(badge()),
    ]))
    .await;
    let got = client(&server)
        .call(&BadgeGet { code: "x".into() })
        .await
        .expect("survives");
    assert_eq!(got.code, "missedCall");
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn a_write_is_resent_after_a_503_and_runs_once() {
    let ran = Arc::new(AtomicUsize::new(0));
    let calls = AtomicUsize::new(0);
    let server = {
        let ran = ran.clone();
        Server::start(move |_| {
            if calls.fetch_add(1, Ordering::SeqCst) < 2 {
                err(503, "QUERY_LIMIT_EXCEEDED", "Too many requests")
            } else {
                ran.fetch_add(1, Ordering::SeqCst);
                ok(json!(true))
            }
        })
        .await
    };
    assert!(client(&server)
        .call(&add_req("a"))
        .await
        .expect("survives")
        .get());
    assert_eq!(server.requests().len(), 3);
    assert_eq!(ran.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn callers_may_opt_in_to_resending_uncertain_writes() {
    let server = Server::start(script(vec![|| Reply::Drop, || ok(json!(true))])).await;
    let c = client(&server);
    let env = c
        .call_with(
            &add_req("a"),
            &CallOptions::new().retry_uncertain_writes(true),
        )
        .await
        .expect("retried");
    assert!(env.result.get());
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn rest_v3_uses_the_api_path_and_an_idempotency_key_that_makes_retries_safe() {
    // The server runs each key once and replays the stored answer (as REST 3.0 does); the
    // first answer is lost on the way back.
    let seen: Arc<Mutex<HashSet<String>>> = Arc::default();
    let runs = Arc::new(AtomicUsize::new(0));
    let server = {
        let (seen, runs) = (seen.clone(), runs.clone());
        Server::start(move |r| {
            let key = r.header("idempotency-key").unwrap_or("").to_owned();
            let first = seen.lock().expect("seen").insert(key);
            if first {
                runs.fetch_add(1, Ordering::SeqCst);
                Reply::Drop
            } else {
                Reply::Json(
                    200,
                    json!({"result": {"item": {"id": 42}}, "time": {"operating": 0.1}}),
                )
            }
        })
        .await
    };
    let c = client(&server);
    let out = c
        .call(&TaskAdd {
            fields: json!({"title": "Prepare a report"}),
        })
        .await
        .expect("survives");
    assert_eq!(out, json!({"item": {"id": 42}}));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].path, format!("/rest/api/1/{CODE}/tasks.task.add"));
    let k0 = reqs[0].header("idempotency-key").expect("key");
    assert!(!k0.is_empty() && k0.len() <= 255 && k0.bytes().all(|b| b.is_ascii_graphic()));
    assert_eq!(
        reqs[1].header("idempotency-key"),
        Some(k0),
        "the retry reuses the key"
    );

    // A caller's own key is sent as is; REST 3.0 errors decode.
    let server = Server::start(|_| {
        Reply::Json(400, json!({"error": {"code": "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION", "message": "Error validating request object", "validation": [{"field": "title"}]}}))
    })
    .await;
    let e = client(&server)
        .call_with(
            &TaskAdd { fields: json!({}) },
            &CallOptions::new().idempotency_key("my-key-1"),
        )
        .await
        .expect_err("error");
    let api = e.api_error().expect("api error");
    assert_eq!(
        api.code(),
        "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION"
    );
    assert_eq!(api.description(), "Error validating request object");
    assert!(api.body().contains("validation"));
    assert_eq!(
        server.requests()[0].header("idempotency-key"),
        Some("my-key-1")
    );
    // Reads and classic writes carry no key.
    let server = Server::start(|_| ok(json!(true))).await;
    client(&server).call(&add_req("a")).await.expect("ok");
    assert_eq!(server.requests()[0].header("idempotency-key"), None);
}

#[tokio::test]
async fn a_429_waits_for_the_reset_and_pauses_only_that_method() {
    let hits = AtomicUsize::new(0);
    let server = Server::start(move |r| {
        if r.rest_method() == "crm.activity.badge.add" && hits.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::Json(
                429,
                json!({"error": "OPERATION_TIME_LIMIT", "error_description": "Method is blocked due to operation time limit.",
                       "time": {"operating": 481.0, "operating_reset_at": support::now() + 1.0}}),
            )
        } else {
            ok(json!(true))
        }
    })
    .await;
    let c = client(&server);
    let slow = tokio::spawn({
        let c = c.clone();
        async move { c.call(&add_req("a")).await }
    });
    while server.requests().is_empty() {
        tokio::time::sleep(ms(5)).await;
    }
    // Another method is not paused.
    c.call(&BadgeDelete { code: "x".into() })
        .await
        .expect("other method");
    assert!(slow
        .await
        .expect("join")
        .expect("waited and succeeded")
        .get());
    let reqs = server.requests();
    let order: Vec<String> = reqs.iter().map(|r| r.rest_method()).collect();
    assert_eq!(
        order,
        [
            "crm.activity.badge.add",
            "crm.activity.badge.delete",
            "crm.activity.badge.add"
        ]
    );
    assert!(
        reqs[2].at >= reqs[0].at + 0.9,
        "the retry waited for operating_reset_at"
    );
}

#[tokio::test]
async fn a_spent_time_budget_pauses_the_method_before_the_server_refuses() {
    let reset = Arc::new(Mutex::new(0.0f64));
    let server = {
        let reset = reset.clone();
        Server::start(move |r| {
            if r.rest_method() == "crm.activity.badge.get" {
                let at = support::now() + 0.8;
                *reset.lock().expect("reset") = at;
                Reply::Json(200, json!({"result": badge(), "time": {"operating": 500.0, "operating_reset_at": at}}))
            } else {
                ok(json!(true))
            }
        })
        .await
    };
    let c = client(&server);
    c.call(&BadgeGet { code: "x".into() }).await.expect("first");
    assert_eq!(c.operating("crm.activity.badge.get"), Some(500.0));
    c.call(&BadgeDelete { code: "x".into() })
        .await
        .expect("other method runs at once");
    let reset_at = *reset.lock().expect("reset");
    c.call(&BadgeGet { code: "x".into() })
        .await
        .expect("second");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert!(reqs[1].at < reset_at, "the other method was not paused");
    assert!(
        reqs[2].at >= reset_at - 0.01,
        "the spent method waited for its reset"
    );

    // When the wait is longer than allowed, the call fails at once, without a request.
    let c2 = Client::builder()
        .webhook(server.webhook())
        .retry(fast_retries().max_operating_wait(ms(10)))
        .build()
        .expect("client");
    c2.call(&BadgeGet { code: "x".into() })
        .await
        .expect("first");
    let e = c2
        .call(&BadgeGet { code: "x".into() })
        .await
        .expect_err("refused");
    assert!(matches!(e, Error::OperationTimeLimit(_)), "{e:?}");
    assert_eq!(server.requests().len(), 4);
}

/// The server's leaky bucket as the docs describe it: +1 per request, drained `y` per
/// second; a request that would take it above `x` is refused with 503.
struct Bucket {
    x: f64,
    y: f64,
    level: f64,
    last: std::time::Instant,
}

impl Bucket {
    fn new(x: u32, y: f64) -> Self {
        Bucket {
            x: f64::from(x),
            y,
            level: 0.0,
            last: std::time::Instant::now(),
        }
    }
    fn admit(&mut self) -> bool {
        let now = std::time::Instant::now();
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

async fn bucket_server(x: u32, y: f64) -> (Server, Arc<AtomicUsize>, Arc<Mutex<Vec<String>>>) {
    let refused = Arc::new(AtomicUsize::new(0));
    let ran: Arc<Mutex<Vec<String>>> = Arc::default();
    let bucket = Mutex::new(Bucket::new(x, y));
    let server = {
        let (refused, ran) = (refused.clone(), ran.clone());
        Server::start(move |r| {
            if bucket.lock().expect("bucket").admit() {
                ran.lock()
                    .expect("ran")
                    .push(r.json()["code"].as_str().unwrap_or("").to_owned());
                ok(json!(true))
            } else {
                refused.fetch_add(1, Ordering::SeqCst);
                err(503, "QUERY_LIMIT_EXCEEDED", "Too many requests")
            }
        })
        .await
    };
    (server, refused, ran)
}

async fn flood(c: &Client, n: usize, workers: usize) -> Vec<Result<Bool, Error<BadgeError>>> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let (c, next) = (c.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= n {
                    return out;
                }
                out.push(c.call(&add_req(&format!("w{i}"))).await);
            }
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("join"));
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standard_bucket_is_never_overrun_in_steady_state() {
    // The real numbers, 50 then 2 per second: 56 requests take ~3.5 s.
    let (server, refused, ran) = bucket_server(50, 2.0).await;
    let c = Client::builder()
        .webhook(server.webhook())
        .rate_limit(RateLimit::STANDARD)
        .retry(fast_retries())
        .build()
        .expect("client");
    let results = flood(&c, 56, 8).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(
        refused.load(Ordering::SeqCst),
        0,
        "the server never refused a request"
    );
    assert_eq!(ran.lock().expect("ran").len(), 56);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_faster_custom_bucket_is_never_overrun_either() {
    let (server, refused, ran) = bucket_server(20, 100.0).await;
    let c = Client::builder()
        .webhook(server.webhook())
        .rate_limit(RateLimit::custom(20, 100.0).headroom(5))
        .retry(fast_retries())
        .build()
        .expect("client");
    let results = flood(&c, 150, 16).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(refused.load(Ordering::SeqCst), 0);
    assert_eq!(ran.lock().expect("ran").len(), 150);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_client_bucket_503s_are_backed_off_and_nothing_is_lost_or_doubled() {
    let (server, refused, ran) = bucket_server(10, 100.0).await;
    let c = Client::builder()
        .webhook(server.webhook())
        .no_rate_limit()
        .retry(fast_retries().max_limit_retries(50))
        .build()
        .expect("client");
    let results = flood(&c, 80, 16).await;
    assert!(results.iter().all(Result::is_ok), "every write survived");
    assert!(
        refused.load(Ordering::SeqCst) > 0,
        "the server did refuse some"
    );
    let ran = ran.lock().expect("ran");
    let unique: HashSet<&String> = ran.iter().collect();
    assert_eq!(ran.len(), 80, "each write ran once");
    assert_eq!(unique.len(), 80);
}

#[tokio::test]
async fn a_connection_that_is_never_made_is_retried_even_for_a_write() {
    // Nothing listens on this port: the connection fails, which proves nothing was sent.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let c = Client::builder()
        .webhook(format!("http://127.0.0.1:{port}/rest/1/{CODE}/"))
        .retry(fast_retries().max_attempts(3))
        .build()
        .expect("client");
    let e = c.call(&add_req("a")).await.expect_err("no server");
    let Error::Transport(t) = &e else {
        panic!("{e:?}")
    };
    assert!(!t.maybe_sent());
}

#[tokio::test]
async fn method_errors_expose_the_api_error() {
    let server = Server::start(|_| err(400, "REQUIRED_ARG_MISSING", "x")).await;
    let e = client(&server)
        .call(&BadgeGet {
            code: String::new(),
        })
        .await
        .expect_err("error");
    if let Error::Method(m) = &e {
        assert_eq!(m.api_error().code(), "REQUIRED_ARG_MISSING");
    } else {
        panic!("{e:?}")
    }
}
