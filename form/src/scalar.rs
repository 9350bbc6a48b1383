//! Whether a value PHP sent reads as an integer, a number or a flag: the one rule set for the
//! runtime's lenient types (`Int`, `Double`, `Bool`), the generator (typing fields from the
//! docs' examples) and the emulator (validating arguments).
//!
//! Bitrix24 writes integers and flags as JSON numbers or as strings, whatever the docs say,
//! and a form sends every value as a string. The rules follow what PHP 8 calls a numeric
//! string (`is_numeric`, `Zend/zend_operators.c`), with the JSON side read as `json_decode`
//! reads it:
//!
//! | value | integer | number | flag |
//! | --- | --- | --- | --- |
//! | `5`, `-5`, JSON integers within 64 bits | yes | yes | only `0`, `1` |
//! | `5.0`, `1e3`: JSON floats (`json_decode` makes them floats) | no | yes | no |
//! | `18446744073709551615`: beyond 64 bits (PHP overflows it to a float) | no | yes | no |
//! | `"5"`, `"+5"`, `"-5"`, `"-0"`, `"007"` | yes | yes | `"1"`, `"0"` |
//! | `" 5"`, `"5 "`, `"\t5\n"`: ASCII whitespace around (PHP ≥ 8 allows both ends) | yes | yes | no |
//! | `"5.0"`, `"1e3"`, `".5"`, `"5."`: float strings | no | yes | no |
//! | `"9223372036854775808"`: an integer string beyond 64 bits | no | yes | no |
//! | `"0x10"`, `"0b1"`, `"1_000"`, `"inf"`, `"NAN"`, `"5 5"`, `"\u{a0}5"` | no | no | no |
//! | `""` | yes: PHP's `null`/`false` as a string, the API's "not set" | no | yes: false |
//! | `"Y"`/`"N"`, `"y"`/`"n"`, `"true"`/`"false"`, JSON `true`/`false` | no | no | yes |
//! | `null`, arrays, objects | no | no | no |
//!
//! A number must be finite (JSON has no infinity: `"1e999"` is not a number). `""` is not a
//! number: `is_numeric("")` is false, and the runtime's `Double` has no empty form, so an
//! example that sends `""` for a documented double is a contradiction the generator reports.

use serde_json::Value;

/// The whitespace PHP allows around a numeric string: space, `\t`, `\n`, `\r`, `\v`, `\f`.
fn trim_php_whitespace(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\n', '\r', '\u{b}', '\u{c}'])
}

/// Splits an optional `+` or `-` off `s`.
fn unsigned(s: &str) -> &str {
    s.strip_prefix(['+', '-']).unwrap_or(s)
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The value of an integer string (see the [module docs](self)): optional whitespace, an
/// optional sign, decimal digits, within `i64`. `None` for anything else, `""` included.
///
/// ```
/// assert_eq!(b24_form::scalar::integer_text(" +5"), Some(5));
/// assert_eq!(b24_form::scalar::integer_text("5.0"), None);
/// ```
pub fn integer_text(s: &str) -> Option<i64> {
    let s = trim_php_whitespace(s);
    if !all_digits(unsigned(s)) {
        return None;
    }
    // `i64::from_str` takes the same optional sign and digits.
    s.parse().ok()
}

/// The value of a numeric string (see the [module docs](self)): optional whitespace, an
/// optional sign, digits with at most one `.` (at least one digit on one side) and an optional
/// exponent; finite. `None` for anything else, `""` included.
///
/// ```
/// assert_eq!(b24_form::scalar::number_text("1e3"), Some(1000.0));
/// assert_eq!(b24_form::scalar::number_text("inf"), None);
/// ```
pub fn number_text(s: &str) -> Option<f64> {
    let s = trim_php_whitespace(s);
    let body = unsigned(s);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mantissa_ok = (whole.is_empty() || all_digits(whole))
        && (fraction.is_empty() || all_digits(fraction))
        && !(whole.is_empty() && fraction.is_empty());
    let exponent_ok = exponent.map_or(true, |e| all_digits(unsigned(e)));
    if !(mantissa_ok && exponent_ok) {
        return None;
    }
    s.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// The value of a flag string: `Y`/`y`/`1`/`true` are true, `N`/`n`/`0`/`false` and `""`
/// are false (PHP writes `false` as `""`). Case matters beyond `Y`/`y` and `N`/`n`.
pub fn flag_text(s: &str) -> Option<bool> {
    match s {
        "Y" | "y" | "1" | "true" => Some(true),
        "N" | "n" | "0" | "false" | "" => Some(false),
        _ => None,
    }
}

/// The integer `value` holds: a JSON integer within `i64` or an [`integer_text`] string.
/// `None` for `""` (which [`is_integer`] still accepts as "not set").
pub fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => integer_text(s),
        _ => None,
    }
}

