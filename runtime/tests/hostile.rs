//! The runtime against hostile or broken servers on loopback: redirects (nothing reaches another
//! host, no write silently lost), secrets in token URLs, servers echoing secrets back, absurd
//! times, endless bodies. Each test asserts what was sent where, and that nothing was lost.

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use b24_runtime::batch::Batch;
use b24_runtime::query::parse_query;
use b24_runtime::{ApiError, Client, Error, MethodError, OAuth, RefreshError, RetryPolicy};
use serde_json::json;
use support::methods::*;
use support::{err, now, ok, redirect, Recorded, Reply, Server, CODE};

const ACCESS: &str = "acc-9d2f61c0b7e4";
const REFRESH: &str = "ref-51a0c3e8f7d2";
const CLIENT_SECRET: &str = "cs-7e1d0b9a2c4f";

fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .backoff_base(Duration::from_millis(2))
        .backoff_max(Duration::from_millis(10))
        .limit_backoff_base(Duration::from_millis(2))
}

fn webhook(server: &Server) -> b24_runtime::ClientBuilder {
    Client::builder()
        .webhook(server.webhook())
        .retry(fast_retries())
}

fn add() -> BadgeAdd {
    BadgeAdd {
        code: "missedCall".into(),
        title: "Missed call".into(),
        value: "Call back".into(),
        r#type: "failure".into(),
    }
}

fn filtered() -> RecordList {
    RecordList {
        filter: Some(json!({"STAGE_ID": "WON"})),
    }
}

/// The error without its method's type, to compare errors of several methods.
fn untyped<E: MethodError>(e: Error<E>) -> Error<ApiError> {
    e.map_method(|m| m.api_error().clone())
}

fn assert_clean(text: &str) {
    for secret in [CODE, ACCESS, REFRESH, CLIENT_SECRET] {
        assert!(!text.contains(secret), "a secret shows: {text}");
    }
}

fn request_text(r: &Recorded) -> String {
    format!(
        "{} {}?{} {:?} {}",
        r.method,
        r.path,
        r.query,
        r.headers,
        String::from_utf8_lossy(&r.body)
    )
}

// 1. Redirects.

#[tokio::test]
async fn a_redirected_call_is_an_error_and_the_other_host_gets_nothing() {
    let elsewhere = Server::start(|_| ok(json!(true))).await;
    let moved = format!(
        "{}/rest/1/{CODE}/crm.activity.badge.add.json",
        elsewhere.base()
    );
    for status in [301, 302, 303, 307, 308] {
        let target = moved.clone();
        let portal = Server::start(move |_| redirect(status, &target)).await;
        for follow in [false, true] {
            let c = webhook(&portal)
                .follow_read_redirects(follow)
                .build()
                .expect("client");
            let write = untyped(c.call(&add()).await.expect_err("no success"));
            let read = untyped(
                c.call(&filtered())
                    .await
                    .expect_err("nor an unfiltered list"),
            );
            for e in [&write, &read] {
                let Error::Redirect {
                    status: s,
                    location: Some(location),
                } = e
                else {
                    panic!("{status}: {e:?}")
                };
                assert_eq!(*s, status);
                assert!(location.contains(&elsewhere.addr.to_string()), "{location}");
                assert_clean(&format!("{e} {e:?}"));
            }
        }
        assert_eq!(
            portal.requests().len(),
            4,
            "each call sent once, not retried"
        );
    }
    assert!(
        elsewhere.requests().is_empty(),
        "nothing reached the other host"
    );
}

#[tokio::test]
async fn with_the_opt_in_a_read_follows_a_same_site_redirect_resent_whole() {
    let portal = Server::start(|r| {
        let hops = r.path.matches("/v2").count();
        match (r.rest_method().as_str(), hops) {
            // Relative, then absolute on the same site: two hops.
            (_, 0) => redirect(301, &format!("/v2{}", r.path)),
            ("test.record.list", 1) => redirect(
                307,
                &format!("http://{}/v2{}", r.header("host").unwrap_or(""), r.path),
            ),
            ("test.record.list", _) => ok(json!([{"ID": "7", "STAGE_ID": "WON"}])),
            _ => ok(json!(true)),
        }
    })
    .await;
    let c = webhook(&portal)
        .follow_read_redirects(true)
        .build()
        .expect("client");
    let list = c.call(&filtered()).await.expect("followed");
    assert_eq!(list.len(), 1);
    let reqs = portal.requests();
    assert_eq!(reqs.len(), 3);
    for r in &reqs {
        assert_eq!(r.method, "POST", "never turned into a GET");
        assert_eq!(
            r.json()["filter"]["STAGE_ID"],
            "WON",
            "the body is sent again"
        );
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.header("referer"), None);
    }
    assert_eq!(
        reqs[2].path,
        format!("/v2/v2/rest/1/{CODE}/test.record.list.json")
    );

    // A write is never followed, even on the same site.
    let e = c.call(&add()).await.expect_err("not followed");
    assert!(matches!(e, Error::Redirect { status: 301, .. }), "{e:?}");
    assert_eq!(portal.count("crm.activity.badge.add"), 1);
}

