//! Round-trip checks for the conformance tests (written into the conformance crate by
//! `b24-codegen conformance`).

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// Why an example did not survive the round trip.
#[derive(Debug)]
pub struct Failure {
    /// `decode`, `lost`, `altered` or `added`.
    pub kind: &'static str,
    /// Where in the JSON, and what.
    pub detail: String,
}

/// Deserializes `original` into `T`, serializes it again and compares, key order aside: nothing
/// may be added, lost or altered.
pub fn round_trip<T: DeserializeOwned + Serialize>(original: &Value) -> Result<(), Failure> {
    let typed: T = serde_json::from_value(original.clone()).map_err(|e| Failure {
        kind: "decode",
        detail: e.to_string(),
    })?;
    let again = serde_json::to_value(&typed).map_err(|e| Failure {
        kind: "encode",
        detail: e.to_string(),
    })?;
    compare("$", original, &again)
}

fn compare(at: &str, original: &Value, again: &Value) -> Result<(), Failure> {
    match (original, again) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, value) in a {
                let path = format!("{at}.{key}");
                match b.get(key) {
                    Some(other) => compare(&path, value, other)?,
                    None => {
                        return Err(Failure {
                            kind: "lost",
                            detail: format!("{path} ({value}) is missing after the round trip"),
                        })
                    }
                }
            }
            match b.iter().find(|(key, _)| !a.contains_key(*key)) {
                Some((key, value)) => Err(Failure {
                    kind: "added",
                    detail: format!("{at}.{key} = {value} was not in the example"),
                }),
                None => Ok(()),
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .try_for_each(|(i, (x, y))| compare(&format!("{at}[{i}]"), x, y)),
        (a, b) if a == b => Ok(()),
        (a, b) => Err(Failure {
            kind: "altered",
            detail: format!("{at}: {a} came back as {b}"),
        }),
    }
}

/// Panics with a message the CLI can count by kind.
pub fn check<T: DeserializeOwned + Serialize>(place: &str, json: &str) {
    let original: Value = match serde_json::from_str(json) {
        Ok(value) => value,
        Err(e) => panic!("{place}: conformance failure [example]: {e}"),
    };
    if let Err(failure) = round_trip::<T>(&original) {
        panic!(
            "{place}: conformance failure [{}]: {}",
            failure.kind, failure.detail
        );
    }
}

/// Form-encodes the event payload `json` as a portal posts it and decodes it as `E` (the
/// generated `events::Event`); panics with a countable message when the body does not parse.
pub fn deliver<E: b24_runtime::events::FromEvent>(place: &str, json: &str) -> E {
    let payload: Value = match serde_json::from_str(json) {
        Ok(value) => value,
        Err(e) => panic!("{place}: conformance failure [example]: {e}"),
    };
    let body = b24_runtime::query::http_build_query(&payload);
    match b24_runtime::events::Event::parse(body.as_bytes()) {
        Ok(raw) => E::from_event(raw),
        Err(e) => panic!("{place}: conformance failure [delivery]: {e}"),
    }
}

/// Whether `json` decodes as `T` (the value is dropped: what is timed is the decoding).
pub fn decodes<T: DeserializeOwned>(json: &str) -> bool {
    std::hint::black_box(serde_json::from_str::<T>(json)).is_ok()
}

/// The time one decoding of `json` by `decode` takes: the least of three means, each of as many
/// runs as fit in about a millisecond (at least 8), after one run to warm up. The least, because
/// a window the scheduler interrupted only ever reads slower (one such window once read an
/// example 72 times slower and moved the sum over 1,300 examples by a seventh).
fn time_per_run(json: &str, decode: &dyn Fn(&str) -> bool) -> std::time::Duration {
    decode(json);
    (0..3)
        .map(|_| mean_over_a_millisecond(json, decode))
        .min()
        .unwrap_or_default()
}

/// The mean time of `decode(json)` over runs in batches that double until a millisecond has
/// passed, the clock read once a batch: read every run, it costs as much as decoding a small
/// example and pulls every ratio towards 1.
fn mean_over_a_millisecond(json: &str, decode: &dyn Fn(&str) -> bool) -> std::time::Duration {
    let start = std::time::Instant::now();
    let (mut runs, mut batch) = (0u32, 8u32);
    loop {
        for _ in 0..batch {
            decode(json);
        }
        runs += batch;
        let elapsed = start.elapsed();
        if elapsed >= std::time::Duration::from_millis(1) {
            return elapsed / runs;
        }
        batch = batch.saturating_mul(2);
    }
}