/// Whether `value` reads as an integer: [`integer`] has a value, or it is `""`.
pub fn is_integer(value: &Value) -> bool {
    integer(value).is_some() || value.as_str() == Some("")
}

/// The number `value` holds: any JSON number or a [`number_text`] string.
pub fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => number_text(s),
        _ => None,
    }
}

/// Whether `value` reads as a number.
pub fn is_number(value: &Value) -> bool {
    number(value).is_some()
}

/// The flag `value` holds: JSON `true`/`false`, the numbers `1`/`0`, or a [`flag_text`]
/// string.
pub fn flag(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_u64() {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        },
        Value::String(s) => flag_text(s),
        _ => None,
    }
}

/// Whether `value` reads as a flag.
pub fn is_flag(value: &Value) -> bool {
    flag(value).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// (value, integer, number, flag), as the module docs' table says.
    fn table() -> Vec<(Value, bool, bool, bool)> {
        vec![
            (json!(5), true, true, false),
            (json!(-5), true, true, false),
            (json!(0), true, true, true),
            (json!(1), true, true, true),
            (json!(2), true, true, false),
            (json!(5.0), false, true, false),
            (json!(1e3), false, true, false),
            (json!(u64::MAX), false, true, false),
            (json!(""), true, false, true),
            (json!("5"), true, true, false),
            (json!("+5"), true, true, false),
            (json!("-5"), true, true, false),
            (json!("-0"), true, true, false),
            (json!("007"), true, true, false),
            (json!(" 5"), true, true, false),
            (json!("5 "), true, true, false),
            (json!("\t5\n"), true, true, false),
            (json!("\u{a0}5"), false, false, false),
            (json!("5 5"), false, false, false),
            (json!("5.0"), false, true, false),
            (json!("1e3"), false, true, false),
            (json!("1E-3"), false, true, false),
            (json!(".5"), false, true, false),
            (json!("5."), false, true, false),
            (json!("."), false, false, false),
            (json!("e3"), false, false, false),
            (json!("1e"), false, false, false),
            (json!("1e999"), false, false, false),
            (json!("9223372036854775808"), false, true, false),
            (json!("-9223372036854775808"), true, true, false),
            (json!("0x10"), false, false, false),
            (json!("0b1"), false, false, false),
            (json!("1_000"), false, false, false),
            (json!("inf"), false, false, false),
            (json!("NAN"), false, false, false),
            (json!("+"), false, false, false),
            (json!("1"), true, true, true),
            (json!("0"), true, true, true),
            (json!("Y"), false, false, true),
            (json!("n"), false, false, true),
            (json!("true"), false, false, true),
            (json!("TRUE"), false, false, false),
            (json!(true), false, false, true),
            (json!(null), false, false, false),
            (json!([]), false, false, false),
            (json!({}), false, false, false),
        ]
    }

    #[test]
    fn every_case_reads_as_the_table_says() {
        for (value, integer, number, flag) in table() {
            assert_eq!(is_integer(&value), integer, "integer: {value}");
            assert_eq!(is_number(&value), number, "number: {value}");
            assert_eq!(is_flag(&value), flag, "flag: {value}");
        }
    }

    #[test]
    fn values_are_read_with_their_sign_and_fraction() {
        assert_eq!(integer(&json!("+5")), Some(5));
        assert_eq!(integer(&json!(" -7 ")), Some(-7));
        assert_eq!(integer(&json!("-0")), Some(0));
        assert_eq!(integer(&json!("")), None);
        assert_eq!(number(&json!("-1.5e2")), Some(-150.0));
        assert_eq!(number(&json!(" .25")), Some(0.25));
        assert_eq!(flag(&json!("")), Some(false));
        assert_eq!(flag(&json!(1)), Some(true));
    }

    #[test]
    fn every_integer_is_a_number() {
        for (value, ..) in table() {
            if let Some(i) = integer(&value) {
                assert_eq!(number(&value), Some(i as f64), "{value}");
            }
        }
    }
}
