//! Typed batches: many calls in one HTTP request (`batch`), results decoded per command.
//!
//! ```no_run
//! # async fn demo<A, G>(client: &b24_runtime::Client, add: A, get: G) -> Result<(), Box<dyn std::error::Error>>
//! # where A: b24_runtime::Method, G: b24_runtime::Method {
//! use b24_runtime::batch::Batch;
//! let mut batch = Batch::new().halt(true);
//! let added = batch.add(&add)?;
//! // `get`'s `id` parameter takes the id returned by `add`, resolved on the server.
//! let got = batch.add_with(&get, [added.result().bind(&["id"])])?;
//! let results = client.batch(&batch).await?;
//! let _id = results.get(&added)?;
//! let _item = results.get(&got)?;
//! # Ok(()) }
//! ```
//!
//! A parameter bound to an earlier result can also be left out of what is written, with
//! [`Params`]: `batch.add_params(Params::<get::Request>::new().bind(get::Request::ID,
//! added.result()))` needs no placeholder `id`, and a required parameter neither set nor bound
//! is refused when the command is added, naming it.
//!
//! References into a result are typed by the generated code: every generated result structure
//! has a [`Key`] per field (`add::Response::BADGE`, `BadgeRecordFields::CODE`), and
//! `cmd.result().get(add::Response::BADGE).get(BadgeRecordFields::CODE)` compiles only when each
//! key belongs to the type it is applied to; [`Ref::index`] only applies to lists.
//!
//! More than 50 commands are sent as several batches, in order. A reference to a command of an
//! earlier chunk is resolved on the client from that chunk's result, so chains work across
//! chunks too. With `halt`, the first error stops the rest (commands not run report
//! [`Error::NotRun`]). A command refused unrun for its method's time budget
//! (`OPERATION_TIME_LIMIT`, or `QUERY_LIMIT_EXCEEDED`) is sent again once the budget is
//! released; other commands are never sent twice.

use std::collections::{HashMap, VecDeque};
use std::marker::PhantomData;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::client::{CallOptions, Client, Target};
use crate::envelope::{Envelope, Time};
use crate::error::{ApiError, DecodeError, Error};
use crate::method::{Access, ApiVersion, Method};
use crate::query::http_build_query;
use crate::secret::Redactor;

/// The most commands the server runs in one batch.
pub const MAX_COMMANDS: usize = 50;

/// A handle to a command in a [`Batch`], typed by its method.
pub struct Cmd<M> {
    key: String,
    _m: PhantomData<fn() -> M>,
}

impl<M> Clone for Cmd<M> {
    fn clone(&self) -> Self {
        Cmd {
            key: self.key.clone(),
            _m: PhantomData,
        }
    }
}

impl<M> std::fmt::Debug for Cmd<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Cmd({:?})", self.key)
    }
}

impl<M: Method> Cmd<M> {
    /// The command's key in the batch.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// A reference to this command's result (`$result[key]`), for later commands.
    pub fn result(&self) -> Ref<M::Response> {
        Ref {
            cmd: self.key.clone(),
            path: Vec::new(),
            _t: PhantomData,
        }
    }
}

/// A reference to (part of) an earlier command's result: `$result[cmd][path…]`.
///
/// It can only be made from the handle of a command already in the batch, so a reference to a
/// missing or later command does not compile; `index` only applies to lists.
pub struct Ref<T> {
    cmd: String,
    path: Vec<String>,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for Ref<T> {
    fn clone(&self) -> Self {
        Ref {
            cmd: self.cmd.clone(),
            path: self.path.clone(),
            _t: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for Ref<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.expression())
    }
}

impl<T> Ref<Vec<T>> {
    /// The `i`-th element of a list result.
    pub fn index(mut self, i: usize) -> Ref<T> {
        self.path.push(i.to_string());
        Ref {
            cmd: self.cmd,
            path: self.path,
            _t: PhantomData,
        }
    }
}

/// A field of the generated type `T` whose value is a `U`: what makes a batch reference
/// checked at compile time. Generated result types have one per field, as associated
/// constants named after the field: `cmd.result().get(add::Response::BADGE).get(Badge::CODE)`.
pub struct Key<T, U> {
    name: &'static str,
    _t: PhantomData<fn() -> (T, U)>,
}

impl<T, U> Key<T, U> {
    /// The key of the field `name` (its name on the wire).
    pub const fn new(name: &'static str) -> Self {
        Key {
            name,
            _t: PhantomData,
        }
    }

