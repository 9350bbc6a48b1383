//! Paging streams and the fast ID-keyed export against a stateful server.

mod support;

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use b24_runtime::{Client, Error, RateLimit};
use futures::StreamExt;
use serde_json::json;
use support::methods::*;
use support::portal::{self, Store};
use support::{ok, Reply, Server};

fn client(server: &Server) -> Client {
    Client::builder()
        .webhook(server.webhook())
        .build()
        .expect("client")
}

#[tokio::test]
async fn list_follows_next_through_every_page() {
    let store = Arc::new(Mutex::new(Store::with_records(120)));
    let (server, _) = portal::start(store).await;
    let items: Vec<_> = client(&server).list(&RecordList::default()).collect().await;
    let ids: Vec<i64> = items
        .into_iter()
        .map(|r| r.expect("record").id.get())
        .collect();
    assert_eq!(ids, (1..=120).collect::<Vec<_>>());
    let starts: Vec<serde_json::Value> = server
        .requests()
        .iter()
        .map(|r| r.json()["start"].clone())
        .collect();
    assert_eq!(starts, [json!(null), json!(50), json!(100)]);
}

#[tokio::test]
async fn a_next_that_does_not_advance_is_reported() {
    let server = Server::start(|_| {
        Reply::Json(
            200,
            json!({"result": [{"ID": "1"}], "next": 50, "total": 500}),
        )
    })
    .await;
    let out: Vec<_> = client(&server)
        .list(&RecordList::default())
        .take(10)
        .collect()
        .await;
    // Page 1 (start=0→50), page 2 (start=50 → next 50 again): stalled.
    assert!(out[0].is_ok() && out[1].is_ok());
    assert!(
        matches!(&out[2], Err(Error::StalledCursor { .. })),
        "{:?}",
        out[2]
    );
    assert_eq!(out.len(), 3);
    assert_eq!(server.requests().len(), 2);
    let _ = ok(json!(null));
}

#[tokio::test]
async fn export_returns_every_record_once_with_objects_and_lowercase_ids() {
    let store = Arc::new(Mutex::new(Store::with_records(333)));
    let (server, batches) = portal::start(store).await;
    let items: Vec<_> = client(&server)
        .export(&ItemList::default())
        .stream()
        .collect()
        .await;
    let ids: Vec<i64> = items.into_iter().map(|r| r.expect("item").id).collect();
    // The 283 IDs after the first page are less than one batch call's 2,500: the automatic
    // export runs one range, so in ID order (several ranges would interleave).
    assert_eq!(ids, (1..=333).collect::<Vec<_>>(), "in order, once each");
    // The first page, the highest ID, then one batch of chained pages: the 6 pages the 283
    // IDs can fill, none past the highest ID.
    assert_eq!(batches.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(server.requests().len(), 3);
    assert_eq!(commands(&server.requests()[2]).len(), 6);
    let probe = server.requests()[0].json();
    assert_eq!(probe["start"], json!(-1));
    // The first page showed the records use `id`: the chained pages filter and order by it.
    let chained = server.requests()[2].json();
    let line = chained["cmd"]["p1"].as_str().expect("line");
    assert!(
        line.contains("filter%5B%3Eid%5D=%24result%5Bp0%5D%5Bitems%5D%5B49%5D%5Bid%5D"),
        "{line}"
    );
    assert!(
        line.contains("order%5Bid%5D=ASC") && line.contains("start=-1"),
        "{line}"
    );
}

/// The commands of a recorded `batch` call, by key.
fn commands(batch: &support::Recorded) -> serde_json::Map<String, serde_json::Value> {
    match batch.json().get("cmd") {
        Some(serde_json::Value::Object(cmd)) => cmd.clone(),
        _ => panic!("not a batch call: {}", batch.path),
    }
}

/// The ID bounds `(lo, hi]` of each `batch` call's first command (`filter[>ID]`, `filter[<=ID]`).
fn batch_bounds(server: &Server) -> Vec<(i64, i64)> {
    let bound = |params: &serde_json::Value, key: &str| {
        let v = &params["filter"][key];
        v.as_i64()
            .or_else(|| v.as_str()?.parse().ok())
            .unwrap_or_else(|| panic!("no {key} in {params}"))
    };
    server
        .requests()
        .iter()
        .filter(|r| r.rest_method() == "batch")
        .map(|r| {
            let line = commands(r)["p0"].as_str().expect("line").to_owned();
            let (_, query) = line.split_once('?').expect("query");
            let params = b24_runtime::query::parse_query(query);
            (bound(&params, ">ID"), bound(&params, "<=ID"))
        })
        .collect()
}

/// A portal of `N_LARGE` records, exported with default settings or with forced ranges.
async fn export_large(ranges: Option<usize>) -> (Vec<i64>, Server, Arc<Mutex<Store>>) {
    let store = Arc::new(Mutex::new(Store::with_records(N_LARGE)));
    let (server, _) = portal::start(store.clone()).await;
    let mut export = client(&server).export(&RecordList::default());
    if let Some(n) = ranges {
        export = export.ranges(n);
    }
    let ids = export
        .stream()
        .map(|r| r.expect("record").id.get())
        .collect()
        .await;
    (ids, server, store)
}

/// 20,000 records: after the first page, 19,950 IDs, 8 batch calls of 2,500.
const N_LARGE: i64 = 20_000;

#[tokio::test]
async fn the_default_export_of_a_large_table_runs_ranges_on_whole_calls_each_record_once() {
    let (ids, server, store) = export_large(None).await;
    let unique: BTreeSet<i64> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "a record returned twice");
    assert_eq!(unique, (1..=N_LARGE).collect(), "every record");
    // 8 calls in 4 ranges of 2 calls (5,000 IDs), the last one ending at the highest ID.
    let mut bounds = batch_bounds(&server);
    bounds.sort_unstable();
    assert_eq!(
        bounds,
        [
            (50, 5_050),
            (2_550, 5_050),
            (5_050, 10_050),
            (7_550, 10_050),
            (10_050, 15_050),
            (12_550, 15_050),
            (15_050, 20_000),
            (17_550, 20_000),
        ]
    );
    // The first page, the highest ID, 8 batch calls; one list page per 50 IDs, so no page
    // (and no request) past a range's bound.
    assert_eq!(server.requests().len(), 10);
    let runs = store.lock().expect("store").runs["test.record.list"];
    assert_eq!(runs, 2 + (N_LARGE as usize - 50) / 50);
    // In ID order within each range.
    let tops: BTreeSet<i64> = bounds.iter().map(|b| b.1).collect();
    let mut last = std::collections::BTreeMap::new();
    for id in &ids {
        let range = tops.range(id..).next().copied();
        let previous = last.insert(range, *id);
        assert!(
            previous.map_or(true, |p| p < *id),
            "{id} after {previous:?}"
        );
    }
}

