//! Type notations (`string`, `integer[]`, `string|null`, `crm_contact[]`, ...) and types read
//! from JSON examples: what a value of a type may look like, and how to widen a type so that it
//! accepts what an example shows.

use serde_json::Value;

use crate::limits::Level;
use crate::model::{is_portal_key, Field, Required, Scalar, Type};
use crate::names::{self, Scope};

/// One word of a type notation, with the link it was written in (if any).
#[derive(Clone, Debug, PartialEq)]
pub struct Atom {
    /// The type name as written, e.g. `crm_contact[]`.
    pub name: String,
    /// The link destination around it, e.g. `../data-types.md#time`.
    pub link: Option<String>,
}

/// Splits the type words of a cell into atoms: `string|null` → `string`, `null`; `a \| b` → `a`,
/// `b`; words joined by `or` or `,` too.
pub fn split_atoms(words: &[Atom]) -> Vec<Atom> {
    let mut out = Vec::new();
    for w in words {
        for part in w.name.split(['|', ',']) {
            let part = part.trim().trim_matches('`').trim();
            let part = part.strip_prefix("or ").unwrap_or(part).trim();
            if !part.is_empty() {
                out.push(Atom {
                    name: part.to_owned(),
                    link: w.link.clone(),
                });
            }
        }
    }
    out
}

/// What a type word names.
#[derive(Clone, Debug, PartialEq)]
pub enum Word {
    /// A scalar of the dictionary.
    Scalar(Scalar),
    /// `object`: a structure described elsewhere (or not at all).
    Object,
    /// `array` with no item type.
    Array,
    /// `null` / `undefined`.
    Null,
    /// Anything else: a reference type name (`crm_status`, `catalog_product.id`, `Bot`).
    Name(String),
}

/// Reads a base type word (without `[]`): the docs' dictionary of basic types.
pub fn word(name: &str) -> Word {
    let lower = name.trim().to_ascii_lowercase();
    match lower.as_str() {
        "integer" | "int" | "long" | "bigint" => Word::Scalar(Scalar::Integer),
        "double" | "float" | "number" | "numeric" | "decimal" => Word::Scalar(Scalar::Double),
        // `enum`: "one value from a fixed set"; the sets in the docs are codes.
        "string" | "text" | "str" | "varchar" | "html" | "url" | "email" | "base64" | "enum"
        | "enumeration" => Word::Scalar(Scalar::String),
        "boolean" | "bool" => Word::Scalar(Scalar::Boolean),
        "char" | "y/n" => Word::Scalar(Scalar::YesNo),
        "date" => Word::Scalar(Scalar::Date),
        "datetime" | "date-time" | "iso 8601" => Word::Scalar(Scalar::DateTime),
        "timestamp" => Word::Scalar(Scalar::Timestamp),
        "file" => Word::Scalar(Scalar::File),
        "any" | "mixed" => Word::Scalar(Scalar::Any),
        "object" | "struct" | "map" => Word::Object,
        "array" | "list" => Word::Array,
        "null" | "undefined" => Word::Null,
        _ => Word::Name(name.trim().to_owned()),
    }
}

/// `T[]` → (`T`, 1); `array<T>` → (`T`, 1); `T[][]` → (`T`, 2).
pub fn strip_array(name: &str) -> (&str, usize) {
    let mut name = name.trim();
    let mut dims = 0;
    loop {
        if let Some(inner) = name.strip_suffix("[]") {
            name = inner.trim();
            dims += 1;
        } else if let Some(inner) = name
            .strip_prefix("array<")
            .or_else(|| name.strip_prefix("Array<"))
            .and_then(|s| s.strip_suffix('>'))
        {
            name = inner.trim();
            dims += 1;
        } else {
            return (name, dims);
        }
    }
}

/// Wraps `ty` in `dims` arrays.
pub fn arrays(mut ty: Type, dims: usize) -> Type {
    for _ in 0..dims {
        ty = Type::array(ty);
    }
    ty
}