    /// The field's name on the wire.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

impl<T, U> Clone for Key<T, U> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T, U> Copy for Key<T, U> {}

impl<T, U> std::fmt::Debug for Key<T, U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({:?})", self.name)
    }
}

impl<T> Ref<T> {
    /// A field of a generated result type, checked at compile time: the key must belong to
    /// `T`, and the reference it gives has the field's type.
    pub fn get<U>(self, key: Key<T, U>) -> Ref<U> {
        self.field(key.name)
    }

    /// A field of an object result, of type `U` (as the caller states it): for results the
    /// docs leave untyped; prefer [`Ref::get`].
    pub fn field<U>(mut self, name: &str) -> Ref<U> {
        self.path.push(name.to_owned());
        Ref {
            cmd: self.cmd,
            path: self.path,
            _t: PhantomData,
        }
    }

    /// The reference without its type, to walk into untyped JSON.
    pub fn untyped(self) -> Ref<Value> {
        Ref {
            cmd: self.cmd,
            path: self.path,
            _t: PhantomData,
        }
    }

    /// The server-side expression: `$result[cmd][path…]`.
    pub fn expression(&self) -> String {
        let mut s = format!("$result[{}]", self.cmd);
        for p in &self.path {
            s.push('[');
            s.push_str(p);
            s.push(']');
        }
        s
    }

    /// Puts this reference into the parameter at `param_path` (e.g. `&["fields", "COMPANY_ID"]`).
    pub fn bind(self, param_path: &[&str]) -> Binding {
        Binding {
            param_path: param_path.iter().map(|s| (*s).to_owned()).collect(),
            cmd: self.cmd,
            path: self.path,
        }
    }
}

/// The top-level parameters of a generated request: what [`Params`] checks a command against.
///
/// Generated requests implement it (the `params` flag of [`object!`](crate::object)); each
/// entry is a parameter's wire name and whether the docs require it.
pub trait Parameters {
    /// Every top-level parameter: its wire name and whether it is required.
    const PARAMETERS: &'static [(&'static str, bool)];
}

/// The parameters of one command of method `M`, given one by one: a parameter bound to an
/// earlier result is simply left out of what you write, so no placeholder request is needed.
///
/// ```no_run
/// # async fn demo<A, G>(client: &b24_runtime::Client, add: A) -> Result<(), Box<dyn std::error::Error>>
/// # where A: b24_runtime::Method<Response = b24_runtime::value::Int>,
/// #       G: b24_runtime::Method + b24_runtime::batch::Parameters {
/// use b24_runtime::batch::{Batch, Key, Params};
/// # let id: Key<G, b24_runtime::value::Int> = Key::new("id");
/// let mut batch = Batch::new().halt(true);
/// let added = batch.add(&add)?;
/// // With generated code: `Params::<get::Request>::new().bind(get::Request::ID, added.result())`.
/// let got = batch.add_params(Params::<G>::new().bind(id, added.result()))?;
/// # Ok(()) }
/// ```
///
/// [`Batch::add_params`] refuses the command, naming the parameter, when a parameter the docs
/// require is neither set nor bound as a whole: a binding inside a required parameter that is
/// not set does not count, because the rest of that parameter would be missing.
pub struct Params<M> {
    values: Map<String, Value>,
    bindings: Vec<Binding>,
    error: Option<String>,
    _m: PhantomData<fn() -> M>,
}

