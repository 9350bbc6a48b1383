//! Errors in the docs' own wire form.
//!
//! The emulator meets three situations of its own: a required parameter is missing, a value
//! does not fit its documented type, no record has the id asked for. Each is answered with the
//! method's documented error for it: the row of the page's error table that describes it (by
//! its words, "not found", "required", "invalid"..., and by the parameter it names: a row that
//! names another parameter is about something else), sent the way the page's error example
//! sends it. A row recognised by its code sends that code; a row recognised by its text sends
//! the page's meaningless code (`""`, `0`, `100`, as the example writes it) with that text, the
//! variable part of a `Prefix` row filled in ("Required fields: " + the field). REST 3.0 sends
//! `error.code`, `error.message` and, where the example shows it, `validation`.
//!
//! So the generated `Error` of the method, which recognises answers by the same rows
//! ([`ErrorMatch`]), gets the variant the docs name. A page that documents no such error gets
//! the emulator's own `NOT_FOUND`, `REQUIRED_ARG_MISSING` or `INVALID_ARG_VALUE`.

use b24_codegen::model::{ApiVersion, ErrorCode, ErrorMatch, ExampleKind, Method, Type};
use b24_form::comparable_error_text as comparable;
use serde_json::Value;

use crate::reply::ApiError;

/// What went wrong with a call, before it is put in the method's documented words.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Failure {
    /// A required parameter is missing; its path (`fields.TITLE`).
    Missing(String),
    /// A value does not fit its documented type; its path.
    Invalid(String),
    /// No record has this id.
    NotFound {
        /// The parameter that named the record.
        param: String,
        /// The id asked for.
        id: Value,
    },
}

impl Failure {
    fn path(&self) -> &str {
        match self {
            Failure::Missing(path) | Failure::Invalid(path) => path,
            Failure::NotFound { param, .. } => param,
        }
    }

    /// The parameter itself: the last part of the path.
    fn leaf(&self) -> &str {
        let path = self.path();
        path.rsplit('.').next().unwrap_or(path)
    }

    /// The top-level parameter the path starts at.
    fn top(&self) -> &str {
        let path = self.path();
        path.split('.').next().unwrap_or(path)
    }

    /// What fills the variable part of a documented text: the id for a missing record, the
    /// field otherwise.
    fn detail(&self) -> String {
        match self {
            Failure::NotFound { id, .. } => text_of(id),
            _ => self.leaf().to_owned(),
        }
    }

    /// The emulator's own answer, for pages that document none.
    fn undocumented(&self) -> ApiError {
        let path = self.path();
        let mut error = match self {
            Failure::Missing(_) => ApiError::new(
                400,
                "REQUIRED_ARG_MISSING",
                format!("Required parameter \"{path}\" is missing"),
            ),
            Failure::Invalid(_) => ApiError::new(
                400,
                "INVALID_ARG_VALUE",
                format!("Invalid value for parameter \"{path}\""),
            ),
            Failure::NotFound { .. } => return ApiError::new(400, "NOT_FOUND", "Not found"),
        };
        let message = error.description.clone();
        error.validation.push((path.to_owned(), message));
        error
    }
}

/// The answer `method`'s docs give to `failure`.
pub(crate) fn documented(method: &Method, failure: &Failure) -> ApiError {
    let examples = wire_examples(method);
    if let Some(row) = pick_row(method, failure) {
        if let Some(error) = from_row(method, row, &examples, failure) {
            return error;
        }
    }
    let example = examples.iter().find(|ex| {
        situation_of(&ex.all_text()).fits(failure) && !names_other(method, &ex.all_text(), failure)
    });
    match example {
        Some(ex) => from_example(method, ex, failure),
        None => failure.undocumented(),
    }
}

/// Which situations a text describes.
#[derive(Clone, Copy, Debug, Default)]
struct Situation {
    not_found: bool,
    missing: bool,
    invalid: bool,
}

impl Situation {
    fn fits(self, failure: &Failure) -> bool {
        match failure {
            Failure::Missing(_) => self.missing,
            Failure::Invalid(_) => self.invalid,
            Failure::NotFound { .. } => self.not_found && !self.missing,
        }
    }
}