/// Whether `json` decodes as `T`'s derive twin: a `#[derive(Deserialize)]` type with the same
/// fields, wire names and value types, which skips unknown keys (with the crate's `twin`
/// feature).
#[cfg(feature = "twin")]
pub fn twin<T: b24_runtime::__private::Twin>(json: &str) -> bool {
    decodes::<T::Twin>(json)
}

/// One example's decoding times.
struct Timed<'a> {
    place: &'a str,
    bytes: usize,
    generated: std::time::Duration,
    /// `None`: the derive twin does not read the example (e.g. `[]` for a structure).
    twin: Option<std::time::Duration>,
    value: std::time::Duration,
    floor: std::time::Duration,
}

/// A decoder the bench times: whether it read the example.
pub type Decoder = fn(&str) -> bool;

/// Times, for every case `(place, json, generated, twin)`, decoding the example into its
/// generated type, into that type's derive twin, into a `serde_json::Value`, and into
/// `IgnoredAny` (parsing and nothing kept: a floor no decoder can beat). Prints the totals and
/// the spread of the per-example ratios. Cases the generated type does not decode (failures the
/// tests report) are left out and counted, and so are, for the comparison with the twin, the
/// cases the twin does not decode.
pub fn bench_decode(cases: &[(&str, &str, Decoder, Decoder)]) {
    let value = |json: &str| decodes::<Value>(json);
    let ignored = |json: &str| decodes::<serde::de::IgnoredAny>(json);
    let mut rows = Vec::new();
    for &(place, json, decode, twin) in cases {
        if decode(json) {
            rows.push(Timed {
                place,
                bytes: json.len(),
                generated: time_per_run(json, &decode),
                twin: twin(json).then(|| time_per_run(json, &twin)),
                value: time_per_run(json, &value),
                floor: time_per_run(json, &ignored),
            });
        }
    }
    let sum = |f: fn(&Timed) -> std::time::Duration| -> std::time::Duration {
        rows.iter().map(f).sum()
    };
    let (generated, value, floor) = (sum(|r| r.generated), sum(|r| r.value), sum(|r| r.floor));
    println!(
        "{} examples ({} bytes), {} left out (they do not decode)",
        rows.len(),
        rows.iter().map(|r| r.bytes).sum::<usize>(),
        cases.len() - rows.len()
    );
    println!("decoding each once: generated {generated:?}, Value {value:?}, IgnoredAny {floor:?}");
    println!(
        "generated / Value {:.2}x, generated / IgnoredAny {:.2}x (sums)",
        generated.as_secs_f64() / value.as_secs_f64(),
        generated.as_secs_f64() / floor.as_secs_f64()
    );
    spread(
        "generated / Value",
        rows.iter()
            .map(|r| (r.generated.as_secs_f64() / r.value.as_secs_f64(), r.place))
            .collect(),
    );
    let paired: Vec<(&Timed, std::time::Duration)> =
        rows.iter().filter_map(|r| Some((r, r.twin?))).collect();
    let (generated, twin): (std::time::Duration, std::time::Duration) = (
        paired.iter().map(|(r, _)| r.generated).sum(),
        paired.iter().map(|(_, t)| *t).sum(),
    );
    println!(
        "derive twin: {} examples ({} bytes; {} it does not read left out): generated {generated:?}, twin {twin:?}, generated / twin {:.2}x (sums)",
        paired.len(),
        paired.iter().map(|(r, _)| r.bytes).sum::<usize>(),
        rows.len() - paired.len(),
        generated.as_secs_f64() / twin.as_secs_f64()
    );
    spread(
        "generated / derive twin",
        paired
            .iter()
            .map(|(r, t)| (r.generated.as_secs_f64() / t.as_secs_f64(), r.place))
            .collect(),
    );
}

/// Prints the median, p90 and maximum of per-example `ratios`, and the five highest.
fn spread(what: &str, mut ratios: Vec<(f64, &str)>) {
    ratios.sort_by(|a, b| a.0.total_cmp(&b.0));
    let at = |q: f64| {
        let i = ((ratios.len().saturating_sub(1)) as f64 * q) as usize;
        ratios.get(i).map_or(0.0, |r| r.0)
    };
    println!(
        "per example, {what}: median {:.2}x, p90 {:.2}x, max {:.2}x; the five highest:",
        at(0.5),
        at(0.9),
        at(1.0)
    );
    for (ratio, place) in ratios.iter().rev().take(5) {
        println!("  {ratio:.2}x {place}");
    }
}
