//! Error tables: every header variant, one [`ErrorCode`] per row.
//!
//! Columns are found by their header words: `Status` (HTTP status), `Code` (the identifier),
//! `Error message`/`Message`/`Error text` (the message sent), `Description`/`Value` (what it
//! means; when both appear, `Description` is the message and `Value` the meaning), and the
//! REST 3.0 `Field | Error description | How to fix` form, whose code is on an
//! `Error Code: \`X\`` line before the table. Codes `0` and `100`, `-` and empty codes carry no
//! meaning: the message is the identifier then.

use serde_json::Value;

use crate::model::{ErrorCode, ErrorMatch, Example, ExampleKind, Source};
use crate::page::{inlines, plain, Inline};
use crate::yfm::Table;

/// The roles of the columns of an error table.
#[derive(Debug, Default)]
struct Columns {
    status: Option<usize>,
    code: Option<usize>,
    message: Option<usize>,
    description: Option<usize>,
    field: Option<usize>,
}

fn columns(header: &[String]) -> Columns {
    let mut c = Columns::default();
    let mut value = None;
    let mut description = None;
    for (i, w) in header.iter().enumerate() {
        let w = w.as_str();
        if w.contains("status") || w == "http" {
            c.status.get_or_insert(i);
        } else if w.contains("how to fix") || w.contains("solution") {
            c.description = Some(i);
        } else if w.starts_with("code") || w.ends_with(" code") || w == "error" {
            c.code.get_or_insert(i);
        } else if w.contains("message")
            || w.contains("error text")
            || w == "text"
            || w.contains("error description")
        {
            c.message.get_or_insert(i);
        } else if w == "field" || w == "parameter" {
            c.field.get_or_insert(i);
        } else if [
            "value",
            "meaning",
            "cause",
            "information",
            "details",
            "explanation",
            "comment",
        ]
        .iter()
        .any(|k| w.contains(k))
        {
            value.get_or_insert(i);
        } else if w.contains("description") {
            description.get_or_insert(i);
        }
    }
    match (description, value) {
        (Some(d), Some(v)) => {
            if c.message.is_none() {
                c.message = Some(d);
            }
            c.description.get_or_insert(v);
        }
        (Some(d), None) => {
            c.description.get_or_insert(d);
        }
        (None, Some(v)) => {
            c.description.get_or_insert(v);
        }
        (None, None) => {}
    }
    c
}

fn header_words(text: &str) -> String {
    plain(text)
        .to_lowercase()
        .replace('*', "")
        .trim()
        .to_owned()
}

