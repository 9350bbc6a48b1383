//! Typed batches against a stateful server: encoding, references, per-command errors, halt,
//! chunking above 50 commands.

mod support;

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use b24_runtime::batch::Batch;
use b24_runtime::{Client, Error};
use serde_json::json;
use support::methods::*;
use support::portal::{self, Store};

fn client(server: &support::Server) -> Client {
    Client::builder()
        .webhook(server.webhook())
        .build()
        .expect("client")
}

#[tokio::test]
async fn commands_are_encoded_for_php_and_references_resolve_on_the_server() {
    let store = Arc::new(Mutex::new(Store::default()));
    let (server, batches) = portal::start(store.clone()).await;
    let mut batch = Batch::new();
    let added = batch
        .add(&RecordAdd { fields: json!({"TITLE": "John&Martin", "OPENED": true, "TAGS": ["a b", "ü"], "EMPTY": [], "NONE": null}) })
        .expect("add");
    let got = batch
        .add_with(&RecordGet { id: json!(0) }, [added.result().bind(&["id"])])
        .expect("get");
    let results = client(&server).batch(&batch).await.expect("batch");
    assert_eq!(batches.load(Ordering::SeqCst), 1);

    let id = results.get(&added).expect("added");
    let record = results.get(&got).expect("got");
    assert_eq!(record.id.get(), id.get());
    assert_eq!(record.extra["TITLE"], "John&Martin");
    assert_eq!(record.extra["OPENED"], "1");
    assert_eq!(record.extra["TAGS"], json!(["a b", "ü"]));
    assert!(record.extra.get("EMPTY").is_none() && record.extra.get("NONE").is_none());

    let body = server.requests()[0].json();
    assert_eq!(
        body,
        json!({"halt": 0, "cmd": {
            "c0": "test.record.add?fields%5BTITLE%5D=John%26Martin&fields%5BOPENED%5D=1&fields%5BTAGS%5D%5B0%5D=a+b&fields%5BTAGS%5D%5B1%5D=%C3%BC",
            "c1": "test.record.get?id=%24result%5Bc0%5D",
        }})
    );
    assert_eq!(
        server.requests()[0].path,
        format!("/rest/1/{}/batch.json", support::CODE)
    );
}

#[tokio::test]
async fn per_command_errors_are_typed_and_halt_stops_the_rest() {
    let store = Arc::new(Mutex::new(Store::with_records(3)));
    let (server, _) = portal::start(store.clone()).await;
    let c = client(&server);

    let mut batch = Batch::new();
    let ok1 = batch
        .add_named("first", &RecordGet { id: json!(1) })
        .expect("cmd");
    let missing = batch
        .add_named("missing", &RecordGet { id: json!(99) })
        .expect("cmd");
    let ok3 = batch
        .add_named("third", &RecordGet { id: json!(3) })
        .expect("cmd");
    let results = c.batch(&batch).await.expect("batch");
    assert_eq!(results.get(&ok1).expect("ok").id.get(), 1);
    assert_eq!(results.get(&ok3).expect("ok").id.get(), 3);
    let e = results.get(&missing).expect_err("missing");
    assert!(
        matches!(&e, Error::Method(RecordError::Other(a)) if a.code() == "NOT_FOUND"),
        "{e:?}"
    );
    assert_eq!(results.errors().count(), 1);

    let mut batch = Batch::new().halt(true);
    let ok1 = batch.add(&RecordGet { id: json!(1) }).expect("cmd");
    let missing = batch.add(&RecordGet { id: json!(99) }).expect("cmd");
    let after = batch.add(&RecordAdd { fields: json!({}) }).expect("cmd");
    let results = c.batch(&batch).await.expect("batch");
    assert!(results.get(&ok1).is_ok());
    assert!(results.get(&missing).is_err());
    assert!(matches!(results.get(&after), Err(Error::NotRun { .. })));
    assert!(!results.ran(after.key()));
    assert_eq!(
        store.lock().expect("store").runs.get("test.record.add"),
        None,
        "the halted write never ran"
    );
}

/// Adds `n` record adds titled `t0`, `t1`, ... to the batch.
fn add_titled(batch: &mut Batch, n: usize) -> Vec<b24_runtime::batch::Cmd<RecordAdd>> {
    (0..n)
        .map(|i| {
            batch
                .add(&RecordAdd {
                    fields: json!({"TITLE": format!("t{i}")}),
                })
                .expect("add")
        })
        .collect()
}

