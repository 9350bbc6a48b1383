//! PHP's query-string encoding, as the server expects it.
//!
//! Batch commands are strings `method?query` that the server splits and reads with PHP's
//! `parse_str`; incoming events arrive form-encoded the same way. [`http_build_query`] writes
//! what PHP's `http_build_query` writes; [`parse_query`] reads like `parse_str`.
//!
//! PHP's rules, followed here: nested arrays become `a[b][0]=…` with the brackets
//! percent-encoded; `true`/`false` become `1`/`0`; `null` and empty arrays produce nothing;
//! strings are encoded like `urlencode` (RFC 1738: letters, digits and `-_.` stay, space is
//! `+`, everything else `%XX`). One difference: PHP writes floats with 14 significant digits
//! (`%.14G`), losing precision; here a float is written in full (shortest round-trip form,
//! integral values without a fraction), which PHP reads back as the same number.

use serde_json::{Map, Value};

/// Encodes a JSON object the way PHP's `http_build_query` encodes the equivalent array.
/// A non-object value encodes as nothing (there are no keys).
pub fn http_build_query(params: &Value) -> String {
    let mut out = String::new();
    if let Value::Object(map) = params {
        for (k, v) in map {
            encode_pair(&mut out, &urlencode(k), v);
        }
    }
    out
}

fn encode_pair(out: &mut String, key: &str, v: &Value) {
    let scalar = match v {
        Value::Null => return,
        Value::Bool(b) => (if *b { "1" } else { "0" }).to_owned(),
        Value::Number(n) => number_text(n),
        Value::String(s) => urlencode(s),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                encode_pair(out, &format!("{key}%5B{i}%5D"), item);
            }
            return;
        }
        Value::Object(map) => {
            for (k, item) in map {
                encode_pair(out, &format!("{key}%5B{}%5D", urlencode(k)), item);
            }
            return;
        }
    };
    if !out.is_empty() {
        out.push('&');
    }
    out.push_str(key);
    out.push('=');
    out.push_str(&scalar);
}

fn number_text(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let x = n.as_f64().unwrap_or(0.0);
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// PHP's `urlencode`: letters, digits and `-_.` stay, space becomes `+`, the rest `%XX`.
pub fn urlencode(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => out.push(b as char),
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 15)] as char);
            }
        }
    }
    out
}

/// PHP's `urldecode`: `+` is a space, `%XX` a byte; invalid escapes stay as they are.
pub fn urldecode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Reads a query string like PHP's `parse_str`: `a[b][]=1` builds nested arrays.
///
/// The result is a JSON object whose leaves are strings. A PHP array whose keys are exactly
/// `0..n` in order becomes a JSON array (as `json_encode` would write it), any other one an
/// object. Later keys overwrite earlier ones, as in PHP.
pub fn parse_query(query: &str) -> Value {
    let mut root = Node::Map(Vec::new());
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let key = urldecode(k);
        let value = urldecode(v);
        let Some((base, path)) = split_key(&key) else {
            continue;
        };
        let mut keys = vec![Some(base)];
        keys.extend(path);
        root.insert(&keys, value);
    }
    root.into_value()
}

/// Splits `a[b][]` into `a` and `[Some(b), None]`, as PHP does (a key with an unclosed
/// bracket keeps the rest as part of the name; the first `[`-less part is the base).
fn split_key(key: &str) -> Option<(String, Vec<Option<String>>)> {
    let key = key.trim_start_matches(' ');
    let open = match key.find('[') {
        Some(0) | None => {
            return (!key.is_empty() && !key.starts_with('[')).then(|| (php_base(key), vec![]))
        }
        Some(i) => i,
    };
    let base = php_base(&key[..open]);
    let mut path = Vec::new();
    let mut rest = &key[open..];
    while let Some(stripped) = rest.strip_prefix('[') {
        let Some(close) = stripped.find(']') else {
            if path.is_empty() {
                // `a[b` : PHP turns the `[` into `_` and keeps the whole as the name.
                return Some((php_base(&key.replacen('[', "_", 1)), vec![]));
            }
            break;
        };
        let seg = &stripped[..close];
        path.push((!seg.is_empty()).then(|| seg.to_owned()));
        rest = &stripped[close + 1..];
    }
    Some((base, path))
}

/// PHP replaces spaces and dots in a top-level name with underscores.
fn php_base(name: &str) -> String {
    name.replace([' ', '.'], "_")
}

