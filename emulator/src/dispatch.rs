//! Running one method call: the operating budget, validation against the docs, the simulated
//! processing time, then the family store or the documented answer.

use b24_codegen::model::{ApiVersion, Method, Scalar, Type};
use serde_json::{json, Map, Value};

use crate::auth::Caller;
use crate::errors::documented;
use crate::family::example_result;
use crate::limits::Operating;
use crate::reply::{ApiError, CallTime, Outcome, Success};
use crate::state::Shared;
use crate::store::Context;
use crate::validate::validate;

/// Runs `name` for `caller`. Never panics; every failure is an error outcome.
pub(crate) async fn call(
    shared: &Shared,
    caller: &Caller,
    version: ApiVersion,
    name: &str,
    params: &Map<String, Value>,
) -> Outcome {
    let (start, limit, processing, operating_before) = {
        let mut inner = shared.lock();
        let now = inner.clock.now();
        let status = inner
            .budget
            .status(&caller.key, &name.to_ascii_lowercase(), now);
        (
            now,
            inner.limits.operating_limit,
            inner.processing_time(name),
            status,
        )
    };
    let refuse = |error: ApiError, operating: Option<Operating>| Outcome {
        reply: Err(error),
        time: CallTime {
            start,
            finish: start,
            processing: 0.0,
            operating,
        },
    };

    let Some(index) = shared.method_index(name, version) else {
        return refuse(ApiError::method_not_found(), None);
    };
    let Some(method) = shared.api.methods.get(index) else {
        return refuse(ApiError::method_not_found(), None);
    };
    if limit.is_some_and(|limit| operating_before.operating > limit) {
        shared.lock().stats.operation_time_limit += 1;
        return refuse(ApiError::operation_time_limit(), Some(operating_before));
    }
    if let Err(failure) = validate(method, params, &shared.api.types) {
        shared.lock().stats.invalid_params += 1;
        return refuse(documented(method, &failure), Some(operating_before));
    }

    if processing > 0.0 {
        let wait = shared.lock().clock.real_duration(processing);
        tokio::time::sleep(wait).await;
    }

    let mut inner = shared.lock();
    let app_call = shared.apps.call(shared, &mut inner, name, params);
    let reply = match (app_call, shared.family_op(index)) {
        (Some(answer), _) => answer,
        (None, Some((family_index, op))) => {
            let context = Context {
                now: inner.clock.wall_time(inner.clock.now()),
                user: caller.user.clone(),
            };
            let reply = inner
                .store
                .run(&shared.families, family_index, op, params, &context)
                .map_err(|failure| documented(method, &failure));
            if let (Ok(done), Some(family)) = (&reply, shared.families.get(family_index)) {
                shared
                    .apps
                    .changed(shared, &mut inner, family, op, params, done);
            }
            reply
        }
        (None, None) => Ok(documented_answer(method)),
    };
    inner.record_run(&method.name, params, &shared.server);
    let finish = inner.clock.now().max(start + processing);
    let operating = inner.budget.record(
        &caller.key,
        &name.to_ascii_lowercase(),
        start,
        processing,
        finish,
    );
    Outcome {
        reply,
        time: CallTime {
            start,
            finish,
            processing,
            operating: Some(operating),
        },
    }
}

/// The documented response example, or a value of the documented result type.
fn documented_answer(method: &Method) -> Success {
    let example = method
        .examples
        .iter()
        .filter(|e| e.kind == b24_codegen::model::ExampleKind::Response)
        .find_map(|e| e.json.as_ref().filter(|j| j.get("result").is_some()));
    match example {
        Some(json) => Success {
            result: example_result(method).cloned().unwrap_or(Value::Null),
            total: json.get("total").and_then(Value::as_u64),
            next: json.get("next").and_then(Value::as_u64),
        },
        None => Success::plain(sample(&method.result, 0)),
    }
}

/// A plausible value of a type, for methods documented without an example.
fn sample(ty: &Type, depth: usize) -> Value {
    if depth > 4 {
        return Value::Null;
    }
    match ty {
        Type::Scalar { scalar } => match scalar {
            Scalar::Integer | Scalar::Timestamp => json!(1),
            Scalar::Double => json!(1.0),
            Scalar::String => json!(""),
            Scalar::Boolean => json!(true),
            Scalar::YesNo => json!("Y"),
            Scalar::Date => json!("2024-01-01"),
            Scalar::DateTime => json!("2024-01-01T00:00:00+00:00"),
            Scalar::File | Scalar::Any => Value::Null,
        },
        Type::Array { .. } => json!([]),
        Type::Union { variants } => variants
            .first()
            .map_or(Value::Null, |v| sample(v, depth + 1)),
        Type::Nullable { .. } | Type::Untyped { .. } => Value::Null,
        Type::Object { fields } => Value::Object(
            fields
                .iter()
                .map(|f| (f.api_name.clone(), sample(&f.ty, depth + 1)))
                .collect(),
        ),
        Type::Map { .. } | Type::Ref { .. } => json!({}),
    }
}
