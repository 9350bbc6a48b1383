//! Wire tests of the generated API: a real HTTP server on 127.0.0.1 records what the client
//! sends and answers with canned Bitrix24 responses.

mod support;

use b24::crm::activity::badge::{add, delete, get, list};
use b24::{Client, Error, RetryPolicy};
use serde_json::json;
use support::{Canned, TestServer};

const SECRET: &str = "s3cr3tw3bh00k";

fn client(server: &TestServer) -> Client {
    Client::builder()
        .webhook(format!("{}/rest/7/{SECRET}/", server.base()))
        .no_rate_limit()
        .retry(RetryPolicy::none())
        .build()
        .expect("a valid webhook URL")
}

fn time() -> serde_json::Value {
    json!({"start": 1724068028.331234, "finish": 1724068028.726591, "duration": 0.3953571319580078,
           "processing": 0.13033390045166016, "date_start": "2025-01-21T13:47:08+02:00",
           "date_finish": "2025-01-21T13:47:08+02:00", "operating": 0})
}

fn badge() -> serde_json::Value {
    json!({"code": "missedCall", "title": "Call Status", "value": "Missed", "type": "failure"})
}

#[tokio::test]
async fn add_sends_the_documented_body_and_decodes_the_badge() {
    let server = TestServer::start(vec![Canned::json(
        200,
        json!({"result": {"badge": badge()}, "time": time()}),
    )])
    .await;
    let request = add::Request::new(
        "missedCall",
        add::Title::String("Call Status".into()),
        add::Value::String("Missed".into()),
        "failure",
    );
    let response = add::call(&client(&server), &request).await.expect("added");

    let sent = &server.requests()[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(
        sent.path,
        format!("/rest/7/{SECRET}/crm.activity.badge.add.json")
    );
    assert!(sent
        .header("content-type")
        .is_some_and(|v| v.starts_with("application/json")));
    assert_eq!(
        sent.json(),
        json!({"code": "missedCall", "title": "Call Status", "value": "Missed", "type": "failure"})
    );
    let badge = response.badge.expect("the badge comes back");
    assert_eq!(badge.code.as_deref(), Some("missedCall"));
    assert_eq!(badge.r#type.as_deref(), Some("failure"));
    assert!(matches!(badge.title, Some(b24::types::Title::String(ref t)) if t == "Call Status"));
}

#[tokio::test]
async fn get_list_and_delete_round_trip_over_the_wire() {
    let server = TestServer::start(vec![
        Canned::json(200, json!({"result": {"badge": badge()}, "time": time()})),
        Canned::json(
            200,
            json!({"result": {"badges": [badge(), {"code": "other", "title": "T", "value": "V", "type": "success", "sort": 5}]}, "time": time()}),
        ),
        Canned::json(200, json!({"result": true, "time": time()})),
    ])
    .await;
    let client = client(&server);

    let got = get::call(&client, &get::Request::new("missedCall"))
        .await
        .expect("got");
    assert_eq!(
        got.badge.and_then(|b| b.value),
        Some(b24::types::Value::String("Missed".into()))
    );

    let listed = list::call(&client, &list::Request::new())
        .await
        .expect("listed");
    let badges = listed.badges.expect("badges");
    assert_eq!(badges.len(), 2);
    assert_eq!(badges[1].code.as_deref(), Some("other"));
    // A field the docs do not describe is kept, not dropped.
    assert_eq!(badges[1].extra.get("sort"), Some(&json!(5)));

    let deleted = delete::call(&client, &delete::Request::new("missedCall"))
        .await
        .expect("deleted");
    assert!(deleted.get());

    let sent = server.requests();
    let paths: Vec<&str> = sent.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            format!("/rest/7/{SECRET}/crm.activity.badge.get.json"),
            format!("/rest/7/{SECRET}/crm.activity.badge.list.json"),
            format!("/rest/7/{SECRET}/crm.activity.badge.delete.json"),
        ]
    );
    assert_eq!(sent[0].json(), json!({"code": "missedCall"}));
    assert_eq!(sent[1].json(), json!({}));
    assert_eq!(sent[2].json(), json!({"code": "missedCall"}));
}

#[tokio::test]
async fn a_documented_error_code_becomes_the_generated_variant() {
    let body =
        json!({"error": "REQUIRED_ARG_MISSING", "error_description": "Required fields: code"});
    let server = TestServer::start(vec![Canned::json(400, body.clone())]).await;
    let request = add::Request::new(
        "",
        add::Title::String("t".into()),
        add::Value::String("v".into()),
        "failure",
    );
    let error = add::call(&client(&server), &request)
        .await
        .expect_err("the server refused");
    match error {
        Error::Method(add::Error::RequiredArgMissing(api)) => {
            assert_eq!(api.status(), 400);
            assert_eq!(api.code(), "REQUIRED_ARG_MISSING");
            assert_eq!(api.description(), "Required fields: code");
            let raw: serde_json::Value = serde_json::from_str(api.body()).expect("raw body kept");
            assert_eq!(raw, body);
        }
        other => panic!("expected RequiredArgMissing, got {other:?}"),
    }
}