/// Combines alternatives: one → itself, several → a union (flattened, duplicates removed),
/// with `nullable` → `Nullable`.
pub fn union_of(variants: Vec<Type>, nullable: bool) -> Type {
    let mut flat: Vec<Type> = Vec::new();
    for v in variants {
        match v {
            Type::Union { variants } => {
                for inner in variants {
                    if !flat.contains(&inner) {
                        flat.push(inner);
                    }
                }
            }
            other => {
                if !flat.contains(&other) {
                    flat.push(other);
                }
            }
        }
    }
    let ty = match flat.len() {
        0 => Type::scalar(Scalar::Any),
        1 => flat.pop().unwrap_or_else(|| Type::scalar(Scalar::Any)),
        _ => Type::Union { variants: flat },
    };
    if nullable {
        nullable_of(ty)
    } else {
        ty
    }
}

/// `T | null`, without doubling.
pub fn nullable_of(ty: Type) -> Type {
    match ty {
        Type::Nullable { .. } | Type::Untyped { .. } => ty,
        Type::Scalar {
            scalar: Scalar::Any,
        } => ty,
        other => Type::Nullable {
            inner: Box::new(other),
        },
    }
}

/// The type a JSON example value shows. Objects whose keys are not names (numbers, operators)
/// are maps. Arrays and objects count as levels of nesting ([`Level`]): past the load's bound
/// the value is untyped (an example is input and may nest as deep as its parser allows).
pub fn infer(value: &Value) -> Type {
    let _level = match value {
        Value::Array(_) | Value::Object(_) => match Level::enter() {
            Ok(level) => Some(level),
            Err(max) => return Type::untyped(format!("example nested deeper than {max} levels")),
        },
        _ => None,
    };
    match value {
        Value::Null => Type::scalar(Scalar::Any),
        Value::Bool(_) => Type::scalar(Scalar::Boolean),
        Value::Number(n) => {
            if n.is_f64() {
                Type::scalar(Scalar::Double)
            } else {
                Type::scalar(Scalar::Integer)
            }
        }
        Value::String(_) => Type::scalar(Scalar::String),
        Value::Array(items) => Type::array(infer_items(items)),
        Value::Object(map) => {
            if map.is_empty() {
                return Type::Map {
                    value: Box::new(Type::scalar(Scalar::Any)),
                };
            }
            if !map.keys().all(|k| is_name_key(k)) || is_language_map(map) {
                let values: Vec<&Value> = map.values().collect();
                return Type::Map {
                    value: Box::new(infer_all(&values)),
                };
            }
            let mut scope = Scope::with_reserved(&["extra"]);
            let fields = map
                .iter()
                .filter(|(k, _)| !is_portal_key(k))
                .map(|(k, v)| inferred_field(k, v, &mut scope))
                .collect();
            Type::Object { fields }
        }
    }
}

/// Gives every field without a source (one read from an example) the source `at`, nested
/// fields included.
pub fn fill_sources(fields: &mut [Field], at: &crate::model::Source) {
    for f in fields {
        if f.source.file.is_empty() {
            f.source = at.clone();
        }
        fill_sources_in(&mut f.ty, at);
    }
}

/// [`fill_sources`] for the fields inside a type.
pub fn fill_sources_in(ty: &mut Type, at: &crate::model::Source) {
    match ty {
        Type::Object { fields } => fill_sources(fields, at),
        Type::Array { item } => fill_sources_in(item, at),
        Type::Nullable { inner } => fill_sources_in(inner, at),
        Type::Map { value } => fill_sources_in(value, at),
        Type::Union { variants } => variants.iter_mut().for_each(|v| fill_sources_in(v, at)),
        Type::Scalar { .. } | Type::Ref { .. } | Type::Untyped { .. } => {}
    }
}

/// A field read from an example: no description, never required; [`fill_sources`] places it.
pub fn inferred_field(key: &str, value: &Value, scope: &mut Scope) -> Field {
    Field {
        api_name: key.to_owned(),
        rust_name: scope.claim(names::snake(key)),
        doc_type: String::new(),
        ty: infer(value),
        required: Required::No,
        description: String::new(),
        source: crate::model::Source::new("", 0),
        deprecated: None,
    }
}

