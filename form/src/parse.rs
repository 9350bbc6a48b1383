//! Reading forms like PHP's `parse_str`, bounded and in linear time.
//!
//! What PHP does, and so this parser (PHP 8.3, `main/php_variables.c`):
//!
//! * Fields are split on `&` (empty ones skipped), name and value on the first `=` (no `=`: an
//!   empty value); both are `urldecode`d (`+` and `%20` are spaces). A name stops at a NUL byte.
//! * Leading spaces of a name are dropped; in the top-level name (before the first `[`) spaces
//!   and dots become `_`: `a.b=1` and `a b=1` both set `a_b`. A field with an empty name
//!   (`=1`, `[a]=1`) is dropped.
//! * `a[x][y]=1` nests; `a[]=1` (or `a[ ]=1`) appends at PHP's next free index: one more than
//!   the largest integer key so far (PHP ≥ 8.3 also after negative keys), else 0. Keys inside
//!   brackets are kept as written (`a[x.y]` keeps its dot).
//! * A key is an integer key only in PHP's canonical form: `0`, or an optional `-` and digits
//!   without a leading zero, within 64 bits. `"05"`, `"-0"`, `"+5"`, `" 5"`, `"5.0"` and `""`
//!   are string keys: they do not move the next free index and make the array an object.
//! * An unclosed bracket in the first level is not an index: `a[b=1` sets `a_b` (the `[` and any
//!   later ` `, `.` or `[` become `_`); deeper, the unclosed part is dropped (`a[x][y=1` sets
//!   `a[x]`). Text after a `]` that is not `[` is ignored (`a[x]junk=1` sets `a[x]`).
//! * A later field overwrites an earlier one in place (last wins, first position kept); a
//!   nested key turns an earlier string into an array, a plain value replaces an array.
//!
//! Values are JSON strings; a nested array becomes what `json_encode` writes: a list when its
//! keys are exactly `0..n` in order, an object otherwise.
//!
//! Deliberate differences from PHP: input beyond the [`Limits`] is an error (PHP drops the
//! fields past `max_input_vars` and a variable nested past `max_input_nesting_level`, with a
//! warning); text that is not UTF-8 gets U+FFFD; the top level is always an object (a map of
//! names), even when every name is an integer.

use std::borrow::Cow;

use indexmap::IndexMap;
use serde_json::{Map, Value};

use crate::encode::{decode_into, lossy};

/// The deepest nesting any [`Limits`] allows, whatever its `max_depth` says: with the top-level
/// object, the JSON of a parsed form then stays within serde_json's nesting limit of 128.
pub const MAX_DEPTH: usize = 127;

/// Bounds on what [`parse_str`] and [`find`] accept. Parsing is linear in the input, so these
/// bound both the time and the memory a hostile form can cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The most bytes of input.
    pub max_bytes: usize,
    /// The most bracket levels in one name (`a[b][c]` has 2); at most [`MAX_DEPTH`].
    pub max_depth: usize,
    /// The most `name=value` fields (as PHP's `max_input_vars`).
    pub max_keys: usize,
}

