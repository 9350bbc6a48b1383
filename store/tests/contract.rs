//! One contract suite, run against every token store: MemoryStore, SQLite (a temporary file,
//! two connections) and PostgreSQL (a temporary server, two connections).

mod support;

use b24_runtime::MemoryStore;
use b24_store::{PgStore, SqliteStore};
use support::{contract, Postgres, TempDir};

#[tokio::test]
async fn memory_store_keeps_the_contract() {
    let store = MemoryStore::new();
    contract(&store, &store).await;
}

#[tokio::test]
async fn sqlite_store_keeps_the_contract_across_connections() {
    let dir = TempDir::new("sqlite");
    let path = dir.0.join("tokens.db");
    let a = SqliteStore::open(&path).await.expect("open");
    let b = SqliteStore::open(&path).await.expect("open again");
    assert_eq!(a.schema_version().await.expect("version"), 1);
    assert_eq!(
        b.schema_version().await.expect("version"),
        1,
        "migrations run once"
    );
    contract(&a, &b).await;
    let shown = format!("{a:?}");
    assert!(
        shown.contains("tokens.db") && !shown.contains("a3"),
        "{shown}"
    );
}

#[tokio::test]
async fn sqlite_store_reports_an_unopenable_file() {
    let dir = TempDir::new("sqlite-bad");
    // A directory is not a database file.
    let e = SqliteStore::open(&dir.0).await.expect_err("not a file");
    assert!(e.to_string().contains("sqlite"), "{e}");
}

#[tokio::test]
async fn postgres_store_keeps_the_contract_across_connections() {
    let Some(pg) = Postgres::start() else { return };
    let a = PgStore::connect(&pg.config()).await.expect("connect");
    let b = PgStore::connect(&pg.config()).await.expect("connect again");
    assert_eq!(a.schema_version().await.expect("version"), 1);
    assert_eq!(
        b.schema_version().await.expect("version"),
        1,
        "migrations run once"
    );
    contract(&a, &b).await;
    let shown = format!("{a:?}");
    assert!(
        shown.contains("127.0.0.1") && !shown.contains("user=b24"),
        "{shown}"
    );
    let e = PgStore::connect("host=127.0.0.1 port=1 user=b24 password=hunter2 connect_timeout=2")
        .await
        .expect_err("nothing listens on port 1");
    assert!(!format!("{e} {e:?}").contains("hunter2"));
}
