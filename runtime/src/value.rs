//! Lenient value types for what the real API sends.
//!
//! Bitrix24 is written in PHP and is loose about types: an id may come as `5` or `"5"`, a flag
//! as `"Y"`, `true` or `1`, an empty object as `[]`. Each type here accepts every form the
//! API uses and serializes back to exactly the form it was read from, so a response can be
//! decoded and re-encoded without change. Values built in Rust (`From<…>`) use the docs'
//! default form.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------------------------
// Int

/// An integer sent as a JSON number (`5`) or a numeric string (`"5"`), or the empty string
/// `""` that PHP sends for "no value".
///
/// Accepted: what [`b24_form::scalar::is_integer`] accepts: integers in the `i64` range, as
/// numbers or as strings of an optional sign and digits, with whitespace around (kept
/// verbatim, so `"007"` stays `"007"`), and `""`. Anything else, including
/// numbers outside `i64`, is a decode error rather than a silently wrong value.
/// `From<i64>` builds the number form.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Int(IntRepr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum IntRepr {
    Number(i64),
    Text(i64, Box<str>),
    Empty,
}

impl Int {
    /// The value; `0` for the empty string (use [`Int::value`] to tell them apart).
    pub fn get(&self) -> i64 {
        self.value().unwrap_or(0)
    }

    /// The value, or `None` for the empty string.
    pub fn value(&self) -> Option<i64> {
        match &self.0 {
            IntRepr::Number(n) | IntRepr::Text(n, _) => Some(*n),
            IntRepr::Empty => None,
        }
    }

    /// Whether the API sent `""`.
    pub fn is_empty(&self) -> bool {
        matches!(self.0, IntRepr::Empty)
    }

    /// Whether the API sent the value as a string.
    pub fn is_string(&self) -> bool {
        !matches!(self.0, IntRepr::Number(_))
    }

    /// Parses a numeric string the way the API writes it ([`b24_form::scalar::integer_text`]:
    /// an optional sign and digits, with whitespace around, within `i64`), or `""`; `None` if
    /// it is neither.
    pub fn parse_str(s: &str) -> Option<Int> {
        if s.is_empty() {
            return Some(Int(IntRepr::Empty));
        }
        let n = b24_form::scalar::integer_text(s)?;
        Some(Int(IntRepr::Text(n, s.into())))
    }
}

/// `0`, as a number.
impl Default for Int {
    fn default() -> Self {
        Int(IntRepr::Number(0))
    }
}

impl From<i64> for Int {
    fn from(n: i64) -> Self {
        Int(IntRepr::Number(n))
    }
}

impl From<i32> for Int {
    fn from(n: i32) -> Self {
        Int(IntRepr::Number(n.into()))
    }
}

impl From<u32> for Int {
    fn from(n: u32) -> Self {
        Int(IntRepr::Number(n.into()))
    }
}

/// The number, without quotes whichever form it came in (`42`, also for `"42"`); `""` for the
/// empty string. Ids are `Int`s, so a record's `Debug` reads `id: Some(42)`.
impl fmt::Debug for Int {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            IntRepr::Number(n) => write!(f, "{n}"),
            IntRepr::Text(_, s) => f.write_str(s),
            IntRepr::Empty => f.write_str("\"\""),
        }
    }
}

impl fmt::Display for Int {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            IntRepr::Number(n) => write!(f, "{n}"),
            IntRepr::Text(_, s) => f.write_str(s),
            IntRepr::Empty => Ok(()),
        }
    }
}

impl Serialize for Int {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            IntRepr::Number(n) => s.serialize_i64(*n),
            IntRepr::Text(_, t) => s.serialize_str(t),
            IntRepr::Empty => s.serialize_str(""),
        }
    }
}

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Int;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer, a numeric string or \"\"")
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Int, E> {
                Ok(Int::from(n))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Int, E> {
                i64::try_from(n)
                    .map(Int::from)
                    .map_err(|_| E::custom(format_args!("integer {n} is out of range")))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Int, E> {
                Int::parse_str(s).ok_or_else(|| E::invalid_value(de::Unexpected::Str(s), &self))
            }
        }
        d.deserialize_any(V)
    }
}

// ---------------------------------------------------------------------------------------------
// Double

