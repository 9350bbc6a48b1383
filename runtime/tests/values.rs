//! Lenient value types: every form the API sends decodes, and re-encodes to exactly itself.

use b24_runtime::value::{
    object_or_empty, Bool, BoolForm, Date, DateTime, Double, File, Int, ObjectOrEmpty,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

fn v(text: &str) -> Value {
    serde_json::from_str(text).expect("json")
}

/// Decodes `text` as `T`, re-encodes it, and checks the JSON text is unchanged.
fn round_trip<T: DeserializeOwned + Serialize>(text: &str) -> T {
    let v: T = serde_json::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    assert_eq!(
        serde_json::to_string(&v).expect("serializes"),
        text,
        "round trip of {text}"
    );
    v
}

fn rejects<T: DeserializeOwned + std::fmt::Debug>(text: &str) {
    let r = serde_json::from_str::<T>(text);
    assert!(r.is_err(), "{text} should be rejected, got {r:?}");
}

#[test]
fn int_forms() {
    assert_eq!(round_trip::<Int>("5").get(), 5);
    assert_eq!(round_trip::<Int>("-12").get(), -12);
    let s = round_trip::<Int>(r#""5""#);
    assert_eq!((s.get(), s.is_string()), (5, true));
    assert_eq!(round_trip::<Int>(r#""007""#).get(), 7);
    assert_eq!(round_trip::<Int>(r#""-3""#).get(), -3);
    let e = round_trip::<Int>(r#""""#);
    assert_eq!((e.get(), e.value(), e.is_empty()), (0, None, true));
    assert_eq!(round_trip::<Int>("9223372036854775807").get(), i64::MAX);
    assert_eq!(
        round_trip::<Int>(r#""-9223372036854775808""#).get(),
        i64::MIN
    );
    rejects::<Int>("9223372036854775808");
    rejects::<Int>(r#""9223372036854775808""#);
    rejects::<Int>(r#""5a""#);
    rejects::<Int>(r#""-""#);
    // PHP's numeric strings may have whitespace around (b24_form::scalar); kept verbatim.
    assert_eq!(round_trip::<Int>(r#"" 5""#).get(), 5);
    assert_eq!(round_trip::<Int>(r#""+5""#).get(), 5);
    rejects::<Int>(r#""5.0""#);
    rejects::<Int>("5.0");
    rejects::<Int>("5.5");
    rejects::<Int>("true");
    assert_eq!(serde_json::to_string(&Int::from(42)).expect("ser"), "42");
}

#[test]
fn double_forms() {
    assert_eq!(round_trip::<Double>("0").get(), 0.0);
    assert_eq!(round_trip::<Double>("-7").get(), -7.0);
    assert_eq!(round_trip::<Double>("100.15").get(), 100.15);
    assert_eq!(
        round_trip::<Double>("1724068028.331234").get(),
        1724068028.331234
    );
    assert_eq!(
        round_trip::<Double>("0.0032150745391845703").get(),
        0.0032150745391845703
    );
    assert_eq!(round_trip::<Double>("1.0").get(), 1.0);
    assert_eq!(
        round_trip::<Double>("18446744073709551615").get(),
        u64::MAX as f64
    );
    let s = round_trip::<Double>(r#""100.50""#);
    assert_eq!((s.get(), s.is_string()), (100.5, true));
    assert_eq!(round_trip::<Double>(r#""12""#).get(), 12.0);
    rejects::<Double>(r#""abc""#);
    rejects::<Double>(r#""NaN""#);
    rejects::<Double>("null");

    // More digits than an f64 holds: the JSON *value* is unchanged.
    let text = "3.3076241016387939";
    let d: Double = serde_json::from_str(text).expect("decodes");
    let back: Value = serde_json::from_str(&serde_json::to_string(&d).expect("ser")).expect("json");
    assert_eq!(back, serde_json::from_str::<Value>(text).expect("json"));
    assert_eq!(
        serde_json::to_string(&Double::from(2.5)).expect("ser"),
        "2.5"
    );
}

/// The lenient types decode exactly what the shared rules (`b24_form::scalar`, also used by
/// the generator and the emulator) accept.
#[test]
fn int_double_and_bool_accept_what_the_shared_rules_accept() {
    use b24_form::scalar;
    let cases = [
        "5",
        "-5",
        "0",
        "1",
        "2",
        "5.0",
        "1e3",
        "18446744073709551615",
        r#""""#,
        r#""5""#,
        r#""+5""#,
        r#""-0""#,
        r#""007""#,
        r#"" 5""#,
        r#""5 ""#,
        r#""\t5\n""#,
        r#""\u00a05""#,
        r#""5.0""#,
        r#""1e3""#,
        r#"".5""#,
        r#""5.""#,
        r#""1e999""#,
        r#""9223372036854775808""#,
        r#""0x10""#,
        r#""1_000""#,
        r#""inf""#,
        r#""NaN""#,
        r#""Y""#,
        r#""n""#,
        r#""true""#,
        r#""TRUE""#,
        "true",
        "null",
        "[]",
        "{}",
    ];
    for text in cases {
        let value = v(text);
        assert_eq!(
            serde_json::from_str::<Int>(text).is_ok(),
            scalar::is_integer(&value),
            "Int: {text}"
        );
        assert_eq!(
            serde_json::from_str::<Double>(text).is_ok(),
            scalar::is_number(&value),
            "Double: {text}"
        );
        assert_eq!(
            serde_json::from_str::<Bool>(text).is_ok(),
            scalar::is_flag(&value),
            "Bool: {text}"
        );
    }
}

#[test]
fn bool_forms() {
    for (text, value, form) in [
        (r#""Y""#, true, BoolForm::UpperYN),
        (r#""N""#, false, BoolForm::UpperYN),
        (r#""y""#, true, BoolForm::LowerYN),
        (r#""n""#, false, BoolForm::LowerYN),
        ("true", true, BoolForm::Json),
        ("false", false, BoolForm::Json),
        ("1", true, BoolForm::Number),
        ("0", false, BoolForm::Number),
        (r#""1""#, true, BoolForm::NumericString),
        (r#""0""#, false, BoolForm::NumericString),
        (r#""true""#, true, BoolForm::WordString),
        (r#""false""#, false, BoolForm::WordString),
        (r#""""#, false, BoolForm::EmptyString),
    ] {
        let b = round_trip::<Bool>(text);
        assert_eq!((b.get(), b.form()), (value, form), "{text}");
    }
    for bad in [r#""yes""#, "2", r#"" ""#, "null", r#""T""#] {
        rejects::<Bool>(bad);
    }
    assert_eq!(
        serde_json::to_string(&Bool::from(true)).expect("ser"),
        r#""Y""#
    );
    assert_eq!(
        serde_json::to_string(&Bool::from(false)).expect("ser"),
        r#""N""#
    );
}

#[test]
fn date_forms() {
    let d = round_trip::<Date>(r#""2025-12-28""#);
    assert_eq!(d.date(), chrono::NaiveDate::from_ymd_opt(2025, 12, 28));
    let d = round_trip::<Date>(r#""28.12.2025""#);
    assert_eq!(d.date(), chrono::NaiveDate::from_ymd_opt(2025, 12, 28));
    let e = round_trip::<Date>(r#""""#);
    assert!(e.is_empty() && e.date().is_none());
    assert!(round_trip::<Date>(r#""soon""#).date().is_none());
    rejects::<Date>("20251228");
    let built = Date::from(chrono::NaiveDate::from_ymd_opt(2024, 1, 5).expect("date"));
    assert_eq!(
        serde_json::to_string(&built).expect("ser"),
        r#""2024-01-05""#
    );
}

#[test]
fn datetime_forms() {
    use chrono::{NaiveDate, Timelike};
    let at = |y, m, d, h, mi, s| {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(h, mi, s))
            .expect("valid")
    };
    let dt = round_trip::<DateTime>(r#""2023-12-28T14:05:48+03:00""#);
    let fixed = dt.with_offset().expect("offset");
    assert_eq!(fixed.offset().local_minus_utc(), 3 * 3600);
    assert_eq!(dt.naive(), Some(at(2023, 12, 28, 14, 5, 48)));

    let z = round_trip::<DateTime>(r#""2024-03-01T10:00:00Z""#);
    assert_eq!(
        z.with_offset().map(|d| d.offset().local_minus_utc()),
        Some(0)
    );
    let frac = round_trip::<DateTime>(r#""2024-08-19T14:47:08.331234+02:00""#);
    assert_eq!(frac.naive().map(|n| n.nanosecond()), Some(331_234_000));
    for (text, want) in [
        (r#""2024-08-29T10:30:11""#, at(2024, 8, 29, 10, 30, 11)),
        (r#""2024-08-29 10:30:11""#, at(2024, 8, 29, 10, 30, 11)),
        (r#""24.08.2023 13:19:39""#, at(2023, 8, 24, 13, 19, 39)),
        (r#""2024-08-29""#, at(2024, 8, 29, 0, 0, 0)),
    ] {
        let v = round_trip::<DateTime>(text);
        assert!(v.with_offset().is_none(), "{text} has no offset");
        assert_eq!(v.naive(), Some(want), "{text}");
    }
    let e = round_trip::<DateTime>(r#""""#);
    assert!(e.is_empty() && e.naive().is_none());
    rejects::<DateTime>("1719826800");

    let built = DateTime::from(
        chrono::DateTime::parse_from_rfc3339("2023-12-28T14:05:48+03:00").expect("parses"),
    );
    assert_eq!(
        serde_json::to_string(&built).expect("ser"),
        r#""2023-12-28T14:05:48+03:00""#
    );
}

#[test]
fn file_forms() {
    for text in [
        "123",
        r#""123""#,
        r#"{"id":8,"showUrl":"/show","downloadUrl":"/dl"}"#,
        r#"["a.txt","aGVsbG8="]"#,
        r#"{"fileData":["a.txt","aGVsbG8="]}"#,
    ] {
        round_trip::<File>(text);
    }
    assert_eq!(
        serde_json::from_str::<File>("123").expect("id").file_id(),
        Some(123)
    );
    assert_eq!(
        serde_json::from_str::<File>(r#""77""#)
            .expect("id")
            .file_id(),
        Some(77)
    );
    assert_eq!(
        serde_json::from_str::<File>(r#"{"ID":"9"}"#)
            .expect("obj")
            .file_id(),
        Some(9)
    );
    assert_eq!(
        File::upload("a.txt", b"hello").0,
        json!(["a.txt", "aGVsbG8="])
    );
    assert_eq!(
        File::file_data("a.txt", b"hello").0,
        json!({"fileData": ["a.txt", "aGVsbG8="]})
    );
    assert_eq!(File::base64(b"hello").0, json!("aGVsbG8="));
    assert_eq!(File::id(5).file_id(), Some(5));
}

#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
struct Inner {
    a: Int,
}

#[test]
fn object_or_empty_forms() {
    let o = round_trip::<ObjectOrEmpty<Inner>>(r#"{"a":"1"}"#);
    assert_eq!(o.get().map(|i| i.a.get()), Some(1));
    let e = round_trip::<ObjectOrEmpty<Inner>>("[]");
    assert!(e.get().is_none());
    rejects::<ObjectOrEmpty<Inner>>("[1]");
    round_trip::<Option<ObjectOrEmpty<Inner>>>("null");

    #[derive(Deserialize)]
    struct Holder {
        #[serde(deserialize_with = "object_or_empty", default)]
        map: std::collections::BTreeMap<String, Int>,
    }
    let h: Holder = serde_json::from_str(r#"{"map":[]}"#).expect("empty");
    assert!(h.map.is_empty());
    let h: Holder = serde_json::from_str(r#"{"map":{"x":"3"}}"#).expect("map");
    assert_eq!(h.map["x"].get(), 3);
}

/// The types must also work inside structs that keep unknown fields (`#[serde(flatten)]`
/// buffers the input first), as every generated response does.
#[derive(Debug, Serialize, Deserialize)]
struct Generated {
    #[serde(rename = "ID")]
    id: Int,
    #[serde(rename = "OPPORTUNITY")]
    opportunity: Double,
    #[serde(rename = "OPENED")]
    opened: Bool,
    #[serde(rename = "CREATED")]
    created: DateTime,
    #[serde(rename = "BEGIN")]
    begin: Option<Date>,
    #[serde(rename = "PHOTO")]
    photo: Option<File>,
    #[serde(rename = "SETTINGS")]
    settings: ObjectOrEmpty<Inner>,
    #[serde(flatten)]
    extra: b24_runtime::Extra,
}

#[test]
fn values_inside_flattened_structs_round_trip() {
    let text = r#"{"ID":"15","OPPORTUNITY":0,"OPENED":"Y","CREATED":"2024-08-29T10:29:54+03:00","BEGIN":null,"PHOTO":{"id":3},"SETTINGS":[],"UNKNOWN":{"x":[1,2.5,"y"]}}"#;
    let g = round_trip::<Generated>(text);
    assert_eq!(g.id.get(), 15);
    assert!(g.opened.get());
    assert!(g.extra.contains_key("UNKNOWN"));
    let text2 = r#"{"ID":15,"OPPORTUNITY":"1500.00","OPENED":true,"CREATED":"","BEGIN":"2024-01-01","PHOTO":null,"SETTINGS":{"a":2}}"#;
    round_trip::<Generated>(text2);
}

/// Generated types read an object into a `serde_json::Value` first, then take each field out:
/// every value type must read from a `Value` as it reads from text.
#[test]
fn values_read_from_json_values() {
    let v = |t: &str| serde_json::from_str::<Value>(t).expect("json");
    assert_eq!(
        serde_json::from_value::<Int>(v(r#""12""#))
            .expect("int")
            .get(),
        12
    );
    assert_eq!(
        serde_json::from_value::<Int>(v("12")).expect("int").get(),
        12
    );
    assert_eq!(
        serde_json::from_value::<Double>(v("1.5"))
            .expect("double")
            .get(),
        1.5
    );
    assert!(serde_json::from_value::<Bool>(v(r#""Y""#))
        .expect("bool")
        .get());
    assert!(serde_json::from_value::<Bool>(v("1")).expect("bool").get());
    assert_eq!(
        serde_json::from_value::<DateTime>(v(r#""2024-08-29T10:29:54+03:00""#))
            .expect("dt")
            .as_str(),
        "2024-08-29T10:29:54+03:00"
    );
    assert_eq!(
        serde_json::from_value::<Date>(v(r#""2024-08-29""#))
            .expect("date")
            .as_str(),
        "2024-08-29"
    );
    assert_eq!(
        serde_json::from_value::<File>(v("7"))
            .expect("file")
            .file_id(),
        Some(7)
    );
    assert!(serde_json::from_value::<ObjectOrEmpty<Inner>>(v("[]"))
        .expect("empty")
        .get()
        .is_none());
    for (text, ty) in [("0", "Double"), ("\"0\"", "Int")] {
        let value = v(text);
        let back = match ty {
            "Double" => {
                serde_json::to_value(serde_json::from_value::<Double>(value.clone()).expect("d"))
            }
            _ => serde_json::to_value(serde_json::from_value::<Int>(value.clone()).expect("i")),
        }
        .expect("ser");
        assert_eq!(back, value, "{text} as {ty}");
    }
}

#[test]
fn ids_and_amounts_debug_without_quotes_whatever_form_they_came_in() {
    let id: Int = serde_json::from_value(v(r#""42""#)).expect("id");
    assert_eq!(format!("{id:?}"), "42");
    assert_eq!(format!("{:?}", Some(Int::from(7))), "Some(7)");
    let amount: Double = serde_json::from_value(v(r#""1500.00""#)).expect("amount");
    assert_eq!(format!("{amount:?}"), "1500.00");
    assert_eq!(
        serde_json::to_value(&id).expect("ser"),
        v(r#""42""#),
        "still written as it came"
    );
}

#[test]
fn money_reads_as_an_exact_decimal() {
    use b24_runtime::value::Decimal;
    let exact: Double = serde_json::from_value(v(r#""12345678901234567.89""#)).expect("text");
    assert_eq!(
        exact.to_decimal().map(|d| d.to_string()),
        Some("12345678901234567.89".into()),
        "an f64 would give 12345678901234568"
    );
    let cents: Double = serde_json::from_value(v(r#""1500.10""#)).expect("text");
    assert_eq!(
        cents.to_decimal().map(|d| d.to_string()),
        Some("1500.10".into())
    );
    let float: Double = serde_json::from_value(v("0.1")).expect("number");
    assert_eq!(
        float.to_decimal().map(|d| d.to_string()),
        Some("0.1".into())
    );
    let int: Double = serde_json::from_value(v("7")).expect("int");
    assert_eq!(int.to_decimal(), Some(Decimal::from(7)));
    let written = Double::from("99.95".parse::<Decimal>().expect("decimal"));
    assert_eq!(
        serde_json::to_value(&written).expect("ser"),
        v(r#""99.95""#)
    );
}
