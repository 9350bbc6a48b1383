//! Recognising entity families in the model: methods `P.add`, `P.get`, `P.list`, `P.update`,
//! `P.delete` sharing a prefix `P` (and an API version) describe one collection of records.
//!
//! Everything is read from the docs: which parameter is the id (the required parameter of
//! `get`/`delete` that `list` does not take), which parameters name the collection (required by
//! `get` and also taken by `list`, e.g. an entity type), which parameter carries the record (the
//! one object parameter of `add`), and how each answer is shaped (from the response examples).
//! `P.fields` belongs to the family too: it lists the documented fields and the user fields
//! registered through the family `P.userfield` (`P.userfield.add`, ...), when there is one.

use std::collections::HashMap;

use b24_codegen::model::{Api, ApiVersion, ExampleKind, Field, Method, Required, Type};
use serde_json::{Map, Value};

/// The operations of a family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Op {
    Add,
    Get,
    List,
    Update,
    Delete,
    /// `P.fields`: the description of every field.
    Fields,
}

impl Op {
    fn from_suffix(suffix: &str) -> Option<Op> {
        match suffix {
            "add" => Some(Op::Add),
            "get" => Some(Op::Get),
            "list" => Some(Op::List),
            "update" => Some(Op::Update),
            "delete" => Some(Op::Delete),
            "fields" => Some(Op::Fields),
            _ => None,
        }
    }
}

/// How an answer of one operation is shaped, learnt from the documented example.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Shape {
    /// `result` is the new record's id: a string when the documented one is.
    Id {
        /// Whether the example writes the id as a string (`"42"`).
        string: bool,
    },
    /// `result` is `true`.
    True,
    /// `result` is the record itself.
    Record,
    /// `result` is an object holding only the id, e.g. `{"id": 5}`.
    IdObject(String),
    /// `result` is `{key: record}`.
    Wrapped(String),
    /// `result` is the documented value, as is.
    Example(Value),
    /// `result` is the array of records, or `{key: [records]}`.
    List(Option<String>),
}

/// One family of methods over one kind of record.
#[derive(Clone, Debug)]
pub(crate) struct Family {
    /// The common prefix, e.g. `crm.item`.
    pub(crate) prefix: String,
    pub(crate) version: ApiVersion,
    /// The parameter that names one record (from get, else delete, else update).
    pub(crate) id_param: String,
    /// The parameter naming one record in each of get/update/delete (pages differ: `id`,
    /// `sprintId`...). An operation without one is not served from the store.
    pub(crate) op_ids: HashMap<Op, String>,
    /// The record's own key for its id (as the documented record spells it).
    pub(crate) id_field: String,
    /// Whether the documented record carries its id as a string (`"ID": "1"`).
    pub(crate) id_is_string: bool,
    /// Whether `add` takes the id from the caller (e.g. a badge `code`) instead of assigning one.
    pub(crate) caller_sets_id: bool,
    /// Parameters that name the collection (e.g. `entityTypeId`).
    pub(crate) partition: Vec<String>,
    /// The parameter of add/update that carries the record, when there is one.
    pub(crate) record_param: Option<String>,
    /// The parameters of add that make up the record when there is no record parameter.
    pub(crate) flat_params: Vec<String>,
    /// A documented record: the spelling of its keys and the form of its values (never the
    /// values of a new record).
    pub(crate) template: Map<String, Value>,
    pub(crate) shapes: HashMap<Op, Shape>,
    /// The fields the server fills in itself (creation and change times, the users behind them).
    pub(crate) stamps: Vec<Stamp>,
    /// What the names of the family's custom fields start with (`UF_CRM_`), from the pattern
    /// row of its documented fields (`UF_CRM_...`).
    pub(crate) custom_prefix: Option<String>,
    /// Whether `select: ["*"]` leaves the custom fields out (the list's `select` documents the
    /// mask `UF_*` for them).
    pub(crate) star_excludes_custom: bool,
    /// The family `P.userfield` that registers this family's custom fields.
    pub(crate) user_fields: Option<usize>,
    /// For a `P.userfield` family: the family `P` whose custom fields it registers.
    pub(crate) user_fields_of: Option<usize>,
}

/// A field the server fills in itself.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Stamp {
    /// The record's key, e.g. `DATE_CREATE`.
    pub(crate) key: String,
    pub(crate) kind: StampKind,
    /// The documented value, whose form the server's value takes.
    pub(crate) like: Value,
}

/// What the server puts in a [`Stamp`] field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StampKind {
    /// The time the record was created.
    Created,
    /// The time it last changed (set on creation too).
    Modified,
    /// The user who created it.
    Creator,
    /// The user who last changed it.
    Modifier,
}

