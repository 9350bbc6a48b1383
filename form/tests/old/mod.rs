//! The runtime's `parse_query` before b24-form, verbatim (commit a05affc, runtime/src/query.rs):
//! the oracle the new parser must agree with on well-formed input. It is quadratic and
//! recursive; the tests only feed it small forms.
#![allow(dead_code)]

use serde_json::{Map, Value};

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
