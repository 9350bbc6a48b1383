//! The records behind the families: add, get, list (paging, filter, order, select), update and
//! delete, answered in the shape the docs show.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

use serde_json::{json, Map, Value};

use crate::family::{Family, Op, Shape};
use crate::params::{as_f64, as_i64, is_blank};
use crate::reply::{ApiError, Success};

/// The documented page size of list methods.
pub(crate) const PAGE_SIZE: usize = 50;

/// The largest page a REST 3.0 list gives (`pagination.limit`).
const V3_MAX_LIMIT: usize = 1000;

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
struct Collection {
    records: BTreeMap<RecordKey, Map<String, Value>>,
    next_id: i64,
    /// The keys in order, so that paging by id finds a page in O(log n) however deep it is.
    sorted: Vec<RecordKey>,
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
    fn positions(&self, lower: &Bound<RecordKey>, upper: &Bound<RecordKey>) -> (usize, usize) {
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
fn get_ci<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
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
fn merged(family: &Family, record: &Map<String, Value>) -> Map<String, Value> {
    let mut out = family.template.clone();
    for (k, v) in record {
        out.insert(k.clone(), v.clone());
    }
    out
}

/// A field of a stored record, or the template's value for it.
fn field_of<'a>(
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

/// A comparison in a filter key prefix.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Cmp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    In,
    NotIn,
    Like,
}

/// One filter condition.
#[derive(Clone, Debug)]
struct Condition {
    field: String,
    cmp: Cmp,
    value: Value,
}

impl Condition {
    /// Reads a filter key such as `>=ID`, `!@id`, `%TITLE`.
    fn parse(key: &str, value: &Value) -> Condition {
        const PREFIXES: [(&str, Cmp); 10] = [
            (">=", Cmp::Ge),
            ("<=", Cmp::Le),
            ("!@", Cmp::NotIn),
            ("!=", Cmp::Ne),
            ("@", Cmp::In),
            (">", Cmp::Gt),
            ("<", Cmp::Lt),
            ("=", Cmp::Eq),
            ("!", Cmp::Ne),
            ("%", Cmp::Like),
        ];
        for (prefix, cmp) in PREFIXES {
            if let Some(field) = key.strip_prefix(prefix) {
                let cmp = match (cmp, value) {
                    (Cmp::Eq, Value::Array(_)) => Cmp::In,
                    (Cmp::Ne, Value::Array(_)) => Cmp::NotIn,
                    _ => cmp,
                };
                return Condition {
                    field: field.to_string(),
                    cmp,
                    value: value.clone(),
                };
            }
        }
        let cmp = if value.is_array() { Cmp::In } else { Cmp::Eq };
        Condition {
            field: key.to_string(),
            cmp,
            value: value.clone(),
        }
    }

    /// A REST 3.0 condition: `[field, op, value]` or `[field, [values]]`.
    fn parse_v3(item: &Value) -> Option<Condition> {
        let parts = item.as_array()?;
        let field = parts.first()?.as_str()?.to_string();
        let (op, value) = match parts.len() {
            2 => ("in", parts.get(1)?),
            3 => (parts.get(1)?.as_str()?, parts.get(2)?),
            _ => return None,
        };
        let cmp = match op {
            "=" => Cmp::Eq,
            "!=" => Cmp::Ne,
            ">" => Cmp::Gt,
            ">=" => Cmp::Ge,
            "<" => Cmp::Lt,
            "<=" => Cmp::Le,
            "in" => Cmp::In,
            _ => return None,
        };
        Some(Condition {
            field,
            cmp,
            value: value.clone(),
        })
    }

