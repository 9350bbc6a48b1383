//! The records behind the families: add, get, update and delete answered in the shape the docs
//! show, list delegated to [`crate::query`], and the inspection API used by tests.
//!
//! A record holds exactly what was written, plus what the server assigns: its id, the
//! creation and change times (now) and the users behind them (the caller), in the fields and
//! the forms the documented record shows. Custom fields registered through the family's
//! `P.userfield` methods show as `null` on records that have no value for them.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

use serde_json::{json, Map, Value};

use crate::errors::Failure;
use crate::family::{Family, Op, Shape, StampKind};
use crate::params::as_i64;
use crate::query::ListQuery;
use crate::reply::Success;

/// The documented page size of list methods.
pub(crate) const PAGE_SIZE: usize = 50;

/// The key a record is stored under: integer ids sort numerically, others as text.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum RecordKey {
    Int(i64),
    Text(String),
}

impl RecordKey {
    fn from_value(value: &Value) -> Option<RecordKey> {
        if let Some(i) = as_i64(value) {
            return Some(RecordKey::Int(i));
        }
        match value {
            Value::String(s) if !s.is_empty() => Some(RecordKey::Text(s.clone())),
            _ => None,
        }
    }
}

/// One collection: the records of a family for one partition (e.g. one entity type).
#[derive(Debug, Default)]
pub(crate) struct Collection {
    pub(crate) records: BTreeMap<RecordKey, Map<String, Value>>,
    next_id: i64,
    /// The keys in order, so that paging by id finds a page in O(log n) however deep it is.
    pub(crate) sorted: Vec<RecordKey>,
}

impl Collection {
    fn put(&mut self, key: RecordKey, record: Map<String, Value>) {
        if let Err(at) = self.sorted.binary_search(&key) {
            self.sorted.insert(at, key.clone());
        }
        self.records.insert(key, record);
    }

    fn take(&mut self, key: &RecordKey) -> Option<Map<String, Value>> {
        if let Ok(at) = self.sorted.binary_search(key) {
            self.sorted.remove(at);
        }
        self.records.remove(key)
    }

    /// The positions `lo..hi` of the keys within the bounds.
    pub(crate) fn positions(
        &self,
        lower: &Bound<RecordKey>,
        upper: &Bound<RecordKey>,
    ) -> (usize, usize) {
        let keys = &self.sorted;
        let lo = match lower {
            Bound::Unbounded => 0,
            Bound::Included(k) => keys.partition_point(|x| x < k),
            Bound::Excluded(k) => keys.partition_point(|x| x <= k),
        };
        let hi = match upper {
            Bound::Unbounded => keys.len(),
            Bound::Included(k) => keys.partition_point(|x| x <= k),
            Bound::Excluded(k) => keys.partition_point(|x| x < k),
        };
        (lo, hi.max(lo))
    }
}

/// Every collection of every family.
#[derive(Debug, Default)]
pub(crate) struct Store {
    collections: HashMap<(usize, String), Collection>,
}

/// Why a record could not be stored through the inspection API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub(crate) String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

/// The partition key of a request: the values of the partition parameters, normalised so that
/// `2` and `"2"` name the same collection.
fn partition_key(family: &Family, params: &Map<String, Value>) -> String {
    family
        .partition
        .iter()
        .map(|name| match get_ci(params, name) {
            Some(v) => match as_i64(v) {
                Some(i) => i.to_string(),
                None => v.as_str().map_or_else(|| v.to_string(), str::to_string),
            },
            None => String::new(),
        })
        .collect::<Vec<_>>()
        .join("\u{1f}")
}

/// Finds a key case-insensitively (the docs and callers mix `ID`, `id`, `Id`).
pub(crate) fn get_ci<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// What the server knows of a call when it stores a record: the time and the calling user.
#[derive(Clone, Debug)]
pub(crate) struct Context {
    /// Wall-clock Unix time.
    pub(crate) now: f64,
    /// The calling user's id.
    pub(crate) user: String,
}

impl Store {
    fn collection(&mut self, family_index: usize, partition: String) -> &mut Collection {
        self.collections
            .entry((family_index, partition))
            .or_insert_with(|| Collection {
                records: BTreeMap::new(),
                next_id: 1,
                sorted: Vec::new(),
            })
    }

