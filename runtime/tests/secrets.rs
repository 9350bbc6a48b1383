//! No secret (webhook code, tokens, client secret, application token) in any `Debug`,
//! `Display`, error or log line, whatever happens to a call.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use b24_runtime::{Client, OAuth, RetryPolicy, Tokens};
use serde_json::json;
use support::methods::*;
use support::{err, ok, Reply, Server, CODE};

const ACCESS: &str = "acc-7f3e9b1c55d2";
const REFRESH: &str = "ref-2b8d4e6a91f0";
const CLIENT_SECRET: &str = "cs-0a1b2c3d4e5f6789";
const NEW_ACCESS: &str = "new-acc-c0ffee1234";
const NEW_REFRESH: &str = "new-ref-deadbeef99";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn assert_clean(what: &str, text: &str) {
    for secret in [
        CODE,
        ACCESS,
        REFRESH,
        CLIENT_SECRET,
        NEW_ACCESS,
        NEW_REFRESH,
    ] {
        assert!(!text.contains(secret), "{what} shows a secret: {text}");
    }
}

#[tokio::test]
async fn secrets_never_show_in_debug_display_errors_or_logs() {
    let log = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer({
            let log = log.clone();
            move || log.clone()
        })
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let calls = std::sync::atomic::AtomicUsize::new(0);
    let server = Server::start(move |r| {
        let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if r.path == "/oauth/token/" {
            if String::from_utf8_lossy(&r.body).contains(REFRESH) {
                return Reply::Json(
                    200,
                    json!({"access_token": NEW_ACCESS, "refresh_token": NEW_REFRESH}),
                );
            }
            return err(400, "invalid_grant", "Invalid grant");
        }
        if r.json()["auth"] == ACCESS {
            return err(
                401,
                "expired_token",
                "The access token provided has expired.",
            );
        }
        match (r.rest_method().as_str(), n % 4) {
            ("crm.activity.badge.get", 0) => err(503, "QUERY_LIMIT_EXCEEDED", "Too many requests"),
            ("crm.activity.badge.get", _) => {
                ok(json!({"code": "c", "title": "t", "value": "v", "type": "x"}))
            }
            ("crm.activity.badge.add", _) => Reply::Drop,
            ("crm.activity.badge.delete", _) => Reply::Text(500, "<html>oops</html>"),
            _ => Reply::Delay(Duration::from_millis(300), Box::new(ok(json!(true)))),
        }
    })
    .await;

    let retry = RetryPolicy::default()
        .backoff_base(Duration::from_millis(1))
        .limit_backoff_base(Duration::from_millis(1));
    let builder = Client::builder()
        .webhook(server.webhook())
        .retry(retry.clone())
        .timeout(Duration::from_millis(100));
    assert_clean("ClientBuilder Debug", &format!("{builder:?}"));
    let webhook = builder.build().expect("client");
    let oauth_cfg = OAuth::new(server.base(), ACCESS)
        .refresh_token(REFRESH)
        .client("app.1", CLIENT_SECRET)
        .token_endpoint(format!("{}/oauth/token/", server.base()));
    assert_clean("OAuth Debug", &format!("{oauth_cfg:?}"));
    let persisted: Arc<Mutex<Option<Tokens>>> = Arc::default();
    let oauth = Client::builder()
        .oauth(oauth_cfg.on_refresh({
            let persisted = persisted.clone();
            move |t| {
                *persisted.lock().expect("p") = Some(t);
                async { Ok(()) }
            }
        }))
        .retry(retry.clone())
        .build()
        .expect("client");

    let mut shown = vec![format!("{webhook:?}"), format!("{oauth:?}")];
    let add = BadgeAdd {
        code: "a".into(),
        title: "t".into(),
        value: "v".into(),
        r#type: "x".into(),
    };
    webhook
        .call(&BadgeGet { code: "c".into() })
        .await
        .expect("503 then ok");
    let errors = vec![
        webhook.call(&add).await.expect_err("dropped"),
        webhook
            .call(&BadgeDelete { code: "c".into() })
            .await
            .expect_err("html 500"),
    ];
    let timeout = webhook.call(&BadgeList {}).await.expect_err("timeout");
    shown.push(format!("{timeout} {timeout:?}"));
    for e in &errors {
        shown.push(format!("{e} {e:?}"));
    }
    oauth
        .call(&BadgeGet { code: "c".into() })
        .await
        .expect("refreshed");
    let tokens = persisted.lock().expect("p").clone().expect("persisted");
    assert_eq!(
        tokens.access_token.expose(),
        NEW_ACCESS,
        "the callback does get the real token"
    );
    shown.push(format!("{tokens:?}"));

    // A refresh that fails on the network: the token URL carries the client secret.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let unreachable = Client::builder()
        .oauth(
            OAuth::new(server.base(), ACCESS)
                .refresh_token(REFRESH)
                .client("app.1", CLIENT_SECRET)
                .token_endpoint(format!("http://127.0.0.1:{port}/oauth/token/")),
        )
        .retry(retry.clone())
        .build()
        .expect("client");
    let e = unreachable
        .call(&BadgeGet { code: "c".into() })
        .await
        .expect_err("refresh fails");
    shown.push(format!("{e} {e:?}"));
    // A webhook whose server is gone: the URL carries the code.
    let gone = Client::builder()
        .webhook(format!("http://127.0.0.1:{port}/rest/1/{CODE}/"))
        .retry(retry)
        .build()
        .expect("client");
    let e = gone
        .call(&BadgeGet { code: "c".into() })
        .await
        .expect_err("no server");
    shown.push(format!("{e} {e:?}"));
    // A bad webhook URL.
    let e = Client::builder()
        .webhook(format!("ftp://x/rest/1/{CODE}/"))
        .build()
        .expect_err("bad url");
    shown.push(format!("{e} {e:?}"));

    for s in &shown {
        assert_clean("output", s);
    }
    let logs = String::from_utf8_lossy(&log.0.lock().expect("log")).into_owned();
    assert!(logs.contains("b24.call"), "spans are logged: {logs}");
    assert!(
        logs.contains("crm.activity.badge.get"),
        "with the method name"
    );
    assert!(logs.contains("QUERY_LIMIT_EXCEEDED"));
    assert_clean("logs", &logs);
}
