//! `batch`: up to 50 commands `method?query` in one request, run in order, with `halt` and
//! references to earlier results (`$result[cmd][path]`, `$result_next[cmd]`, `$result_total[cmd]`).

use std::cell::Cell;

use b24_codegen::model::ApiVersion;
use serde_json::{Map, Value};

use crate::auth::Caller;
use crate::dispatch;
use crate::params::{as_flag, parse_query, php_array};
use crate::received::json_len;
use crate::reply::{ApiError, CallTime, Outcome, Success};
use crate::state::Shared;

/// The most commands one batch runs.
pub(crate) const MAX_COMMANDS: usize = 50;

/// The name of the batch method.
pub(crate) const METHOD: &str = "batch";

/// Runs a batch for `caller`. The batch itself is not counted in `operating`; each command is.
pub(crate) async fn run(shared: &Shared, caller: &Caller, params: &Map<String, Value>) -> Outcome {
    let start = shared.lock().clock.now();
    let commands: Vec<(String, String)> = match params.get("cmd") {
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| (k.clone(), command_text(v)))
            .collect(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), command_text(v)))
            .collect(),
        _ => {
            return Outcome {
                reply: Err(ApiError::new(
                    400,
                    "REQUIRED_ARG_MISSING",
                    "Required parameter \"cmd\" is missing",
                )),
                time: CallTime {
                    start,
                    finish: start,
                    processing: 0.0,
                    operating: None,
                },
            }
        }
    };
    let halt = params.get("halt").and_then(as_flag).unwrap_or(false);
    // One reference can copy a large earlier result, many times over: what all references of
    // the batch copy is bounded like a request body.
    let mut budget = shared.server.max_body_bytes;

    let mut results = Map::new();
    let mut errors = Map::new();
    let mut totals = Map::new();
    let mut nexts = Map::new();
    let mut times = Map::new();
    for (position, (key, command)) in commands.iter().enumerate() {
        let error = if position >= MAX_COMMANDS {
            Some(ApiError::new(
                400,
                "ERROR_BATCH_LENGTH_EXCEEDED",
                "Max batch length exceeded",
            ))
        } else {
            let (method, query) = command.split_once('?').unwrap_or((command.as_str(), ""));
            let method = method.trim().trim_end_matches(".json");
            if method.eq_ignore_ascii_case(METHOD) {
                Some(ApiError::new(
                    405,
                    "ERROR_BATCH_METHOD_NOT_ALLOWED",
                    "Method is not allowed for batch usage",
                ))
            } else {
                let mut sub_params = parse_query(query.as_bytes());
                let substituted = {
                    let earlier = Earlier {
                        results: &results,
                        nexts: &nexts,
                        totals: &totals,
                        errors: &errors,
                        budget: Cell::new(budget),
                    };
                    let done = sub_params
                        .values_mut()
                        .try_for_each(|value| earlier.substitute(value));
                    budget = earlier.budget.get();
                    done
                };
                if substituted.is_err() {
                    errors.insert(key.clone(), references_too_large(shared).v2_body());
                    if halt {
                        break;
                    }
                    continue;
                }
                let outcome =
                    dispatch::call(shared, caller, ApiVersion::V2, method, &sub_params).await;
                let clock = shared.lock().clock.clone();
                times.insert(key.clone(), outcome.time.to_json(&clock));
                match outcome.reply {
                    Ok(Success {
                        result,
                        total,
                        next,
                    }) => {
                        results.insert(key.clone(), result);
                        if let Some(total) = total {
                            totals.insert(key.clone(), total.into());
                        }
                        if let Some(next) = next {
                            nexts.insert(key.clone(), next.into());
                        }
                        None
                    }
                    Err(e) => Some(e),
                }
            }
        };
        if let Some(error) = error {
            errors.insert(key.clone(), error.v2_body());
            if halt {
                break;
            }
        }
    }

    let mut result = Map::new();
    result.insert("result".into(), php_array(results));
    result.insert("result_error".into(), php_array(errors));
    result.insert("result_total".into(), php_array(totals));
    result.insert("result_next".into(), php_array(nexts));
    result.insert("result_time".into(), php_array(times));
    let finish = shared.lock().clock.now();
    Outcome {
        reply: Ok(Success::plain(Value::Object(result))),
        time: CallTime {
            start,
            finish,
            processing: 0.0,
            operating: None,
        },
    }
}