    fn matches(&self, template: &Map<String, Value>, record: &Map<String, Value>) -> bool {
        let actual = field_of(template, record, &self.field);
        let list = |v: &Value| -> Vec<Value> {
            match v {
                Value::Array(items) => items.clone(),
                Value::String(s) if s.contains(',') => s
                    .split(',')
                    .map(|p| Value::String(p.trim().into()))
                    .collect(),
                other => vec![other.clone()],
            }
        };
        match self.cmp {
            Cmp::Eq => compare(actual, &self.value) == Some(Ordering::Equal),
            Cmp::Ne => compare(actual, &self.value) != Some(Ordering::Equal),
            Cmp::Gt => compare(actual, &self.value) == Some(Ordering::Greater),
            Cmp::Ge => matches!(
                compare(actual, &self.value),
                Some(Ordering::Greater | Ordering::Equal)
            ),
            Cmp::Lt => compare(actual, &self.value) == Some(Ordering::Less),
            Cmp::Le => matches!(
                compare(actual, &self.value),
                Some(Ordering::Less | Ordering::Equal)
            ),
            Cmp::In => list(&self.value)
                .iter()
                .any(|v| compare(actual, v) == Some(Ordering::Equal)),
            Cmp::NotIn => !list(&self.value)
                .iter()
                .any(|v| compare(actual, v) == Some(Ordering::Equal)),
            Cmp::Like => {
                let needle = text(&self.value).to_lowercase();
                text(actual).to_lowercase().contains(&needle)
            }
        }
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Compares as numbers when both sides are numeric, else as text (PHP's loose comparison, roughly).
fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Null, Value::Null) => Some(Ordering::Equal),
        (Value::Null, _) | (_, Value::Null) => None,
        _ => match (as_f64(a), as_f64(b)) {
            (Some(x), Some(y)) => x.partial_cmp(&y),
            _ => Some(text(a).cmp(&text(b))),
        },
    }
}

/// What a list call asks for.
#[derive(Debug)]
struct ListQuery {
    conditions: Vec<Condition>,
    order: Vec<(String, bool)>,
    select: Vec<String>,
    /// `None` for `start=-1`: no count, no `next`.
    start: Option<usize>,
    limit: usize,
}

impl ListQuery {
    fn from_params(family: &Family, params: &Map<String, Value>) -> ListQuery {
        let conditions = match get_ci(params, "filter") {
            // Empty values filter nothing (an unresolved batch reference arrives as one).
            Some(Value::Object(filter)) => filter
                .iter()
                .filter(|(_, v)| !is_blank(Some(v)))
                .map(|(k, v)| Condition::parse(k, v))
                .collect(),
            Some(Value::Array(items)) => items.iter().filter_map(Condition::parse_v3).collect(),
            _ => Vec::new(),
        };
        let mut order: Vec<(String, bool)> = match get_ci(params, "order") {
            Some(Value::Object(order)) => order
                .iter()
                .map(|(k, v)| (k.clone(), !text(v).eq_ignore_ascii_case("desc")))
                .collect(),
            _ => Vec::new(),
        };
        if order.is_empty() {
            order.push((family.id_field.clone(), true));
        }
        let select = match get_ci(params, "select") {
            Some(Value::Array(items)) => items.iter().map(text).collect(),
            Some(Value::Object(items)) => items.values().map(text).collect(),
            _ => Vec::new(),
        };
        // REST 3.0: `pagination: {page, limit, offset}`, limit up to 1000.
        let pagination = get_ci(params, "pagination").and_then(Value::as_object);
        let number = |key: &str| {
            pagination
                .and_then(|p| get_ci(p, key))
                .and_then(as_i64)
                .and_then(|n| usize::try_from(n).ok())
        };
        let limit = number("limit")
            .filter(|l| (1..=V3_MAX_LIMIT).contains(l))
            .unwrap_or(PAGE_SIZE);
        let start = match get_ci(params, "start").and_then(as_i64) {
            Some(s) if s < 0 => None,
            Some(s) => Some(usize::try_from(s).unwrap_or(0)),
            None => Some(
                number("offset")
                    .or_else(|| {
                        number("page").map(|page| page.saturating_sub(1).saturating_mul(limit))
                    })
                    .unwrap_or(0),
            ),
        };
        ListQuery {
            conditions,
            order,
            select,
            start,
            limit,
        }
    }

