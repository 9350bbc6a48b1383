//! The emulator driven by real docs: the project's `docs/` (the default) and, when present, the
//! upstream corpus (`B24_DOCS_DIR`, default `../shared/b24restdocs` beside the repository).

mod common;

use std::path::PathBuf;

use b24_codegen::model::{ApiVersion, ExampleKind};
use b24_emulator::Emulator;
use common::call;
use serde_json::{json, Value};

async fn start_on(docs: &std::path::Path) -> Option<Emulator> {
    let emulator = Emulator::builder()
        .docs(docs)
        .bucket(None)
        .operating_limit(None)
        .start()
        .await
        .expect("start");
    if emulator.api().methods.is_empty() {
        eprintln!("skipped: the loader found no methods in {}", docs.display());
        return None;
    }
    Some(emulator)
}

#[tokio::test]
async fn project_docs_serve_badges_and_crm_items() {
    let Some(emulator) = start_on(&b24_emulator::default_docs_dir()).await else {
        return;
    };
    let families = emulator.families();
    for family in ["crm.activity.badge", "crm.item"] {
        assert!(
            families.iter().any(|f| f == family),
            "{family} in {families:?}"
        );
    }

    let badge = json!({"code": "paid", "title": "Payment", "value": "Paid", "type": "success"});
    let (status, added) = call(&emulator, "crm.activity.badge.add", badge.clone()).await;
    assert_eq!(status, 200, "{added}");
    let (_, list) = call(&emulator, "crm.activity.badge.list", json!({})).await;
    let listed = serde_json::to_string(&list["result"]).unwrap_or_default();
    assert!(listed.contains("\"paid\""), "{list}");
    let (status, body) = call(&emulator, "crm.activity.badge.add", json!({"code": "x"})).await;
    assert_eq!(
        (status, body["error"].clone()),
        (400, json!("REQUIRED_ARG_MISSING"))
    );

    let (status, item) = call(
        &emulator,
        "crm.item.add",
        json!({"entityTypeId": 2, "fields": {"title": "From the docs"}}),
    )
    .await;
    assert_eq!(status, 200, "{item}");
    let id = item["result"]["item"]["id"].clone();
    assert_eq!(item["result"]["item"]["entityTypeId"], 2);
    let (_, got) = call(
        &emulator,
        "crm.item.get",
        json!({"entityTypeId": 2, "id": id}),
    )
    .await;
    assert_eq!(got["result"]["item"]["title"], "From the docs");
    let (_, page) = call(
        &emulator,
        "crm.item.list",
        json!({"entityTypeId": 2, "filter": {">id": 0}}),
    )
    .await;
    assert_eq!(page["total"], 1, "{page}");
}

fn corpus() -> Option<PathBuf> {
    // Relative paths are relative to the repository root, as everywhere in the project.
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let dir = std::env::var_os("B24_DOCS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/b24restdocs"));
    let dir = if dir.is_absolute() {
        dir
    } else {
        root.join(dir)
    };
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: no docs corpus at {} (set B24_DOCS_DIR)",
            dir.display()
        );
        None
    }
}

#[tokio::test]
async fn upstream_corpus_families_by_rule() {
    let Some(dir) = corpus() else { return };
    let Some(emulator) = start_on(&dir).await else {
        return;
    };
    let families = emulator.families();
    for family in [
        "crm.deal",
        "crm.contact",
        "crm.item",
        "crm.timeline.comment",
    ] {
        assert!(
            families.iter().any(|f| f == family),
            "{family} not recognised"
        );
    }
    // Classic CRM: the id comes back as a number-like string, the record sits in `fields`.
    let (status, added) = call(
        &emulator,
        "crm.deal.add",
        json!({"fields": {"TITLE": "Corpus deal"}}),
    )
    .await;
    assert_eq!(status, 200, "{added}");
    let id = added["result"].clone();
    assert!(id.is_string() || id.is_number(), "{added}");
    let (_, got) = call(&emulator, "crm.deal.get", json!({"id": id})).await;
    assert_eq!(got["result"]["TITLE"], "Corpus deal");
    let (_, list) = call(
        &emulator,
        "crm.deal.list",
        json!({"select": ["TITLE"], "filter": {">ID": 0}}),
    )
    .await;
    let items: &Value = &list["result"];
    assert_eq!(items.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list["total"], 1);
    // A documented method outside any family answers with its example.
    let (status, _) = call(&emulator, "crm.deal.fields", json!({})).await;
    assert_eq!(status, 200);

    documented_requests_pass_validation(&emulator).await;
}

/// Sends every documented request example; the docs' own examples must pass the checks made
/// from the docs' own tables, except where the two contradict each other (a few pages mark
/// alternatives such as `IBLOCK_ID`/`IBLOCK_CODE` both required). Prints every rejection.
async fn documented_requests_pass_validation(emulator: &Emulator) {
    let client = reqwest::Client::new();
    let (mut sent, mut rejected) = (0usize, 0u64);
    for method in &emulator.api().methods {
        let base = match method.version {
            ApiVersion::V2 => emulator.webhook_url(),
            ApiVersion::V3 => emulator.webhook_url_v3(),
        };
        let requests = method
            .examples
            .iter()
            .filter(|e| e.kind == ExampleKind::Request)
            .filter_map(|e| e.json.as_ref().filter(|j| j.is_object()));
        for body in requests {
            sent += 1;
            let before = emulator.stats().invalid_params;
            let response = client
                .post(format!("{base}{}", method.name))
                .json(body)
                .send()
                .await
                .expect("answer");
            let answer: Value = response.json().await.unwrap_or_default();
            if emulator.stats().invalid_params > before {
                rejected += 1;
                eprintln!("rejected: {} {answer}", method.name);
            }
        }
    }
    eprintln!("documented requests: {sent} sent, {rejected} rejected");
    assert!(sent > 500, "the corpus has request examples");
    assert!(
        rejected * 20 < sent as u64,
        "{rejected} of {sent} documented requests rejected"
    );
}