fn references_too_large(shared: &Shared) -> ApiError {
    ApiError::new(
        400,
        "ERROR_BATCH_LENGTH_EXCEEDED",
        format!(
            "References of the batch expand to more than {} bytes",
            shared.server.max_body_bytes
        ),
    )
}

fn command_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The results of the commands run so far, for references.
struct Earlier<'a> {
    results: &'a Map<String, Value>,
    nexts: &'a Map<String, Value>,
    totals: &'a Map<String, Value>,
    errors: &'a Map<String, Value>,
    /// The bytes (as JSON) references may still copy in this batch.
    budget: Cell<usize>,
}

/// References copy more than the batch's budget.
struct OverBudget;

impl<'a> Earlier<'a> {
    /// Replaces references in every string of `value`.
    fn substitute(&self, value: &mut Value) -> Result<(), OverBudget> {
        match value {
            Value::String(s) => {
                if let Some(replaced) = self.resolve_text(s)? {
                    *value = replaced;
                }
            }
            Value::Array(items) => items.iter_mut().try_for_each(|v| self.substitute(v))?,
            Value::Object(map) => map.values_mut().try_for_each(|v| self.substitute(v))?,
            _ => {}
        }
        Ok(())
    }

    /// Takes the size of `value` from the budget, before it is copied.
    fn spend(&self, value: &Value) -> Result<(), OverBudget> {
        let left = self
            .budget
            .get()
            .checked_sub(json_len(value))
            .ok_or(OverBudget)?;
        self.budget.set(left);
        Ok(())
    }

    /// A string that is one reference becomes the referenced value; references inside longer
    /// text are replaced by their text. A reference to nothing (an earlier command that failed,
    /// a page shorter than the index) becomes an empty string, as on the server.
    fn resolve_text(&self, text: &str) -> Result<Option<Value>, OverBudget> {
        if !text.contains('$') {
            return Ok(None);
        }
        if let Some((value, rest)) = text.strip_prefix('$').and_then(|t| self.reference(t)) {
            if rest.is_empty() {
                let Some(value) = value else {
                    return Ok(Some(Value::String(String::new())));
                };
                self.spend(value)?;
                return Ok(Some(value.clone()));
            }
        }
        let mut out = String::new();
        let mut rest = text;
        let mut changed = false;
        while let Some((before, after)) = rest.split_once('$') {
            out.push_str(before);
            match self.reference(after) {
                Some((value, next)) => {
                    if let Some(value) = value {
                        self.spend(value)?;
                        out.push_str(&scalar_text(value));
                    }
                    rest = next;
                    changed = true;
                }
                None => {
                    out.push('$');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        Ok(changed.then_some(Value::String(out)))
    }

    /// Reads `result[...]...` (what follows a `$`) at the start of `text`: the value (`None`
    /// when the reference leads nowhere) and the text after it. `None` when `text` does not
    /// start with a reference.
    fn reference<'t>(&self, text: &'t str) -> Option<(Option<&'a Value>, &'t str)> {
        let (source, mut rest) = [
            ("result_error", self.errors),
            ("result_total", self.totals),
            ("result_next", self.nexts),
            ("result", self.results),
        ]
        .into_iter()
        .find_map(|(name, map)| {
            text.strip_prefix(name)
                .filter(|r| r.starts_with('['))
                .map(|r| (map, r))
        })?;
        let mut segments = Vec::new();
        while let Some(inner) = rest.strip_prefix('[') {
            let (segment, after) = inner.split_once(']')?;
            segments.push(segment);
            rest = after;
        }
        let (first, path) = segments.split_first()?;
        Some((lookup(source.get(*first), path), rest))
    }
}

fn lookup<'v>(start: Option<&'v Value>, path: &[&str]) -> Option<&'v Value> {
    let mut current = start?;
    for segment in path {
        current = match current {
            Value::Object(map) => map.get(*segment)?,
            Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(current)
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(true) => "1".into(),
        Value::Bool(false) => String::new(),
        other => other.to_string(),
    }
}
