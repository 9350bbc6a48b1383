//! The YFM pass: what pulldown-cmark does not know about the docs' Markdown dialect.
//!
//! 1. [`expand`]: `{% include [title](path) %}` directives are replaced by the included file,
//!    recursively, each line keeping the file and line it came from.
//! 2. [`split`]: `{% if %}` blocks are evaluated (no variables are defined, as in the
//!    production build of the docs, so `{% if build == 'dev' %}` blocks are dropped),
//!    `{% note %}`, `{% list tabs %}` and `{% cut %}` directive lines are recorded and blanked,
//!    and `#| … |#` tables are parsed with the upstream renderer's rules and blanked, so that
//!    what is left is plain Markdown with the same line numbers.
//!
//! Table rules (as the upstream renderer reads them): `#|` opens a table and `|#` closes it,
//! `||` starts and ends a row, `|` separates cells, `\|` is a literal pipe, a ```` ``` ````
//! toggles a code span or block inside which no pipe counts, and a nested `#| … |#` inside a
//! cell belongs to that cell.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diag::{DefectKind, Diagnostic};
use crate::limits::Limits;
use crate::model::Source;

/// The lines of a page after include expansion: their texts in one buffer (not a `String`
/// each), each with where it was written and how deep in includes it comes from.
#[derive(Clone, Debug, Default)]
pub struct Lines {
    /// Every line's text, one after another, without line breaks.
    text: String,
    /// Where each line's text ends in `text`.
    ends: Vec<usize>,
    /// Where each line was written.
    pub sources: Sources,
    /// How deep in includes each line comes from (0: the page itself).
    pub depth: Vec<u8>,
}

/// Where each line of an expanded page was written: runs of consecutive lines of one file (a
/// page's own lines between two includes are one run), not a [`Source`] per line.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    runs: Vec<SourceRun>,
    len: usize,
}

/// Lines `start..` (up to the next run) written from line `line` of `file` on.
#[derive(Clone, Debug)]
struct SourceRun {
    start: usize,
    file: Arc<str>,
    line: u32,
}

impl Sources {
    /// Adds the next line, written at `line` of `file`.
    fn push(&mut self, file: &Arc<str>, line: u32) {
        let index = self.len;
        self.len += 1;
        if let Some(run) = self.runs.last() {
            let next = u64::from(run.line) + (index - run.start) as u64;
            if next == u64::from(line) && run.file == *file {
                return;
            }
        }
        self.runs.push(SourceRun {
            start: index,
            file: file.clone(),
            line,
        });
    }

    /// How many lines there are.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Where line `index` was written; `None` past the last.
    pub fn get(&self, index: usize) -> Option<Source> {
        if index >= self.len {
            return None;
        }
        let run = &self.runs[self
            .runs
            .partition_point(|r| r.start <= index)
            .checked_sub(1)?];
        let offset = u32::try_from(index - run.start).unwrap_or(u32::MAX);
        Some(Source::new(
            run.file.clone(),
            run.line.saturating_add(offset),
        ))
    }

    /// Where the last line was written.
    pub fn last(&self) -> Option<Source> {
        self.get(self.len.checked_sub(1)?)
    }
}

impl Lines {
    /// The lines of `text`, written from line `first` of `file` on, included from nowhere.
    pub fn of_text(text: &str, file: &Arc<str>, first: u32) -> Lines {
        let mut lines = Lines::default();
        for (i, line) in text.lines().enumerate() {
            let at = first.saturating_add(u32::try_from(i).unwrap_or(u32::MAX));
            lines.push("", line, file, at, 0);
        }
        lines
    }

    /// Adds a line whose text is `indent` then `text`, written at `line` of `file`.
    fn push(&mut self, indent: &str, text: &str, file: &Arc<str>, line: u32, depth: u8) {
        self.text.push_str(indent);
        self.text.push_str(text);
        self.ends.push(self.text.len());
        self.sources.push(file, line);
        self.depth.push(depth);
    }

    /// How many lines there are.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The text of line `index` (`""` past the last).
    pub fn text(&self, index: usize) -> &str {
        let start = match index.checked_sub(1) {
            Some(before) => self.ends.get(before).copied().unwrap_or(usize::MAX),
            None => 0,
        };
        let end = self.ends.get(index).copied().unwrap_or(0);
        self.text.get(start..end).unwrap_or("")
    }

    /// Where line `index` was written.
    fn source(&self, index: usize) -> Source {
        self.sources
            .get(index)
            .unwrap_or_else(|| Source::new("", 0))
    }

    /// The bytes of every line's text.
    fn text_len(&self) -> usize {
        self.text.len()
    }
}

/// Reads the files a page includes. Implemented by the loader (with a cache) and by tests.
pub trait IncludeReader {
    /// The text of `path` and the name to show for it in diagnostics, or why it was not read.
    fn read(&mut self, path: &Path) -> Result<(Arc<str>, Arc<str>), Unread>;
}

/// Why a file was not read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unread {
    /// It does not exist, or the system would not give it (the system's message).
    Io(String),
    /// It is not a regular file: a folder, a FIFO, a device.
    NotAFile,
    /// It is larger than [`Limits::max_file_bytes`] (the bound).
    TooLarge(u64),
    /// Its text is not UTF-8; the 1-based line of the first byte that is not.
    NotUtf8(u32),
    /// It is outside the docs root (the root), symlinks followed.
    OutsideRoot(PathBuf),
}

