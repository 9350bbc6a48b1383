//! List queries over a collection: filters with the documented prefixes, order, select and
//! paging (`start`/`next`/`total`, `start=-1`, REST 3.0 `pagination`).

use std::cmp::Ordering;
use std::ops::Bound;

use serde_json::{json, Map, Value};

use crate::family::is_custom_key;
use crate::family::{Family, Op, Shape};
use crate::params::{as_f64, as_i64, is_blank};
use crate::reply::Success;
use crate::store::{field_of, get_ci, shown, Collection, RecordKey, PAGE_SIZE};

/// The largest page a REST 3.0 list gives (`pagination.limit`).
const V3_MAX_LIMIT: usize = 1000;

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

    fn matches(&self, record: &Map<String, Value>) -> bool {
        let actual = field_of(record, &self.field);
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
pub(crate) struct ListQuery {
    conditions: Vec<Condition>,
    order: Vec<(String, bool)>,
    select: Select,
    /// `None` for `start=-1`: no count, no `next`.
    start: Option<usize>,
    limit: usize,
}

impl ListQuery {
    pub(crate) fn from_params(family: &Family, params: &Map<String, Value>) -> ListQuery {
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
        let select = get_ci(params, "select").map_or_else(Select::default, Select::from_value);
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

    /// One page of the collection; `user_fields` are the custom fields registered for it.
    pub(crate) fn run(
        &self,
        family: &Family,
        collection: &Collection,
        user_fields: &[String],
    ) -> Success {
        let matches = |r: &&Map<String, Value>| self.conditions.iter().all(|c| c.matches(r));
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
                all.sort_by(|a, b| self.compare_records(a, b));
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
        let items: Vec<Value> = page
            .into_iter()
            .map(|r| Value::Object(self.select.project(family, &shown(r, user_fields))))
            .collect();
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

    fn compare_records(&self, a: &Map<String, Value>, b: &Map<String, Value>) -> Ordering {
        for (field, asc) in &self.order {
            let x = field_of(a, field);
            let y = field_of(b, field);
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
}

/// A `select` mask: field names, `*` (every field; the standard ones only where the docs give
/// custom fields a mask of their own, `UF_*`) and `PREFIX*` (every field whose name starts so).
/// An empty mask selects everything; the id is always kept.
#[derive(Debug, Default)]
pub(crate) struct Select(Vec<String>);

impl Select {
    /// The mask a `select` parameter writes (a list, or a PHP array as an object).
    pub(crate) fn from_value(value: &Value) -> Select {
        Select(match value {
            Value::Array(items) => items.iter().map(text).collect(),
            Value::Object(items) => items.values().map(text).collect(),
            Value::String(s) if !s.is_empty() => vec![s.clone()],
            _ => Vec::new(),
        })
    }

    fn wants(&self, family: &Family, key: &str) -> bool {
        key.eq_ignore_ascii_case(&family.id_field)
            || self.0.iter().any(|s| match s.strip_suffix('*') {
                Some("") => !(family.star_excludes_custom && is_custom_key(key)),
                Some(prefix) => key
                    .get(..prefix.len())
                    .is_some_and(|head| head.eq_ignore_ascii_case(prefix)),
                None => s.eq_ignore_ascii_case(key),
            })
    }

    /// The fields of `record` the mask selects, in the record's order.
    pub(crate) fn project(
        &self,
        family: &Family,
        record: &Map<String, Value>,
    ) -> Map<String, Value> {
        if self.0.is_empty() {
            return record.clone();
        }
        record
            .iter()
            .filter(|(k, _)| self.wants(family, k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
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