    /// Runs one operation of `families[family_index]`.
    pub(crate) fn run(
        &mut self,
        families: &[Family],
        family_index: usize,
        op: Op,
        params: &Map<String, Value>,
        context: &Context,
    ) -> Result<Success, Failure> {
        let Some(family) = families.get(family_index) else {
            return Ok(Success::plain(Value::Null));
        };
        let partition = partition_key(family, params);
        let user_fields = self.user_field_names(families, family);
        match op {
            Op::Add => {
                let mut fields = record_fields(family, params, false);
                if let Some(entity) = family.user_fields_of.and_then(|i| families.get(i)) {
                    register_name(entity, &mut fields);
                }
                let record = self.insert(family_index, family, params, fields, Some(context))?;
                Ok(Success::plain(shape_one(
                    family,
                    Op::Add,
                    &record,
                    &user_fields,
                )))
            }
            Op::Get => {
                let key = key_param(family, op, params)?;
                let record = self
                    .collection(family_index, partition)
                    .records
                    .get(&key)
                    .ok_or_else(|| not_found(family, op, params))?;
                let record = match get_ci(params, "select") {
                    Some(select) => {
                        let select = crate::query::Select::from_value(select);
                        select.project(family, &shown(record, &user_fields))
                    }
                    None => record.clone(),
                };
                Ok(Success::plain(shape_one(
                    family,
                    Op::Get,
                    &record,
                    &user_fields,
                )))
            }
            Op::Update => {
                let key = key_param(family, op, params)?;
                let fields = record_fields(family, params, true);
                let id_field = family.id_field.clone();
                let record = self
                    .collection(family_index, partition)
                    .records
                    .get_mut(&key)
                    .ok_or_else(|| not_found(family, op, params))?;
                for (k, v) in fields {
                    if !k.eq_ignore_ascii_case(&id_field) {
                        record.insert(k, v);
                    }
                }
                stamp(family, record, context, true);
                let record = record.clone();
                Ok(Success::plain(shape_one(
                    family,
                    Op::Update,
                    &record,
                    &user_fields,
                )))
            }
            Op::Delete => {
                let key = key_param(family, op, params)?;
                self.collection(family_index, partition)
                    .take(&key)
                    .ok_or_else(|| not_found(family, op, params))?;
                let result = match family.shapes.get(&Op::Delete) {
                    Some(Shape::Example(v)) => v.clone(),
                    _ => Value::Bool(true),
                };
                Ok(Success::plain(result))
            }
            Op::List => {
                let query = ListQuery::from_params(family, params);
                let collection = self.collection(family_index, partition);
                Ok(query.run(family, collection, &user_fields))
            }
            Op::Fields => {
                let documented = match family.shapes.get(&Op::Fields) {
                    Some(Shape::Example(v)) => v.clone(),
                    _ => Value::Null,
                };
                let registered = self.user_field_records(families, family);
                Ok(Success::plain(fields_answer(&documented, &registered)))
            }
        }
    }

    /// Stores a record made of `fields` and nothing else but its id (and the partition it
    /// belongs to, where the documented record shows it). A call through the API (`context`)
    /// gets its id from the server unless the caller sets it (a family keyed by the caller),
    /// and the server's stamps; seeding keeps the id given. Returns the stored record.
    pub(crate) fn insert(
        &mut self,
        family_index: usize,
        family: &Family,
        partition_values: &Map<String, Value>,
        fields: Map<String, Value>,
        context: Option<&Context>,
    ) -> Result<Map<String, Value>, Failure> {
        let from_api = context.is_some();
        let partition = partition_key(family, partition_values);
        let given_id = get_ci(&fields, &family.id_field)
            .or_else(|| get_ci(&fields, &family.id_param))
            .cloned();
        let collection = self.collection(family_index, partition);
        let use_given = !from_api || family.caller_sets_id;
        let key = match given_id.as_ref().filter(|_| use_given) {
            Some(v) => {
                RecordKey::from_value(v).ok_or_else(|| Failure::Invalid(family.id_param.clone()))?
            }
            None => RecordKey::Int(collection.next_id),
        };
        if let RecordKey::Int(i) = key {
            collection.next_id = collection.next_id.max(i.saturating_add(1));
        }
        let id_value = match (&key, family.id_is_string) {
            (RecordKey::Int(i), false) => json!(i),
            (RecordKey::Int(i), true) => json!(i.to_string()),
            (RecordKey::Text(s), _) => json!(s),
        };
        // The id first, as the server lists it.
        let mut record = Map::new();
        record.insert(family.id_field.clone(), id_value);
        for name in &family.partition {
            let value = get_ci(partition_values, name);
            let key = family
                .template
                .keys()
                .find(|k| k.eq_ignore_ascii_case(name))
                .cloned();
            if let (Some(key), Some(value)) = (key, value) {
                record.insert(key, value.clone());
            }
        }
        for (k, v) in fields {
            if k.eq_ignore_ascii_case(&family.id_field) || k.eq_ignore_ascii_case(&family.id_param)
            {
                continue;
            }
            record.insert(k, v);
        }
        if let Some(context) = context {
            stamp(family, &mut record, context, false);
        }
        collection.put(key, record.clone());
        Ok(record)
    }

