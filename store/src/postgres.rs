//! [`PgStore`]: token pairs in PostgreSQL through tokio-postgres.

use std::fmt;
use std::time::Duration;

use b24_runtime::store::{Claim, Replaced, StoreFuture};
use b24_runtime::{Secret, StoreError, TokenStore, Tokens};
use tokio_postgres::{Client, NoTls};

use crate::codec;

/// The migrations, in order: migration `n` is `MIGRATIONS[n - 1]`.
const MIGRATIONS: &[&str] = &[include_str!("../migrations/postgres/0001_tokens.sql")];

/// The advisory lock key the migrations run under (two processes starting at once run each
/// migration once).
const MIGRATION_LOCK: i64 = 0x6232_3473_746f_7265; // "b24store"

/// A [`TokenStore`] in PostgreSQL: one connection per store, shared by every client of the
/// process (queries are pipelined on it).
///
/// Connects without TLS (a database on the same host or network); the connection string is
/// never shown: `Debug` names only the host and database.
pub struct PgStore {
    client: Client,
    shown: String,
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore")
            .field("database", &self.shown)
            .finish_non_exhaustive()
    }
}

fn db_error(what: &'static str) -> impl FnOnce(tokio_postgres::Error) -> StoreError {
    move |e| StoreError::with_source(format!("postgres: {what}"), e)
}

impl PgStore {
    /// Connects with a libpq-style connection string (`host=127.0.0.1 port=5432 user=b24
    /// dbname=b24`, or a `postgresql://` URL) and brings the tables to the current schema.
    ///
    /// The connection runs on a tokio task of the current runtime.
    pub async fn connect(config: &str) -> Result<PgStore, StoreError> {
        let config: tokio_postgres::Config = config
            .parse()
            .map_err(|_| StoreError::new("postgres: the connection string does not parse"))?;
        let hosts: Vec<String> = config
            .get_hosts()
            .iter()
            .map(|h| match h {
                tokio_postgres::config::Host::Tcp(s) => s.clone(),
                #[cfg(unix)]
                tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
            })
            .collect();
        let shown = format!(
            "{}/{}",
            hosts.join(","),
            config.get_dbname().unwrap_or_default()
        );
        let (mut client, connection) = config.connect(NoTls).await.map_err(db_error("connect"))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!("b24-store: the postgres connection ended: {e}");
            }
        });
        migrate(&mut client).await?;
        Ok(PgStore { client, shown })
    }

    /// The schema version the store is at (the number of migrations run).
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let row = self
            .client
            .query_one("SELECT MAX(version) FROM b24_store_migrations", &[])
            .await
            .map_err(db_error("schema version"))?;
        Ok(row.get::<_, Option<i64>>(0).unwrap_or(0))
    }

    async fn load_row(&self, member: &str) -> Result<Option<Tokens>, StoreError> {
        let row = self
            .client
            .query_opt(
                "SELECT pair FROM b24_tokens WHERE member_id = $1",
                &[&member],
            )
            .await
            .map_err(db_error("load"))?;
        row.map(|r| codec::decode(r.get::<_, &str>(0))).transpose()
    }
}

async fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let tx = client.transaction().await.map_err(db_error("migration"))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(db_error("migration lock"))?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS b24_store_migrations (version BIGINT PRIMARY KEY)",
    )
    .await
    .map_err(db_error("migrations table"))?;
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let version = i as i64 + 1;
        let done = tx
            .query_opt(
                "SELECT 1 FROM b24_store_migrations WHERE version = $1",
                &[&version],
            )
            .await
            .map_err(db_error("migration"))?
            .is_some();
        if !done {
            tx.batch_execute(sql).await.map_err(db_error("migration"))?;
            tx.execute(
                "INSERT INTO b24_store_migrations (version) VALUES ($1)",
                &[&version],
            )
            .await
            .map_err(db_error("migration"))?;
            tracing::info!(version, "b24-store: postgres migration run");
        }
    }
    tx.commit().await.map_err(db_error("migration"))
}

impl TokenStore for PgStore {
    fn load<'a>(&'a self, member_id: &'a str) -> StoreFuture<'a, Option<Tokens>> {
        Box::pin(self.load_row(member_id))
    }

    fn save<'a>(&'a self, tokens: &'a Tokens) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let member = codec::member(tokens)?;
            let refresh = codec::refresh_text(tokens);
            let pair = codec::encode(tokens);
            // One statement: the pair stored and the portal's claim dropped together.
            self.client
                .execute(
                    "WITH saved AS (INSERT INTO b24_tokens \
                     (member_id, refresh_token, pair, updated_ms) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (member_id) DO UPDATE SET refresh_token = EXCLUDED.refresh_token, \
                     pair = EXCLUDED.pair, updated_ms = EXCLUDED.updated_ms RETURNING member_id) \
                     DELETE FROM b24_claims WHERE member_id IN (SELECT member_id FROM saved)",
                    &[&member, &refresh, &pair, &crate::now_ms()],
                )
                .await
                .map_err(db_error("save"))?;
            Ok(())
        })
    }

    fn replace<'a>(
        &'a self,
        expected: &'a Secret,
        tokens: &'a Tokens,
    ) -> StoreFuture<'a, Replaced> {
        Box::pin(async move {
            let member = codec::member(tokens)?;
            let refresh = codec::refresh_text(tokens);
            let pair = codec::encode(tokens);
            let changed = self
                .client
                .execute(
                    "UPDATE b24_tokens SET refresh_token = $2, pair = $3, updated_ms = $4 \
                     WHERE member_id = $1 AND refresh_token = $5",
                    &[
                        &member,
                        &refresh,
                        &pair,
                        &crate::now_ms(),
                        &expected.expose(),
                    ],
                )
                .await
                .map_err(db_error("replace"))?;
            if changed == 1 {
                Ok(Replaced::Stored)
            } else {
                Ok(Replaced::Changed(
                    self.load_row(member).await?.map(Box::new),
                ))
            }
        })
    }

    fn claim<'a>(
        &'a self,
        member_id: &'a str,
        refresh: &'a Secret,
        ttl: Duration,
    ) -> StoreFuture<'a, Claim> {
        Box::pin(async move {
            let taken = self
                .client
                .execute(
                    "INSERT INTO b24_claims (member_id, refresh_token, until_ms) \
                     VALUES ($1, $2, $3) ON CONFLICT (member_id) DO UPDATE SET \
                     refresh_token = EXCLUDED.refresh_token, until_ms = EXCLUDED.until_ms \
                     WHERE b24_claims.refresh_token <> EXCLUDED.refresh_token \
                     OR b24_claims.until_ms <= $4",
                    &[
                        &member_id,
                        &refresh.expose(),
                        &crate::until_ms(ttl),
                        &crate::now_ms(),
                    ],
                )
                .await
                .map_err(db_error("claim"))?;
            Ok(if taken == 1 {
                Claim::Granted
            } else {
                Claim::Held
            })
        })
    }

    fn release<'a>(&'a self, member_id: &'a str, refresh: &'a Secret) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.client
                .execute(
                    "DELETE FROM b24_claims WHERE member_id = $1 AND refresh_token = $2",
                    &[&member_id, &refresh.expose()],
                )
                .await
                .map_err(db_error("release"))?;
            Ok(())
        })
    }
}
