//! Checking a request against the documented parameters: required ones present, values of the
//! documented type. Lenient where PHP is (numeric strings are integers, `Y`/`N` are booleans).
//! What fails is a [`Failure`], answered in the method's documented words by the caller.

use std::collections::BTreeMap;

use b24_codegen::model::{ApiVersion, Field, Method, NamedType, Required, Scalar, Type, TypeKey};
use serde_json::{Map, Value};

use crate::errors::Failure;
use crate::params::is_blank;

/// How deep nested objects are checked (the docs' types can refer to each other).
const MAX_DEPTH: usize = 8;

/// Checks `params` against `method`'s parameters.
pub(crate) fn validate(
    method: &Method,
    params: &Map<String, Value>,
    types: &BTreeMap<TypeKey, NamedType>,
) -> Result<(), Failure> {
    let checker = Checker {
        types,
        nested_required: method.version == ApiVersion::V3,
    };
    checker.fields(&method.params, params, "", true, 0)
}

struct Checker<'a> {
    types: &'a BTreeMap<TypeKey, NamedType>,
    /// REST 3.0 validates whole request objects; classic methods check their top-level
    /// arguments (nested field tables are often shared between add and update, with add's marks).
    nested_required: bool,
}

impl Checker<'_> {
    fn fields(
        &self,
        fields: &[Field],
        values: &Map<String, Value>,
        path: &str,
        check_required: bool,
        depth: usize,
    ) -> Result<(), Failure> {
        for field in fields {
            let name = if path.is_empty() {
                field.api_name.clone()
            } else {
                format!("{path}.{}", field.api_name)
            };
            // Classic methods read their arguments case-insensitively (`id` or `ID`); the
            // type is checked where the name matches exactly.
            let value = values.get(&field.api_name);
            let present_otherwise = value.is_none()
                && values
                    .iter()
                    .any(|(k, v)| k.eq_ignore_ascii_case(&field.api_name) && !is_blank(Some(v)));
            if is_blank(value) && !present_otherwise {
                if check_required && field.required == Required::Yes {
                    return Err(Failure::Missing(name));
                }
                continue;
            }
            if let Some(value) = value {
                self.value(&field.ty, value, &name, depth)?;
            }
        }
        Ok(())
    }

    fn value(&self, ty: &Type, value: &Value, name: &str, depth: usize) -> Result<(), Failure> {
        if depth > MAX_DEPTH || matches!(value, Value::Null) && !matches!(ty, Type::Scalar { .. }) {
            return Ok(());
        }
        if self.fits(ty, value, name, depth)? {
            Ok(())
        } else {
            Err(Failure::Invalid(name.to_owned()))
        }
    }

    /// Whether `value` fits `ty`; nested objects report their own, more precise, errors.
    fn fits(&self, ty: &Type, value: &Value, name: &str, depth: usize) -> Result<bool, Failure> {
        Ok(match ty {
            Type::Scalar { scalar } => fits_scalar(*scalar, value),
            Type::Array { item } => match value {
                Value::Array(items) => {
                    for v in items {
                        self.value(item, v, name, depth + 1)?;
                    }
                    true
                }
                // A PHP array with non-sequential keys arrives as an object.
                Value::Object(map) => {
                    for v in map.values() {
                        self.value(item, v, name, depth + 1)?;
                    }
                    true
                }
                _ => false,
            },
            Type::Union { variants } => {
                let mut any = false;
                for variant in variants {
                    if self.fits(variant, value, name, depth).unwrap_or(false) {
                        any = true;
                        break;
                    }
                }
                any || variants.is_empty()
            }
            Type::Nullable { inner } => value.is_null() || self.fits(inner, value, name, depth)?,
            Type::Object { fields } => match value {
                Value::Object(map) => {
                    self.fields(fields, map, name, self.nested_required, depth + 1)?;
                    true
                }
                Value::Array(items) => items.is_empty(),
                _ => false,
            },
            Type::Map { value: inner } => match value {
                Value::Object(map) => {
                    for v in map.values() {
                        self.value(inner, v, name, depth + 1)?;
                    }
                    true
                }
                Value::Array(items) => {
                    for v in items {
                        self.value(inner, v, name, depth + 1)?;
                    }
                    true
                }
                _ => false,
            },
            Type::Ref { key } => match (value, self.types.get(key)) {
                // A shared structure serves several methods; only its types are checked.
                (Value::Object(map), Some(named)) => {
                    self.fields(&named.fields, map, name, false, depth + 1)?;
                    true
                }
                (Value::Object(_), None) => true,
                (Value::Array(items), _) => items.is_empty(),
                _ => false,
            },
            Type::Untyped { .. } => true,
        })
    }
}

/// Whether an argument fits a documented scalar: integers, numbers and flags by the rules of
/// [`b24_form::scalar`] (the runtime's and the generator's too). A string also takes a number
/// or a boolean, which PHP turns into a string where a method reads one.
fn fits_scalar(scalar: Scalar, value: &Value) -> bool {
    use b24_form::scalar;
    match scalar {
        Scalar::Integer | Scalar::Timestamp => scalar::is_integer(value),
        Scalar::Double => scalar::is_number(value),
        Scalar::Boolean | Scalar::YesNo => scalar::is_flag(value),
        Scalar::String | Scalar::Date | Scalar::DateTime => {
            matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_))
        }
        Scalar::File | Scalar::Any => true,
    }
}
