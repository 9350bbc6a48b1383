//! The runtime against the project's Bitrix24 emulator (serving the repository's `docs/`):
//! faults injected and survived with nothing lost and no write run twice, the standard bucket
//! never overrun, one OAuth refresh for many expired calls, batches, and the fast export under
//! concurrent inserts and deletes.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use b24_emulator::{Bucket, Emulator, Fault, Limits};
use b24_runtime::batch::Batch;
use b24_runtime::{
    Access, ApiVersion, Client, Error, Extra, ListMethod, Method, OAuth, RateLimit, RetryPolicy,
};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

b24_runtime::method_error! {
    /// Errors of the `crm.item` methods.
    pub enum ItemError {
        /// The item was not found
        NotFound = Code("NOT_FOUND"),
    }
}

#[derive(Clone, Debug, Deserialize)]
struct Item {
    id: i64,
    #[serde(default)]
    title: Option<String>,
    #[serde(flatten)]
    _extra: Extra,
}

#[derive(Debug, Deserialize)]
struct One {
    item: Item,
}

#[derive(Debug, Deserialize)]
struct Many {
    items: Vec<Item>,
}

macro_rules! method {
    ($ty:ident, $name:literal, $access:ident, $resp:ty) => {
        impl Method for $ty {
            const NAME: &'static str = $name;
            const VERSION: ApiVersion = ApiVersion::V2;
            const ACCESS: Access = Access::$access;
            type Response = $resp;
            type Error = ItemError;
        }
    };
}

#[derive(Clone, Debug, Serialize)]
struct Add {
    #[serde(rename = "entityTypeId")]
    entity_type_id: i64,
    fields: Value,
}
method!(Add, "crm.item.add", Write, One);

#[derive(Clone, Debug, Serialize)]
struct Get {
    #[serde(rename = "entityTypeId")]
    entity_type_id: i64,
    id: i64,
}
method!(Get, "crm.item.get", Read, One);

#[derive(Clone, Debug, Serialize)]
struct List {
    #[serde(rename = "entityTypeId")]
    entity_type_id: i64,
}
method!(List, "crm.item.list", Read, Many);
impl ListMethod for List {
    type Item = Item;
    fn into_items(r: Many) -> Vec<Item> {
        r.items
    }
    const ID_FIELD: &'static str = "id";
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .backoff_base(Duration::from_millis(5))
        .backoff_max(Duration::from_millis(50))
        .limit_backoff_base(Duration::from_millis(20))
}

async fn emulator(limits: Limits) -> Emulator {
    Emulator::builder()
        .limits(limits)
        .start()
        .await
        .expect("emulator")
}

fn unlimited() -> Limits {
    Limits {
        bucket: None,
        operating_limit: None,
        processing_time: 0.0,
    }
}

fn webhook(e: &Emulator) -> Client {
    Client::builder()
        .webhook(e.webhook_url())
        .retry(fast_retries())
        .build()
        .expect("client")
}

fn add(title: &str) -> Add {
    Add {
        entity_type_id: 2,
        fields: json!({"title": title}),
    }
}

