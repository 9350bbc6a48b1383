//! The Bitrix24 response envelope: `result`, `time`, `next`, `total`, `error`,
//! `error_description` (classic REST), and REST 3.0's `result` + `time` / `error{code,message}`.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, DecodeError};
use crate::value::Int;
use crate::Extra;

/// A successful answer: the decoded `result` plus the paging and timing fields around it.
#[derive(Clone, Debug)]
pub struct Envelope<T> {
    /// The method's result.
    pub result: T,
    /// The `start` value of the next page (list methods), if there is one.
    pub next: Option<u64>,
    /// The total number of records (list methods), if counted.
    pub total: Option<u64>,
    /// Timing and the method's operating budget.
    pub time: Option<Time>,
}

/// The `time` object of a response.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Time {
    /// Unix time the request started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<f64>,
    /// Unix time the request finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish: Option<f64>,
    /// Seconds between start and finish.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// Seconds spent processing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processing: Option<f64>,
    /// The start as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_start: Option<String>,
    /// The finish as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_finish: Option<String>,
    /// Unix time when the oldest minute of the method's time budget is released.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operating_reset_at: Option<f64>,
    /// Seconds of the method's time budget used in the last 10 minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operating: Option<f64>,
    /// Fields not listed above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// What a response body turned out to be.
#[derive(Debug)]
pub(crate) enum Decoded<T> {
    /// A successful envelope.
    Ok(Envelope<T>),
    /// An API error answer; `time` is kept when the error body had one.
    Api(ApiError),
    /// Not a body we understand.
    Bad(DecodeError),
}

#[derive(Deserialize)]
struct Wire<T> {
    #[serde(default = "Option::default")]
    result: Option<T>,
    #[serde(default)]
    error: Option<serde_json::Value>,
    #[serde(default)]
    error_description: Option<serde_json::Value>,
    #[serde(default)]
    next: Option<Int>,
    #[serde(default)]
    total: Option<Int>,
    #[serde(default)]
    time: Option<Time>,
}

fn lossy(body: &[u8]) -> String {
    String::from_utf8_lossy(body).into_owned()
}

