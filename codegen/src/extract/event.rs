//! Event and placement pages → [`Event`] and [`Placement`].
//!
//! Event and placement pages use the tables of method pages; what differs is what they
//! describe. Rules (all follow the format, none a page or event name):
//!
//! - **Event name**: the `event` value of the page's JSON payload example; without one, the
//!   title's event code (the last word of the H1 made of letters, digits, `.`, `_` and `:` with
//!   a capital letter after its first character: `onCrmDealAdd`, `ONIMBOTJOINCHAT`,
//!   `CATALOG.PRICE.ON.ADD`). A title code that differs from the example's (in more than
//!   letter case) is reported (`name_mismatch`); the example wins, as the portal sends it.
//! - **Type name**: the title's spelling of the code when it is the event name in another case
//!   (`onCrmDealAdd` for `ONCRMDEALADD`), else the event name.
//! - **Payload**: the `data` row of the page's first field table that has one (dotted rows
//!   `data.FIELDS` and the sections their descriptions link to nest under it), fitted to the
//!   `data` of every payload example. The envelope (`event`, `event_handler_id`, `ts`) and the
//!   `auth` block are the same on every page: the runtime types them once.
//! - **Placement name**: the first upper-case code with an underscore in the H1
//!   (`CRM_XXX_DETAIL_TAB`, `LANDING_BLOCK_*`), else the first code of the placement code table
//!   (the table whose first header cell names the placement). **Codes**: that table's first
//!   column. **Options**: the section under the heading that names `PLACEMENT_OPTIONS`, fitted
//!   to every example of the options: a JSON object with a documented option's key, or the
//!   `[PLACEMENT_OPTIONS] => {...}` line of a printed POST. Keys only an example shows (the
//!   universal `URI`, or all of them on a page that describes its options in prose) are typed
//!   from it.
//! - **What is neither** ([`super::classify`]): a page about the JS interface of a widget's
//!   frame ([`is_interface`]) is an interface page. These are overviews: a page that would be
//!   an event page but names no event and lists event pages ([`is_event_index`]); a page
//!   titled as events that names none and does not say who can subscribe (a reference of
//!   formats); a page about placements that names no placement code (a guide). Nothing is
//!   generated from either.

use serde_json::Value;

use crate::diag::{DefectKind, Diagnostic};
use crate::model::{Event, Example, ExampleKind, Field, Placement, Type};
use crate::page::{inlines, plain, BlockKind, Inline, Page};

use super::{description, fields, h1, layout, scope_and_who, title_without, Builder, Links};

