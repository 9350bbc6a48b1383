//! `select`, `filter` and `order` of list methods, built from the generated field keys.
//!
//! Every field of a generated response structure has a key constant (`types::Deal::OPPORTUNITY`,
//! a [`Key`] that knows the field's wire name and type). The builders here take those keys, so a
//! misspelt field does not compile and a value of the wrong type neither, and write the
//! documented forms: the filter prefixes `=`, `!`, `>`, `>=`, `<`, `<=`, `@`, `!@`, `%`, the
//! masks `*` and `UF_*`, the directions `ASC` and `DESC`.
//!
//! ```
//! use b24_runtime::batch::Key;
//! use b24_runtime::select::{Filter, Order, Select};
//! use b24_runtime::value::Double;
//! # struct Deal;
//! # const ID: Key<Deal, b24_runtime::value::Int> = Key::new("ID");
//! # const TITLE: Key<Deal, String> = Key::new("TITLE");
//! # const OPPORTUNITY: Key<Deal, Double> = Key::new("OPPORTUNITY");
//! # const STAGE_ID: Key<Deal, String> = Key::new("STAGE_ID");
//!
//! let filter = Filter::new()
//!     .ge(OPPORTUNITY, 1000)
//!     .not_in(STAGE_ID, ["LOSE", "APOLOGY"])
//!     .like(TITLE, "chair");
//! assert_eq!(
//!     serde_json::Value::from(filter),
//!     serde_json::json!({">=OPPORTUNITY": 1000, "!@STAGE_ID": ["LOSE", "APOLOGY"], "%TITLE": "chair"})
//! );
//! let select = Select::new().field(ID).field(TITLE).custom_fields();
//! assert_eq!(select.names(), ["ID", "TITLE", "UF_*"]);
//! let order = Order::new().desc(OPPORTUNITY).asc(ID);
//! assert_eq!(serde_json::Value::from(order), serde_json::json!({"OPPORTUNITY": "DESC", "ID": "ASC"}));
//! ```
//!
//! A request's own `filter` and `order` fields have the types the docs give them; `to` turns a
//! builder into any of them (`request.filter = Some(filter.to()?)`), `names` gives a `select`.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::batch::Key;

/// A `filter`: conditions on fields, combined with `AND`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter(Map<String, Value>);

/// A value written as JSON (`null` when it does not serialize, which no value type here does).
fn json<U: Serialize>(value: U) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

impl Filter {
    /// No conditions.
    pub fn new() -> Self {
        Filter::default()
    }

    fn with(mut self, prefix: &str, field: &str, value: Value) -> Self {
        self.0.insert(format!("{prefix}{field}"), value);
        self
    }

    /// `field = value` (the key without a prefix).
    pub fn eq<S, U: Serialize>(self, key: Key<S, U>, value: impl Into<U>) -> Self {
        self.with("", key.name(), json(value.into()))
    }

    /// `field != value` (`!`).
    pub fn ne<S, U: Serialize>(self, key: Key<S, U>, value: impl Into<U>) -> Self {
        self.with("!", key.name(), json(value.into()))
    }

    /// `field > value` (`>`).
    pub fn gt<S, U: Serialize>(self, key: Key<S, U>, value: impl Into<U>) -> Self {
        self.with(">", key.name(), json(value.into()))
    }

    /// `field >= value` (`>=`).
    pub fn ge<S, U: Serialize>(self, key: Key<S, U>, value: impl Into<U>) -> Self {
        self.with(">=", key.name(), json(value.into()))
    }

    /// `field < value` (`<`).
    pub fn lt<S, U: Serialize>(self, key: Key<S, U>, value: impl Into<U>) -> Self {
        self.with("<", key.name(), json(value.into()))
    }

    /// `field <= value` (`<=`).
    pub fn le<S, U: Serialize>(self, key: Key<S, U>, value: impl Into<U>) -> Self {
        self.with("<=", key.name(), json(value.into()))
    }

    /// `field` is one of `values` (`@`).
    pub fn any_of<S, U: Serialize, V: Into<U>>(
        self,
        key: Key<S, U>,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        let values = values.into_iter().map(|v| json(v.into())).collect();
        self.with("@", key.name(), Value::Array(values))
    }

    /// `field` is none of `values` (`!@`).
    pub fn not_in<S, U: Serialize, V: Into<U>>(
        self,
        key: Key<S, U>,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        let values = values.into_iter().map(|v| json(v.into())).collect();
        self.with("!@", key.name(), Value::Array(values))
    }

    /// `field` contains `text` (`%`, SQL `LIKE '%text%'`).
    pub fn like<S>(self, key: Key<S, String>, text: impl Into<String>) -> Self {
        self.with("%", key.name(), Value::String(text.into()))
    }

    /// A condition on a field no key names (a custom field, `UF_CRM_WEIGHT`), with the
    /// documented `prefix` (`""`, `"!"`, `">="`, `"@"`, ...).
    pub fn field(self, prefix: &str, name: &str, value: impl Serialize) -> Self {
        self.with(prefix, name, json(value))
    }

    /// The filter in the type a request gives its `filter` parameter.
    pub fn to<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(Value::Object(self.0.clone()))
    }
}

impl From<Filter> for Value {
    fn from(filter: Filter) -> Value {
        Value::Object(filter.0)
    }
}

/// A `select`: the fields a list returns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Select(Vec<String>);

impl Select {
    /// No field named yet (a list then returns its default set).
    pub fn new() -> Self {
        Select::default()
    }

    /// The field of `key`.
    pub fn field<S, U>(mut self, key: Key<S, U>) -> Self {
        self.0.push(key.name().to_owned());
        self
    }

    /// A field by name (a custom field, `UF_CRM_WEIGHT`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.0.push(name.into());
        self
    }

    /// `*`: every standard field.
    pub fn all(self) -> Self {
        self.name("*")
    }

    /// `UF_*`: every custom field.
    pub fn custom_fields(self) -> Self {
        self.name("UF_*")
    }

    /// The names, for a request's `select`.
    pub fn names(&self) -> Vec<String> {
        self.0.clone()
    }
}

impl From<Select> for Vec<String> {
    fn from(select: Select) -> Vec<String> {
        select.0
    }
}

/// An `order`: fields and directions, the first deciding first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Order(Map<String, Value>);

impl Order {
    /// No order (the server's default).
    pub fn new() -> Self {
        Order::default()
    }

    /// Ascending by the field of `key` (`ASC`).
    pub fn asc<S, U>(mut self, key: Key<S, U>) -> Self {
        self.0.insert(key.name().to_owned(), Value::from("ASC"));
        self
    }

    /// Descending by the field of `key` (`DESC`).
    pub fn desc<S, U>(mut self, key: Key<S, U>) -> Self {
        self.0.insert(key.name().to_owned(), Value::from("DESC"));
        self
    }

    /// The order in the type a request gives its `order` parameter.
    pub fn to<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(Value::Object(self.0.clone()))
    }
}

impl From<Order> for Value {
    fn from(order: Order) -> Value {
        Value::Object(order.0)
    }
}
