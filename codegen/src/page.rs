//! A page as a flat list of blocks (headings, prose, code blocks, tables), each with the line it
//! starts on in the file where it was written.
//!
//! The YFM pass ([`crate::yfm`]) takes out what pulldown-cmark does not know; pulldown-cmark
//! reads the rest. Inline Markdown (table cells, headings) is read with [`inlines`].

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

use crate::diag::{DefectKind, Diagnostic};
use crate::limits::Limits;
use crate::model::Source;
use crate::yfm::{self, IncludeReader, Lines, Note, Sources, Table};

/// A parsed page.
#[derive(Debug)]
pub struct Page {
    /// The page's name as shown in diagnostics.
    pub file: Arc<str>,
    /// Where each line of the expanded page was written.
    pub lines: Sources,
    /// How deep in includes each line comes from (0: the page itself).
    pub depth: Vec<u8>,
    /// The blocks, in order.
    pub blocks: Vec<Block>,
    /// The `#| … |#` tables, referenced by [`BlockKind::Table`].
    pub tables: Vec<Table>,
    /// The `{% note %}` blocks.
    pub notes: Vec<Note>,
    /// The note each note is nested in (an index into `notes`).
    note_parents: Vec<Option<usize>>,
}

/// A block of the page.
#[derive(Clone, Debug)]
pub struct Block {
    /// What it is.
    pub kind: BlockKind,
    /// The index of its first line in [`Page::lines`].
    pub line: usize,
}

/// The kinds of block.
#[derive(Clone, Debug)]
pub enum BlockKind {
    /// `#`…`######` heading.
    Heading {
        /// 1 to 6.
        level: u8,
        /// The heading as plain text, without the `{#anchor}`.
        text: String,
        /// The `{#anchor}`, if any.
        anchor: Option<String>,
    },
    /// A paragraph, list, quote or HTML block at the top level, as Markdown source.
    Prose {
        /// The Markdown source.
        markdown: String,
    },
    /// A fenced or indented code block (at any depth, e.g. inside a tab).
    Code {
        /// The info string's first word (`json`, `bash`, ...), lowercase.
        lang: String,
        /// The code.
        text: String,
    },
    /// A table: an index into [`Page::tables`].
    Table(usize),
}

impl Page {
    /// Expands includes (within `limits`), runs the YFM pass and parses `text`, the contents
    /// of `path`.
    pub fn parse(
        text: &str,
        path: &Path,
        shown: Arc<str>,
        limits: &Limits,
        reader: &mut dyn IncludeReader,
        diags: &mut Vec<Diagnostic>,
    ) -> Page {
        let lines = yfm::expand(text, path, &shown, limits, reader, diags);
        Page::from_lines(shown, lines, limits, diags)
    }

    /// Parses already expanded lines.
    pub fn from_lines(
        file: Arc<str>,
        lines: Lines,
        limits: &Limits,
        diags: &mut Vec<Diagnostic>,
    ) -> Page {
        let mut split = yfm::split(&lines, limits, diags);
        let mut blocks = markdown_blocks(&split.markdown);
        for (i, table) in split.tables.iter().enumerate() {
            blocks.push(Block {
                kind: BlockKind::Table(i),
                line: table.line,
            });
        }
        blocks.sort_by_key(|b| b.line);
        if let Some(line) = cut_to(&mut blocks, &mut split.tables, limits.max_items) {
            let at = lines
                .sources
                .get(line)
                .unwrap_or_else(|| Source::new(file.clone(), 0));
            diags.push(Diagnostic::defect(
                at,
                DefectKind::Limit,
                format!(
                    "the page has more than {} blocks and table rows: the rest of it is not read",
                    limits.max_items
                ),
            ));
        }
        Page {
            file,
            note_parents: note_parents(&split.notes),
            lines: lines.sources,
            depth: lines.depth,
            blocks,
            tables: split.tables,
            notes: split.notes,
        }
    }

    /// Where line `index` of the expanded page was written.
    pub fn source(&self, index: usize) -> Source {
        self.lines
            .get(index)
            .or_else(|| self.lines.last())
            .unwrap_or_else(|| Source::new(self.file.clone(), 0))
    }

    /// True when line `index` comes from an included file.
    pub fn is_included(&self, index: usize) -> bool {
        self.depth.get(index).is_some_and(|&d| d > 0)
    }

    /// The innermost note containing line `index`.
    pub fn note_at(&self, index: usize) -> Option<&Note> {
        // The latest note opened at or before the line, or the one it is nested in, ...
        let mut n = self
            .notes
            .partition_point(|n| n.start <= index)
            .checked_sub(1);
        while let Some(i) = n {
            let note = self.notes.get(i)?;
            if note.end >= index {
                return Some(note);
            }
            n = self.note_parents.get(i).copied().flatten();
        }
        None
    }

