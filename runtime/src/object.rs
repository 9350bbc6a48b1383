//! Serialization support for generated structures and unions.
//!
//! Generated types do not derive `Serialize`/`Deserialize`: with thousands of structures a
//! derive per structure costs minutes of compile time. Their impls are a few lines each that
//! call these helpers, which exist once: an object is read into a JSON map and its documented
//! fields are taken out one by one (what is left is kept as `extra`); a union tries its forms in
//! order. Every helper is generic, so nothing is compiled for a type an application never uses.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

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

/// The fields of a JSON object being read into a generated structure. `E` is the error type
/// of the deserializer it came from.
pub struct Fields<E> {
    map: Map<String, Value>,
    type_name: &'static str,
    error: PhantomData<E>,
}

impl<E: serde::de::Error> Fields<E> {
    /// Reads an object. An empty array is read as an empty object: PHP writes an empty
    /// associative array as `[]`.
    pub fn read<'de, D>(deserializer: D, type_name: &'static str) -> Result<Self, E>
    where
        D: Deserializer<'de, Error = E>,
    {
        let map = match Value::deserialize(deserializer)? {
            Value::Object(map) => map,
            Value::Array(items) if items.is_empty() => Map::new(),
            other => {
                return Err(E::custom(format_args!(
                    "{type_name}: expected an object, found {}",
                    kind(&other)
                )))
            }
        };
        Ok(Fields {
            map,
            type_name,
            error: PhantomData,
        })
    }

    /// A field that must be present (a required request parameter).
    pub fn required<T: DeserializeOwned>(&mut self, key: &str) -> Result<T, E> {
        // `shift_remove`: what is left keeps the order it came in (`remove` swaps the last key in).
        match self.map.shift_remove(key) {
            Some(value) => self.decode(key, value),
            None => Err(E::custom(format_args!(
                "{}: missing field `{key}`",
                self.type_name
            ))),
        }
    }

    /// A field that may be absent. A `null`, or an empty array where `T` is not a list
    /// (PHP's empty associative array), reads as `None` and stays in [`Fields::rest`], so the
    /// value is written back exactly as it came.
    pub fn optional<T: DeserializeOwned + Serialize>(&mut self, key: &str) -> Result<Option<T>, E> {
        // `shift_remove`: what is left keeps the order it came in (`remove` swaps the last key in).
        match self.map.shift_remove(key) {
            None => Ok(None),
            Some(Value::Null) => {
                self.map.insert(key.to_owned(), Value::Null);
                Ok(None)
            }
            Some(Value::Array(items)) if items.is_empty() => {
                let empty = Value::Array(items);
                match serde_json::from_value::<T>(empty.clone()) {
                    Ok(value) if serde_json::to_value(&value).ok().as_ref() == Some(&empty) => {
                        Ok(Some(value))
                    }
                    _ => {
                        self.map.insert(key.to_owned(), empty);
                        Ok(None)
                    }
                }
            }
            Some(value) => self.decode(key, value).map(Some),
        }
    }

    /// The fields no documented field took: kept as they came.
    pub fn rest(self) -> Extra {
        self.map
    }

    fn decode<T: DeserializeOwned>(&self, key: &str, value: Value) -> Result<T, E> {
        serde_json::from_value(value)
            .map_err(|e| E::custom(format_args!("{}.{key}: {e}", self.type_name)))
    }
}

/// Writes a generated structure as a JSON object.
pub struct ObjectWriter<'k, M> {
    map: M,
    written: Vec<&'k str>,
}

impl<'k, M: SerializeMap> ObjectWriter<'k, M> {
    /// Starts an object.
    pub fn new<S>(serializer: S) -> Result<Self, S::Error>
    where
        S: Serializer<SerializeMap = M, Error = M::Error>,
    {
        Ok(ObjectWriter {
            map: serializer.serialize_map(None)?,
            written: Vec::new(),
        })
    }

    /// A field that is always written.
    pub fn required<T: Serialize + ?Sized>(
        &mut self,
        key: &'k str,
        value: &T,
    ) -> Result<(), M::Error> {
        self.written.push(key);
        self.map.serialize_entry(key, value)
    }

    /// An optional field: left out when unset (a request then leaves the server's value alone).
    pub fn optional<T: Serialize>(
        &mut self,
        key: &'k str,
        value: &Option<T>,
    ) -> Result<(), M::Error> {
        match value {
            Some(value) => self.required(key, value),
            None => Ok(()),
        }
    }