    /// The records of the family that registers `family`'s custom fields.
    fn user_field_records(&self, families: &[Family], family: &Family) -> Vec<&Map<String, Value>> {
        let Some(index) = family.user_fields else {
            return Vec::new();
        };
        if families.get(index).is_none() {
            return Vec::new();
        }
        let mut keys: Vec<_> = self
            .collections
            .keys()
            .filter(|(f, _)| *f == index)
            .collect();
        keys.sort();
        keys.into_iter()
            .filter_map(|k| self.collections.get(k))
            .flat_map(|c| c.records.values())
            .collect()
    }

    /// The names of the custom fields registered for `family`.
    fn user_field_names(&self, families: &[Family], family: &Family) -> Vec<String> {
        self.user_field_records(families, family)
            .into_iter()
            .filter_map(|r| get_ci(r, FIELD_NAME).and_then(Value::as_str))
            .map(str::to_owned)
            .collect()
    }

    /// Every record of a family, over all partitions, in partition then id order.
    pub(crate) fn records(&self, family_index: usize) -> Vec<Value> {
        let mut keys: Vec<_> = self
            .collections
            .keys()
            .filter(|(f, _)| *f == family_index)
            .cloned()
            .collect();
        keys.sort();
        keys.iter()
            .filter_map(|k| self.collections.get(k))
            .flat_map(|c| c.records.values().map(|r| Value::Object(r.clone())))
            .collect()
    }

    /// Inserts records directly (seeding for tests and benchmarks), returning how many.
    pub(crate) fn seed(
        &mut self,
        family_index: usize,
        family: &Family,
        partition: &Map<String, Value>,
        records: impl IntoIterator<Item = Value>,
    ) -> Result<usize, StoreError> {
        let mut count = 0;
        for record in records {
            let Value::Object(fields) = record else {
                return Err(StoreError("a record must be a JSON object".into()));
            };
            self.insert(family_index, family, partition, fields, None)
                .map_err(|_| {
                    StoreError(format!("invalid value for the id \"{}\"", family.id_param))
                })?;
            count += 1;
        }
        Ok(count)
    }

    /// Removes one record directly; true when it existed.
    pub(crate) fn remove(
        &mut self,
        family_index: usize,
        family: &Family,
        partition: &Map<String, Value>,
        id: &Value,
    ) -> bool {
        let partition = partition_key(family, partition);
        let Some(key) = RecordKey::from_value(id) else {
            return false;
        };
        self.collection(family_index, partition)
            .take(&key)
            .is_some()
    }
}

/// The key of a user field's name in the records of a `P.userfield` family (the naming of
/// every user field API).
const FIELD_NAME: &str = "FIELD_NAME";

/// A user field's name as the server makes it: upper case, with the entity's custom-field
/// prefix (`UF_CRM_`): `note` becomes `UF_CRM_NOTE`, `UF_NOTE` becomes `UF_CRM_NOTE`.
fn register_name(entity: &Family, fields: &mut Map<String, Value>) {
    let Some(prefix) = &entity.custom_prefix else {
        return;
    };
    let key = fields
        .keys()
        .find(|k| k.eq_ignore_ascii_case(FIELD_NAME))
        .cloned();
    let Some(key) = key else { return };
    let Some(name) = fields.get(&key).and_then(Value::as_str) else {
        return;
    };
    let upper = name.to_ascii_uppercase();
    let prefix = prefix.to_ascii_uppercase();
    let full = if upper.starts_with(&prefix) {
        upper
    } else if let Some(rest) = upper.strip_prefix("UF_") {
        format!("{prefix}{rest}")
    } else {
        format!("{prefix}{upper}")
    };
    fields.insert(key, Value::String(full));
}

