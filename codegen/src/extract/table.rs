//! Reading the rows of field tables (parameters, returned data, structures) and error tables.
//!
//! A field table has a name column (the name in bold, a required marker, and often the type on
//! the next line), an optional type column and a description column. Which column is which
//! comes from the header row; tables without a header are read as `name+type | description`.

use crate::model::Required;
use crate::page::{inlines, Inline};
use crate::yfm::{Row, Table};

use super::types::Atom;

/// What a table holds, from its header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableKind {
    /// Named fields with types (parameters, returned data, structures).
    Fields,
    /// Error codes.
    Errors,
    /// Anything else (lists of methods, events, values, ...).
    Other,
}

/// The columns of a field table.
#[derive(Clone, Copy, Debug)]
pub struct FieldColumns {
    /// The name (and often the type) column.
    pub name: usize,
    /// A separate type column.
    pub ty: Option<usize>,
    /// The description column.
    pub description: Option<usize>,
    /// True when the first row is a header.
    pub header: bool,
    /// An `Example` column.
    pub example: Option<usize>,
}

/// One row of a field table, as written.
#[derive(Clone, Debug)]
pub struct RawField {
    /// The name as written (markers removed).
    pub name: String,
    /// The required marker.
    pub required: Required,
    /// The type words, with their links.
    pub atoms: Vec<Atom>,
    /// The description cell, as Markdown.
    pub description: String,
    /// The row's line (index in the page's lines).
    pub line: usize,
    /// The value in an `Example` column, as written.
    pub example: Option<String>,
}

/// The header row's cells as plain lowercase words (Markdown marks dropped; headers are
/// short, so this skips a Markdown parser).
fn header_words(row: &Row) -> Vec<String> {
    row.cells.iter().map(|c| header_text(&c.text)).collect()
}

fn header_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' | '`' | '\\' | '[' | '_' if c != '_' || out.ends_with(' ') || out.is_empty() => {}
            ']' => {
                // Drop a link destination.
                if chars.peek() == Some(&'(') {
                    for n in chars.by_ref() {
                        if n == ')' {
                            break;
                        }
                    }
                }
            }
            '\n' | '\t' => out.push(' '),
            _ => out.extend(c.to_lowercase()),
        }
    }
    let words: Vec<&str> = out.split_whitespace().collect();
    words.join(" ")
}

fn is_header(row: &Row) -> bool {
    !row.cells.is_empty()
        && row.cells.iter().all(|c| {
            let t = c.text.trim();
            t.is_empty() || t.starts_with("**") || t.starts_with('`') || t.starts_with("<b>")
        })
        && header_words(row).iter().any(|w| {
            w.contains("description")
                || w.contains("name")
                || w.contains("code")
                || w.contains("type")
                || w.contains("field")
                || w.contains("parameter")
                || w.contains("value")
                || w.contains("error")
        })
}

/// Classifies a table by its header and finds the columns of a field table.
pub fn classify(table: &Table) -> (TableKind, Option<FieldColumns>) {
    let Some(first) = table.rows.first() else {
        return (TableKind::Other, None);
    };
    if !is_header(first) {
        // No header we know: a field table when rows start with a bold name. A first row of
        // bold cells is a header of another kind of table (`Language Identifier | Language`),
        // not a field.
        let bold = |c: &crate::yfm::Cell| c.text.trim_start().starts_with("**");
        let skip = usize::from(first.cells.iter().all(bold));
        let looks_like_fields = table
            .rows
            .iter()
            .skip(skip)
            .any(|r| r.cells.len() >= 2 && bold(&r.cells[0]));
        return if looks_like_fields {
            (
                TableKind::Fields,
                Some(FieldColumns {
                    name: 0,
                    ty: None,
                    description: Some(1),
                    header: false,
                    example: None,
                }),
            )
        } else {
            (TableKind::Other, None)
        };
    }
    let words = header_words(first);
    let has = |pred: &dyn Fn(&str) -> bool| words.iter().position(|w| pred(w));
    let code_col = has(&|w| {
        w == "code"
            || w.starts_with("code ")
            || w.ends_with(" code")
            || w == "error"
            || w == "error code"
    });
    let how_to_fix = has(&|w| w.contains("how to fix") || w.contains("solution"));
    if code_col.is_some() || how_to_fix.is_some() {
        let name_like = has(&|w| w.starts_with("name") || w.starts_with("parameter"));
        if name_like.is_none() || code_col.is_some() {
            return (TableKind::Errors, None);
        }
    }
    let first_word = words.first().map(String::as_str).unwrap_or("");
    if matches!(first_word, "type" | "types" | "data type" | "notation") {
        // A dictionary of type names, not fields.
        return (TableKind::Other, None);
    }
    let name_col = if [
        "name",
        "field",
        "parameter",
        "param",
        "value",
        "key",
        "property",
        "attribute",
        "option",
        "argument",
        "element",
        "setting",
        "variable",
    ]
    .iter()
    .any(|k| first_word.starts_with(k) || first_word.contains(&format!(" {k}")))
        || first_word.contains("type")
    {
        Some(0)
    } else {
        None
    };
    let Some(name) = name_col else {
        return (TableKind::Other, None);
    };
    let ty = words
        .iter()
        .enumerate()
        .skip(1)
        .find(|(_, w)| *w == "type" || w.starts_with("type ") || *w == "data type")
        .map(|(i, _)| i);
    let description = words
        .iter()
        .position(|w| w.contains("description"))
        .or_else(|| {
            (words.len() > 1)
                .then(|| words.len() - 1)
                .filter(|&i| Some(i) != ty)
        });
    // A name column that is really a list of values (`Value | Description` without types) is
    // still read as fields: the types are then missing, which the caller reports.
    (
        TableKind::Fields,
        Some(FieldColumns {
            name,
            ty,
            description,
            header: true,
            example: words.iter().position(|w| w.starts_with("example")),
        }),
    )
}

