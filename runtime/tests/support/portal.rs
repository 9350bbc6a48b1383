//! A tiny stateful portal for batch, paging and export tests: a record store behind
//! `test.record.*` / `test.item.list` / `test.stuck.list`, and `batch` with `$result[…]`
//! references resolved the way the real server does (after `parse_str`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use b24_runtime::query::parse_query;
use serde_json::{json, Map, Value};

use super::{err, now, Recorded, Reply, Server};

#[derive(Default)]
pub struct Store {
    pub records: BTreeMap<i64, Value>,
    pub next_id: i64,
    /// How many times each method ran (inside batches too).
    pub runs: BTreeMap<String, usize>,
    /// Records inserted before each list call runs: a portal that grows while it is read.
    pub added_per_list: usize,
    /// How many of the next `test.record.add` calls are refused, unrun, with
    /// `OPERATION_TIME_LIMIT` (the budget is released 0.3 s later).
    pub refuse_adds: usize,
}

impl Store {
    pub fn with_records(n: i64) -> Store {
        let mut s = Store::default();
        for _ in 0..n {
            s.insert();
        }
        s
    }

    pub fn insert(&mut self) -> i64 {
        self.next_id += 1;
        let id = self.next_id;
        self.records.insert(
            id,
            json!({"ID": id.to_string(), "TITLE": format!("record {id}")}),
        );
        id
    }
}

pub type Shared = Arc<Mutex<Store>>;