/// A floating-point number sent as a JSON number (`100.15`, `0`) or a numeric string
/// (`"100.15"`, `"1e3"`): what [`b24_form::scalar::is_number`] accepts.
///
/// Keeps the form: an integer stays an integer (`0` is not re-sent as `0.0`), a string stays
/// the same string. A JSON float re-serializes as the shortest text that reads back as the
/// same `f64`, so the JSON value is unchanged even where the text had more digits than an
/// `f64` holds (e.g. `3.3076241016387939` comes back as `3.307624101638794`, the same number).
/// `From<f64>` builds the number form.
#[derive(Clone, PartialEq)]
pub struct Double(DoubleRepr);

#[derive(Clone, PartialEq)]
enum DoubleRepr {
    Int(i64),
    UInt(u64),
    Float(f64),
    Text(f64, Box<str>),
}

impl Double {
    /// The value.
    pub fn get(&self) -> f64 {
        match &self.0 {
            DoubleRepr::Int(n) => *n as f64,
            DoubleRepr::UInt(n) => *n as f64,
            DoubleRepr::Float(x) | DoubleRepr::Text(x, _) => *x,
        }
    }

    /// Whether the API sent the value as a string.
    pub fn is_string(&self) -> bool {
        matches!(self.0, DoubleRepr::Text(..))
    }

    /// The value as a decimal, for money: exact for what came as text (`"1500.10"` is
    /// 1500.10 with its two places, however many digits) and for integers; a JSON float is read
    /// from the shortest text that is the same `f64` (`1500.1`). `None` when the number does
    /// not fit a [`Decimal`] (28 digits) or is not finite.
    pub fn to_decimal(&self) -> Option<Decimal> {
        match &self.0 {
            DoubleRepr::Int(n) => Some(Decimal::from(*n)),
            DoubleRepr::UInt(n) => Some(Decimal::from(*n)),
            DoubleRepr::Float(x) => decimal_of(&x.to_string()),
            DoubleRepr::Text(_, t) => decimal_of(t),
        }
    }
}

/// A decimal from the text of a number (`1500.10`, `-3`, `1e3`).
fn decimal_of(text: &str) -> Option<Decimal> {
    let text = text.trim();
    text.parse::<Decimal>()
        .ok()
        .or_else(|| Decimal::from_scientific(text).ok())
}

/// An exact decimal number for money and quantities: [`rust_decimal::Decimal`].
pub use rust_decimal::Decimal;

/// The decimal as text (`"1500.10"`), the form the API writes money in, so no digit is lost.
impl From<Decimal> for Double {
    fn from(d: Decimal) -> Self {
        let text = d.to_string();
        let x = text.parse::<f64>().unwrap_or(f64::NAN);
        Double(DoubleRepr::Text(x, text.into_boxed_str()))
    }
}

impl From<i32> for Double {
    fn from(n: i32) -> Self {
        Double(DoubleRepr::Int(n.into()))
    }
}

/// `0`, as an integer number.
impl Default for Double {
    fn default() -> Self {
        Double(DoubleRepr::Int(0))
    }
}

impl From<f64> for Double {
    fn from(x: f64) -> Self {
        Double(DoubleRepr::Float(x))
    }
}

impl From<i64> for Double {
    fn from(n: i64) -> Self {
        Double(DoubleRepr::Int(n))
    }
}

/// The number as it came, without quotes (`1500.00`, also for `"1500.00"`).
impl fmt::Debug for Double {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Double {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            DoubleRepr::Int(n) => write!(f, "{n}"),
            DoubleRepr::UInt(n) => write!(f, "{n}"),
            DoubleRepr::Float(x) => write!(f, "{x}"),
            DoubleRepr::Text(_, s) => f.write_str(s),
        }
    }
}

impl Serialize for Double {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            DoubleRepr::Int(n) => s.serialize_i64(*n),
            DoubleRepr::UInt(n) => s.serialize_u64(*n),
            DoubleRepr::Float(x) => s.serialize_f64(*x),
            DoubleRepr::Text(_, t) => s.serialize_str(t),
        }
    }
}

