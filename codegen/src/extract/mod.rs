//! From a parsed [`Page`] to the model: page classification and [`Method`] extraction.
//!
//! Rules (all follow the format, none a file or method name):
//! - **Name**: the last REST-style name (`a.b.c`, first letter lowercase) in the H1; without one,
//!   the method of the page's cURL URLs when they name exactly one. An H1 name that differs from
//!   the URL's is reported (`name_mismatch`), the H1 wins.
//! - **Kind**: a page whose H1 says "Overview" and names no method is an overview; a page whose
//!   quote says "Who can subscribe" (or whose H1 starts with "Event" and that says nothing of
//!   who executes it) is an event; a page with a REST name in its H1 and a `##` method section
//!   (parameters, code examples, response, errors) or "Who can execute the method" is a method;
//!   a page about widgets (scope `placement`, "Where the widget is embedded", "What the handler
//!   receives", a "Placement code" table) is a placement; a page whose cURL examples name one
//!   method and that has a method section is a method; the rest is an overview.
//! - **Version**: V3 when a cURL URL goes to `/rest/api/` or a note says the method belongs to
//!   REST 3.0.
//! - **Deprecated**: an `outdated`/`deprecated` path segment or a note titled (or saying)
//!   deprecated/discontinued/halted.
//! - **Access**: [`access_of`].

pub mod errors;
pub mod event;
pub mod examples;
mod fields;
pub(crate) mod flags;
pub mod table;
pub mod types;

use serde_json::Value;

use crate::diag::{DefectKind, Diagnostic};
use crate::model::{
    Access, ApiVersion, Example, ExampleKind, Field, Method, PageKind, Paging, Required, Source,
    Type,
};
use crate::page::{inlines, plain, BlockKind, Inline, Page};

pub use fields::{
    find_anchor as anchor_heading, report_untyped, section_tables as fields_section_tables, slug,
    Builder, Links, NoLinks,
};

/// A [`Builder`] of fields and types for `page`.
pub fn builder<'a>(
    page: &'a Page,
    links: &'a mut dyn Links,
    diags: &'a mut Vec<Diagnostic>,
) -> Builder<'a> {
    Builder::new(page, links, diags)
}
use table::TableKind;

/// The names a page gives for its method.
#[derive(Clone, Debug, Default)]
pub struct Naming {
    /// The REST name in the H1, if any.
    pub h1: Option<String>,
    /// The distinct method names of the page's cURL URLs, in order, with their REST 3.0 flag.
    pub urls: Vec<(String, bool)>,
}

/// A REST method name: dotted segments, the first starting with a lowercase letter.
pub fn is_rest_name(token: &str) -> bool {
    let mut segments = token.split('.');
    let Some(first) = segments.next() else {
        return false;
    };
    let ok_segment =
        |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    token.contains('.')
        && first.starts_with(|c: char| c.is_ascii_lowercase())
        && ok_segment(first)
        && token.split('.').skip(1).all(ok_segment)
        && !token
            .rsplit('.')
            .next()
            .is_some_and(|ext| matches!(ext, "md" | "html" | "php" | "js" | "json" | "txt"))
        && !token
            .split('.')
            .skip(1)
            .all(|s| s.chars().all(|c| c.is_ascii_digit()))
}

/// The REST names in a heading, in order.
pub fn rest_names(text: &str) -> Vec<String> {
    text.split(|c: char| {
        c.is_whitespace() || matches!(c, '`' | ',' | ':' | '(' | ')' | '"' | '«' | '»')
    })
    .map(|t| t.trim_end_matches(['.', '?', '!']))
    .filter(|t| is_rest_name(t))
    .map(str::to_owned)
    .collect()
}

/// The H1 of a page: (block index, text).
pub fn h1(page: &Page) -> Option<(usize, &str)> {
    page.blocks
        .iter()
        .enumerate()
        .find_map(|(i, b)| match &b.kind {
            BlockKind::Heading { level: 1, text, .. } => Some((i, text.as_str())),
            _ => None,
        })
}

/// The names a page gives for its method (H1 and cURL URLs).
pub fn naming(page: &Page) -> Naming {
    let mut naming = Naming {
        h1: h1(page).and_then(|(_, t)| rest_names(t).pop()),
        urls: Vec::new(),
    };
    for b in &page.blocks {
        if let BlockKind::Code { text, .. } = &b.kind {
            if !text.contains("curl") {
                continue;
            }
            if let Ok(cmds) = examples::curl_commands(text) {
                for c in cmds {
                    if let Some(found) = c.url.as_deref().and_then(examples::method_from_url) {
                        if !naming.urls.iter().any(|(n, _)| *n == found.0) {
                            naming.urls.push(found);
                        }
                    }
                }
            }
        }
    }
    naming
}

