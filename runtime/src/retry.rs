//! When a call is sent again, and how long to wait before it.
//!
//! A read is retried after transport errors, timeouts and 5xx answers. A write is re-sent only
//! after an answer that proves the server did not run it (503 `QUERY_LIMIT_EXCEEDED`, 429
//! `OPERATION_TIME_LIMIT`, 401 `expired_token` before a refresh, a connection that was never
//! made), unless it carries an `Idempotency-Key` (REST 3.0) or the caller opted in.

use std::time::Duration;

/// The retry settings of a [`crate::Client`].
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    pub(crate) max_attempts: u32,
    pub(crate) max_limit_retries: u32,
    pub(crate) backoff_base: Duration,
    pub(crate) backoff_max: Duration,
    pub(crate) limit_backoff_base: Duration,
    pub(crate) retry_uncertain_writes: bool,
    pub(crate) max_operating_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            max_limit_retries: 12,
            backoff_base: Duration::from_millis(200),
            backoff_max: Duration::from_secs(10),
            limit_backoff_base: Duration::from_millis(500),
            retry_uncertain_writes: false,
            max_operating_wait: Duration::from_secs(11 * 60),
        }
    }
}

impl RetryPolicy {
    /// Never retry anything except after a token refresh.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            max_limit_retries: 0,
            max_operating_wait: Duration::ZERO,
            ..RetryPolicy::default()
        }
    }

    /// Attempts for retry-safe calls after transport errors and 5xx answers (default 4; 1 = no retry).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// Retries after 503 `QUERY_LIMIT_EXCEEDED` (default 12).
    pub fn max_limit_retries(mut self, n: u32) -> Self {
        self.max_limit_retries = n;
        self
    }

    /// The first back-off after an error, doubled each time up to [`RetryPolicy::backoff_max`]
    /// (default 200 ms).
    pub fn backoff_base(mut self, d: Duration) -> Self {
        self.backoff_base = d;
        self
    }

    /// The longest back-off (default 10 s).
    pub fn backoff_max(mut self, d: Duration) -> Self {
        self.backoff_max = d;
        self
    }

    /// The first pause after a 503 (default 500 ms, one drain period of the standard bucket).
    pub fn limit_backoff_base(mut self, d: Duration) -> Self {
        self.limit_backoff_base = d;
        self
    }

    /// Also re-send writes after errors that do not prove the server skipped them (a
    /// timeout, a dropped connection, a 5xx). Off by default: such a retry may duplicate a write.
    pub fn retry_uncertain_writes(mut self, yes: bool) -> Self {
        self.retry_uncertain_writes = yes;
        self
    }

    /// The longest a call waits for its method's time budget to be released before it fails
    /// with `OperationTimeLimit` (default 11 minutes; zero = never wait).
    pub fn max_operating_wait(mut self, d: Duration) -> Self {
        self.max_operating_wait = d;
        self
    }

    /// The back-off before retry number `n` (0-based), with jitter in [50 %, 100 %].
    pub(crate) fn backoff(&self, base: Duration, n: u32) -> Duration {
        let exp = base.saturating_mul(1u32 << n.min(16)).min(self.backoff_max);
        let jitter = 0.5 + fastrand::f64() * 0.5;
        // Not `mul_f64`: it panics when a huge configured maximum rounds past `Duration::MAX`.
        Duration::try_from_secs_f64(exp.as_secs_f64() * jitter).unwrap_or(exp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::default();
        for n in 0..20 {
            let d = p.backoff(Duration::from_millis(100), n);
            let full = Duration::from_millis(100)
                .saturating_mul(1 << n.min(16))
                .min(Duration::from_secs(10));
            assert!(d >= full / 2 && d <= full, "{n}: {d:?} vs {full:?}");
        }
        // A huge configured maximum does not panic and is still a long wait.
        let huge = RetryPolicy::default().backoff_max(Duration::MAX);
        for _ in 0..100 {
            assert!(huge.backoff(Duration::MAX, 3) >= Duration::MAX / 3);
        }
    }
}
