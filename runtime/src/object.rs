//! How generated structures and unions are defined and (de)serialized.
//!
//! Generated code derives none of serde's traits: with thousands of structures, derives (or
//! impls written out per structure) cost minutes of compile time. A generated structure is one
//! [`object!`](crate::object) invocation, a list of fields with their wire names, and a union
//! one [`union!`](crate::union) invocation. The macros write the type and, as asked, its
//! `Deserialize`, its `Serialize`, the batch [`Key`](crate::batch::Key)s of its fields and a
//! constructor; the rules those impls follow live here, once, in generic helpers:
//!
//! - an object is read straight from the deserializer, key by key: a documented key into its
//!   field, any other into `extra`. A documented field that comes as `null`, or as `[]` where
//!   its type is not a list (PHP's empty associative array), reads as `None` and is kept in
//!   `extra` as it came, so writing the value back gives what was read. `[]` for a whole
//!   object is the empty object.
//! - an error names the structure and the field (`Response.ID: invalid type: …`);
//! - a union tries its forms in order.
//!
//! Every helper is generic, so nothing is compiled for a type an application never decodes.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{
    BorrowedStrDeserializer, MapAccessDeserializer, SeqAccessDeserializer, StrDeserializer,
    StringDeserializer,
};
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, IgnoredAny, IntoDeserializer, MapAccess,
    SeqAccess, Visitor,
};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::Extra;

/// The entries of `extra` whose keys belong to a family of keys the docs name by a pattern
/// (`UF_CRM_...`: every key that starts with `prefix`, and goes on with digits only when
/// `digits`), each decoded as `T`. What generated accessors such as `uf_crm()` return.
pub fn pattern_entries<'a, T: DeserializeOwned>(
    extra: &'a Extra,
    prefix: &'static str,
    digits: bool,
) -> impl Iterator<Item = (&'a str, Result<T, serde_json::Error>)> + 'a {
    extra.iter().filter_map(move |(key, value)| {
        let rest = key.strip_prefix(prefix)?;
        let belongs = !rest.is_empty() && (!digits || rest.bytes().all(|b| b.is_ascii_digit()));
        belongs.then(|| (key.as_str(), T::deserialize(value)))
    })
}

// ---------------------------------------------------------------------------------------------
// Reading objects

/// A generated structure read key by key (what [`object!`](crate::object) implements).
pub trait ReadObject: Default {
    /// The type's name, for errors.
    const NAME: &'static str;

    /// Reads the value of `key` into its field when `key` is documented; `false` (nothing
    /// read) when it is not.
    fn read_field<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
    ) -> Result<bool, A::Error>;

    /// Where keys that no field takes go.
    fn extra(&mut self) -> &mut Extra;
}

/// Reads a [`ReadObject`] from any deserializer: an object, or `[]` (PHP's empty
/// associative array) for the empty object.
pub fn read_object<'de, D: Deserializer<'de>, T: ReadObject>(
    deserializer: D,
) -> Result<T, D::Error> {
    deserializer.deserialize_any(ObjectVisitor(PhantomData))
}

struct ObjectVisitor<T>(PhantomData<T>);

impl<T: ReadObject> ObjectVisitor<T> {
    fn not_an_object<E: de::Error>(found: &str) -> E {
        E::custom(format_args!(
            "{}: expected an object, found {found}",
            T::NAME
        ))
    }
}

