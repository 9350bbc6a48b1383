//! `batch`: commands, references, halt, limits of the batch itself.

mod common;

use common::{call, call_form, start};
use serde_json::{json, Map, Value};

#[tokio::test]
async fn independent_and_linked_commands() {
    let emulator = start().await;
    let (status, body) = call(
        &emulator,
        "batch",
        json!({
            "halt": 0,
            "cmd": {
                "me": "user.current",
                "add": "crm.item.add?entityTypeId=2&fields[title]=Linked",
                "get": "crm.item.get?entityTypeId=2&id=$result[add][item][id]",
                "dept": "crm.item.add?entityTypeId=2&fields[title]=Dept $result[me][UF_DEPARTMENT][0]",
                "list": "crm.item.list?entityTypeId=2"
            }
        }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let result = &body["result"];
    assert_eq!(result["result"]["me"]["NAME"], "John");
    assert_eq!(result["result"]["get"]["item"]["title"], "Linked");
    assert_eq!(result["result"]["dept"]["item"]["title"], "Dept 1");
    assert_eq!(result["result_total"], json!({"list": 2}));
    assert_eq!(result["result_error"], json!([]));
    assert_eq!(result["result_next"], json!([]));
    for key in ["me", "add", "get", "dept", "list"] {
        assert!(result["result_time"][key]["operating"].is_number(), "{key}");
    }
    assert!(
        body["time"].get("operating").is_none(),
        "the batch itself is not in operating"
    );
    assert_eq!(emulator.runs("crm.item.add"), 2);
    assert_eq!(emulator.runs("batch"), 0);
}

#[tokio::test]
async fn errors_per_command_and_halt() {
    let emulator = start().await;
    let cmd = json!({
        "bad": "crm.item.get?entityTypeId=2&id=777",
        "unknown": "no.such.method",
        "good": "user.current"
    });
    let (_, body) = call(&emulator, "batch", json!({"halt": 0, "cmd": cmd})).await;
    let result = &body["result"];
    assert_eq!(result["result_error"]["bad"]["error"], "NOT_FOUND");
    assert_eq!(
        result["result_error"]["unknown"]["error"],
        "ERROR_METHOD_NOT_FOUND"
    );
    assert_eq!(result["result"]["good"]["ID"], "1");

    let (_, body) = call(&emulator, "batch", json!({"halt": 1, "cmd": cmd})).await;
    let result = &body["result"];
    assert_eq!(result["result_error"].as_object().map(Map::len), Some(1));
    assert_eq!(result["result"], json!([]));
    assert_eq!(emulator.runs("user.current"), 1, "halt stopped the rest");
}

#[tokio::test]
async fn numbered_commands_from_a_form_body_answer_as_lists() {
    let emulator = start().await;
    // cmd[0]=user.current&cmd[1]=crm.activity.badge.get?code=x, encoded twice as the docs say.
    let form = "halt=0&cmd%5B0%5D=user.current&cmd%5B1%5D=crm.activity.badge.get%3Fcode%3Dnone";
    let (status, body) = call_form(&emulator, "batch", form).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["result"]["result"],
        json!([{"ID": "1", "NAME": "John", "UF_DEPARTMENT": [1]}])
    );
    assert_eq!(body["result"]["result_error"]["1"]["error"], "NOT_FOUND");
    assert_eq!(
        emulator.received("crm.activity.badge.get"),
        [json!({"code": "none"})]
    );
}

#[tokio::test]
async fn at_most_fifty_commands_and_no_nesting() {
    let emulator = start().await;
    let mut cmd = Map::new();
    for i in 0..52 {
        cmd.insert(format!("c{i}"), json!("user.current"));
    }
    cmd.insert("nested".into(), json!("batch?cmd[x]=user.current"));
    let (_, body) = call(&emulator, "batch", json!({"cmd": cmd})).await;
    let errors = body["result"]["result_error"].as_object().expect("errors");
    assert_eq!(errors["c50"]["error"], "ERROR_BATCH_LENGTH_EXCEEDED");
    assert_eq!(errors["c51"]["error"], "ERROR_BATCH_LENGTH_EXCEEDED");
    assert_eq!(errors["nested"]["error"], "ERROR_BATCH_LENGTH_EXCEEDED");
    assert_eq!(errors.len(), 3);
    assert_eq!(emulator.runs("user.current"), 50);

    let (_, body) = call(
        &emulator,
        "batch",
        json!({"cmd": {"nested": "batch?cmd[x]=user.current"}}),
    )
    .await;
    assert_eq!(
        body["result"]["result_error"]["nested"]["error"],
        "ERROR_BATCH_METHOD_NOT_ALLOWED"
    );
}

#[tokio::test]
async fn paged_export_through_batch_with_next() {
    let emulator = start().await;
    let records = (0..130).map(|i| json!({"title": format!("r{i}")}));
    emulator
        .insert_records("crm.item", &json!({"entityTypeId": 2}), records)
        .expect("seeded");
    let cmd: Map<String, Value> = (0..3)
        .map(|p| {
            (
                format!("p{p}"),
                json!(format!("crm.item.list?entityTypeId=2&start={}", p * 50)),
            )
        })
        .collect();
    let (_, body) = call(&emulator, "batch", json!({"cmd": cmd})).await;
    let result = &body["result"];
    assert_eq!(result["result_next"], json!({"p0": 50, "p1": 100}));
    assert_eq!(
        result["result_total"],
        json!({"p0": 130, "p1": 130, "p2": 130})
    );
    let count: usize = (0..3)
        .map(|p| {
            result["result"][format!("p{p}")]["items"]
                .as_array()
                .map_or(0, Vec::len)
        })
        .sum();
    assert_eq!(count, 130);
}

#[tokio::test]
async fn references_to_nothing_become_empty_strings() {
    let emulator = start().await;
    let (_, body) = call(
        &emulator,
        "batch",
        json!({"cmd": {
            "first": "crm.item.list?entityTypeId=2&start=-1",
            "text": "crm.item.add?entityTypeId=2&fields[title]=a$result[first][items][49][id]b",
            "whole": "crm.item.list?entityTypeId=2&start=-1&filter[>id]=$result[first][items][49][id]"
        }}),
    )
    .await;
    let result = &body["result"]["result"];
    assert_eq!(result["first"]["items"], json!([]));
    assert_eq!(result["text"]["item"]["title"], "ab");
    // An empty filter value filters nothing: the whole list comes back.
    assert_eq!(result["whole"]["items"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn references_copy_no_more_than_a_request_body() {
    // A 10 KiB title referenced 20 times is 200 KiB of parameters from a request of 1 KiB.
    let emulator = common::builder()
        .max_body_bytes(64 << 10)
        .start()
        .await
        .expect("starts");
    let title = "t".repeat(10 << 10);
    emulator
        .insert_records(
            "crm.item",
            &json!({"entityTypeId": 2}),
            [json!({"title": title})],
        )
        .expect("seeds");
    let reference = "$result[get][item][title]";
    let cmd = json!({
        "get": "crm.item.get?entityTypeId=2&id=1",
        "twice": format!("user.current?copy={}", reference.repeat(2)),
        "many": format!("user.current?copy={}", reference.repeat(20)),
    });
    let (status, body) = call(&emulator, "batch", json!({"halt": 0, "cmd": cmd})).await;
    assert_eq!(status, 200, "{body}");
    let errors = &body["result"]["result_error"];
    assert_eq!(errors["many"]["error"], "ERROR_BATCH_LENGTH_EXCEEDED");
    assert!(errors.get("twice").is_none(), "{errors}");
    let received = emulator.received("user.current");
    assert_eq!(received.len(), 1, "only the command within budget ran");
    assert_eq!(received[0]["copy"].as_str().map(str::len), Some(20 << 10));
}