impl<M> Clone for Params<M> {
    fn clone(&self) -> Self {
        Params {
            values: self.values.clone(),
            bindings: self.bindings.clone(),
            error: self.error.clone(),
            _m: PhantomData,
        }
    }
}

impl<M> std::fmt::Debug for Params<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Params")
            .field("set", &self.values.keys().collect::<Vec<_>>())
            .field("bindings", &self.bindings)
            .finish_non_exhaustive()
    }
}

impl<M: Method + Parameters> Default for Params<M> {
    fn default() -> Self {
        Params::new()
    }
}

impl<M: Method + Parameters> Params<M> {
    /// No parameter set or bound yet.
    pub fn new() -> Self {
        Params {
            values: Map::new(),
            bindings: Vec::new(),
            error: None,
            _m: PhantomData,
        }
    }

    /// Sets the parameter `key` (a constant of the request, `get::Request::SELECT`) to a value
    /// of its type.
    pub fn set<U: serde::Serialize>(mut self, key: Key<M, U>, value: U) -> Self {
        match serde_json::to_value(&value) {
            Ok(v) => {
                self.values.insert(key.name.to_owned(), v);
            }
            Err(e) => {
                self.error.get_or_insert_with(|| {
                    format!("parameter {:?} does not serialize: {e}", key.name)
                });
            }
        }
        self
    }

    /// Binds the parameter `key` to an earlier result of the same type: `bind(get::Request::ID,
    /// added.result())` compiles only when `added`'s result is what `id` takes.
    pub fn bind<U>(mut self, key: Key<M, U>, value: Ref<U>) -> Self {
        self.bindings.push(value.bind(&[key.name]));
        self
    }

    /// Adds bindings at any parameter path (`added.result().bind(&["fields", "COMPANY_ID"])`),
    /// for places inside a parameter, which have no key.
    pub fn with(mut self, bindings: impl IntoIterator<Item = Binding>) -> Self {
        self.bindings.extend(bindings);
        self
    }

    /// The first required parameter neither set nor bound as a whole.
    fn missing(&self) -> Option<&'static str> {
        M::PARAMETERS
            .iter()
            .filter(|(_, required)| *required)
            .map(|(name, _)| *name)
            .find(|name| {
                !self.values.contains_key(*name)
                    && !self
                        .bindings
                        .iter()
                        .any(|b| b.param_path.len() == 1 && b.param_path[0] == *name)
            })
    }
}

/// A parameter of a command that takes its value from an earlier command's result.
#[derive(Clone, Debug)]
pub struct Binding {
    param_path: Vec<String>,
    cmd: String,
    path: Vec<String>,
}