impl Unread {
    /// The kind of diagnostic it gives: [`DefectKind::Limit`] for a file too large,
    /// [`DefectKind::OutsideRoot`], else `unreadable` (the kind for a file that cannot be read:
    /// [`DefectKind::Io`] for a page, [`DefectKind::MissingInclude`] for an included file).
    pub fn kind(&self, unreadable: DefectKind) -> DefectKind {
        match self {
            Unread::TooLarge(_) => DefectKind::Limit,
            Unread::OutsideRoot(_) => DefectKind::OutsideRoot,
            _ => unreadable,
        }
    }

    /// The line to report it at (0: the whole file).
    pub fn line(&self) -> u32 {
        match self {
            Unread::NotUtf8(line) => *line,
            _ => 0,
        }
    }
}

impl std::fmt::Display for Unread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unread::Io(e) => write!(f, "cannot be read: {e}"),
            Unread::NotAFile => write!(f, "is not a regular file"),
            Unread::TooLarge(max) => write!(f, "is larger than {max} bytes (the file size bound)"),
            Unread::NotUtf8(line) => write!(f, "is not UTF-8 text (line {line})"),
            Unread::OutsideRoot(root) => {
                write!(f, "is outside the docs root `{}`", root.display())
            }
        }
    }
}

/// Expands `{% include %}` directives in `text` (the contents of `path`, shown as `shown`).
/// Include paths resolve relative to the including file. Problems are pushed to `diags`; an
/// include past a bound of `limits` (depth, count, bytes of the expanded page), one that
/// includes itself or one that cannot be read is reported and left out.
pub fn expand(
    text: &str,
    path: &Path,
    shown: &Arc<str>,
    limits: &Limits,
    reader: &mut dyn IncludeReader,
    diags: &mut Vec<Diagnostic>,
) -> Lines {
    let mut expander = Expander {
        reader,
        limits,
        diags,
        out: Lines {
            text: String::with_capacity(text.len()),
            ends: Vec::with_capacity(text.len() / 40 + 8),
            sources: Sources::default(),
            depth: Vec::with_capacity(text.len() / 40 + 8),
        },
        // The page's own text counts in full from the start: includes get what is left.
        bytes: text.len(),
        includes: 0,
        open: vec![(path.to_owned(), None)],
        sections: HashMap::new(),
        cut: false,
    };
    expander.expand(text, path, shown, 0, "");
    expander.out
}

/// An included text: a file, or the section under one of its anchors (with its heading or,
/// `notitle`, without).
type Section = (PathBuf, Option<String>, bool);

/// The state of one page's include expansion.
struct Expander<'a> {
    reader: &'a mut dyn IncludeReader,
    limits: &'a Limits,
    diags: &'a mut Vec<Diagnostic>,
    out: Lines,
    /// Bytes of the expanded page: the page's own text and every include expanded so far.
    bytes: usize,
    /// Include directives met so far, expanded or not.
    includes: usize,
    /// The files (and sections) being expanded, outermost first.
    open: Vec<(PathBuf, Option<String>)>,
    /// The included texts met so far, with their line counts.
    sections: HashMap<Section, (Arc<str>, usize)>,
    /// True once the page reached [`Limits::max_page_lines`]: the rest is not read.
    cut: bool,
}

