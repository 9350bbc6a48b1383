//! Property tests: the client bucket's arithmetic (PHP query encoding is tested in b24-form).

use std::time::Duration;

use b24_runtime::RateLimit;
use governor::clock::FakeRelativeClock;
use governor::RateLimiter;
use proptest::prelude::*;

proptest! {
    /// Whatever the arrival pattern, the requests the client meter lets through never take
    /// the server's leaky bucket (the docs' model: +1 per request, −Y per second, refuse above
    /// X) over its limit.
    #[test]
    fn the_client_meter_never_overflows_the_server_bucket(
        burst in 1u32..300,
        rate_milli in 100u32..20_000,
        headroom in 0u32..3,
        gaps in prop::collection::vec(0u64..2_000_000_000, 1..400),
    ) {
        let limit = RateLimit::custom(burst, f64::from(rate_milli) / 1000.0).headroom(headroom);
        let clock = FakeRelativeClock::default();
        let meter = RateLimiter::direct_with_clock(limit.quota(), clock.clone());
        let (mut level, mut t) = (0.0f64, 0.0f64);
        for gap in gaps {
            clock.advance(Duration::from_nanos(gap));
            let drained = gap as f64 / 1e9 * limit.per_second();
            level = (level - drained).max(0.0);
            t += gap as f64 / 1e9;
            if meter.check().is_ok() {
                level += 1.0;
                prop_assert!(level <= f64::from(limit.burst()) + 1e-6, "level {} above {} at {}s", level, limit.burst(), t);
            }
        }
    }

    /// Offered requests continuously, the meter lets through as many as the bucket allows:
    /// its burst plus one request per whole period in the window: below `X + Y·t` by under one
    /// request for the last, partial period, and under a thousandth more for the period being
    /// rounded up to the nanosecond.
    #[test]
    fn the_client_meter_reaches_the_bucket_maximum(
        burst in 1u32..300,
        rate_milli in 100u32..20_000,
        seconds in 1u64..600,
    ) {
        let limit = RateLimit::custom(burst, f64::from(rate_milli) / 1000.0).headroom(0);
        let clock = FakeRelativeClock::default();
        let meter = RateLimiter::direct_with_clock(limit.quota(), clock.clone());
        // A caller that always waits exactly as long as the meter says (as `until_ready` does).
        let end = Duration::from_secs(seconds);
        let (mut now, mut admitted) = (Duration::ZERO, 0u64);
        loop {
            match meter.check() {
                Ok(()) => admitted += 1,
                Err(not_until) => {
                    let wait = not_until.wait_time_from(governor::clock::Clock::now(&clock));
                    if now + wait > end {
                        break;
                    }
                    clock.advance(wait);
                    now += wait;
                }
            }
        }
        let whole_periods = end.as_nanos() / limit.period().as_nanos();
        prop_assert_eq!(u128::from(admitted), u128::from(limit.burst()) + whole_periods);
        // The period is rounded up to the nanosecond, so the meter never exceeds the server's
        // `X + Y·t`; over at most 600 s that rounding costs under a thousandth of a request.
        let max = limit.max_requests_in(end);
        prop_assert!(admitted as f64 <= max + 1e-9, "admitted {} of {}", admitted, max);
        prop_assert!(admitted as f64 > max - 1.001, "admitted {} of {}", admitted, max);
    }
}