/// Reads an event page. `None` (with a `no_event_name` defect) when it names no event.
pub fn event(page: &Page, links: &mut dyn Links, diags: &mut Vec<Diagnostic>) -> Option<Event> {
    let (h1_index, h1_text) = h1(page).map_or((None, ""), |(i, t)| (Some(i), t));
    let h1_line = h1_index.map_or(0, |i| page.blocks[i].line);
    let source = page.source(h1_line);
    let lay = layout(page);
    let (scopes, who_can_subscribe) = scope_and_who(page);
    let description = description(page, &lay);
    let mut b = Builder::new(page, links, diags);

    // A payload example is an object with the event's code and its data.
    let examples = object_examples(page, &mut b, |m| m.contains_key("event"));
    let example_name = examples.iter().find_map(|e| match &e.json {
        Some(Value::Object(m)) => m
            .get("event")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        _ => None,
    });
    let title_code = event_code(h1_text);
    let mut mismatch = None;
    let (name, type_name) = match (example_name, title_code) {
        (Some(sent), Some(titled)) => {
            if !sent.eq_ignore_ascii_case(&titled) {
                mismatch = Some(Diagnostic::defect(
                    source.clone(),
                    DefectKind::NameMismatch,
                    format!("the title names `{titled}` but the example sends `{sent}`"),
                ));
                (sent.clone(), sent)
            } else {
                (sent, titled)
            }
        }
        (Some(sent), None) => (sent.clone(), sent),
        (None, Some(titled)) => (titled.clone(), titled),
        (None, None) => {
            drop(b);
            diags.push(Diagnostic::defect(
                source,
                DefectKind::NoEventName,
                "an event page without an event code in its title or a payload example",
            ));
            return None;
        }
    };
    let title = title_without(h1_text, title_code_or(&type_name, h1_text));

    // The payload: the `data` row of the first field table with one.
    let mut data = None;
    for ti in 0..page.tables.len() {
        if page.is_included(page.tables[ti].line) {
            continue;
        }
        let rows = b.rows_of(ti);
        let has_data = rows
            .iter()
            .any(|r| r.name == "data" || r.name.starts_with("data."));
        if !has_data {
            continue;
        }
        let fields = b.fields(rows, true);
        data = fields
            .into_iter()
            .find(|f| f.api_name == "data")
            .map(|f| f.ty);
        break;
    }
    let mut data =
        data.unwrap_or_else(|| Type::untyped("the page has no table of the event's data"));
    for ex in &examples {
        if let Some(Value::Object(m)) = &ex.json {
            if let Some(v) = m.get("data").filter(|v| !v.is_null()) {
                let line = ex.source.line as usize;
                data = b.fit_example(data, v, &ex.source, line.saturating_sub(1));
            }
        }
    }
    drop(b);
    diags.extend(mismatch);
    fields::report_untyped_in(&data, diags);
    Some(Event {
        name,
        type_name,
        title,
        description,
        scopes,
        who_can_subscribe,
        data,
        examples,
        source,
        deprecated: None,
    })
}

/// The text to cut from the title: the code as the title writes it.
fn title_code_or<'a>(code: &'a str, h1: &'a str) -> &'a str {
    h1.split_whitespace()
        .map(|w| w.trim_matches(|c: char| "`:,()".contains(c)))
        .find(|w| w.eq_ignore_ascii_case(code))
        .unwrap_or(code)
}

/// The title's event code: its last word of code characters with a capital letter after the
/// first character.
fn event_code(h1: &str) -> Option<String> {
    h1.split_whitespace()
        .map(|w| w.trim_matches(|c: char| "`:,()\"".contains(c)))
        .rfind(|w| {
            w.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':'))
                && w.chars().skip(1).any(|c| c.is_ascii_uppercase())
        })
        .map(str::to_owned)
}

/// Reads a placement page. `None` (with a `no_event_name` defect) when it names no placement.
pub fn placement(
    page: &Page,
    links: &mut dyn Links,
    diags: &mut Vec<Diagnostic>,
) -> Option<Placement> {
    let (h1_index, h1_text) = h1(page).map_or((None, ""), |(i, t)| (Some(i), t));
    let h1_line = h1_index.map_or(0, |i| page.blocks[i].line);
    let source = page.source(h1_line);
    let lay = layout(page);
    let (scopes, _) = scope_and_who(page);
    let description = description(page, &lay);

    let (titled, codes) = placement_codes(page);
    let Some(name) = titled.or_else(|| codes.first().cloned()) else {
        diags.push(Diagnostic::defect(
            source,
            DefectKind::NoEventName,
            "a placement page without a placement code in its title or a code table",
        ));
        return None;
    };
    let title = title_without(h1_text, &name);

    let mut b = Builder::new(page, links, diags);
    let options_heading = page.blocks.iter().position(|blk| {
        matches!(&blk.kind, BlockKind::Heading { level, text, .. }
            if *level >= 2 && text.contains("PLACEMENT_OPTIONS"))
    });
    let mut options: Vec<Field> = match options_heading.and_then(|h| b.section(h)) {
        Some(Type::Object { fields }) => fields,
        _ => Vec::new(),
    };
    // An example of the options is an object with a documented option's key (the page's
    // other objects are requests, answers or the whole POST, which carries the options as
    // one string), or the options line of a printed POST.
    let mut examples: Vec<Example> = object_examples(page, &mut b, |m| {
        options.iter().any(|f| m.contains_key(&f.api_name))
    });
    examples.retain(|e| e.json.is_some());
    for ex in printed_options(page, &mut b) {
        if !examples.iter().any(|e| e.json == ex.json) {
            examples.push(ex);
        }
    }
    // Keys the examples show and no table documents (the universal `URI`, or every key on a
    // page that describes its options in prose) are typed from the examples.
    for ex in &examples {
        if let Some(json) = &ex.json {
            let line = (ex.source.line as usize).saturating_sub(1);
            let fitted = b.fit_example(Type::Object { fields: options }, json, &ex.source, line);
            options = match fitted {
                Type::Object { fields } => fields,
                _ => Vec::new(),
            };
        }
    }
    drop(b);
    fields::report_untyped(&options, diags);
    Some(Placement {
        name,
        codes,
        title,
        description,
        scopes,
        options,
        examples,
        source,
    })
}

