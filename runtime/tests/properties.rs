//! Property tests: PHP query encoding, and the client bucket's arithmetic.

use std::time::Duration;

use b24_runtime::query::{http_build_query, parse_query};
use b24_runtime::RateLimit;
use governor::clock::FakeRelativeClock;
use governor::RateLimiter;
use proptest::prelude::*;
use serde_json::{Map, Value};

/// What PHP's `parse_str` gives back for a value `http_build_query` wrote: scalars become
/// strings (`true` → "1", `false` → "0"), `null` and empty arrays vanish, a list stays a list.
fn php_round_trip(v: &Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::Bool(b) => Some(Value::String(if *b { "1" } else { "0" }.into())),
        Value::Number(n) => Some(Value::String(n.to_string())),
        Value::String(s) => Some(Value::String(s.clone())),
        Value::Array(items) => {
            // Elements that vanish leave gaps in the indexes: PHP then keeps an object.
            let kept: Vec<(usize, Value)> = items
                .iter()
                .enumerate()
                .filter_map(|(i, x)| php_round_trip(x).map(|x| (i, x)))
                .collect();
            if kept.is_empty() {
                None
            } else if kept.iter().enumerate().all(|(pos, (i, _))| pos == *i) {
                Some(Value::Array(kept.into_iter().map(|(_, x)| x).collect()))
            } else {
                Some(Value::Object(
                    kept.into_iter().map(|(i, x)| (i.to_string(), x)).collect(),
                ))
            }
        }
        Value::Object(m) => {
            let kept: Map<String, Value> = m
                .iter()
                .filter_map(|(k, x)| php_round_trip(x).map(|x| (k.clone(), x)))
                .collect();
            (!kept.is_empty()).then_some(Value::Object(kept))
        }
    }
}

fn key() -> impl Strategy<Value = String> {
    // PHP parse_str cannot carry `[`/`]` in keys, and rewrites top-level spaces and dots;
    // keys start with a letter so none looks like a list index.
    "[a-zA-Z][a-zA-Z0-9_>=<!%&+~*'\"@$-]{0,8}"
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
        "[ &=?#%+\\[\\]$]{0,6}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn http_build_query_reads_back_like_parse_str(params in prop::collection::btree_map(key(), value(), 0..6)) {
        let params = Value::Object(params.into_iter().collect());
        let encoded = http_build_query(&params);
        prop_assert!(
            encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.%+=&".contains(&b)),
            "only unreserved characters and escapes: {}", encoded
        );
        let expected = php_round_trip(&params).unwrap_or(Value::Object(Map::new()));
        prop_assert_eq!(parse_query(&encoded), expected);
    }

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
    /// its burst plus `Y·t`, within one request.
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
        let max = limit.max_requests_in(end);
        prop_assert!(admitted as f64 >= max - 1.0, "admitted {} of {}", admitted, max);
        prop_assert!(admitted as f64 <= max + 1.0, "admitted {} of {}", admitted, max);
    }
}