impl StampKind {
    /// Whether an update sets it again.
    pub(crate) fn on_update(self) -> bool {
        matches!(self, StampKind::Modified | StampKind::Modifier)
    }
}

/// Finds the families of an API. Returns them with a map from method index to (family, op).
pub(crate) fn find_families(api: &Api) -> (Vec<Family>, HashMap<usize, (usize, Op)>) {
    let mut groups: HashMap<(String, ApiVersion), HashMap<Op, usize>> = HashMap::new();
    for (i, method) in api.methods.iter().enumerate() {
        let Some((prefix, suffix)) = method.name.rsplit_once('.') else {
            continue;
        };
        if let Some(op) = Op::from_suffix(suffix) {
            groups
                .entry((prefix.to_string(), method.version))
                .or_default()
                .insert(op, i);
        }
    }
    let mut keys: Vec<_> = groups.keys().cloned().collect();
    keys.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut families = Vec::new();
    let mut by_method = HashMap::new();
    for key in keys {
        let Some(ops) = groups.get(&key) else {
            continue;
        };
        if let Some(family) = build_family(api, &key.0, key.1, ops) {
            let index = families.len();
            for (op, method) in ops {
                if matches!(op, Op::Add | Op::List | Op::Fields) || family.op_ids.contains_key(op) {
                    by_method.insert(*method, (index, *op));
                }
            }
            families.push(family);
        }
    }
    link_user_fields(&mut families);
    (families, by_method)
}

/// Pairs each family `P` with the family `P.userfield` that registers its custom fields.
fn link_user_fields(families: &mut [Family]) {
    let pairs: Vec<(usize, usize)> = families
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            let entity = f.prefix.strip_suffix(".userfield")?;
            let of = families
                .iter()
                .position(|e| e.prefix == entity && e.version == f.version)?;
            Some((of, i))
        })
        .collect();
    for (entity, user_fields) in pairs {
        if let Some(f) = families.get_mut(entity) {
            f.user_fields = Some(user_fields);
        }
        if let Some(f) = families.get_mut(user_fields) {
            f.user_fields_of = Some(entity);
        }
    }
}

fn param_names(method: Option<&Method>) -> Vec<String> {
    method
        .map(|m| m.params.iter().map(|p| p.api_name.clone()).collect())
        .unwrap_or_default()
}

fn required_names(method: Option<&Method>) -> Vec<String> {
    method
        .map(|m| {
            m.params
                .iter()
                .filter(|p| p.required == Required::Yes)
                .map(|p| p.api_name.clone())
                .collect()
        })
        .unwrap_or_default()
}