    /// The plain text of the lines of a note (its content, without the directives).
    pub fn note_text(&self, note: &Note) -> String {
        let mut out = String::new();
        let first = self.blocks.partition_point(|b| b.line <= note.start);
        for b in self.blocks.iter().skip(first) {
            if b.line >= note.end {
                break;
            }
            if let BlockKind::Prose { markdown } = &b.kind {
                if !out.is_empty() {
                    out.push('\n');
                }
                out.push_str(&plain(markdown));
            }
        }
        out
    }
}

/// Keeps the first `max` blocks and table rows of a page (in line order; a table that does not
/// fit keeps the rows that do) and gives the line of the first one left out, if any.
fn cut_to(blocks: &mut Vec<Block>, tables: &mut Vec<Table>, max: usize) -> Option<usize> {
    let mut left = max;
    for (bi, b) in blocks.iter().enumerate() {
        if left == 0 {
            let line = b.line;
            cut_tables(blocks, tables, bi);
            return Some(line);
        }
        left -= 1;
        if let BlockKind::Table(ti) = b.kind {
            let table = tables.get_mut(ti)?;
            if table.rows.len() > left {
                let line = table.rows.get(left).map_or(b.line, |r| r.line);
                table.rows.truncate(left);
                cut_tables(blocks, tables, bi + 1);
                return Some(line);
            }
            left -= table.rows.len();
        }
    }
    None
}

/// Drops blocks from `from` on, and the tables only they referenced (tables are in line order).
fn cut_tables(blocks: &mut Vec<Block>, tables: &mut Vec<Table>, from: usize) {
    blocks.truncate(from);
    let kept = blocks
        .iter()
        .rev()
        .find_map(|b| match b.kind {
            BlockKind::Table(ti) => Some(ti + 1),
            _ => None,
        })
        .unwrap_or(0);
    tables.truncate(kept);
}

/// The note each of `notes` is nested in. Notes nest as their directives do (an `{% endnote %}`
/// closes the latest open note), so the notes around a line are a chain: one pass with a stack.
fn note_parents(notes: &[Note]) -> Vec<Option<usize>> {
    let mut parents = Vec::with_capacity(notes.len());
    let mut open: Vec<usize> = Vec::new();
    for (i, n) in notes.iter().enumerate() {
        while open
            .last()
            .is_some_and(|&o| notes.get(o).is_some_and(|o| o.end < n.start))
        {
            open.pop();
        }
        parents.push(open.last().copied());
        open.push(i);
    }
    parents
}

fn markdown_options() -> Options {
    Options::ENABLE_HEADING_ATTRIBUTES | Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH
}

/// Reads the Markdown left after the YFM pass into blocks.
fn markdown_blocks(markdown: &str) -> Vec<Block> {
    let starts = line_starts(markdown);
    let line_of = |offset: usize| starts.partition_point(|&s| s <= offset).saturating_sub(1);
    let mut blocks = Vec::new();
    let mut depth = 0usize;
    let mut prose_start: Option<usize> = None;
    let mut heading: Option<(u8, Option<String>, String, usize)> = None;
    let mut code: Option<(String, String, usize)> = None;
    for (event, range) in Parser::new_ext(markdown, markdown_options()).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { level, id, .. }) => {
                heading = Some((
                    level as u8,
                    id.map(|s| s.to_string()),
                    String::new(),
                    line_of(range.start),
                ));
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, anchor, text, line)) = heading.take() {
                    blocks.push(Block {
                        kind: BlockKind::Heading {
                            level,
                            text: text.trim().to_owned(),
                            anchor,
                        },
                        line,
                    });
                }
            }
            Event::Start(Tag::CodeBlock(kind)) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => info
                        .split(|c: char| c.is_whitespace() || c == '{' || c == ',')
                        .next()
                        .unwrap_or("")
                        .to_ascii_lowercase(),
                    CodeBlockKind::Indented => String::new(),
                };
                code = Some((lang, String::new(), line_of(range.start)));
                depth += 1;
            }
            Event::End(TagEnd::CodeBlock) => {
                depth = depth.saturating_sub(1);
                if let Some((lang, text, line)) = code.take() {
                    blocks.push(Block {
                        kind: BlockKind::Code { lang, text },
                        line,
                    });
                }
            }
            Event::Text(t) | Event::Code(t) if heading.is_some() || code.is_some() => {
                if let Some((_, text, _)) = code.as_mut() {
                    text.push_str(&t);
                } else if let Some((_, _, text, _)) = heading.as_mut() {
                    text.push_str(&t);
                }
            }
            Event::SoftBreak | Event::HardBreak if heading.is_some() => {
                if let Some((_, _, text, _)) = heading.as_mut() {
                    text.push(' ');
                }
            }
            Event::Start(tag) => {
                if depth == 0 && is_prose(&tag) {
                    prose_start = Some(range.start);
                }
                depth += 1;
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    if let Some(start) = prose_start.take() {
                        push_prose(&mut blocks, markdown, start..range.end, line_of(start));
                    }
                }
            }
            Event::Html(_) if depth == 0 => {
                push_prose(&mut blocks, markdown, range.clone(), line_of(range.start));
            }
            _ => {}
        }
    }
    blocks
}