/// Fills in what the server sets itself: creation (not on update) and change times and users,
/// unless the caller wrote them.
fn stamp(family: &Family, record: &mut Map<String, Value>, context: &Context, update: bool) {
    for stamp in &family.stamps {
        if update && !stamp.kind.on_update() {
            continue;
        }
        if !update && record.contains_key(&stamp.key) {
            continue;
        }
        let value = match stamp.kind {
            StampKind::Created | StampKind::Modified => {
                Value::String(crate::clock::time_like(context.now, &stamp.like))
            }
            StampKind::Creator | StampKind::Modifier => {
                match (&stamp.like, context.user.parse::<i64>()) {
                    (Value::Number(_), Ok(id)) => json!(id),
                    _ => Value::String(context.user.clone()),
                }
            }
        };
        record.insert(stamp.key.clone(), value);
    }
}

/// A record as lists and reads show it: what was stored, and every registered custom field it
/// has no value for, as `null`.
pub(crate) fn shown(record: &Map<String, Value>, user_fields: &[String]) -> Map<String, Value> {
    let mut out = record.clone();
    for name in user_fields {
        if get_ci(&out, name).is_none() {
            out.insert(name.clone(), Value::Null);
        }
    }
    out
}

/// The answer of `P.fields`: the documented fields (without the custom fields of the portal the
/// docs were written on) and one entry per registered user field, in the form of the
/// documented entries.
fn fields_answer(documented: &Value, registered: &[&Map<String, Value>]) -> Value {
    let Value::Object(entries) = documented else {
        return documented.clone();
    };
    let mut out: Map<String, Value> = entries
        .iter()
        .filter(|(k, _)| !b24_codegen::model::is_portal_key(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    // The form of an entry: a documented custom field's, else the first entry's.
    let form = entries
        .iter()
        .find(|(k, _)| crate::family::is_custom_key(k))
        .or_else(|| entries.iter().next())
        .and_then(|(_, v)| v.as_object());
    for field in registered {
        let Some(name) = get_ci(field, FIELD_NAME).and_then(Value::as_str) else {
            continue;
        };
        out.insert(name.to_owned(), describe(name, field, form));
    }
    Value::Object(out)
}

/// A user field's entry in `P.fields`, with the keys of a documented entry.
fn describe(name: &str, field: &Map<String, Value>, form: Option<&Map<String, Value>>) -> Value {
    let text = |key: &str| get_ci(field, key).cloned().unwrap_or(Value::Null);
    let flag = |key: &str| {
        get_ci(field, key)
            .and_then(crate::params::as_flag)
            .unwrap_or(false)
    };
    let label = |keys: &[&str]| {
        keys.iter()
            .filter_map(|k| get_ci(field, k))
            .find_map(label_text)
            .map_or(Value::Null, Value::String)
    };
    let value_of = |key: &str, like: &Value| -> Option<Value> {
        let yes_no = |b: bool| match like {
            Value::String(_) => json!(if b { "Y" } else { "N" }),
            _ => json!(b),
        };
        Some(match key {
            "type" => text("USER_TYPE_ID"),
            "isRequired" => yes_no(flag("MANDATORY")),
            "isReadOnly" | "isImmutable" => yes_no(false),
            "isMultiple" => yes_no(flag("MULTIPLE")),
            "isDynamic" => yes_no(true),
            "title" | "upperName" => json!(name),
            "listLabel" => label(&["LIST_COLUMN_LABEL", "LABEL", "EDIT_FORM_LABEL"]),
            "formLabel" => label(&["EDIT_FORM_LABEL", "LABEL"]),
            "filterLabel" => label(&["LIST_FILTER_LABEL", "LABEL", "EDIT_FORM_LABEL"]),
            "settings" => get_ci(field, "SETTINGS")
                .cloned()
                .unwrap_or_else(|| json!({})),
            _ => return None,
        })
    };
    let keys: Vec<(String, Value)> = match form {
        Some(form) => form.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        None => [
            "type",
            "isRequired",
            "isReadOnly",
            "isImmutable",
            "isMultiple",
            "isDynamic",
            "title",
        ]
        .iter()
        .map(|k| (k.to_string(), json!(false)))
        .collect(),
    };
    Value::Object(
        keys.iter()
            .filter_map(|(k, like)| value_of(k, like).map(|v| (k.clone(), v)))
            .collect(),
    )
}

/// A label: a text, or per language (`{"en": "Note"}`, the English one first).
fn label_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Object(m) => m
            .get("en")
            .or_else(|| m.values().next())
            .and_then(label_text),
        _ => None,
    }
}

