//! Entity families: records kept across calls, paging, filters, order, select.

mod common;

use common::{call, start};
use serde_json::{json, Value};

#[tokio::test]
async fn families_are_recognised_from_the_model() {
    let emulator = start().await;
    let mut families = emulator.families();
    families.sort();
    assert_eq!(families, ["crm.activity.badge", "crm.item", "tasks.task"]);
}

#[tokio::test]
async fn badge_family_round_trip() {
    let emulator = start().await;
    let badge = json!({"code": "paid", "title": "Payment", "value": "Paid", "type": "success"});
    let (status, body) = call(&emulator, "crm.activity.badge.add", badge.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(body["result"], json!({"badge": badge}));

    let (_, got) = call(&emulator, "crm.activity.badge.get", json!({"code": "paid"})).await;
    assert_eq!(got["result"]["badge"], badge);
    let (_, list) = call(&emulator, "crm.activity.badge.list", json!({})).await;
    assert_eq!(list["result"]["badges"], json!([badge]));
    assert_eq!(list["total"], 1);

    let (_, deleted) = call(
        &emulator,
        "crm.activity.badge.delete",
        json!({"code": "paid"}),
    )
    .await;
    assert_eq!(deleted["result"], true);
    let (status, missing) =
        call(&emulator, "crm.activity.badge.get", json!({"code": "paid"})).await;
    assert_eq!(status, 400);
    assert_eq!(missing["error"], "NOT_FOUND");
    assert!(emulator
        .records("crm.activity.badge")
        .expect("family")
        .is_empty());
}

#[tokio::test]
async fn crm_items_keep_state_per_entity_type() {
    let emulator = start().await;
    let (_, a) = call(
        &emulator,
        "crm.item.add",
        json!({"entityTypeId": 2, "fields": {"title": "Deal A"}}),
    )
    .await;
    let (_, b) = call(
        &emulator,
        "crm.item.add",
        json!({"entityTypeId": 2, "fields": {"title": "Deal B"}}),
    )
    .await;
    let (_, lead) = call(
        &emulator,
        "crm.item.add",
        json!({"entityTypeId": 1, "fields": {"title": "Lead"}}),
    )
    .await;
    assert_eq!(a["result"]["item"]["id"], 1);
    assert_eq!(b["result"]["item"]["id"], 2);
    assert_eq!(
        lead["result"]["item"]["id"], 1,
        "each entity type numbers its own items"
    );
    // A record holds what was written and what the server assigns (the creator: the caller),
    // never the documented example's values.
    assert_eq!(
        a["result"]["item"],
        json!({"id": 1, "title": "Deal A", "createdBy": 1})
    );

    let (_, updated) = call(
        &emulator,
        "crm.item.update",
        json!({"entityTypeId": 2, "id": 2, "fields": {"title": "Deal B2", "opportunity": 10}}),
    )
    .await;
    assert_eq!(updated["result"]["item"]["title"], "Deal B2");
    let (_, got) = call(
        &emulator,
        "crm.item.get",
        json!({"entityTypeId": "2", "id": "2"}),
    )
    .await;
    assert_eq!(got["result"]["item"]["opportunity"], 10);

    let (_, deleted) = call(
        &emulator,
        "crm.item.delete",
        json!({"entityTypeId": 2, "id": 1}),
    )
    .await;
    assert_eq!(deleted["result"], json!([]));
    let (status, body) = call(
        &emulator,
        "crm.item.update",
        json!({"entityTypeId": 2, "id": 1, "fields": {}}),
    )
    .await;
    assert_eq!((status, body["error"].clone()), (400, json!("NOT_FOUND")));
    let titles: Vec<Value> = emulator
        .records("crm.item")
        .expect("family")
        .iter()
        .map(|r| r["title"].clone())
        .collect();
    assert_eq!(titles, [json!("Lead"), json!("Deal B2")]);
}

fn seed(emulator: &b24_emulator::Emulator, n: usize) {
    let records = (0..n).map(|i| json!({"title": format!("item {i}"), "opportunity": i % 7}));
    let stored = emulator
        .insert_records("crm.item", &json!({"entityTypeId": 2}), records)
        .expect("seeded");
    assert_eq!(stored, n);
}

async fn list(emulator: &b24_emulator::Emulator, params: Value) -> Value {
    let mut params = params;
    params["entityTypeId"] = json!(2);
    let (status, body) = call(emulator, "crm.item.list", params).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn ids(body: &Value) -> Vec<i64> {
    body["result"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["id"].as_i64())
        .collect()
}

#[tokio::test]
async fn paging_by_fifty_with_next_and_total() {
    let emulator = start().await;
    seed(&emulator, 120);
    let first = list(&emulator, json!({})).await;
    assert_eq!(ids(&first), (1..=50).collect::<Vec<_>>());
    assert_eq!(first["next"], 50);
    assert_eq!(first["total"], 120);
    let second = list(&emulator, json!({"start": 50})).await;
    assert_eq!(ids(&second), (51..=100).collect::<Vec<_>>());
    assert_eq!(second["next"], 100);
    let last = list(&emulator, json!({"start": 100})).await;
    assert_eq!(ids(&last), (101..=120).collect::<Vec<_>>());
    assert!(last.get("next").is_none());
    assert_eq!(last["total"], 120);
    let past = list(&emulator, json!({"start": 500})).await;
    assert!(ids(&past).is_empty());
    assert_eq!(past["total"], 120);
}

#[tokio::test]
async fn start_minus_one_skips_the_count() {
    let emulator = start().await;
    seed(&emulator, 120);
    let page = list(
        &emulator,
        json!({"start": -1, "order": {"id": "ASC"}, "filter": {">id": 60}}),
    )
    .await;
    assert_eq!(ids(&page), (61..=110).collect::<Vec<_>>());
    assert!(page.get("total").is_none());
    assert!(page.get("next").is_none());
}

#[tokio::test]
async fn filters_by_id_with_every_prefix() {
    let emulator = start().await;
    seed(&emulator, 20);
    let cases = [
        (json!({">ID": 17}), vec![18, 19, 20]),
        (json!({">=id": 18}), vec![18, 19, 20]),
        (json!({"<id": 3}), vec![1, 2]),
        (json!({"<=id": "2"}), vec![1, 2]),
        (json!({"@id": [4, 9, 99]}), vec![4, 9]),
        (json!({"!@id": (3..=20).collect::<Vec<_>>()}), vec![1, 2]),
        (json!({"=id": 5}), vec![5]),
        (json!({"id": 6}), vec![6]),
        (json!({"!id": 1, "<id": 4}), vec![2, 3]),
        (json!({">id": 5, "<=id": 8}), vec![6, 7, 8]),
        (json!({">id": 8, "<id": 8}), vec![]),
        (json!({"opportunity": 0, "<id": 16}), vec![1, 8, 15]),
    ];
    for (filter, expected) in cases {
        let page = list(&emulator, json!({"filter": filter})).await;
        assert_eq!(ids(&page), expected, "filter {filter}");
        assert_eq!(page["total"], expected.len(), "filter {filter}");
    }
}

#[tokio::test]
async fn order_and_select() {
    let emulator = start().await;
    seed(&emulator, 60);
    let desc = list(&emulator, json!({"order": {"ID": "DESC"}})).await;
    assert_eq!(ids(&desc), (11..=60).rev().collect::<Vec<_>>());
    assert_eq!(desc["next"], 50);
    let by_field = list(
        &emulator,
        json!({"order": {"opportunity": "desc", "id": "asc"}, "filter": {"<=id": 14}}),
    )
    .await;
    assert_eq!(
        ids(&by_field),
        [7, 14, 6, 13, 5, 12, 4, 11, 3, 10, 2, 9, 1, 8]
    );
    let selected = list(&emulator, json!({"select": ["title"], "filter": {"id": 3}})).await;
    assert_eq!(
        selected["result"]["items"],
        json!([{"id": 3, "title": "item 2"}])
    );
}

#[tokio::test]
async fn a_large_store_pages_fast_by_id() {
    let emulator = start().await;
    seed(&emulator, 100_000);
    let page = list(&emulator, json!({"start": -1, "filter": {">id": 99_990}})).await;
    assert_eq!(ids(&page), (99_991..=100_000).collect::<Vec<_>>());
    let deep = list(&emulator, json!({"start": 99_950})).await;
    assert_eq!(ids(&deep), (99_951..=100_000).collect::<Vec<_>>());
    assert_eq!(deep["total"], 100_000);
    assert!(deep.get("next").is_none());
    let desc = list(
        &emulator,
        json!({"order": {"id": "desc"}, "filter": {"<id": 11, ">=id": 3}}),
    )
    .await;
    assert_eq!(ids(&desc), (3..=10).rev().collect::<Vec<_>>());
    assert_eq!(desc["total"], 8);
    assert_eq!(
        emulator.remove_record("crm.item", &json!({"entityTypeId": 2}), &json!(99_995)),
        Ok(true)
    );
    let page = list(&emulator, json!({"start": -1, "filter": {">id": 99_990}})).await;
    assert_eq!(ids(&page).len(), 9);
}

#[tokio::test]
async fn rest_v3_lists_filter_by_conditions_and_paginate() {
    let emulator = start().await;
    let tasks = (1..=7).map(|i| json!({"title": format!("task {i}")}));
    emulator
        .insert_records("tasks.task", &json!({}), tasks)
        .expect("seeded");
    let url = format!("{}tasks.task.list", emulator.webhook_url_v3());
    let body = json!({
        "filter": [["id", ">", 2], ["id", "<=", 6]],
        "order": {"id": "desc"},
        "pagination": {"page": 2, "limit": 2}
    });
    let answer: Value = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("json");
    let ids: Vec<i64> = answer["result"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["id"].as_i64())
        .collect();
    assert_eq!(ids, [4, 3]);
    assert!(answer.get("total").is_none(), "REST 3.0 has no total");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursor_export_sees_each_surviving_record_once_during_writes() {
    let emulator = std::sync::Arc::new(start().await);
    seed(&emulator, 600);
    // Deletes every third seeded record and adds new ones while the export runs.
    let writer = {
        let emulator = std::sync::Arc::clone(&emulator);
        tokio::spawn(async move {
            for id in (3..=600).step_by(3) {
                call(
                    &emulator,
                    "crm.item.delete",
                    json!({"entityTypeId": 2, "id": id}),
                )
                .await;
                call(
                    &emulator,
                    "crm.item.add",
                    json!({"entityTypeId": 2, "fields": {"title": "new"}}),
                )
                .await;
            }
        })
    };
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page = list(
            &emulator,
            json!({"start": -1, "order": {"id": "asc"}, "filter": {">id": after}}),
        )
        .await;
        let page_ids = ids(&page);
        let Some(&last) = page_ids.last() else { break };
        seen.extend(page_ids);
        after = last;
        tokio::task::yield_now().await;
    }
    writer.await.expect("writer");
    let mut sorted = seen.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), seen.len(), "no record twice");
    let never_deleted = (1..=600).filter(|id| id % 3 != 0);
    for id in never_deleted {
        assert!(sorted.binary_search(&id).is_ok(), "record {id} missing");
    }
}
