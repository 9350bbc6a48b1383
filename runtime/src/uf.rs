//! Custom fields (user fields): the fields a portal adds to its records (`UF_CRM_DELIVERY_DATE`,
//! `ufCrm5_1690000000`), read and written by name with a typed value.
//!
//! The docs describe custom fields by a pattern row (`UF_CRM_...`), not one by one: each portal
//! has its own. A generated structure keeps them in `extra` with every other key the docs do
//! not describe; structures whose docs have such a row implement [`CustomFields`], and so does
//! [`Extra`] itself, for the rest:
//!
//! ```
//! use b24_runtime::uf::CustomFields;
//! use b24_runtime::value::Int;
//! use b24_runtime::Extra;
//!
//! let mut fields = Extra::new();
//! fields.set_uf("UF_CRM_WEIGHT", 12).unwrap();
//! fields.set_uf("UF_CRM_TAGS", ["a", "b"]).unwrap();
//! assert_eq!(fields.uf::<Int>("UF_CRM_WEIGHT").unwrap().map(|n| n.get()), Some(12));
//! assert_eq!(fields.uf::<Vec<String>>("UF_CRM_TAGS").unwrap(), Some(vec!["a".into(), "b".into()]));
//! assert_eq!(fields.uf::<String>("UF_CRM_NONE").unwrap(), None);
//! ```
//!
//! Which custom fields a portal has is the answer of `P.fields` (the entries with `isDynamic`)
//! or of `P.userfield.list`: [`UserField::list`] reads either, [`crate::Client::user_fields`]
//! calls the method and reads its answer.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::error::Error;
use crate::method::Method;
use crate::Extra;

/// True for a key named as custom fields are: `UF_...`, or `uf` and a capital or `_`
/// (`ufCrm5_1690000000`, the camelCase names of `crm.item.*`).
pub fn is_custom_field(key: &str) -> bool {
    key.starts_with("UF_")
        || key
            .strip_prefix("uf")
            .and_then(|rest| rest.chars().next())
            .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
}

/// A record with custom fields, kept in its `extra` map.
pub trait CustomFields {
    /// The map the custom fields are kept in.
    fn extra(&self) -> &Extra;

    /// The map the custom fields are kept in, to change.
    fn extra_mut(&mut self) -> &mut Extra;

    /// The value of the custom field `name` as `T`: `Ok(None)` when the record has no value
    /// for it (the key is absent or `null`), an error when the value is not a `T`. Lenient
    /// types read what portals send: [`crate::value::Int`] takes `5` and `"5"`,
    /// [`crate::value::Bool`] takes `Y`/`N`, a multiple field is a `Vec`.
    fn uf<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, serde_json::Error> {
        match self.extra().get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => T::deserialize(value).map(Some),
        }
    }

    /// The raw value of the custom field `name`, if the record has one.
    fn uf_value(&self, name: &str) -> Option<&Value> {
        self.extra().get(name).filter(|v| !v.is_null())
    }

    /// Sets the custom field `name` to `value` (a multiple field takes a list). Fails only when
    /// `value` does not serialize to JSON.
    fn set_uf<T: Serialize>(
        &mut self,
        name: &str,
        value: T,
    ) -> Result<&mut Self, serde_json::Error> {
        let value = serde_json::to_value(value)?;
        self.extra_mut().insert(name.to_owned(), value);
        Ok(self)
    }

    /// The record with the custom field `name` set to `value`, for building requests.
    fn with_uf<T: Serialize>(mut self, name: &str, value: T) -> Result<Self, serde_json::Error>
    where
        Self: Sized,
    {
        self.set_uf(name, value)?;
        Ok(self)
    }

    /// Removes the custom field `name` from the record, returning its value.
    fn remove_uf(&mut self, name: &str) -> Option<Value> {
        self.extra_mut().remove(name)
    }

    /// Every custom field the record holds (keys named as custom fields are), in its order.
    fn custom_fields(&self) -> Vec<(&str, &Value)> {
        self.extra()
            .iter()
            .filter(|(k, _)| is_custom_field(k))
            .map(|(k, v)| (k.as_str(), v))
            .collect()
    }
}

impl CustomFields for Extra {
    fn extra(&self) -> &Extra {
        self
    }

    fn extra_mut(&mut self) -> &mut Extra {
        self
    }
}

/// A custom field as the portal describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserField {
    /// Its name on records, e.g. `UF_CRM_DELIVERY_DATE`.
    pub name: String,
    /// Its user type: `string`, `double`, `date`, `enumeration`, `crm_status`, ...
    pub type_id: String,
    /// Whether it holds a list of values.
    pub multiple: bool,
    /// Whether it must be filled.
    pub mandatory: bool,
    /// Its label (the list column's, else the form's), where the portal gives one.
    pub label: Option<String>,
}

impl UserField {
    /// The custom fields in the answer of `P.fields` (`{name: {type, isRequired, isMultiple,
    /// isDynamic, listLabel, ...}}`, also inside one wrapping key such as `{"fields": {...}}`):
    /// the entries marked `isDynamic`, or named as custom fields are; or in the answer of
    /// `P.userfield.list` (records with `FIELD_NAME`, `USER_TYPE_ID`, `MULTIPLE`, `MANDATORY`
    /// and the labels).
    pub fn list(answer: &Value) -> Vec<UserField> {
        match answer {
            Value::Array(records) => records.iter().filter_map(UserField::from_record).collect(),
            Value::Object(map) => {
                let descriptions = map.values().all(|v| v.get("type").is_some());
                match map.values().next() {
                    Some(inner) if map.len() == 1 && !descriptions => UserField::list(inner),
                    _ => map
                        .iter()
                        .filter(|(name, d)| {
                            flag(d.get("isDynamic")).unwrap_or_else(|| is_custom_field(name))
                        })
                        .map(|(name, d)| UserField::from_description(name, d))
                        .collect(),
                }
            }
            _ => Vec::new(),
        }
    }

