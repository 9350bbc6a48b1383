//! Bitrix24's limits, mirrored on the client side.
//!
//! * The request-rate bucket (per portal and source IP): the server drains `Y` requests per
//!   second and blocks with 503 `QUERY_LIMIT_EXCEEDED` above `X`. [`RateLimit`] holds `X`/`Y`;
//!   the client meters its requests through a GCRA limiter (`governor`) with the same
//!   numbers, so in steady state it never overruns the server's bucket. After a 503 anyway
//!   (another process shares the bucket) every caller pauses for a back-off.
//! * The per-method time budget: `time.operating` seconds used in the last 10 minutes, blocked
//!   with 429 `OPERATION_TIME_LIMIT` above the portal's limit until `time.operating_reset_at`.
//!   The client tracks it per method and pauses that method only.
//!
//! Both are kept in the process by default. Processes that share a portal share its limits
//! through [`SharedLimits`] (`b24-store`'s Redis one, say), set with
//! [`crate::ClientBuilder::shared_limits`]: the bucket is then metered there alone, and a
//! method paused by one process is paused for all.

use std::collections::HashMap;
use std::future::Future;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::envelope::Time;

/// The numbers of a request-rate bucket: burst `X` and drain rate `Y` per second.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    burst: u32,
    per_second: f64,
    headroom: u32,
}

impl RateLimit {
    /// Most plans: 50 requests, drained at 2 per second.
    pub const STANDARD: RateLimit = RateLimit {
        burst: 50,
        per_second: 2.0,
        headroom: 1,
    };
    /// Enterprise plans: 250 requests, drained at 5 per second.
    pub const ENTERPRISE: RateLimit = RateLimit {
        burst: 250,
        per_second: 5.0,
        headroom: 1,
    };

    /// A custom bucket. `burst` below 1 counts as 1; a rate that is not a positive finite
    /// number counts as 1 per second.
    pub fn custom(burst: u32, per_second: f64) -> Self {
        RateLimit {
            burst: burst.max(1),
            per_second: if per_second.is_finite() && per_second > 0.0 {
                per_second
            } else {
                1.0
            },
            headroom: 1,
        }
    }

    /// Requests of the burst the client leaves unused (default 1).
    ///
    /// Requests reach the server a little later than the client lets them go, and not always
    /// in the same order; near a full bucket, a jitter of `j` seconds can make the server
    /// count up to `Y·j` more than the client did. One request of headroom covers half a
    /// second of jitter on the standard plan; faster custom buckets may need more. The
    /// sustained rate `Y` is not reduced.
    pub fn headroom(mut self, n: u32) -> Self {
        self.headroom = n;
        self
    }

    /// The burst the client meters to: `X − headroom`, at least 1.
    pub fn client_burst(&self) -> u32 {
        self.burst.saturating_sub(self.headroom).max(1)
    }

    /// The burst `X`.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// The drain rate `Y` per second.
    pub fn per_second(&self) -> f64 {
        self.per_second
    }

    /// The time one request takes to drain: `1 / Y`.
    /// Rounded up to the nanosecond, so the client is never faster than `Y`.
    pub fn period(&self) -> Duration {
        let nanos = (1e9 / self.per_second).ceil();
        Duration::from_nanos(if (1.0..1.8e19).contains(&nanos) {
            nanos as u64
        } else {
            1
        })
    }

    /// The most requests a server bucket admits over `window` starting empty: `X + Y·t`.
    pub fn max_requests_in(&self, window: Duration) -> f64 {
        f64::from(self.burst) + self.per_second * window.as_secs_f64()
    }

    /// The GCRA quota the client meters with: burst [`RateLimit::client_burst`], one request
    /// per [`RateLimit::period`].
    pub fn quota(&self) -> Quota {
        let burst = NonZeroU32::new(self.client_burst()).unwrap_or(NonZeroU32::MIN);
        Quota::with_period(self.period())
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst)
    }
}