#[tokio::test]
async fn a_redirect_loop_on_the_same_site_ends_as_an_error() {
    let portal = Server::start(|r| redirect(302, &r.path)).await;
    let c = webhook(&portal)
        .follow_read_redirects(true)
        .build()
        .expect("client");
    let e = c.call(&filtered()).await.expect_err("loop");
    assert!(matches!(e, Error::Redirect { status: 302, .. }), "{e:?}");
    assert_eq!(portal.requests().len(), 6, "the call and five hops");
}

#[tokio::test]
async fn an_oauth_call_or_token_request_redirected_elsewhere_sends_nothing_there() {
    let elsewhere = Server::start(|_| ok(json!(true))).await;
    let target = format!("{}/steal", elsewhere.base());
    let portal = Server::start(move |r| {
        if r.path == "/oauth/token/" {
            return redirect(307, &target);
        }
        if r.json()["auth"] == ACCESS && r.rest_method() == "crm.activity.badge.get" {
            return redirect(308, &target);
        }
        err(
            401,
            "expired_token",
            "The access token provided has expired.",
        )
    })
    .await;
    let c = Client::builder()
        .oauth(
            OAuth::new(portal.base(), ACCESS)
                .refresh_token(REFRESH)
                .client("app.1", CLIENT_SECRET)
                .token_endpoint(format!("{}/oauth/token/", portal.base())),
        )
        .follow_read_redirects(true)
        .retry(fast_retries())
        .build()
        .expect("client");
    let e = c
        .call(&BadgeGet { code: "c".into() })
        .await
        .expect_err("redirected");
    assert!(matches!(e, Error::Redirect { status: 308, .. }), "{e:?}");
    let e = c.call(&add()).await.expect_err("refresh redirected");
    assert!(
        matches!(
            e,
            Error::Refresh(RefreshError::Redirect { status: 307, .. })
        ),
        "{e:?}"
    );
    assert_clean(&format!("{e} {e:?}"));
    assert!(
        elsewhere.requests().is_empty(),
        "no token reached the other host"
    );
    assert_eq!(c.refresh_count(), 0);
}

// 2. Secrets in URLs.

fn token_server(answer: fn(&Recorded) -> bool) -> impl Fn(&Recorded) -> Reply + Send + Sync {
    move |r: &Recorded| {
        if r.path == "/oauth/token/" {
            return if answer(r) {
                Reply::Json(
                    200,
                    json!({"access_token": "new-acc", "refresh_token": "new-ref"}),
                )
            } else {
                err(400, "invalid_request", "Unsupported request")
            };
        }
        if r.json()["auth"] == "new-acc" {
            ok(json!(true))
        } else {
            err(
                401,
                "expired_token",
                "The access token provided has expired.",
            )
        }
    }
}

fn oauth(server: &Server) -> OAuth {
    OAuth::new(server.base(), ACCESS)
        .refresh_token(REFRESH)
        .client("app.1", CLIENT_SECRET)
        .token_endpoint(format!("{}/oauth/token/", server.base()))
}

fn token_request(server: &Server) -> Recorded {
    let reqs: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/oauth/token/")
        .collect();
    assert_eq!(reqs.len(), 1);
    reqs[0].clone()
}

