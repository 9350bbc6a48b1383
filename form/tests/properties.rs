//! Property tests: encoding then parsing round-trips as PHP would; the parser agrees with the
//! runtime's previous parser on well-formed forms; `find` agrees with the tree; no input
//! panics or escapes the limits.

mod old;

use b24_form::{find, http_build_query, parse_str, urlencode, Limits};
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

/// One well-formed field: a top-level name, bracket keys (`[]` appends, small integers, names),
/// a value; the brackets written plain or percent-encoded, the value urlencoded.
fn field() -> impl Strategy<Value = String> {
    let bracket_key = prop_oneof![
        3 => Just(String::new()),
        3 => (0u8..4).prop_map(|n| n.to_string()),
        2 => "-?[1-9][0-9]?",
        1 => "0[0-9]",
        2 => "[a-c]{1,2}",
        1 => "[A-Z_]{1,4}",
    ];
    (
        "[a-c]",
        prop::collection::vec(bracket_key, 0..3),
        "\\PC{0,6}",
        any::<bool>(),
    )
        .prop_map(|(base, keys, value, encoded)| {
            let (open, close) = if encoded { ("%5B", "%5D") } else { ("[", "]") };
            let mut name = base;
            for k in keys {
                name.push_str(open);
                name.push_str(&k);
                name.push_str(close);
            }
            format!("{name}={}", urlencode(&value))
        })
}

fn form() -> impl Strategy<Value = String> {
    prop::collection::vec(field(), 0..16).prop_map(|fields| fields.join("&"))
}

/// Bytes that exercise every rule of the name syntax.
fn hostile() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            Just(b'['),
            Just(b']'),
            Just(b'&'),
            Just(b'='),
            Just(b'.'),
            Just(b' '),
            Just(b'+'),
            Just(b'%'),
            Just(0u8),
            Just(b'a'),
            Just(b'5'),
            any::<u8>(),
        ],
        0..80,
    )
}

fn parsed(input: &str) -> Value {
    Value::Object(parse_str(input.as_bytes(), &Limits::DEFAULT).expect("within the limits"))
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
        prop_assert_eq!(parsed(&encoded), expected);
    }

    #[test]
    fn agrees_with_the_previous_runtime_parser(input in form()) {
        prop_assert_eq!(parsed(&input), old::parse_query(&input), "{}", input);
    }

    #[test]
    fn find_agrees_with_the_tree(input in form()) {
        let tree = parsed(&input);
        for path in [["a", "b"], ["b", "A"], ["c", "ab"]] {
            let from_tree = tree[path[0]][path[1]].as_str().map(str::to_owned);
            let found = find(input.as_bytes(), &path, &Limits::DEFAULT).expect("within limits");
            prop_assert_eq!(found, from_tree, "{:?} in {}", path, input);
        }
    }

    #[test]
    fn any_bytes_parse_within_the_limits_or_fail_typed(input in hostile(), depth in 0usize..4, keys in 0usize..8) {
        let limits = Limits { max_bytes: 64, max_depth: depth, max_keys: keys };
        match parse_str(&input, &limits) {
            Ok(map) => {
                prop_assert!(input.len() <= 64);
                let fields = input.split(|&b| b == b'&').filter(|f| !f.is_empty()).count();
                prop_assert!(fields <= keys);
                prop_assert!(nesting(&Value::Object(map)) <= depth + 1);
            }
            Err(_) => prop_assert!(find(&input, &["a", "a"], &limits).is_err()),
        }
    }
}

fn nesting(v: &Value) -> usize {
    match v {
        Value::Array(items) => 1 + items.iter().map(nesting).max().unwrap_or(0),
        Value::Object(m) => 1 + m.values().map(nesting).max().unwrap_or(0),
        _ => 0,
    }
}