fn is_prose(tag: &Tag<'_>) -> bool {
    matches!(
        tag,
        Tag::Paragraph | Tag::List(_) | Tag::BlockQuote(_) | Tag::HtmlBlock | Tag::Table(_)
    )
}

fn push_prose(blocks: &mut Vec<Block>, markdown: &str, range: Range<usize>, line: usize) {
    let text = markdown.get(range).unwrap_or("").trim_end();
    if !text.trim().is_empty() {
        blocks.push(Block {
            kind: BlockKind::Prose {
                markdown: text.to_owned(),
            },
            line,
        });
    }
}

fn line_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    starts
}

/// An inline element of a cell or a heading, flattened.
#[derive(Clone, Debug, PartialEq)]
pub enum Inline {
    /// Plain text.
    Text(String),
    /// `` `code` ``.
    Code(String),
    /// `**` opens.
    StrongStart,
    /// `**` closes.
    StrongEnd,
    /// `*` or `_` opens.
    EmStart,
    /// `*` or `_` closes.
    EmEnd,
    /// A link opens, to this destination.
    LinkStart(String),
    /// A link closes.
    LinkEnd,
    /// A line break (soft or hard) or the boundary between two blocks.
    Break,
    /// Inline HTML, as written.
    Html(String),
}

/// Reads inline Markdown into a flat list of [`Inline`]s (block structure is reduced to breaks).
pub fn inlines(markdown: &str) -> Vec<Inline> {
    let mut out = Vec::new();
    let mut seen_block = false;
    for event in Parser::new_ext(markdown, markdown_options()) {
        match event {
            Event::Text(t) => push_text(&mut out, &t),
            Event::Code(t) => out.push(Inline::Code(t.to_string())),
            Event::Start(Tag::Strong) => out.push(Inline::StrongStart),
            Event::End(TagEnd::Strong) => out.push(Inline::StrongEnd),
            Event::Start(Tag::Emphasis) => out.push(Inline::EmStart),
            Event::End(TagEnd::Emphasis) => out.push(Inline::EmEnd),
            Event::Start(Tag::Link { dest_url, .. }) => {
                out.push(Inline::LinkStart(dest_url.to_string()))
            }
            Event::End(TagEnd::Link) => out.push(Inline::LinkEnd),
            Event::SoftBreak | Event::HardBreak => out.push(Inline::Break),
            Event::InlineHtml(h) | Event::Html(h) => out.push(Inline::Html(h.to_string())),
            Event::Start(Tag::Paragraph | Tag::Item | Tag::CodeBlock(_)) => {
                if seen_block {
                    out.push(Inline::Break);
                }
                seen_block = true;
            }
            _ => {}
        }
    }
    out
}

fn push_text(out: &mut Vec<Inline>, t: &str) {
    if let Some(Inline::Text(prev)) = out.last_mut() {
        prev.push_str(t);
    } else {
        out.push(Inline::Text(t.to_owned()));
    }
}

/// Markdown as plain text: formatting dropped, code spans and link texts kept, breaks as spaces
/// (paragraph and list boundaries as newlines), YFM attribute markers (`{.b24-info}`) removed.
pub fn plain(markdown: &str) -> String {
    let mut out = String::new();
    let mut depth_item = 0usize;
    for event in Parser::new_ext(markdown, markdown_options()) {
        match event {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak => out.push(' '),
            Event::Start(Tag::Item) => {
                depth_item += 1;
                if !out.is_empty() && !out.ends_with('\n') {
                    out.push('\n');
                }
                out.push_str("- ");
            }
            Event::End(TagEnd::Item) => depth_item = depth_item.saturating_sub(1),
            Event::Start(Tag::Paragraph | Tag::CodeBlock(_) | Tag::Heading { .. })
                if !out.is_empty() && !out.ends_with('\n') && depth_item == 0 =>
            {
                out.push('\n');
            }
            _ => {}
        }
    }
    strip_attributes(out.trim())
}

