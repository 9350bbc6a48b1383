//! A portal's request bucket and per-method time budget, shared in Redis by every process.
//!
//! [`RedisLimits`] is one connection (multiplexed: every client of the process shares it),
//! opened again when the server drops it (see [`RedisLimits`]);
//! [`RedisLimits::portal`] gives the [`SharedLimits`] of one portal, for
//! [`b24_runtime::ClientBuilder::shared_limits`]:
//!
//! * the bucket is a GCRA in one Lua script (atomic in Redis, on Redis's clock, so processes
//!   with skewed clocks agree): key `b24:limits:{member_id}:tat` holds the theoretical arrival
//!   time in microseconds and expires when the bucket is empty again;
//! * a method whose time budget one process found spent is paused for all: key
//!   `b24:limits:{member_id}:paused:{method}`, expiring when the pause ends.

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use b24_runtime::limits::{LimitError, LimitFuture, SharedLimits};
use b24_runtime::RateLimit;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Script};

/// The GCRA: takes one request if the bucket has room; answers 0, or the microseconds to wait.
const GCRA: &str = r"
local period = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if tat < now then tat = now end
local allow_at = tat - period * (burst - 1)
if now < allow_at then return allow_at - now end
local new_tat = tat + period
local ttl_ms = math.ceil((new_tat - now) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', ttl_ms)
return 0
";

/// Pauses a method unless a longer pause is already there.
const PAUSE: &str = r"
local left = redis.call('PTTL', KEYS[1])
if left < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 0
";

/// The longest method name kept in a key (longer ones are cut: no Bitrix24 method is near it).
const MAX_METHOD: usize = 200;

/// A connection to the Redis the app's processes share their limits in.
///
/// When the server drops the connection (a restart), the call that finds it broken opens a
/// new one, within [`crate::RECONNECT_ATTEMPTS`] attempts spaced by a doubling pause, and is
/// sent once more on it (taking from the bucket twice only makes a request wait longer;
/// reading or setting a pause twice changes nothing). When the server stays down, the call
/// fails with a [`LimitError`] and the client uses its in-process limits for that request.
#[derive(Clone)]
pub struct RedisLimits {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    config: AsyncConnectionConfig,
    /// The connection and its generation (bumped by every reconnect).
    conn: RwLock<(MultiplexedConnection, u64)>,
    /// Held while a connection is opened again (one reconnect at a time).
    reconnecting: tokio::sync::Mutex<()>,
    gcra: Script,
    pause: Script,
}

impl fmt::Debug for RedisLimits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may hold a password: not shown.
        f.debug_struct("RedisLimits").finish_non_exhaustive()
    }
}

fn redis_error(what: &'static str) -> impl FnOnce(redis::RedisError) -> LimitError {
    move |e| {
        // A redis error's text can repeat the URL it failed on: keep only its kind.
        LimitError::new(format!("redis: {what} ({:?})", e.kind()))
    }
}