fn build_family(
    api: &Api,
    prefix: &str,
    version: ApiVersion,
    ops: &HashMap<Op, usize>,
) -> Option<Family> {
    let method = |op: Op| ops.get(&op).and_then(|&i| api.methods.get(i));
    let add = method(Op::Add)?;
    if method(Op::Get).is_none() && method(Op::List).is_none() {
        return None;
    }
    let list_params = param_names(method(Op::List));
    let add_params = param_names(Some(add));
    // The operations that name one record, in order of preference.
    let by_id = [Op::Get, Op::Delete, Op::Update]
        .into_iter()
        .find_map(|op| method(op).filter(|m| m.params.iter().any(|p| p.required == Required::Yes)));
    let (id_param, partition) = match by_id {
        Some(m) => {
            let required = required_names(Some(m));
            let context: &[String] = if list_params.is_empty() && method(Op::List).is_none() {
                &add_params
            } else {
                &list_params
            };
            let partition: Vec<String> = required
                .iter()
                .filter(|name| context.contains(name))
                .cloned()
                .collect();
            // An id is a scalar; a family keyed by an object is not a store we can keep.
            let id = m
                .params
                .iter()
                .filter(|p| required.contains(&p.api_name) && !partition.contains(&p.api_name))
                .find(|p| is_scalar(&p.ty))
                .map(|p| p.api_name.clone())?;
            (id, partition)
        }
        None => ("ID".to_string(), Vec::new()),
    };

    let mut op_ids = HashMap::new();
    for op in [Op::Get, Op::Update, Op::Delete] {
        let Some(m) = method(op) else { continue };
        let id = m
            .params
            .iter()
            .filter(|p| p.required == Required::Yes && !partition.contains(&p.api_name))
            .find(|p| is_scalar(&p.ty));
        if let Some(id) = id {
            op_ids.insert(op, id.api_name.clone());
        }
    }

    let object_like = |ty: &Type, doc_type: &str| {
        matches!(
            ty,
            Type::Object { .. } | Type::Map { .. } | Type::Ref { .. }
        ) || doc_type.eq_ignore_ascii_case("object")
    };
    let record_candidates: Vec<_> = add
        .params
        .iter()
        .filter(|p| !partition.contains(&p.api_name) && object_like(&p.ty, &p.doc_type))
        .collect();
    let required_candidates: Vec<_> = record_candidates
        .iter()
        .filter(|p| p.required == Required::Yes)
        .collect();
    // The required object parameter, else the first one the docs list (`fields` before
    // `params` on every page that has both).
    let record_param = match required_candidates.as_slice() {
        [one] => Some(one.api_name.clone()),
        _ => record_candidates.first().map(|p| p.api_name.clone()),
    };
    let flat_params = add_params
        .iter()
        .filter(|name| !partition.contains(name))
        .cloned()
        .collect();
    let caller_sets_id = record_param.is_none() && add_params.contains(&id_param);

    let mut shapes = HashMap::new();
    for (&op, &i) in ops {
        let Some(m) = api.methods.get(i) else {
            continue;
        };
        shapes.insert(op, shape_of(op, m));
    }
    let template = find_template(api, ops, &shapes);
    let id_field = template
        .keys()
        .find(|k| k.eq_ignore_ascii_case(&id_param))
        .cloned()
        .unwrap_or_else(|| id_param.clone());
    let id_is_string = matches!(template.get(&id_field), Some(Value::String(_)));
    let stamps = template
        .iter()
        .filter_map(|(key, like)| {
            stamp_kind(key, like).map(|kind| Stamp {
                key: key.clone(),
                kind,
                like: like.clone(),
            })
        })
        .collect();
    let custom_prefix = record_fields(api, add, record_param.as_deref())
        .iter()
        .chain(result_fields(api, method(Op::Get)))
        .filter_map(|f| f.pattern())
        .map(|p| p.prefix)
        .find(|prefix| is_custom_key(&format!("{prefix}X")));
    let star_excludes_custom = method(Op::List)
        .into_iter()
        .flat_map(|m| &m.params)
        .any(|p| p.api_name.eq_ignore_ascii_case("select") && p.description.contains("UF_*"));

    Some(Family {
        prefix: prefix.to_string(),
        version,
        id_param,
        op_ids,
        id_field,
        id_is_string,
        caller_sets_id,
        partition,
        record_param,
        flat_params,
        template,
        shapes,
        stamps,
        custom_prefix,
        star_excludes_custom,
        user_fields: None,
        user_fields_of: None,
    })
}

/// The fields of an object type, following a shared structure.
fn object_fields<'a>(api: &'a Api, ty: &'a Type) -> &'a [Field] {
    match ty {
        Type::Object { fields } => fields,
        Type::Ref { key } => api.types.get(key).map_or(&[], |t| t.fields.as_slice()),
        Type::Nullable { inner } => object_fields(api, inner),
        _ => &[],
    }
}

/// The documented fields of the record `add` carries.
pub(crate) fn record_fields<'a>(
    api: &'a Api,
    add: &'a Method,
    record_param: Option<&str>,
) -> &'a [Field] {
    add.params
        .iter()
        .find(|p| Some(p.api_name.as_str()) == record_param)
        .map_or(&[], |p| object_fields(api, &p.ty))
}

/// The documented fields of the record `get` answers with (inside its one wrapping key, if any).
fn result_fields<'a>(api: &'a Api, get: Option<&'a Method>) -> &'a [Field] {
    let Some(get) = get else { return &[] };
    let fields = object_fields(api, &get.result);
    match fields {
        [one] if !object_fields(api, &one.ty).is_empty() => object_fields(api, &one.ty),
        _ => fields,
    }
}

/// A key in the naming of custom (user) fields: `UF_...`, or `uf` and a capital (`ufCrm5_...`).
pub(crate) fn is_custom_key(key: &str) -> bool {
    key.starts_with("UF_")
        || key
            .strip_prefix("uf")
            .and_then(|rest| rest.chars().next())
            .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
}

