//! Doc comments from the docs' own text.
//!
//! rustdoc compiles every untagged or indented code block as a Rust doctest, and the docs'
//! blocks hold JSON, PHP and shell. Every code block therefore becomes a fenced ```` ```text ````
//! block; the rest of the Markdown is kept as written.

use proc_macro2::TokenStream;
use pulldown_cmark::{Event, Parser, Tag, TagEnd};
use quote::quote;

/// `#[doc = "..."]` attributes for a Markdown text (none for an empty text).
pub fn attrs(markdown: &str) -> TokenStream {
    let text = for_rustdoc(markdown);
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
        assert!(attrs("  ").is_empty());
    }
}