    /// The `extra` map: undocumented fields, and documented ones that came as `null` or `[]`.
    /// A key already written from its field is not written twice: the field wins.
    pub fn extra(&mut self, extra: &Extra) -> Result<(), M::Error> {
        for (key, value) in extra {
            if !self.written.contains(&key.as_str()) {
                self.map.serialize_entry(key, value)?;
            }
        }
        Ok(())
    }

    /// Ends the object.
    pub fn end(self) -> Result<M::Ok, M::Error> {
        self.map.end()
    }
}

/// A value being read into a generated union: its forms are tried in order.
pub struct Union<E> {
    value: Value,
    type_name: &'static str,
    error: PhantomData<E>,
}

impl<E: serde::de::Error> Union<E> {
    /// Reads the value.
    pub fn read<'de, D>(deserializer: D, type_name: &'static str) -> Result<Self, E>
    where
        D: Deserializer<'de, Error = E>,
    {
        Ok(Union {
            value: Value::deserialize(deserializer)?,
            type_name,
            error: PhantomData,
        })
    }

    /// The value as `T`, if it has that form.
    pub fn try_form<T: DeserializeOwned>(&self) -> Option<T> {
        T::deserialize(&self.value).ok()
    }

    /// The error when no form fits.
    pub fn no_form(self) -> E {
        E::custom(format_args!(
            "{}: no documented form accepts {}",
            self.type_name,
            kind(&self.value)
        ))
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What the generator writes for a structure with one required and one optional field.
    #[derive(Debug, PartialEq)]
    struct Sample {
        code: String,
        sort: Option<i64>,
        extra: Extra,
    }

    impl<'de> Deserialize<'de> for Sample {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            let mut fields = Fields::read(deserializer, "Sample")?;
            Ok(Sample {
                code: fields.required("code")?,
                sort: fields.optional("sort")?,
                extra: fields.rest(),
            })
        }
    }

    impl Serialize for Sample {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut object = ObjectWriter::new(serializer)?;
            object.required("code", &self.code)?;
            object.optional("sort", &self.sort)?;
            object.extra(&self.extra)?;
            object.end()
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
            json!({"code": "a", "UF_1": 1, "UF_2": 2, "sort": 5, "UF_3": 3}),
        )
        .unwrap();
        let keys: Vec<&str> = sample.extra.keys().map(String::as_str).collect();
        assert_eq!(keys, ["UF_1", "UF_2", "UF_3"]);
    }

    #[test]
    fn errors_name_the_type_and_field() {
        let missing = serde_json::from_value::<Sample>(json!({"sort": 1})).unwrap_err();
        assert_eq!(missing.to_string(), "Sample: missing field `code`");
        let wrong = serde_json::from_str::<Sample>(r#"{"code": "a", "sort": "x"}"#).unwrap_err();
        assert!(wrong.to_string().starts_with("Sample.sort: "), "{wrong}");
        let scalar = serde_json::from_str::<Sample>("5").unwrap_err();
        assert!(scalar
            .to_string()
            .starts_with("Sample: expected an object, found a number"));
    }

    #[test]
    fn null_and_empty_arrays_read_as_none_and_write_back_as_they_came() {
        for original in [
            json!({"code": "a", "sort": null}),
            json!({"code": "a", "sort": []}),
            json!({"code": "a"}),
        ] {
            let sample: Sample = serde_json::from_value(original.clone()).unwrap();
            assert_eq!(sample.sort, None);
            assert_eq!(serde_json::to_value(&sample).unwrap(), original);
        }
        // A list field keeps its empty list as a value.
        let list: Option<Vec<i64>> = Fields::<serde_json::Error>::read(json!({"ids": []}), "T")
            .unwrap()
            .optional("ids")
            .unwrap();
        assert_eq!(list, Some(vec![]));
        // An empty array is an empty object at the top level.
        let err = serde_json::from_value::<Sample>(json!([])).unwrap_err();
        assert_eq!(err.to_string(), "Sample: missing field `code`");
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
    fn union_forms_are_tried_in_order() {
        let union = Union::<serde_json::Error>::read(json!("5"), "U").unwrap();
        assert_eq!(union.try_form::<i64>(), None);
        assert_eq!(union.try_form::<String>(), Some("5".to_owned()));
        assert_eq!(
            union.no_form().to_string(),
            "U: no documented form accepts a string"
        );
    }
}
