//! Doc comments from the docs' own text.
//!
//! rustdoc compiles every untagged or indented code block as a Rust doctest, and the docs'
//! blocks hold JSON, PHP and shell. Every code block therefore becomes a fenced ```` ```text ````
//! block. Links between pages are relative (`./crm-item-get.md`, `../data-types.md#time`,
//! `/limits.html`) and lead nowhere from rustdoc: they become links to the published docs at
//! [`SITE`] when they resolve inside its `api-reference/` tree or are site-absolute, and plain
//! text otherwise. The rest of the Markdown is kept as written.

use proc_macro2::TokenStream;
use pulldown_cmark::{Event, Parser, Tag, TagEnd};
use quote::quote;

/// Where the docs are published; a page `a/b.md` is `{SITE}/a/b.html`.
pub const SITE: &str = "https://apidocs.bitrix24.com";

/// The longest doc text written: bytes of Markdown and lines (the upstream docs' longest is
/// under 3 KiB and 60 lines). Without a bound, a field whose cell holds a table repeats every
/// table nested below it in its doc comment, and the code grows with the square of the nesting.
const MAX_DOC_BYTES: usize = 16 << 10;
const MAX_DOC_LINES: usize = 256;

/// `#[doc = "..."]` attributes for a Markdown text (none for an empty text). `page` is the
/// file the text comes from (relative to the docs root), against which its links resolve.
/// A text longer than [`MAX_DOC_BYTES`] or [`MAX_DOC_LINES`] is cut.
pub fn attrs(markdown: &str, page: &str) -> TokenStream {
    let text = for_rustdoc(&absolute_links(&bounded(markdown), page));
    if text.trim().is_empty() {
        return TokenStream::new();
    }
    let lines = text.lines().map(|line| {
        // A leading space makes `/// text` and `#[doc = " text"]` render the same.
        let line = if line.is_empty() {
            String::new()
        } else {
            format!(" {line}")
        };
        quote!(#[doc = #line])
    });
    quote!(#(#lines)*)
}

/// `markdown` cut at the last line break within [`MAX_DOC_BYTES`] and [`MAX_DOC_LINES`],
/// with a note saying so.
fn bounded(markdown: &str) -> std::borrow::Cow<'_, str> {
    let mut end = MAX_DOC_BYTES.min(markdown.len());
    while !markdown.is_char_boundary(end) {
        end -= 1;
    }
    if let Some((i, _)) = markdown.match_indices('\n').nth(MAX_DOC_LINES - 1) {
        end = end.min(i);
    }
    if end == markdown.len() {
        return markdown.into();
    }
    let kept = markdown.get(..end).unwrap_or_default();
    let kept = match kept.rfind('\n') {
        Some(i) if markdown.as_bytes().get(end) != Some(&b'\n') => kept.get(..i).unwrap_or(kept),
        _ => kept,
    };
    format!("{kept}\n\n(The rest of this text is left out: it is longer than {MAX_DOC_BYTES} bytes or {MAX_DOC_LINES} lines.)")
        .into()
}

/// The Markdown with every code block turned into an inert ```` ```text ```` block.
pub fn for_rustdoc(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len() + 16);
    let mut copied_to = 0;
    let mut block: Option<(usize, String)> = None;
    for (event, range) in Parser::new(markdown).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(_)) => {
                // An indented block's range starts after its indentation: start at the line.
                let line_start = markdown[..range.start].rfind('\n').map_or(0, |i| i + 1);
                let start = if markdown[line_start..range.start].trim().is_empty() {
                    line_start
                } else {
                    range.start
                };
                block = Some((start.max(copied_to), String::new()));
            }
            Event::Text(text) => {
                if let Some((_, code)) = block.as_mut() {
                    code.push_str(&text);
                }
            }
            Event::End(TagEnd::CodeBlock) => {
                if let Some((start, code)) = block.take() {
                    out.push_str(&markdown[copied_to..start]);
                    push_text_block(&mut out, &code);
                    copied_to = range.end.max(start);
                    // Without a line break of its own, the block's range is followed by the
                    // source's, which must not be doubled.
                    if !markdown[..copied_to].ends_with('\n') && copied_to < markdown.len() {
                        out.pop();
                    }
                }
            }
            _ => {}
        }
    }
    out.push_str(&markdown[copied_to.min(markdown.len())..]);
    out.trim_end().to_owned()
}

/// The text with every Markdown link target `](target)` made absolute (see the module docs).
pub fn absolute_links(markdown: &str, page: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut rest = markdown;
    while let Some(open) = rest.find("](") {
        let target_start = open + 2;
        let Some(len) = rest[target_start..].find(')') else {
            break;
        };
        let target = &rest[target_start..target_start + len];
        out.push_str(&rest[..open]);
        match link_url(target, page) {
            Some(url) => {
                out.push_str("](");
                out.push_str(&url);
                out.push(')');
            }
            // No published page to point at: keep the link text, drop the brackets' target.
            None => {
                if let Some(text_start) = out.rfind('[') {
                    out.remove(text_start);
                    // An image (`![alt](file)`) keeps its alt text only.
                    if out[..text_start].ends_with('!') {
                        out.remove(text_start - 1);
                    }
                }
            }
        }
        rest = &rest[target_start + len + 1..];
    }
    out.push_str(rest);
    out
}