const NOT_FOUND: &[&str] = &[
    "not found",
    "notfound",
    "does not exist",
    "doesn't exist",
    "do not exist",
    "not exist",
    "no such",
    "nonexistent",
    "non-existent",
];

const MISSING: &[&str] = &[
    "required",
    "missing",
    "mandatory",
    "not specified",
    "not provided",
    "not passed",
    "not defined",
    "not set",
    "not given",
    "not filled",
    "not transferred",
    "is empty",
    "or empty",
    "not be empty",
    "is null",
    "no value",
    "not provided",
];

const INVALID: &[&str] = &[
    "invalid",
    "incorrect",
    "must be",
    "wrong",
    "not valid",
    "has to be",
    "expected to be",
    "requires data type",
    "should be",
    "not a positive",
    "not an integer",
    "not a number",
];

/// The situations a text (code, message and description of a row) speaks of, by its words.
fn situation_of(text: &str) -> Situation {
    let t = text.to_lowercase().replace(['_', '`'], " ");
    let has = |cues: &[&str]| cues.iter().any(|c| t.contains(c));
    let words: Vec<&str> = t.split(|c: char| !c.is_alphanumeric()).collect();
    Situation {
        not_found: has(NOT_FOUND)
            || (words.contains(&"no") && words.iter().any(|w| *w == "exists" || *w == "exist")),
        missing: has(MISSING),
        invalid: has(INVALID),
    }
}

/// Every parameter name of the method: the top-level ones and the fields of their objects.
fn param_names(method: &Method) -> Vec<&str> {
    let mut names = Vec::new();
    for param in &method.params {
        names.push(param.api_name.as_str());
        if let Type::Object { fields } = &param.ty {
            names.extend(fields.iter().map(|f| f.api_name.as_str()));
        }
    }
    names
}

/// Whether `text` names the parameter `name`: as a word spelled the same, or in capitals
/// (`ID` for `id`).
fn names(text: &str, name: &str) -> bool {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|word| {
            word == name
                || (word.len() >= 2
                    && word.eq_ignore_ascii_case(name)
                    && !word.chars().any(|c| c.is_ascii_lowercase()))
        })
}

/// Whether `text` names a parameter of the method other than the one the failure is about.
fn names_other(method: &Method, text: &str, failure: &Failure) -> bool {
    let (leaf, top) = (failure.leaf(), failure.top());
    param_names(method).into_iter().any(|name| {
        !name.eq_ignore_ascii_case(leaf) && !name.eq_ignore_ascii_case(top) && names(text, name)
    }) && !names(text, leaf)
}

/// The row of the error table that describes `failure`: it speaks of the situation, can be
/// recognised on the wire, names no other parameter; one that names the parameter wins, then
/// the first in the table.
fn pick_row<'a>(method: &'a Method, failure: &Failure) -> Option<&'a ErrorCode> {
    let (leaf, top) = (failure.leaf(), failure.top());
    method
        .errors
        .iter()
        .filter(|row| row.matcher != ErrorMatch::None)
        .filter(|row| {
            let text = row_text(row);
            situation_of(&text).fits(failure) && !names_other(method, &text, failure)
        })
        .enumerate()
        .max_by_key(|(i, row)| {
            let text = row_words(row);
            let score = if names(&text, leaf) {
                3
            } else if names(&text, top) {
                2
            } else {
                1
            };
            (score, usize::MAX - i)
        })
        .map(|(_, row)| row)
}

/// A row's code, message and description, for its situation.
fn row_text(row: &ErrorCode) -> String {
    format!(
        "{} {} {}",
        row.code,
        row.message.as_deref().unwrap_or(""),
        row.description
    )
}

/// A row's message and description, for the parameters it names.
fn row_words(row: &ErrorCode) -> String {
    format!(
        "{} {}",
        row.message.as_deref().unwrap_or(""),
        row.description
    )
}

/// An error answer shown on the page.
#[derive(Debug)]
struct WireExample {
    /// The code as the example writes it (`""`, `0`, `"NOT_FOUND"`).
    code: Value,
    /// The message: `error_description`, or REST 3.0's `error.message`.
    message: String,
    /// REST 3.0 `validation` entries: (field, message).
    validation: Vec<(String, String)>,
}

impl WireExample {
    fn code_text(&self) -> String {
        text_of(&self.code)
    }