/// The future a [`SharedLimits`] method returns.
pub type LimitFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, LimitError>> + Send + 'a>>;

/// One portal's limits kept outside the process, shared by every process that calls it.
///
/// A client with shared limits takes each request from [`SharedLimits::take`] instead of its
/// own bucket, and shares the pauses of its time budget. When the shared limits fail, the
/// client falls back to its in-process limiter for that request and logs a warning.
pub trait SharedLimits: Send + Sync {
    /// Takes one request from the portal's bucket `limit` (metered to
    /// [`RateLimit::client_burst`] and one per [`RateLimit::period`]): `Duration::ZERO` when
    /// it was taken and may go now, else how long to wait before asking again (nothing taken).
    fn take<'a>(&'a self, limit: &'a RateLimit) -> LimitFuture<'a, Duration>;

    /// How long `method` is still paused for every process (its time budget spent), if it is.
    fn method_paused<'a>(&'a self, method: &'a str) -> LimitFuture<'a, Option<Duration>>;

    /// Pauses `method` for every process for `wait`.
    fn pause_method<'a>(&'a self, method: &'a str, wait: Duration) -> LimitFuture<'a, ()>;
}

/// Shared limits failed (the server is unreachable, say). Its message names no secret.
#[derive(Debug, thiserror::Error)]
#[error("shared limits: {message}")]
pub struct LimitError {
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl LimitError {
    /// An error with a message.
    pub fn new(message: impl Into<String>) -> Self {
        LimitError {
            message: message.into(),
            source: None,
        }
    }

    /// An error caused by another one.
    pub fn with_source(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        LimitError {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }
}

/// The client-side request meter: the GCRA limiter (or the shared one) plus a pause after a
/// 503.
pub(crate) struct Limiter {
    gcra: Option<DefaultDirectRateLimiter>,
    limit: Option<RateLimit>,
    shared: Option<Arc<dyn SharedLimits>>,
    paused_until: Mutex<Option<tokio::time::Instant>>,
}

impl Limiter {
    pub(crate) fn new(limit: Option<RateLimit>, shared: Option<Arc<dyn SharedLimits>>) -> Self {
        Limiter {
            gcra: limit.map(|l| RateLimiter::direct(l.quota())),
            limit,
            shared,
            paused_until: Mutex::new(None),
        }
    }

    /// The requests the client lets through at once ([`RateLimit::client_burst`]), if it meters.
    pub(crate) fn burst(&self) -> Option<u32> {
        self.limit.map(|l| l.client_burst())
    }

    /// The shared limits, if any.
    pub(crate) fn shared(&self) -> Option<&Arc<dyn SharedLimits>> {
        self.shared.as_ref()
    }

    /// Waits until a request may be sent.
    pub(crate) async fn acquire(&self) {
        loop {
            let until = *self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
            match until {
                Some(t) if t > tokio::time::Instant::now() => tokio::time::sleep_until(t).await,
                _ => break,
            }
        }
        if let (Some(shared), Some(limit)) = (&self.shared, &self.limit) {
            loop {
                match shared.take(limit).await {
                    Ok(wait) if wait.is_zero() => return,
                    Ok(wait) => tokio::time::sleep(wait.min(MAX_WIRE_WAIT)).await,
                    Err(e) => {
                        tracing::warn!("{e}; metering this request in the process");
                        break;
                    }
                }
            }
        }
        if let Some(gcra) = &self.gcra {
            gcra.until_ready().await;
        }
    }

    /// Makes every caller hold off for `d` (after the server said the bucket is full).
    pub(crate) fn pause(&self, d: Duration) {
        let now = tokio::time::Instant::now();
        let until = now.checked_add(d).unwrap_or(now + MAX_WIRE_WAIT);
        let mut guard = self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        if !matches!(*guard, Some(t) if t >= until) {
            *guard = Some(until);
        }
    }
}

/// The longest wait an answer can impose: the time budget counts the last 10 minutes, so no
/// reset is further away than that.
pub(crate) const MAX_WIRE_WAIT: Duration = Duration::from_secs(600);

/// The longest pause after a 429 that says nothing of its reset (the configured fallback).
const MAX_FALLBACK_WAIT: Duration = Duration::from_secs(24 * 3600);

/// A wait read from the wire, in seconds: NaN and negatives are no wait, anything longer than
/// [`MAX_WIRE_WAIT`] is that. Every wait a server names goes through here.
pub(crate) fn wire_wait(secs: f64) -> Duration {
    if secs.is_nan() || secs <= 0.0 {
        return Duration::ZERO;
    }
    Duration::try_from_secs_f64(secs)
        .unwrap_or(MAX_WIRE_WAIT)
        .min(MAX_WIRE_WAIT)
}

/// How far ahead a Unix time read from the wire lies, as a [`wire_wait`]; `None` (ignored)
/// when it is not a finite number.
fn wire_time_ahead(unix: f64) -> Option<Duration> {
    unix.is_finite().then(|| wire_wait(unix - unix_now()))
}

/// The per-method time budget seen in responses, and the pauses it imposes.
pub(crate) struct OperatingBudget {
    limit: f64,
    fallback_wait: Duration,
    methods: Mutex<HashMap<String, MethodBudget>>,
}

#[derive(Default)]
struct MethodBudget {
    operating: f64,
    reset_at: Option<Instant>,
    blocked_until: Option<Instant>,
}

pub(crate) fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

impl OperatingBudget {
    pub(crate) fn new(limit: Duration, fallback_wait: Duration) -> Self {
        OperatingBudget {
            limit: limit.as_secs_f64(),
            fallback_wait: fallback_wait.min(MAX_FALLBACK_WAIT),
            methods: Mutex::new(HashMap::new()),
        }
    }

    /// Records the `time` of a successful call of `method`.
    pub(crate) fn record(&self, method: &str, time: &Time) {
        let Some(operating) = time.operating.filter(|o| o.is_finite()) else {
            return;
        };
        let now = Instant::now();
        let mut map = self.methods.lock().unwrap_or_else(|p| p.into_inner());
        if !map.contains_key(method) {
            map.insert(method.to_owned(), MethodBudget::default());
        }
        let Some(entry) = map.get_mut(method) else {
            return;
        };
        entry.operating = operating;
        if let Some(ahead) = time.operating_reset_at.and_then(wire_time_ahead) {
            entry.reset_at = Some(now + ahead);
        }
        entry.blocked_until = None;
        if operating >= self.limit {
            // The server will refuse the next call: wait for the oldest minute to be released.
            entry.blocked_until = Some(entry.reset_at.unwrap_or(now + self.fallback_wait));
        }
    }

    /// Records a 429 for `method`; returns how long to wait before trying it again.
    pub(crate) fn on_limit(&self, method: &str, time: Option<&Time>) -> Duration {
        let now = Instant::now();
        let mut map = self.methods.lock().unwrap_or_else(|p| p.into_inner());
        let entry = map.entry(method.to_owned()).or_default();
        let reset = time
            .and_then(|t| t.operating_reset_at)
            .and_then(wire_time_ahead)
            .map(|ahead| now + ahead)
            .or(entry.reset_at)
            .filter(|&r| r > now)
            // The known reset passed and the server still refuses: wait for the next basket.
            .unwrap_or(now + self.fallback_wait);
        entry.blocked_until = Some(reset);
        reset.saturating_duration_since(now)
    }

    /// How long `method` must still wait, if it is paused.
    pub(crate) fn blocked_for(&self, method: &str) -> Option<Duration> {
        let map = self.methods.lock().unwrap_or_else(|p| p.into_inner());
        let until = map.get(method)?.blocked_until?;
        until
            .checked_duration_since(Instant::now())
            .filter(|left| !left.is_zero())
    }

    /// The last `operating` seen for `method`.
    pub(crate) fn operating(&self, method: &str) -> Option<f64> {
        let map = self.methods.lock().unwrap_or_else(|p| p.into_inner());
        map.get(method).map(|m| m.operating)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets() {
        assert_eq!(RateLimit::STANDARD.burst(), 50);
        assert_eq!(RateLimit::STANDARD.period(), Duration::from_millis(500));
        assert_eq!(RateLimit::ENTERPRISE.burst(), 250);
        assert_eq!(RateLimit::ENTERPRISE.period(), Duration::from_millis(200));
        assert_eq!(RateLimit::custom(0, -1.0), RateLimit::custom(1, 1.0));
        assert_eq!(RateLimit::STANDARD.client_burst(), 49);
        assert_eq!(RateLimit::custom(3, 1.0).headroom(5).client_burst(), 1);
        assert_eq!(
            RateLimit::STANDARD.max_requests_in(Duration::from_secs(10)),
            70.0
        );
    }

    #[test]
    fn budget_pauses_only_the_spent_method() {
        let b = OperatingBudget::new(Duration::from_secs(480), Duration::from_secs(60));
        let reset = unix_now() + 30.0;
        let spent = Time {
            operating: Some(481.0),
            operating_reset_at: Some(reset),
            ..Time::default()
        };
        let fine = Time {
            operating: Some(10.0),
            operating_reset_at: Some(reset),
            ..Time::default()
        };
        b.record("crm.item.list", &spent);
        b.record("crm.item.get", &fine);
        let wait = b.blocked_for("crm.item.list").expect("paused");
        assert!(wait > Duration::from_secs(28) && wait <= Duration::from_secs(30));
        assert!(b.blocked_for("crm.item.get").is_none());
        assert!(b.blocked_for("user.current").is_none());
        assert_eq!(b.operating("crm.item.list"), Some(481.0));
        // A success below the limit lifts the pause.
        b.record("crm.item.list", &fine);
        assert!(b.blocked_for("crm.item.list").is_none());
    }

    #[test]
    fn waits_from_the_wire_are_clamped() {
        assert_eq!(wire_wait(f64::NAN), Duration::ZERO);
        assert_eq!(wire_wait(-1.0), Duration::ZERO);
        assert_eq!(wire_wait(f64::NEG_INFINITY), Duration::ZERO);
        assert_eq!(wire_wait(1.5), Duration::from_millis(1500));
        assert_eq!(wire_wait(1e300), MAX_WIRE_WAIT);
        assert_eq!(wire_wait(f64::INFINITY), MAX_WIRE_WAIT);
        assert_eq!(wire_wait(f64::MAX), MAX_WIRE_WAIT);
        let b = OperatingBudget::new(Duration::from_secs(480), Duration::MAX);
        for absurd in [f64::NAN, f64::INFINITY, -1e300, 1e300, f64::MAX, f64::MIN] {
            let t = Time {
                operating: Some(absurd),
                operating_reset_at: Some(absurd),
                ..Time::default()
            };
            b.record("m", &t);
            assert!(b.blocked_for("m").unwrap_or_default() <= MAX_FALLBACK_WAIT);
            assert!(b.on_limit("m", Some(&t)) <= MAX_FALLBACK_WAIT);
            assert!(b.blocked_for("m").unwrap_or_default() <= MAX_FALLBACK_WAIT);
        }
    }

    #[test]
    fn a_429_waits_for_the_known_reset_or_the_fallback() {
        let b = OperatingBudget::new(Duration::from_secs(480), Duration::from_secs(60));
        let w = b.on_limit("m", None);
        assert!(w > Duration::from_secs(59) && w <= Duration::from_secs(60));
        let t = Time {
            operating_reset_at: Some(unix_now() + 5.0),
            ..Time::default()
        };
        let w = b.on_limit("m", Some(&t));
        assert!(w > Duration::from_secs(4) && w <= Duration::from_secs(5));
    }
}
