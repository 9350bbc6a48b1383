//! Token stores and shared limits for b24 applications that serve many portals from many
//! processes.
//!
//! * [`SqliteStore`] (feature `sqlite`, the default): a [`TokenStore`] in one SQLite file, no
//!   server. Several processes on one machine may open the same file.
//! * [`PgStore`] (feature `postgres`): a [`TokenStore`] in PostgreSQL, for processes on several
//!   machines.
//! * [`redis`] (feature `redis`): the portal's request bucket (GCRA) and the per-method time
//!   budget shared in Redis by every process of the app (see [`b24_runtime::limits::SharedLimits`]).
//!
//! Both stores keep one row per portal (`member_id`) with the refresh token in its own column:
//! [`TokenStore::replace`] is one conditional `UPDATE ... WHERE refresh_token = ?` (the row is
//! changed only if its refresh token is still the one the refresh spent). Claims
//! ([`TokenStore::claim`]) are rows with an expiry, taken by one conditional upsert. The stores
//! create and migrate their tables themselves (the SQL is shipped in `migrations/`), and no
//! token ever appears in their `Debug`, logs or errors.
//!
//! [`TokenStore`]: b24_runtime::TokenStore
//! [`TokenStore::replace`]: b24_runtime::TokenStore::replace
//! [`TokenStore::claim`]: b24_runtime::TokenStore::claim

mod codec;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "redis")]
pub mod redis;
#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(feature = "postgres")]
pub use crate::postgres::PgStore;
#[cfg(feature = "redis")]
pub use crate::redis::RedisLimits;
#[cfg(feature = "sqlite")]
pub use crate::sqlite::SqliteStore;
pub use b24_runtime::store::{Claim, Replaced, StoreError, TokenStore};

/// Milliseconds since the Unix epoch (claims expire by the wall clock, which every process
/// of the app shares).
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `now_ms() + ttl`, saturating.
pub(crate) fn until_ms(ttl: std::time::Duration) -> i64 {
    now_ms().saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX))
}

/// How many times a store or the shared limits try to open a connection the server dropped
/// before the call fails (the pause between two tries starts at [`FIRST_RECONNECT_PAUSE`] and
/// doubles).
pub const RECONNECT_ATTEMPTS: u32 = 4;

/// The pause after the first failed try to connect again.
pub const FIRST_RECONNECT_PAUSE: std::time::Duration = std::time::Duration::from_millis(100);

/// Runs `connect` up to [`RECONNECT_ATTEMPTS`] times, pausing between tries; the last error
/// when none succeeds.
#[cfg(any(feature = "postgres", feature = "redis"))]
pub(crate) async fn with_backoff<T, E, F, Fut>(mut connect: F) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let mut pause = FIRST_RECONNECT_PAUSE;
    let mut attempt = 1;
    loop {
        match connect().await {
            Ok(done) => return Ok(done),
            Err(e) if attempt >= RECONNECT_ATTEMPTS => return Err(e),
            Err(_) => {
                tokio::time::sleep(pause).await;
                pause = pause.saturating_mul(2);
                attempt += 1;
            }
        }
    }
}
