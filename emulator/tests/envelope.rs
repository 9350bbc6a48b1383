//! The wire format: routes, envelope, errors, validation, REST 3.0.

mod common;

use common::{call, call_form, client, start};
use serde_json::{json, Value};

#[tokio::test]
async fn documented_answer_in_the_envelope() {
    let emulator = start().await;
    let (status, body) = call(&emulator, "user.current", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["result"],
        json!({"ID": "1", "NAME": "John", "UF_DEPARTMENT": [1]})
    );
    let time = &body["time"];
    for key in ["start", "finish", "duration", "processing", "operating"] {
        assert!(time[key].is_number(), "time.{key} in {time}");
    }
    assert!(time["operating_reset_at"].is_i64());
    let date = time["date_start"].as_str().expect("date_start");
    assert_eq!(date.len(), 25, "{date}");
    assert!(time["finish"].as_f64() >= time["start"].as_f64());
    assert_eq!(emulator.runs("user.current"), 1);
}

#[tokio::test]
async fn routes_with_and_without_json_suffix_and_by_get() {
    let emulator = start().await;
    let plain = client()
        .get(format!("{}user.current", emulator.webhook_url()))
        .send()
        .await
        .expect("answer");
    assert_eq!(plain.status(), 200);
    let other_code = format!(
        "{}/rest/1/some-other-code/user.current.json",
        emulator.base_url()
    );
    let response = client().get(other_code).send().await.expect("answer");
    assert_eq!(response.status(), 200, "any code is accepted by default");
    assert_eq!(emulator.runs("user.current"), 2);
}

#[tokio::test]
async fn unknown_method_is_404() {
    let emulator = start().await;
    let (status, body) = call(&emulator, "crm.nothing.here", json!({})).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "ERROR_METHOD_NOT_FOUND");
    assert!(body["error_description"].is_string());
    assert!(body.get("result").is_none());
}

#[test]
fn the_handle_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<b24_emulator::Emulator>();
}

#[tokio::test]
async fn wrong_webhook_user_or_fixed_code_is_401() {
    let emulator = common::builder()
        .webhook_code("s3cret")
        .start()
        .await
        .expect("start");
    assert!(emulator.webhook_url().contains("/rest/1/s3cret/"));
    assert!(
        !format!("{emulator:?}").contains("s3cret"),
        "Debug hides the code"
    );
    let (status, _) = call(&emulator, "user.current", json!({})).await;
    assert_eq!(status, 200);
    for path in [
        "/rest/1/wrong/user.current.json",
        "/rest/2/s3cret/user.current.json",
    ] {
        let response = client()
            .post(format!("{}{path}", emulator.base_url()))
            .send()
            .await
            .expect("answer");
        assert_eq!(response.status(), 401, "{path}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"], "NO_AUTH_FOUND");
    }
    assert_eq!(emulator.runs("user.current"), 1);
}

#[tokio::test]
async fn required_parameter_missing() {
    let emulator = start().await;
    let (status, body) = call(
        &emulator,
        "crm.activity.badge.add",
        json!({"code": "c", "title": "t", "value": "v"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "REQUIRED_ARG_MISSING");
    assert!(body["error_description"]
        .as_str()
        .is_some_and(|d| d.contains("type")));
    assert_eq!(emulator.runs("crm.activity.badge.add"), 0);
}

#[tokio::test]
async fn invalid_argument_types() {
    let emulator = start().await;
    let (status, body) = call(
        &emulator,
        "crm.item.get",
        json!({"entityTypeId": "two", "id": 1}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "INVALID_ARG_VALUE");
    // A nested field of the wrong type.
    let (status, body) = call(
        &emulator,
        "crm.item.add",
        json!({"entityTypeId": 2, "fields": {"title": ["not", "a", "string"]}}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "INVALID_ARG_VALUE");
    assert!(body["error_description"]
        .as_str()
        .is_some_and(|d| d.contains("fields.title")));
    // Numeric strings are integers, as in PHP.
    let (status, _) = call(
        &emulator,
        "crm.item.add",
        json!({"entityTypeId": "2", "fields": {"title": "x"}}),
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn form_bodies_decode_nested_brackets() {
    let emulator = start().await;
    let (status, body) = call_form(
        &emulator,
        "crm.item.add",
        "entityTypeId=2&fields%5Btitle%5D=From+a+form&fields%5Bextra%5D%5B0%5D=a&fields%5Bextra%5D%5B1%5D=b",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["item"]["title"], "From a form");
    assert_eq!(body["result"]["item"]["extra"], json!(["a", "b"]));
    assert_eq!(
        emulator.received("crm.item.add"),
        [json!({"entityTypeId": "2", "fields": {"title": "From a form", "extra": ["a", "b"]}})]
    );
    // Query-string parameters count too (GET).
    let url = format!(
        "{}crm.item.get.json?entityTypeId=2&id={}",
        emulator.webhook_url(),
        body["result"]["item"]["id"]
    );
    let got: Value = client()
        .get(url)
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("json");
    assert_eq!(got["result"]["item"]["title"], "From a form");
}

#[tokio::test]
async fn invalid_json_body_is_an_error() {
    let emulator = start().await;
    let response = client()
        .post(format!("{}user.current.json", emulator.webhook_url()))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 400);
    assert_eq!(emulator.runs("user.current"), 0);
}

#[tokio::test]
async fn rest_v3_unified_format_and_validation() {
    let emulator = start().await;
    let url = format!("{}tasks.task.add", emulator.webhook_url_v3());
    let ok: Value = client()
        .post(&url)
        .json(&json!({"fields": {"title": "Write tests", "responsibleId": 1}}))
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("json");
    assert_eq!(ok["result"]["item"]["title"], "Write tests");
    assert!(ok["time"]["operating"].is_number());
    assert!(ok.get("total").is_none());

    let response = client()
        .post(&url)
        .json(&json!({"fields": {}}))
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "REQUIRED_ARG_MISSING");
    assert_eq!(body["error"]["validation"][0]["field"], "fields.title");

    // Form bodies are refused by REST 3.0; a v3-only method is unknown at the classic address.
    let response = client()
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("fields[title]=x")
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body["error"]["code"],
        "BITRIX_REST_V3_EXCEPTION_INVALIDJSONEXCEPTION"
    );
    let (status, body) = call(
        &emulator,
        "tasks.task.add",
        json!({"fields": {"title": "x"}}),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "ERROR_METHOD_NOT_FOUND");
}

#[tokio::test]
async fn rest_v3_idempotency_key_runs_a_write_once() {
    let emulator = start().await;
    let url = format!("{}tasks.task.add", emulator.webhook_url_v3());
    let body = json!({"fields": {"title": "Once"}});
    let send = |key: &'static str, body: Value| {
        let url = url.clone();
        async move {
            client()
                .post(url)
                .header("Idempotency-Key", key)
                .json(&body)
                .send()
                .await
                .expect("answer")
        }
    };
    let first = send("key-1", body.clone()).await;
    assert_eq!(first.status(), 200);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.expect("json");
    let second = send("key-1", body.clone()).await;
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    assert_eq!(second.headers()["idempotency-key"], "key-1");
    let second: Value = second.json().await.expect("json");
    assert_eq!(first, second);
    assert_eq!(emulator.runs("tasks.task.add"), 1);
    assert_eq!(emulator.records("tasks.task").expect("family").len(), 1);

    let reused = send("key-1", json!({"fields": {"title": "Other"}})).await;
    assert_eq!(reused.status(), 422);
    let _ = send("key-2", body).await;
    assert_eq!(emulator.runs("tasks.task.add"), 2);
}