impl RedisLimits {
    /// Connects to `url` (`redis://127.0.0.1:6379/`); every query then fails after 2 s
    /// without an answer (the client falls back to its in-process limits for that request).
    pub async fn connect(url: &str) -> Result<RedisLimits, LimitError> {
        let client = redis::Client::open(url).map_err(redis_error("the URL does not parse"))?;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Duration::from_secs(5))
            .set_response_timeout(Duration::from_secs(2));
        let conn = client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(redis_error("connect"))?;
        Ok(RedisLimits {
            inner: Arc::new(Inner {
                client,
                config,
                conn: RwLock::new((conn, 0)),
                reconnecting: tokio::sync::Mutex::new(()),
                gcra: Script::new(GCRA),
                pause: Script::new(PAUSE),
            }),
        })
    }

    fn current(&self) -> (MultiplexedConnection, u64) {
        self.inner
            .conn
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// A new connection in place of generation `broken` (unless another call replaced it
    /// meanwhile).
    async fn reconnect(&self, broken: u64) -> Result<MultiplexedConnection, redis::RedisError> {
        let _one = self.inner.reconnecting.lock().await;
        let (conn, generation) = self.current();
        if generation != broken {
            return Ok(conn);
        }
        tracing::warn!("b24-store: the redis connection was lost; connecting again");
        let inner = &self.inner;
        let fresh = crate::with_backoff(|| {
            inner
                .client
                .get_multiplexed_async_connection_with_config(&inner.config)
        })
        .await?;
        *inner.conn.write().unwrap_or_else(|p| p.into_inner()) = (fresh.clone(), broken + 1);
        tracing::info!("b24-store: connected to redis again");
        Ok(fresh)
    }

    /// Runs `query` on the connection; when the connection is broken, once more on a new one.
    async fn run<T, F, Fut>(&self, what: &'static str, query: F) -> Result<T, LimitError>
    where
        F: Fn(MultiplexedConnection) -> Fut,
        Fut: std::future::Future<Output = Result<T, redis::RedisError>>,
    {
        let (conn, generation) = self.current();
        match query(conn).await {
            Err(e) if broken(&e) => {
                let conn = self
                    .reconnect(generation)
                    .await
                    .map_err(redis_error(what))?;
                query(conn).await.map_err(redis_error(what))
            }
            other => other.map_err(redis_error(what)),
        }
    }

    /// The shared limits of the portal `member_id`.
    pub fn portal(&self, member_id: &str) -> Arc<dyn SharedLimits> {
        Arc::new(PortalLimits {
            redis: self.clone(),
            prefix: format!("b24:limits:{member_id}"),
        })
    }
}

/// True when `e` says the connection is gone (not a slow answer, not a refused command).
fn broken(e: &redis::RedisError) -> bool {
    !e.is_timeout() && (e.is_unrecoverable_error() || e.is_connection_dropped())
}

/// One portal's limits in Redis (see [`RedisLimits::portal`]).
#[derive(Debug)]
struct PortalLimits {
    redis: RedisLimits,
    prefix: String,
}

impl PortalLimits {
    fn paused_key(&self, method: &str) -> String {
        let mut end = method.len().min(MAX_METHOD);
        while !method.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}:paused:{}", self.prefix, &method[..end])
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1)
}

impl SharedLimits for PortalLimits {
    fn take<'a>(&'a self, limit: &'a RateLimit) -> LimitFuture<'a, Duration> {
        Box::pin(async move {
            let key = format!("{}:tat", self.prefix);
            let (period, burst) = (micros(limit.period()), limit.client_burst());
            let gcra = &self.redis.inner.gcra;
            let wait: i64 = self
                .redis
                .run("bucket", |mut conn| {
                    let mut call = gcra.key(&key);
                    call.arg(period).arg(burst);
                    async move { call.invoke_async(&mut conn).await }
                })
                .await?;
            Ok(Duration::from_micros(wait.max(0) as u64))
        })
    }

    fn method_paused<'a>(&'a self, method: &'a str) -> LimitFuture<'a, Option<Duration>> {
        Box::pin(async move {
            let key = self.paused_key(method);
            let left: i64 = self
                .redis
                .run("time budget", |mut conn| {
                    let mut cmd = redis::cmd("PTTL");
                    cmd.arg(&key);
                    async move { cmd.query_async(&mut conn).await }
                })
                .await?;
            Ok((left > 0).then(|| Duration::from_millis(left as u64)))
        })
    }

    fn pause_method<'a>(&'a self, method: &'a str, wait: Duration) -> LimitFuture<'a, ()> {
        Box::pin(async move {
            let ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1);
            let key = self.paused_key(method);
            let pause = &self.redis.inner.pause;
            let _: i64 = self
                .redis
                .run("time budget", |mut conn| {
                    let mut call = pause.key(&key);
                    call.arg(ms);
                    async move { call.invoke_async(&mut conn).await }
                })
                .await?;
            Ok(())
        })
    }
}
