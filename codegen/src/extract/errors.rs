//! Error tables: every header variant, one [`ErrorCode`] per row.
//!
//! Columns are found by their header words: `Status` (HTTP status), `Code` (the identifier),
//! `Error message`/`Message`/`Error text` (the message sent), `Description`/`Value` (what it
//! means; when both appear, `Description` is the message and `Value` the meaning), and the
//! REST 3.0 `Field | Error description | How to fix` form, whose code is on an
//! `Error Code: \`X\`` line before the table. Codes `0` and `100`, `-` and empty codes carry no
//! meaning: the message is the identifier then.

use crate::model::{ErrorCode, ErrorMatch, Source};
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
        } else if w.contains("value") || w.contains("meaning") || w.contains("cause") {
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
        if let Some(m) = cell(cols.message) {
            let m = plain(m);
            if !m.is_empty() {
                message = Some(m);
            }
        }
        let mut description = cell(cols.description).unwrap_or("").trim().to_owned();
        if let Some(field) = cell(cols.field) {
            let field = plain(field);
            if !field.is_empty() && field != "-" {
                description = format!("Field `{field}`: {description}");
            }
        }
        if code.is_empty() && code_before.is_some() && cols.code.is_none() {
            code = code_before.unwrap_or("").to_owned();
        }
        let matcher = if is_meaningless_code(&code) {
            if let Some(m) = message.clone().filter(|m| !m.is_empty()) {
                ErrorMatch::Exact(m)
            } else if !description.is_empty() {
                ErrorMatch::Exact(plain(&description))
            } else {
                continue;
            }
        } else {
            ErrorMatch::Code(code.clone())
        };
        out.push(ErrorCode {
            code,
            matcher,
            status,
            message,
            description,
            source: source(row.line),
        });
    }
    out
}

/// `0`, `100`, `-`, empty: codes that identify nothing.
fn is_meaningless_code(code: &str) -> bool {
    let c = code.trim().trim_matches('`').trim();
    c.is_empty()
        || c == "0"
        || c == "100"
        || c == "-"
        || c == "—"
        || c.eq_ignore_ascii_case("empty string")
        || c.eq_ignore_ascii_case("none")
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
        assert_eq!(e[1].code, "Could not find value for parameter {templateId}");
        assert_eq!(e[2].code, e[3].code);
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
        assert_eq!(e[0].code, "Access denied");
    }
}
