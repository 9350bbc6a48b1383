//! The records behind the families: add, get, update and delete answered in the shape the docs
//! show, list delegated to [`crate::query`], and the inspection API used by tests.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

use serde_json::{json, Map, Value};

use crate::family::{Family, Op, Shape};
use crate::params::as_i64;
use crate::query::ListQuery;
use crate::reply::{ApiError, Success};

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

    /// Runs one family operation.
    pub(crate) fn run(
        &mut self,
        family_index: usize,
        family: &Family,
        op: Op,
        params: &Map<String, Value>,
    ) -> Result<Success, ApiError> {
        let partition = partition_key(family, params);
        match op {
            Op::Add => {
                let fields = record_fields(family, params, false);
                let record = self.insert(family_index, family, params, fields, true)?;
                Ok(Success::plain(shape_one(family, Op::Add, &record)))
            }
            Op::Get => {
                let key = key_param(family, op, params)?;
                let record = self
                    .collection(family_index, partition)
                    .records
                    .get(&key)
                    .cloned()
                    .ok_or_else(|| not_found(family))?;
                Ok(Success::plain(shape_one(family, Op::Get, &record)))
            }
            Op::Update => {
                let key = key_param(family, op, params)?;
                let fields = record_fields(family, params, true);
                let id_field = family.id_field.clone();
                let record = self
                    .collection(family_index, partition)
                    .records
                    .get_mut(&key)
                    .ok_or_else(|| not_found(family))?;
                for (k, v) in fields {
                    if !k.eq_ignore_ascii_case(&id_field) {
                        record.insert(k, v);
                    }
                }
                let record = record.clone();
                Ok(Success::plain(shape_one(family, Op::Update, &record)))
            }
            Op::Delete => {
                let key = key_param(family, op, params)?;
                self.collection(family_index, partition)
                    .take(&key)
                    .ok_or_else(|| not_found(family))?;
                let result = match family.shapes.get(&Op::Delete) {
                    Some(Shape::Example(v)) => v.clone(),
                    _ => Value::Bool(true),
                };
                Ok(Success::plain(result))
            }
            Op::List => {
                let query = ListQuery::from_params(family, params);
                let collection = self.collection(family_index, partition);
                Ok(query.run(family, collection))
            }
        }
    }

    /// Stores a record made of `fields` (the documented template fills in the rest when it is
    /// shown); assigns the id unless the caller sets it (`add` of a family keyed by the caller,
    /// or seeding). Returns the stored fields.
    pub(crate) fn insert(
        &mut self,
        family_index: usize,
        family: &Family,
        partition_values: &Map<String, Value>,
        fields: Map<String, Value>,
        from_api: bool,
    ) -> Result<Map<String, Value>, ApiError> {
        let partition = partition_key(family, partition_values);
        let mut record = Map::new();
        let given_id = get_ci(&fields, &family.id_field)
            .or_else(|| get_ci(&fields, &family.id_param))
            .cloned();
        for (k, v) in fields {
            if k.eq_ignore_ascii_case(&family.id_field) || k.eq_ignore_ascii_case(&family.id_param)
            {
                continue;
            }
            record.insert(k, v);
        }
        for name in &family.partition {
            let value = get_ci(partition_values, name);
            let key = family
                .template
                .keys()
                .find(|k| k.eq_ignore_ascii_case(name))
                .cloned();
            if let (Some(key), Some(value)) = (key, value) {
                let value = value.clone();
                record.insert(key, value);
            }
        }
        let collection = self.collection(family_index, partition);
        let use_given = !from_api || family.caller_sets_id;
        let key = match given_id.as_ref().filter(|_| use_given) {
            Some(v) => RecordKey::from_value(v).ok_or_else(|| {
                ApiError::new(
                    400,
                    "INVALID_ARG_VALUE",
                    format!("Invalid value for parameter \"{}\"", family.id_param),
                )
            })?,
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
        record.insert(family.id_field.clone(), id_value);
        collection.put(key, record.clone());
        Ok(record)
    }

    /// Every record of a family, over all partitions, in partition then id order.
    pub(crate) fn records(&self, family_index: usize, family: &Family) -> Vec<Value> {
        let mut keys: Vec<_> = self
            .collections
            .keys()
            .filter(|(f, _)| *f == family_index)
            .cloned()
            .collect();
        keys.sort();
        keys.iter()
            .filter_map(|k| self.collections.get(k))
            .flat_map(|c| c.records.values().map(|r| Value::Object(merged(family, r))))
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
            self.insert(family_index, family, partition, fields, false)
                .map_err(|e| StoreError(e.description))?;
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

/// The id a get/update/delete request names.
fn key_param(family: &Family, op: Op, params: &Map<String, Value>) -> Result<RecordKey, ApiError> {
    let name = family.op_ids.get(&op).unwrap_or(&family.id_param);
    get_ci(params, name)
        .and_then(RecordKey::from_value)
        .ok_or_else(|| {
            ApiError::new(
                400,
                "INVALID_ARG_VALUE",
                format!("Invalid value for parameter \"{name}\""),
            )
        })
}

fn not_found(family: &Family) -> ApiError {
    let (code, status) = family
        .not_found
        .clone()
        .unwrap_or_else(|| ("NOT_FOUND".to_string(), 400));
    ApiError::new(status, code, "Not found")
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

/// A stored record as shown: the documented template with the stored fields over it.
pub(crate) fn merged(family: &Family, record: &Map<String, Value>) -> Map<String, Value> {
    let mut out = family.template.clone();
    for (k, v) in record {
        out.insert(k.clone(), v.clone());
    }
    out
}

/// A field of a stored record, or the template's value for it.
pub(crate) fn field_of<'a>(
    template: &'a Map<String, Value>,
    record: &'a Map<String, Value>,
    name: &str,
) -> &'a Value {
    get_ci(record, name)
        .or_else(|| get_ci(template, name))
        .unwrap_or(&Value::Null)
}

fn shape_one(family: &Family, op: Op, record: &Map<String, Value>) -> Value {
    match family.shapes.get(&op) {
        Some(Shape::True) => Value::Bool(true),
        Some(Shape::Id) => record.get(&family.id_field).cloned().unwrap_or(Value::Null),
        Some(Shape::Wrapped(key)) => json!({ key.clone(): merged(family, record) }),
        Some(Shape::IdObject(key)) => {
            json!({ key.clone(): record.get(&family.id_field).cloned().unwrap_or(Value::Null) })
        }
        Some(Shape::Example(v)) => v.clone(),
        _ => Value::Object(merged(family, record)),
    }
}