impl Expander<'_> {
    /// Expands `text` (of `path`, at include `depth`), each non-empty line prefixed by
    /// `indent` (the indentation of the include directives it came through).
    fn expand(&mut self, text: &str, path: &Path, shown: &Arc<str>, depth: u8, indent: &str) {
        for (i, raw) in text.lines().enumerate() {
            if self.cut {
                return;
            }
            let line = u32::try_from(i + 1).unwrap_or(u32::MAX);
            let Some(directive) = find_include(raw) else {
                self.push(raw, indent, shown, line, depth);
                continue;
            };
            let before = raw.get(..directive.start).unwrap_or("");
            let after = raw.get(directive.end..).unwrap_or("");
            if !before.trim().is_empty() {
                self.push(before, indent, shown, line, depth);
            }
            let source = Source::new(shown.clone(), line);
            self.include(&directive, path, &source, depth, indent, before);
            if !after.trim().is_empty() {
                self.push(after, indent, shown, line, depth);
            }
        }
    }

    fn push(&mut self, text: &str, indent: &str, file: &Arc<str>, line: u32, depth: u8) {
        if self.out.len() >= self.limits.max_page_lines {
            if !self.cut {
                self.cut = true;
                let message = format!(
                    "the page has more than {} lines with its includes: the rest is not read",
                    self.limits.max_page_lines
                );
                let source = Source::new(file.clone(), line);
                self.diags
                    .push(Diagnostic::defect(source, DefectKind::Limit, message));
            }
            return;
        }
        let indent = if text.is_empty() { "" } else { indent };
        self.out.push(indent, text, file, line, depth);
    }

    /// Expands one include directive written at `source`, or reports why not.
    fn include(
        &mut self,
        directive: &IncludeDirective<'_>,
        path: &Path,
        source: &Source,
        depth: u8,
        indent: &str,
        before: &str,
    ) {
        let (target, anchor) = match directive.target.split_once('#') {
            Some((file, anchor)) => (file, Some(anchor)),
            None => (directive.target, None),
        };
        let shown_target = directive.target;
        // Every directive counts, expanded or not: each costs a read of the cache and a scan
        // of its text. Past the bound, the first is reported and the others skipped.
        self.includes += 1;
        if self.includes > self.limits.max_includes {
            if self.includes == self.limits.max_includes + 1 {
                self.diags.push(Diagnostic::defect(
                    source.clone(),
                    DefectKind::Limit,
                    format!(
                        "more than {} includes in one page: `{shown_target}` and those after it \
                         are not included",
                        self.limits.max_includes
                    ),
                ));
            }
            return;
        }
        let mut refuse = |kind: DefectKind, message: String| {
            self.diags
                .push(Diagnostic::defect(source.clone(), kind, message));
        };
        if depth >= self.limits.max_include_depth {
            return refuse(
                DefectKind::Limit,
                format!(
                    "includes nested deeper than {} at `{shown_target}`: not included",
                    self.limits.max_include_depth
                ),
            );
        }
        let target_path = resolve_relative(path, target);
        let key = (target_path.clone(), anchor.map(str::to_owned));
        if self.open.contains(&key) {
            return refuse(
                DefectKind::MissingInclude,
                format!("`{shown_target}` includes itself: not included"),
            );
        }
        let (included, included_shown) = match self.reader.read(&target_path) {
            Ok(read) => read,
            Err(why) => {
                return refuse(
                    why.kind(DefectKind::MissingInclude),
                    format!("included file `{shown_target}` {why}"),
                )
            }
        };
        let cut = (
            target_path.clone(),
            anchor.map(str::to_owned),
            directive.notitle,
        );
        let (section, lines) = match self.sections.get(&cut) {
            Some(hit) => hit.clone(),
            None => {
                let section: Arc<str> = match anchor {
                    Some(anchor) => Arc::from(section_by_anchor(&included, anchor, cut.2)),
                    None => included,
                };
                let lines = section.lines().count();
                self.sections.insert(cut, (section.clone(), lines));
                (section, lines)
            }
        };
        let indent: String = indent
            .chars()
            .chain(before.chars().take_while(|c| c.is_whitespace()))
            .collect();
        if self.out.len().saturating_add(lines) > self.limits.max_page_lines {
            return refuse(
                DefectKind::Limit,
                format!(
                    "the page would have more than {} lines with `{shown_target}` included: \
                     not included",
                    self.limits.max_page_lines
                ),
            );
        }
        let size = section
            .len()
            .saturating_add(indent.len().saturating_mul(lines));
        if self.bytes.saturating_add(size) > self.limits.max_page_bytes {
            return refuse(
                DefectKind::Limit,
                format!(
                    "the page would be larger than {} bytes with `{shown_target}` included: \
                     not included",
                    self.limits.max_page_bytes
                ),
            );
        }
        self.bytes += size;
        self.open.push(key);
        self.expand(&section, &target_path, &included_shown, depth + 1, &indent);
        self.open.pop();
    }
}

/// An `{% include %}` directive found in a line.
struct IncludeDirective<'a> {
    start: usize,
    end: usize,
    target: &'a str,
    notitle: bool,
}

fn find_include(line: &str) -> Option<IncludeDirective<'_>> {
    let start = find_directive_open(line)?;
    let rest = &line[start + 2..];
    let body_start = rest.len() - rest.trim_start().len();
    let body = rest.trim_start();
    let body = body.strip_prefix('-').unwrap_or(body).trim_start();
    let after_kw = body.strip_prefix("include")?;
    let close = rest.find("%}")?;
    let inner = &rest[body_start..close];
    let notitle = after_kw.trim_start().starts_with("notitle");
    // The target is the `(…)` of the `[title](target)` link.
    let open = inner.rfind("](")?;
    let target_end = inner[open + 2..].find(')')? + open + 2;
    let target = inner[open + 2..target_end].trim();
    Some(IncludeDirective {
        start,
        end: start + 2 + close + 2,
        target,
        notitle,
    })
}