/// Reads the rows of an error table. `code_before` is the `Error Code: X` written before it
/// (REST 3.0 tables); `source` maps a line index to its place.
pub fn error_rows(
    table: &Table,
    code_before: Option<&str>,
    source: &dyn Fn(usize) -> Source,
) -> Vec<ErrorCode> {
    let Some(header) = table.rows.first() else {
        return Vec::new();
    };
    let words: Vec<String> = header.cells.iter().map(|c| header_words(&c.text)).collect();
    let cols = columns(&words);
    let mut out = Vec::new();
    for row in table.rows.iter().skip(1) {
        let cell = |i: Option<usize>| i.and_then(|i| row.cells.get(i)).map(|c| c.text.as_str());
        let status = cell(cols.status).and_then(|s| {
            plain(s)
                .split(|c: char| !c.is_ascii_digit())
                .find(|w| w.len() == 3)
                .and_then(|w| w.parse::<u16>().ok())
        });
        // A code cell may hold the code and, on the next line, the message.
        let (mut code, mut message) = match cell(cols.code) {
            Some(text) => code_and_message(text),
            None => (code_before.unwrap_or("").to_owned(), None),
        };
        // The literal text the server sends: a message column, else a code span that opens
        // the description cell. (A description in prose explains; it is not the server's text.)
        let mut literal = message.clone();
        if let Some(m) = cell(cols.message) {
            let text = plain(m);
            if !text.is_empty() {
                message = Some(text);
                literal = Some(m.trim().to_owned());
            }
        }
        let description_cell = cell(cols.description).unwrap_or("").trim();
        if literal.is_none() {
            literal = leading_code_span(description_cell);
        }
        let mut description = description_cell.to_owned();
        if let Some(field) = cell(cols.field) {
            let field = plain(field);
            if !field.is_empty() && field != "-" {
                description = format!("Field `{field}`: {description}");
            }
        }
        if code.is_empty() && code_before.is_some() && cols.code.is_none() {
            code = code_before.unwrap_or("").to_owned();
        }
        let mut status = status;
        if cols.status.is_none() {
            // A `Code` column that holds HTTP statuses (`403`, `400`): a status, no code.
            if let Some(http) = http_status(&code) {
                status = Some(http);
                code = String::new();
            }
        }
        let matcher = if !is_meaningless_code(&code) && is_identifier(&code) {
            ErrorMatch::Code(code.trim().to_owned())
        } else if !is_meaningless_code(&code) {
            // A message written in the code column.
            recognition(&code)
        } else {
            match &literal {
                Some(text) => recognition(text),
                None => ErrorMatch::None,
            }
        };
        if code.trim().is_empty() && description.is_empty() && message.is_none() {
            continue;
        }
        out.push(ErrorCode {
            code,
            matcher,
            status,
            message,
            description,
            source: source(row.line),
            deprecated: None,
        });
    }
    out
}

/// Rows that explain an error in prose (code `0`/`100`, no literal text) are recognised by the
/// text of the page's error example when the example has the same code and its message opens
/// with the same two words as the row ("Required fields: code" for "Required fields of the
/// `fields` structure not provided").
pub fn recognise_by_examples(errors: &mut [ErrorCode], examples: &[Example]) {
    for ex in examples.iter().filter(|e| e.kind == ExampleKind::Error) {
        let Some(Value::Object(body)) = &ex.json else {
            continue;
        };
        let text = |v: Option<&Value>| match v {
            Some(Value::String(s)) => s.trim().to_owned(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        let (code, message) = match body.get("error") {
            Some(Value::Object(e)) => (text(e.get("code")), text(e.get("message"))),
            other => (text(other), text(body.get("error_description"))),
        };
        if message.is_empty() || !is_meaningless_code(&code) {
            continue;
        }
        let opening = first_words(&message, 2);
        let row = errors.iter_mut().find(|e| {
            e.matcher == ErrorMatch::None
                && same_code(&e.code, &code)
                && !is_catch_all(&plain(&e.description))
                && first_words(&plain(&e.description), 2) == opening
        });
        if let Some(row) = row {
            row.matcher = recognition(&message.replace('{', "\\{"));
        }
    }
}

fn first_words(text: &str, n: usize) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(n)
        .map(str::to_lowercase)
        .collect()
}

/// Two meaningless codes that are the same on the wire (`0` and `"0"`; empty and `Empty value`).
fn same_code(table: &str, wire: &str) -> bool {
    let norm = |c: &str| {
        let c = c.trim().trim_matches('`').trim();
        if c.parse::<i64>().is_ok() {
            c.to_owned()
        } else {
            String::new()
        }
    };
    norm(table) == norm(wire)
}

/// How an error whose code carries no meaning is recognised by its text (Markdown as the
/// page writes it): exactly, or by the fixed part before a variable one (`{value}`, `...`,
/// `<CODE>`, or a list after `Label: `); not at all for catch-all rows ("Other errors") and
/// texts that start with their variable part.
pub fn recognition(markdown: &str) -> ErrorMatch {
    // `{name}` is a placeholder; `\{name\}` is written out literally.
    let placeholder = markdown
        .char_indices()
        .find(|&(i, c)| c == '{' && !markdown[..i].ends_with('\\'))
        .map(|(i, _)| i);
    let text = plain(markdown);
    if is_catch_all(&text) {
        return ErrorMatch::None;
    }
    let fixed = match placeholder {
        Some(i) => Some(plain(&markdown[..i])),
        None => variable_at(&text).map(|i| text[..i].to_owned()),
    };
    match fixed {
        None => ErrorMatch::Exact(text),
        Some(prefix) if prefix.trim().chars().filter(|c| c.is_alphabetic()).count() >= 3 => {
            ErrorMatch::Prefix(prefix)
        }
        Some(_) => ErrorMatch::None,
    }
}

/// Where the variable part of a plain error text starts: `...`, `…`, `<CODE>`, or the list of
/// names after `Label: ` ("Required fields: code, name").
fn variable_at(text: &str) -> Option<usize> {
    let marks = ["...", "…", "[...]"];
    if let Some(i) = marks.iter().filter_map(|m| text.find(m)).min() {
        return Some(i);
    }
    if let Some(i) = text.find('<') {
        let rest = &text[i + 1..];
        if let Some(end) = rest.find('>') {
            if end > 0
                && rest[..end]
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c == '_')
            {
                return Some(i);
            }
        }
    }
    let (head, tail) = text.split_once(": ")?;
    let names = tail.trim().trim_end_matches('.');
    let is_list = !names.is_empty()
        && names.split(',').all(|n| {
            let n = n.trim();
            !n.is_empty()
                && n.chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '[' | ']' | '.'))
        });
    (is_list && !head.is_empty()).then_some(head.len() + 2)
}