#[tokio::test]
async fn errors_documented_by_their_text_are_recognised_by_it() {
    use b24::crm::deal::get as deal;
    // The page documents `Empty value` codes: the server sends `"error": ""` and the text.
    let answers = [
        (
            json!({"error": "", "error_description": "Not found"}),
            "NotFound",
        ),
        (
            json!({"error": "0", "error_description": "Access denied."}),
            "AccessDenied",
        ),
        (
            json!({"error": "", "error_description": "ID is not defined or invalid<br>"}),
            "IdIsNotDefinedOrInvalid",
        ),
        (
            json!({"error": "", "error_description": "Something else"}),
            "Other",
        ),
    ];
    for (body, expected) in answers {
        let server = TestServer::start(vec![Canned::json(400, body.clone())]).await;
        let error = deal::call(&client(&server), &deal::Request::new(42))
            .await
            .expect_err("refused");
        let Error::Method(e) = error else {
            panic!("a method error for {body}, got {error:?}")
        };
        let got = match e {
            deal::Error::NotFound(_) => "NotFound",
            deal::Error::AccessDenied(_) => "AccessDenied",
            deal::Error::IdIsNotDefinedOrInvalid(_) => "IdIsNotDefinedOrInvalid",
            deal::Error::Other(_) => "Other",
            _ => "another variant",
        };
        assert_eq!(got, expected, "{body}");
    }
}

#[test]
fn the_generator_and_the_runtime_agree_on_the_codes_the_runtime_handles() {
    assert_eq!(
        b24_codegen::RUNTIME_CODES,
        b24::runtime::error::RUNTIME_CODES
    );
}

#[tokio::test]
async fn an_undocumented_code_is_kept_in_other() {
    let server = TestServer::start(vec![Canned::json(
        400,
        json!({"error": "SOMETHING_NEW", "error_description": "new"}),
    )])
    .await;
    let error = get::call(&client(&server), &get::Request::new("x"))
        .await
        .expect_err("refused");
    assert!(
        matches!(&error, Error::Method(get::Error::Other(api)) if api.code() == "SOMETHING_NEW"),
        "{error:?}"
    );
}

#[tokio::test]
async fn expired_token_and_rate_limit_are_typed_runtime_errors() {
    let server = TestServer::start(vec![
        Canned::json(
            401,
            json!({"error": "expired_token", "error_description": "The access token provided has expired."}),
        ),
        Canned::json(
            503,
            json!({"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"}),
        ),
    ])
    .await;
    let client = client(&server);
    let expired = list::call(&client, &list::Request::new())
        .await
        .expect_err("expired");
    assert!(
        matches!(&expired, Error::ExpiredToken(api) if api.status() == 401),
        "{expired:?}"
    );
    let limited = list::call(&client, &list::Request::new())
        .await
        .expect_err("limited");
    assert!(
        matches!(&limited, Error::QueryLimitExceeded(api) if api.status() == 503),
        "{limited:?}"
    );
    assert_eq!(server.requests().len(), 2, "no retries were asked for");
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_decode_error_keeping_the_body() {
    let html = "<html><body>502 Bad Gateway</body></html>";
    let server = TestServer::start(vec![Canned::raw(502, "text/html", html)]).await;
    let error = list::call(&client(&server), &list::Request::new())
        .await
        .expect_err("not JSON");
    match error {
        Error::Decode(decode) => {
            assert_eq!(decode.status, 502);
            assert_eq!(decode.body, html);
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
}

#[tokio::test]
async fn the_webhook_code_never_shows_in_errors_or_debug() {
    let server = TestServer::start(vec![Canned::raw(500, "text/plain", "boom")]).await;
    let client = client(&server);
    let error = list::call(&client, &list::Request::new())
        .await
        .expect_err("500");
    for text in [
        format!("{error}"),
        format!("{error:?}"),
        format!("{client:?}"),
    ] {
        assert!(!text.contains(SECRET), "secret leaked: {text}");
    }
}

#[tokio::test]
async fn a_batch_reference_is_typed_by_the_generated_keys_and_resolved_on_the_server() {
    let server = TestServer::start(vec![Canned::json(
        200,
        json!({"result": {
            "result": {"added": {"badge": badge()}, "got": {"badge": badge()}},
            "result_error": [], "result_total": [], "result_next": [], "result_time": []
        }, "time": time()}),
    )])
    .await;
    let mut batch = b24::Batch::new().halt(true);
    let added = batch
        .add_named(
            "added",
            &add::Request::new(
                "missedCall",
                add::Title::String("Call Status".into()),
                add::Value::String("Missed".into()),
                "failure",
            ),
        )
        .expect("add");
    // `get`'s code is the code `add` returned: `Response::BADGE` then `BadgeRecordFields::CODE`,
    // each checked against the type it is applied to.
    let code = added
        .result()
        .get(add::Response::BADGE)
        .get(b24::types::BadgeRecordFields::CODE);
    assert_eq!(code.expression(), "$result[added][badge][code]");
    let got = batch
        .add_named_with("got", &get::Request::new(""), [code.bind(&["code"])])
        .expect("get");
    let results = client(&server).batch(&batch).await.expect("batch");

    let sent = server.requests()[0].json();
    assert_eq!(sent["halt"], 1);
    assert_eq!(
        sent["cmd"]["got"],
        "crm.activity.badge.get?code=%24result%5Badded%5D%5Bbadge%5D%5Bcode%5D"
    );
    let badge = results.get(&got).expect("got").badge.expect("badge");
    assert_eq!(badge.code.as_deref(), Some("missedCall"));
    assert!(results.get(&added).is_ok());
}