/// Where the first `{%` of `line` starts. Searched as the byte `{` (one `memchr` for the many
/// lines without one) rather than as a two-byte pattern, whose searcher is set up anew for
/// every line of every page.
fn find_directive_open(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut from = 0;
    while let Some(i) = line.get(from..)?.find('{') {
        let at = from + i;
        if bytes.get(at + 1) == Some(&b'%') {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// The part of `text` under the heading with `{#anchor}` (up to the next heading of the same or
/// a higher level); without the heading line itself when `notitle`.
fn section_by_anchor(text: &str, anchor: &str, notitle: bool) -> String {
    let mut out = String::new();
    let mut level = None;
    for line in text.lines() {
        let heading_level = heading_level(line);
        match level {
            None => {
                if heading_level.is_some() && heading_anchor(line) == Some(anchor) {
                    level = heading_level;
                    if !notitle {
                        out.push_str(line);
                        out.push('\n');
                    }
                }
            }
            Some(l) => {
                if heading_level.is_some_and(|h| h <= l) {
                    break;
                }
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// The level of an ATX heading line (`## x` → 2).
pub fn heading_level(line: &str) -> Option<u8> {
    let trimmed = line.trim_start();
    if line.len() - trimmed.len() > 3 {
        return None;
    }
    let hashes = trimmed.bytes().take_while(|&b| b == b'#').count();
    if (1..=6).contains(&hashes) && trimmed[hashes..].starts_with([' ', '\t']) {
        Some(hashes as u8)
    } else {
        None
    }
}

/// The `{#anchor}` at the end of a heading line.
pub fn heading_anchor(line: &str) -> Option<&str> {
    let trimmed = line.trim_end();
    let open = trimmed.rfind("{#")?;
    trimmed[open + 2..].strip_suffix('}').map(str::trim)
}

/// `target` relative to the file `from` (leading `/` means relative to nothing we know: kept as is).
pub fn resolve_relative(from: &Path, target: &str) -> PathBuf {
    let base = from.parent().unwrap_or(Path::new(""));
    normalize(&base.join(target))
}

/// Removes `.` and `..` components without touching the filesystem. A `..` takes back a name
/// before it; one with no name to take back stays (`a/../../x` is `../x`, still outside), and
/// one right after the root is the root (`/../x` is `/x`).
pub fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for comp in path.components() {
        match comp {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// A `#| … |#` table.
#[derive(Clone, Debug, Default)]
pub struct Table {
    /// The rows, the header row (if any) included.
    pub rows: Vec<Row>,
    /// Index of the `#|` line in the page's lines.
    pub line: usize,
    /// Index of the `|#` line.
    pub end_line: usize,
}

/// A table row.
#[derive(Clone, Debug, Default)]
pub struct Row {
    /// The cells, in order.
    pub cells: Vec<Cell>,
    /// Index of the line where the row starts.
    pub line: usize,
}

/// A table cell: Markdown text, possibly on several lines.
#[derive(Clone, Debug, Default)]
pub struct Cell {
    /// The Markdown text, trimmed and dedented.
    pub text: String,
    /// Index of the line where the cell starts.
    pub line: usize,
}

/// A `{% note kind "title" %}` block.
#[derive(Clone, Debug)]
pub struct Note {
    /// `info`, `tip`, `warning`, `alert`, ...
    pub kind: String,
    /// The title, possibly empty.
    pub title: String,
    /// Index of the `{% note %}` line.
    pub start: usize,
    /// Index of the `{% endnote %}` line (or the last line if unclosed).
    pub end: usize,
}

/// What the directive pass found in a page.
#[derive(Debug, Default)]
pub struct Split {
    /// The page's text with directives and tables blanked, line for line.
    pub markdown: String,
    /// The tables, in order.
    pub tables: Vec<Table>,
    /// The notes, in order.
    pub notes: Vec<Note>,
}

/// The `{% if %}` blocks open at a line: whether each is taken, and how many are not (so that
/// "all taken" is one comparison however deep they nest).
#[derive(Default)]
struct Conditions {
    taken: Vec<bool>,
    not_taken: usize,
}

impl Conditions {
    fn all_taken(&self) -> bool {
        self.not_taken == 0
    }

    fn open(&mut self, taken: bool) {
        self.taken.push(taken);
        self.not_taken += usize::from(!taken);
    }

    /// `{% else %}` (taken) or `{% elsif %}` (not) of the innermost block.
    fn switch(&mut self, taken: bool) {
        if let Some(last) = self.taken.last_mut() {
            self.not_taken = self.not_taken + usize::from(!taken) - usize::from(!*last);
            *last = taken;
        }
    }

    fn close(&mut self) {
        if let Some(taken) = self.taken.pop() {
            self.not_taken -= usize::from(!taken);
        }
    }
}

/// Parses the YFM directives and tables out of `lines` (see the module docs). Notes nest at
/// most [`Limits::max_depth`] deep: a deeper `{% note %}` (and its `{% endnote %}`) is
/// reported and dropped.
pub fn split(lines: &Lines, limits: &Limits, diags: &mut Vec<Diagnostic>) -> Split {
    let mut out = Split::default();
    let mut kept: Vec<&str> = Vec::with_capacity(lines.len());
    let mut in_fence: Option<(char, usize)> = None;
    let mut conditions = Conditions::default();
    let mut open_notes: Vec<usize> = Vec::new();
    // Notes opened past the nesting bound, not recorded: their ends are not anyone's.
    let mut dropped_notes = 0usize;
    let mut i = 0;
    while i < lines.len() {
        let text = lines.text(i);
        let trimmed = text.trim_start();
        if let Some((ch, len)) = in_fence {
            if is_fence_close(trimmed, ch, len) {
                in_fence = None;
            }
            kept.push(if conditions.all_taken() { text } else { "" });
            i += 1;
            continue;
        }
        if let Some(directive) = directive_name(trimmed) {
            match directive.0 {
                "if" => conditions.open(false),
                "elsif" | "elseif" => conditions.switch(false),
                "else" => conditions.switch(true),
                "endif" => conditions.close(),
                "note" if conditions.all_taken() && open_notes.len() >= limits.max_depth => {
                    dropped_notes += 1;
                    diags.push(Diagnostic::defect(
                        lines.source(i),
                        DefectKind::Limit,
                        format!(
                            "notes nested deeper than {}: this one is not read as a note",
                            limits.max_depth
                        ),
                    ));
                }
                "note" if conditions.all_taken() => {
                    let (kind, title) = note_args(directive.1);
                    open_notes.push(out.notes.len());
                    out.notes.push(Note {
                        kind,
                        title,
                        start: i,
                        end: i,
                    });
                }
                "endnote" if conditions.all_taken() && dropped_notes > 0 => dropped_notes -= 1,
                "endnote" if conditions.all_taken() => {
                    if let Some(n) = open_notes.pop() {
                        out.notes[n].end = i;
                    }
                }
                _ => {}
            }
            kept.push("");
            i += 1;
            continue;
        }
        if !conditions.all_taken() {
            kept.push("");
            i += 1;
            continue;
        }
        if let Some(fence) = fence_open(trimmed) {
            in_fence = Some(fence);
            kept.push(text);
            i += 1;
            continue;
        }
        if trimmed.starts_with("#|") {
            let (table, next) = parse_table(lines, i, diags);
            out.tables.push(table);
            kept.resize(kept.len() + (next - i), "");
            i = next;
            continue;
        }
        kept.push(text);
        i += 1;
    }
    let last = lines.len().saturating_sub(1);
    for n in open_notes {
        out.notes[n].end = last;
    }
    let mut markdown = String::with_capacity(lines.text_len() + lines.len());
    for line in kept {
        markdown.push_str(line);
        markdown.push('\n');
    }
    out.markdown = markdown;
    out
}

/// A `{% name args %}` directive line: `(name, args)`.
fn directive_name(trimmed: &str) -> Option<(&str, &str)> {
    let rest = trimmed.strip_prefix("{%")?;
    let end = rest.find("%}")?;
    if !rest[end + 2..].trim().is_empty() {
        return None;
    }
    let inner = rest[..end]
        .trim()
        .trim_start_matches('-')
        .trim_end_matches('-');
    let inner = inner.trim();
    let (name, args) = inner.split_once(char::is_whitespace).unwrap_or((inner, ""));
    match name {
        "if" | "elsif" | "elseif" | "else" | "endif" | "note" | "endnote" | "list" | "endlist"
        | "cut" | "endcut" => Some((name, args.trim())),
        _ => None,
    }
}

/// `info "Title"` → (`info`, `Title`).
fn note_args(args: &str) -> (String, String) {
    let (kind, rest) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
    let title = rest.trim().trim_matches('"').trim().to_owned();
    (kind.trim_matches('"').to_owned(), title)
}

/// A fence opening line: the fence character and its length.
fn fence_open(trimmed: &str) -> Option<(char, usize)> {
    let ch = trimmed.chars().next()?;
    if ch != '`' && ch != '~' {
        return None;
    }
    let len = trimmed.chars().take_while(|&c| c == ch).count();
    if len < 3 {
        return None;
    }
    // A backtick fence's info string may not contain backticks (else it is inline code).
    if ch == '`' && trimmed[len..].contains('`') {
        return None;
    }
    Some((ch, len))
}

fn is_fence_close(trimmed: &str, ch: char, len: usize) -> bool {
    let n = trimmed.chars().take_while(|&c| c == ch).count();
    n >= len && trimmed[n * ch.len_utf8()..].trim().is_empty()
}

/// Parses the table whose `#|` is on line `start`; returns it and the index of the first line
/// after it.
fn parse_table(lines: &Lines, start: usize, diags: &mut Vec<Diagnostic>) -> (Table, usize) {
    let mut parser = TableParser::new(lines, start, diags);
    for li in start..lines.len() {
        if parser.read_line(li) {
            return (parser.table, li + 1);
        }
    }
    parser.unclosed()
}

/// A byte with a meaning in table syntax; a run of other bytes is copied at once.
fn is_syntax(b: u8) -> bool {
    matches!(b, b'`' | b'\\' | b'#' | b'|')
}

/// The state of [`parse_table`] between one character and the next.
struct TableParser<'a> {
    lines: &'a Lines,
    diags: &'a mut Vec<Diagnostic>,
    /// Index of the `#|` line.
    start: usize,
    /// The indentation of the `#|` line, removed from the table's continuation lines.
    indent: usize,
    table: Table,
    /// How many nested `#| … |#` tables (which belong to the current cell) are open.
    depth: usize,
    /// Inside a ```` ``` ```` code span or block.
    in_code: bool,
    /// The row a `||` opened, until the `||` that ends it.
    row: Option<Row>,
    /// The raw text of the current cell.
    cell: String,
    cell_line: usize,
    /// Whether the current cell has seen a non-blank character (its line is where that is).
    cell_started: bool,
    /// The last line reported for text outside any row: one report per line.
    reported: Option<usize>,
}

impl<'a> TableParser<'a> {
    /// A parser for the table whose `#|` is on line `start`.
    fn new(lines: &'a Lines, start: usize, diags: &'a mut Vec<Diagnostic>) -> Self {
        let first = lines.text(start);
        let indent = first.len() - first.trim_start().len();
        TableParser {
            lines,
            diags,
            start,
            indent,
            table: Table {
                line: start,
                end_line: start,
                ..Table::default()
            },
            depth: 0,
            in_code: false,
            row: None,
            cell: String::new(),
            cell_line: start,
            cell_started: false,
            reported: None,
        }
    }

    /// Reads line `li`; true when the table's own `|#` closes it there.
    fn read_line(&mut self, li: usize) -> bool {
        let len = self.lines.text(li).len();
        let mut j = self.line_start(li);
        while j < len {
            match self.step(li, j) {
                Some(next) => j = next,
                None => return true,
            }
        }
        false
    }

    /// Where reading line `li` starts: just after the opening `#|`; on a line that continues
    /// an open row, after the table's own indentation, the line break kept in the cell.
    fn line_start(&mut self, li: usize) -> usize {
        if li == self.start {
            return self.indent + 2;
        }
        if self.row.is_none() {
            return 0;
        }
        self.cell.push('\n');
        let text = self.lines.text(li);
        let lead = text.len() - text.trim_start().len();
        lead.min(self.indent)
    }

    /// Reads what stands at byte `j` of line `li`; returns where to read on, or `None` when
    /// the table closes there.
    fn step(&mut self, li: usize, j: usize) -> Option<usize> {
        let lines = self.lines;
        let text = lines.text(li);
        let bytes = text.as_bytes();
        let b = bytes[j];
        if !is_syntax(b) {
            if let Some(end) = self.read_run(li, j) {
                return Some(end);
            }
        }
        let next = bytes.get(j + 1).copied();
        if b == b'`' && next == Some(b'`') && bytes.get(j + 2) == Some(&b'`') {
            self.in_code = !self.in_code;
            self.push_in_row("```");
            return Some(j + 3);
        }
        if self.in_code {
            self.push_char_in_row(text, j);
            return Some(j + utf8_len(b));
        }
        if b == b'\\' && next == Some(b'|') {
            self.push_in_row("\\|");
            return Some(j + 2);
        }
        if b == b'#' && next == Some(b'|') {
            self.depth += 1;
            self.push_in_row("#|");
            return Some(j + 2);
        }
        if b == b'|' && next == Some(b'#') {
            if self.depth > 0 {
                self.depth -= 1;
                self.push_in_row("|#");
                return Some(j + 2);
            }
            self.close(li);
            return None;
        }
        if self.depth > 0 {
            self.push_char_in_row(text, j);
            return Some(j + utf8_len(b));
        }
        if b == b'|' && next == Some(b'|') {
            self.row_marker(li);
            return Some(j + 2);
        }
        if b == b'|' {
            self.cell_marker(li);
            return Some(j + 1);
        }
        self.other_char(li, j);
        Some(j + utf8_len(b))
    }

    /// Copies the run of bytes without table syntax from byte `j` of line `li` into the cell
    /// (outside a row, reports it unless it is blank); returns its end, or `None` when `j` is
    /// not on a character boundary.
    fn read_run(&mut self, li: usize, j: usize) -> Option<usize> {
        let lines = self.lines;
        let text = lines.text(li);
        let bytes = text.as_bytes();
        let end = bytes[j..]
            .iter()
            .position(|&c| is_syntax(c))
            .map_or(bytes.len(), |p| j + p);
        let run = text.get(j..end)?;
        let counts = !run.trim().is_empty() && !self.in_code && self.depth == 0;
        if self.row.is_some() {
            if counts {
                self.mark_cell_started(li);
            }
            self.cell.push_str(run);
        } else if counts {
            self.report_stray_text(li);
        }
        Some(end)
    }

    /// Any other character, at byte `j` of line `li`: part of the cell, or, outside a row and
    /// unless it is white space, reported.
    fn other_char(&mut self, li: usize, j: usize) {
        let lines = self.lines;
        let text = lines.text(li);
        let blank = text.as_bytes()[j].is_ascii_whitespace();
        if self.row.is_some() {
            if !blank {
                self.mark_cell_started(li);
            }
            push_byte(&mut self.cell, text, j);
        } else if !blank {
            // The rest of the line is still read (a row may start).
            self.report_stray_text(li);
        }
    }

    /// A `||` on line `li`: ends the open row, or opens one.
    fn row_marker(&mut self, li: usize) {
        if self.row.is_some() {
            self.finish_row();
        } else {
            self.row = Some(Row {
                cells: Vec::new(),
                line: li,
            });
            self.new_cell(li);
        }
    }

    /// A `|` on line `li`: ends a cell of the open row; outside a row, reported.
    fn cell_marker(&mut self, li: usize) {
        match self.row.as_mut() {
            Some(r) => {
                r.cells.push(Cell {
                    text: clean_cell(&self.cell),
                    line: self.cell_line,
                });
                self.new_cell(li);
            }
            None => self.report(li, "a `|` outside any table row"),
        }
    }

    /// The table's own `|#`, on line `li`: a row still open there is reported and kept.
    fn close(&mut self, li: usize) {
        if self.row.is_some() {
            self.report(li, "table closed inside an unfinished row");
            self.finish_row();
        }
        self.table.end_line = li;
    }

    /// The lines ran out before the table's `|#`: reported, a row still open kept.
    fn unclosed(mut self) -> (Table, usize) {
        self.report(
            self.start,
            "table opened with `#|` is never closed with `|#`",
        );
        self.finish_row();
        self.table.end_line = self.lines.len().saturating_sub(1);
        (self.table, self.lines.len())
    }

    /// Ends the open row, if any: the text between its last `|` and here is its last cell.
    fn finish_row(&mut self) {
        if let Some(mut r) = self.row.take() {
            r.cells.push(Cell {
                text: clean_cell(&self.cell),
                line: self.cell_line,
            });
            self.cell.clear();
            self.table.rows.push(r);
        }
    }

    /// Starts an empty cell on line `li`.
    fn new_cell(&mut self, li: usize) {
        self.cell.clear();
        self.cell_started = false;
        self.cell_line = li;
    }

    /// The current cell's first non-blank character is on line `li`, unless one came before.
    fn mark_cell_started(&mut self, li: usize) {
        if !self.cell_started {
            self.cell_started = true;
            self.cell_line = li;
        }
    }

    /// Appends `s` to the cell when a row is open.
    fn push_in_row(&mut self, s: &str) {
        if self.row.is_some() {
            self.cell.push_str(s);
        }
    }

    /// Appends the character at byte `j` of `text` to the cell when a row is open.
    fn push_char_in_row(&mut self, text: &str, j: usize) {
        if self.row.is_some() {
            push_byte(&mut self.cell, text, j);
        }
    }

    /// Reports text outside any row on line `li`, once a line.
    fn report_stray_text(&mut self, li: usize) {
        if self.reported != Some(li) {
            self.reported = Some(li);
            self.report(li, "text outside any table row");
        }
    }

    /// A malformed-table defect at line `li`.
    fn report(&mut self, li: usize, message: &str) {
        self.diags.push(Diagnostic::defect(
            self.lines.source(li),
            DefectKind::MalformedTable,
            message,
        ));
    }
}

/// Trims a cell and removes the indentation common to its lines (after the first).
fn clean_cell(raw: &str) -> String {
    let trimmed = raw.trim();
    if !trimmed.contains('\n') {
        return trimmed.to_owned();
    }
    let mut lines = trimmed.lines();
    let first = lines.next().unwrap_or_default();
    let rest: Vec<&str> = lines.collect();
    let common = rest
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out = String::with_capacity(trimmed.len());
    out.push_str(first.trim_end());
    for l in rest {
        out.push('\n');
        out.push_str(l.get(common..).unwrap_or("").trim_end());
    }
    out
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xff => 4,
        _ => 1,
    }
}

fn push_byte(out: &mut String, text: &str, at: usize) {
    let len = utf8_len(text.as_bytes()[at]);
    if let Some(s) = text.get(at..at + len) {
        out.push_str(s);
    }
}

/// Splits the cell text of a nested table (`#| … |#` inside a cell) into tables, for callers
/// that want the structure of a cell. A table keeps its first [`Limits::max_items`] rows (of
/// the default limits; defects inside a cell's text are not reported).
pub fn tables_in(text: &str, source: &Source) -> Vec<Table> {
    let lines = Lines::of_text(text, &source.file, source.line);
    let mut ignored = Vec::new();
    let limits = Limits::default();
    let mut tables = split(&lines, &limits, &mut ignored).tables;
    for t in &mut tables {
        t.rows.truncate(limits.max_items);
    }
    tables
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lines(text: &str) -> Lines {
        Lines::of_text(text, &Arc::from("t.md"), 1)
    }

    #[test]
    fn sources_keep_runs_and_give_each_line_its_place() {
        let page: Arc<str> = Arc::from("p.md");
        let inc: Arc<str> = Arc::from("_includes/i.md");
        let mut s = Sources::default();
        for (file, line) in [
            (&page, 1),
            (&page, 2),
            (&inc, 1),
            (&inc, 2),
            (&page, 3),
            (&page, 7),
        ] {
            s.push(file, line);
        }
        assert_eq!(s.runs.len(), 4);
        let all: Vec<String> = (0..s.len())
            .map(|i| s.get(i).unwrap().to_string())
            .collect();
        assert_eq!(
            all,
            [
                "p.md:1",
                "p.md:2",
                "_includes/i.md:1",
                "_includes/i.md:2",
                "p.md:3",
                "p.md:7"
            ]
        );
        assert_eq!(s.get(6), None);
        assert_eq!(s.last().unwrap().to_string(), "p.md:7");
        assert_eq!(Sources::default().last(), None);
        // A line number that saturated stays at the bound.
        let mut s = Sources::default();
        s.push(&page, u32::MAX);
        s.push(&page, u32::MAX);
        assert_eq!(s.get(1).unwrap().line, u32::MAX);
    }

    #[test]
    fn a_directive_opens_at_the_first_brace_followed_by_a_percent_sign() {
        assert_eq!(find_directive_open("no directive"), None);
        assert_eq!(find_directive_open("a {b} then {% include x %}"), Some(11));
        assert_eq!(find_directive_open("{{% x %}"), Some(1));
        assert_eq!(find_directive_open("ends with {"), None);
        assert_eq!(find_directive_open("{ % spaced"), None);
        assert_eq!(find_directive_open("ключ {% note %}"), Some(9));
    }

    fn cells(table: &Table) -> Vec<Vec<String>> {
        table
            .rows
            .iter()
            .map(|r| r.cells.iter().map(|c| c.text.clone()).collect())
            .collect()
    }

    #[test]
    fn table_rows_cells_and_multiline_cells() {
        let text = "intro\n#|\n|| **Name**\n`type` | **Description** ||\n|| **id***\n[`integer`](x.md) | Line one.\n\nLine two ||\n|#\nafter";
        let mut d = Vec::new();
        let s = split(&lines(text), &Limits::default(), &mut d);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(s.tables.len(), 1);
        let t = &s.tables[0];
        assert_eq!(
            cells(t),
            vec![
                vec!["**Name**\n`type`", "**Description**"],
                vec!["**id***\n[`integer`](x.md)", "Line one.\n\nLine two"],
            ]
        );
        assert_eq!(t.rows[1].line, 4);
        assert_eq!(t.line, 1);
        assert_eq!(t.end_line, 8);
        // Table lines are blanked, the rest kept line for line.
        let md: Vec<&str> = s.markdown.lines().collect();
        assert_eq!(md[0], "intro");
        assert_eq!(md[1], "");
        assert_eq!(md[9], "after");
    }

    #[test]
    fn escaped_pipes_and_fenced_code_hide_separators() {
        let text = "#|\n|| a | [`string`\\|`array`](x) ||\n|| b | ```\nx | y\n``` ||\n|| c | ```a|b``` ||\n|#";
        let mut d = Vec::new();
        let s = split(&lines(text), &Limits::default(), &mut d);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(
            cells(&s.tables[0]),
            vec![
                vec!["a", "[`string`\\|`array`](x)"],
                vec!["b", "```\nx | y\n```"],
                vec!["c", "```a|b```"],
            ]
        );
    }

    #[test]
    fn nested_table_belongs_to_its_cell() {
        let text = "#|\n|| **fields** | Object:\n#|\n|| **A** | x ||\n|| **B** | y ||\n|#\n||\n|| **next** | z ||\n|#";
        let mut d = Vec::new();
        let s = split(&lines(text), &Limits::default(), &mut d);
        assert!(d.is_empty(), "{d:?}");
        let t = &s.tables[0];
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0].cells[0].text, "**fields**");
        let nested_text = &t.rows[0].cells[1].text;
        assert!(nested_text.starts_with("Object:\n#|"), "{nested_text}");
        let nested = tables_in(nested_text, &Source::new("t.md", 2));
        assert_eq!(
            cells(&nested[0]),
            vec![vec!["**A**", "x"], vec!["**B**", "y"]]
        );
        assert_eq!(t.rows[1].cells[1].text, "z");
    }

    #[test]
    fn unclosed_table_is_reported() {
        let mut d = Vec::new();
        let s = split(&lines("#|\n|| a | b ||\n"), &Limits::default(), &mut d);
        assert_eq!(s.tables[0].rows.len(), 1);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].kind, DefectKind::MalformedTable);
        assert_eq!(d[0].source.line, 1);
    }

    #[test]
    fn pipes_inside_fenced_blocks_outside_tables_are_not_tables() {
        let mut d = Vec::new();
        let s = split(
            &lines("```\n#|\n|| a ||\n|#\n```\n"),
            &Limits::default(),
            &mut d,
        );
        assert!(s.tables.is_empty());
        assert!(s.markdown.contains("|| a ||"));
    }

    #[test]
    fn dev_only_blocks_are_dropped_and_notes_recorded() {
        let text = "a\n{% if build == 'dev' %}\nsecret\n{% endif %}\n{% note warning \"DEPRECATED\" %}\n\nold\n\n{% endnote %}\nb";
        let mut d = Vec::new();
        let s = split(&lines(text), &Limits::default(), &mut d);
        assert!(!s.markdown.contains("secret"));
        assert!(s.markdown.contains("old"));
        assert!(!s.markdown.contains("{%"));
        assert_eq!(s.notes.len(), 1);
        assert_eq!(s.notes[0].kind, "warning");
        assert_eq!(s.notes[0].title, "DEPRECATED");
        assert_eq!((s.notes[0].start, s.notes[0].end), (4, 8));
    }

    struct MapReader(HashMap<PathBuf, &'static str>, Vec<PathBuf>);

    impl IncludeReader for MapReader {
        fn read(&mut self, path: &Path) -> Result<(Arc<str>, Arc<str>), Unread> {
            self.1.push(path.to_owned());
            let text = self.0.get(path).ok_or(Unread::Io("missing".into()))?;
            Ok((Arc::from(*text), Arc::from(path.to_string_lossy().as_ref())))
        }
    }

    #[test]
    fn includes_expand_relative_recursively_with_origins() {
        let mut files = HashMap::new();
        files.insert(
            PathBuf::from("docs/_includes/a.md"),
            "A1 {.b24-info}\n{% include notitle [b](b.md) %}",
        );
        files.insert(PathBuf::from("docs/_includes/b.md"), "B1\nB2");
        let mut reader = MapReader(files, Vec::new());
        let mut d = Vec::new();
        let page = "x\n  {% include [a](../_includes/a.md) %}\n{% include [m](missing.md) %}\ny";
        let shown: Arc<str> = Arc::from("p/page.md");
        let out = expand(
            page,
            Path::new("docs/p/page.md"),
            &shown,
            &Limits::default(),
            &mut reader,
            &mut d,
        );
        let texts: Vec<&str> = (0..out.len()).map(|i| out.text(i)).collect();
        assert_eq!(texts, vec!["x", "  A1 {.b24-info}", "  B1", "  B2", "y"]);
        assert_eq!(
            out.sources.get(2).unwrap().to_string(),
            "docs/_includes/b.md:1"
        );
        assert_eq!(out.depth[2], 2);
        assert_eq!(out.sources.get(4).unwrap().to_string(), "p/page.md:4");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].kind, DefectKind::MissingInclude);
        assert_eq!(d[0].source.to_string(), "p/page.md:3");
        assert!(reader.1.contains(&PathBuf::from("docs/p/missing.md")));
    }

    #[test]
    fn normalizing_keeps_what_climbs_out() {
        let n = |p: &str| normalize(Path::new(p));
        assert_eq!(n("a/./b/../c.md"), PathBuf::from("a/c.md"));
        // Before: the third `..` took back the second, and this was `x`.
        assert_eq!(n("a/../../../x"), PathBuf::from("../../x"));
        assert_eq!(n("../a/../../x"), PathBuf::from("../../x"));
        assert_eq!(
            n("docs/p/../../../outside/x.md"),
            PathBuf::from("../outside/x.md")
        );
        assert_eq!(n("/docs/../../etc/passwd"), PathBuf::from("/etc/passwd"));
        assert_eq!(
            resolve_relative(Path::new("docs/p/page.md"), "../../../x.md"),
            PathBuf::from("../x.md")
        );
    }

    #[test]
    fn include_of_a_section_by_anchor() {
        let text = "# T\n## One {#one}\nbody\n### Sub\nsub\n## Two {#two}\nno";
        assert_eq!(section_by_anchor(text, "one", true), "body\n### Sub\nsub\n");
        assert_eq!(section_by_anchor(text, "two", false), "## Two {#two}\nno\n");
    }
}