/// `workers` tasks each adding `each` records titled `w{worker}-{i}`; every write must succeed.
async fn concurrent_adds(c: &Client, workers: usize, each: usize) {
    let tasks: Vec<_> = (0..workers)
        .map(|w| {
            let c = c.clone();
            tokio::spawn(async move {
                for i in 0..each {
                    c.call(&add(&format!("w{w}-{i}"))).await.expect("write");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("join");
    }
}

fn items(e: &Emulator) -> Vec<Value> {
    e.records("crm.item").expect("family")
}

#[tokio::test]
async fn faults_are_survived_and_no_write_runs_twice() {
    let e = emulator(unlimited()).await;
    let c = webhook(&e);
    let first = c.call(&add("first")).await.expect("add");
    assert_eq!(first.item.title.as_deref(), Some("first"));

    // A write whose answer is lost after it ran: reported, not re-sent.
    e.inject_for("crm.item.add", Fault::DropAfterRun);
    let err = c.call(&add("lost answer")).await.expect_err("uncertain");
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    // A write refused by a gateway: reported, not re-sent.
    e.inject_for("crm.item.add", Fault::ServerError { status: 502 });
    assert!(c.call(&add("gateway")).await.is_err());
    // A write whose body came back as HTML after it ran: a decode error keeping the body.
    e.inject_for("crm.item.add", Fault::NonJsonBody);
    let err = c.call(&add("html")).await.expect_err("html");
    assert!(
        matches!(&err, Error::Decode(d) if !d.body.is_empty()),
        "{err:?}"
    );
    assert_eq!(
        e.runs("crm.item.add"),
        3,
        "first, lost answer, html: each ran once"
    );
    let titles: Vec<Value> = items(&e).iter().map(|r| r["title"].clone()).collect();
    assert_eq!(
        titles,
        [json!("first"), json!("lost answer"), json!("html")]
    );

    // Reads retry through every fault.
    for fault in [
        Fault::DropBeforeRun,
        Fault::DropAfterRun,
        Fault::ServerError { status: 500 },
        Fault::TruncatedBody,
    ] {
        e.inject_for("crm.item.get", fault);
        let got = c
            .call(&Get {
                entity_type_id: 2,
                id: first.item.id,
            })
            .await
            .expect("read survives");
        assert_eq!(got.item.id, first.item.id);
    }
}

#[tokio::test]
async fn a_documented_error_is_typed() {
    let e = emulator(unlimited()).await;
    let err = webhook(&e)
        .call(&Get {
            entity_type_id: 2,
            id: 999,
        })
        .await
        .expect_err("missing");
    assert!(
        matches!(err, Error::Method(ItemError::NotFound(_))),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standard_bucket_is_never_overrun() {
    // The standard bucket, 10 times faster than real time: 50 at once, then 20 per second.
    let e = emulator(Limits {
        bucket: Some(Bucket::STANDARD),
        ..unlimited()
    })
    .await;
    e.set_time_scale(10.0);
    let c = Client::builder()
        .webhook(e.webhook_url())
        .rate_limit(RateLimit::custom(50, 20.0))
        .retry(fast_retries())
        .build()
        .expect("client");
    concurrent_adds(&c, 8, 15).await;
    assert_eq!(e.stats().query_limit_exceeded, 0, "no 503 at all");
    assert_eq!(items(&e).len(), 120);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_client_bucket_every_write_still_lands_once() {
    let e = emulator(Limits {
        bucket: Some(Bucket {
            capacity: 10.0,
            drain_per_sec: 2.0,
        }),
        ..unlimited()
    })
    .await;
    e.set_time_scale(20.0);
    let c = Client::builder()
        .webhook(e.webhook_url())
        .no_rate_limit()
        .retry(fast_retries().max_limit_retries(40))
        .build()
        .expect("client");
    concurrent_adds(&c, 8, 8).await;
    assert!(
        e.stats().query_limit_exceeded > 0,
        "the server did refuse some"
    );
    let titles: HashSet<String> = items(&e)
        .iter()
        .filter_map(|r| r["title"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(items(&e).len(), 64, "each write ran once");
    assert_eq!(titles.len(), 64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_expired_calls_share_one_refresh() {
    let e = emulator(unlimited()).await;
    let tokens = e.issue_tokens();
    e.expire_access_tokens();
    let app = e.oauth_app();
    let c = Client::builder()
        .oauth(
            OAuth::new(e.base_url(), tokens.access_token.as_str())
                .refresh_token(tokens.refresh_token.as_str())
                .client(app.client_id.as_str(), app.client_secret.as_str())
                .token_endpoint(e.token_url()),
        )
        .retry(fast_retries())
        .build()
        .expect("client");
    let mut tasks = Vec::new();
    for i in 0..20 {
        let c = c.clone();
        tasks.push(tokio::spawn(
            async move { c.call(&add(&format!("t{i}"))).await },
        ));
    }
    for t in tasks {
        t.await.expect("join").expect("survives expiry");
    }
    assert_eq!(e.stats().token_refreshes, 1);
    assert_eq!(c.refresh_count(), 1);
    assert_eq!(items(&e).len(), 20, "each write ran once");
}

#[tokio::test]
async fn batch_with_references() {
    let e = emulator(unlimited()).await;
    let c = webhook(&e);
    let mut batch = Batch::new().halt(true);
    let added = batch.add(&add("from batch")).expect("cmd");
    let got = batch
        .add_with(
            &Get {
                entity_type_id: 2,
                id: 0,
            },
            [added
                .result()
                .field::<i64>("item")
                .field::<i64>("id")
                .bind(&["id"])],
        )
        .expect("cmd");
    let results = c.batch(&batch).await.expect("batch");
    let a = results.get(&added).expect("added");
    let g = results.get(&got).expect("got");
    assert_eq!(g.item.id, a.item.id);
    assert_eq!(g.item.title.as_deref(), Some("from batch"));
}

#[tokio::test]
async fn exports_and_lists_report_progress_and_the_servers_total() {
    const N: usize = 321;
    let e = emulator(unlimited()).await;
    e.insert_records(
        "crm.item",
        &json!({"entityTypeId": 2}),
        (0..N).map(|i| json!({"title": format!("r{i}")})),
    )
    .expect("seed");
    let c = webhook(&e);
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let out: Vec<_> = c
        .export(&List { entity_type_id: 2 })
        .ranges(3)
        .pages_per_call(2)
        .on_progress(move |p| log.lock().expect("log").push(p))
        .stream()
        .collect()
        .await;
    assert_eq!(out.len(), N);
    let reports = seen.lock().expect("log").clone();
    assert!(reports.len() >= N / 50, "one report per page: {reports:?}");
    assert!(
        reports.iter().all(|p| p.total == Some(N as u64)),
        "{reports:?}"
    );
    assert_eq!(reports.iter().map(|p| p.done).max(), Some(N as u64));

    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let listed: Vec<_> = c
        .list_with_progress(&List { entity_type_id: 2 }, move |p| {
            log.lock().expect("log").push(p)
        })
        .collect()
        .await;
    assert_eq!(listed.len(), N);
    let reports = seen.lock().expect("log").clone();
    assert_eq!(reports.len(), N.div_ceil(50));
    assert_eq!(
        reports.last(),
        Some(&b24_runtime::Progress {
            done: N as u64,
            total: Some(N as u64)
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_under_concurrent_inserts_and_deletes_returns_each_surviving_record_once() {
    // The emulator runs unoptimised in tests and scans its store per page: 2,000 records in
    // small batches (4 pages per call) keep it quick while the data changes between calls;
    // the in-test portal of `paging.rs` exports 30,000.
    const N: i64 = 2_000;
    let e = Arc::new(emulator(unlimited()).await);
    let seeded = e
        .insert_records(
            "crm.item",
            &json!({"entityTypeId": 2}),
            (0..N).map(|i| json!({"title": format!("r{i}")})),
        )
        .expect("seed");
    assert_eq!(seeded as i64, N);
    let stop = Arc::new(AtomicBool::new(false));
    // The emulator's knobs block: mutate from a plain thread, not from an async worker.
    let mutator = {
        let (e, stop) = (e.clone(), stop.clone());
        std::thread::spawn(move || {
            let (mut deleted, mut inserted) = (HashSet::new(), 0usize);
            let mut rng = fastrand::Rng::with_seed(11);
            while !stop.load(Ordering::SeqCst) {
                for _ in 0..5 {
                    let id = rng.i64(1..=N);
                    if e.remove_record("crm.item", &json!({"entityTypeId": 2}), &json!(id))
                        .expect("remove")
                    {
                        deleted.insert(id);
                    }
                }
                inserted += e
                    .insert_records(
                        "crm.item",
                        &json!({"entityTypeId": 2}),
                        (0..5).map(|_| json!({"title": "new"})),
                    )
                    .expect("insert");
                std::thread::sleep(Duration::from_millis(5));
            }
            (deleted, inserted)
        })
    };
    // The emulator reports the real time its (unoptimised) handlers take as `operating` even
    // with its budget off; on a busy machine that can pass the 480 s a portal allows, and the
    // client would rightly pause the method for minutes. The budget is not under test here.
    let c = Client::builder()
        .webhook(e.webhook_url())
        .retry(fast_retries())
        .operating_limit(Duration::from_secs(1_000_000))
        .build()
        .expect("client");
    let out: Vec<_> = c
        .export(&List { entity_type_id: 2 })
        .ranges(2)
        .pages_per_call(4)
        .stream()
        .collect()
        .await;
    stop.store(true, Ordering::SeqCst);
    let (deleted, inserted) = mutator.join().expect("mutator");
    assert!(
        !deleted.is_empty() && inserted > 0,
        "the data changed during the export"
    );
    let mut seen = HashSet::new();
    for item in out {
        let id = item.expect("record").id;
        assert!(seen.insert(id), "record {id} twice");
    }
    for id in 1..=N {
        if !deleted.contains(&id) {
            assert!(seen.contains(&id), "surviving record {id} missing");
        }
    }
    let max_id = N + inserted as i64;
    assert!(
        seen.iter().all(|id| *id >= 1 && *id <= max_id),
        "only records that existed"
    );
}

/// An unlimited emulator holding `n` deals, and its client.
async fn seeded(n: usize) -> (Emulator, Client) {
    let e = emulator(unlimited()).await;
    e.insert_records(
        "crm.item",
        &json!({"entityTypeId": 2}),
        (0..n).map(|i| json!({"title": format!("r{i}")})),
    )
    .expect("seed");
    let c = webhook(&e);
    (e, c)
}

fn as_id(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_str()?.parse().ok())
}

/// The upper bounds (`<=id`) of the list pages the emulator ran: one per ID range.
fn upper_bounds(e: &Emulator) -> std::collections::BTreeSet<i64> {
    e.received("crm.item.list")
        .iter()
        .filter_map(|p| as_id(p.get("filter")?.get("<=id")?))
        .collect()
}

#[tokio::test]
async fn the_default_export_splits_a_large_table_into_ranges_and_returns_each_record_once() {
    // 4 pages per call: 200 IDs a call, so 3,000 records are 15 calls after the first page:
    // more than enough for the automatic cap of 4 ranges.
    const N: usize = 3_000;
    let (e, c) = seeded(N).await;
    let stored: HashSet<i64> = items(&e)
        .iter()
        .map(|r| as_id(&r["id"]).expect("id"))
        .collect();
    assert_eq!(stored.len(), N);
    let out: Vec<_> = c
        .export(&List { entity_type_id: 2 })
        .pages_per_call(4)
        .stream()
        .collect()
        .await;
    let ids: Vec<i64> = out.into_iter().map(|r| r.expect("record").id).collect();
    let unique: HashSet<i64> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "a record returned twice");
    assert_eq!(unique, stored, "every stored record, nothing else");
    let max = *stored.iter().max().expect("records");
    let bounds = upper_bounds(&e);
    assert_eq!(
        bounds.len(),
        b24_runtime::paging::AUTO_RANGES_MAX,
        "{bounds:?}"
    );
    assert_eq!(bounds.last(), Some(&max));
    // The first page, the highest ID, then one page per 50 IDs: none past a range's bound.
    assert_eq!(
        e.runs("crm.item.list"),
        2 + (N as u64 - 50).div_ceil(50),
        "list pages run"
    );
    // Within a range the IDs still come in order.
    let mut last_in_range = std::collections::BTreeMap::new();
    for id in &ids {
        let range = bounds.range(id..).next().copied();
        let previous = last_in_range.insert(range, *id);
        assert!(
            previous.map_or(true, |p| p < *id),
            "{id} after {previous:?}"
        );
    }
}

#[tokio::test]
async fn the_default_export_of_a_small_table_is_one_range_in_id_order() {
    const N: usize = 120;
    let (e, c) = seeded(N).await;
    let before = e.stats().requests;
    let out: Vec<_> = c
        .export(&List { entity_type_id: 2 })
        .stream()
        .collect()
        .await;
    let ids: Vec<i64> = out.into_iter().map(|r| r.expect("record").id).collect();
    let mut stored: Vec<i64> = items(&e)
        .iter()
        .map(|r| as_id(&r["id"]).expect("id"))
        .collect();
    stored.sort_unstable();
    assert_eq!(ids, stored, "every record once, in ID order");
    // The first page, the highest ID, one batch call of the 2 pages left.
    assert_eq!(e.stats().requests - before, 3);
    assert_eq!(e.runs("crm.item.list"), 4);
    assert_eq!(upper_bounds(&e).len(), 1);
}

#[tokio::test]
async fn one_forced_range_exports_a_large_table_in_id_order() {
    const N: usize = 1_000;
    let (e, c) = seeded(N).await;
    let out: Vec<_> = c
        .export(&List { entity_type_id: 2 })
        .ranges(1)
        .pages_per_call(4)
        .stream()
        .collect()
        .await;
    let ids: Vec<i64> = out.into_iter().map(|r| r.expect("record").id).collect();
    let mut stored: Vec<i64> = items(&e)
        .iter()
        .map(|r| as_id(&r["id"]).expect("id"))
        .collect();
    stored.sort_unstable();
    assert_eq!(ids, stored, "every record once, in ID order");
    assert_eq!(upper_bounds(&e).len(), 1);
}

#[tokio::test]
async fn one_hostile_form_does_not_take_the_emulator_down() {
    let e = emulator(unlimited()).await;
    // 3,000 levels of brackets in 12 KB: it overflowed the emulator's stack, on any endpoint.
    let deep = format!(
        "grant_type=refresh_token&client_id{}=x",
        "[a]".repeat(4_000)
    );
    assert!(deep.len() < 12_100);
    let http = reqwest::Client::new();
    for url in [
        e.token_url(),
        format!("{}crm.item.add.json", e.webhook_url()),
    ] {
        let resp = http
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(deep.clone())
            .send()
            .await
            .expect("an answer");
        assert!(resp.status().is_client_error(), "{}", resp.status());
    }
    let c = webhook(&e);
    c.call(&add("after")).await.expect("still serving");
    assert_eq!(items(&e).len(), 1);
}