/// The words of a key: `DATE_CREATE` and `createdTime` are `[date, create]` and `[created, time]`.
fn key_words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in key.chars() {
        let boundary = c == '_' || c == '-' || (c.is_ascii_uppercase() && previous_lower);
        if boundary && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        if c != '_' && c != '-' {
            word.push(c.to_ascii_lowercase());
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Whether a documented field is one the server fills in: a time or a user, by a name that
/// says creation (`DATE_CREATE`, `createdTime`, `CREATED_BY_ID`) or change (`DATE_MODIFY`,
/// `updatedTime`, `MODIFY_BY_ID`) and a documented value of that form.
fn stamp_kind(key: &str, like: &Value) -> Option<StampKind> {
    let words = key_words(key);
    let has = |list: &[&str]| words.iter().any(|w| list.contains(&w.as_str()));
    let created = has(&["create", "created", "creation"]);
    let modified = has(&[
        "modify", "modified", "update", "updated", "change", "changed",
    ]);
    if created == modified {
        return None;
    }
    let by = has(&["by"]);
    let is_time = crate::clock::time_form(like).is_some();
    let is_user = crate::params::as_i64(like).is_some();
    match (created, by) {
        (true, false) if is_time => Some(StampKind::Created),
        (false, false) if is_time => Some(StampKind::Modified),
        (true, true) if is_user => Some(StampKind::Creator),
        (false, true) if is_user => Some(StampKind::Modifier),
        _ => None,
    }
}

fn is_scalar(ty: &Type) -> bool {
    match ty {
        Type::Scalar { .. } => true,
        Type::Union { variants } => variants.iter().all(is_scalar),
        Type::Nullable { inner } => is_scalar(inner),
        _ => false,
    }
}

/// The `result` of the first documented successful response, if any.
pub(crate) fn example_result(method: &Method) -> Option<&Value> {
    method
        .examples
        .iter()
        .filter(|e| e.kind == ExampleKind::Response)
        .filter_map(|e| e.json.as_ref())
        .find_map(|json| json.get("result"))
}

fn single_object_key(value: &Value) -> Option<&str> {
    let map = value.as_object()?;
    if map.len() != 1 {
        return None;
    }
    map.iter()
        .next()
        .filter(|(_, v)| v.is_object())
        .map(|(k, _)| k.as_str())
}

fn shape_of(op: Op, method: &Method) -> Shape {
    let example = example_result(method);
    match op {
        Op::List => {
            if let Some(paging) = &method.paging {
                return Shape::List(paging.items_key.clone());
            }
            let key = example
                .and_then(Value::as_object)
                .and_then(|m| m.iter().find(|(_, v)| v.is_array()).map(|(k, _)| k.clone()));
            Shape::List(key)
        }
        Op::Add => match example {
            Some(Value::Bool(_)) => Shape::True,
            Some(Value::Object(m)) if m.len() == 1 && m.values().all(|v| !v.is_object()) => {
                Shape::IdObject(m.keys().next().cloned().unwrap_or_default())
            }
            Some(v) if single_object_key(v).is_some() => {
                Shape::Wrapped(single_object_key(v).unwrap_or_default().to_string())
            }
            Some(Value::Object(m)) if !m.is_empty() => Shape::Record,
            _ => Shape::Id {
                string: matches!(example, Some(Value::String(_))),
            },
        },
        Op::Get => match example {
            Some(v) if single_object_key(v).is_some() => {
                Shape::Wrapped(single_object_key(v).unwrap_or_default().to_string())
            }
            _ => Shape::Record,
        },
        Op::Update => match example {
            Some(Value::Object(m)) if m.len() == 1 && m.values().all(|v| !v.is_object()) => {
                Shape::Example(Value::Object(m.clone()))
            }
            Some(v) if single_object_key(v).is_some() => {
                Shape::Wrapped(single_object_key(v).unwrap_or_default().to_string())
            }
            Some(Value::Object(m)) if !m.is_empty() => Shape::Record,
            _ => Shape::True,
        },
        Op::Delete => match example {
            None | Some(Value::Bool(_)) => Shape::True,
            Some(v) => Shape::Example(v.clone()),
        },
        Op::Fields => Shape::Example(example.cloned().unwrap_or(Value::Null)),
    }
}

/// A documented record: from the get, add, update or list example, in that order.
fn find_template(
    api: &Api,
    ops: &HashMap<Op, usize>,
    shapes: &HashMap<Op, Shape>,
) -> Map<String, Value> {
    for op in [Op::Get, Op::Add, Op::Update, Op::List] {
        let Some(method) = ops.get(&op).and_then(|&i| api.methods.get(i)) else {
            continue;
        };
        let Some(result) = example_result(method) else {
            continue;
        };
        let record = match shapes.get(&op) {
            Some(Shape::Record) => result.as_object(),
            Some(Shape::Wrapped(key)) => result.get(key).and_then(Value::as_object),
            Some(Shape::List(key)) => {
                let items = match key {
                    Some(k) => result.get(k),
                    None => Some(result),
                };
                items
                    .and_then(Value::as_array)
                    .and_then(|a| a.first())
                    .and_then(Value::as_object)
            }
            _ => None,
        };
        if let Some(record) = record.filter(|r| !r.is_empty()) {
            return record.clone();
        }
    }
    Map::new()
}
