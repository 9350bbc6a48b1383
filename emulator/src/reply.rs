//! What a method call produced, and how it goes on the wire in REST 2 and REST 3.0.

use serde_json::{json, Map, Value};

use crate::clock::{iso8601, Clock};
use crate::limits::Operating;

/// An error answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    /// The code in `error` (REST 2) or `error.code` (REST 3.0).
    pub(crate) code: String,
    /// The text in `error_description` / `error.message`.
    pub(crate) description: String,
    /// The HTTP status.
    pub(crate) status: u16,
    /// REST 3.0 validation details: (field, message).
    pub(crate) validation: Vec<(String, String)>,
    /// Whether REST 2 sends the code as a number: a page whose error example writes its
    /// meaningless code as the number `0` gets `0`, not `"0"`.
    pub(crate) numeric_code: bool,
}

impl ApiError {
    pub(crate) fn new(
        status: u16,
        code: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        ApiError {
            code: code.into(),
            description: description.into(),
            status,
            validation: Vec::new(),
            numeric_code: false,
        }
    }

    pub(crate) fn method_not_found() -> Self {
        ApiError::new(404, "ERROR_METHOD_NOT_FOUND", "Method not found!")
    }

    pub(crate) fn query_limit_exceeded() -> Self {
        ApiError::new(503, "QUERY_LIMIT_EXCEEDED", "Too many requests")
    }

    pub(crate) fn operation_time_limit() -> Self {
        ApiError::new(
            429,
            "OPERATION_TIME_LIMIT",
            "Method is blocked due to operation time limit.",
        )
    }

    pub(crate) fn no_auth() -> Self {
        ApiError::new(401, "NO_AUTH_FOUND", "Wrong authorization data")
    }

    /// The REST 2 body: `{"error": ..., "error_description": ...}`.
    pub(crate) fn v2_body(&self) -> Value {
        let code = match self.code.parse::<i64>() {
            Ok(n) if self.numeric_code => json!(n),
            _ => json!(self.code),
        };
        json!({"error": code, "error_description": self.description})
    }

    /// The REST 3.0 body: `{"error": {"code", "message", "validation"?}}`.
    pub(crate) fn v3_body(&self) -> Value {
        let mut error = Map::new();
        error.insert("code".into(), json!(self.code));
        error.insert("message".into(), json!(self.description));
        if !self.validation.is_empty() {
            let items = self
                .validation
                .iter()
                .map(|(field, message)| json!({"message": message, "field": field}))
                .collect();
            error.insert("validation".into(), Value::Array(items));
        }
        json!({ "error": error })
    }
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Success {
    pub(crate) result: Value,
    /// `total` of a list page (absent with `start=-1`).
    pub(crate) total: Option<u64>,
    /// `next` of a list page, when there is a next page.
    pub(crate) next: Option<u64>,
}

impl Success {
    pub(crate) fn plain(result: Value) -> Self {
        Success {
            result,
            total: None,
            next: None,
        }
    }
}

/// Timing of one call, in emulated seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CallTime {
    pub(crate) start: f64,
    pub(crate) finish: f64,
    pub(crate) processing: f64,
    pub(crate) operating: Option<Operating>,
}

impl CallTime {
    /// The `time` object: wall-clock timestamps, emulated durations.
    pub(crate) fn to_json(self, clock: &Clock) -> Value {
        let start = clock.wall_time(self.start);
        let finish = clock.wall_time(self.finish);
        let mut time = Map::new();
        time.insert("start".into(), json!(start));
        time.insert("finish".into(), json!(finish));
        time.insert("duration".into(), json!(self.finish - self.start));
        time.insert("processing".into(), json!(self.processing));
        time.insert("date_start".into(), json!(iso8601(start)));
        time.insert("date_finish".into(), json!(iso8601(finish)));
        if let Some(op) = self.operating {
            let reset = op.reset_at.unwrap_or(self.finish + 600.0);
            time.insert(
                "operating_reset_at".into(),
                json!(clock.wall_time(reset).ceil() as i64),
            );
            time.insert("operating".into(), json!(op.operating));
        }
        Value::Object(time)
    }
}

/// The outcome of one method call.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Outcome {
    pub(crate) reply: Result<Success, ApiError>,
    pub(crate) time: CallTime,
}

impl Outcome {
    /// The REST 2 body and status.
    pub(crate) fn v2(&self, clock: &Clock) -> (u16, Value) {
        match &self.reply {
            Ok(ok) => {
                let mut body = Map::new();
                body.insert("result".into(), ok.result.clone());
                if let Some(next) = ok.next {
                    body.insert("next".into(), json!(next));
                }
                if let Some(total) = ok.total {
                    body.insert("total".into(), json!(total));
                }
                body.insert("time".into(), self.time.to_json(clock));
                (200, Value::Object(body))
            }
            Err(e) => (e.status, e.v2_body()),
        }
    }

    /// The REST 3.0 body and status.
    pub(crate) fn v3(&self, clock: &Clock) -> (u16, Value) {
        match &self.reply {
            Ok(ok) => (
                200,
                json!({"result": ok.result, "time": self.time.to_json(clock)}),
            ),
            Err(e) => (e.status, e.v3_body()),
        }
    }
}
