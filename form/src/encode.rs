//! Writing forms the way PHP does, and PHP's `urlencode`/`urldecode`.
//!
//! PHP's rules, followed here: nested arrays become `a[b][0]=…` with the brackets
//! percent-encoded; `true`/`false` become `1`/`0`; `null` and empty arrays produce nothing;
//! strings are encoded like `urlencode` (RFC 1738: letters, digits and `-_.` stay, space is
//! `+`, everything else `%XX`). One difference: PHP writes floats with 14 significant digits
//! (`%.14G`), losing precision; here a float is written in full (shortest round-trip form,
//! integral values without a fraction), which PHP reads back as the same number.

use serde_json::Value;

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
        // Integral and well inside i64: the cast is exact.
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

/// PHP's `urldecode`: `+` is a space, `%XX` a byte; invalid escapes stay as they are; bytes
/// that are not UTF-8 become U+FFFD.
pub fn urldecode(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len());
    decode_into(s.as_bytes(), &mut out);
    lossy(out)
}

/// PHP's `php_url_decode` into `out` (appended).
pub(crate) fn decode_into(input: &[u8], out: &mut Vec<u8>) {
    let mut rest = input;
    while let Some((&b, tail)) = rest.split_first() {
        rest = tail;
        match b {
            b'+' => out.push(b' '),
            b'%' => match tail {
                [h, l, after @ ..] => match (hex(*h), hex(*l)) {
                    (Some(h), Some(l)) => {
                        out.push(h << 4 | l);
                        rest = after;
                    }
                    _ => out.push(b'%'),
                },
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
    }
}

/// Bytes as text, invalid UTF-8 replaced (without a copy when it is valid).
pub(crate) fn lossy(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
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
    fn urldecode_like_php() {
        assert_eq!(urldecode("a+b%20c"), "a b c");
        assert_eq!(urldecode("%zz%4"), "%zz%4");
        assert_eq!(urldecode("%41%"), "A%");
        assert_eq!(urldecode("%D0%98"), "И");
        assert_eq!(urldecode("%FF"), "\u{FFFD}");
    }
}