impl Binding {
    pub(crate) fn new(param_path: Vec<String>, cmd: String, path: Vec<String>) -> Self {
        Binding {
            param_path,
            cmd,
            path,
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct RawCommand {
    pub key: String,
    pub method: String,
    pub access: Access,
    pub params: Value,
    pub bindings: Vec<Binding>,
}

/// A list of commands to run in as few HTTP calls as possible.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    halt: bool,
    commands: Vec<RawCommand>,
    index: HashMap<String, usize>,
}

impl Batch {
    /// An empty batch (`halt` off).
    pub fn new() -> Self {
        Batch::default()
    }

    /// Stop at the first command that fails (`halt=1`).
    pub fn halt(mut self, yes: bool) -> Self {
        self.halt = yes;
        self
    }

    /// The number of commands.
    pub fn len(&self) -> usize {
        self.commands.len()
    }

    /// Whether there are no commands.
    pub fn is_empty(&self) -> bool {
        self.commands.is_empty()
    }

    /// Adds a command with an automatic key.
    pub fn add<M: Method>(&mut self, request: &M) -> Result<Cmd<M>, Error<ApiError>> {
        self.add_with(request, [])
    }

    /// Adds a command with bindings to earlier results.
    pub fn add_with<M: Method>(
        &mut self,
        request: &M,
        bindings: impl IntoIterator<Item = Binding>,
    ) -> Result<Cmd<M>, Error<ApiError>> {
        let key = format!("c{}", self.commands.len());
        self.add_named_with(&key, request, bindings)
    }

    /// Adds a command given as [`Params`] (some parameters bound to earlier results, left out
    /// of what is written), with an automatic key. Refused, naming the parameter, when a
    /// required parameter is neither set nor bound.
    pub fn add_params<M: Method + Parameters>(
        &mut self,
        params: Params<M>,
    ) -> Result<Cmd<M>, Error<ApiError>> {
        let key = format!("c{}", self.commands.len());
        self.add_named_params(&key, params)
    }

    /// [`Batch::add_params`] under a key of your choice.
    pub fn add_named_params<M: Method + Parameters>(
        &mut self,
        key: &str,
        params: Params<M>,
    ) -> Result<Cmd<M>, Error<ApiError>> {
        if let Some(e) = &params.error {
            return Err(Error::InvalidArgument(format!("{}: {e}", M::NAME)));
        }
        if let Some(name) = params.missing() {
            return Err(Error::InvalidArgument(format!(
                "{}: the required parameter {name:?} is neither set nor bound",
                M::NAME
            )));
        }
        self.add_raw::<M>(key, Value::Object(params.values), params.bindings)
    }

    /// Adds a command under a key of your choice (letters, digits, `_`, `-`, `.`).
    pub fn add_named<M: Method>(
        &mut self,
        key: &str,
        request: &M,
    ) -> Result<Cmd<M>, Error<ApiError>> {
        self.add_named_with(key, request, [])
    }

    /// Adds a named command with bindings to earlier results.
    pub fn add_named_with<M: Method>(
        &mut self,
        key: &str,
        request: &M,
        bindings: impl IntoIterator<Item = Binding>,
    ) -> Result<Cmd<M>, Error<ApiError>> {
        let params = serde_json::to_value(request)
            .map_err(|e| Error::InvalidArgument(format!("the parameters do not serialize: {e}")))?;
        self.add_raw::<M>(key, params, bindings.into_iter().collect())
    }

    fn add_raw<M: Method>(
        &mut self,
        key: &str,
        params: Value,
        bindings: Vec<Binding>,
    ) -> Result<Cmd<M>, Error<ApiError>> {
        if M::VERSION != ApiVersion::V2 {
            return Err(Error::InvalidArgument(format!(
                "{} is a REST 3.0 method; batch runs classic methods only",
                M::NAME
            )));
        }
        self.push(RawCommand {
            key: key.to_owned(),
            method: M::NAME.to_owned(),
            access: M::ACCESS,
            params,
            bindings,
        })?;
        Ok(Cmd {
            key: key.to_owned(),
            _m: PhantomData,
        })
    }

    pub(crate) fn push(&mut self, cmd: RawCommand) -> Result<(), Error<ApiError>> {
        let valid_key = !cmd.key.is_empty()
            && cmd
                .key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
            && !cmd.key.bytes().all(|b| b.is_ascii_digit());
        if !valid_key {
            return Err(Error::InvalidArgument(format!(
                "batch key {:?}: use letters, digits, '_', '-', '.' (not only digits)",
                cmd.key
            )));
        }
        if self.index.contains_key(&cmd.key) {
            return Err(Error::InvalidArgument(format!(
                "batch key {:?} is used twice",
                cmd.key
            )));
        }
        if !matches!(cmd.params, Value::Object(_) | Value::Null) {
            return Err(Error::InvalidArgument(
                "the parameters must serialize to a JSON object".into(),
            ));
        }
        for b in &cmd.bindings {
            if !self.index.contains_key(&b.cmd) {
                return Err(Error::InvalidArgument(format!(
                    "a reference to {:?}, which is not an earlier command of this batch",
                    b.cmd
                )));
            }
            if b.param_path.is_empty() {
                return Err(Error::InvalidArgument(
                    "a binding needs a parameter path".into(),
                ));
            }
        }
        self.index.insert(cmd.key.clone(), self.commands.len());
        self.commands.push(cmd);
        Ok(())
    }
}

/// The outcome of one command.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)] // short-lived, one per command
enum Outcome {
    Ok {
        result: Value,
        total: Option<u64>,
        next: Option<u64>,
        time: Option<Time>,
    },
    Err(ApiError),
    NotRun,
}

/// The results of a batch, per command. Its `Debug` output and errors show no secret of the
/// client that ran it.
#[derive(Clone, Default)]
pub struct BatchResults {
    outcomes: HashMap<String, Outcome>,
    redactor: Redactor,
}

impl std::fmt::Debug for BatchResults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        struct Shown<'a>(&'a HashMap<String, Outcome>);
        impl std::fmt::Debug for Shown<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct("BatchResults")
                    .field("outcomes", self.0)
                    .finish_non_exhaustive()
            }
        }
        self.redactor.debug(f, &Shown(&self.outcomes))
    }
}