enum Node {
    Leaf(String),
    Map(Vec<(String, Node)>),
}

impl Node {
    fn insert(&mut self, keys: &[Option<String>], value: String) {
        let Node::Map(entries) = self else {
            *self = Node::Map(Vec::new());
            return self.insert(keys, value);
        };
        let Some((first, rest)) = keys.split_first() else {
            return;
        };
        let key = match first {
            Some(k) => k.clone(),
            None => next_index(entries).to_string(),
        };
        let pos = match entries.iter().position(|(k, _)| *k == key) {
            Some(p) => p,
            None => {
                entries.push((key, Node::Map(Vec::new())));
                entries.len() - 1
            }
        };
        let child = &mut entries[pos].1;
        if rest.is_empty() {
            *child = Node::Leaf(value);
        } else {
            if let Node::Leaf(_) = child {
                *child = Node::Map(Vec::new());
            }
            child.insert(rest, value);
        }
    }

    fn into_value(self) -> Value {
        match self {
            Node::Leaf(s) => Value::String(s),
            Node::Map(entries) => {
                let is_list = entries
                    .iter()
                    .enumerate()
                    .all(|(i, (k, _))| *k == i.to_string());
                if is_list && !entries.is_empty() {
                    Value::Array(entries.into_iter().map(|(_, n)| n.into_value()).collect())
                } else {
                    let mut m = Map::new();
                    for (k, n) in entries {
                        m.insert(k, n.into_value());
                    }
                    Value::Object(m)
                }
            }
        }
    }
}

/// PHP's next free integer key: one more than the largest integer key, or 0.
fn next_index(entries: &[(String, Node)]) -> i64 {
    entries
        .iter()
        .filter_map(|(k, _)| k.parse::<i64>().ok().filter(|n| n.to_string() == *k))
        .max()
        .map_or(0, |m| m + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Encodings PHP's `http_build_query` produces for the same arrays.
    #[test]
    fn known_php_encodings() {
        let cases = [
            (json!({"id": 5}), "id=5"),
            (json!({"fields": {"TITLE": "John&Martin"}}), "fields%5BTITLE%5D=John%26Martin"),
            (json!({"a": true, "b": false}), "a=1&b=0"),
            (json!({"a": null, "b": 1}), "b=1"),
            (json!({"a": [], "b": {}, "c": "x"}), "c=x"),
            (json!({"ids": [1, 2, 3]}), "ids%5B0%5D=1&ids%5B1%5D=2&ids%5B2%5D=3"),
            (
                json!({"filter": {">ID": 10, "=STATUS": ["NEW", "DONE"]}}),
                "filter%5B%3EID%5D=10&filter%5B%3DSTATUS%5D%5B0%5D=NEW&filter%5B%3DSTATUS%5D%5B1%5D=DONE",
            ),
            (json!({"q": "a b+c~d*e'f"}), "q=a+b%2Bc%7Ed%2Ae%27f"),
            (json!({"name": "Иван"}), "name=%D0%98%D0%B2%D0%B0%D0%BD"),
            (json!({"x": 1.5, "y": 2.0, "z": -0.25}), "x=1.5&y=2&z=-0.25"),
            (json!({"a": [[1], {"b": null}, [[]]]}), "a%5B0%5D%5B0%5D=1"),
            (json!({"ref": "$result[a][ID]"}), "ref=%24result%5Ba%5D%5BID%5D"),
            (json!({"e": ""}), "e="),
            (json!({}), ""),
        ];
        for (value, want) in cases {
            assert_eq!(http_build_query(&value), want, "{value}");
        }
    }

    #[test]
    fn parse_str_like_php() {
        assert_eq!(
            parse_query("a%5Bb%5D%5B%5D=1&a%5Bb%5D%5B%5D=2&c=x+y&d%5B5%5D=z&d%5B%5D=w"),
            json!({"a": {"b": ["1", "2"]}, "c": "x y", "d": {"5": "z", "6": "w"}})
        );
        assert_eq!(parse_query("a.b=1&c d=2"), json!({"a_b": "1", "c_d": "2"}));
        assert_eq!(parse_query("a=1&a=2"), json!({"a": "2"}));
        assert_eq!(parse_query("a=%zz&b"), json!({"a": "%zz", "b": ""}));
        assert_eq!(parse_query(""), json!({}));
    }
}
