//! [`PgStore`]: token pairs in PostgreSQL through tokio-postgres.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, RwLock};
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
/// A connection the server dropped (a restart, a failover) is opened again by the next call,
/// within [`crate::RECONNECT_ATTEMPTS`] attempts spaced by a doubling pause; when the server
/// stays down, the call fails with a [`StoreError`]. A statement whose connection broke while
/// it was under way is sent again on the new connection when sending it twice changes nothing
/// (a load, a save, a compare-and-set replace, a release), but not a claim (the call fails;
/// the refresh that asked fails with [`b24_runtime::RefreshError::Store`] and the next one
/// claims again).
///
/// Connects without TLS (a database on the same host or network); the connection string is
/// never shown: `Debug` names only the host and database.
pub struct PgStore {
    config: tokio_postgres::Config,
    client: RwLock<Arc<Client>>,
    /// Held while a connection is opened again (one reconnect at a time).
    reconnecting: tokio::sync::Mutex<()>,
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
        let mut config = config;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let mut client = open(&config).await.map_err(db_error("connect"))?;
        migrate(&mut client).await?;
        Ok(PgStore {
            config,
            client: RwLock::new(Arc::new(client)),
            reconnecting: tokio::sync::Mutex::new(()),
            shown,
        })
    }

    /// The schema version the store is at (the number of migrations run).
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let row = self
            .run("schema version", Resend::Yes, |c| async move {
                c.query_one("SELECT MAX(version) FROM b24_store_migrations", &[])
                    .await
            })
            .await?;
        Ok(row.get::<_, Option<i64>>(0).unwrap_or(0))
    }

    async fn load_row(&self, member: &str) -> Result<Option<Tokens>, StoreError> {
        let row = self
            .run("load", Resend::Yes, |c| async move {
                c.query_opt(
                    "SELECT pair FROM b24_tokens WHERE member_id = $1",
                    &[&member],
                )
                .await
            })
            .await?;
        row.map(|r| codec::decode(r.get::<_, &str>(0))).transpose()
    }

    fn current(&self) -> Arc<Client> {
        Arc::clone(&self.client.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// An open connection: the current one, or a new one when the server dropped it.
    async fn connection(&self, what: &'static str) -> Result<Arc<Client>, StoreError> {
        let client = self.current();
        if !client.is_closed() {
            return Ok(client);
        }
        let _one = self.reconnecting.lock().await;
        let client = self.current();
        if !client.is_closed() {
            return Ok(client); // another call opened it meanwhile
        }
        tracing::warn!("b24-store: the postgres connection was lost; connecting again");
        let fresh = crate::with_backoff(|| open(&self.config))
            .await
            .map_err(db_error(what))?;
        let fresh = Arc::new(fresh);
        *self.client.write().unwrap_or_else(|p| p.into_inner()) = Arc::clone(&fresh);
        tracing::info!("b24-store: connected to postgres again");
        Ok(fresh)
    }

    /// Runs `query` on an open connection; when the connection broke under it, once more on a
    /// new one if `resend` allows.
    async fn run<'a, T, F, Fut>(
        &self,
        what: &'static str,
        resend: Resend,
        query: F,
    ) -> Result<T, StoreError>
    where
        F: Fn(Arc<Client>) -> Fut + 'a,
        Fut: Future<Output = Result<T, tokio_postgres::Error>> + 'a,
    {
        let client = self.connection(what).await?;
        match query(client).await {
            Err(e) if e.is_closed() && resend == Resend::Yes => {
                let client = self.connection(what).await?;
                query(client).await.map_err(db_error(what))
            }
            other => other.map_err(db_error(what)),
        }
    }
}

/// The connect timeout when the connection string sets none.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether a statement may be sent again after its connection broke while it was under way.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Resend {
    /// Sending it twice changes nothing.
    Yes,
    /// It may have run: not sent again.
    No,
}

/// Opens a connection; it runs on a task of the current runtime.
async fn open(config: &tokio_postgres::Config) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!("b24-store: the postgres connection ended: {e}");
        }
    });
    Ok(client)
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
            let (refresh, pair, now) = (&refresh, &pair, crate::now_ms());
            // One statement: the pair stored and the portal's claim dropped together.
            self.run("save", Resend::Yes, |c| async move {
                c.execute(
                    "WITH saved AS (INSERT INTO b24_tokens \
                     (member_id, refresh_token, pair, updated_ms) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (member_id) DO UPDATE SET refresh_token = EXCLUDED.refresh_token, \
                     pair = EXCLUDED.pair, updated_ms = EXCLUDED.updated_ms RETURNING member_id) \
                     DELETE FROM b24_claims WHERE member_id IN (SELECT member_id FROM saved)",
                    &[&member, refresh, pair, &now],
                )
                .await
            })
            .await?;
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
            let (refresh, pair, now) = (&refresh, &pair, crate::now_ms());
            // Sent again, it finds the pair it stored and answers `Changed` with it, which the
            // refresh takes as its own.
            let changed = self
                .run("replace", Resend::Yes, |c| async move {
                    c.execute(
                        "UPDATE b24_tokens SET refresh_token = $2, pair = $3, updated_ms = $4 \
                         WHERE member_id = $1 AND refresh_token = $5",
                        &[&member, refresh, pair, &now, &expected.expose()],
                    )
                    .await
                })
                .await?;
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
            let (until, now) = (crate::until_ms(ttl), crate::now_ms());
            // Sent again after it ran, it would find its own claim and answer `Held`.
            let taken = self
                .run("claim", Resend::No, |c| async move {
                    c.execute(
                        "INSERT INTO b24_claims (member_id, refresh_token, until_ms) \
                         VALUES ($1, $2, $3) ON CONFLICT (member_id) DO UPDATE SET \
                         refresh_token = EXCLUDED.refresh_token, until_ms = EXCLUDED.until_ms \
                         WHERE b24_claims.refresh_token <> EXCLUDED.refresh_token \
                         OR b24_claims.until_ms <= $4",
                        &[&member_id, &refresh.expose(), &until, &now],
                    )
                    .await
                })
                .await?;
            Ok(if taken == 1 {
                Claim::Granted
            } else {
                Claim::Held
            })
        })
    }

    fn release<'a>(&'a self, member_id: &'a str, refresh: &'a Secret) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.run("release", Resend::Yes, |c| async move {
                c.execute(
                    "DELETE FROM b24_claims WHERE member_id = $1 AND refresh_token = $2",
                    &[&member_id, &refresh.expose()],
                )
                .await
            })
            .await?;
            Ok(())
        })
    }
}