/// "Other errors (e.g., fatal errors)", "Any other error": rows that name no error.
fn is_catch_all(text: &str) -> bool {
    let t = text.trim().to_lowercase();
    ["other error", "any other", "all other", "others"]
        .iter()
        .any(|p| t.starts_with(p))
}

/// The text of a code span that opens a cell (``"`Flow not found`"``, or with an explanation
/// on the next line).
fn leading_code_span(cell: &str) -> Option<String> {
    if !cell.starts_with('`') {
        return None;
    }
    match inlines(cell).into_iter().next() {
        Some(Inline::Code(c)) if !c.trim().is_empty() => Some(format!("`{}`", c.trim())),
        _ => None,
    }
}

/// A code that is one identifier (`ACCESS_DENIED`, `200040300010`, `invalid_token`).
fn is_identifier(code: &str) -> bool {
    let c = code.trim().trim_matches('`');
    !c.is_empty()
        && c.chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '-' | '.' | ':'))
}

/// A code cell holding an HTTP status.
fn http_status(code: &str) -> Option<u16> {
    let c = code.trim().trim_matches('`');
    let n: u16 = c.parse().ok()?;
    (c.len() == 3 && (100..600).contains(&n) && n != 100).then_some(n)
}

/// `0`, `100`, `-`, `Empty value`, empty: codes that identify nothing.
pub fn is_meaningless_code(code: &str) -> bool {
    let c = code.trim().trim_matches('`').trim().to_lowercase();
    matches!(
        c.as_str(),
        "" | "0"
            | "100"
            | "-"
            | "—"
            | "–"
            | "empty"
            | "empty value"
            | "empty string"
            | "none"
            | "(empty)"
            | "\"\""
    )
}

/// The code (first code span or first line) and an optional message on the following lines.
fn code_and_message(text: &str) -> (String, Option<String>) {
    let items = inlines(text);
    let mut code = None;
    let mut rest = String::new();
    for item in &items {
        match item {
            Inline::Code(c) if code.is_none() => {
                code = Some(c.trim().to_owned());
            }
            Inline::Text(t) | Inline::Code(t) => {
                rest.push_str(t);
            }
            Inline::Break => rest.push('\n'),
            _ => {}
        }
    }
    match code {
        Some(c) => {
            let msg = rest.trim().to_owned();
            (c, (!msg.is_empty()).then_some(msg))
        }
        None => {
            let text = rest.trim();
            let (first, more) = text.split_once('\n').unwrap_or((text, ""));
            let more = more.trim();
            (
                first.trim().to_owned(),
                (!more.is_empty()).then(|| more.to_owned()),
            )
        }
    }
}