impl Limits {
    /// 1 MiB, 64 levels (PHP's default `max_input_nesting_level`), 10,000 fields (ten times
    /// PHP's default `max_input_vars`).
    pub const DEFAULT: Limits = Limits {
        max_bytes: 1 << 20,
        max_depth: 64,
        max_keys: 10_000,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// A form was refused for going beyond its [`Limits`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormError {
    /// The input is longer than `max_bytes`.
    #[error("the form is {size} bytes, more than the limit of {limit}")]
    TooLarge {
        /// The input's length.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A name nests more bracket levels than `max_depth`.
    #[error("a field name nests more than {limit} levels of brackets")]
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// The form has more fields than `max_keys`.
    #[error("the form has more than {limit} fields")]
    TooManyKeys {
        /// The limit.
        limit: usize,
    },
}

/// Reads a query string or form body like PHP's `parse_str` (the rules are in the module docs),
/// into a JSON object whose leaves are strings.
///
/// ```
/// use b24_form::{parse_str, Limits};
/// let form = parse_str(b"a[]=1&a[]=2&b.c=x+y&d[5]=z&d[]=w", &Limits::DEFAULT)?;
/// assert_eq!(
///     serde_json::Value::Object(form),
///     serde_json::json!({"a": ["1", "2"], "b_c": "x y", "d": {"5": "z", "6": "w"}})
/// );
/// # Ok::<(), b24_form::FormError>(())
/// ```
pub fn parse_str(input: &[u8], limits: &Limits) -> Result<Map<String, Value>, FormError> {
    let mut tree = Tree::new();
    scan(input, limits, |name, value| {
        tree.insert(name, decode(value))
    })?;
    Ok(tree.into_map())
}

/// The string [`parse_str`] would leave at `path`, found without building the tree: one pass
/// that decodes names and only the value it returns. `None` when there is no string there (no
/// such field, or an array, or a later field replaced it). The same limits apply, with the
/// same errors, so a form `find` accepts is one `parse_str` accepts.
///
/// `path` is the top-level name and the bracket keys, `["auth", "application_token"]` for
/// `auth[application_token]`; its keys must not be integer keys (an append `[]` is never
/// taken for one of them).
///
/// ```
/// use b24_form::{find, Limits};
/// let body = b"event=ONCRMDEALADD&auth[application_token]=t0k3n&data[FIELDS][ID]=1";
/// let token = find(body, &["auth", "application_token"], &Limits::DEFAULT)?;
/// assert_eq!(token.as_deref(), Some("t0k3n"));
/// # Ok::<(), b24_form::FormError>(())
/// ```
pub fn find(input: &[u8], path: &[&str], limits: &Limits) -> Result<Option<String>, FormError> {
    let mut found = None;
    scan(input, limits, |name, value| {
        let mut keys = std::iter::once(Some(name.base.as_ref())).chain(name.keys.iter().copied());
        let mut wanted = path.iter();
        loop {
            match (keys.next(), wanted.next()) {
                (Some(Some(k)), Some(w)) if String::from_utf8_lossy(k) == *w => {}
                // Another key or an append: the wanted place is untouched.
                (Some(_), Some(_)) => return,
                (None, None) => {
                    found = Some(value);
                    return;
                }
                // An ancestor set to a string, or a key below the wanted one: no string there.
                _ => {
                    found = None;
                    return;
                }
            }
        }
    })?;
    Ok(found.map(decode))
}

/// One field's name as PHP splits it: the top-level name and the bracket keys (`None`: `[]`).
struct Name<'k> {
    base: Cow<'k, [u8]>,
    keys: Vec<Option<&'k [u8]>>,
}

/// Calls `each` with every field's name and raw value, in order, within the limits.
fn scan<'a>(
    input: &'a [u8],
    limits: &Limits,
    mut each: impl FnMut(&Name<'_>, &'a [u8]),
) -> Result<(), FormError> {
    if input.len() > limits.max_bytes {
        return Err(FormError::TooLarge {
            size: input.len(),
            limit: limits.max_bytes,
        });
    }
    let max_depth = limits.max_depth.min(MAX_DEPTH);
    let mut key = Vec::new();
    let fields = input.split(|&b| b == b'&').filter(|f| !f.is_empty());
    for (n, field) in fields.enumerate() {
        if n >= limits.max_keys {
            return Err(FormError::TooManyKeys {
                limit: limits.max_keys,
            });
        }
        let (raw_key, value) = match field.iter().position(|&b| b == b'=') {
            Some(eq) => (&field[..eq], &field[eq + 1..]),
            None => (field, &[][..]),
        };
        key.clear();
        decode_into(raw_key, &mut key);
        if let Some(name) = split_name(&key, max_depth)? {
            each(&name, value);
        }
    }
    Ok(())
}

