//! The wire form of `boolean` flags. The docs' dictionary says a `boolean` "most often takes
//! `Y` or `N`, in some methods `0`/`1` or `true`/`false`": which one a field uses is shown by
//! the page's examples. A `boolean` field whose name the page's examples (requests or
//! responses) give as `"Y"`/`"N"`, and never as JSON `true`/`false`, is a Y/N flag; a field of
//! a shared structure is one when some page that uses the structure shows it so and none shows
//! it as a JSON boolean.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

use crate::model::{Example, Field, Method, NamedType, Scalar, Type, TypeKey};

/// Names of the keys the examples give as `"Y"`/`"N"`, and in any other form (booleans,
/// `"true"`, another letter).
#[derive(Default)]
struct Forms<'a> {
    yes_no: HashSet<&'a str>,
    other: HashSet<&'a str>,
}

impl<'a> Forms<'a> {
    fn of(examples: &'a [Example]) -> Self {
        let mut forms = Forms::default();
        for ex in examples {
            if let Some(v) = &ex.json {
                forms.read(v, 0);
            }
        }
        forms
    }

    fn read(&mut self, value: &'a Value, depth: usize) {
        if depth > 32 {
            return;
        }
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    match v {
                        Value::String(s) if s == "Y" || s == "N" => {
                            self.yes_no.insert(k);
                        }
                        // Any other form (`true`, `"true"`, `"E"`): not a Y/N flag.
                        Value::Bool(_) | Value::String(_) => {
                            self.other.insert(k);
                        }
                        _ => self.read(v, depth + 1),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| self.read(v, depth + 1)),
            _ => {}
        }
    }
}

/// What the pages say of the flags of shared structures: per structure and field, whether
/// some page shows it as `"Y"`/`"N"` and whether some page shows it as JSON `true`/`false`.
#[derive(Default)]
pub struct SharedForms {
    seen: HashMap<(TypeKey, String), (bool, bool)>,
}

/// Retypes the `boolean` fields of `method` that its page's examples show as `"Y"`/`"N"`
/// (and never as JSON booleans), and records what the examples show of the flags of the
/// shared structures the method uses, for [`apply_shared`].
pub fn apply(method: &mut Method, types: &BTreeMap<TypeKey, NamedType>, shared: &mut SharedForms) {
    let forms = Forms::of(&method.examples);
    let mut keys = Vec::new();
    retype_fields(&mut method.params, &forms, &mut keys);
    retype(&mut method.result, &forms, &mut keys, 0);
    // The shared structures reached, through each other too.
    let mut k = 0;
    while k < keys.len() {
        if let Some(named) = types.get(&keys[k]) {
            for f in &named.fields {
                refs_in(&f.ty, &mut keys, 0);
            }
        }
        k += 1;
    }
    for key in keys {
        let Some(named) = types.get(&key) else {
            continue;
        };
        for f in &named.fields {
            if !is_boolean(&f.ty) {
                continue;
            }
            let (yes_no, json) = (
                forms.yes_no.contains(f.api_name.as_str()),
                forms.other.contains(f.api_name.as_str()),
            );
            if yes_no || json {
                let seen = shared
                    .seen
                    .entry((key.clone(), f.api_name.clone()))
                    .or_default();
                seen.0 |= yes_no;
                seen.1 |= json;
            }
        }
    }
}

/// Retypes the flags of shared structures that some page shows as `"Y"`/`"N"` and none as
/// JSON booleans. Run once, after every method: the outcome does not depend on page order.
pub fn apply_shared(types: &mut BTreeMap<TypeKey, NamedType>, shared: SharedForms) {
    for ((key, name), (yes_no, json)) in shared.seen {
        if !yes_no || json {
            continue;
        }
        if let Some(named) = types.get_mut(&key) {
            for f in named.fields.iter_mut().filter(|f| f.api_name == name) {
                if is_boolean(&f.ty) {
                    f.ty = Type::scalar(Scalar::YesNo);
                }
            }
        }
    }
}

/// A `char` field read as a one-character string (its description did not say Y/N).
fn is_char_string(f: &Field) -> bool {
    f.doc_type == "char"
        && matches!(
            f.ty,
            Type::Scalar {
                scalar: Scalar::String
            }
        )
}

fn is_boolean(ty: &Type) -> bool {
    matches!(
        ty,
        Type::Scalar {
            scalar: Scalar::Boolean
        }
    )
}

fn retype_fields(fields: &mut [Field], forms: &Forms, keys: &mut Vec<TypeKey>) {
    for f in fields {
        if (is_boolean(&f.ty) || is_char_string(f))
            && forms.yes_no.contains(f.api_name.as_str())
            && !forms.other.contains(f.api_name.as_str())
        {
            f.ty = Type::scalar(Scalar::YesNo);
        }
        retype(&mut f.ty, forms, keys, 0);
    }
}

fn retype(ty: &mut Type, forms: &Forms, keys: &mut Vec<TypeKey>, depth: usize) {
    if depth > 32 {
        return;
    }
    match ty {
        Type::Object { fields } => retype_fields(fields, forms, keys),
        Type::Array { item } => retype(item, forms, keys, depth + 1),
        Type::Nullable { inner } => retype(inner, forms, keys, depth + 1),
        Type::Map { value } => retype(value, forms, keys, depth + 1),
        Type::Union { variants } => variants
            .iter_mut()
            .for_each(|v| retype(v, forms, keys, depth + 1)),
        Type::Ref { key } => {
            if !keys.contains(key) {
                keys.push(key.clone());
            }
        }
        Type::Scalar { .. } | Type::Untyped { .. } => {}
    }
}