#[tokio::test]
async fn the_refresh_sends_its_secrets_in_a_post_form_body_never_in_the_url() {
    let server = Server::start(token_server(|r| r.method == "POST")).await;
    let c = Client::builder()
        .oauth(oauth(&server))
        .build()
        .expect("client");
    c.call(&add()).await.expect("refreshed, then run");
    let r = token_request(&server);
    assert_eq!(r.method, "POST");
    assert_eq!(r.query, "");
    assert_clean(&format!("{} {:?}", r.path, r.headers));
    assert_eq!(
        r.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let form = parse_query(&String::from_utf8_lossy(&r.body));
    assert_eq!(
        form,
        json!({"grant_type": "refresh_token", "client_id": "app.1", "client_secret": CLIENT_SECRET, "refresh_token": REFRESH})
    );
    assert_eq!(
        server.count("crm.activity.badge.add"),
        2,
        "the expired try and the one after"
    );
}

#[tokio::test]
async fn the_get_fallback_is_opt_in() {
    let server = Server::start(token_server(|r| r.method == "GET")).await;
    let c = Client::builder()
        .oauth(oauth(&server).refresh_by_get(true))
        .build()
        .expect("client");
    c.call(&add()).await.expect("refreshed by GET");
    let r = token_request(&server);
    assert!(r.body.is_empty());
    assert_eq!(parse_query(&r.query)["client_secret"], CLIENT_SECRET);
}

// 3. Secrets echoed back.

#[tokio::test]
async fn what_a_server_echoes_back_shows_no_secret() {
    let portal = Server::start(|r| {
        let echo = request_text(r);
        match r.rest_method().as_str() {
            "crm.activity.badge.add" => err(400, &format!("E_{}", r.path), &echo),
            "tasks.task.add" => Reply::Json(400, json!({"error": {"code": "X", "message": echo}})),
            "crm.activity.badge.get" => Reply::Raw(502, vec![], echo.into_bytes()),
            "crm.activity.badge.list" => Reply::Json(200, json!({"result": {"echo": echo}})),
            "batch" => ok(json!({
                "result": [],
                "result_error": {"c0": {"error": "ECHO", "error_description": echo}},
            })),
            _ => redirect(302, &format!("{}?from={}", r.path, r.path)),
        }
    })
    .await;
    let oauth_portal = Server::start(|r| {
        if r.path == "/oauth/token/" {
            // A rejection that echoes the request, and carries a token it should not.
            return Reply::Json(
                400,
                json!({"error": "invalid_grant", "error_description": request_text(r), "access_token": "leaked-fresh-token"}),
            );
        }
        if r.json()["auth"] == ACCESS && r.rest_method() != "crm.activity.badge.add" {
            return err(400, "ECHO", &request_text(r));
        }
        err(401, "expired_token", &request_text(r))
    })
    .await;
    let c = webhook(&portal).build().expect("client");
    let o = Client::builder()
        .oauth(oauth(&oauth_portal))
        .retry(fast_retries())
        .build()
        .expect("client");
    let mut batch = Batch::new();
    let cmd = batch.add(&add()).expect("command");
    let results = c.batch(&batch).await.expect("batch runs");
    let errors = [
        untyped(c.call(&add()).await.expect_err("echoed")),
        untyped(
            c.call(&TaskAdd { fields: json!({}) })
                .await
                .expect_err("echoed"),
        ),
        untyped(
            c.call(&BadgeGet { code: "c".into() })
                .await
                .expect_err("echoed"),
        ),
        untyped(c.call(&BadgeList {}).await.expect_err("echoed")),
        untyped(
            c.call(&BadgeDelete { code: "c".into() })
                .await
                .expect_err("redirect"),
        ),
        untyped(results.get(&cmd).expect_err("echoed")),
        untyped(
            o.call(&BadgeGet { code: "c".into() })
                .await
                .expect_err("echoed"),
        ),
        untyped(o.call(&add()).await.expect_err("refresh echoed")),
    ];
    for e in &errors {
        let shown = format!("{e} {e:?}");
        assert_clean(&shown);
        assert!(
            shown.contains("[redacted]"),
            "the echo is there, scrubbed: {shown}"
        );
        if let Some(api) = e.api_error() {
            assert_clean(api.body());
            assert_clean(api.description());
        }
    }
    assert_clean(&format!("{results:?}"));
    let Error::Refresh(RefreshError::Rejected(api)) = &errors[7] else {
        panic!("{:?}", errors[7])
    };
    assert_eq!(api.code(), "invalid_grant");
    assert!(!api.body().contains("leaked-fresh-token"), "{}", api.body());
}

// 4. Absurd times.

#[tokio::test]
async fn absurd_times_from_the_portal_neither_panic_nor_stall_later_calls() {
    for reset in [1e300, -1e300, f64::MAX, 1e19, now() + 1e12, 0.0] {
        let portal = Server::start(move |r| {
            let time = json!({"operating": 1e300, "operating_reset_at": reset});
            match r.rest_method().as_str() {
                "crm.activity.badge.get" => Reply::Json(
                    429,
                    json!({"error": "OPERATION_TIME_LIMIT", "error_description": "Method is blocked", "time": time}),
                ),
                "batch" => ok(json!({"result": {"c0": true}, "result_time": {"c0": time}})),
                _ => Reply::Json(200, json!({"result": true, "time": time})),
            }
        })
        .await;
        let c = webhook(&portal)
            .retry(fast_retries().max_operating_wait(Duration::from_secs(1)))
            .build()
            .expect("client");
        let mut batch = Batch::new();
        batch
            .add(&BadgeDelete { code: "b".into() })
            .expect("command");
        c.batch(&batch).await.expect("batch ran");
        c.call(&add()).await.expect("ran once");
        let started = std::time::Instant::now();
        for _ in 0..2 {
            for r in [
                c.call(&add()).await.map(|_| ()),
                c.call(&BadgeDelete { code: "b".into() }).await.map(|_| ()),
                c.call(&BadgeGet { code: "c".into() }).await.map(|_| ()),
            ] {
                match r {
                    Ok(()) => {}
                    Err(Error::OperationTimeLimit(a)) => {
                        // A client-side pause says how long: at most the 10-minute window.
                        let secs = a
                            .description()
                            .split(" s more")
                            .next()
                            .and_then(|s| s.rsplit(' ').next())
                            .and_then(|n| n.parse::<f64>().ok());
                        assert!(secs.is_none_or(|s| s <= 600.0), "{reset}: {a}");
                    }
                    Err(e) => panic!("{reset}: {e:?}"),
                }
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{reset}: no stall"
        );
    }
}

// 5. Unbounded bodies.

fn endless(status: u16, len: u64, declared: bool, sent: &Arc<AtomicU64>) -> Reply {
    Reply::Stream {
        status,
        len,
        declared,
        sent: sent.clone(),
    }
}

#[tokio::test]
async fn a_body_over_the_cap_is_a_typed_error_and_is_read_no_further() {
    const LEN: u64 = 128 << 20;
    let sent = Arc::new(AtomicU64::new(0));
    let server = {
        let sent = sent.clone();
        Server::start(move |r| match r.rest_method().as_str() {
            "crm.activity.badge.list" => endless(200, LEN, false, &sent),
            "crm.activity.badge.get" => endless(200, LEN, true, &sent),
            _ => ok(json!(true)),
        })
        .await
    };
    let c = webhook(&server)
        .max_response_bytes(1 << 20)
        .build()
        .expect("client");
    for (declared, e) in [
        (false, c.call(&BadgeList {}).await.expect_err("too large")),
        (
            true,
            c.call(&BadgeGet { code: "c".into() })
                .await
                .expect_err("too large"),
        ),
    ] {
        assert!(
            matches!(e, Error::BodyTooLarge { limit: 0x10_0000 }),
            "{e:?}"
        );
        let taken = sent.swap(0, Ordering::Relaxed);
        // What the sockets buffer, not the body: the reading stopped.
        assert!(taken < 32 << 20, "declared {declared}: {taken} bytes taken");
    }
    assert_eq!(server.count("crm.activity.badge.list"), 1, "not retried");
    assert!(c.call(&add()).await.expect("small bodies still pass").get());
}

#[tokio::test]
async fn the_default_cap_is_64_mib_and_applies_to_token_answers() {
    let sent = Arc::new(AtomicU64::new(0));
    let server = {
        let sent = sent.clone();
        Server::start(move |r| match r.path.as_str() {
            "/oauth/token/" => endless(200, 1 << 30, false, &sent),
            _ if r.rest_method() == "crm.activity.badge.list" => {
                endless(200, (64 << 20) + 1, true, &sent)
            }
            _ => err(
                401,
                "expired_token",
                "The access token provided has expired.",
            ),
        })
        .await
    };
    let c = Client::builder()
        .oauth(oauth(&server))
        .build()
        .expect("client");
    let e = c.call(&BadgeList {}).await.expect_err("over 64 MiB");
    assert!(
        matches!(e, Error::BodyTooLarge { limit } if limit == 64 << 20),
        "{e:?}"
    );
    let e = c.call(&add()).await.expect_err("token answer too large");
    assert!(
        matches!(e, Error::Refresh(RefreshError::BodyTooLarge { limit }) if limit == 64 << 20),
        "{e:?}"
    );
    assert!(sent.load(Ordering::Relaxed) < 160 << 20);
}

/// Peak memory of reading a 1 GiB answer (run alone: `cargo test -p b24-runtime --release
/// --test hostile -- --ignored --nocapture`); `VmHWM` is the process's peak resident size.
#[tokio::test]
#[ignore = "a measurement, run alone"]
async fn measure_peak_memory_of_a_1_gib_answer() {
    let sent = Arc::new(AtomicU64::new(0));
    let server = {
        let sent = sent.clone();
        Server::start(move |_| endless(200, 1 << 30, false, &sent)).await
    };
    let c = webhook(&server)
        .timeout(Duration::from_secs(600))
        .retry(RetryPolicy::none())
        .build()
        .expect("client");
    let started = std::time::Instant::now();
    let e = c.call(&BadgeList {}).await.expect_err("not a list");
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .unwrap_or("");
    println!(
        "1 GiB answer: {e} after {:?}, {} bytes sent; {peak}",
        started.elapsed(),
        sent.load(Ordering::Relaxed)
    );
}
