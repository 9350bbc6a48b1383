//! OAuth: access tokens that expire, and the token endpoint that refreshes them.

mod common;

use b24_emulator::Emulator;
use common::{client, start};
use serde_json::{json, Value};

async fn call_with_token(emulator: &Emulator, method: &str, token: &str) -> (u16, Value) {
    let response = client()
        .post(format!("{}{method}.json", emulator.rest_url()))
        .json(&json!({"auth": token}))
        .send()
        .await
        .expect("answer");
    (
        response.status().as_u16(),
        response.json().await.expect("json"),
    )
}

async fn refresh(emulator: &Emulator, refresh_token: &str) -> (u16, Value) {
    let app = emulator.oauth_app();
    let response = client()
        .get(emulator.token_url())
        .query(&[
            ("grant_type", "refresh_token"),
            ("client_id", app.client_id.as_str()),
            ("client_secret", app.client_secret.as_str()),
            ("refresh_token", refresh_token),
        ])
        .send()
        .await
        .expect("answer");
    (
        response.status().as_u16(),
        response.json().await.expect("json"),
    )
}

#[tokio::test]
async fn access_token_works_until_it_expires_then_refresh_gives_a_new_pair() {
    let emulator = start().await;
    let tokens = emulator.issue_tokens();
    assert_eq!(tokens.expires_in, 3600);
    assert!(
        !format!("{tokens:?}").contains(&tokens.access_token),
        "Debug hides tokens"
    );

    let (status, body) = call_with_token(&emulator, "user.current", &tokens.access_token).await;
    assert_eq!(status, 200, "{body}");
    // The token in the query string works too.
    let url = format!(
        "{}user.current.json?auth={}",
        emulator.rest_url(),
        tokens.access_token
    );
    assert_eq!(
        client().get(url).send().await.expect("answer").status(),
        200
    );

    emulator.expire_access_tokens();
    let (status, body) = call_with_token(&emulator, "user.current", &tokens.access_token).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "expired_token");
    assert_eq!(emulator.stats().expired_token, 1);

    let (status, fresh) = refresh(&emulator, &tokens.refresh_token).await;
    assert_eq!(status, 200, "{fresh}");
    assert_eq!(emulator.stats().token_refreshes, 1);
    assert_eq!(fresh["client_endpoint"], emulator.rest_url());
    assert!(fresh["expires"].as_i64().is_some());
    let access = fresh["access_token"].as_str().expect("access token");
    let (status, _) = call_with_token(&emulator, "user.current", access).await;
    assert_eq!(status, 200);

    // The old refresh token is spent.
    let (status, body) = refresh(&emulator, &tokens.refresh_token).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(emulator.stats().token_refreshes, 1);
    // The new one works once.
    let next = fresh["refresh_token"].as_str().expect("refresh token");
    assert_eq!(refresh(&emulator, next).await.0, 200);
    assert_eq!(emulator.stats().token_refreshes, 2);
    assert_eq!(emulator.runs("user.current"), 3);
}

#[tokio::test]
async fn missing_or_unknown_token_and_wrong_client() {
    let emulator = start().await;
    let (status, body) = call_with_token(&emulator, "user.current", "").await;
    assert_eq!(
        (status, body["error"].clone()),
        (401, json!("NO_AUTH_FOUND"))
    );
    let (status, body) = call_with_token(&emulator, "user.current", "nonsense").await;
    assert_eq!(
        (status, body["error"].clone()),
        (401, json!("invalid_token"))
    );

    let tokens = emulator.issue_tokens();
    let response = client()
        .post(emulator.token_url())
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", "someone.else"),
            ("client_secret", "nope"),
            ("refresh_token", tokens.refresh_token.as_str()),
        ])
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"], "invalid_client");
    // The refresh token was not spent by the refused attempt.
    assert_eq!(refresh(&emulator, &tokens.refresh_token).await.0, 200);
}

#[tokio::test]
async fn tokens_expire_on_the_emulated_clock() {
    let emulator = common::builder()
        .time_scale(3600.0)
        .start()
        .await
        .expect("start");
    let tokens = emulator.issue_tokens();
    assert_eq!(tokens.expires_in, 1, "one emulated hour is one real second");
    let (status, _) = call_with_token(&emulator, "user.current", &tokens.access_token).await;
    assert_eq!(status, 200);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, body) = call_with_token(&emulator, "user.current", &tokens.access_token).await;
    assert_eq!(
        (status, body["error"].clone()),
        (401, json!("expired_token"))
    );
}

#[tokio::test]
async fn many_concurrent_callers_see_expired_token_and_one_refresh_serves_all() {
    let emulator = start().await;
    let tokens = emulator.issue_tokens();
    emulator.expire_access_tokens();
    let calls = (0..20).map(|_| call_with_token(&emulator, "user.current", &tokens.access_token));
    let results = futures::future::join_all(calls).await;
    assert!(results
        .iter()
        .all(|(s, b)| *s == 401 && b["error"] == "expired_token"));
    assert_eq!(emulator.stats().expired_token, 20);
    let (_, fresh) = refresh(&emulator, &tokens.refresh_token).await;
    let access = fresh["access_token"].as_str().expect("token").to_string();
    let calls = (0..20).map(|_| call_with_token(&emulator, "user.current", &access));
    assert!(futures::future::join_all(calls)
        .await
        .iter()
        .all(|(s, _)| *s == 200));
    assert_eq!(emulator.stats().token_refreshes, 1);
}

#[tokio::test]
async fn authorization_code_gives_the_first_pair_once() {
    let emulator = start().await;
    let code = emulator.issue_auth_code();
    let app = emulator.oauth_app();
    let exchange = |code: String| {
        let url = emulator.token_url();
        let app = app.clone();
        async move {
            let response = client()
                .get(url)
                .query(&[
                    ("grant_type", "authorization_code"),
                    ("client_id", app.client_id.as_str()),
                    ("client_secret", app.client_secret.as_str()),
                    ("code", code.as_str()),
                ])
                .send()
                .await
                .expect("answer");
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.expect("json"))
        }
    };
    let (status, pair) = exchange(code.clone()).await;
    assert_eq!(status, 200, "{pair}");
    let access = pair["access_token"].as_str().expect("token");
    assert_eq!(
        call_with_token(&emulator, "user.current", access).await.0,
        200
    );
    let (status, body) = exchange(code).await;
    assert_eq!(
        (status, body["error"].clone()),
        (400, json!("invalid_grant"))
    );
    assert_eq!(
        emulator.stats().token_refreshes,
        0,
        "a code exchange is not a refresh"
    );
}