/// Splits a decoded name the way `php_register_variable_ex` does; `None` for an empty name.
fn split_name(key: &[u8], max_depth: usize) -> Result<Option<Name<'_>>, FormError> {
    let key = key.split(|&b| b == 0).next().unwrap_or_default();
    let key = &key[key.iter().take_while(|&&b| b == b' ').count()..];
    let open = key.iter().position(|&b| b == b'[').unwrap_or(key.len());
    let (base, mut rest) = key.split_at(open);
    if base.is_empty() {
        return Ok(None);
    }
    let base = underscored(base);
    let mut keys = Vec::new();
    while let Some(inside) = rest.strip_prefix(b"[") {
        if keys.len() >= max_depth {
            return Err(FormError::TooDeep { limit: max_depth });
        }
        let probe = inside.strip_prefix(b" ").unwrap_or(inside);
        if let Some(after) = probe.strip_prefix(b"]") {
            keys.push(None);
            rest = after;
            continue;
        }
        match inside.iter().position(|&b| b == b']') {
            Some(close) => {
                keys.push(Some(&inside[..close]));
                rest = &inside[close + 1..];
            }
            None if keys.is_empty() => {
                let mut name = base.into_owned();
                name.push(b'_');
                name.extend(inside.iter().map(|&b| match b {
                    b' ' | b'.' | b'[' => b'_',
                    b => b,
                }));
                return Ok(Some(Name {
                    base: Cow::Owned(name),
                    keys,
                }));
            }
            None => break,
        }
    }
    Ok(Some(Name { base, keys }))
}

/// A top-level name with spaces and dots turned into `_`.
fn underscored(name: &[u8]) -> Cow<'_, [u8]> {
    if name.iter().any(|&b| b == b' ' || b == b'.') {
        Cow::Owned(
            name.iter()
                .map(|&b| if b == b' ' || b == b'.' { b'_' } else { b })
                .collect(),
        )
    } else {
        Cow::Borrowed(name)
    }
}

fn decode(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    decode_into(raw, &mut out);
    lossy(out)
}