fn infer_items(items: &[Value]) -> Type {
    let refs: Vec<&Value> = items.iter().collect();
    if refs.is_empty() {
        return Type::scalar(Scalar::Any);
    }
    infer_all(&refs)
}

/// One type accepting every value in `values`.
fn infer_all(values: &[&Value]) -> Type {
    let mut ty: Option<Type> = None;
    let mut nullable = false;
    for v in values {
        if v.is_null() {
            nullable = true;
            continue;
        }
        ty = Some(match ty {
            None => infer(v),
            Some(t) => widen(t, v).0,
        });
    }
    let ty = ty.unwrap_or_else(|| Type::scalar(Scalar::Any));
    if nullable {
        nullable_of(ty)
    } else {
        ty
    }
}

/// True when an example's key `key` is a field the structure does not have yet: not one of
/// `fields`, not a key of a pattern row (`UF_CRM_...`), not one portal's own field.
pub fn is_new_field(fields: &[Field], key: &str) -> bool {
    !fields.iter().any(|f| f.api_name == key)
        && !fields
            .iter()
            .any(|f| f.pattern().is_some_and(|p| p.matches(key)))
        && !is_portal_key(key)
}

/// The docs' language identifiers (the `lang-ids` table of the CRM data types).
const LANGUAGES: &[&str] = &[
    "ar", "br", "de", "en", "es", "fr", "hi", "id", "in", "it", "ja", "kz", "la", "ms", "pl", "ru",
    "sc", "tc", "th", "tr", "ua", "vn",
];

/// An object keyed by language identifiers (`{"de": "...", "en": "..."}`): a map of
/// per-language values, not a structure.
fn is_language_map(map: &serde_json::Map<String, Value>) -> bool {
    map.len() >= 2 && map.keys().all(|k| LANGUAGES.contains(&k.as_str()))
}

/// True for keys that look like field names rather than data (ids, operators, placeholders).
pub fn is_name_key(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_')
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '.')
}

/// Whether the runtime type for `ty` accepts `value` (shallow for references, which the caller
/// resolves through `lookup`).
pub fn accepts(ty: &Type, value: &Value, lookup: &dyn Fn(&str) -> Option<Vec<Field>>) -> bool {
    match (ty, value) {
        (Type::Untyped { .. }, _) => true,
        (Type::Nullable { .. }, Value::Null) => true,
        (Type::Nullable { inner }, v) => accepts(inner, v, lookup),
        (_, Value::Null) => true,
        (Type::Scalar { scalar }, v) => scalar_accepts(*scalar, v),
        (Type::Array { item }, Value::Array(items)) => {
            items.iter().all(|v| accepts(item, v, lookup))
        }
        (Type::Array { .. }, _) => false,
        (Type::Union { variants }, v) => variants.iter().any(|t| accepts(t, v, lookup)),
        (Type::Object { fields }, Value::Object(map)) => fields_accept(fields, map, lookup),
        (Type::Object { .. } | Type::Map { .. } | Type::Ref { .. }, Value::Array(a))
            if a.is_empty() =>
        {
            true
        }
        (Type::Object { .. }, _) => false,
        (Type::Map { value: vt }, Value::Object(map)) => {
            map.values().all(|v| accepts(vt, v, lookup))
        }
        (Type::Map { .. }, _) => false,
        (Type::Ref { key }, Value::Object(map)) => match lookup(&key.0) {
            Some(fields) => fields_accept(&fields, map, lookup),
            None => true,
        },
        (Type::Ref { .. }, _) => false,
    }
}

fn fields_accept(
    fields: &[Field],
    map: &serde_json::Map<String, Value>,
    lookup: &dyn Fn(&str) -> Option<Vec<Field>>,
) -> bool {
    fields.iter().all(|f| match map.get(&f.api_name) {
        Some(v) => accepts(&f.ty, v, lookup),
        None => true,
    })
}

