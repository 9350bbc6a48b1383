//! [`SqliteStore`]: token pairs in one SQLite file, queried on tokio's blocking pool.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use b24_runtime::store::{Claim, Replaced, StoreFuture};
use b24_runtime::{Secret, StoreError, TokenStore, Tokens};
use rusqlite::{params, Connection, OptionalExtension};

use crate::codec;

/// The migrations, in order: migration `n` is `MIGRATIONS[n - 1]`.
const MIGRATIONS: &[&str] = &[include_str!("../migrations/sqlite/0001_tokens.sql")];

/// A [`TokenStore`] in a SQLite file (WAL mode; several processes may open the same file).
///
/// Every query runs on tokio's blocking pool, one at a time per store (one connection).
/// Open one store per process and share it (`Arc`) between its clients.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
    max_claim: Option<Duration>,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn db_error(what: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |e| StoreError::with_source(format!("sqlite: {what}"), e)
}

impl SqliteStore {
    /// Opens (or creates) the store at `path` and brings its tables to the current schema.
    pub async fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        let opened = path.clone();
        let conn = tokio::task::spawn_blocking(move || -> Result<Connection, StoreError> {
            let mut conn = Connection::open(&opened).map_err(db_error("open"))?;
            // Another process writing: wait for its lock rather than failing at once.
            conn.busy_timeout(Duration::from_secs(10))
                .map_err(db_error("busy timeout"))?;
            conn.pragma_update(None, "journal_mode", "WAL")
                .map_err(db_error("journal mode"))?;
            conn.pragma_update(None, "synchronous", "NORMAL")
                .map_err(db_error("synchronous"))?;
            migrate(&mut conn)?;
            Ok(conn)
        })
        .await
        .map_err(|e| StoreError::with_source("sqlite: the opening task failed", e))??;
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
            path,
            max_claim: None,
        })
    }

    /// Claims last at most `ttl`, whatever the runtime asks: how long a process that died
    /// while refreshing keeps the others of the same portal waiting.
    pub fn claim_ttl_at_most(mut self, ttl: Duration) -> Self {
        self.max_claim = Some(ttl);
        self
    }

    /// The schema version the store is at (the number of migrations run).
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        self.run(|c| {
            c.query_row("SELECT MAX(version) FROM b24_store_migrations", [], |r| {
                r.get::<_, Option<i64>>(0)
            })
            .map(|v| v.unwrap_or(0))
            .map_err(db_error("schema version"))
        })
        .await
    }

    /// Runs `f` with the connection on the blocking pool.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::with_source("sqlite: the query task failed", e))?
    }
}

/// Runs the migrations not run yet, each in its own transaction (an exclusive one: two
/// processes opening a new file at once run each migration once).
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    conn.execute(
        "CREATE TABLE IF NOT EXISTS b24_store_migrations (version INTEGER PRIMARY KEY NOT NULL)",
        [],
    )
    .map_err(db_error("migrations table"))?;
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let version = i as i64 + 1;
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)
            .map_err(db_error("migration"))?;
        let done: bool = tx
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM b24_store_migrations WHERE version = ?1)",
                [version],
                |r| r.get(0),
            )
            .map_err(db_error("migration"))?;
        if !done {
            tx.execute_batch(sql).map_err(db_error("migration"))?;
            tx.execute(
                "INSERT INTO b24_store_migrations (version) VALUES (?1)",
                [version],
            )
            .map_err(db_error("migration"))?;
            tracing::info!(version, "b24-store: sqlite migration run");
        }
        tx.commit().map_err(db_error("migration"))?;
    }
    Ok(())
}

fn load_row(c: &Connection, member: &str) -> Result<Option<Tokens>, StoreError> {
    let text: Option<String> = c
        .query_row(
            "SELECT pair FROM b24_tokens WHERE member_id = ?1",
            [member],
            |r| r.get(0),
        )
        .optional()
        .map_err(db_error("load"))?;
    text.as_deref().map(codec::decode).transpose()
}

