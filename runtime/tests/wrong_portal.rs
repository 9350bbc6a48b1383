//! A token server answer that names another portal (`member_id`) than the one the tokens were
//! asked for is refused: nothing is stored for either portal, and the answer's tokens are
//! neither used nor shown.

mod support;

use std::sync::Arc;

use b24_runtime::query::parse_query;
use b24_runtime::store::{MemoryStore, TokenStore};
use b24_runtime::{
    Access, ApiVersion, App, AppError, Client, Error, OAuth, RefreshError, Secret, Tokens,
};
use serde_json::json;
use support::{err, ok, Reply, Server};

const CLIENT_ID: &str = "app.wrong";
const CLIENT_SECRET: &str = "wr0ng-portal-client-secret";

/// A portal that expires every token but `accepted`, and a token server that answers every
/// grant with tokens for the portal `portal-b`.
async fn server(accepted: &'static str) -> Server {
    Server::start(move |r| {
        if r.path == "/oauth/token/" {
            let q = parse_query(&String::from_utf8_lossy(&r.body));
            if q["client_secret"] != CLIENT_SECRET {
                return err(400, "invalid_client", "Invalid client");
            }
            return Reply::Json(
                200,
                json!({
                    "access_token": "foreign-access-token",
                    "refresh_token": "foreign-refresh-token",
                    "expires_in": 3600,
                    "member_id": "portal-b",
                    "domain": "oauth.bitrix.info",
                }),
            );
        }
        if r.json()["auth"] == accepted {
            ok(json!(true))
        } else {
            err(
                401,
                "expired_token",
                "The access token provided has expired.",
            )
        }
    })
    .await
}

fn pair(member: &str, access: &str, refresh: &str) -> Tokens {
    let mut t = Tokens::new(access, Some(Secret::new(refresh)));
    t.member_id = Some(member.to_owned());
    t
}

async fn stored_refresh(store: &MemoryStore, member: &str) -> Option<String> {
    store
        .load(member)
        .await
        .expect("load")
        .and_then(|t| t.refresh_token)
        .map(|s| s.expose().to_owned())
}

#[tokio::test]
async fn a_refresh_answered_for_another_portal_is_refused_and_stores_nothing() {
    // Portal B's access token is the one the portal accepts: a client that took B's pair for
    // A's would succeed with it.
    let server = server("b-access").await;
    let store = Arc::new(MemoryStore::new());
    store
        .save(&pair("portal-a", "a-access", "a-refresh"))
        .await
        .expect("save a");
    store
        .save(&pair("portal-b", "b-access", "b-refresh"))
        .await
        .expect("save b");
    let c = Client::builder()
        .oauth(
            OAuth::with_tokens(server.base(), pair("portal-a", "a-access", "a-refresh"))
                .client(CLIENT_ID, CLIENT_SECRET)
                .token_endpoint(format!("{}/oauth/token/", server.base()))
                .store(store.clone()),
        )
        .build()
        .expect("client");

    let e = c
        .call_raw("user.current", ApiVersion::V2, Access::Read, &json!({}))
        .await
        .expect_err("the refresh is refused");
    let Error::Refresh(RefreshError::WrongPortal { expected, answered }) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(
        (expected.as_str(), answered.as_str()),
        ("portal-a", "portal-b")
    );

    // Neither portal's stored pair changed.
    assert_eq!(
        stored_refresh(&store, "portal-a").await.as_deref(),
        Some("a-refresh")
    );
    assert_eq!(
        stored_refresh(&store, "portal-b").await.as_deref(),
        Some("b-refresh")
    );
    // The client never called with the other portal's token, nor with the answer's.
    for r in server
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/rest/"))
    {
        assert_eq!(r.json()["auth"], "a-access", "{:?}", r.json()["auth"]);
    }
    assert_eq!(c.refresh_count(), 0);
    for shown in [format!("{e}"), format!("{e:?}"), format!("{c:?}")] {
        for secret in [
            "foreign-access-token",
            "foreign-refresh-token",
            CLIENT_SECRET,
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }
}

#[tokio::test]
async fn a_code_exchanged_for_another_portal_stores_nothing() {
    let server = server("none").await;
    let store = Arc::new(MemoryStore::new());
    store
        .save(&pair("portal-b", "b-access", "b-refresh"))
        .await
        .expect("save b");
    let app = App::builder(CLIENT_ID, CLIENT_SECRET)
        .token_endpoint(format!("{}/oauth/token/", server.base()))
        .store(store.clone())
        .build()
        .expect("app");

    let e = app
        .authorize_for("the-code", "portal-a")
        .await
        .expect_err("another portal's answer");
    let AppError::Token(RefreshError::WrongPortal { expected, answered }) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(
        (expected.as_str(), answered.as_str()),
        ("portal-a", "portal-b")
    );
    assert_eq!(stored_refresh(&store, "portal-a").await, None);
    assert_eq!(
        stored_refresh(&store, "portal-b").await.as_deref(),
        Some("b-refresh")
    );
    for shown in [format!("{e}"), format!("{e:?}")] {
        assert!(!shown.contains("foreign-"), "{shown}");
    }
}
