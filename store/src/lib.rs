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