pub async fn start(store: Shared) -> (Server, Arc<AtomicUsize>) {
    let batches = Arc::new(AtomicUsize::new(0));
    let server = {
        let batches = batches.clone();
        Server::start(move |r: &Recorded| {
            let method = r.rest_method();
            let params = r.json();
            if method == "batch" {
                batches.fetch_add(1, Ordering::SeqCst);
                return Reply::Json(
                    200,
                    json!({"result": run_batch(&store, &params), "time": {"operating": 0.0}}),
                );
            }
            match run(&store, &method, &params) {
                Ok((result, next, total)) => {
                    let mut env =
                        json!({"result": result, "time": {"start": now(), "operating": 0.01}});
                    if let Some(n) = next {
                        env["next"] = json!(n);
                    }
                    if let Some(t) = total {
                        env["total"] = json!(t);
                    }
                    Reply::Json(200, env)
                }
                Err((code, description)) => err(400, code, &description),
            }
        })
        .await
    };
    (server, batches)
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

type Outcome = Result<(Value, Option<i64>, Option<i64>), (&'static str, String)>;

fn run(store: &Shared, method: &str, p: &Value) -> Outcome {
    let mut st = store.lock().expect("store");
    if method == "test.record.add" && st.refuse_adds > 0 {
        st.refuse_adds -= 1;
        return Err((
            "OPERATION_TIME_LIMIT",
            "Method is blocked due to operation time limit.".to_owned(),
        ));
    }
    *st.runs.entry(method.to_owned()).or_default() += 1;
    match method {
        "test.record.add" => {
            let id = st.insert();
            if let Some(Value::Object(f)) = p.get("fields") {
                if let Some(Value::Object(rec)) = st.records.get_mut(&id) {
                    for (k, v) in f {
                        rec.insert(k.clone(), v.clone());
                    }
                }
            }
            Ok((json!(id), None, None))
        }
        "test.record.get" => {
            let id = p
                .get("id")
                .and_then(int)
                .ok_or(("REQUIRED_ARG_MISSING", "id".to_owned()))?;
            st.records
                .get(&id)
                .cloned()
                .map(|r| (r, None, None))
                .ok_or(("NOT_FOUND", format!("record {id} not found")))
        }
        "test.record.list" | "test.item.list" | "test.stuck.list" => {
            for _ in 0..st.added_per_list {
                st.insert();
            }
            let filter = p.get("filter").cloned().unwrap_or(json!({}));
            let lower_key = if method == "test.item.list" {
                "id"
            } else {
                "ID"
            };
            let after = filter
                .get(format!(">{lower_key}"))
                .map(|v| int(v).unwrap_or(0));
            let upto = filter.get(format!("<={lower_key}")).and_then(int);
            let desc = p
                .get("order")
                .and_then(|o| o.get(lower_key))
                .and_then(Value::as_str)
                .is_some_and(|d| d.eq_ignore_ascii_case("desc"));
            let start = p.get("start").and_then(int).unwrap_or(0);
            let stuck = method == "test.stuck.list";
            let matching: Vec<&Value> = st
                .records
                .iter()
                .filter(|(id, _)| {
                    stuck || (after.map_or(true, |a| **id > a) && upto.map_or(true, |u| **id <= u))
                })
                .map(|(_, r)| r)
                .collect();
            let ordered: Vec<&Value> = if desc {
                matching.into_iter().rev().collect()
            } else {
                matching
            };
            let skip = if start < 0 { 0 } else { start as usize };
            let page: Vec<Value> = ordered
                .iter()
                .skip(skip)
                .take(50)
                .map(|r| (*r).clone())
                .collect();
            let total = ordered.len() as i64;
            let next = (start >= 0 && (skip + 50) < ordered.len()).then_some(skip as i64 + 50);
            if method == "test.item.list" {
                let items: Vec<Value> = page
                    .into_iter()
                    .map(|r| json!({"id": int(&r["ID"]), "title": r["TITLE"]}))
                    .collect();
                Ok((json!({"items": items}), next, (start >= 0).then_some(total)))
            } else {
                Ok((Value::Array(page), next, (start >= 0).then_some(total)))
            }
        }
        _ => Err((
            "ERROR_METHOD_NOT_FOUND",
            format!("Method {method} not found"),
        )),
    }
}

/// Replaces `$result[cmd][path…]` strings by the referenced value (left as is when missing).
fn resolve(v: &mut Value, results: &Map<String, Value>) {
    match v {
        Value::String(s) if s.starts_with("$result[") => {
            let mut segs = Vec::new();
            let mut rest = &s["$result".len()..];
            while let Some(stripped) = rest.strip_prefix('[') {
                let Some(end) = stripped.find(']') else { break };
                segs.push(stripped[..end].to_owned());
                rest = &stripped[end + 1..];
            }
            let found = segs.split_first().and_then(|(cmd, path)| {
                path.iter()
                    .try_fold(results.get(cmd)?, |cur, seg| match cur {
                        Value::Object(m) => m.get(seg),
                        Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
                        _ => None,
                    })
            });
            if let Some(found) = found {
                *v = match found {
                    Value::String(s) => Value::String(s.clone()),
                    other => Value::String(other.to_string()),
                };
            }
        }
        Value::Object(m) => m.values_mut().for_each(|x| resolve(x, results)),
        Value::Array(a) => a.iter_mut().for_each(|x| resolve(x, results)),
        _ => {}
    }
}

fn run_batch(store: &Shared, params: &Value) -> Value {
    let halt = params.get("halt").and_then(int).unwrap_or(0) != 0;
    let mut result = Map::new();
    let mut errors = Map::new();
    let mut totals = Map::new();
    let mut nexts = Map::new();
    let mut times = Map::new();
    if let Some(Value::Object(cmd)) = params.get("cmd") {
        for (key, line) in cmd {
            let line = line.as_str().unwrap_or("");
            let (method, query) = line.split_once('?').unwrap_or((line, ""));
            let mut p = parse_query(query);
            resolve(&mut p, &result);
            match run(store, method, &p) {
                Ok((r, next, total)) => {
                    result.insert(key.clone(), r);
                    if let Some(t) = total {
                        totals.insert(key.clone(), json!(t));
                    }
                    if let Some(n) = next {
                        nexts.insert(key.clone(), json!(n));
                    }
                    times.insert(
                        key.clone(),
                        json!({"operating": 0.01, "operating_reset_at": now() + 600.0}),
                    );
                }
                Err((code, description)) => {
                    if code == "OPERATION_TIME_LIMIT" {
                        times.insert(
                            key.clone(),
                            json!({"operating": 480.5, "operating_reset_at": now() + 0.3}),
                        );
                    }
                    errors.insert(
                        key.clone(),
                        json!({"error": code, "error_description": description}),
                    );
                    if halt {
                        break;
                    }
                }
            }
        }
    }
    // PHP sends empty arrays as `[]`.
    let php = |m: Map<String, Value>| {
        if m.is_empty() {
            json!([])
        } else {
            Value::Object(m)
        }
    };
    json!({
        "result": php(result),
        "result_error": php(errors),
        "result_total": php(totals),
        "result_next": php(nexts),
        "result_time": php(times),
    })
}
