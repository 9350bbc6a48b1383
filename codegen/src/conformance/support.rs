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