fn quote_text(page: &Page) -> String {
    let mut out = String::new();
    for b in &page.blocks {
        if let BlockKind::Prose { markdown } = &b.kind {
            if markdown.trim_start().starts_with('>') {
                out.push_str(markdown);
                out.push('\n');
            }
        }
    }
    out
}

/// The lowercase texts of the `##` (and, with `deeper`, `###`) headings.
fn heading_texts(page: &Page, deeper: bool) -> Vec<String> {
    page.blocks
        .iter()
        .filter_map(|b| match &b.kind {
            BlockKind::Heading { level, text, .. } if *level == 2 || (deeper && *level == 3) => {
                Some(text.to_lowercase())
            }
            _ => None,
        })
        .collect()
}

/// Classifies a page and, for a method page, names its method.
pub fn classify(page: &Page) -> (PageKind, Naming) {
    let naming = naming(page);
    let quote = quote_text(page).to_lowercase();
    let heads = heading_texts(page, true);
    let title = h1(page).map(|(_, t)| t.to_owned()).unwrap_or_default();
    let who_executes = quote.contains("who can execute");
    let overview_title = naming.h1.is_none() && title.to_lowercase().contains("overview");
    // A title alone ("Event …") is a weaker sign than "who can subscribe": such a page must
    // name its event too.
    let event = (!overview_title && quote.contains("who can subscribe"))
        || (!who_executes
            && !overview_title
            && (title.starts_with("Event ") || title.starts_with("Events "))
            && event::names_event(page));
    // A title naming a REST method keeps the page a method page, whatever its notes say.
    if naming.h1.is_none() && event::is_interface(page) {
        return (PageKind::Interface, naming);
    }
    if event && !event::is_event_index(page) {
        return (PageKind::Event, naming);
    }
    let method_section = heading_texts(page, false).iter().any(|h| {
        h.contains("method parameters")
            || h == "parameters"
            || h.contains("code example")
            || h.contains("response handling")
            || h.contains("returned data")
            || h.contains("error handling")
            || h == "request parameters"
    });
    if naming.h1.is_some() && (method_section || who_executes) {
        return (PageKind::Method, naming);
    }
    if overview_title {
        return (PageKind::Overview, naming);
    }
    let placement = quote.contains("`placement")
        || heads
            .iter()
            .any(|h| h.contains("where the widget") || h.contains("what the handler receives"))
        || page.tables.iter().any(|t| {
            t.rows
                .first()
                .and_then(|r| r.cells.first())
                .is_some_and(|c| c.text.to_lowercase().contains("placement"))
        });
    // A page about placements that names none (a guide, an index of placement pages) is an
    // overview: there is no placement to generate from it.
    let (titled, codes) = event::placement_codes(page);
    if placement && (titled.is_some() || !codes.is_empty()) {
        return (PageKind::Placement, naming);
    }
    if naming.urls.len() == 1 && method_section {
        return (PageKind::Method, naming);
    }
    (PageKind::Overview, naming)
}

/// The rule for [`Access`]: a method only reads when the last segment of its name starts with a
/// reading verb (`get`, `list`, `fields`, `count`, `search`, `find`, `check`, `is`, `has`,
/// `info`, `current`, `status`, `version`, `export`, `read`, `show`, `view`, `describe`,
/// `download`) or is one of the reading nouns `types`, `settings`, `scope`, `methods`, `access`,
/// `diff`. Everything else may write.
pub fn access_of(name: &str) -> Access {
    let last = name.rsplit('.').next().unwrap_or(name).to_ascii_lowercase();
    const VERBS: &[&str] = &[
        "get", "list", "fields", "count", "search", "find", "check", "is", "has", "info",
        "current", "status", "version", "export", "read", "show", "view", "describe", "download",
        "filter", "select", "query",
    ];
    const NOUNS: &[&str] = &[
        "types", "settings", "scope", "methods", "access", "diff", "tail",
    ];
    let verb = VERBS.iter().any(|v| {
        last == *v
            || (last.starts_with(v)
                && last[v.len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| c == '_' || c.is_ascii_uppercase() || v.len() >= 4))
    });
    // Names are case-insensitive on the wire but camelCase in the docs: `getList`, `isOffers`.
    let camel = {
        let orig = name.rsplit('.').next().unwrap_or(name);
        VERBS.iter().any(|v| {
            orig.len() > v.len()
                && orig.to_ascii_lowercase().starts_with(v)
                && orig[v.len()..].starts_with(|c: char| c.is_ascii_uppercase())
        })
    };
    if verb || camel || NOUNS.contains(&last.as_str()) {
        Access::Read
    } else {
        Access::Write
    }
}