    /// Whether the order is by the id alone, so the stored order can be walked directly.
    fn id_order(&self, family: &Family) -> Option<bool> {
        match self.order.as_slice() {
            [(field, asc)]
                if field.eq_ignore_ascii_case(&family.id_field)
                    || field.eq_ignore_ascii_case(&family.id_param) =>
            {
                Some(*asc)
            }
            _ => None,
        }
    }

    /// The id range implied by the integer conditions on the id, to skip what cannot match.
    fn id_bounds(&self, family: &Family) -> (Bound<RecordKey>, Bound<RecordKey>) {
        let mut lower = Bound::Unbounded;
        let mut upper = Bound::Unbounded;
        for c in &self.conditions {
            let on_id = c.field.eq_ignore_ascii_case(&family.id_field)
                || c.field.eq_ignore_ascii_case(&family.id_param);
            let Some(v) = as_i64(&c.value).filter(|_| on_id) else {
                continue;
            };
            match c.cmp {
                Cmp::Gt => lower = tighter_lower(lower, Bound::Excluded(RecordKey::Int(v))),
                Cmp::Ge => lower = tighter_lower(lower, Bound::Included(RecordKey::Int(v))),
                Cmp::Lt => upper = tighter_upper(upper, Bound::Excluded(RecordKey::Int(v))),
                Cmp::Le => upper = tighter_upper(upper, Bound::Included(RecordKey::Int(v))),
                _ => {}
            }
        }
        (lower, upper)
    }

    /// True when every condition is an integer range on the id, so the sorted keys answer it.
    fn only_id_ranges(&self, family: &Family, collection: &Collection) -> bool {
        let integer_keys = collection
            .sorted
            .last()
            .map_or(true, |k| matches!(k, RecordKey::Int(_)));
        integer_keys
            && self.conditions.iter().all(|c| {
                (c.field.eq_ignore_ascii_case(&family.id_field)
                    || c.field.eq_ignore_ascii_case(&family.id_param))
                    && matches!(c.cmp, Cmp::Gt | Cmp::Ge | Cmp::Lt | Cmp::Le)
                    && as_i64(&c.value).is_some()
            })
    }

    fn run(&self, family: &Family, collection: &Collection) -> Success {
        let template = &family.template;
        let matches =
            |r: &&Map<String, Value>| self.conditions.iter().all(|c| c.matches(template, r));
        let offset = self.start.unwrap_or(0);
        let counting = self.start.is_some();
        let (page, total): (Vec<&Map<String, Value>>, usize) = match self.id_order(family) {
            Some(asc) if self.only_id_ranges(family, collection) => {
                let (lower, upper) = self.id_bounds(family);
                let (lo, hi) = collection.positions(&lower, &upper);
                let in_range = collection.sorted.get(lo..hi).unwrap_or_default();
                let picked: Vec<&RecordKey> = if asc {
                    in_range.iter().skip(offset).take(self.limit).collect()
                } else {
                    in_range
                        .iter()
                        .rev()
                        .skip(offset)
                        .take(self.limit)
                        .collect()
                };
                let page = picked
                    .into_iter()
                    .filter_map(|k| collection.records.get(k))
                    .collect();
                (page, hi - lo)
            }
            Some(asc) => {
                let bounds = self.id_bounds(family);
                let valid = match (&bounds.0, &bounds.1) {
                    (
                        Bound::Included(a) | Bound::Excluded(a),
                        Bound::Included(b) | Bound::Excluded(b),
                    ) => {
                        a < b
                            || (a == b
                                && matches!(bounds, (Bound::Included(_), Bound::Included(_))))
                    }
                    _ => true,
                };
                if !valid {
                    (Vec::new(), 0)
                } else {
                    let range = collection.records.range(bounds).map(|(_, r)| r);
                    let iter: Box<dyn Iterator<Item = &Map<String, Value>>> = if asc {
                        Box::new(range)
                    } else {
                        Box::new(range.rev())
                    };
                    let mut filtered = iter.filter(matches);
                    let page: Vec<_> = filtered.by_ref().skip(offset).take(self.limit).collect();
                    let total = if counting {
                        offset + page.len() + filtered.count()
                    } else {
                        0
                    };
                    (page, total)
                }
            }
            None => {
                let mut all: Vec<&Map<String, Value>> =
                    collection.records.values().filter(matches).collect();
                all.sort_by(|a, b| self.compare_records(template, a, b));
                let total = all.len();
                let page = all.into_iter().skip(offset).take(self.limit).collect();
                (page, total)
            }
        };
        // With an offset past the end, the skipped count above is an over-estimate; recount.
        let total = if counting && page.is_empty() && offset > 0 {
            collection.records.values().filter(matches).count()
        } else {
            total
        };
        let items: Vec<Value> = page.into_iter().map(|r| self.project(family, r)).collect();
        let next =
            (counting && offset + items.len() < total).then_some((offset + items.len()) as u64);
        let result = match family.shapes.get(&Op::List) {
            Some(Shape::List(Some(key))) => json!({ key.clone(): items }),
            _ => Value::Array(items),
        };
        Success {
            result,
            total: counting.then_some(total as u64),
            next,
        }
    }