#[tokio::test]
async fn commands_refused_for_the_time_budget_are_sent_again_and_run_once() {
    for halt in [false, true] {
        let store = Arc::new(Mutex::new(Store {
            refuse_adds: 1,
            ..Store::default()
        }));
        let (server, batches) = portal::start(store.clone()).await;
        let c = client(&server);
        let mut batch = Batch::new().halt(halt);
        let cmds = add_titled(&mut batch, 3);
        // The last add's record, read by its id (with halt, sent again after the first add).
        let get = batch
            .add_with(
                &RecordGet { id: json!(0) },
                [cmds[2].result().bind(&["id"])],
            )
            .expect("get");
        let started = std::time::Instant::now();
        let results = c.batch(&batch).await.expect("batch");
        // The first add was refused, unrun: it (and, with halt, everything after it) went again
        // once the budget was released.
        assert!(
            started.elapsed() >= std::time::Duration::from_millis(250),
            "halt={halt}"
        );
        assert_eq!(batches.load(Ordering::SeqCst), 2, "halt={halt}");
        let ids: Vec<i64> = cmds
            .iter()
            .map(|cmd| results.get(cmd).expect("added").get())
            .collect();
        assert_eq!(results.get(&get).expect("got").id.get(), ids[2]);
        let st = store.lock().expect("store");
        assert_eq!(
            st.runs.get("test.record.add"),
            Some(&3),
            "halt={halt}: each add ran once"
        );
        let titles: BTreeSet<String> = st
            .records
            .values()
            .map(|r| r["TITLE"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(titles.len(), 3, "halt={halt}: {titles:?}");
        assert_eq!(results.errors().count(), 0);
    }
}

#[tokio::test]
async fn more_than_fifty_commands_are_chunked_and_references_cross_chunks() {
    let store = Arc::new(Mutex::new(Store::default()));
    let (server, batches) = portal::start(store.clone()).await;
    let mut batch = Batch::new().halt(true);
    let adds = add_titled(&mut batch, 120);
    let gets: Vec<_> = adds
        .iter()
        .map(|a| {
            batch
                .add_with(&RecordGet { id: json!(0) }, [a.result().bind(&["id"])])
                .expect("get")
        })
        .collect();
    let results = client(&server).batch(&batch).await.expect("batch");
    assert_eq!(
        batches.load(Ordering::SeqCst),
        5,
        "240 commands in chunks of 50"
    );
    for (i, (a, g)) in adds.iter().zip(&gets).enumerate() {
        let id = results.get(a).expect("add");
        let rec = results.get(g).expect("get");
        assert_eq!(rec.id.get(), id.get());
        assert_eq!(rec.extra["TITLE"], format!("t{i}"));
    }
    let st = store.lock().expect("store");
    assert_eq!(
        st.runs["test.record.add"], 120,
        "each write ran exactly once"
    );
    assert_eq!(st.records.len(), 120);
    for r in server.requests() {
        let n = r.json()["cmd"].as_object().map_or(0, |m| m.len());
        assert!(n <= 50);
    }
}

#[tokio::test]
async fn bad_batches_are_refused_before_sending() {
    let mut batch = Batch::new();
    assert!(matches!(
        batch.add(&TaskAdd { fields: json!({}) }),
        Err(Error::InvalidArgument(_))
    ));
    batch
        .add_named("a", &RecordGet { id: json!(1) })
        .expect("ok");
    assert!(
        batch.add_named("a", &RecordGet { id: json!(1) }).is_err(),
        "duplicate key"
    );
    assert!(
        batch.add_named("a]b", &RecordGet { id: json!(1) }).is_err(),
        "bracket in key"
    );
    assert!(
        batch.add_named("12", &RecordGet { id: json!(1) }).is_err(),
        "numeric key"
    );
    let mut other = Batch::new();
    let foreign = other.add(&RecordAdd { fields: json!({}) }).expect("ok");
    let mut fresh = Batch::new();
    assert!(
        fresh
            .add_with(
                &RecordGet { id: json!(0) },
                [foreign.result().bind(&["id"])]
            )
            .is_err(),
        "a reference to a command of another batch"
    );
    assert_eq!(
        foreign.result().bind(&["x"]).clone().to_owned_debug(),
        "Binding"
    );
}

trait DebugName {
    fn to_owned_debug(&self) -> String;
}

impl DebugName for b24_runtime::batch::Binding {
    fn to_owned_debug(&self) -> String {
        format!("{self:?}")
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_owned()
    }
}

#[test]
fn references_read_like_the_server_syntax() {
    let mut batch = Batch::new();
    let list = batch
        .add_named("users", &RecordList::default())
        .expect("cmd");
    assert_eq!(
        list.result().index(0).field::<String>("ID").expression(),
        "$result[users][0][ID]"
    );
}