/// Whether a scalar of the runtime accepts a JSON value: integers, numbers and flags by the
/// rules of [`b24_form::scalar`] (the ones the runtime's `Int`, `Double` and `Bool` decode by),
/// strings, dates and times only as JSON strings.
pub fn scalar_accepts(scalar: Scalar, value: &Value) -> bool {
    use b24_form::scalar;
    match scalar {
        Scalar::Any | Scalar::File => true,
        Scalar::Integer | Scalar::Timestamp => scalar::is_integer(value),
        Scalar::Double => scalar::is_number(value),
        Scalar::Boolean | Scalar::YesNo => scalar::is_flag(value),
        Scalar::String | Scalar::Date | Scalar::DateTime => value.is_string(),
    }
}

/// Widens `ty` so that it accepts `value`. Returns the new type and whether the value
/// contradicted the old one (a scalar of another kind, an object for a scalar, ...).
/// Objects gain the example's extra fields (never a contradiction).
pub fn widen(ty: Type, value: &Value) -> (Type, bool) {
    match (ty, value) {
        (ty @ Type::Untyped { .. }, _) => (ty, false),
        (ty, Value::Null) => (nullable_of(ty), false),
        (Type::Nullable { inner }, v) => {
            let (inner, bad) = widen(*inner, v);
            (nullable_of(inner), bad)
        }
        (Type::Scalar { scalar }, v) if scalar_accepts(scalar, v) => (Type::scalar(scalar), false),
        (
            Type::Scalar {
                scalar: Scalar::Integer,
            },
            Value::Number(_),
        ) => {
            // A fractional number where an integer is documented.
            (Type::scalar(Scalar::Double), true)
        }
        (Type::Array { item }, Value::Array(items)) => {
            let mut item = *item;
            let mut bad = false;
            for v in items {
                let (t, b) = widen(item, v);
                item = t;
                bad |= b;
            }
            (Type::array(item), bad)
        }
        (Type::Object { fields }, Value::Object(map)) => {
            let (fields, bad) = widen_fields(fields, map);
            (Type::Object { fields }, bad)
        }
        (ty @ (Type::Object { .. } | Type::Map { .. } | Type::Ref { .. }), Value::Array(a))
            if a.is_empty() =>
        {
            (ty, false)
        }
        (Type::Map { value: vt }, Value::Object(map)) => {
            let mut vt = *vt;
            let mut bad = false;
            for v in map.values() {
                let (t, b) = widen(vt, v);
                vt = t;
                bad |= b;
            }
            (
                Type::Map {
                    value: Box::new(vt),
                },
                bad,
            )
        }
        (ty @ Type::Ref { .. }, Value::Object(_)) => (ty, false),
        (Type::Union { mut variants }, v) => {
            if let Some(i) = variants.iter().position(|t| shape_matches(t, v)) {
                let (t, bad) = widen(variants.remove(i), v);
                variants.insert(i, t);
                return (union_of(variants, false), bad);
            }
            variants.push(infer(v));
            (union_of(variants, false), true)
        }
        (ty, v) => (union_of(vec![ty, infer(v)], false), true),
    }
}

/// True when `value` has the JSON shape of `ty` (array for arrays, object for objects, ...).
fn shape_matches(ty: &Type, value: &Value) -> bool {
    match ty {
        Type::Scalar { scalar } => scalar_accepts(*scalar, value),
        Type::Array { .. } => value.is_array(),
        Type::Object { .. } | Type::Map { .. } | Type::Ref { .. } => value.is_object(),
        Type::Nullable { inner } => value.is_null() || shape_matches(inner, value),
        Type::Union { variants } => variants.iter().any(|t| shape_matches(t, value)),
        Type::Untyped { .. } => true,
    }
}