/// The `X` of an `Error Code: \`X\`` line in prose, if any.
pub fn code_line(markdown: &str) -> Option<String> {
    if !markdown.contains("ode:") && !markdown.contains("ODE:") {
        return None;
    }
    for line in markdown.lines() {
        let lower = line.to_ascii_lowercase();
        if let Some(pos) = lower.find("error code:") {
            let rest = &line[pos + "error code:".len()..];
            let code = rest.trim().trim_matches(['`', '*', ' ']).trim();
            if !code.is_empty() {
                return Some(code.to_owned());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yfm::{Cell, Row};

    fn table(rows: &[&[&str]]) -> Table {
        Table {
            rows: rows
                .iter()
                .enumerate()
                .map(|(i, r)| Row {
                    cells: r
                        .iter()
                        .map(|c| Cell {
                            text: (*c).into(),
                            line: i,
                        })
                        .collect(),
                    line: i,
                })
                .collect(),
            line: 0,
            end_line: rows.len(),
        }
    }

    fn src(i: usize) -> Source {
        Source::new("e.md", i as u32 + 1)
    }

    #[test]
    fn code_description() {
        let e = error_rows(
            &table(&[
                &["**Code**", "**Description**"],
                &["`ACCESS_DENIED`", "Insufficient permissions"],
            ]),
            None,
            &src,
        );
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].code, "ACCESS_DENIED");
        assert_eq!(e[0].description, "Insufficient permissions");
        assert_eq!(e[0].source.line, 2);
    }

    #[test]
    fn status_code_description_value_and_meaningless_codes() {
        let e = error_rows(
            &table(&[
                &["**Status**", "**Code**", "**Description**", "**Value**"],
                &["`400`", "`NOT_FOUND`", "SPA not found", "Bad entityTypeId"],
                &[
                    "`400`",
                    "`100`",
                    "Could not find value for parameter {templateId}",
                    "Missing",
                ],
                &["`400`", "`INVALID_ARG_VALUE`", "Invalid filter", "A"],
                &["`400`", "`INVALID_ARG_VALUE`", "Invalid order", "B"],
            ]),
            None,
            &src,
        );
        assert_eq!(e.len(), 4, "one code per row, nothing merged");
        assert_eq!(e[0].status, Some(400));
        assert_eq!(e[0].message.as_deref(), Some("SPA not found"));
        assert_eq!(e[0].description, "Bad entityTypeId");
        assert_eq!(
            e[1].matcher,
            ErrorMatch::Prefix("Could not find value for parameter".into()),
            "`{{templateId}}` is a placeholder"
        );
        assert_eq!(e[2].matcher, e[3].matcher);
        assert_eq!(e[2].matcher, ErrorMatch::Code("INVALID_ARG_VALUE".into()));
    }

    #[test]
    fn texts_of_meaningless_codes_are_matched_exactly_by_prefix_or_not_at_all() {
        let e = error_rows(
            &table(&[
                &["**Code**", "**Description**", "**Value**"],
                &["Empty value", "`ID is not defined or invalid`", "Bad id"],
                &["`0`", "Required fields: moduleId, featureId", "Missing"],
                &[
                    "`100`",
                    "Could not find value for parameter \\{fileId\\}",
                    "Literal",
                ],
                &[
                    "`0`",
                    "Mysql query error: Duplicate entry '...' for key",
                    "Dup",
                ],
                &["`0`", "{value} is not valid", "Variable first"],
                &["`0`", "Other errors (e.g., fatal errors)", "Anything"],
                &["`403`", "Access denied", "HTTP status in the code column"],
            ]),
            None,
            &src,
        );
        let m: Vec<&ErrorMatch> = e.iter().map(|e| &e.matcher).collect();
        assert_eq!(
            m[0],
            &ErrorMatch::Exact("ID is not defined or invalid".into())
        );
        assert_eq!(m[1], &ErrorMatch::Prefix("Required fields: ".into()));
        assert_eq!(
            m[2],
            &ErrorMatch::Exact("Could not find value for parameter {fileId}".into())
        );
        assert_eq!(
            m[3],
            &ErrorMatch::Prefix("Mysql query error: Duplicate entry '".into())
        );
        assert_eq!(m[4], &ErrorMatch::None);
        assert_eq!(m[5], &ErrorMatch::None);
        assert_eq!(m[6], &ErrorMatch::Exact("Access denied".into()));
        assert_eq!(e[6].status, Some(403));
    }

    #[test]
    fn a_two_column_description_explains_unless_the_example_gives_the_text() {
        let mut e = error_rows(
            &table(&[
                &["**Code**", "**Description**"],
                &["`ACCESS_DENIED`", "No access"],
                &["`100`", "Parameter `id` not specified"],
                &[
                    "`0`",
                    "Required fields of the `fields` structure not provided",
                ],
                &["`0`", "`Flow not found`"],
                &["`0`", "Other errors"],
            ]),
            None,
            &src,
        );
        let m: Vec<ErrorMatch> = e.iter().map(|e| e.matcher.clone()).collect();
        assert_eq!(m[0], ErrorMatch::Code("ACCESS_DENIED".into()));
        assert_eq!(m[1], ErrorMatch::None, "prose explains");
        assert_eq!(m[2], ErrorMatch::None);
        assert_eq!(
            m[3],
            ErrorMatch::Exact("Flow not found".into()),
            "a code span is literal"
        );
        let example = Example {
            kind: ExampleKind::Error,
            text: String::new(),
            json: Some(
                serde_json::json!({"error": 0, "error_description": "Required fields: code"}),
            ),
            repaired: false,
            source: Source::new("e.md", 3),
        };
        recognise_by_examples(&mut e, &[example]);
        assert_eq!(
            e[1].matcher,
            ErrorMatch::None,
            "the example is about another row"
        );
        assert_eq!(e[2].matcher, ErrorMatch::Prefix("Required fields: ".into()));
        assert_eq!(
            e[4].matcher,
            ErrorMatch::None,
            "catch-all rows stay unmatched"
        );
    }

    #[test]
    fn code_with_message_on_next_line_and_rest3_tables() {
        let e = error_rows(
            &table(&[
                &[
                    "**Status**",
                    "**Code**\n**Error Message**",
                    "**Description**",
                ],
                &[
                    "`503`",
                    "`QUERY_LIMIT_EXCEEDED`\nToo many requests",
                    "Limit",
                ],
            ]),
            None,
            &src,
        );
        assert_eq!(e[0].code, "QUERY_LIMIT_EXCEEDED");
        assert_eq!(e[0].message.as_deref(), Some("Too many requests"));
        assert_eq!(e[0].status, Some(503));
        let code = code_line("Error Code: `BITRIX_REST_V3_EXCEPTION_X`");
        assert_eq!(code.as_deref(), Some("BITRIX_REST_V3_EXCEPTION_X"));
        let e = error_rows(
            &table(&[
                &["**Field**", "**Error Description**", "**How to Fix**"],
                &["`id`", "Required field `id` is missing", "Add `id`"],
            ]),
            code.as_deref(),
            &src,
        );
        assert_eq!(e[0].code, "BITRIX_REST_V3_EXCEPTION_X");
        assert_eq!(
            e[0].message.as_deref(),
            Some("Required field id is missing")
        );
        assert_eq!(e[0].description, "Field `id`: Add `id`");
        let e = error_rows(
            &table(&[
                &["**Code**", "**Error message**", "**Description**"],
                &["`-`", "Access denied", "Check"],
            ]),
            None,
            &src,
        );
        assert_eq!(e[0].matcher, ErrorMatch::Exact("Access denied".into()));
    }
}