/// Removes YFM attribute markers such as `{.b24-info}` and `{#T}` placeholders.
pub fn strip_attributes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        // An attribute is short: its `}` is looked for in the next 60 bytes only (a search to
        // the end for each `{` made this quadratic).
        let close = (after.starts_with('.') || after.starts_with("#T"))
            .then(|| after.bytes().take(60).position(|b| b == b'}'))
            .flatten()
            .filter(|&close| !after[..close].contains(char::is_whitespace));
        if let Some(close) = close {
            out.push_str(rest[..open].trim_end_matches(' '));
            rest = &after[close + 1..];
        } else {
            out.push_str(&rest[..=open]);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(text: &str) -> Page {
        let lines = Lines::of_text(text, &Arc::from("p.md"), 1);
        let mut d = Vec::new();
        Page::from_lines(Arc::from("p.md"), lines, &Limits::default(), &mut d)
    }

    #[test]
    fn blocks_with_lines_and_anchors() {
        let p = page(
            "# Add Badge crm.activity.badge.add\n\n> Scope: [`crm`](x.md)\n\nText.\n\n## Parameter fields {#fields}\n\n#|\n|| a | b ||\n|#\n\n- tab\n\n    ```json\n    {\"a\": 1}\n    ```\n",
        );
        let kinds: Vec<String> = p
            .blocks
            .iter()
            .map(|b| match &b.kind {
                BlockKind::Heading {
                    level,
                    text,
                    anchor,
                } => format!("h{level}:{text}:{anchor:?}@{}", b.line + 1),
                BlockKind::Prose { markdown } => format!("p:{markdown}@{}", b.line + 1),
                BlockKind::Code { lang, text } => {
                    format!("c:{lang}:{}@{}", text.trim(), b.line + 1)
                }
                BlockKind::Table(i) => format!("t{i}@{}", b.line + 1),
            })
            .collect();
        assert_eq!(
            kinds,
            vec![
                "h1:Add Badge crm.activity.badge.add:None@1",
                "p:> Scope: [`crm`](x.md)@3",
                "p:Text.@5",
                "h2:Parameter fields:Some(\"fields\")@7",
                "t0@9",
                "p:- tab\n\n    ```json\n    {\"a\": 1}\n    ```@13",
                "c:json:{\"a\": 1}@15",
            ]
        );
    }

    #[test]
    fn the_note_at_a_line_is_the_innermost_around_it() {
        let p = page(
            "a\n{% note info %}\nb\n{% note tip %}\nc\n{% endnote %}\nd\n{% endnote %}\ne\n\
             {% note alert %}\nf\n{% note warning %}\ng\n{% endnote %}\nh\n",
        );
        assert_eq!(p.notes.len(), 4);
        for line in 0..p.lines.len() + 2 {
            // The definition: the smallest note whose lines hold the line.
            let expected = p
                .notes
                .iter()
                .filter(|n| n.start <= line && line <= n.end)
                .min_by_key(|n| n.end - n.start);
            assert_eq!(
                p.note_at(line).map(|n| &n.kind),
                expected.map(|n| &n.kind),
                "line {line}"
            );
        }
        assert_eq!(p.note_at(4).map(|n| n.kind.as_str()), Some("tip"));
        assert_eq!(p.note_at(6).map(|n| n.kind.as_str()), Some("info"));
        assert!(p.note_at(8).is_none());
        // The unclosed `alert` note runs to the end, around `warning`.
        assert_eq!(p.note_at(14).map(|n| n.kind.as_str()), Some("alert"));
    }

    #[test]
    fn inline_elements_of_a_name_cell() {
        assert_eq!(
            inlines("**code***\n[`string`\\|`array`](../x.md)"),
            vec![
                Inline::StrongStart,
                Inline::Text("code".into()),
                Inline::StrongEnd,
                Inline::Text("*".into()),
                Inline::Break,
                Inline::LinkStart("../x.md".into()),
                Inline::Code("string".into()),
                Inline::Text("|".into()),
                Inline::Code("array".into()),
                Inline::LinkEnd,
            ]
        );
    }

    #[test]
    fn plain_text_drops_formatting_and_attributes() {
        assert_eq!(
            plain("Required parameters are marked with `*` {.b24-info}"),
            "Required parameters are marked with *"
        );
        assert_eq!(plain("**a** [b](c.md)\nd"), "a b d");
    }
}