#[tokio::test]
async fn one_forced_range_exports_a_large_table_in_id_order() {
    let (ids, server, _) = export_large(Some(1)).await;
    assert_eq!(
        ids,
        (1..=N_LARGE).collect::<Vec<_>>(),
        "in order, once each"
    );
    let bounds = batch_bounds(&server);
    assert_eq!(bounds.len(), 8);
    assert!(bounds.iter().all(|b| b.1 == N_LARGE), "{bounds:?}");
}

/// What an export saw while another task inserted new records and deleted old ones.
struct ChangingExport {
    /// IDs in the order the export returned them, duplicates included.
    returned: Vec<i64>,
    deleted: BTreeSet<i64>,
    /// IDs inserted during the export, ascending (the store counts up).
    inserted: BTreeSet<i64>,
}

/// Exports `N` records with 4 ranges while records are inserted (20 every 2 ms) and records
/// of the original `1..=N` are deleted at random.
async fn export_while_changing(follow_inserts: bool) -> ChangingExport {
    let store = Arc::new(Mutex::new(Store::with_records(N)));
    let (server, _) = portal::start(store.clone()).await;
    let deleted: Arc<Mutex<BTreeSet<i64>>> = Arc::default();
    let inserted: Arc<Mutex<BTreeSet<i64>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mutator = {
        let (store, deleted, inserted, stop) = (
            store.clone(),
            deleted.clone(),
            inserted.clone(),
            stop.clone(),
        );
        tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(7);
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                {
                    let mut st = store.lock().expect("store");
                    for _ in 0..20 {
                        let id = st.insert();
                        inserted.lock().expect("ins").insert(id);
                        let victim = rng.i64(1..=N);
                        if st.records.remove(&victim).is_some() {
                            deleted.lock().expect("del").insert(victim);
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };
    let c = Client::builder()
        .webhook(server.webhook())
        .rate_limit(RateLimit::STANDARD)
        .build()
        .expect("client");
    let items: Vec<_> = c
        .export(&RecordList::default())
        .ranges(4)
        .follow_inserts(follow_inserts)
        .stream()
        .collect()
        .await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    mutator.await.expect("mutator");
    let returned = items
        .into_iter()
        .map(|item| item.expect("record").id.get())
        .collect();
    let deleted = std::mem::take(&mut *deleted.lock().expect("del"));
    let inserted = std::mem::take(&mut *inserted.lock().expect("ins"));
    assert!(
        !deleted.is_empty() && !inserted.is_empty(),
        "the data did change during the export"
    );
    ChangingExport {
        returned,
        deleted,
        inserted,
    }
}

const N: i64 = 30_000;

impl ChangingExport {
    /// Every record is returned at most once, every record of `1..=N` that was not deleted is
    /// returned, and nothing is returned that never existed. Returns the set of IDs.
    fn assert_surviving_records_once(&self) -> HashSet<i64> {
        let mut seen = HashSet::new();
        for id in &self.returned {
            assert!(seen.insert(*id), "record {id} returned twice");
        }
        for id in 1..=N {
            if !self.deleted.contains(&id) {
                assert!(seen.contains(&id), "surviving record {id} is missing");
            }
        }
        for id in &seen {
            assert!(
                *id <= N || self.inserted.contains(id),
                "record {id} never existed"
            );
        }
        seen
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_under_concurrent_inserts_and_deletes_returns_each_surviving_record_once() {
    let export = export_while_changing(false).await;
    export.assert_surviving_records_once();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_following_inserts_also_returns_the_new_records_without_gaps() {
    let export = export_while_changing(true).await;
    let seen = export.assert_surviving_records_once();
    // Inserted IDs only grow and are never deleted, so the new records the export took must be
    // every inserted ID up to the highest one it returned: a gap would be a lost record.
    let newest = seen.iter().copied().filter(|id| *id > N).max();
    let Some(newest) = newest else {
        panic!(
            "following inserts, the export took none of the {} new records",
            export.inserted.len()
        );
    };
    for id in export.inserted.range(..=newest) {
        assert!(
            seen.contains(id),
            "inserted record {id} (below {newest}) is missing"
        );
    }
}

/// A portal that inserts 10 records before every list page it serves: the export ends at the
/// highest ID it saw when it started, unless it follows inserts, then it catches up.
async fn export_of_a_growing_portal(follow_inserts: bool) -> (Vec<i64>, i64) {
    const START: i64 = 5_000;
    let mut store = Store::with_records(START);
    store.added_per_list = 10;
    let store = Arc::new(Mutex::new(store));
    let (server, _) = portal::start(store.clone()).await;
    let items: Vec<_> = client(&server)
        .export(&RecordList::default())
        .ranges(2)
        .follow_inserts(follow_inserts)
        .stream()
        .collect()
        .await;
    let ids: Vec<i64> = items
        .into_iter()
        .map(|i| i.expect("record").id.get())
        .collect();
    let last = store.lock().expect("store").next_id;
    (ids, last)
}

#[tokio::test]
async fn following_inserts_catches_up_with_a_growing_portal_and_not_following_stops() {
    let (bounded, last) = export_of_a_growing_portal(false).await;
    let (followed, last_followed) = export_of_a_growing_portal(true).await;
    for ids in [&bounded, &followed] {
        let unique: BTreeSet<i64> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len(), "a record returned twice");
        // Nothing deleted: every ID up to the newest returned is there.
        let newest = *unique.last().expect("records");
        assert_eq!(unique.len() as i64, newest, "a gap below {newest}");
    }
    // Without following, the pages read after the start added records it does not take.
    let bounded_newest = *bounded.iter().max().unwrap();
    assert!(
        last - bounded_newest > 50 * 10,
        "{bounded_newest} of {last}: a bounded export stops at the start's highest ID"
    );
    // Following, it stops only at a page that is not full: what is left is at most what the
    // rest of that last batch call (50 pages of 10 new records) inserted after it.
    let followed_newest = *followed.iter().max().unwrap();
    assert!(
        last_followed - followed_newest <= 50 * 10,
        "{followed_newest} of {last_followed}: a following export catches up"
    );
}

#[tokio::test]
async fn a_server_that_ignores_the_id_filter_is_reported_not_looped() {
    let store = Arc::new(Mutex::new(Store::with_records(200)));
    let (server, batches) = portal::start(store).await;
    let items: Vec<_> = client(&server)
        .export(&StuckList::default())
        .pages_per_call(5)
        .stream()
        .collect()
        .await;
    let ids: Vec<i64> = items
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|r| r.id.get())
        .collect();
    assert_eq!(
        ids,
        (1..=50).collect::<Vec<_>>(),
        "no duplicates before the stall is seen"
    );
    assert!(
        matches!(items.last(), Some(Err(Error::StalledCursor { .. }))),
        "{:?}",
        items.last()
    );
    assert_eq!(batches.load(std::sync::atomic::Ordering::SeqCst), 1);
}