/// [`access_of`] with the page title: a method whose title opens with a reading verb ("Get
/// Event by ID", "Check Access to Task") reads too, unless its name or title also names a
/// change ("Get or Modify ...", `imopenlines.session.open`). A write taken for a read could be
/// re-sent, so both must agree.
pub fn access_of_titled(name: &str, title: &str) -> Access {
    if access_of(name) == Access::Read {
        return Access::Read;
    }
    const READING: &[&str] = &[
        "get", "retrieve", "list", "find", "check", "search", "view", "show", "count", "fetch",
        "obtain", "receive",
    ];
    const CHANGING: &[&str] = &[
        "add", "create", "update", "set", "delete", "remove", "open", "close", "start", "stop",
        "complete", "send", "mark", "move", "bind", "unbind", "register", "attach", "modify",
        "change", "clear", "reset", "save", "upload", "import", "copy", "rename", "restore",
        "approve", "accept", "edit", "write", "put", "enable", "disable", "run", "execute",
    ];
    let lower = title.to_lowercase();
    let mut words = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty());
    let reads = words.next().is_some_and(|w| READING.contains(&w));
    let changes_in_title = words.any(|w| CHANGING.contains(&w));
    // A segment that is a changing verb, or starts with one at a camelCase or `_` boundary
    // (`addFile`, `set_owner`; not `addresstype`).
    let changes_in_name = name.split('.').skip(1).any(|segment| {
        CHANGING.iter().any(|v| {
            segment.eq_ignore_ascii_case(v)
                || segment.len() > v.len()
                    && segment.is_char_boundary(v.len())
                    && segment[..v.len()].eq_ignore_ascii_case(v)
                    && segment[v.len()..].starts_with(|c: char| c.is_ascii_uppercase() || c == '_')
        })
    });
    if reads && !changes_in_title && !changes_in_name {
        Access::Read
    } else {
        Access::Write
    }
}

/// The role of a `##` section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Intro,
    Params,
    Examples,
    Response,
    Errors,
    Other,
}

fn role_of(heading: &str) -> Role {
    let h = heading.to_lowercase();
    if h.contains("error") || h.contains("mistake") {
        Role::Errors
    } else if h.contains("response")
        || h.contains("returned")
        || h.contains("result")
        || h.contains("what is returned")
    {
        Role::Response
    } else if h.contains("example") {
        Role::Examples
    } else if h.contains("parameter")
        || h.contains("request")
        || h.contains("argument")
        || h.contains("fields")
    {
        Role::Params
    } else {
        Role::Other
    }
}

/// Per block: the role of its `##` section and the index of its nearest heading block.
struct Layout {
    role: Vec<Role>,
    nearest: Vec<Option<usize>>,
}

fn layout(page: &Page) -> Layout {
    let mut role = Vec::with_capacity(page.blocks.len());
    let mut nearest = Vec::with_capacity(page.blocks.len());
    let mut current = Role::Intro;
    let mut last_heading = None;
    for (i, b) in page.blocks.iter().enumerate() {
        if let BlockKind::Heading { level, text, .. } = &b.kind {
            if *level == 2 {
                current = role_of(text);
            } else if *level == 1 {
                current = Role::Intro;
            } else if current == Role::Other || current == Role::Intro {
                // A `###` section directly under an unnamed part may carry the role itself.
                let r = role_of(text);
                if r != Role::Other && r != Role::Params {
                    current = r;
                }
            }
            last_heading = Some(i);
        }
        role.push(current);
        nearest.push(last_heading);
    }
    Layout { role, nearest }
}