/// Reads the rows of a field table.
pub fn field_rows(table: &Table, cols: FieldColumns) -> Vec<RawField> {
    let skip = usize::from(cols.header);
    let mut out = Vec::new();
    for row in table.rows.iter().skip(skip) {
        let Some(name_cell) = row.cells.get(cols.name) else {
            continue;
        };
        let (name, required, mut atoms) = name_cell_parts(&name_cell.text);
        if name.is_empty() {
            continue;
        }
        if let Some(ty_cell) = cols.ty.and_then(|i| row.cells.get(i)) {
            atoms.extend(type_words(&inlines(&ty_cell.text)));
        }
        let description = cols
            .description
            .and_then(|i| row.cells.get(i))
            .map(|c| c.text.clone())
            .unwrap_or_default();
        let example = cols
            .example
            .and_then(|i| row.cells.get(i))
            .map(|c| c.text.trim().to_owned())
            .filter(|t| !t.is_empty());
        out.push(RawField {
            name,
            required,
            atoms,
            description,
            line: row.line,
            example,
        });
    }
    out
}

/// Splits a name cell into the name, the required marker and the type words.
pub fn name_cell_parts(text: &str) -> (String, Required, Vec<Atom>) {
    let items = inlines(text);
    let mut name = String::new();
    let mut required = Required::No;
    let mut rest_start = 0;
    // The name is the first bold run; without one, the first code span or word.
    if let Some(start) = items.iter().position(|i| *i == Inline::StrongStart) {
        let mut depth = 0;
        let mut end = items.len();
        for (k, item) in items.iter().enumerate().skip(start) {
            match item {
                Inline::StrongStart => depth += 1,
                Inline::StrongEnd => {
                    depth -= 1;
                    if depth == 0 {
                        end = k;
                        break;
                    }
                }
                Inline::Text(t) | Inline::Code(t) => name.push_str(t),
                Inline::Html(h) => name.push_str(&html_text(h)),
                _ => {}
            }
        }
        rest_start = (end + 1).min(items.len());
        // Markers right after the bold name: `*` (required), `**` (conditional), `^*^`.
        if let Some(Inline::Text(after)) = items.get(rest_start) {
            let marker: String = after
                .chars()
                .take_while(|c| matches!(c, '*' | '^'))
                .collect();
            let stars = marker.chars().filter(|&c| c == '*').count();
            if stars >= 2 {
                required = Required::Conditional;
            } else if stars == 1 {
                required = Required::Yes;
            }
        }
    } else if let Some((k, first)) = items.iter().enumerate().find_map(|(k, i)| match i {
        Inline::Code(t) => Some((k, t.clone())),
        Inline::Text(t) if !t.trim().is_empty() => {
            Some((k, t.split_whitespace().next().unwrap_or("").to_owned()))
        }
        _ => None,
    }) {
        name = first;
        rest_start = k + 1;
    }
    // Markers inside the bold name: `name*`, `name\*`, `name^*^`, `name**`.
    let mut trimmed = name.trim().to_owned();
    loop {
        if let Some(s) = trimmed.strip_suffix("^*^") {
            trimmed = s.trim_end().to_owned();
            required = required.max_with(Required::Yes);
        } else if let Some(s) = trimmed.strip_suffix("**") {
            trimmed = s.trim_end().to_owned();
            required = required.max_with(Required::Conditional);
        } else if let Some(s) = trimmed.strip_suffix('*') {
            // `UF_*`: a wildcard for a family of names (written `**UF_\***`), not a marker.
            if s.trim().is_empty() || s.ends_with('_') {
                break;
            }
            trimmed = s.trim_end().to_owned();
            required = required.max_with(Required::Yes);
        } else {
            break;
        }
    }
    let atoms = type_words(items.get(rest_start..).unwrap_or(&[]));
    (trimmed.replace('\\', ""), required, atoms)
}