/// The placement code in a page's title, and the codes of its placement code table (the table
/// whose first header cell names the placement: its first column).
pub(super) fn placement_codes(page: &Page) -> (Option<String>, Vec<String>) {
    let mut codes: Vec<String> = Vec::new();
    for t in &page.tables {
        if page.is_included(t.line) {
            continue;
        }
        let names_placement = t
            .rows
            .first()
            .and_then(|r| r.cells.first())
            .is_some_and(|c| plain(&c.text).to_lowercase().contains("placement"));
        if !names_placement {
            continue;
        }
        for row in t.rows.iter().skip(1) {
            let Some(cell) = row.cells.first() else {
                continue;
            };
            let code = inlines(&cell.text).into_iter().find_map(|i| match i {
                Inline::Code(c) => Some(c.trim().to_owned()),
                _ => None,
            });
            if let Some(code) = code.filter(|c| is_placement_code(c)) {
                if !codes.contains(&code) {
                    codes.push(code);
                }
            }
        }
    }
    let h1_text = h1(page).map_or("", |(_, t)| t);
    let titled = h1_text
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| "`:,()\"".contains(c)))
        .find(|w| is_placement_code(w))
        .map(str::to_owned);
    (titled, codes)
}

/// Whether a page documents the JS interface of a widget's frame rather than REST: its title
/// names a `BX24.` function, or its introduction (the text before the first `##`) says it is
/// "not a REST method" or "not a REST event", as the docs mark interface commands and events.
pub(super) fn is_interface(page: &Page) -> bool {
    let titled = h1(page).is_some_and(|(_, t)| {
        t.split_whitespace().any(|w| {
            w.trim_matches(|c: char| "`:,()\"".contains(c))
                .starts_with("BX24.")
        })
    });
    let intro = page
        .blocks
        .iter()
        .take_while(|b| !matches!(b.kind, BlockKind::Heading { level, .. } if level >= 2))
        .any(|b| match &b.kind {
            BlockKind::Prose { markdown } => {
                let text = markdown.to_lowercase();
                text.contains("not a rest method") || text.contains("not a rest event")
            }
            _ => false,
        });
    titled || intro
}

/// Whether a page that names no event of its own is an index of event pages: a table whose
/// every row links to another page (`[onCrmProductAdd](./on-crm-product-add.md)`).
pub(super) fn is_event_index(page: &Page) -> bool {
    let links_pages = page.tables.iter().any(|t| {
        t.rows.len() > 2
            && t.rows.iter().skip(1).all(|r| {
                r.cells.first().is_some_and(|c| {
                    inlines(&c.text)
                        .iter()
                        .any(|i| matches!(i, Inline::LinkStart(url) if url.contains(".md")))
                })
            })
    });
    !names_event(page) && links_pages
}