    fn compare_records(
        &self,
        template: &Map<String, Value>,
        a: &Map<String, Value>,
        b: &Map<String, Value>,
    ) -> Ordering {
        for (field, asc) in &self.order {
            let x = field_of(template, a, field);
            let y = field_of(template, b, field);
            let ord = match (x, y) {
                (Value::Null, Value::Null) => Ordering::Equal,
                (Value::Null, _) => Ordering::Less,
                (_, Value::Null) => Ordering::Greater,
                _ => compare(x, y).unwrap_or(Ordering::Equal),
            };
            let ord = if *asc { ord } else { ord.reverse() };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    }

    /// Applies `select` over the shown record; the id is always kept, `*` keeps everything.
    fn project(&self, family: &Family, record: &Map<String, Value>) -> Value {
        if self.select.is_empty() || self.select.iter().any(|s| s == "*") {
            return Value::Object(merged(family, record));
        }
        let wanted = |k: &str| {
            k.eq_ignore_ascii_case(&family.id_field)
                || self.select.iter().any(|s| s.eq_ignore_ascii_case(k))
        };
        // The template's order first (as `merged` shows it), then fields it does not have.
        let from_template = family
            .template
            .iter()
            .filter(|(k, _)| wanted(k))
            .map(|(k, v)| (k.clone(), record.get(k).unwrap_or(v).clone()));
        let own = record
            .iter()
            .filter(|(k, _)| !family.template.contains_key(*k) && wanted(k))
            .map(|(k, v)| (k.clone(), v.clone()));
        Value::Object(from_template.chain(own).collect())
    }
}

fn tighter_lower(a: Bound<RecordKey>, b: Bound<RecordKey>) -> Bound<RecordKey> {
    match (&a, &b) {
        (Bound::Unbounded, _) => b,
        (_, Bound::Unbounded) => a,
        (Bound::Included(x) | Bound::Excluded(x), Bound::Included(y) | Bound::Excluded(y)) => {
            match x.cmp(y) {
                Ordering::Less => b,
                Ordering::Greater => a,
                Ordering::Equal if matches!(b, Bound::Excluded(_)) => b,
                Ordering::Equal => a,
            }
        }
    }
}

fn tighter_upper(a: Bound<RecordKey>, b: Bound<RecordKey>) -> Bound<RecordKey> {
    match (&a, &b) {
        (Bound::Unbounded, _) => b,
        (_, Bound::Unbounded) => a,
        (Bound::Included(x) | Bound::Excluded(x), Bound::Included(y) | Bound::Excluded(y)) => {
            match x.cmp(y) {
                Ordering::Less => a,
                Ordering::Greater => b,
                Ordering::Equal if matches!(b, Bound::Excluded(_)) => b,
                Ordering::Equal => a,
            }
        }
    }
}