/// Reads a method page into a [`Method`]. `path_segments` are the page's folder names (for
/// the `outdated`/`deprecated` rule). Returns `None` (with an error diagnostic) when the page
/// has no method name.
pub fn method(
    page: &Page,
    naming: &Naming,
    path_segments: &[&str],
    links: &mut dyn Links,
    diags: &mut Vec<Diagnostic>,
) -> Option<Method> {
    let (h1_index, h1_text) = match h1(page) {
        Some((i, t)) => (Some(i), t.to_owned()),
        None => (None, String::new()),
    };
    let h1_line = h1_index.map(|i| page.blocks[i].line).unwrap_or(0);
    let name = method_name(naming, page.source(h1_line), diags)?;
    let title = title_without(&h1_text, &name);
    let lay = layout(page);
    let notes_text = note_texts(page);
    let version = api_version(naming, &name, &notes_text);
    let deprecated = deprecation(path_segments, &notes_text);
    let (scopes, who_can_call) = scope_and_who(page);
    let description = description(page, &lay);

    let mut b = Builder::new(page, links, diags);
    let mut params = read_params(&mut b, page, &lay);
    let examples = read_examples(&mut b, page, &lay);
    // Request examples widen the parameters they contradict.
    for ex in examples.iter().filter(|e| e.kind == ExampleKind::Request) {
        if let Some(Value::Object(map)) = &ex.json {
            b.reconcile_params(&mut params, map, &ex.source);
        }
    }
    let result_rows: Vec<table::RawField> = tables_for(page, &lay, Role::Response)
        .into_iter()
        .flat_map(|ti| b.rows_of(ti))
        .collect();
    let has_next = sends_next(&result_rows, &examples);
    let mut result = read_result(&mut b, result_rows, &examples, h1_line);
    let mut errors = b.errors(&lay_errors(page, &lay));
    errors::recognise_by_examples(&mut errors, &examples);
    let paging = paging(&params, &result, has_next);
    drop(b);
    fill_example_sources(page, h1_line, &examples, &mut params, &mut result);
    report_untyped_method(page, h1_line, &params, &result, diags);
    Some(Method {
        access: access_of_titled(&name, &title),
        name,
        version,
        title,
        description,
        scopes,
        who_can_call,
        deprecated,
        params,
        result,
        paging,
        errors,
        examples,
        source: page.source(h1_line),
    })
}

/// The method's name: the H1's (reporting a cURL example that calls another), else the first
/// cURL URL's; without either, `None`, reported as an error at `source`.
fn method_name(naming: &Naming, source: Source, diags: &mut Vec<Diagnostic>) -> Option<String> {
    match (&naming.h1, naming.urls.first()) {
        (Some(h), url) => {
            if let Some((u, _)) = url {
                let mismatch = !naming.urls.iter().any(|(u, _)| u.eq_ignore_ascii_case(h));
                if mismatch {
                    diags.push(Diagnostic::defect(
                        source,
                        DefectKind::NameMismatch,
                        format!("the title names `{h}` but the cURL example calls `{u}`"),
                    ));
                }
            }
            Some(h.clone())
        }
        (None, Some((u, _))) => Some(u.clone()),
        (None, None) => {
            diags.push(Diagnostic::error(
                source,
                DefectKind::NoMethodName,
                "no method name in the title or in a cURL example",
            ));
            None
        }
    }
}

/// The page's notes: (title, text).
fn note_texts(page: &Page) -> Vec<(String, String)> {
    page.notes
        .iter()
        .map(|n| (n.title.clone(), page.note_text(n)))
        .collect()
}

/// V3 when a cURL URL calling `name` goes to REST 3.0 or a note says the method belongs to it.
fn api_version(naming: &Naming, name: &str, notes: &[(String, String)]) -> ApiVersion {
    let v3 = naming
        .urls
        .iter()
        .any(|(u, v3)| *v3 && u.eq_ignore_ascii_case(name))
        || notes
            .iter()
            .any(|(_, text)| text.contains("belongs to REST 3.0"));
    if v3 {
        ApiVersion::V3
    } else {
        ApiVersion::V2
    }
}

/// The parameters: the field tables of the parameters section (those right under its heading
/// first), alternatives marked. Their names are learned for reading the examples.
fn read_params(b: &mut Builder<'_>, page: &Page, lay: &Layout) -> Vec<Field> {
    let param_tables = tables_for(page, lay, Role::Params);
    let mut param_rows: Vec<table::RawField> = Vec::new();
    for &ti in &param_tables {
        // A table under a heading named after a parameter ("## Parameter fields") describes
        // that parameter's structure, not more parameters.
        if heading_names_one_of(page, lay, ti, &param_rows) {
            continue;
        }
        // Several tables (one per way of calling) may repeat a parameter: the first one counts.
        let seen: Vec<String> = param_rows.iter().map(|p| p.name.clone()).collect();
        param_rows.extend(
            b.rows_of(ti)
                .into_iter()
                .filter(|r| !seen.contains(&r.name)),
        );
    }
    let mut params = b.fields(param_rows, false);
    mark_alternatives(&mut params);
    b.learn_names(&params);
    params
}