impl BatchResults {
    /// The decoded result of a command.
    pub fn get<M: Method>(&self, cmd: &Cmd<M>) -> Result<M::Response, Error<M::Error>> {
        self.envelope(cmd).map(|e| e.result)
    }

    /// The decoded result of a command with its `total`, `next` and `time`.
    pub fn envelope<M: Method>(
        &self,
        cmd: &Cmd<M>,
    ) -> Result<Envelope<M::Response>, Error<M::Error>> {
        match self.outcomes.get(&cmd.key) {
            Some(Outcome::Ok {
                result,
                total,
                next,
                time,
            }) => {
                let decoded = M::Response::deserialize(result).map_err(|e| {
                    Error::Decode(
                        DecodeError {
                            status: 200,
                            body: result.to_string(),
                            reason: format!("result of batch command {:?}: {e}", cmd.key),
                        }
                        .redacted(&self.redactor),
                    )
                })?;
                Ok(Envelope {
                    result: decoded,
                    next: *next,
                    total: *total,
                    time: time.clone(),
                })
            }
            Some(Outcome::Err(api)) => Err(classify(api.clone()).typed()),
            Some(Outcome::NotRun) | None => Err(Error::NotRun {
                command: cmd.key.clone(),
            }),
        }
    }

    /// The raw JSON result of a command by key, if it succeeded.
    pub fn raw(&self, key: &str) -> Option<&Value> {
        match self.outcomes.get(key) {
            Some(Outcome::Ok { result, .. }) => Some(result),
            _ => None,
        }
    }

    /// The API error of a command by key, if it failed.
    pub fn error(&self, key: &str) -> Option<&ApiError> {
        match self.outcomes.get(key) {
            Some(Outcome::Err(e)) => Some(e),
            _ => None,
        }
    }

    /// Whether a command ran (successfully or not).
    pub fn ran(&self, key: &str) -> bool {
        matches!(
            self.outcomes.get(key),
            Some(Outcome::Ok { .. } | Outcome::Err(_))
        )
    }

    /// Every failed command's key and error.
    pub fn errors(&self) -> impl Iterator<Item = (&str, &ApiError)> {
        self.outcomes.iter().filter_map(|(k, o)| match o {
            Outcome::Err(e) => Some((k.as_str(), e)),
            _ => None,
        })
    }
}

/// An API error inside a batch, as the runtime would classify it for a single call.
fn classify(api: ApiError) -> Error<ApiError> {
    match api.code() {
        "QUERY_LIMIT_EXCEEDED" => Error::QueryLimitExceeded(api),
        "OPERATION_TIME_LIMIT" => Error::OperationTimeLimit(api),
        "expired_token" => Error::ExpiredToken(api),
        code if crate::error::RUNTIME_CODES.contains(&code) => Error::Auth(api),
        _ => Error::Method(api),
    }
}