/// The id a get/update/delete request names. Ids the server assigns are positive integers.
fn key_param(family: &Family, op: Op, params: &Map<String, Value>) -> Result<RecordKey, Failure> {
    let name = family.op_ids.get(&op).unwrap_or(&family.id_param);
    let Some(value) = get_ci(params, name).filter(|v| !crate::params::is_blank(Some(v))) else {
        return Err(Failure::Missing(name.clone()));
    };
    match RecordKey::from_value(value) {
        Some(RecordKey::Int(i)) if i <= 0 && !family.caller_sets_id => {
            Err(Failure::Invalid(name.clone()))
        }
        Some(key) => Ok(key),
        None => Err(Failure::Invalid(name.clone())),
    }
}

fn not_found(family: &Family, op: Op, params: &Map<String, Value>) -> Failure {
    let param = family.op_ids.get(&op).unwrap_or(&family.id_param).clone();
    let id = get_ci(params, &param).cloned().unwrap_or(Value::Null);
    Failure::NotFound { param, id }
}

/// The record carried by an add or update request.
fn record_fields(family: &Family, params: &Map<String, Value>, update: bool) -> Map<String, Value> {
    if let Some(name) = &family.record_param {
        return match get_ci(params, name) {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
    }
    family
        .flat_params
        .iter()
        .filter(|name| {
            let names_record = name.eq_ignore_ascii_case(&family.id_param)
                || family
                    .op_ids
                    .get(&Op::Update)
                    .is_some_and(|id| name.eq_ignore_ascii_case(id));
            !(update && names_record)
        })
        .filter_map(|name| get_ci(params, name).map(|v| (name.clone(), v.clone())))
        .collect()
}

/// A field of a stored record (`null` when it has none).
pub(crate) fn field_of<'a>(record: &'a Map<String, Value>, name: &str) -> &'a Value {
    get_ci(record, name).unwrap_or(&Value::Null)
}