impl<'de> Deserialize<'de> for Double {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Double;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a numeric string")
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Double, E> {
                Ok(Double(DoubleRepr::Int(n)))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Double, E> {
                Ok(Double(DoubleRepr::UInt(n)))
            }
            fn visit_f64<E: de::Error>(self, x: f64) -> Result<Double, E> {
                Ok(Double(DoubleRepr::Float(x)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Double, E> {
                let x = b24_form::scalar::number_text(s)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(s), &self))?;
                Ok(Double(DoubleRepr::Text(x, s.into())))
            }
        }
        d.deserialize_any(V)
    }
}

// ---------------------------------------------------------------------------------------------
// Bool

/// A boolean in any of the forms the API uses: `"Y"`/`"N"`, `"y"`/`"n"`, `true`/`false`,
/// `1`/`0`, `"1"`/`"0"`, `"true"`/`"false"`, and `""` (PHP's `false` as a string): what
/// [`b24_form::scalar::is_flag`] accepts.
///
/// Keeps the form it was read in; `From<bool>` builds `"Y"`/`"N"`, the docs' default form.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Bool {
    value: bool,
    form: BoolForm,
}

/// The wire form of a [`Bool`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BoolForm {
    /// `"Y"` / `"N"`.
    UpperYN,
    /// `"y"` / `"n"`.
    LowerYN,
    /// JSON `true` / `false`.
    Json,
    /// JSON numbers `1` / `0`.
    Number,
    /// Strings `"1"` / `"0"`.
    NumericString,
    /// Strings `"true"` / `"false"`.
    WordString,
    /// `""` for false, as PHP writes `false` as a string (true is then written `"Y"`).
    EmptyString,
}

impl Bool {
    /// The value.
    pub fn get(&self) -> bool {
        self.value
    }

    /// The wire form.
    pub fn form(&self) -> BoolForm {
        self.form
    }

    /// A value in the given wire form.
    pub fn with_form(value: bool, form: BoolForm) -> Self {
        Bool { value, form }
    }
}

/// `"N"`.
impl Default for Bool {
    fn default() -> Self {
        Bool::from(false)
    }
}

impl From<bool> for Bool {
    fn from(value: bool) -> Self {
        Bool {
            value,
            form: BoolForm::UpperYN,
        }
    }
}

impl fmt::Debug for Bool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.value)
    }
}

impl fmt::Display for Bool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.value)
    }
}

impl Serialize for Bool {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = self.value;
        match self.form {
            BoolForm::UpperYN => s.serialize_str(if v { "Y" } else { "N" }),
            BoolForm::LowerYN => s.serialize_str(if v { "y" } else { "n" }),
            BoolForm::Json => s.serialize_bool(v),
            BoolForm::Number => s.serialize_u64(u64::from(v)),
            BoolForm::NumericString => s.serialize_str(if v { "1" } else { "0" }),
            BoolForm::WordString => s.serialize_str(if v { "true" } else { "false" }),
            BoolForm::EmptyString => s.serialize_str(if v { "Y" } else { "" }),
        }
    }
}

impl<'de> Deserialize<'de> for Bool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Bool;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("Y/N, y/n, true/false, 1/0, \"1\"/\"0\", \"true\"/\"false\" or \"\"")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Bool, E> {
                Ok(Bool::with_form(v, BoolForm::Json))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Bool, E> {
                match n {
                    0 | 1 => Ok(Bool::with_form(n == 1, BoolForm::Number)),
                    _ => Err(E::invalid_value(de::Unexpected::Unsigned(n), &self)),
                }
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Bool, E> {
                match n {
                    0 | 1 => Ok(Bool::with_form(n == 1, BoolForm::Number)),
                    _ => Err(E::invalid_value(de::Unexpected::Signed(n), &self)),
                }
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Bool, E> {
                let (value, form) = match s {
                    "Y" => (true, BoolForm::UpperYN),
                    "N" => (false, BoolForm::UpperYN),
                    "y" => (true, BoolForm::LowerYN),
                    "n" => (false, BoolForm::LowerYN),
                    "1" => (true, BoolForm::NumericString),
                    "0" => (false, BoolForm::NumericString),
                    "true" => (true, BoolForm::WordString),
                    "false" => (false, BoolForm::WordString),
                    "" => (false, BoolForm::EmptyString),
                    _ => return Err(E::invalid_value(de::Unexpected::Str(s), &self)),
                };
                Ok(Bool::with_form(value, form))
            }
        }
        d.deserialize_any(V)
    }
}