    fn from_description(name: &str, d: &Value) -> UserField {
        UserField {
            name: name.to_owned(),
            type_id: text(d.get("type")).unwrap_or_default(),
            multiple: flag(d.get("isMultiple")).unwrap_or(false),
            mandatory: flag(d.get("isRequired")).unwrap_or(false),
            label: ["listLabel", "formLabel", "filterLabel"]
                .iter()
                .find_map(|k| text(d.get(*k))),
        }
    }

    fn from_record(r: &Value) -> Option<UserField> {
        Some(UserField {
            name: text(r.get("FIELD_NAME"))?,
            type_id: text(r.get("USER_TYPE_ID")).unwrap_or_default(),
            multiple: flag(r.get("MULTIPLE")).unwrap_or(false),
            mandatory: flag(r.get("MANDATORY")).unwrap_or(false),
            label: [
                "LIST_COLUMN_LABEL",
                "EDIT_FORM_LABEL",
                "LIST_FILTER_LABEL",
                "LABEL",
            ]
            .iter()
            .find_map(|k| text(r.get(*k))),
        })
    }
}

/// A text, or a label per language (`{"en": "Weight", "de": "Gewicht"}`, English first).
fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Object(m) => text(m.get("en")).or_else(|| m.values().find_map(|v| text(Some(v)))),
        _ => None,
    }
}

/// `true`/`false`, `Y`/`N`, `1`/`0`.
fn flag(value: Option<&Value>) -> Option<bool> {
    match value? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.as_str() {
            "Y" | "y" | "1" | "true" => Some(true),
            "N" | "n" | "0" | "false" | "" => Some(false),
            _ => None,
        },
        Value::Number(n) => n.as_i64().map(|n| n != 0),
        _ => None,
    }
}

impl crate::Client {
    /// The custom fields the portal has, from a call of `P.fields` or `P.userfield.list`
    /// (for example `crm::deal::fields::Request::new()`); see [`UserField::list`].
    pub async fn user_fields<M: Method>(
        &self,
        request: &M,
    ) -> Result<Vec<UserField>, Error<M::Error>> {
        let answer = self.call(&AsJson(request)).await?;
        Ok(UserField::list(&answer))
    }
}

/// A call of `M` whose `result` is read as JSON: the same name, version, access, parameters
/// and errors. (Generated responses are read, not written: there is no typed answer to turn
/// back into JSON.)
struct AsJson<'a, M>(&'a M);

impl<M: Serialize> Serialize for AsJson<'_, M> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<M: Method> Method for AsJson<'_, M> {
    const NAME: &'static str = M::NAME;
    const VERSION: crate::ApiVersion = M::VERSION;
    const ACCESS: crate::Access = M::ACCESS;
    type Response = Value;
    type Error = M::Error;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn custom_fields_are_read_typed_and_written_by_name() {
        let mut record = Extra::new();
        record.insert("UF_CRM_WEIGHT".into(), json!("12"));
        record.insert("UF_CRM_EMPTY".into(), Value::Null);
        record.insert("TITLE".into(), json!("not custom"));
        assert_eq!(
            record
                .uf::<crate::value::Int>("UF_CRM_WEIGHT")
                .unwrap()
                .map(|n| n.get()),
            Some(12)
        );
        assert!(
            record.uf::<Vec<String>>("UF_CRM_WEIGHT").is_err(),
            "not a list"
        );
        assert_eq!(record.uf::<String>("UF_CRM_EMPTY").unwrap(), None);
        assert_eq!(record.uf::<String>("UF_CRM_ABSENT").unwrap(), None);
        record.set_uf("ufCrm5_17", [1, 2]).unwrap();
        let names: Vec<&str> = record.custom_fields().iter().map(|(k, _)| *k).collect();
        assert_eq!(names, ["UF_CRM_WEIGHT", "UF_CRM_EMPTY", "ufCrm5_17"]);
        assert_eq!(record.remove_uf("ufCrm5_17"), Some(json!([1, 2])));
    }

    #[test]
    fn user_fields_are_listed_from_fields_and_userfield_list_answers() {
        let fields = json!({
            "TITLE": {"type": "string", "isRequired": false, "isMultiple": false, "isDynamic": false, "title": "Name"},
            "UF_CRM_WEIGHT": {"type": "double", "isRequired": true, "isMultiple": false, "isDynamic": true,
                "title": "UF_CRM_WEIGHT", "listLabel": "Weight"}
        });
        let expected = vec![UserField {
            name: "UF_CRM_WEIGHT".into(),
            type_id: "double".into(),
            multiple: false,
            mandatory: true,
            label: Some("Weight".into()),
        }];
        assert_eq!(UserField::list(&fields), expected);
        assert_eq!(UserField::list(&json!({ "fields": fields })), expected);
        let records = json!([{"ID": "3", "FIELD_NAME": "UF_CRM_WEIGHT", "USER_TYPE_ID": "double",
            "MULTIPLE": "N", "MANDATORY": "Y", "LIST_COLUMN_LABEL": {"de": "Gewicht", "en": "Weight"}}]);
        assert_eq!(UserField::list(&records), expected);
    }
}
