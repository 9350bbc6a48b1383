//! Request parameters as PHP sees them: query strings and form bodies in the
//! `http_build_query` style (`a[b][c]=1`, `a[]=x`), JSON bodies, and PHP's way of turning
//! arrays back into JSON (`[]` for an empty array, a list for keys `0..n`).

use b24_form::{parse_str, Limits};
use serde_json::{Map, Value};

/// Bounds on one query string or form body: generous for tests, yet a hostile request (say
/// 3,000 levels of brackets in 12 KB) is refused in linear time instead of overflowing the stack.
const FORM_LIMITS: Limits = Limits {
    max_bytes: 16 << 20,
    max_depth: 64,
    max_keys: 100_000,
};

/// Parses a query string or a form body like PHP's `parse_str`, into a JSON object. A request
/// beyond [`FORM_LIMITS`] reads as having no parameters (the method then answers as PHP would
/// to a request whose variables were dropped).
pub(crate) fn parse_query(input: &[u8]) -> Map<String, Value> {
    parse_str(input, &FORM_LIMITS).unwrap_or_default()
}

/// Turns objects whose keys are exactly `"0".."n-1"` (in order) into arrays, recursively,
/// as PHP does when it encodes an array to JSON.
pub(crate) fn normalize_lists(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for inner in map.values_mut() {
                normalize_lists(inner);
            }
            if !map.is_empty() && map.keys().enumerate().all(|(i, k)| *k == i.to_string()) {
                let items = std::mem::take(map).into_iter().map(|(_, v)| v).collect();
                *value = Value::Array(items);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize_lists),
        _ => {}
    }
}

/// Merges `extra` into `base`; keys of `extra` win (as `$_POST` entries over `$_GET` ones).
pub(crate) fn merge(base: &mut Map<String, Value>, extra: Map<String, Value>) {
    for (key, value) in extra {
        base.insert(key, value);
    }
}

/// A PHP array keyed by strings, encoded as PHP would: `[]` when empty, a list when the keys are
/// `0..n-1`, an object otherwise.
pub(crate) fn php_array(entries: Map<String, Value>) -> Value {
    if entries.is_empty() {
        return Value::Array(Vec::new());
    }
    if entries.keys().enumerate().all(|(i, k)| *k == i.to_string()) {
        return Value::Array(entries.into_iter().map(|(_, v)| v).collect());
    }
    Value::Object(entries)
}

/// True when a value counts as "not sent": absent, null or an empty string.
pub(crate) fn is_blank(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(_) => false,
    }
}

/// Reads a value the way PHP's loose comparisons would: a number or a numeric string (the
/// rules of [`b24_form::scalar`]), `true` as 1 and `false` as 0.
pub(crate) fn as_f64(value: &Value) -> Option<f64> {
    match value {
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        v => b24_form::scalar::number(v),
    }
}

/// Reads an integer from a number or an integer string ([`b24_form::scalar::integer`]).
pub(crate) fn as_i64(value: &Value) -> Option<i64> {
    b24_form::scalar::integer(value)
}

/// Reads a flag: `true`/`false`, `Y`/`N`, `1`/`0` ([`b24_form::scalar::flag`]).
pub(crate) fn as_flag(value: &Value) -> Option<bool> {
    b24_form::scalar::flag(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_nested_brackets_and_appends() {
        let parsed = parse_query(b"a[b][c]=1&a[b][d]=x%20y&list[]=p&list[]=q&plain=+v");
        assert_eq!(
            Value::Object(parsed),
            json!({"a": {"b": {"c": "1", "d": "x y"}}, "list": ["p", "q"], "plain": " v"})
        );
    }

    #[test]
    fn numeric_keys_become_lists_only_when_dense() {
        let parsed = parse_query(b"x[0]=a&x[1]=b&y[1]=a&y[3]=b");
        assert_eq!(
            Value::Object(parsed),
            json!({"x": ["a", "b"], "y": {"1": "a", "3": "b"}})
        );
    }

    #[test]
    fn php_arrays_encode_like_php() {
        assert_eq!(php_array(Map::new()), json!([]));
        let mut m = Map::new();
        m.insert("0".into(), json!(1));
        assert_eq!(php_array(m.clone()), json!([1]));
        m.insert("k".into(), json!(2));
        assert_eq!(php_array(m), json!({"0": 1, "k": 2}));
    }

    #[test]
    fn hostile_forms_are_refused_quickly() {
        let deep = format!("grant_type{}=x", "[a]".repeat(3_000));
        assert!(deep.len() < 12_000);
        assert!(parse_query(deep.as_bytes()).is_empty());
        let appends = "fields[]=1&".repeat(50_000);
        let started = std::time::Instant::now();
        assert_eq!(
            parse_query(appends.as_bytes())["fields"]
                .as_array()
                .map(Vec::len),
            Some(50_000)
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn unclosed_bracket_is_kept() {
        let parsed = parse_query(b"a[b=1");
        assert_eq!(Value::Object(parsed), json!({"a_b": "1"}));
    }
}
