//! PHP's query-string encoding, as the server expects it: the [`b24_form`] crate, re-exported.
//!
//! Batch commands are strings `method?query` that the server splits and reads with PHP's
//! `parse_str`; incoming events arrive form-encoded the same way. [`http_build_query`] writes
//! what PHP's `http_build_query` writes; [`parse_str`] reads like `parse_str`, within
//! [`Limits`] and in linear time.

use serde_json::Value;

pub use b24_form::{find, http_build_query, parse_str, urldecode, urlencode, FormError, Limits};

/// Reads a query string like PHP's `parse_str` into a JSON object whose leaves are strings,
/// within [`Limits::DEFAULT`]: a query beyond them reads as an empty object (use
/// [`parse_str`] to see why).
pub fn parse_query(query: &str) -> Value {
    Value::Object(parse_str(query.as_bytes(), &Limits::DEFAULT).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parse_query_reads_like_parse_str_within_the_default_limits() {
        assert_eq!(
            parse_query("a%5Bb%5D%5B%5D=1&a%5Bb%5D%5B%5D=2&c=x+y&d%5B5%5D=z&d%5B%5D=w"),
            json!({"a": {"b": ["1", "2"]}, "c": "x y", "d": {"5": "z", "6": "w"}})
        );
        assert_eq!(parse_query(""), json!({}));
        let deep = format!("a{}=1", "[a]".repeat(Limits::DEFAULT.max_depth + 1));
        assert_eq!(parse_query(&deep), json!({}));
    }
}