// ---------------------------------------------------------------------------------------------
// Date and DateTime

macro_rules! verbatim_string_type {
    ($name:ident, $what:literal) => {
        impl $name {
            /// The text exactly as the API sent it (or as it was built).
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Wraps a string as sent by the API, without checking it.
            pub fn from_raw(s: impl Into<String>) -> Self {
                $name(s.into())
            }

            /// Whether the API sent `""` (PHP's "no value").
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:?}", self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($what)
                    }
                    fn visit_str<E: de::Error>(self, s: &str) -> Result<$name, E> {
                        Ok($name(s.to_owned()))
                    }
                    fn visit_string<E: de::Error>(self, s: String) -> Result<$name, E> {
                        Ok($name(s))
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}

/// A date as the API writes it: `YYYY-MM-DD` (the docs' form), also `DD.MM.YYYY` or `""`.
///
/// The text is kept verbatim (exact round trip); [`Date::date`] parses it on demand.
/// `From<chrono::NaiveDate>` builds the `YYYY-MM-DD` form.
///
/// `Default` is the empty string.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date(String);

verbatim_string_type!(Date, "a date string");

impl Date {
    /// The calendar date; `None` for `""` or a form not listed on the type.
    /// A date-time string yields its date part.
    pub fn date(&self) -> Option<chrono::NaiveDate> {
        let s = self.0.trim();
        let head = s.get(..10).unwrap_or(s);
        chrono::NaiveDate::parse_from_str(head, "%Y-%m-%d")
            .or_else(|_| chrono::NaiveDate::parse_from_str(head, "%d.%m.%Y"))
            .ok()
    }
}

impl From<chrono::NaiveDate> for Date {
    fn from(d: chrono::NaiveDate) -> Self {
        Date(d.format("%Y-%m-%d").to_string())
    }
}

/// A date and time as the API writes it.
///
/// The docs' form is `YYYY-MM-DDThh:mm:ss±hh:mm`; responses also carry `…Z`, fractional
/// seconds, no offset (`YYYY-MM-DDThh:mm:ss`, `YYYY-MM-DD hh:mm:ss`), the Russian-locale
/// `DD.MM.YYYY hh:mm:ss`, and `""`. The text is kept verbatim (exact round trip); the
/// accessors parse it on demand. `From<chrono::DateTime<FixedOffset>>` builds the docs' form.
///
/// `Default` is the empty string.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DateTime(String);

verbatim_string_type!(DateTime, "a date-time string");

const NAIVE_FORMATS: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%d.%m.%Y %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
];

impl DateTime {
    /// The instant with its offset, when the text carries one (`±hh:mm` or `Z`).
    pub fn with_offset(&self) -> Option<chrono::DateTime<chrono::FixedOffset>> {
        chrono::DateTime::parse_from_rfc3339(self.0.trim()).ok()
    }

    /// The wall-clock date and time as written, with or without an offset.
    /// A bare date (`YYYY-MM-DD` or `DD.MM.YYYY`) reads as midnight.
    pub fn naive(&self) -> Option<chrono::NaiveDateTime> {
        if let Some(dt) = self.with_offset() {
            return Some(dt.naive_local());
        }
        let s = self.0.trim();
        NAIVE_FORMATS
            .iter()
            .find_map(|f| chrono::NaiveDateTime::parse_from_str(s, f).ok())
            .or_else(|| {
                (s.len() == 10)
                    .then(|| Date(s.to_owned()).date())
                    .flatten()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
            })
    }
}

impl From<chrono::DateTime<chrono::FixedOffset>> for DateTime {
    fn from(dt: chrono::DateTime<chrono::FixedOffset>) -> Self {
        DateTime(dt.format("%Y-%m-%dT%H:%M:%S%:z").to_string())
    }
}

impl From<chrono::DateTime<chrono::Utc>> for DateTime {
    fn from(dt: chrono::DateTime<chrono::Utc>) -> Self {
        DateTime::from(dt.fixed_offset())
    }
}

// ---------------------------------------------------------------------------------------------
// File

