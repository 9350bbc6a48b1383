//! OAuth: automatic, single-flight refresh on `expired_token`, persisted through a callback.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use b24_runtime::query::parse_query;
use b24_runtime::{Client, Error, OAuth, RefreshError, Tokens};
use serde_json::json;
use support::methods::*;
use support::{err, ok, Reply, Server};

struct Portal {
    access: String,
    refresh: String,
    refreshes: usize,
}

const CLIENT_ID: &str = "app.1234";
const CLIENT_SECRET: &str = "cl1ent-s3cret-value";

/// A portal and its token server on one address.
/// The portal knows none of the client's initial access tokens: every first call expires.
async fn portal(initial_refresh: &str) -> (Server, Arc<Mutex<Portal>>) {
    let state = Arc::new(Mutex::new(Portal {
        access: "fresh-but-unknown".into(),
        refresh: initial_refresh.into(),
        refreshes: 0,
    }));
    let server = {
        let state = state.clone();
        Server::start(move |r| {
            let mut st = state.lock().expect("state");
            if r.path == "/oauth/token/" {
                // The secrets come in a POST form body, never in the URL.
                let q = parse_query(&String::from_utf8_lossy(&r.body));
                let good = r.method == "POST"
                    && r.query.is_empty()
                    && r.header("content-type") == Some("application/x-www-form-urlencoded")
                    && q["grant_type"] == "refresh_token"
                    && q["client_id"] == CLIENT_ID
                    && q["client_secret"] == CLIENT_SECRET
                    && q["refresh_token"] == st.refresh.as_str();
                if !good {
                    return err(400, "invalid_grant", "Invalid grant");
                }
                st.refreshes += 1;
                st.access = format!("access-{}", st.refreshes);
                st.refresh = format!("refresh-{}", st.refreshes);
                let body = json!({"access_token": st.access, "refresh_token": st.refresh, "expires": 1780319382, "expires_in": 3600, "client_endpoint": "x", "domain": "oauth.bitrix.info"});
                return Reply::Delay(Duration::from_millis(100), Box::new(Reply::Json(200, body)));
            }
            if r.json()["auth"] == st.access.as_str() {
                ok(json!(true))
            } else {
                err(401, "expired_token", "The access token provided has expired.")
            }
        })
        .await
    };
    (server, state)
}

fn oauth(server: &Server, access: &str, refresh: &str) -> OAuth {
    OAuth::new(server.base(), access)
        .refresh_token(refresh)
        .client(CLIENT_ID, CLIENT_SECRET)
        .token_endpoint(format!("{}/oauth/token/", server.base()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_expired_calls_share_one_refresh() {
    let (server, state) = portal("refresh-0").await;
    let persisted: Arc<Mutex<Vec<Tokens>>> = Arc::default();
    let c = Client::builder()
        .oauth(oauth(&server, "expired-1", "refresh-0").on_refresh({
            let persisted = persisted.clone();
            move |t| {
                persisted.lock().expect("persisted").push(t);
                async { Ok(()) }
            }
        }))
        .build()
        .expect("client");
    let mut tasks = Vec::new();
    for i in 0..20 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            c.call(&BadgeDelete {
                code: format!("b{i}"),
            })
            .await
        }));
    }
    for t in tasks {
        assert!(t.await.expect("join").expect("call survives expiry").get());
    }
    assert_eq!(
        state.lock().expect("state").refreshes,
        1,
        "exactly one refresh"
    );
    assert_eq!(c.refresh_count(), 1);
    {
        let persisted = persisted.lock().expect("persisted");
        assert_eq!(persisted.len(), 1);
        assert_eq!(persisted[0].access_token.expose(), "access-1");
        assert_eq!(
            persisted[0].refresh_token.as_ref().map(|t| t.expose()),
            Some("refresh-1")
        );
        assert_eq!(persisted[0].expires, Some(1780319382));
    }
    // Each call: at most one failed attempt and one retry.
    let rest_calls = server
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/rest/"))
        .count();
    assert!(rest_calls <= 40, "{rest_calls}");
    assert_eq!(server.count(""), 1, "one request to the token endpoint");

    // A second expiry later refreshes again, with the new refresh token.
    state.lock().expect("state").access = "rotated-elsewhere".into();
    // The server now only knows a token the client has not seen: refresh again.
    state.lock().expect("state").refresh = "refresh-1".into();
    c.call(&BadgeDelete {
        code: "again".into(),
    })
    .await
    .expect("second expiry");
    assert_eq!(c.refresh_count(), 2);
    assert_eq!(state.lock().expect("state").refreshes, 2);
    assert_eq!(persisted.lock().expect("persisted").len(), 2);
}

#[tokio::test]
async fn a_refused_refresh_is_a_typed_error_without_secrets() {
    let (server, _state) = portal("refresh-0").await;
    let c = Client::builder()
        .oauth(oauth(&server, "expired-1", "wrong-refresh-token"))
        .build()
        .expect("client");
    let e = c
        .call(&BadgeDelete { code: "x".into() })
        .await
        .expect_err("refused");
    let Error::Refresh(RefreshError::Rejected(api)) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(api.code(), "invalid_grant");
    for shown in [format!("{e}"), format!("{e:?}"), format!("{c:?}")] {
        for secret in [CLIENT_SECRET, "wrong-refresh-token", "expired-1"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }
}

#[tokio::test]
async fn without_refresh_settings_an_expired_token_is_reported() {
    let (server, _state) = portal("refresh-0").await;
    let c = Client::builder()
        .oauth(OAuth::new(server.base(), "expired-1"))
        .build()
        .expect("client");
    let e = c
        .call(&BadgeDelete { code: "x".into() })
        .await
        .expect_err("expired");
    assert!(matches!(e, Error::ExpiredToken(_)), "{e:?}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_write_is_resent_once_after_a_refresh_and_runs_once() {
    let (server, state) = portal("refresh-0").await;
    let c = Client::builder()
        .oauth(oauth(&server, "expired-1", "refresh-0"))
        .build()
        .expect("client");
    c.call(&BadgeAdd {
        code: "a".into(),
        title: "t".into(),
        value: "v".into(),
        r#type: "x".into(),
    })
    .await
    .expect("ok after refresh");
    let reqs: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/rest/"))
        .collect();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].json()["auth"], "expired-1");
    assert_eq!(reqs[1].json()["auth"], "access-1");
    assert_eq!(reqs[1].json()["code"], "a");
    assert_eq!(state.lock().expect("state").refreshes, 1);
}