fn widen_fields(
    mut fields: Vec<Field>,
    map: &serde_json::Map<String, Value>,
) -> (Vec<Field>, bool) {
    let mut bad = false;
    for f in &mut fields {
        if let Some(v) = map.get(&f.api_name) {
            let ty = std::mem::replace(&mut f.ty, Type::untyped(""));
            let (t, b) = widen(ty, v);
            f.ty = t;
            bad |= b;
        }
    }
    let mut scope = Scope::with_reserved(&["extra"]);
    for f in &fields {
        scope.claim(f.rust_name.clone());
    }
    for (k, v) in map {
        if is_new_field(&fields, k) {
            fields.push(inferred_field(k, v, &mut scope));
        }
    }
    (fields, bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn no_refs(_: &str) -> Option<Vec<Field>> {
        None
    }

    #[test]
    fn notation_words() {
        assert_eq!(word("integer"), Word::Scalar(Scalar::Integer));
        assert_eq!(word("char"), Word::Scalar(Scalar::YesNo));
        assert_eq!(word("boolean"), Word::Scalar(Scalar::Boolean));
        assert_eq!(word("text"), Word::Scalar(Scalar::String));
        assert_eq!(word("crm_status"), Word::Name("crm_status".into()));
        assert_eq!(strip_array("crm_contact[]"), ("crm_contact", 1));
        assert_eq!(strip_array("array<object>"), ("object", 1));
        let atoms = split_atoms(&[Atom {
            name: "string|null".into(),
            link: None,
        }]);
        assert_eq!(
            atoms.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
            vec!["string", "null"]
        );
    }

    #[test]
    fn lenient_scalars_accept_what_the_runtime_accepts() {
        assert!(scalar_accepts(Scalar::Integer, &json!("5")));
        assert!(scalar_accepts(Scalar::Integer, &json!(5)));
        assert!(!scalar_accepts(Scalar::Integer, &json!("abc")));
        assert!(!scalar_accepts(Scalar::Integer, &json!({})));
        assert!(scalar_accepts(Scalar::Boolean, &json!("Y")));
        assert!(scalar_accepts(Scalar::Boolean, &json!(1)));
        assert!(!scalar_accepts(Scalar::Boolean, &json!("maybe")));
        assert!(!scalar_accepts(Scalar::String, &json!(5)));
        assert!(scalar_accepts(Scalar::Integer, &json!("")));
        assert!(scalar_accepts(Scalar::Timestamp, &json!("+5")));
        assert!(!scalar_accepts(Scalar::Integer, &json!(5.0)));
        assert!(scalar_accepts(Scalar::Double, &json!(5.0)));
        assert!(!scalar_accepts(Scalar::Double, &json!("NaN")));
    }

    #[test]
    fn widening_keeps_documented_types_and_flags_contradictions() {
        let (t, bad) = widen(Type::scalar(Scalar::Integer), &json!("7"));
        assert_eq!(t, Type::scalar(Scalar::Integer));
        assert!(!bad);
        let (t, bad) = widen(Type::scalar(Scalar::Integer), &json!("abc"));
        assert!(bad);
        assert!(accepts(&t, &json!("abc"), &no_refs));
        assert!(accepts(&t, &json!(3), &no_refs));
        let (t, bad) = widen(Type::scalar(Scalar::String), &json!(null));
        assert!(!bad);
        assert!(matches!(t, Type::Nullable { .. }));
        let (t, bad) = widen(
            Type::Object { fields: vec![] },
            &json!({"a": 1, "b": [true]}),
        );
        assert!(!bad);
        let Type::Object { fields } = t else {
            panic!("object expected")
        };
        assert_eq!(fields.len(), 2);
        assert_eq!(fields[1].ty, Type::array(Type::scalar(Scalar::Boolean)));
    }

    #[test]
    fn inference_reads_maps_and_mixed_arrays() {
        assert!(matches!(
            infer(&json!({"1": {"a": 1}, "2": {"a": 2}})),
            Type::Map { .. }
        ));
        let t = infer(&json!([1, "x"]));
        assert!(accepts(&t, &json!([1, "x"]), &no_refs));
        assert!(accepts(&infer(&json!([])), &json!([]), &no_refs));
    }
}