impl TokenStore for SqliteStore {
    fn load<'a>(&'a self, member_id: &'a str) -> StoreFuture<'a, Option<Tokens>> {
        let member = member_id.to_owned();
        Box::pin(self.run(move |c| load_row(c, &member)))
    }

    fn save<'a>(&'a self, tokens: &'a Tokens) -> StoreFuture<'a, ()> {
        let row = codec::member(tokens).map(|m| {
            (
                m.to_owned(),
                codec::refresh_text(tokens).map(str::to_owned),
                codec::encode(tokens),
            )
        });
        Box::pin(async move {
            let (member, refresh, pair) = row?;
            self.run(move |c| {
                c.execute(
                    "INSERT INTO b24_tokens (member_id, refresh_token, pair, updated_ms) \
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT (member_id) DO UPDATE SET \
                     refresh_token = excluded.refresh_token, pair = excluded.pair, \
                     updated_ms = excluded.updated_ms",
                    params![member, refresh, pair, crate::now_ms()],
                )
                .map_err(db_error("save"))?;
                c.execute("DELETE FROM b24_claims WHERE member_id = ?1", [&member])
                    .map_err(db_error("save"))?;
                Ok(())
            })
            .await
        })
    }

    fn replace<'a>(
        &'a self,
        expected: &'a Secret,
        tokens: &'a Tokens,
    ) -> StoreFuture<'a, Replaced> {
        let row = codec::member(tokens).map(|m| {
            (
                m.to_owned(),
                codec::refresh_text(tokens).map(str::to_owned),
                codec::encode(tokens),
                expected.expose().to_owned(),
            )
        });
        Box::pin(async move {
            let (member, refresh, pair, expected) = row?;
            self.run(move |c| {
                let tx = c
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                    .map_err(db_error("replace"))?;
                let changed = tx
                    .execute(
                        "UPDATE b24_tokens SET refresh_token = ?2, pair = ?3, updated_ms = ?4 \
                         WHERE member_id = ?1 AND refresh_token = ?5",
                        params![member, refresh, pair, crate::now_ms(), expected],
                    )
                    .map_err(db_error("replace"))?;
                let answer = if changed == 1 {
                    Replaced::Stored
                } else {
                    Replaced::Changed(load_row(&tx, &member)?.map(Box::new))
                };
                tx.commit().map_err(db_error("replace"))?;
                Ok(answer)
            })
            .await
        })
    }

    fn claim<'a>(
        &'a self,
        member_id: &'a str,
        refresh: &'a Secret,
        ttl: Duration,
    ) -> StoreFuture<'a, Claim> {
        let (member, refresh) = (member_id.to_owned(), refresh.expose().to_owned());
        let ttl = self.max_claim.map_or(ttl, |most| ttl.min(most));
        Box::pin(self.run(move |c| {
            let now = crate::now_ms();
            // Taken unless an unexpired claim on the same refresh token exists.
            let taken = c
                .execute(
                    "INSERT INTO b24_claims (member_id, refresh_token, until_ms) \
                     VALUES (?1, ?2, ?3) ON CONFLICT (member_id) DO UPDATE SET \
                     refresh_token = excluded.refresh_token, until_ms = excluded.until_ms \
                     WHERE b24_claims.refresh_token <> excluded.refresh_token \
                     OR b24_claims.until_ms <= ?4",
                    params![member, refresh, crate::until_ms(ttl), now],
                )
                .map_err(db_error("claim"))?;
            Ok(if taken == 1 {
                Claim::Granted
            } else {
                Claim::Held
            })
        }))
    }

    fn release<'a>(&'a self, member_id: &'a str, refresh: &'a Secret) -> StoreFuture<'a, ()> {
        let (member, refresh) = (member_id.to_owned(), refresh.expose().to_owned());
        Box::pin(self.run(move |c| {
            c.execute(
                "DELETE FROM b24_claims WHERE member_id = ?1 AND refresh_token = ?2",
                params![member, refresh],
            )
            .map_err(db_error("release"))?;
            Ok(())
        }))
    }
}