/// The docs' `file` type: a file id, or a description of a file.
///
/// Responses carry an id (`123`, `"123"`) or an object describing the file (`id`, `showUrl`,
/// `downloadUrl`, …); uploads send the content Base64-encoded, usually as a
/// `["name", "base64"]` pair (see `files/how-to-upload-files.md` in the docs). The value is
/// kept as JSON, so every form round-trips.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct File(pub serde_json::Value);

impl File {
    /// An existing file by id.
    pub fn id(id: i64) -> Self {
        File(serde_json::Value::from(id))
    }

    /// An upload in the "name and Base64" form: `["name", "base64"]`.
    pub fn upload(name: impl Into<String>, content: impl AsRef<[u8]>) -> Self {
        File(serde_json::json!([
            name.into(),
            base64_encode(content.as_ref())
        ]))
    }

    /// An upload in the `fileData` form some older methods use: `{"fileData": ["name", "base64"]}`.
    pub fn file_data(name: impl Into<String>, content: impl AsRef<[u8]>) -> Self {
        File(serde_json::json!({ "fileData": [name.into(), base64_encode(content.as_ref())] }))
    }

    /// An upload as a bare Base64 string (the file name is chosen by the server).
    pub fn base64(content: impl AsRef<[u8]>) -> Self {
        File(serde_json::Value::String(base64_encode(content.as_ref())))
    }

    /// The file id, when the value is an id or an object with an `id`/`ID` field.
    pub fn file_id(&self) -> Option<i64> {
        fn as_id(v: &serde_json::Value) -> Option<i64> {
            match v {
                serde_json::Value::Number(n) => n.as_i64(),
                serde_json::Value::String(s) if !s.is_empty() => Int::parse_str(s)?.value(),
                _ => None,
            }
        }
        match &self.0 {
            serde_json::Value::Object(m) => m.get("id").or_else(|| m.get("ID")).and_then(as_id),
            v => as_id(v),
        }
    }

    /// The JSON value.
    pub fn as_value(&self) -> &serde_json::Value {
        &self.0
    }
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

// ---------------------------------------------------------------------------------------------
// Objects that PHP sends as `[]` when empty

/// An object that the API sends as `[]` when it is empty (PHP's empty array).
///
/// `{…}` decodes as [`ObjectOrEmpty::Object`], `[]` as [`ObjectOrEmpty::Empty`], and each
/// serializes back to the same form. Use `Option<ObjectOrEmpty<T>>` where `null` may come too.
#[derive(Clone, Debug, PartialEq)]
pub enum ObjectOrEmpty<T> {
    /// The object.
    Object(T),
    /// The API sent `[]`.
    Empty,
}

impl<T> ObjectOrEmpty<T> {
    /// The object, if there is one.
    pub fn get(&self) -> Option<&T> {
        match self {
            ObjectOrEmpty::Object(t) => Some(t),
            ObjectOrEmpty::Empty => None,
        }
    }

    /// The object, if there is one.
    pub fn into_option(self) -> Option<T> {
        match self {
            ObjectOrEmpty::Object(t) => Some(t),
            ObjectOrEmpty::Empty => None,
        }
    }
}

// Not derived: a derive would require `T: Default`.
#[allow(clippy::derivable_impls)]
impl<T> Default for ObjectOrEmpty<T> {
    fn default() -> Self {
        ObjectOrEmpty::Empty
    }
}

impl<T: Serialize> Serialize for ObjectOrEmpty<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ObjectOrEmpty::Object(t) => t.serialize(s),
            ObjectOrEmpty::Empty => [(); 0].serialize(s),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ObjectOrEmpty<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = ObjectOrEmpty<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object or an empty array")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(ObjectOrEmpty::Object)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                match seq.next_element::<IgnoredAny>()? {
                    None => Ok(ObjectOrEmpty::Empty),
                    Some(_) => Err(de::Error::invalid_type(de::Unexpected::Seq, &self)),
                }
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// A `deserialize_with` helper: reads `[]` as `T::default()`, anything else as `T`.
///
/// For fields where the empty form need not survive a round trip (e.g. maps that PHP sends
/// as `[]` when empty). Where it must, use [`ObjectOrEmpty`].
pub fn object_or_empty<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(ObjectOrEmpty::<T>::deserialize(d)?
        .into_option()
        .unwrap_or_default())
}