/// Whether a page names an event of its own: a code in its title, or a code block with an
/// `"event"` key (a payload example).
pub(super) fn names_event(page: &Page) -> bool {
    h1(page).is_some_and(|(_, t)| event_code(t).is_some())
        || page
            .blocks
            .iter()
            .any(|b| matches!(&b.kind, BlockKind::Code { text, .. } if text.contains("\"event\"")))
}

/// The options of the printed POSTs on a page: the JSON after `[PLACEMENT_OPTIONS] =>` on a
/// line of a code block (PHP's `print_r` of what the handler receives, where the options are
/// one JSON string).
fn printed_options(page: &Page, b: &mut Builder) -> Vec<Example> {
    const KEY: &str = "[PLACEMENT_OPTIONS] =>";
    let mut examples = Vec::new();
    for block in &page.blocks {
        let BlockKind::Code { text, .. } = &block.kind else {
            continue;
        };
        if page.is_included(block.line) || !text.contains(KEY) {
            continue;
        }
        for (k, line) in text.lines().enumerate() {
            let Some((_, json)) = line.split_once(KEY) else {
                continue;
            };
            let json = json.trim();
            if !json.starts_with('{') {
                continue;
            }
            // The fence is `block.line`; line `k` of the code is `k + 1` lines below it.
            if let Some(ex) = b.json_example(ExampleKind::Response, json, block.line + k) {
                if matches!(ex.json, Some(Value::Object(_))) {
                    examples.push(ex);
                }
            }
        }
    }
    examples
}

/// The JSON object examples of a page (outside its includes) that `wanted` picks, and the
/// ones that are not JSON even after a repair (docs defects, counted by their readers).
fn object_examples(
    page: &Page,
    b: &mut Builder,
    wanted: impl Fn(&serde_json::Map<String, Value>) -> bool,
) -> Vec<Example> {
    let mut examples = Vec::new();
    for block in &page.blocks {
        let BlockKind::Code { lang, text } = &block.kind else {
            continue;
        };
        let json_like = lang.starts_with("json") || matches!(lang.as_str(), "" | "js");
        if page.is_included(block.line) || !json_like || !text.trim_start().starts_with('{') {
            continue;
        }
        if let Some(ex) = b.json_example(ExampleKind::Response, text, block.line) {
            let picked = matches!(&ex.json, Some(Value::Object(m)) if wanted(m));
            if picked || ex.json.is_none() {
                examples.push(ex);
            }
        }
    }
    examples
}

/// An upper-case code with an underscore: `CRM_DEAL_DETAIL_TAB`, `LANDING_BLOCK_*`.
fn is_placement_code(word: &str) -> bool {
    word.contains('_')
        && word.starts_with(|c: char| c.is_ascii_uppercase())
        && word
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, '_' | '*'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_codes() {
        assert_eq!(
            event_code("Event When Creating a Deal onCrmDealAdd").as_deref(),
            Some("onCrmDealAdd")
        );
        assert_eq!(
            event_code("Event on Adding Price CATALOG.PRICE.ON.ADD").as_deref(),
            Some("CATALOG.PRICE.ON.ADD")
        );
        assert_eq!(
            event_code("ONVOXIMPLANTCALLINIT Call Initialization Event").as_deref(),
            Some("ONVOXIMPLANTCALLINIT")
        );
        assert_eq!(
            event_code("When the OnCalendarEntryUpdate Event Changes").as_deref(),
            Some("OnCalendarEntryUpdate")
        );
        assert_eq!(
            event_code("Event on Application Uninstallation: onAppUninstall").as_deref(),
            Some("onAppUninstall")
        );
        assert_eq!(event_code("Events"), None);
        assert!(is_placement_code("CRM_XXX_DETAIL_TAB"));
        assert!(is_placement_code("LANDING_BLOCK_*"));
        assert!(!is_placement_code("PLACEMENT"));
        assert!(!is_placement_code("Crm_Tab"));
    }
}