/// The page's own examples (not those of included files): its cURL commands, and the JSON
/// bodies of its response and error sections.
fn read_examples(b: &mut Builder<'_>, page: &Page, lay: &Layout) -> Vec<Example> {
    let mut examples = Vec::new();
    for (i, block) in page.blocks.iter().enumerate() {
        let BlockKind::Code { lang, text } = &block.kind else {
            continue;
        };
        if page.is_included(block.line) {
            continue;
        }
        if text.contains("curl ") || text.trim_start().starts_with("curl") {
            b.curl_examples(text, block.line, &mut examples);
        } else if (lang.starts_with("json") || matches!(lang.as_str(), "" | "js" | "javascript"))
            && text.trim_start().starts_with(['{', '['])
            && matches!(lay.role[i], Role::Response | Role::Errors)
        {
            let looks_error = text.contains("\"error\"") && !text.contains("\"result\"");
            let kind = if lay.role[i] == Role::Errors || looks_error {
                ExampleKind::Error
            } else {
                ExampleKind::Response
            };
            if let Some(ex) = b.json_example(kind, text, block.line) {
                examples.push(ex);
            }
        }
    }
    examples
}

/// Whether the envelope's `next` or `total` is sent, which it is only beside a page of a list.
/// (A table row `total` may be a count inside `result`, so only `next` is read from the
/// returned-data rows.)
fn sends_next(result_rows: &[table::RawField], examples: &[Example]) -> bool {
    result_rows.iter().any(|r| r.name == "next")
        || examples.iter().any(|e| {
            e.kind == ExampleKind::Response
                && matches!(&e.json, Some(Value::Object(m))
                    if m.contains_key("next") || m.contains_key("total"))
        })
}

/// The result: the returned-data rows with the first response example's `result`, which
/// every other response example must fit too.
fn read_result(
    b: &mut Builder<'_>,
    result_rows: Vec<table::RawField>,
    examples: &[Example],
    h1_line: usize,
) -> Type {
    let mut response_results = examples
        .iter()
        .filter(|e| e.kind == ExampleKind::Response)
        .filter_map(|e| match &e.json {
            Some(Value::Object(map)) => map.get("result").map(|v| (v, &e.source)),
            _ => None,
        });
    let response_example = response_results.next();
    let more_results: Vec<(&Value, &Source)> = response_results.collect();
    let mut result = b.result(result_rows, response_example, h1_line);
    for (v, at) in more_results {
        result = b.fit_example(result, v, at, h1_line);
    }
    result
}

/// Fields known only from an example are described where the first example of their kind is
/// (without one, at the H1).
fn fill_example_sources(
    page: &Page,
    h1_line: usize,
    examples: &[Example],
    params: &mut [Field],
    result: &mut Type,
) {
    let first = |kind: ExampleKind| {
        examples
            .iter()
            .find(|e| e.kind == kind)
            .map_or_else(|| page.source(h1_line), |e| e.source.clone())
    };
    types::fill_sources(params, &first(ExampleKind::Request));
    types::fill_sources_in(result, &first(ExampleKind::Response));
}

/// Reports, once and where it is described, what neither the tables nor the examples type; a
/// result that cannot be typed at all is reported at the H1.
fn report_untyped_method(
    page: &Page,
    h1_line: usize,
    params: &[Field],
    result: &Type,
    diags: &mut Vec<Diagnostic>,
) {
    fields::report_untyped(params, diags);
    match fields::untyped_reason(result) {
        Some(reason) => diags.push(Diagnostic::defect(
            page.source(h1_line),
            DefectKind::Untyped,
            format!("the result cannot be typed: {reason}"),
        )),
        None => fields::report_untyped_in(result, diags),
    }
}

fn lay_errors(page: &Page, lay: &Layout) -> Vec<(usize, Option<String>)> {
    // (table index, `Error Code: X` written before it).
    let mut out = Vec::new();
    let mut code_before: Option<String> = None;
    for (i, b) in page.blocks.iter().enumerate() {
        match &b.kind {
            BlockKind::Heading { .. } => code_before = None,
            BlockKind::Prose { markdown } => {
                if let Some(c) = errors::code_line(markdown) {
                    code_before = Some(c);
                }
            }
            BlockKind::Table(ti) => {
                let table = &page.tables[*ti];
                if page.is_included(table.line) {
                    continue;
                }
                let kind = table::classify(table).0;
                if kind == TableKind::Errors
                    && (lay.role[i] == Role::Errors || code_before.is_some())
                {
                    out.push((*ti, code_before.clone()));
                }
            }
            _ => {}
        }
    }
    out
}