/// The shared structures `ty` refers to (not through other shared structures).
fn refs_in(ty: &Type, keys: &mut Vec<TypeKey>, depth: usize) {
    if depth > 32 {
        return;
    }
    match ty {
        Type::Object { fields } => fields.iter().for_each(|f| refs_in(&f.ty, keys, depth + 1)),
        Type::Array { item } => refs_in(item, keys, depth + 1),
        Type::Nullable { inner } => refs_in(inner, keys, depth + 1),
        Type::Map { value } => refs_in(value, keys, depth + 1),
        Type::Union { variants } => variants.iter().for_each(|v| refs_in(v, keys, depth + 1)),
        Type::Ref { key } => {
            if !keys.contains(key) {
                keys.push(key.clone());
            }
        }
        Type::Scalar { .. } | Type::Untyped { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ExampleKind, Required, Source};
    use serde_json::json;

    fn flag(name: &str) -> Field {
        Field {
            api_name: name.into(),
            rust_name: name.to_lowercase(),
            doc_type: "boolean".into(),
            ty: Type::scalar(Scalar::Boolean),
            required: Required::No,
            description: String::new(),
            source: Source::new("p.md", 1),
            deprecated: None,
        }
    }

    fn method(params: Vec<Field>, result: Type, examples: Vec<Value>) -> Method {
        Method {
            name: "a.b.get".into(),
            version: crate::model::ApiVersion::V2,
            title: String::new(),
            description: String::new(),
            scopes: Vec::new(),
            who_can_call: None,
            deprecated: None,
            access: crate::model::Access::Read,
            params,
            result,
            paging: None,
            errors: Vec::new(),
            examples: examples
                .into_iter()
                .map(|v| Example {
                    kind: ExampleKind::Response,
                    text: String::new(),
                    json: Some(v),
                    repaired: false,
                    source: Source::new("p.md", 9),
                })
                .collect(),
            source: Source::new("p.md", 1),
        }
    }

    fn shared(fields: Vec<Field>) -> NamedType {
        NamedType {
            rust_name: "Shared".into(),
            title: String::new(),
            description: String::new(),
            fields,
            source: Source::new("types.md", 1),
        }
    }

    #[test]
    fn booleans_the_examples_write_as_y_or_n_are_y_n_flags() {
        let params = vec![Field {
            ty: Type::Object {
                fields: vec![flag("isActive"), flag("isShown"), flag("isBoth")],
            },
            ..flag("fields")
        }];
        let result = Type::Object {
            fields: vec![flag("isActive"), flag("other")],
        };
        let mut m = method(
            params,
            result,
            vec![
                json!({"result": {"isActive": "Y", "isBoth": "N"}}),
                json!({"fields": {"isShown": true, "isBoth": false}}),
            ],
        );
        apply(&mut m, &BTreeMap::new(), &mut SharedForms::default());
        let Type::Object { fields } = &m.params[0].ty else {
            panic!("an object")
        };
        let scalars: Vec<&Type> = fields.iter().map(|f| &f.ty).collect();
        assert_eq!(scalars[0], &Type::scalar(Scalar::YesNo), "shown as Y");
        assert_eq!(scalars[1], &Type::scalar(Scalar::Boolean), "shown as true");
        assert_eq!(
            scalars[2],
            &Type::scalar(Scalar::Boolean),
            "shown both ways"
        );
        let Type::Object { fields } = &m.result else {
            panic!("an object")
        };
        assert_eq!(fields[0].ty, Type::scalar(Scalar::YesNo));
        assert_eq!(fields[1].ty, Type::scalar(Scalar::Boolean), "never shown");
    }

    #[test]
    fn shared_flags_follow_every_page_that_uses_them_in_any_order() {
        let key = TypeKey("types.md#shared".into());
        let reference = Type::Ref { key: key.clone() };
        let types = BTreeMap::from([(
            key.clone(),
            shared(vec![flag("isOn"), flag("isOff"), flag("isMixed")]),
        )]);
        let pages = [
            json!({"result": {"isOn": "Y", "isMixed": "N"}}),
            json!({"result": {"isOff": "N", "isMixed": true}}),
        ];
        for order in [[0, 1], [1, 0]] {
            let mut types = types.clone();
            let mut forms = SharedForms::default();
            for i in order {
                let mut m = method(Vec::new(), reference.clone(), vec![pages[i].clone()]);
                apply(&mut m, &types, &mut forms);
            }
            apply_shared(&mut types, forms);
            let fields: Vec<&Type> = types[&key].fields.iter().map(|f| &f.ty).collect();
            assert_eq!(fields[0], &Type::scalar(Scalar::YesNo));
            assert_eq!(fields[1], &Type::scalar(Scalar::YesNo));
            assert_eq!(
                fields[2],
                &Type::scalar(Scalar::Boolean),
                "a page shows `true`"
            );
        }
    }
}