fn shape_one(
    family: &Family,
    op: Op,
    record: &Map<String, Value>,
    user_fields: &[String],
) -> Value {
    match family.shapes.get(&op) {
        Some(Shape::True) => Value::Bool(true),
        Some(Shape::Id { string }) => {
            let id = record.get(&family.id_field).cloned().unwrap_or(Value::Null);
            match (id, string) {
                (Value::String(s), false) => {
                    s.parse::<i64>().map_or(Value::String(s), |n| json!(n))
                }
                (Value::Number(n), true) => Value::String(n.to_string()),
                (id, _) => id,
            }
        }
        Some(Shape::Wrapped(key)) => json!({ key.clone(): shown(record, user_fields) }),
        Some(Shape::IdObject(key)) => {
            json!({ key.clone(): record.get(&family.id_field).cloned().unwrap_or(Value::Null) })
        }
        Some(Shape::Example(v)) => v.clone(),
        _ => Value::Object(shown(record, user_fields)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::{find_families, record_fields as documented_fields};
    use b24_codegen::model::Api;
    use proptest::prelude::*;

    /// The project's docs and, when present, the upstream corpus (`B24_DOCS_DIR`, else
    /// `../shared/b24restdocs` beside the repository).
    fn apis() -> Vec<Api> {
        let root = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
        let corpus = std::env::var_os("B24_DOCS_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| "../shared/b24restdocs".into());
        let corpus = if corpus.is_absolute() {
            corpus
        } else {
            root.join(corpus)
        };
        let mut apis = vec![b24_codegen::load(&root.join("docs"))];
        if corpus.is_dir() {
            apis.push(b24_codegen::load(&corpus));
        }
        apis
    }

    /// A family that reads one record back, with the names its records are written under.
    struct Case {
        family: usize,
        keys: Vec<String>,
    }

    fn cases(api: &Api, families: &[Family]) -> Vec<Case> {
        families
            .iter()
            .enumerate()
            .filter(|(_, f)| f.op_ids.contains_key(&Op::Get))
            .filter_map(|(i, f)| {
                let add = api
                    .methods
                    .iter()
                    .find(|m| m.name == format!("{}.add", f.prefix) && m.version == f.version)?;
                let mut keys: Vec<String> = match &f.record_param {
                    Some(_) => documented_fields(api, add, f.record_param.as_deref())
                        .iter()
                        .filter(|field| field.pattern().is_none())
                        .map(|field| field.api_name.clone())
                        .collect(),
                    None => f.flat_params.clone(),
                };
                keys.retain(|k| {
                    !k.eq_ignore_ascii_case(&f.id_field) && !k.eq_ignore_ascii_case(&f.id_param)
                });
                if f.record_param.is_some() {
                    keys.push(
                        f.custom_prefix.clone().unwrap_or_else(|| "UF_".into()) + "PROPERTY_TEST",
                    );
                }
                Some(Case { family: i, keys })
            })
            .collect()
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            (-1e9f64..1e9).prop_map(|x| json!(x)),
            "[ -~]{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(2, 8, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                prop::collection::btree_map("[a-z]{1,4}", inner, 0..3)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// The record inside a get answer (`{"item": {...}}` or the record itself).
    fn record_of(family: &Family, result: &Value) -> Map<String, Value> {
        let record = match family.shapes.get(&Op::Get) {
            Some(Shape::Wrapped(key)) => result.get(key),
            _ => Some(result),
        };
        record
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn a_created_record_reads_back_exactly_what_was_written() {
        let context = Context {
            now: 1_772_442_900.0,
            user: "7".into(),
        };
        for api in apis() {
            let (families, _) = find_families(&api);
            let cases = cases(&api, &families);
            assert!(!cases.is_empty(), "families with add and get");
            let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
                cases: 16,
                ..ProptestConfig::default()
            });
            for case in &cases {
                let family = &families[case.family];
                let record = prop::sample::subsequence(case.keys.clone(), 0..=case.keys.len())
                    .prop_flat_map(|keys| {
                        let n = keys.len();
                        (Just(keys), prop::collection::vec(value(), n))
                    });
                runner
                    .run(&record, |(keys, values)| {
                        let mut store = Store::default();
                        let written: Map<String, Value> = keys.into_iter().zip(values).collect();
                        let mut params = Map::new();
                        for name in &family.partition {
                            params.insert(name.clone(), json!(3));
                        }
                        let mut fields = written.clone();
                        if family.caller_sets_id {
                            fields.insert(family.id_param.clone(), json!("code1"));
                        }
                        match &family.record_param {
                            Some(name) => {
                                params.insert(name.clone(), Value::Object(fields));
                            }
                            None => params.extend(fields),
                        }
                        store
                            .run(&families, case.family, Op::Add, &params, &context)
                            .map_err(|e| {
                                TestCaseError::fail(format!("{}: add: {e:?}", family.prefix))
                            })?;
                        let id = store
                            .records(case.family)
                            .first()
                            .and_then(|r| r.get(&family.id_field).cloned());
                        let id_param = family.op_ids.get(&Op::Get).cloned().unwrap_or_default();
                        let mut get = Map::new();
                        for name in &family.partition {
                            get.insert(name.clone(), json!(3));
                        }
                        get.insert(id_param, id.unwrap_or(Value::Null));
                        let answer = store
                            .run(&families, case.family, Op::Get, &get, &context)
                            .map_err(|e| {
                                TestCaseError::fail(format!("{}: get: {e:?}", family.prefix))
                            })?;
                        let read = record_of(family, &answer.result);
                        for (key, value) in &written {
                            prop_assert_eq!(
                                read.get(key),
                                Some(value),
                                "{} {}",
                                family.prefix,
                                key
                            );
                        }
                        let assigned = |key: &str| {
                            key == family.id_field
                                || family.partition.iter().any(|p| p.eq_ignore_ascii_case(key))
                                || family.stamps.iter().any(|s| s.key == key)
                        };
                        for key in read.keys() {
                            prop_assert!(
                                written.contains_key(key) || assigned(key),
                                "{}: `{}` was not written: {:?}",
                                family.prefix,
                                key,
                                read
                            );
                        }
                        Ok(())
                    })
                    .unwrap_or_else(|e| panic!("{e}"));
            }
            eprintln!("{} families read back what was written", cases.len());
        }
    }
}