/// The plain text of inline HTML such as `<selector>` written as a name.
fn html_text(h: &str) -> String {
    h.to_owned()
}

trait RequiredExt {
    fn max_with(self, other: Required) -> Required;
}

impl RequiredExt for Required {
    /// `Yes` wins over `Conditional`, which wins over `No`.
    fn max_with(self, other: Required) -> Required {
        match (self, other) {
            (Required::Yes, _) | (_, Required::Yes) => Required::Yes,
            (Required::Conditional, _) | (_, Required::Conditional) => Required::Conditional,
            _ => Required::No,
        }
    }
}

/// The type words in inline content: code spans (inside links or not), and plain words that
/// join them (`|`, `or`). A link whose text is not code (`[string](…)`) counts as a word.
pub fn type_words(items: &[Inline]) -> Vec<Atom> {
    let mut out: Vec<Atom> = Vec::new();
    let mut link: Option<String> = None;
    let mut link_text = String::new();
    let mut link_has_code = false;
    for item in items {
        match item {
            Inline::LinkStart(dest) => {
                link = Some(dest.clone());
                link_text.clear();
                link_has_code = false;
            }
            Inline::LinkEnd => {
                if !link_has_code && !link_text.trim().is_empty() {
                    out.push(Atom {
                        name: link_text.trim().to_owned(),
                        link: link.clone(),
                    });
                }
                link = None;
            }
            Inline::Code(c) => {
                if link.is_some() {
                    link_has_code = true;
                }
                out.push(Atom {
                    name: c.trim().to_owned(),
                    link: link.clone(),
                });
            }
            Inline::Text(t) if link.is_some() => link_text.push_str(t),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_markers() {
        let cases = [
            ("**code***\n[`string`](x.md)", "code", Required::Yes),
            ("**code**^*^\n`string`", "code", Required::Yes),
            ("**code^*^**\n`string`", "code", Required::Yes),
            ("**code****\n`string`", "code", Required::Conditional),
            ("**code\\***", "code", Required::Yes),
            ("**code**\n`string`", "code", Required::No),
            ("**UF_...**", "UF_...", Required::No),
            ("**UF_\\***", "UF_*", Required::No),
        ];
        for (text, name, req) in cases {
            let (n, r, _) = name_cell_parts(text);
            assert_eq!((n.as_str(), r), (name, req), "{text}");
        }
    }

    #[test]
    fn type_notations_in_name_cells() {
        let names = |text: &str| {
            name_cell_parts(text)
                .2
                .into_iter()
                .map(|a| (a.name, a.link))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names("**title***\n[`string`\\|`array`](../data-types.md)"),
            vec![
                ("string".into(), Some("../data-types.md".into())),
                ("array".into(), Some("../data-types.md".into()))
            ]
        );
        assert_eq!(
            names("**a**\n[`crm_contact[]`](x.md) \\| [`string`](y.md)"),
            vec![
                ("crm_contact[]".into(), Some("x.md".into())),
                ("string".into(), Some("y.md".into()))
            ]
        );
        assert_eq!(
            names("**a** `string|null`"),
            vec![("string|null".into(), None)]
        );
        assert_eq!(
            names("**a**\n[object](#anchor)"),
            vec![("object".into(), Some("#anchor".into()))]
        );
        assert!(names("**a**").is_empty());
    }

    #[test]
    fn header_variants() {
        let t = |rows: &[&[&str]]| Table {
            rows: rows
                .iter()
                .map(|r| Row {
                    cells: r
                        .iter()
                        .map(|c| crate::yfm::Cell {
                            text: (*c).into(),
                            line: 0,
                        })
                        .collect(),
                    line: 0,
                })
                .collect(),
            line: 0,
            end_line: 0,
        };
        assert_eq!(
            classify(&t(&[&["**Name**\n`type`", "**Description**"]])).0,
            TableKind::Fields
        );
        let (k, c) = classify(&t(&[&["**Field**", "**Type**", "**Description**"]]));
        assert_eq!(k, TableKind::Fields);
        let c = c.unwrap();
        assert_eq!((c.name, c.ty, c.description), (0, Some(1), Some(2)));
        for header in [
            &["**Code**", "**Description**"][..],
            &["**Status**", "**Code**", "**Description**", "**Value**"],
            &["**Code**", "**Error message**", "**Description**"],
            &["**Field**", "**Error description**", "**How to fix**"],
        ] {
            assert_eq!(classify(&t(&[header])).0, TableKind::Errors, "{header:?}");
        }
        assert_eq!(
            classify(&t(&[&["**Method**", "**Description**"]])).0,
            TableKind::Other
        );
    }
}