/// The published URL of a link target written on `page`.
fn link_url(target: &str, page: &str) -> Option<String> {
    let target = target.trim();
    if target.contains("://") || target.starts_with("mailto:") {
        return Some(target.to_owned());
    }
    if let Some(site_path) = target.strip_prefix('/') {
        return Some(format!("{SITE}/{site_path}"));
    }
    let (path, anchor) = match target.split_once('#') {
        Some((path, anchor)) => (path, Some(anchor)),
        None => (target, None),
    };
    let file = if path.is_empty() {
        page.to_owned()
    } else {
        let mut parts: Vec<&str> = page.split('/').collect();
        parts.pop();
        for part in path.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    parts.pop()?;
                }
                part => parts.push(part),
            }
        }
        parts.join("/")
    };
    let start = file.find("api-reference/")?;
    let html = match file[start..].strip_suffix(".md") {
        Some(stem) => format!("{stem}.html"),
        None => file[start..].to_owned(),
    };
    Some(match anchor {
        Some(anchor) => format!("{SITE}/{html}#{anchor}"),
        None => format!("{SITE}/{html}"),
    })
}

/// Appends a fenced `text` block whose fence is longer than any backtick run in `code`.
fn push_text_block(out: &mut String, code: &str) {
    let longest_run = code.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run.max(2) + 1);
    out.push_str(&fence);
    out.push_str("text\n");
    out.push_str(code);
    if !code.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&fence);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_blocks_become_text_blocks() {
        let md = "Format:\n\n```\n{ field: value }\n```\n\nand\n\n    indented();\n\nend";
        assert_eq!(
            for_rustdoc(md),
            "Format:\n\n```text\n{ field: value }\n```\n\nand\n\n```text\nindented();\n```\n\nend"
        );
    }

    #[test]
    fn tagged_blocks_and_inner_fences_are_kept_inert() {
        let md = "````json\n```\n{}\n````";
        assert_eq!(for_rustdoc(md), "````text\n```\n{}\n````");
    }

    #[test]
    fn prose_is_unchanged() {
        let md = "Badge code, for example `missedCall`.\n\n- `Y` — yes\n- `N` — no";
        assert_eq!(for_rustdoc(md), md);
        assert_eq!(absolute_links(md, "api-reference/a.md"), md);
        assert!(attrs("  ", "").is_empty());
    }

    #[test]
    fn long_texts_are_cut_at_a_line_break() {
        let note = format!(
            "\n\n(The rest of this text is left out: it is longer than {MAX_DOC_BYTES} bytes or \
             {MAX_DOC_LINES} lines.)"
        );
        let line = "ä".repeat(99);
        let long = format!("{line}\n").repeat(MAX_DOC_BYTES / 100);
        let cut = bounded(&long);
        assert!(cut.len() <= MAX_DOC_BYTES + note.len(), "{}", cut.len());
        assert!(cut.ends_with(&format!("{line}{note}")), "{cut}");
        let many = "a\n".repeat(MAX_DOC_LINES * 10);
        assert_eq!(
            bounded(&many),
            format!("{}{note}", "a\n".repeat(MAX_DOC_LINES - 1) + "a")
        );
        let short = format!("{line}\n").repeat(3);
        assert_eq!(bounded(&short), short.as_str());
        let exactly = "a\n".repeat(MAX_DOC_LINES - 1) + "a";
        assert_eq!(bounded(&exactly), exactly.as_str());
    }

    #[test]
    fn links_point_at_the_published_pages() {
        let page = "api-reference/crm/universal/crm-item-add.md";
        assert_eq!(
            absolute_links("see [get](./crm-item-get.md) and [time](../../data-types.md#time)", page),
            "see [get](https://apidocs.bitrix24.com/api-reference/crm/universal/crm-item-get.html) \
             and [time](https://apidocs.bitrix24.com/api-reference/data-types.html#time)"
        );
        assert_eq!(
            absolute_links("[below](#fields), [limits](/limits.html), [x](https://x.y/z)", page),
            "[below](https://apidocs.bitrix24.com/api-reference/crm/universal/crm-item-add.html#fields), \
             [limits](https://apidocs.bitrix24.com/limits.html), [x](https://x.y/z)"
        );
    }

    #[test]
    fn links_that_leave_the_published_tree_become_text() {
        assert_eq!(
            absolute_links("a [page](../../../outside.md) here", "api-reference/a/b.md"),
            "a page here"
        );
        assert_eq!(absolute_links("[t](x.md)", "badges/add.md"), "t");
        assert_eq!(
            absolute_links("a ![diagram](./_images/x.png)", "b.md"),
            "a diagram"
        );
        assert_eq!(absolute_links("odd ](unclosed", "a.md"), "odd ](unclosed");
    }
}
