//! `batch`: up to 50 commands `method?query` in one request, run in order, with `halt` and
//! references to earlier results (`$result[cmd][path]`, `$result_next[cmd]`, `$result_total[cmd]`).

use b24_codegen::model::ApiVersion;
use serde_json::{Map, Value};

use crate::auth::Caller;
use crate::dispatch;
use crate::params::{as_flag, parse_query, php_array};
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
                let earlier = Earlier {
                    results: &results,
                    nexts: &nexts,
                    totals: &totals,
                    errors: &errors,
                };
                for value in sub_params.values_mut() {
                    earlier.substitute(value);
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
}

impl Earlier<'_> {
    /// Replaces references in every string of `value`.
    fn substitute(&self, value: &mut Value) {
        match value {
            Value::String(s) => {
                if let Some(replaced) = self.resolve_text(s) {
                    *value = replaced;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.substitute(v)),
            Value::Object(map) => map.values_mut().for_each(|v| self.substitute(v)),
            _ => {}
        }
    }

    /// A string that is one reference becomes the referenced value; references inside longer
    /// text are replaced by their text. A reference to nothing (an earlier command that failed,
    /// a page shorter than the index) becomes an empty string, as on the server.
    fn resolve_text(&self, text: &str) -> Option<Value> {
        if !text.contains('$') {
            return None;
        }
        if let Some((value, rest)) = self.reference_at(text) {
            if rest.is_empty() {
                return Some(value.unwrap_or_else(|| Value::String(String::new())));
            }
        }
        let mut out = String::new();
        let mut rest = text;
        let mut changed = false;
        while let Some(pos) = rest.find('$') {
            out.push_str(&rest[..pos]);
            match self.reference_at(&rest[pos..]) {
                Some((value, after)) => {
                    out.push_str(&value.as_ref().map(scalar_text).unwrap_or_default());
                    rest = after;
                    changed = true;
                }
                None => {
                    out.push('$');
                    rest = &rest[pos + 1..];
                }
            }
        }
        out.push_str(rest);
        changed.then_some(Value::String(out))
    }

    /// Reads `$result[...]...` at the start of `text`: the value (`None` when the reference
    /// leads nowhere) and the text after it. `None` when `text` does not start with a reference.
    fn reference_at<'t>(&self, text: &'t str) -> Option<(Option<Value>, &'t str)> {
        let body = text.strip_prefix('$')?;
        let (source, mut rest) = [
            ("result_error", self.errors),
            ("result_total", self.totals),
            ("result_next", self.nexts),
            ("result", self.results),
        ]
        .into_iter()
        .find_map(|(name, map)| {
            body.strip_prefix(name)
                .filter(|r| r.starts_with('['))
                .map(|r| (map, r))
        })?;
        let mut segments = Vec::new();
        while let Some(inner) = rest.strip_prefix('[') {
            let close = inner.find(']')?;
            segments.push(&inner[..close]);
            rest = &inner[close + 1..];
        }
        let (first, path) = segments.split_first()?;
        Some((lookup(source.get(*first), path), rest))
    }
}

fn lookup(start: Option<&Value>, path: &[&str]) -> Option<Value> {
    let mut current = start?;
    for segment in path {
        current = match current {
            Value::Object(map) => map.get(*segment)?,
            Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(current.clone())
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