impl<'de, T: ReadObject> Visitor<'de> for ObjectVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: an object", T::NAME)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut object = T::default();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            if !object.read_field(key.as_str(), &mut map)? {
                let value: Value = map.next_value()?;
                object.extra().insert(key.into_string(), value);
            }
        }
        Ok(object)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
        match seq.next_element::<IgnoredAny>()? {
            None => Ok(T::default()),
            Some(_) => Err(Self::not_an_object("an array")),
        }
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<T, E> {
        Err(Self::not_an_object("a boolean"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<T, E> {
        Err(Self::not_an_object("a number"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<T, E> {
        Err(Self::not_an_object("a number"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<T, E> {
        Err(Self::not_an_object("a number"))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<T, E> {
        Err(Self::not_an_object("a string"))
    }

    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        Err(Self::not_an_object("null"))
    }

    fn visit_none<E: de::Error>(self) -> Result<T, E> {
        Err(Self::not_an_object("null"))
    }
}

/// An object key, borrowed from the input when it can be.
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(s) => s,
            Key::Owned(s) => s,
        }
    }

    fn into_string(self) -> String {
        match self {
            Key::Borrowed(s) => s.to_owned(),
            Key::Owned(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(s))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(s.to_owned()))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Key<'de>, E> {
                Ok(Key::Owned(s))
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// Reads an optional field whose type takes no list: `null` and `[]` read as `None` and stay
/// in `extra` as they came. (`opt` fields of [`object!`](crate::object).)
pub fn opt<'de, T: Deserialize<'de>, A: MapAccess<'de>>(
    slot: &mut Option<T>,
    extra: &mut Extra,
    key: &str,
    map: &mut A,
    type_name: &'static str,
) -> Result<bool, A::Error> {
    let read = map
        .next_value_seed(Lenient::<T>(PhantomData))
        .map_err(|e| in_field(type_name, key, e))?;
    keep(slot, extra, key, read);
    Ok(true)
}

/// Reads an optional field whose type takes lists: `[]` is a value, `null` reads as `None`
/// and stays in `extra`. (`seq` fields of [`object!`](crate::object).)
pub fn seq<'de, T: Deserialize<'de>, A: MapAccess<'de>>(
    slot: &mut Option<T>,
    extra: &mut Extra,
    key: &str,
    map: &mut A,
    type_name: &'static str,
) -> Result<bool, A::Error> {
    let read = map
        .next_value_seed(NullOr::<T>(PhantomData))
        .map_err(|e| in_field(type_name, key, e))?;
    keep(slot, extra, key, read);
    Ok(true)
}

/// Reads a field that must be present, as it comes (`null` included, for a nullable type).
/// (`req` fields of [`object!`](crate::object), while the structure is being read.)
pub fn req<'de, T: Deserialize<'de>, A: MapAccess<'de>>(
    slot: &mut Option<T>,
    _extra: &mut Extra,
    key: &str,
    map: &mut A,
    type_name: &'static str,
) -> Result<bool, A::Error> {
    *slot = Some(map.next_value().map_err(|e| in_field(type_name, key, e))?);
    Ok(true)
}

/// A required field's value once the whole object is read.
pub fn present<T, E: de::Error>(slot: Option<T>, key: &str, type_name: &str) -> Result<T, E> {
    slot.ok_or_else(|| E::custom(format_args!("{type_name}: missing field `{key}`")))
}

/// What an optional field came as.
enum Read<T> {
    Value(T),
    Null,
    EmptyArray,
}

fn keep<T>(slot: &mut Option<T>, extra: &mut Extra, key: &str, read: Read<T>) {
    match read {
        Read::Value(value) => *slot = Some(value),
        Read::Null => {
            extra.insert(key.to_owned(), Value::Null);
        }
        Read::EmptyArray => {
            extra.insert(key.to_owned(), Value::Array(Vec::new()));
        }
    }
}

/// An error inside a field, named after the structure and the field. The position the JSON
/// parser gave the inner error is dropped: the outer error gets it again.
fn in_field<E: de::Error>(type_name: &str, key: &str, error: E) -> E {
    let message = error.to_string();
    E::custom(format_args!(
        "{type_name}.{key}: {}",
        without_position(&message)
    ))
}

/// `message` without serde_json's ` at line N column M` suffix.
fn without_position(message: &str) -> &str {
    let Some((head, tail)) = message.rsplit_once(" at line ") else {
        return message;
    };
    let numbers = tail.split_once(" column ").filter(|(line, column)| {
        [line, column]
            .iter()
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    });
    if numbers.is_some() {
        head
    } else {
        message
    }
}

/// Reads a `T` that takes lists, or `null`.
struct NullOr<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for NullOr<T> {
    type Value = Read<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Read<T>, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for NullOr<T> {
    type Value = Read<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Read<T>, E> {
        Ok(Read::Null)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Read<T>, E> {
        Ok(Read::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Read<T>, D::Error> {
        T::deserialize(deserializer).map(Read::Value)
    }
}

/// Reads a `T` that takes no list, `null` or `[]`: every other form is handed to `T`.
struct Lenient<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for Lenient<T> {
    type Value = Read<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Read<T>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<T> Lenient<T> {
    fn value<'de, E>(deserializer: impl Deserializer<'de, Error = E>) -> Result<Read<T>, E>
    where
        T: Deserialize<'de>,
    {
        T::deserialize(deserializer).map(Read::Value)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for Lenient<T> {
    type Value = Read<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value")
    }

    fn visit_none<E: de::Error>(self) -> Result<Read<T>, E> {
        Ok(Read::Null)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Read<T>, E> {
        Ok(Read::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Read<T>, D::Error> {
        Self::value(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Read<T>, A::Error> {
        match seq.next_element::<IgnoredAny>()? {
            None => Ok(Read::EmptyArray),
            // Not a list type: let `T` say what it expected instead.
            Some(_) => Err(de::Error::invalid_type(de::Unexpected::Seq, &self)),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Read<T>, A::Error> {
        Self::value(MapAccessDeserializer::new(map))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Read<T>, E> {
        Self::value(v.into_deserializer())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Read<T>, E> {
        Self::value(v.into_deserializer())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Read<T>, E> {
        Self::value(v.into_deserializer())
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Read<T>, E> {
        Self::value(v.into_deserializer())
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Read<T>, E> {
        Self::value(v.into_deserializer())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Read<T>, E> {
        Self::value(v.into_deserializer())
    }

    fn visit_char<E: de::Error>(self, v: char) -> Result<Read<T>, E> {
        Self::value(v.into_deserializer())
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Read<T>, E> {
        Self::value(BorrowedStrDeserializer::new(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Read<T>, E> {
        Self::value(StrDeserializer::new(v))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Read<T>, E> {
        Self::value(StringDeserializer::new(v))
    }
}

// ---------------------------------------------------------------------------------------------
// Writing objects

/// Writes a generated structure as a JSON object: its set fields, then the `extra` entries no
/// field wrote (a field set wins over an `extra` entry with its key).
///
/// Which keys a field wrote is asked of `written` (a `match` on the wire names the
/// [`object!`](crate::object) macro writes) only for the `extra` entries, so writing keeps no
/// list of keys and searches none.
pub struct ObjectWriter<'a, M, W> {
    map: M,
    extra: &'a Extra,
    written: W,
}

impl<'a, M: SerializeMap, W: Fn(&str) -> bool> ObjectWriter<'a, M, W> {
    /// Starts an object whose undocumented entries are `extra`; `written(key)` tells whether
    /// a field writes `key` (a required field, or an optional one that is set).
    pub fn new<S>(serializer: S, extra: &'a Extra, written: W) -> Result<Self, S::Error>
    where
        S: Serializer<SerializeMap = M, Error = M::Error>,
    {
        Ok(ObjectWriter {
            map: serializer.serialize_map(None)?,
            extra,
            written,
        })
    }

    /// A field that is always written.
    #[inline]
    pub fn req<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), M::Error> {
        self.map.serialize_entry(key, value)
    }

    /// An optional field: left out when unset (a request then leaves the server's value alone).
    #[inline]
    pub fn opt<T: Serialize>(
        &mut self,
        key: &'static str,
        value: &Option<T>,
    ) -> Result<(), M::Error> {
        match value {
            Some(value) => self.req(key, value),
            None => Ok(()),
        }
    }

    /// An optional field of a list type: as [`ObjectWriter::opt`].
    #[inline]
    pub fn seq<T: Serialize>(
        &mut self,
        key: &'static str,
        value: &Option<T>,
    ) -> Result<(), M::Error> {
        self.opt(key, value)
    }

    /// Writes the `extra` entries no field wrote, and ends the object.
    pub fn end(mut self) -> Result<M::Ok, M::Error> {
        for (key, value) in self.extra {
            if !(self.written)(key) {
                self.map.serialize_entry(key, value)?;
            }
        }
        self.map.end()
    }
}

// ---------------------------------------------------------------------------------------------
// Unions

/// The forms of a generated union that read a JSON object or array straight from the input:
/// when one form alone can take an object (or an array), the others need not see it, so it is
/// not buffered. [`one_of!`](crate::one_of) writes this impl with `de`; without `reads { ... }`
/// it keeps the defaults, and every object and array is buffered.
pub trait Direct: Sized {
    /// True when one form alone takes objects: [`Direct::object`] reads them.
    const OBJECT: bool = false;
    /// True when one form alone takes arrays, `[]` included: [`Direct::array`] reads them.
    const ARRAY: bool = false;

    /// Reads an object (given as a deserializer over its entries) into the form that takes
    /// objects.
    fn object<'de, D: Deserializer<'de>>(object: D) -> Result<Self, D::Error> {
        drop(object);
        Err(de::Error::custom(
            "no form reads objects straight from the input",
        ))
    }

    /// Reads an array (given as a deserializer over its items) into the form that takes
    /// arrays.
    fn array<'de, D: Deserializer<'de>>(array: D) -> Result<Self, D::Error> {
        drop(array);
        Err(de::Error::custom(
            "no form reads arrays straight from the input",
        ))
    }
}

/// A value being read into a generated union: its forms are tried in order.
///
/// A scalar is kept as it came (a string borrowed from the input when it can be), and each
/// form reads it the way a field reads it, with an error that is never formatted: a form that
/// does not fit costs no allocation. An object or an array that one form alone can take is read
/// straight into it (see [`Direct`]); other objects and arrays are buffered, as a [`Value`].
pub struct Union<'de, E, T> {
    value: Captured<'de, T>,
    type_name: &'static str,
    error: PhantomData<E>,
}

/// What a union read.
enum Captured<'de, T> {
    /// Read straight into the one form that takes it.
    Direct(T),
    Null,
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    Borrowed(&'de str),
    Owned(String),
    Buffered(Value),
}

impl<'de, E: de::Error, T: Direct> Union<'de, E, T> {
    /// Reads the value.
    pub fn read<D>(deserializer: D, type_name: &'static str) -> Result<Self, E>
    where
        D: Deserializer<'de, Error = E>,
    {
        Ok(Union {
            value: deserializer.deserialize_any(CapturedVisitor(PhantomData))?,
            type_name,
            error: PhantomData,
        })
    }

    /// The union's value, when the one form that takes it read it straight from the input.
    pub fn direct(self) -> Result<T, Self> {
        match self.value {
            Captured::Direct(value) => Ok(value),
            _ => Err(self),
        }
    }

    /// True when the value is `[]`.
    pub fn is_empty_array(&self) -> bool {
        matches!(&self.value, Captured::Buffered(Value::Array(items)) if items.is_empty())
    }

    /// The value as `T`, if it has that form.
    pub fn try_form<F: DeserializeOwned>(&self) -> Option<F> {
        fn form<'a, F: Deserialize<'a>>(d: impl Deserializer<'a, Error = Rejected>) -> Option<F> {
            F::deserialize(d).ok()
        }
        match &self.value {
            Captured::Null => form(().into_deserializer()),
            Captured::Bool(v) => form(v.into_deserializer()),
            Captured::I64(v) => form(v.into_deserializer()),
            Captured::U64(v) => form(v.into_deserializer()),
            Captured::F64(v) => form(v.into_deserializer()),
            Captured::Borrowed(v) => form(BorrowedStrDeserializer::new(v)),
            Captured::Owned(v) => form(StrDeserializer::new(v)),
            Captured::Buffered(v) => F::deserialize(v).ok(),
            Captured::Direct(_) => None,
        }
    }

    /// The error when no form fits.
    pub fn no_form(self) -> E {
        let kind = match &self.value {
            Captured::Null => "null",
            Captured::Bool(_) => "a boolean",
            Captured::I64(_) | Captured::U64(_) | Captured::F64(_) => "a number",
            Captured::Borrowed(_) | Captured::Owned(_) => "a string",
            Captured::Buffered(Value::Array(_)) => "an array",
            Captured::Buffered(_) => "an object",
            Captured::Direct(_) => "a value",
        };
        E::custom(format_args!(
            "{}: no documented form accepts {kind}",
            self.type_name
        ))
    }
}

/// Reads any JSON value into a [`Captured`].
struct CapturedVisitor<T>(PhantomData<T>);

impl<T: Direct> CapturedVisitor<T> {
    fn too_wide<E: de::Error>(&self) -> E {
        E::invalid_value(de::Unexpected::Other("a 128-bit integer"), self)
    }
}

impl<'de, T: Direct> Visitor<'de> for CapturedVisitor<T> {
    type Value = Captured<'de, T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Captured<'de, T>, E> {
        Ok(Captured::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Captured<'de, T>, E> {
        Ok(Captured::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Captured<'de, T>, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        d: D,
    ) -> Result<Captured<'de, T>, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Captured<'de, T>, E> {
        Ok(Captured::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Captured<'de, T>, E> {
        Ok(Captured::I64(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Captured<'de, T>, E> {
        Ok(Captured::U64(v))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Captured<'de, T>, E> {
        match (i64::try_from(v), u64::try_from(v)) {
            (Ok(v), _) => Ok(Captured::I64(v)),
            (_, Ok(v)) => Ok(Captured::U64(v)),
            _ => Err(self.too_wide()),
        }
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Captured<'de, T>, E> {
        u64::try_from(v)
            .map(Captured::U64)
            .map_err(|_| self.too_wide())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Captured<'de, T>, E> {
        Ok(Captured::F64(v))
    }

    fn visit_char<E: de::Error>(self, v: char) -> Result<Captured<'de, T>, E> {
        Ok(Captured::Owned(v.to_string()))
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Captured<'de, T>, E> {
        Ok(Captured::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Captured<'de, T>, E> {
        Ok(Captured::Owned(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Captured<'de, T>, E> {
        Ok(Captured::Owned(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Captured<'de, T>, A::Error> {
        if T::ARRAY {
            return T::array(SeqAccessDeserializer::new(seq)).map(Captured::Direct);
        }
        Value::deserialize(SeqAccessDeserializer::new(seq)).map(Captured::Buffered)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Captured<'de, T>, A::Error> {
        if T::OBJECT {
            return T::object(MapAccessDeserializer::new(map)).map(Captured::Direct);
        }
        Value::deserialize(MapAccessDeserializer::new(map)).map(Captured::Buffered)
    }
}

/// Why a form did not take a scalar. It is never shown (the union reports that no form fit),
/// so it carries nothing and formats nothing.
#[derive(Debug)]
struct Rejected;

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the form does not take this value")
    }
}

impl std::error::Error for Rejected {}

impl de::Error for Rejected {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Rejected
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    crate::object! {
        /// A structure with one required, one optional and one list field.
        pub struct Sample [de_req ser] {
            req code: String = "code",
            opt sort: i64 = "sort",
            seq ids: Vec<i64> = "ids",
            opt inner: Inner = "inner",
        }
        new(code: String);
    }

    crate::object! {
        /// A structure of optional fields only.
        pub struct Inner [de ser keys default] {
            opt id: crate::value::Int = "ID" => ID,
            opt flag: crate::value::Bool = "FLAG" => FLAG,
        }
        /// Custom fields.
        fn uf -> i64 = "UF_", digits;
    }

    crate::one_of! {
        /// A number or a list of numbers.
        pub enum Ids [de ser] {
            Integer(i64),
            Array(Vec<i64>),
        }
    }

    #[test]
    fn fields_are_taken_and_the_rest_is_kept() {
        let sample: Sample =
            serde_json::from_value(json!({"code": "a", "sort": 5, "new": [1]})).unwrap();
        assert_eq!(sample.code, "a");
        assert_eq!(sample.sort, Some(5));
        assert_eq!(sample.extra.get("new"), Some(&json!([1])));
        assert_eq!(
            serde_json::to_value(&sample).unwrap(),
            json!({"code": "a", "sort": 5, "new": [1]})
        );
    }

    #[test]
    fn the_rest_keeps_the_order_it_came_in() {
        let sample: Sample = serde_json::from_value(
            json!({"code": "a", "UF_1": 1, "UF_2": 2, "sort": 5, "ids": null, "UF_3": 3}),
        )
        .unwrap();
        let keys: Vec<&str> = sample.extra.keys().map(String::as_str).collect();
        assert_eq!(keys, ["UF_1", "UF_2", "ids", "UF_3"]);
    }

    #[test]
    fn every_deserializer_reads_the_same() {
        let text = r#"{"code": "a\n", "sort": 5, "ids": [1], "inner": {"ID": "7", "X": 1}}"#;
        let from_str: Sample = serde_json::from_str(text).unwrap();
        let from_reader: Sample = serde_json::from_reader(text.as_bytes()).unwrap();
        let value: Value = serde_json::from_str(text).unwrap();
        let from_value: Sample = serde_json::from_value(value.clone()).unwrap();
        let from_ref = Sample::deserialize(&value).unwrap();
        assert_eq!(from_str, from_reader);
        assert_eq!(from_str, from_value);
        assert_eq!(from_str, from_ref);
        let inner = from_str.inner.as_ref().unwrap();
        assert_eq!(inner.id.as_ref().map(|i| i.get()), Some(7));
        assert_eq!(inner.extra.get("X"), Some(&json!(1)));
        assert_eq!(serde_json::to_value(&from_str).unwrap(), value);
    }

    #[test]
    fn errors_name_the_type_and_field() {
        let missing = serde_json::from_value::<Sample>(json!({"sort": 1})).unwrap_err();
        assert_eq!(missing.to_string(), "Sample: missing field `code`");
        let wrong = serde_json::from_str::<Sample>(r#"{"code": "a", "sort": "x"}"#).unwrap_err();
        assert!(wrong.to_string().starts_with("Sample.sort: "), "{wrong}");
        assert_eq!(wrong.to_string().matches(" at line ").count(), 1, "{wrong}");
        let nested =
            serde_json::from_str::<Sample>(r#"{"code": "a", "inner": {"ID": "x"}}"#).unwrap_err();
        assert!(
            nested.to_string().starts_with("Sample.inner: Inner.ID: "),
            "{nested}"
        );
        assert_eq!(
            nested.to_string().matches(" at line ").count(),
            1,
            "{nested}"
        );
        let scalar = serde_json::from_str::<Sample>("5").unwrap_err();
        assert!(
            scalar
                .to_string()
                .starts_with("Sample: expected an object, found a number"),
            "{scalar}"
        );
        let list = serde_json::from_str::<Inner>("[1]").unwrap_err();
        assert!(
            list.to_string()
                .starts_with("Inner: expected an object, found an array"),
            "{list}"
        );
        let not_a_list =
            serde_json::from_str::<Sample>(r#"{"code": "a", "sort": [1]}"#).unwrap_err();
        assert!(
            not_a_list.to_string().starts_with("Sample.sort: "),
            "{not_a_list}"
        );
    }

    #[test]
    fn null_and_empty_arrays_read_as_none_and_write_back_as_they_came() {
        for original in [
            json!({"code": "a", "sort": null}),
            json!({"code": "a", "sort": []}),
            json!({"code": "a", "inner": []}),
            json!({"code": "a", "ids": null}),
            json!({"code": "a"}),
        ] {
            let sample: Sample = serde_json::from_value(original.clone()).unwrap();
            assert_eq!(sample.sort, None);
            assert_eq!(sample.inner, None);
            assert_eq!(sample.ids, None);
            assert_eq!(serde_json::to_value(&sample).unwrap(), original);
        }
        // A list field keeps its empty list as a value.
        let sample: Sample = serde_json::from_value(json!({"code": "a", "ids": []})).unwrap();
        assert_eq!(sample.ids, Some(vec![]));
        assert!(sample.extra.is_empty());
        // An empty array is an empty object at the top level.
        let err = serde_json::from_value::<Sample>(json!([])).unwrap_err();
        assert_eq!(err.to_string(), "Sample: missing field `code`");
        assert_eq!(
            serde_json::from_str::<Inner>("[]").unwrap(),
            Inner::default()
        );
    }

    #[test]
    fn a_field_set_wins_over_extra() {
        let mut sample: Sample =
            serde_json::from_value(json!({"code": "a", "sort": null})).unwrap();
        sample.sort = Some(3);
        sample.extra.insert("code".into(), json!("b"));
        assert_eq!(
            serde_json::to_value(&sample).unwrap(),
            json!({"code": "a", "sort": 3})
        );
    }

    #[test]
    fn constructors_keys_and_pattern_accessors() {
        let sample = Sample::new("c");
        assert_eq!(sample.code, "c");
        assert_eq!(sample.sort, None);
        assert_eq!(serde_json::to_value(&sample).unwrap(), json!({"code": "c"}));
        assert_eq!(Inner::ID.name(), "ID");
        assert_eq!(Inner::FLAG.name(), "FLAG");
        let inner: Inner =
            serde_json::from_value(json!({"UF_1": 5, "UF_X": 6, "UF_": 7, "FLAG": "Y"})).unwrap();
        let uf: Vec<(&str, i64)> = inner.uf().map(|(k, v)| (k, v.unwrap())).collect();
        assert_eq!(uf, vec![("UF_1", 5)]);
        assert!(inner.flag.unwrap().get());
        assert!(format!("{inner:?}").starts_with("Inner { id: None, flag: Some(true)"));
    }

    #[test]
    fn union_forms_are_tried_in_order() {
        let union = Union::<serde_json::Error, Ids>::read(json!("5"), "U").unwrap();
        assert_eq!(union.try_form::<i64>(), None);
        assert_eq!(union.try_form::<String>(), Some("5".to_owned()));
        assert_eq!(
            union.no_form().to_string(),
            "U: no documented form accepts a string"
        );
        assert_eq!(
            serde_json::from_value::<Ids>(json!(5)).unwrap(),
            Ids::Integer(5)
        );
        assert_eq!(
            serde_json::from_value::<Ids>(json!([])).unwrap(),
            Ids::Array(vec![])
        );
        let err = serde_json::from_value::<Ids>(json!("x")).unwrap_err();
        assert_eq!(err.to_string(), "Ids: no documented form accepts a string");
    }

    crate::one_of! {
        /// A structure or anything.
        pub enum Loose [de ser] {
            Object(Inner),
            Any(Value) as list,
        }
    }

    crate::one_of! {
        /// Every scalar form.
        pub enum Scalar [de ser] {
            Integer(crate::value::Int),
            Flag(crate::value::Bool),
            Number(f64),
            Text(String),
            Any(Value),
        }
    }

    #[test]
    fn a_scalar_takes_the_first_form_a_buffered_value_would_take() {
        // What the forms give when each is tried on a `Value` (how unions read before scalars
        // were kept as they came).
        fn through_value(value: &Value) -> Scalar {
            use crate::value::{Bool, Int};
            let value = value.clone();
            None.or_else(|| {
                serde_json::from_value::<Int>(value.clone())
                    .ok()
                    .map(Scalar::Integer)
            })
            .or_else(|| {
                serde_json::from_value::<Bool>(value.clone())
                    .ok()
                    .map(Scalar::Flag)
            })
            .or_else(|| {
                serde_json::from_value::<f64>(value.clone())
                    .ok()
                    .map(Scalar::Number)
            })
            .or_else(|| {
                serde_json::from_value::<String>(value.clone())
                    .ok()
                    .map(Scalar::Text)
            })
            .unwrap_or(Scalar::Any(value))
        }
        let inputs = [
            "5",
            "-3",
            "18446744073709551615",
            "1.5",
            "\"5\"",
            "\" 5\"",
            "\"x\"",
            "\"a\\nb\"",
            "true",
            "\"Y\"",
            "\"N\"",
            "null",
            "\"\"",
        ];
        for input in inputs {
            let value: Value = serde_json::from_str(input).unwrap();
            let expected = through_value(&value);
            let read: Scalar = serde_json::from_str(input).unwrap();
            assert_eq!(read, expected, "{input}");
            // From a `Value` too (strings then come owned, not borrowed).
            assert_eq!(
                serde_json::from_value::<Scalar>(value).unwrap(),
                expected,
                "{input}"
            );
        }
        assert_eq!(
            serde_json::from_str::<Ids>("true").unwrap_err().to_string(),
            "Ids: no documented form accepts a boolean"
        );
    }

    crate::one_of! {
        /// A structure, a list of numbers or a number, objects and arrays buffered.
        pub enum Buffered [de ser] {
            Integer(crate::value::Int),
            Object(Inner),
            Array(Vec<crate::value::Int>) as list,
        }
    }

    crate::one_of! {
        /// The same forms, objects and arrays read straight into their one form.
        pub enum Straight [de ser] {
            Integer(crate::value::Int),
            Object(Inner),
            Array(Vec<crate::value::Int>) as list,
        }
        reads { objects => Object; arrays => Array; }
    }

    #[test]
    fn objects_and_arrays_read_straight_give_what_buffering_gives() {
        let inputs = [
            r#"{"ID": "5", "FLAG": "Y", "NEW": [1]}"#,
            "{}",
            "[]",
            r#"[1, "2"]"#,
            "7",
            r#""8""#,
        ];
        for input in inputs {
            let buffered: Buffered = serde_json::from_str(input).unwrap();
            let straight: Straight = serde_json::from_str(input).unwrap();
            assert_eq!(
                serde_json::to_string(&straight).unwrap(),
                serde_json::to_string(&buffered).unwrap(),
                "{input}"
            );
            let same = match (&buffered, &straight) {
                (Buffered::Integer(a), Straight::Integer(b)) => a == b,
                (Buffered::Object(a), Straight::Object(b)) => a == b,
                (Buffered::Array(a), Straight::Array(b)) => a == b,
                _ => false,
            };
            assert!(same, "{input}: {buffered:?} against {straight:?}");
        }
        // A form read straight says what in it did not fit.
        let err = serde_json::from_str::<Straight>(r#"{"ID": "x"}"#).unwrap_err();
        assert!(err.to_string().starts_with("Inner.ID: "), "{err}");
        let err = serde_json::from_str::<Buffered>(r#"{"ID": "x"}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Buffered: no documented form accepts an object"
        );
    }

    #[test]
    fn an_empty_array_is_read_by_the_forms_that_take_lists_first() {
        // `[]` is the empty structure to `Inner`, but a list to the catch-all: kept as a list,
        // it writes back as it came.
        let loose: Loose = serde_json::from_str("[]").unwrap();
        assert_eq!(loose, Loose::Any(json!([])));
        assert_eq!(serde_json::to_string(&loose).unwrap(), "[]");
        let loose: Loose = serde_json::from_str(r#"{"ID": 1}"#).unwrap();
        assert!(matches!(loose, Loose::Object(_)));
    }

    #[test]
    fn positions_are_dropped_only_when_they_are_positions() {
        assert_eq!(without_position("bad at line 1 column 5"), "bad");
        assert_eq!(
            without_position("bad at line one column 5"),
            "bad at line one column 5"
        );
        assert_eq!(without_position("plain"), "plain");
    }
}
