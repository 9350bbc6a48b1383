//! Request parameters as PHP sees them: query strings and form bodies in the
//! `http_build_query` style (`a[b][c]=1`, `a[]=x`), JSON bodies, and PHP's way of turning
//! arrays back into JSON (`[]` for an empty array, a list for keys `0..n`).

use serde_json::{Map, Value};

/// Parses a query string or a form body like PHP's `parse_str`, into a JSON object.
pub(crate) fn parse_query(input: &[u8]) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in form_urlencoded::parse(input) {
        let path = key_path(&key);
        insert_path(&mut out, &path, Value::String(value.into_owned()));
    }
    for value in out.values_mut() {
        normalize_lists(value);
    }
    out
}

/// Splits `a[b][]` into `["a", "b", ""]`; an empty segment means "append".
fn key_path(key: &str) -> Vec<String> {
    let Some(open) = key.find('[') else {
        return vec![key.to_string()];
    };
    if open == 0 {
        return vec![key.to_string()];
    }
    if !key[open..].contains(']') {
        // PHP turns an unclosed `[` of a top-level name into `_`.
        return vec![key.replacen('[', "_", 1)];
    }
    let mut path = vec![key[..open].to_string()];
    let mut rest = &key[open..];
    while let Some(stripped) = rest.strip_prefix('[') {
        let Some(close) = stripped.find(']') else {
            break;
        };
        path.push(stripped[..close].to_string());
        rest = &stripped[close + 1..];
    }
    path
}

fn insert_path(map: &mut Map<String, Value>, path: &[String], value: Value) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let key = if first.is_empty() {
        next_index(map).to_string()
    } else {
        first.clone()
    };
    if rest.is_empty() {
        map.insert(key, value);
        return;
    }
    let slot = map.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    if let Value::Object(inner) = slot {
        insert_path(inner, rest, value);
    }
}

/// PHP appends at the largest integer key plus one.
fn next_index(map: &Map<String, Value>) -> u64 {
    map.keys()
        .filter_map(|k| k.parse::<u64>().ok())
        .max()
        .map_or(0, |max| max + 1)
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

/// Reads a value the way PHP's loose comparisons would: a number, or a numeric string.
pub(crate) fn as_f64(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

/// Reads an integer from a number or a numeric string.
pub(crate) fn as_i64(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
}

/// Reads a flag: `true`/`false`, `Y`/`N`, `1`/`0`.
pub(crate) fn as_flag(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_f64().map(|f| f != 0.0),
        Value::String(s) => match s.as_str() {
            "Y" | "y" | "true" | "1" => Some(true),
            "N" | "n" | "false" | "0" | "" => Some(false),
            _ => None,
        },
        _ => None,
    }
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
    fn unclosed_bracket_is_kept() {
        let parsed = parse_query(b"a[b=1");
        assert_eq!(Value::Object(parsed), json!({"a_b": "1"}));
    }
}