/// The field tables of a role's section: those right under the section's `##` heading (or
/// under a heading that names the role), not those of sub-structure sections.
fn tables_for(page: &Page, lay: &Layout, role: Role) -> Vec<usize> {
    let mut direct = Vec::new();
    let mut all = Vec::new();
    for (i, b) in page.blocks.iter().enumerate() {
        let BlockKind::Table(ti) = b.kind else {
            continue;
        };
        let table = &page.tables[ti];
        if page.is_included(table.line) && role == Role::Response {
            // Included "returned error information" tables describe errors, not results.
            if page.note_at(table.line).is_none() && lay.role[i] != Role::Response {
                continue;
            }
        }
        if table::classify(table).0 != TableKind::Fields {
            continue;
        }
        let in_role = lay.role[i] == role || (role == Role::Params && lay.role[i] == Role::Intro);
        if !in_role {
            continue;
        }
        if page.is_included(table.line) && role == Role::Params {
            continue;
        }
        all.push(ti);
        let heading = lay.nearest[i].map(|h| &page.blocks[h].kind);
        let direct_under = match heading {
            Some(BlockKind::Heading {
                level,
                text,
                anchor,
            }) => {
                *level <= 2
                    || (anchor.is_none() && role_of(text) == role && !text.contains(' ')
                        || names_role(text, role))
            }
            _ => true,
        };
        if direct_under {
            direct.push(ti);
        }
    }
    if direct.is_empty() {
        all.truncate(1);
        all
    } else {
        direct
    }
}

/// True when the heading over table `ti` names one of `rows` ("Parameter fields",
/// "`FIELDS` Parameter").
fn heading_names_one_of(page: &Page, lay: &Layout, ti: usize, rows: &[table::RawField]) -> bool {
    let Some(block) = page
        .blocks
        .iter()
        .position(|b| matches!(b.kind, BlockKind::Table(t) if t == ti))
    else {
        return false;
    };
    let Some(BlockKind::Heading { text, .. }) = lay.nearest[block].map(|h| &page.blocks[h].kind)
    else {
        return false;
    };
    fields::heading_words(text).any(|word| rows.iter().any(|r| r.name == word))
}

/// Headings such as "Returned data", "Response fields", "Request parameters".
fn names_role(heading: &str, role: Role) -> bool {
    let h = heading.to_lowercase();
    match role {
        Role::Response => {
            h.contains("returned")
                || h == "response"
                || h.contains("response fields")
                || h == "result"
        }
        Role::Params => {
            h.contains("method parameters") || h == "parameters" || h.contains("request parameters")
        }
        _ => false,
    }
}

fn title_without(h1: &str, name: &str) -> String {
    let t = match h1.rfind(name) {
        Some(pos) => format!("{}{}", &h1[..pos], &h1[pos + name.len()..]),
        None => h1.to_owned(),
    };
    let t = t.replace("``", "");
    let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
    t.trim()
        .trim_end_matches([':', '-', '—', ',', ' '])
        .trim()
        .to_owned()
}

fn deprecation(path_segments: &[&str], notes: &[(String, String)]) -> Option<String> {
    for (title, text) in notes {
        let t = title.to_lowercase();
        let body = text.to_lowercase();
        let marked = |s: &str| {
            s.contains("deprecated")
                || s.contains("discontinued")
                || s.contains("development has been halted")
                || s.contains("development of this method has been halted")
                || s.contains("no longer supported")
                || s.contains("outdated")
        };
        if marked(&t) || (t.is_empty() && marked(&body) && body.len() < 600) {
            let text = text.trim();
            return Some(if text.is_empty() {
                title.clone()
            } else {
                text.to_owned()
            });
        }
    }
    path_segments
        .iter()
        .any(|s| s.eq_ignore_ascii_case("outdated") || s.eq_ignore_ascii_case("deprecated"))
        .then(|| "This method is in an outdated section of the documentation.".to_owned())
}

fn scope_and_who(page: &Page) -> (Vec<String>, Option<String>) {
    let mut scopes = Vec::new();
    let mut who = None;
    for b in &page.blocks {
        let BlockKind::Prose { markdown } = &b.kind else {
            continue;
        };
        if !markdown.trim_start().starts_with('>') {
            continue;
        }
        let lines: Vec<&str> = markdown
            .lines()
            .map(|l| l.trim_start_matches(['>', ' ']))
            .collect();
        for (k, &line) in lines.iter().enumerate() {
            let lower = line.to_lowercase();
            if lower.starts_with("scope") && scopes.is_empty() {
                for item in inlines(line) {
                    if let Inline::Code(c) = item {
                        scopes.extend(
                            c.split(',')
                                .map(|s| s.trim().to_owned())
                                .filter(|s| !s.is_empty()),
                        );
                    }
                }
                if scopes.is_empty() {
                    if let Some((_, rest)) = line.split_once(':') {
                        scopes.extend(
                            plain(rest)
                                .split(',')
                                .map(|s| s.trim().to_owned())
                                .filter(|s| !s.is_empty()),
                        );
                    }
                }
            } else if lower.starts_with("who can") && who.is_none() {
                if let Some((_, rest)) = line.split_once(':') {
                    let mut w = plain(rest);
                    if w.is_empty() {
                        // The answer is a list on the following quote lines.
                        let more: Vec<&str> = lines[k + 1..]
                            .iter()
                            .take_while(|l| !l.trim().is_empty())
                            .copied()
                            .collect();
                        w = plain(&more.join("\n"));
                    }
                    if !w.is_empty() {
                        who = Some(w);
                    }
                }
            }
        }
    }
    (scopes, who)
}