#[derive(Deserialize)]
struct Wire {
    #[serde(default)]
    result: Value,
    #[serde(default)]
    result_error: Value,
    #[serde(default)]
    result_total: Value,
    #[serde(default)]
    result_next: Value,
    #[serde(default)]
    result_time: Value,
}

/// A PHP array as a map: objects stay, lists are keyed by index, anything else is empty.
fn as_map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        _ => Map::new(),
    }
}

fn as_u64(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Follows `path` (object keys or list indexes) into `v`.
pub(crate) fn lookup<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(v, |cur, seg| match cur {
        Value::Object(m) => m.get(seg),
        Value::Array(items) => seg.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// Sets `path` in a JSON object, creating objects on the way.
fn set_path(target: &mut Value, path: &[String], value: Value) {
    let Some((last, init)) = path.split_last() else {
        return;
    };
    let mut cur = target;
    for seg in init {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let Value::Object(m) = cur else { return };
        cur = m
            .entry(seg.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if !cur.is_object() {
        *cur = Value::Object(Map::new());
    }
    if let Value::Object(m) = cur {
        m.insert(last.clone(), value);
    }
}

impl Client {
    /// Runs a batch: chunks of up to 50 commands, one HTTP call each, in order.
    ///
    /// The call fails as a whole only when a chunk's HTTP call fails; errors of single
    /// commands are in the results. A command the server refused without running it
    /// (`OPERATION_TIME_LIMIT`, `QUERY_LIMIT_EXCEEDED`) is sent again in the next chunk, after
    /// the method's time budget is released, together with the commands a `halt` kept from
    /// running after it; at most [`RetryPolicy::max_limit_retries`](crate::RetryPolicy) times.
    pub async fn batch(&self, batch: &Batch) -> Result<BatchResults, Error<ApiError>> {
        let mut results = BatchResults {
            outcomes: HashMap::new(),
            redactor: self.redactor().clone(),
        };
        let mut halted = false;
        let mut pending: VecDeque<&RawCommand> = batch.commands.iter().collect();
        let mut resends = 0;
        while !pending.is_empty() {
            let chunk: Vec<&RawCommand> =
                pending.drain(..pending.len().min(MAX_COMMANDS)).collect();
            let mut cmd = Map::new();
            let mut methods: HashMap<&str, &str> = HashMap::new();
            let mut access = Access::Read;
            for &c in &chunk {
                let Some(params) = (!halted)
                    .then(|| self.resolve(c, &chunk, &results))
                    .flatten()
                else {
                    results.outcomes.insert(c.key.clone(), Outcome::NotRun);
                    continue;
                };
                let query = http_build_query(&params);
                let line = if query.is_empty() {
                    c.method.clone()
                } else {
                    format!("{}?{}", c.method, query)
                };
                cmd.insert(c.key.clone(), Value::String(line));
                methods.insert(c.key.as_str(), c.method.as_str());
                if c.access == Access::Write {
                    access = Access::Write;
                }
            }
            if cmd.is_empty() {
                continue;
            }
            for method in methods.values() {
                self.wait_for_budget(method).await?;
            }
            let sent: Vec<String> = cmd.keys().cloned().collect();
            let body =
                serde_json::json!({ "halt": u8::from(batch.halt), "cmd": Value::Object(cmd) });
            let params = crate::client::params_bytes(&body)?;
            let target = Target {
                name: "batch",
                version: ApiVersion::V2,
                access,
            };
            let env = self
                .execute::<Wire>(target, params, &CallOptions::default())
                .await?;
            let wire = env.result;
            let mut ok = as_map(wire.result);
            let errors = as_map(wire.result_error);
            let totals = as_map(wire.result_total);
            let nexts = as_map(wire.result_next);
            let mut times = as_map(wire.result_time);
            let may_resend = resends < self.retry_policy().max_limit_retries;
            // Commands proven not run, to send again: the refused ones and what `halt` skipped
            // after the first refusal.
            let mut again: Vec<&str> = Vec::new();
            // Methods refused for their time budget, with the refusal's time.
            let mut spent: Vec<(&str, Option<Time>)> = Vec::new();
            for key in &sent {
                let time: Option<Time> = times
                    .remove(key)
                    .and_then(|t| serde_json::from_value(t).ok());
                if let (Some(t), Some(m)) = (&time, methods.get(key.as_str())) {
                    self.record_budget(m, t);
                }
                let outcome = if let Some(e) = errors.get(key) {
                    let code = e.get("error").map(text).unwrap_or_default();
                    let description = e.get("error_description").map(text).unwrap_or_default();
                    let api = ApiError::new(200, code, description, e.to_string())
                        .redacted(self.redactor());
                    if api.code() == "OPERATION_TIME_LIMIT" {
                        if let Some(m) = methods.get(key.as_str()) {
                            spent.push((m, time));
                        }
                    }
                    if may_resend && is_refusal(api.code()) {
                        again.push(key);
                    } else {
                        halted |= batch.halt;
                    }
                    Outcome::Err(api)
                } else if let Some(r) = ok.remove(key) {
                    Outcome::Ok {
                        result: r,
                        total: as_u64(totals.get(key)),
                        next: as_u64(nexts.get(key)),
                        time,
                    }
                } else {
                    // With `halt`, commands after the failing one are simply absent.
                    if batch.halt && !again.is_empty() && !halted {
                        again.push(key);
                    }
                    Outcome::NotRun
                };
                results.outcomes.insert(key.clone(), outcome);
            }
            // After every command's time is recorded, so that a later success of the same
            // method in this answer does not lift the pause.
            for (method, time) in &spent {
                self.note_operating_limit(method, time.as_ref());
            }
            if !again.is_empty() {
                resends += 1;
                let by_key: HashMap<&str, &RawCommand> =
                    chunk.iter().map(|c| (c.key.as_str(), *c)).collect();
                for key in again.iter().rev() {
                    if let Some(c) = by_key.get(*key) {
                        pending.push_front(c);
                    }
                }
            }
        }
        Ok(results)
    }

    /// The parameters of a command with its bindings filled in: references within the same
    /// chunk become `$result[…]` expressions; references to earlier chunks become the values.
    /// `None` when a referenced command did not succeed.
    fn resolve(&self, c: &RawCommand, chunk: &[&RawCommand], done: &BatchResults) -> Option<Value> {
        let mut params = match &c.params {
            Value::Null => Value::Object(Map::new()),
            p => p.clone(),
        };
        for b in &c.bindings {
            let value = if chunk.iter().any(|o| o.key == b.cmd) {
                let mut expr = format!("$result[{}]", b.cmd);
                for p in &b.path {
                    expr.push_str(&format!("[{p}]"));
                }
                Value::String(expr)
            } else {
                lookup(done.raw(&b.cmd)?, &b.path)?.clone()
            };
            set_path(&mut params, &b.param_path, value);
        }
        Some(params)
    }
}

/// Errors that prove the server did not run the command.
fn is_refusal(code: &str) -> bool {
    matches!(code, "OPERATION_TIME_LIMIT" | "QUERY_LIMIT_EXCEEDED")
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn set_and_lookup_paths() {
        let mut v = json!({"fields": {"A": 1}});
        set_path(&mut v, &["fields".into(), "B".into()], json!(2));
        set_path(&mut v, &["filter".into(), ">ID".into()], json!("$x"));
        assert_eq!(
            v,
            json!({"fields": {"A": 1, "B": 2}, "filter": {">ID": "$x"}})
        );
        let r = json!({"items": [{"id": 5}]});
        assert_eq!(
            lookup(&r, &["items".into(), "0".into(), "id".into()]),
            Some(&json!(5))
        );
        assert_eq!(lookup(&r, &["items".into(), "1".into()]), None);
    }

    #[test]
    fn lists_become_maps() {
        assert_eq!(as_map(json!([])), Map::new());
        assert_eq!(as_map(json!(["a"])).get("0"), Some(&json!("a")));
    }
}