    fn all_text(&self) -> String {
        let mut text = format!("{} {}", self.code_text(), self.message);
        for (field, message) in &self.validation {
            text.push_str(&format!(" {field} {message}"));
        }
        text
    }
}

fn wire_examples(method: &Method) -> Vec<WireExample> {
    method
        .examples
        .iter()
        .filter(|e| e.kind == ExampleKind::Error)
        .filter_map(|e| e.json.as_ref()?.as_object())
        .filter_map(|body| match body.get("error")? {
            Value::Object(error) => Some(WireExample {
                code: error.get("code").cloned().unwrap_or(Value::Null),
                message: error.get("message").map(text_of).unwrap_or_default(),
                validation: error
                    .get("validation")
                    .and_then(Value::as_array)
                    .map(|items| {
                        items
                            .iter()
                            .map(|v| {
                                (
                                    v.get("field").map(text_of).unwrap_or_default(),
                                    v.get("message").map(text_of).unwrap_or_default(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            }),
            code => Some(WireExample {
                code: code.clone(),
                message: body
                    .get("error_description")
                    .map(text_of)
                    .unwrap_or_default(),
                validation: Vec::new(),
            }),
        })
        .collect()
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `0`, `100`, empty: a code that identifies nothing (the message does).
fn meaningless(code: &str) -> bool {
    b24_codegen::extract::errors::is_meaningless_code(code)
}

/// The answer for a documented row.
fn from_row(
    method: &Method,
    row: &ErrorCode,
    examples: &[WireExample],
    failure: &Failure,
) -> Option<ApiError> {
    let status = row.status.unwrap_or(400);
    let mut error = match &row.matcher {
        ErrorMatch::Code(code) => {
            let message = row
                .message
                .as_deref()
                .map(|m| fill(m, failure))
                .or_else(|| {
                    // The example's text, when the example is this code and no other row is.
                    let rows = method.errors.iter().filter(|r| r.matcher == row.matcher);
                    (rows.count() == 1)
                        .then(|| examples.iter().find(|ex| ex.code_text() == *code))
                        .flatten()
                        .map(|ex| ex.message.clone())
                })
                .unwrap_or_else(|| failure.undocumented().description);
            ApiError::new(status, code.clone(), message)
        }
        ErrorMatch::Exact(text) => {
            let sent = examples
                .iter()
                .find(|ex| comparable(&ex.message) == comparable(text));
            let message = sent.map_or_else(|| text.clone(), |ex| ex.message.clone());
            text_error(
                status,
                row,
                sent.or_else(|| same_code(examples, row)),
                message,
            )
        }
        ErrorMatch::Prefix(prefix) => {
            let sent = examples
                .iter()
                .find(|ex| comparable(&ex.message).starts_with(&comparable(prefix)));
            let message = format!("{prefix}{}", failure.detail());
            text_error(
                status,
                row,
                sent.or_else(|| same_code(examples, row)),
                message,
            )
        }
        ErrorMatch::None => return None,
    };
    if method.version == ApiVersion::V3 {
        v3_validation(&mut error, examples, failure);
    }
    Some(error)
}

/// The answer for an error example that describes `failure` where no row does.
fn from_example(method: &Method, ex: &WireExample, failure: &Failure) -> ApiError {
    let code = ex.code_text();
    let mut error = ApiError::new(400, code.clone(), ex.message.clone());
    error.numeric_code = ex.code.is_number();
    if method.version == ApiVersion::V3 {
        v3_validation(&mut error, std::slice::from_ref(ex), failure);
    }
    error
}

/// An example whose meaningless code is the row's (`0` and `"0"`; empty and `Empty value`).
fn same_code<'a>(examples: &'a [WireExample], row: &ErrorCode) -> Option<&'a WireExample> {
    let digits = |c: &str| {
        let c = c.trim().trim_matches('`').trim();
        c.parse::<i64>().map(|n| n.to_string()).unwrap_or_default()
    };
    examples
        .iter()
        .find(|ex| meaningless(&ex.code_text()) && digits(&ex.code_text()) == digits(&row.code))
}

/// An error recognised by its text: the row's meaningless code as the example writes it.
fn text_error(
    status: u16,
    row: &ErrorCode,
    example: Option<&WireExample>,
    message: String,
) -> ApiError {
    let code = row.code.trim().trim_matches('`').trim();
    let wire = match example {
        Some(ex) if meaningless(&ex.code_text()) => ex.code.clone(),
        _ if code.parse::<i64>().is_ok() => Value::String(code.to_owned()),
        // `Empty value`, `-`, or a message written in the code column.
        _ => Value::String(String::new()),
    };
    let mut error = ApiError::new(status, text_of(&wire), message);
    error.numeric_code = wire.is_number();
    error
}

/// REST 3.0: where the page's example of this code carries `validation`, the answer does too,
/// with the example's message on top and the row's text for the field.
fn v3_validation(error: &mut ApiError, examples: &[WireExample], failure: &Failure) {
    let example = examples
        .iter()
        .find(|ex| ex.code_text() == error.code && !ex.validation.is_empty());
    if let Some(ex) = example {
        let field_message = std::mem::replace(&mut error.description, ex.message.clone());
        error
            .validation
            .push((failure.path().to_owned(), field_message));
    }
}

/// A documented text with its placeholders (`#FIELD#`, `{ID}`) filled in.
fn fill(text: &str, failure: &Failure) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find(['#', '{']) {
        let close_char = if rest[open..].starts_with('#') {
            '#'
        } else {
            '}'
        };
        let after = &rest[open + 1..];
        let Some(len) = after.find(close_char) else {
            break;
        };
        let name = &after[..len];
        let is_name = !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_');
        out.push_str(&rest[..open]);
        if is_name {
            out.push_str(&placeholder(name, failure));
        } else {
            out.push_str(&rest[open..open + 2 + len]);
        }
        rest = &after[len + 1..];
    }
    out.push_str(rest);
    out
}

fn placeholder(name: &str, failure: &Failure) -> String {
    let lower = name.to_ascii_lowercase();
    match failure {
        Failure::NotFound { id, .. } if lower == "id" || lower.ends_with("id") => text_of(id),
        _ => failure.leaf().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use b24_codegen::model::{Access, Example, Field, Required, Scalar, Source};
    use serde_json::json;

    fn src() -> Source {
        Source::new("t.md", 1)
    }

    fn param(name: &str) -> Field {
        Field {
            api_name: name.into(),
            rust_name: name.to_ascii_lowercase(),
            doc_type: String::new(),
            ty: Type::scalar(Scalar::String),
            required: Required::Yes,
            description: String::new(),
            source: src(),
            deprecated: None,
        }
    }

    fn row(code: &str, matcher: ErrorMatch, message: Option<&str>, description: &str) -> ErrorCode {
        ErrorCode {
            code: code.into(),
            matcher,
            status: None,
            message: message.map(str::to_owned),
            description: description.into(),
            source: src(),
            deprecated: None,
        }
    }

    fn method(
        version: ApiVersion,
        params: &[&str],
        errors: Vec<ErrorCode>,
        example: Value,
    ) -> Method {
        Method {
            name: "x.y.get".into(),
            version,
            title: String::new(),
            description: String::new(),
            scopes: Vec::new(),
            who_can_call: None,
            deprecated: None,
            access: Access::Read,
            params: params.iter().map(|p| param(p)).collect(),
            result: Type::untyped("t"),
            paging: None,
            errors,
            examples: vec![Example {
                kind: ExampleKind::Error,
                text: example.to_string(),
                json: Some(example),
                repaired: false,
                source: src(),
            }],
            source: src(),
        }
    }

    const VALIDATION: &str = "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION";
    const NOT_FOUND_V3: &str = "BITRIX_REST_V3_EXCEPTION_ENTITYNOTFOUNDEXCEPTION";

    #[test]
    fn rest_v3_errors_carry_the_examples_message_and_the_rows_text_for_the_field() {
        let m = method(
            ApiVersion::V3,
            &["id", "select"],
            vec![
                row(
                    VALIDATION,
                    ErrorMatch::Code(VALIDATION.into()),
                    Some("Required field #FIELD# is not specified"),
                    "Field `id`: Add `id`",
                ),
                row(
                    NOT_FOUND_V3,
                    ErrorMatch::Code(NOT_FOUND_V3.into()),
                    Some("Record with ID = #ID# not found"),
                    "Field `id`: an existing id",
                ),
            ],
            json!({"error": {"code": VALIDATION, "message": "Error during request object validation",
                "validation": [{"message": "Required field `id` is not specified", "field": "id"}]}}),
        );
        let missing = documented(&m, &Failure::Missing("id".into()));
        assert_eq!(
            missing.v3_body(),
            json!({"error": {"code": VALIDATION, "message": "Error during request object validation",
                "validation": [{"message": "Required field id is not specified", "field": "id"}]}})
        );
        let gone = documented(
            &m,
            &Failure::NotFound {
                param: "id".into(),
                id: json!(5),
            },
        );
        assert_eq!(
            gone.v3_body(),
            json!({"error": {"code": NOT_FOUND_V3, "message": "Record with ID = 5 not found"}})
        );
    }

    #[test]
    fn a_prefix_row_is_completed_and_sent_with_the_examples_numeric_code() {
        let m = method(
            ApiVersion::V2,
            &["fields"],
            vec![
                row(
                    "100",
                    ErrorMatch::None,
                    None,
                    "Parameter `fields` not specified or empty",
                ),
                row(
                    "0",
                    ErrorMatch::Prefix("Required fields: ".into()),
                    None,
                    "Required fields of the `fields` structure not provided",
                ),
            ],
            json!({"error": 0, "error_description": "Required fields: name"}),
        );
        let error = documented(&m, &Failure::Missing("fields.title".into()));
        assert_eq!(
            error.v2_body(),
            json!({"error": 0, "error_description": "Required fields: title"})
        );
        assert_eq!(error.status, 400);
    }

    #[test]
    fn a_row_that_names_another_parameter_is_about_something_else() {
        let text = |t: &str| row("Empty value", ErrorMatch::Exact(t.into()), Some(t), "");
        let m = method(
            ApiVersion::V2,
            &["resourceId", "name"],
            vec![
                text("The required parameter \"resourceId\" for the method is not set"),
                text("The required parameter \"name\" for the method is not set"),
            ],
            json!({"error": "", "error_description": "Access denied"}),
        );
        let error = documented(&m, &Failure::Missing("name".into()));
        assert_eq!(
            error.v2_body(),
            json!({"error": "", "error_description": "The required parameter \"name\" for the method is not set"})
        );
    }

    #[test]
    fn undocumented_situations_get_the_emulators_own_codes() {
        let m = method(
            ApiVersion::V2,
            &["id"],
            vec![row(
                "ACCESS_DENIED",
                ErrorMatch::Code("ACCESS_DENIED".into()),
                None,
                "No access",
            )],
            json!({"error": "ACCESS_DENIED", "error_description": "Access denied"}),
        );
        assert_eq!(
            documented(&m, &Failure::Missing("id".into())).code,
            "REQUIRED_ARG_MISSING"
        );
        assert_eq!(
            documented(&m, &Failure::Invalid("id".into())).code,
            "INVALID_ARG_VALUE"
        );
        let gone = documented(
            &m,
            &Failure::NotFound {
                param: "id".into(),
                id: json!(1),
            },
        );
        assert_eq!(
            gone.v2_body(),
            json!({"error": "NOT_FOUND", "error_description": "Not found"})
        );
    }

    #[test]
    fn an_error_example_of_the_situation_serves_where_no_row_does() {
        let m = method(
            ApiVersion::V2,
            &["id"],
            vec![row("0", ErrorMatch::None, None, "Other errors")],
            json!({"error": "NOT_FOUND", "error_description": "Not found."}),
        );
        let gone = documented(
            &m,
            &Failure::NotFound {
                param: "id".into(),
                id: json!(1),
            },
        );
        assert_eq!(
            gone.v2_body(),
            json!({"error": "NOT_FOUND", "error_description": "Not found."})
        );
    }

    #[test]
    fn placeholders_take_the_field_or_the_id() {
        let gone = Failure::NotFound {
            param: "ID".into(),
            id: json!(7),
        };
        assert_eq!(
            fill("Entity #ID# in {ID}, \\{x\\} #", &gone),
            "Entity 7 in 7, \\{x\\} #"
        );
        let missing = Failure::Missing("fields.TITLE".into());
        assert_eq!(
            fill("Field #FIELD# is empty", &missing),
            "Field TITLE is empty"
        );
    }
}