fn text_of(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn api_error(
    status: u16,
    error: serde_json::Value,
    description: Option<serde_json::Value>,
    body: &[u8],
) -> ApiError {
    let description = description.as_ref().map(text_of).unwrap_or_default();
    match error {
        serde_json::Value::Object(mut m) => {
            let code = m.remove("code").map(|c| text_of(&c)).unwrap_or_default();
            let message = m
                .remove("message")
                .map(|c| text_of(&c))
                .unwrap_or(description);
            ApiError::new(status, code, message, lossy(body))
        }
        other => ApiError::new(status, text_of(&other), description, lossy(body)),
    }
}

fn non_negative(i: Option<Int>) -> Option<u64> {
    i.and_then(|i| i.value())
        .and_then(|n| u64::try_from(n).ok())
}

/// Decodes a response body of the given HTTP status into `T`'s envelope or an error.
pub(crate) fn decode<T: DeserializeOwned>(status: u16, body: &[u8]) -> Decoded<T> {
    let bad = |reason: String| {
        Decoded::Bad(DecodeError {
            status,
            body: lossy(body),
            reason,
        })
    };
    if !(200..300).contains(&status) {
        // Error answers: the result (if any) is not decoded into `T`.
        return match serde_json::from_slice::<Wire<serde::de::IgnoredAny>>(body) {
            Ok(Wire {
                error: Some(e),
                error_description,
                ..
            }) if !e.is_null() => Decoded::Api(api_error(status, e, error_description, body)),
            Ok(_) => bad(format!("HTTP {status} without an error code")),
            Err(e) => bad(e.to_string()),
        };
    }
    match serde_json::from_slice::<Wire<T>>(body) {
        Ok(Wire {
            error: Some(e),
            error_description,
            ..
        }) if !e.is_null() => Decoded::Api(api_error(status, e, error_description, body)),
        Ok(w) => {
            let result = match w.result {
                Some(r) => r,
                None => match T::deserialize(serde_json::Value::Null) {
                    Ok(r) => r,
                    Err(_) => return bad("the response has no `result`".to_owned()),
                },
            };
            Decoded::Ok(Envelope {
                result,
                next: non_negative(w.next),
                total: non_negative(w.total),
                time: w.time,
            })
        }
        Err(e) => bad(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok<T: DeserializeOwned + std::fmt::Debug>(status: u16, body: &str) -> Envelope<T> {
        match decode::<T>(status, body.as_bytes()) {
            Decoded::Ok(e) => e,
            other => panic!("expected success, got {other:?}"),
        }
    }

    fn api(status: u16, body: &str) -> ApiError {
        match decode::<serde_json::Value>(status, body.as_bytes()) {
            Decoded::Api(e) => e,
            other => panic!("expected an API error, got {other:?}"),
        }
    }

    #[test]
    #[allow(clippy::excessive_precision)] // the docs' own example
    fn decodes_result_paging_and_time() {
        let body = r#"{"result":[{"ID":"1"}],"next":50,"total":"120","time":{"start":1724916859.46156,
            "finish":1724916859.464775,"duration":0.0032,"processing":0.003,"date_start":"2024-08-29T10:34:19+03:00",
            "date_finish":"2024-08-29T10:34:19+03:00","operating_reset_at":1724917459,"operating":3.3076241016387939,"zone":"x"}}"#;
        let e: Envelope<Vec<serde_json::Value>> = ok(200, body);
        assert_eq!(e.result.len(), 1);
        assert_eq!(e.next, Some(50));
        assert_eq!(e.total, Some(120));
        let t = e.time.expect("time");
        assert_eq!(t.operating_reset_at, Some(1724917459.0));
        assert_eq!(t.operating, Some(3.3076241016387939));
        assert_eq!(t.extra.get("zone"), Some(&serde_json::json!("x")));
    }

    #[test]
    fn missing_result_is_null_for_types_that_accept_it() {
        let e: Envelope<Option<i64>> = ok(200, r#"{"time":{}}"#);
        assert_eq!(e.result, None);
        assert!(matches!(
            decode::<i64>(200, br#"{"time":{}}"#),
            Decoded::Bad(d) if d.status == 200 && d.body == r#"{"time":{}}"#
        ));
    }

    #[test]
    fn classic_and_v3_errors() {
        let e = api(
            400,
            r#"{"error":"REQUIRED_ARG_MISSING","error_description":"Missing fields"}"#,
        );
        assert_eq!(
            (e.status(), e.code(), e.description()),
            (400, "REQUIRED_ARG_MISSING", "Missing fields")
        );
        assert!(e.body().contains("Missing fields"));

        let e = api(
            400,
            r#"{"error":{"code":"BITRIX_REST_V3_EXCEPTION_INVALIDJSONEXCEPTION","message":"Bad json","validation":[]}}"#,
        );
        assert_eq!(e.code(), "BITRIX_REST_V3_EXCEPTION_INVALIDJSONEXCEPTION");
        assert_eq!(e.description(), "Bad json");

        // An error with a 200 status is still an error.
        let e = api(200, r#"{"error":"ERROR_CORE","error_description":"x"}"#);
        assert_eq!(e.code(), "ERROR_CORE");

        // Codes 0 and 100 are meaningless: the description is the key.
        let e = api(
            400,
            r#"{"error":100,"error_description":"Could not find value for parameter {name}"}"#,
        );
        assert_eq!(e.code(), "100");
        assert_eq!(e.key(), "Could not find value for parameter {name}");
        assert_eq!(ApiError::new(400, "", "X", "").key(), "X");
        assert_eq!(ApiError::new(400, "0", "Y", "").key(), "Y");
        assert_eq!(
            ApiError::new(400, "ACCESS_DENIED", "Y", "").key(),
            "ACCESS_DENIED"
        );
    }

    #[test]
    fn non_json_and_mismatched_bodies_keep_status_and_body() {
        match decode::<serde_json::Value>(502, b"<html>Bad gateway</html>") {
            Decoded::Bad(d) => {
                assert_eq!(d.status, 502);
                assert_eq!(d.body, "<html>Bad gateway</html>");
            }
            other => panic!("{other:?}"),
        }
        match decode::<Vec<i64>>(200, br#"{"result":{"a":1}}"#) {
            Decoded::Bad(d) => assert_eq!(d.body, r#"{"result":{"a":1}}"#),
            other => panic!("{other:?}"),
        }
        match decode::<i64>(500, br#"{"result":1}"#) {
            Decoded::Bad(d) => assert_eq!(d.status, 500),
            other => panic!("{other:?}"),
        }
    }
}