/// The prose between the H1 and the first `##` (or the first table), outside notes and the
/// scope quote, as Markdown.
fn description(page: &Page, lay: &Layout) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut seen_h1 = false;
    for (i, b) in page.blocks.iter().enumerate() {
        match &b.kind {
            BlockKind::Heading { level: 1, .. } => seen_h1 = true,
            BlockKind::Heading { .. } | BlockKind::Table(_) if seen_h1 => break,
            BlockKind::Prose { markdown } if seen_h1 && lay.role[i] == Role::Intro => {
                if page.note_at(b.line).is_some() || page.is_included(b.line) {
                    continue;
                }
                let lower = markdown.to_lowercase();
                if markdown.trim_start().starts_with('>')
                    && (lower.contains("scope") || lower.contains("who can"))
                {
                    continue;
                }
                parts.push(clean_markdown(markdown));
            }
            BlockKind::Code { lang, text } if seen_h1 && lay.role[i] == Role::Intro => {
                if page.note_at(b.line).is_some() {
                    continue;
                }
                parts.push(format!("```{lang}\n{}\n```", text.trim_end()));
            }
            _ => {}
        }
    }
    parts.join("\n\n")
}

/// Markdown with YFM leftovers removed: attribute markers and `{#T}` link texts (replaced by
/// the link's file name).
pub fn clean_markdown(markdown: &str) -> String {
    let text = markdown.replace("[{#T}](", "[](");
    // `[](target.md)` → `[target](target.md)`, in one pass (searching the whole text again
    // for each link was quadratic). A target is short: its `)` is looked for in 256 bytes.
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text.as_str();
    while let Some(pos) = rest.find("[](") {
        let after = &rest[pos + 3..];
        let end = after.bytes().take(256).position(|b| b == b')').unwrap_or(0);
        let target = &after[..end];
        let stem = target
            .rsplit('/')
            .next()
            .unwrap_or(target)
            .split(['#', '.'])
            .next()
            .unwrap_or("link")
            .to_owned();
        let stem = if stem.is_empty() {
            "link".to_owned()
        } else {
            stem
        };
        out.push_str(&rest[..pos]);
        out.push_str(&format!("[{stem}]"));
        rest = &rest[pos + 2..];
    }
    out.push_str(rest);
    crate::page::strip_attributes(&out)
}

/// Parameters marked required that the docs say may stand in for one another ("At least one of
/// the parameters must be specified: `A` or `B`", "Required if `A` is not provided") are
/// required only in some cases: neither may be demanded on its own.
fn mark_alternatives(params: &mut [Field]) {
    const PHRASES: &[&str] = &[
        "at least one of",
        "one of the parameters",
        "either",
        "required if",
        "is not provided",
        "is not specified",
        "is not passed",
    ];
    let required: Vec<String> = params
        .iter()
        .filter(|p| p.required == Required::Yes)
        .map(|p| p.api_name.clone())
        .collect();
    let mut alternatives: Vec<String> = Vec::new();
    for p in params.iter().filter(|p| p.required == Required::Yes) {
        let text = p.description.to_lowercase();
        if !PHRASES.iter().any(|phrase| text.contains(phrase)) {
            continue;
        }
        let named: Vec<&String> = required
            .iter()
            .filter(|name| **name != p.api_name)
            .filter(|name| p.description.contains(&format!("`{name}`")))
            .collect();
        if !named.is_empty() {
            alternatives.push(p.api_name.clone());
            alternatives.extend(named.into_iter().cloned());
        }
    }
    // Two fields that "must be passed along with" each other: each is required when the other
    // is sent.
    for p in params.iter() {
        let text = p.description.to_lowercase();
        if !(text.contains("along with") || text.contains("together with")) {
            continue;
        }
        for q in params.iter().filter(|q| q.api_name != p.api_name) {
            if p.description.contains(&format!("`{}`", q.api_name)) {
                for name in [&p.api_name, &q.api_name] {
                    alternatives.push(name.clone());
                }
            }
        }
    }
    // A parameter that "can be used instead of the `from` parameter" is an alternative to it:
    // both are required only in some cases.
    for p in params.iter() {
        let text = p.description.to_lowercase();
        if !(text.contains("instead of") || text.contains("alternative to")) {
            continue;
        }
        for name in required.iter().filter(|name| **name != p.api_name) {
            if p.description.contains(&format!("`{name}`")) {
                alternatives.push(p.api_name.clone());
                alternatives.push(name.clone());
            }
        }
    }
    for p in params.iter_mut() {
        if alternatives.contains(&p.api_name) {
            p.required = Required::Conditional;
        }
        // "This parameter is required if `auto_detect_section` is passed and not `Y`":
        // required in the case the page names, whatever other parameter that names.
        let text = p.description.to_lowercase();
        if p.required == Required::Yes
            && [
                "is required if",
                "is required only",
                "required when",
                "required only if",
            ]
            .iter()
            .any(|phrase| text.contains(phrase))
        {
            p.required = Required::Conditional;
        }
        // The same holds among the fields of a structure the request sends.
        if let Type::Object { fields } = &mut p.ty {
            mark_alternatives(fields);
        }
    }
}