/// PHP's integer keys: `0`, or an optional `-` and digits without a leading zero, in 64 bits.
fn int_key(key: &str) -> Option<i64> {
    let digits = key.strip_prefix('-').unwrap_or(key).as_bytes();
    let canonical = match digits {
        [b'0'] => digits.len() == key.len(),
        [b'1'..=b'9', rest @ ..] => rest.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    canonical.then(|| key.parse().ok()).flatten()
}

/// The PHP arrays being built, in an arena (index 0 is the top level), so that every field is
/// inserted with one hash lookup per level and no recursion.
struct Tree {
    arrays: Vec<Array>,
}

enum Slot {
    Leaf(String),
    Array(usize),
}

struct Array {
    entries: IndexMap<String, Slot>,
    /// PHP's `nNextFreeElement`; `None` before any integer key.
    next: Option<i64>,
    /// Whether the keys so far are exactly `0..n` in order.
    list: bool,
}

impl Array {
    fn new() -> Self {
        Array {
            entries: IndexMap::new(),
            next: None,
            list: true,
        }
    }

    /// The position of `key` (`None`: the next free index), added if new. `None` when PHP
    /// drops the field: an append when the next free index is taken (after `i64::MAX`).
    fn position(&mut self, key: Option<&[u8]>) -> Option<usize> {
        let key = match key {
            Some(k) => String::from_utf8_lossy(k),
            None => {
                let index = self.next.unwrap_or(0).to_string();
                if self.entries.contains_key(&index) {
                    return None;
                }
                Cow::Owned(index)
            }
        };
        if let Some(i) = self.entries.get_index_of(key.as_ref()) {
            return Some(i);
        }
        let int = int_key(&key);
        self.list &= int.is_some() && int == i64::try_from(self.entries.len()).ok();
        if let Some(n) = int {
            let after = n.saturating_add(1);
            self.next = Some(self.next.map_or(after, |next| next.max(after)));
        }
        let (i, _) = self
            .entries
            .insert_full(key.into_owned(), Slot::Leaf(String::new()));
        Some(i)
    }
}

impl Tree {
    fn new() -> Self {
        Tree {
            arrays: vec![Array::new()],
        }
    }

    fn insert(&mut self, name: &Name<'_>, value: String) {
        let mut at = 0;
        let mut path = std::iter::once(Some(name.base.as_ref()))
            .chain(name.keys.iter().copied())
            .peekable();
        while let Some(key) = path.next() {
            let fresh = self.arrays.len();
            let Some(array) = self.arrays.get_mut(at) else {
                return;
            };
            let Some(slot) = array
                .position(key)
                .and_then(|i| array.entries.get_index_mut(i))
                .map(|(_, slot)| slot)
            else {
                return;
            };
            if path.peek().is_none() {
                *slot = Slot::Leaf(value);
                return;
            }
            at = match slot {
                Slot::Array(id) => *id,
                Slot::Leaf(_) => {
                    *slot = Slot::Array(fresh);
                    fresh
                }
            };
            if at == fresh {
                self.arrays.push(Array::new());
            }
        }
    }

    fn into_map(mut self) -> Map<String, Value> {
        let top = self.take(0);
        top.entries
            .into_iter()
            .map(|(k, slot)| (k, self.value(slot)))
            .collect()
    }

    /// Recursion is bounded by [`MAX_DEPTH`].
    fn value(&mut self, slot: Slot) -> Value {
        let id = match slot {
            Slot::Leaf(s) => return Value::String(s),
            Slot::Array(id) => id,
        };
        let array = self.take(id);
        if array.list {
            Value::Array(
                array
                    .entries
                    .into_values()
                    .map(|slot| self.value(slot))
                    .collect(),
            )
        } else {
            Value::Object(
                array
                    .entries
                    .into_iter()
                    .map(|(k, slot)| (k, self.value(slot)))
                    .collect(),
            )
        }
    }

    fn take(&mut self, id: usize) -> Array {
        self.arrays
            .get_mut(id)
            .map_or_else(Array::new, |a| std::mem::replace(a, Array::new()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(s: &str) -> Value {
        Value::Object(parse_str(s.as_bytes(), &Limits::DEFAULT).expect("within the limits"))
    }

    /// Each case as PHP 8.3's `parse_str` reads it (`json_encode` of the result).
    #[test]
    fn reads_like_php() {
        let cases = [
            ("a[]=1&a[]=2", json!({"a": ["1", "2"]})),
            ("a[x][y]=1", json!({"a": {"x": {"y": "1"}}})),
            ("a[=1", json!({"a_": "1"})),
            ("a]=1", json!({"a]": "1"})),
            ("a.b=1", json!({"a_b": "1"})),
            ("a b=1", json!({"a_b": "1"})),
            ("a+b=1", json!({"a_b": "1"})),
            ("a[x.y]=1&a[x y]=2", json!({"a": {"x.y": "1", "x y": "2"}})),
            ("a=1&a=2", json!({"a": "2"})),
            ("a=1&b=2&a=3", json!({"a": "3", "b": "2"})),
            ("a=&b&c=", json!({"a": "", "b": "", "c": ""})),
            ("q=x+y%20z%2B", json!({"q": "x y z+"})),
            ("=1&[a]=2&%20=3", json!({})),
            ("%20%20a=1", json!({"a": "1"})),
            ("a%00b=1", json!({"a": "1"})),
            ("a[b=1", json!({"a_b": "1"})),
            ("a[b.c d[e=1", json!({"a_b_c_d_e": "1"})),
            ("a[b[c]=1", json!({"a": {"b[c": "1"}})),
            ("a[x][y=1", json!({"a": {"x": "1"}})),
            ("a[x]junk[y]=1", json!({"a": {"x": "1"}})),
            ("a[ ]=1&a[ ]=2", json!({"a": ["1", "2"]})),
            ("a[ x]=1", json!({"a": {" x": "1"}})),
            ("d[5]=z&d[]=w", json!({"d": {"5": "z", "6": "w"}})),
            ("d[-5]=z&d[]=w", json!({"d": {"-5": "z", "-4": "w"}})),
            ("d[1]=a&d[0]=b", json!({"d": {"1": "a", "0": "b"}})),
            ("d[0]=a&d[1]=b", json!({"d": ["a", "b"]})),
            // Non-canonical integers are string keys: no index moves, no list.
            ("d[05]=a&d[]=b", json!({"d": {"05": "a", "0": "b"}})),
            ("d[%2B5]=a&d[]=b", json!({"d": {"+5": "a", "0": "b"}})),
            ("d[+5]=a&d[]=b", json!({"d": {" 5": "a", "0": "b"}})),
            ("d[%205]=a&d[]=b", json!({"d": {" 5": "a", "0": "b"}})),
            ("d[5.0]=a&d[]=b", json!({"d": {"5.0": "a", "0": "b"}})),
            ("d[-0]=a&d[]=b", json!({"d": {"-0": "a", "0": "b"}})),
            ("d[]=a&d[0]=b", json!({"d": ["b"]})),
            (
                "d[9223372036854775807]=a&d[]=b",
                json!({"d": {"9223372036854775807": "a"}}),
            ),
            (
                "d[9223372036854775808]=a&d[]=b",
                json!({"d": {"9223372036854775808": "a", "0": "b"}}),
            ),
            ("a=1&a[b]=2", json!({"a": {"b": "2"}})),
            ("a[b]=2&a=1", json!({"a": "1"})),
            ("a[b]=1&a[c]=2&a[b]=3", json!({"a": {"b": "3", "c": "2"}})),
            ("0=a&1=b", json!({"0": "a", "1": "b"})),
            ("a=%zz&b=%4", json!({"a": "%zz", "b": "%4"})),
            ("&&a=1&&", json!({"a": "1"})),
            ("a==1", json!({"a": "=1"})),
            ("", json!({})),
        ];
        for (input, want) in cases {
            assert_eq!(parse(input), want, "{input}");
        }
    }

    #[test]
    fn limits_are_typed_errors() {
        let small = Limits {
            max_bytes: 10,
            max_depth: 2,
            max_keys: 3,
        };
        assert_eq!(
            parse_str(b"a=12345678901", &small),
            Err(FormError::TooLarge {
                size: 13,
                limit: 10
            })
        );
        assert_eq!(
            parse_str(b"a[][][]=1", &small),
            Err(FormError::TooDeep { limit: 2 })
        );
        assert!(
            parse_str(b"a[b][c=1", &small).is_ok(),
            "two levels, the second unclosed"
        );
        assert!(
            parse_str(b"a[][][=", &small).is_err(),
            "an unclosed level counts"
        );
        assert!(parse_str(b"a[b][c]=1", &small).is_ok());
        assert_eq!(
            parse_str(b"a&b&c&d", &small),
            Err(FormError::TooManyKeys { limit: 3 })
        );
        assert!(
            parse_str(b"a&&b&&c", &small).is_ok(),
            "empty fields do not count"
        );
        let deep = Limits {
            max_depth: usize::MAX,
            max_bytes: usize::MAX,
            ..Limits::DEFAULT
        };
        let name = format!("a{}=1", "[a]".repeat(MAX_DEPTH + 1));
        assert_eq!(
            parse_str(name.as_bytes(), &deep),
            Err(FormError::TooDeep { limit: MAX_DEPTH })
        );
    }

    #[test]
    fn find_agrees_with_the_tree() {
        let path = ["auth", "application_token"];
        let cases = [
            "auth[application_token]=t",
            "auth[application_token]=x&auth[application_token]=t%2B",
            "auth[application_token]=t&auth=s",
            "auth=s&auth[application_token]=t",
            "auth[application_token]=t&auth[application_token][x]=1",
            "auth[application_token]=t&auth[]=1&auth[other]=2",
            "auth[application_token]=t&auth[application_token]",
            "auth.x=1&auth%5Bapplication_token%5D=t",
            "auth[application_token=t",
            "auth[application_token][=t",
            "auth[application_token]junk=t",
            "event=x",
            "",
        ];
        for input in cases {
            let tree = parse(input);
            let from_tree = tree["auth"]["application_token"]
                .as_str()
                .map(str::to_owned);
            let found = find(input.as_bytes(), &path, &Limits::DEFAULT).expect("within limits");
            assert_eq!(found, from_tree, "{input}");
        }
        assert!(find(
            b"a[a][a]=1",
            &path,
            &Limits {
                max_depth: 1,
                ..Limits::DEFAULT
            }
        )
        .is_err());
    }
}