/// Paging: methods with a `start` parameter or a `next` or `total` beside their result; the items are
/// `result` itself when it is an array, else its only array field (or the first one the
/// example fills).
fn paging(params: &[Field], result: &Type, has_next: bool) -> Option<Paging> {
    let has_start = params
        .iter()
        .any(|p| p.api_name.eq_ignore_ascii_case("start"));
    if !has_start && !has_next {
        return None;
    }
    let unwrap = |t: &Type| match t {
        Type::Nullable { inner } => (**inner).clone(),
        other => other.clone(),
    };
    match unwrap(result) {
        Type::Array { .. } => Some(Paging { items_key: None }),
        Type::Object { fields } => {
            let arrays: Vec<&Field> = fields
                .iter()
                .filter(|f| matches!(unwrap(&f.ty), Type::Array { .. }))
                .collect();
            match arrays.as_slice() {
                [one] => Some(Paging {
                    items_key: Some(one.api_name.clone()),
                }),
                _ => None,
            }
        }
        _ => None,
    }
}

/// A JSON example's source text with the lines of the block.
pub(crate) fn example(
    kind: ExampleKind,
    text: &str,
    json: Option<Value>,
    repaired: bool,
    source: Source,
) -> Example {
    Example {
        kind,
        text: text.to_owned(),
        json,
        repaired,
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_names_in_titles() {
        assert_eq!(
            rest_names("# Add Badge crm.activity.badge.add"),
            vec!["crm.activity.badge.add"]
        );
        assert_eq!(
            rest_names("Set Included Areas for landing.template.setLandingRef Page"),
            vec!["landing.template.setLandingRef"]
        );
        assert!(
            rest_names("Check Access Permissions v 3.0 tasks.task.access.get")
                .contains(&"tasks.task.access.get".to_owned())
        );
        assert!(rest_names("Event on Price Change CATALOG.PRICE.ON.UPDATE").is_empty());
        assert!(rest_names("Get data user.option.*").is_empty());
        assert!(rest_names("See crm-item-list.md").is_empty());
    }

    #[test]
    fn access_rule() {
        for read in [
            "crm.item.get",
            "crm.item.list",
            "crm.item.fields",
            "user.current",
            "catalog.catalog.isOffers",
            "landing.site.getList",
            "crm.duplicate.findbycomm",
            "crm.status.entity.types",
        ] {
            assert_eq!(access_of(read), Access::Read, "{read}");
        }
        for write in [
            "crm.item.add",
            "crm.item.update",
            "crm.activity.badge.delete",
            "im.message.add",
            "crm.item.listing.set",
            "tasks.task.start",
        ] {
            assert_eq!(access_of(write), Access::Write, "{write}");
        }
    }

    #[test]
    fn access_from_the_title_when_both_agree() {
        let read = access_of_titled("calendar.event.getbyid", "Get Event by ID");
        assert_eq!(read, Access::Read);
        let read = access_of_titled("tasks.task.getaccess", "Check Access to Task");
        assert_eq!(read, Access::Read);
        let write = access_of_titled("entity.rights", "Get or Modify Access Permissions");
        assert_eq!(write, Access::Write);
        let write = access_of_titled("imopenlines.session.open", "Get Chat by User Code");
        assert_eq!(write, Access::Write);
        let write = access_of_titled("im.notify.read.all", "Read All Notifications");
        assert_eq!(write, Access::Write);
        assert_eq!(access_of_titled("crm.item.add", "Create"), Access::Write);
    }

    #[test]
    fn titles_lose_the_method_name() {
        assert_eq!(
            title_without("Add Badge crm.activity.badge.add", "crm.activity.badge.add"),
            "Add Badge"
        );
        assert_eq!(
            title_without("Get Estimate by ID: crm.quote.get", "crm.quote.get"),
            "Get Estimate by ID"
        );
    }
}
