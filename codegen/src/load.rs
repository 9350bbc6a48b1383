//! Loading a docs folder or page into the model.
//!
//! 1. Every `*.md` below the folder (folders named `_includes` excluded), or the one page given,
//!    is read, its includes expanded (each included file read once), and parsed. Only regular
//!    files inside the docs root are read (see [`Fence`]), within the bounds of [`Limits`].
//! 2. Pages are classified ([`crate::extract::classify`]).
//! 3. The type dictionary is read from every table whose first column is headed `Type` on a
//!    page that is not a method page (the `data-types.md` pages): each type maps to the scalar
//!    its description names first (`Integer identifier…` → integer), to the structure its name
//!    links to, or to an open map when it shows `{lang_1: value_1, …}`.
//! 4. Method pages are read into methods. Structures described on another page (a link to
//!    `page.md#anchor`, a dictionary type) become one shared [`NamedType`] each, built from
//!    the pages as written (no example's refinement shows in it, see 5).
//! 5. What the pages' examples show of a shared structure's untyped fields types them, in the
//!    order of the examples in the docs (page path, then line), once every page is read; the
//!    method, event and placement pages are then read again, so that each sees the shared
//!    structures as they end up (whether its example fits one, a field type taken from one),
//!    whatever the order pages are read in.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diag::{DefectKind, Diagnostic};
use crate::extract::{self, types as ty, Links, Naming};
use crate::limits::{self, Limits};
use crate::model;
use crate::model::{
    Api, Field, Method, NamedType, PageInfo, PageKind, Scalar, Source, Type, TypeKey,
};
use crate::names;
use crate::page::{inlines, plain, BlockKind, Inline, Page};
use crate::yfm::{self, IncludeReader, Unread};

/// Reads a docs folder (every page below it) or a single page into an [`Api`], within the
/// default [`Limits`]. Never panics.
pub fn load(path: &Path) -> Api {
    load_with(path, &Limits::default())
}

/// Reads a docs folder (every page below it) or a single page into an [`Api`], within
/// `limits`. Never panics.
///
/// Pages, includes and linked pages are read only from the docs root: the nearest folder at or
/// above `path` that holds a `.yfm` file (the configuration at the root of a YFM docs project),
/// else `path` itself (for a single page, its folder). Symlinks are followed only to regular
/// files inside that root.
pub fn load_with(path: &Path, limits: &Limits) -> Api {
    limits::with_max_depth(limits.max_depth, || {
        let mut loader = Loader::new(path, limits);
        let files = page_files(path);
        for parsed in parse_pages(
            &files,
            &loader.root,
            loader.single,
            &loader.includes.fence,
            limits,
        ) {
            loader.insert(parsed);
        }
        loader.finish()
    })
}

/// The docs root that every file read must be in, and the one place files are read: a page,
/// an included file or a linked page is read only when it resolves (symlinks followed) to a
/// regular file inside the root, and never past [`Limits::max_file_bytes`].
struct Fence {
    /// The docs root, canonical (symlinks resolved).
    root: PathBuf,
    max_file_bytes: u64,
}

impl Fence {
    /// The fence of a load of the folder `folder` (for a single page, its folder).
    fn new(folder: &Path, limits: &Limits) -> Fence {
        let start = canonical_folder(folder);
        let root = start
            .ancestors()
            .find(|dir| dir.join(".yfm").is_file())
            .unwrap_or(&start)
            .to_owned();
        Fence {
            root,
            max_file_bytes: limits.max_file_bytes,
        }
    }

    /// How many folders above `folder` (the folder loaded) are inside the root.
    fn levels_above(&self, folder: &Path) -> usize {
        canonical_folder(folder)
            .strip_prefix(&self.root)
            .map_or(0, |r| r.components().count())
    }

    /// The text of the file at `path`, or why it is not read. `folders` caches the canonical
    /// form of the folders seen (a file that is no symlink is its folder's canonical form and
    /// its name: one `lstat` rather than a `readlink` per component of its path).
    fn read(&self, path: &Path, folders: &mut HashMap<PathBuf, PathBuf>) -> Result<String, Unread> {
        use std::io::Read as _;
        let io = |e: std::io::Error| Unread::Io(e.to_string());
        let link = std::fs::symlink_metadata(path).map_err(io)?;
        let (real, meta) = match (path.parent(), path.file_name()) {
            (Some(folder), Some(name)) if !link.file_type().is_symlink() => {
                let real = match folders.get(folder) {
                    Some(real) => real.join(name),
                    None => {
                        let real = canonical_folder(folder);
                        folders.insert(folder.to_owned(), real.clone());
                        real.join(name)
                    }
                };
                (real, link)
            }
            _ => {
                let real = std::fs::canonicalize(path).map_err(io)?;
                let meta = std::fs::metadata(&real).map_err(io)?;
                (real, meta)
            }
        };
        if !real.starts_with(&self.root) {
            return Err(Unread::OutsideRoot(self.root.clone()));
        }
        // Checked before opening: opening a FIFO waits for a writer.
        if !meta.is_file() {
            return Err(Unread::NotAFile);
        }
        let max = self.max_file_bytes;
        if meta.len() > max {
            return Err(Unread::TooLarge(max));
        }
        let file = std::fs::File::open(&real).map_err(io)?;
        if !file.metadata().map_err(io)?.is_file() {
            return Err(Unread::NotAFile);
        }
        // The size may have changed since: read no more than the bound whatever it is now.
        let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        file.take(max.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(io)?;
        if bytes.len() as u64 > max {
            return Err(Unread::TooLarge(max));
        }
        String::from_utf8(bytes).map_err(|e| {
            let good = e.utf8_error().valid_up_to();
            let before = e.as_bytes().get(..good).unwrap_or_default();
            let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
            Unread::NotUtf8(u32::try_from(line).unwrap_or(u32::MAX))
        })
    }
}

/// `folder` absolute, symlinks resolved when it exists; the current folder for `""` (a page
/// given as `x.md` has that parent, and every path starts with `""`).
fn canonical_folder(folder: &Path) -> PathBuf {
    let folder = if folder.as_os_str().is_empty() {
        Path::new(".")
    } else {
        folder
    };
    std::fs::canonicalize(folder)
        .or_else(|_| std::path::absolute(folder).map(|f| yfm::normalize(&f)))
        .unwrap_or_else(|_| yfm::normalize(folder))
}

/// A page read and parsed (or the error reading it), before it joins the loader.
struct Parsed {
    path: PathBuf,
    result: Result<(Page, PageKind, Naming), Diagnostic>,
    diags: Vec<Diagnostic>,
    includes_read: Vec<PathBuf>,
}

/// Reads and parses `files` on up to as many threads as the machine has cores (pages are
/// independent until their types are resolved), in the order given.
fn parse_pages(
    files: &[PathBuf],
    root: &Path,
    single: bool,
    fence: &Arc<Fence>,
    limits: &Limits,
) -> Vec<Parsed> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8)
        .min(files.len().div_ceil(16).max(1));
    let parse_share = |t: usize| -> Vec<(usize, Parsed)> {
        let mut cache = IncludeCache {
            root: root.to_owned(),
            fence: fence.clone(),
            cache: HashMap::new(),
            read: Vec::new(),
            folders: HashMap::new(),
        };
        files
            .iter()
            .enumerate()
            .filter(|(i, _)| i % threads == t)
            .map(|(i, f)| {
                let shown = shown_page(root, single, f);
                let mut diags = Vec::new();
                let result = parse_file(f, shown, limits, &mut cache, &mut diags);
                let parsed = Parsed {
                    path: yfm::normalize(f),
                    result,
                    diags,
                    includes_read: std::mem::take(&mut cache.read),
                };
                (i, parsed)
            })
            .collect()
    };
    let mut all: Vec<(usize, Parsed)> = if threads == 1 {
        parse_share(0)
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| scope.spawn(move || parse_share(t)))
                .collect();
            handles
                .into_iter()
                .enumerate()
                .flat_map(|(t, h)| {
                    h.join()
                        .unwrap_or_else(|_| lost_share(files, root, single, threads, t))
                })
                .collect()
        })
    };
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, p)| p).collect()
}

/// The pages of share `t` of a parsing thread that failed (a bug): each an error, none lost.
fn lost_share(
    files: &[PathBuf],
    root: &Path,
    single: bool,
    threads: usize,
    t: usize,
) -> Vec<(usize, Parsed)> {
    files
        .iter()
        .enumerate()
        .filter(|(i, _)| i % threads == t)
        .map(|(i, f)| {
            let error = Diagnostic::error(
                Source::new(shown_page(root, single, f), 0),
                DefectKind::Io,
                "the parser failed on this page or one read with it (a bug in b24-codegen)",
            );
            let parsed = Parsed {
                path: yfm::normalize(f),
                result: Err(error),
                diags: Vec::new(),
                includes_read: Vec::new(),
            };
            (i, parsed)
        })
        .collect()
}

/// The name shown for page `f` of a load of `root` (a single page: as given).
fn shown_page(root: &Path, single: bool, f: &Path) -> Arc<str> {
    if single {
        Arc::from(f.to_string_lossy().as_ref())
    } else {
        Arc::from(shown_path(root, f).as_str())
    }
}

/// Reads and parses one page and classifies it.
fn parse_file(
    path: &Path,
    shown: Arc<str>,
    limits: &Limits,
    includes: &mut IncludeCache,
    diags: &mut Vec<Diagnostic>,
) -> Result<(Page, PageKind, Naming), Diagnostic> {
    let text = includes.text(path).map_err(|why| {
        Diagnostic::error(
            Source::new(shown.clone(), why.line()),
            why.kind(DefectKind::Io),
            format!("the page {why}"),
        )
    })?;
    let page = Page::parse(&text, &yfm::normalize(path), shown, limits, includes, diags);
    let (kind, naming) = extract::classify(&page);
    Ok((page, kind, naming))
}

/// The pages a load of `path` reads first, in the order it reads them: every `*.md` below the
/// folder `path` (hidden entries and `_includes` folders skipped), sorted; or `path` itself when
/// it is not a folder. Includes and linked pages are found while reading and are not listed.
pub fn page_files(path: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    if path.is_dir() {
        collect_pages(path, &mut files);
        files.sort();
    } else {
        files.push(path.to_owned());
    }
    files
}

/// Every `*.md` below `dir` (hidden entries and `_includes` folders skipped; symlinked folders
/// not followed, so a link cycle ends).
fn collect_pages(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut folders = vec![dir.to_owned()];
    while let Some(dir) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') {
                continue;
            }
            match entry.file_type() {
                Ok(t) if t.is_dir() && name != "_includes" => folders.push(path),
                Ok(_) if name.ends_with(".md") => out.push(path),
                _ => {}
            }
        }
    }
}

/// A parsed page and what it is.
struct Loaded {
    page: Arc<Page>,
    path: PathBuf,
    kind: PageKind,
    naming: Naming,
    /// True for pages read only because a link pointed at them (not part of the loaded set).
    linked_only: bool,
}

/// What a dictionary type is on the wire.
#[derive(Clone, Debug)]
enum DictEntry {
    Type(Type),
    Structure {
        page: usize,
        heading: usize,
    },
    /// An object whose fields are on the page its description links to.
    Link {
        page: usize,
        target: String,
    },
}

/// Where a structure is described: a page and the heading of its section (`None`: the whole
/// page).
type StructureAt = (usize, Option<usize>);

struct Loader {
    root: PathBuf,
    /// How many folders above `root` are inside the docs root (where `/abs` links may start).
    levels_above: usize,
    limits: Limits,
    single: bool,
    pages: Vec<Loaded>,
    by_path: HashMap<PathBuf, usize>,
    includes: IncludeCache,
    diags: Vec<Diagnostic>,
    dictionary: HashMap<String, DictEntry>,
    named_headings: HashMap<String, (usize, usize)>,
    types: BTreeMap<TypeKey, NamedType>,
    structures: HashMap<StructureAt, Option<Type>>,
    visiting: Vec<StructureAt>,
    /// The structures built, in order (what a cycle read again drops).
    built: Vec<StructureAt>,
    /// A cycle to read again: its entry (where its reading started) and its smallest member
    /// ([`Loader::note_cycle`]).
    restart: Option<(StructureAt, StructureAt)>,
    /// How many cycles were read again (at most [`MAX_RESTARTS`]).
    restarts: usize,
    /// The structures method pages document, for rows that point at a method ([`Links::method_structure`]).
    method_structures: HashMap<usize, (Vec<Type>, Deps)>,
    /// What the reading under way has looked at ([`Deps`]).
    deps: std::cell::RefCell<Deps>,
    /// How many pages have been indexed (dictionary types, named structures); a name looked
    /// up before the last one was may resolve differently after.
    indexed: usize,
    /// How many method pages are being read for a structure, one inside the other.
    method_chain: usize,
    files_read: Vec<PathBuf>,
    /// What examples show of shared structures' untyped fields, recorded while the pages are
    /// first read and applied once all are ([`Loader::finish`]).
    refinements: Vec<Refinement>,
    /// Whether refinements are being recorded (the first reading of the pages); after, they
    /// are applied and no more are taken.
    recording: bool,
    /// The defects of shared structures, each reported once when it is built (whichever
    /// page's reading builds it).
    structure_diags: Vec<Diagnostic>,
}

/// An example's value of a shared structure, which types the structure's untyped fields.
struct Refinement {
    /// Where the example is.
    at: Source,
    key: TypeKey,
    example: serde_json::Map<String, serde_json::Value>,
}

/// What a reading of a page looked at that can change between the first reading and the
/// second: the shared structures whose fields it read, and whether it looked up a name (and
/// how many pages were indexed then). A reading that looked at none of what changed gives the
/// same result the second time, so it is kept rather than done again.
#[derive(Clone, Debug, Default)]
struct Deps {
    keys: std::collections::BTreeSet<String>,
    /// The fewest pages indexed at a name lookup.
    lookup: Option<usize>,
}

impl Deps {
    fn merge(&mut self, other: &Deps) {
        self.keys.extend(other.keys.iter().cloned());
        self.lookup = match (self.lookup, other.lookup) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }

    /// Whether the reading is the same with `refined` structures and `indexed` pages.
    fn holds(&self, refined: &std::collections::HashSet<String>, indexed: usize) -> bool {
        !matches!(self.lookup, Some(g) if g < indexed)
            && self.keys.iter().all(|k| !refined.contains(k))
    }
}

/// One page's first reading, with what it looked at.
struct Reading<T> {
    page: usize,
    result: T,
    diags: Vec<Diagnostic>,
    deps: Deps,
}

/// An included file's text and the name shown for it.
type Included = (Arc<str>, Arc<str>);

/// Reads pages and included files through the [`Fence`]; each included file once.
struct IncludeCache {
    root: PathBuf,
    fence: Arc<Fence>,
    cache: HashMap<PathBuf, Result<Included, Unread>>,
    read: Vec<PathBuf>,
    /// Folders seen, canonical.
    folders: HashMap<PathBuf, PathBuf>,
}

impl IncludeCache {
    /// The text of a file, through the fence.
    fn text(&mut self, path: &Path) -> Result<String, Unread> {
        self.fence.read(path, &mut self.folders)
    }
}

impl IncludeReader for IncludeCache {
    fn read(&mut self, path: &Path) -> Result<(Arc<str>, Arc<str>), Unread> {
        if let Some(hit) = self.cache.get(path) {
            return hit.clone();
        }
        let loaded = self.text(path).map(|text| {
            self.read.push(path.to_owned());
            (
                Arc::from(text),
                Arc::from(shown_path(&self.root, path).as_str()),
            )
        });
        self.cache.insert(path.to_owned(), loaded.clone());
        loaded
    }
}

/// `path` relative to `root` when it is below it, else as it is.
fn shown_path(root: &Path, path: &Path) -> String {
    let norm = yfm::normalize(path);
    match norm.strip_prefix(root) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel.to_string_lossy().replace('\\', "/"),
        _ => norm.to_string_lossy().replace('\\', "/"),
    }
}

impl Loader {
    fn new(path: &Path, limits: &Limits) -> Self {
        let single = !path.is_dir();
        let root = if single {
            yfm::normalize(path.parent().unwrap_or(Path::new("")))
        } else {
            yfm::normalize(path)
        };
        let fence = Fence::new(&root, limits);
        Loader {
            levels_above: fence.levels_above(&root),
            includes: IncludeCache {
                root: root.clone(),
                fence: Arc::new(fence),
                cache: HashMap::new(),
                read: Vec::new(),
                folders: HashMap::new(),
            },
            root,
            limits: limits.clone(),
            single,
            pages: Vec::new(),
            by_path: HashMap::new(),
            diags: Vec::new(),
            dictionary: HashMap::new(),
            named_headings: HashMap::new(),
            types: BTreeMap::new(),
            structures: HashMap::new(),
            visiting: Vec::new(),
            built: Vec::new(),
            restart: None,
            restarts: 0,
            method_structures: HashMap::new(),
            deps: Default::default(),
            indexed: 0,
            method_chain: 0,
            files_read: Vec::new(),
            refinements: Vec::new(),
            recording: true,
            structure_diags: Vec::new(),
        }
    }

    fn shown(&self, path: &Path) -> String {
        shown_path(&self.root, path)
    }

    /// Adds a page parsed by [`parse_pages`].
    fn insert(&mut self, parsed: Parsed) {
        self.diags.extend(parsed.diags);
        self.includes.read.extend(parsed.includes_read);
        match parsed.result {
            Ok((page, kind, naming)) => {
                // A page given on its own is asked to be generated: read it as a method page,
                // so one that names no method is an error rather than a silent nothing.
                let kind = if self.single { PageKind::Method } else { kind };
                self.files_read.push(parsed.path.clone());
                self.push_page(parsed.path, page, kind, naming, false);
            }
            Err(d) => self.diags.push(d),
        }
    }

    /// Reads and parses a page that a link points at, or says why it cannot be read.
    fn read_page(&mut self, path: &Path, linked_only: bool) -> Result<usize, Unread> {
        let norm = yfm::normalize(path);
        if let Some(&i) = self.by_path.get(&norm) {
            return Ok(i);
        }
        let shown: Arc<str> = Arc::from(self.shown(path).as_str());
        let mut diags = Vec::new();
        let text = self.includes.text(path)?;
        let page = Page::parse(
            &text,
            &norm,
            shown,
            &self.limits,
            &mut self.includes,
            &mut diags,
        );
        let (kind, naming) = extract::classify(&page);
        // Defects of a page outside the loaded set are not this load's to report.
        if !linked_only {
            self.diags.append(&mut diags);
        }
        self.files_read.push(path.to_owned());
        Ok(self.push_page(norm, page, kind, naming, linked_only))
    }

    fn push_page(
        &mut self,
        norm: PathBuf,
        page: Page,
        kind: PageKind,
        naming: Naming,
        linked_only: bool,
    ) -> usize {
        let index = self.pages.len();
        self.pages.push(Loaded {
            page: Arc::new(page),
            path: norm.clone(),
            kind,
            naming,
            linked_only,
        });
        self.by_path.insert(norm, index);
        self.index_page(index);
        index
    }

    /// Records the page's dictionary types and named structures.
    fn index_page(&mut self, index: usize) {
        let loaded = &self.pages[index];
        if loaded.kind == PageKind::Method {
            return;
        }
        self.indexed += 1;
        let page = loaded.page.clone();
        for (bi, b) in page.blocks.iter().enumerate() {
            match &b.kind {
                BlockKind::Heading {
                    level,
                    text,
                    anchor,
                } if *level >= 2 => {
                    if extract::fields_section_tables(&page, bi).is_empty() {
                        continue;
                    }
                    let mut keys = Vec::new();
                    if let Some(a) = anchor {
                        keys.push(a.clone());
                    }
                    let words: Vec<&str> = text.split_whitespace().collect();
                    let named_object = words.len() == 2
                        && ["object", "structure", "type"]
                            .contains(&words[1].to_lowercase().as_str());
                    if words.len() == 1 || named_object {
                        keys.push(words[0].trim_matches('`').to_owned());
                    }
                    for k in keys {
                        self.named_headings.entry(k).or_insert((index, bi));
                    }
                }
                BlockKind::Table(ti) => self.index_dictionary(index, &page, *ti),
                _ => {}
            }
        }
    }

    fn index_dictionary(&mut self, index: usize, page: &Page, ti: usize) {
        let table = &page.tables[ti];
        let Some(header) = table.rows.first() else {
            return;
        };
        let first = header
            .cells
            .first()
            .map(|c| plain(&c.text).to_lowercase().replace('*', ""))
            .unwrap_or_default();
        if !(first.trim() == "type" || first.trim() == "data type" || first.trim() == "types") {
            return;
        }
        for row in table.rows.iter().skip(1) {
            let (Some(name_cell), Some(desc)) = (row.cells.first(), row.cells.get(1)) else {
                continue;
            };
            let items = inlines(&name_cell.text);
            let mut name = None;
            let mut link = None;
            for item in &items {
                match item {
                    Inline::Code(c) if name.is_none() => name = Some(c.trim().to_owned()),
                    Inline::LinkStart(d) if link.is_none() => link = Some(d.clone()),
                    _ => {}
                }
            }
            let Some(name) = name else { continue };
            if name.contains(' ') || self.dictionary.contains_key(&name) {
                continue;
            }
            if matches!(
                ty::word(ty::strip_array(&name).0),
                ty::Word::Scalar(_) | ty::Word::Null | ty::Word::Object | ty::Word::Array
            ) {
                continue;
            }
            // The description's own type word wins (`catalog_product.id` links to the product
            // structure but is an integer); a link or a heading gives the structure otherwise.
            let described = dictionary_type(&desc.text);
            let structure = link
                .as_deref()
                .and_then(|l| l.strip_prefix('#'))
                .and_then(|a| extract::anchor_heading(page, a))
                .or_else(|| extract::anchor_heading(page, &name))
                .filter(|&h| !extract::fields_section_tables(page, h).is_empty());
            // A name that is both (`sale_order_payment`: "integer identifier" and a structure)
            // is the structure; identifier fields typed by it get its id (see `id_of`).
            let field_ref = name.contains('.');
            let entry = match (described, structure) {
                (Some(t @ Type::Scalar { .. }), Some(_)) if field_ref => Some(DictEntry::Type(t)),
                (Some(Type::Scalar { .. }), Some(h)) => Some(DictEntry::Structure {
                    page: index,
                    heading: h,
                }),
                (Some(t @ Type::Scalar { .. }), None) => Some(DictEntry::Type(t)),
                (Some(t @ Type::Map { .. }), _) => Some(DictEntry::Type(t)),
                (_, Some(h)) => Some(DictEntry::Structure {
                    page: index,
                    heading: h,
                }),
                (t, None) => {
                    let linked = inlines(&desc.text).into_iter().find_map(|i| match i {
                        Inline::LinkStart(d)
                            if d.ends_with(".md") || d.contains(".md#") || d.starts_with('#') =>
                        {
                            Some(d)
                        }
                        _ => None,
                    });
                    match (t, linked) {
                        (Some(Type::Untyped { .. }), Some(target)) => Some(DictEntry::Link {
                            page: index,
                            target,
                        }),
                        (t, _) => t.map(DictEntry::Type),
                    }
                }
            };
            if let Some(entry) = entry {
                self.dictionary.insert(name, entry);
            }
        }
    }

    fn finish(mut self) -> Api {
        // Examples type the untyped fields of shared structures. Were they applied as each
        // page is read, a page read later would see a structure that one read earlier did not
        // (a field type copied from it, whether its example fits it): the model would depend
        // on the order pages are read in. So the pages are read once to record what their
        // examples show, that is applied in the order of the examples in the docs, and the
        // pages are read again, each seeing the structures as they end up.
        // A page whose first reading looked at nothing that changed is not read again.
        let first_methods = self.methods();
        let first_events = self.events_and_placements();
        self.recording = false;
        let refined = self.apply_refinements();
        let indexed = self.indexed;
        // Structures documented by methods are read again too, from the final structures.
        self.method_structures
            .retain(|_, (_, deps)| deps.holds(&refined, indexed));
        let mut diags = std::mem::take(&mut self.diags);
        let mut methods = Vec::new();
        for r in first_methods {
            let m = if r.deps.holds(&refined, indexed) {
                diags.extend(r.diags);
                r.result
            } else {
                self.method_of(r.page, &mut diags)
            };
            methods.extend(m);
        }
        let (mut events, mut placements) = (Vec::new(), Vec::new());
        for r in first_events {
            let (e, p) = if r.deps.holds(&refined, indexed) {
                diags.extend(r.diags);
                r.result
            } else {
                self.event_or_placement(r.page, &mut diags)
            };
            events.extend(e);
            placements.extend(p);
        }
        let (events, placements) = unique_events(events, placements, &mut diags);
        self.diags.append(&mut diags);
        self.diags.append(&mut self.structure_diags);
        // The flags' wire forms, from each page's examples, then for shared structures from all.
        let mut shared_forms = extract::flags::SharedForms::default();
        for m in &mut methods {
            extract::flags::apply(m, &self.types, &mut shared_forms);
        }
        extract::flags::apply_shared(&mut self.types, shared_forms);
        // Two pages for one method and version: the first keeps it, the second is reported.
        methods.sort_by(|a, b| (&a.name, a.version).cmp(&(&b.name, b.version)));
        let mut unique: Vec<Method> = Vec::with_capacity(methods.len());
        for m in methods {
            if let Some(prev) = unique
                .iter()
                .rev()
                .take(2)
                .find(|p| p.name == m.name && p.version == m.version)
            {
                self.diags.push(Diagnostic::defect(
                    m.source.clone(),
                    DefectKind::DuplicateMethod,
                    format!("`{}` is also documented at {}", m.name, prev.source),
                ));
                continue;
            }
            unique.push(m);
        }
        let pages = self
            .pages
            .iter()
            .filter(|l| !l.linked_only)
            .map(|l| PageInfo {
                source: Source::new(l.page.file.clone(), 0),
                kind: l.kind,
                method: if l.kind == PageKind::Method {
                    l.naming
                        .h1
                        .clone()
                        .or_else(|| l.naming.urls.first().map(|(n, _)| n.clone()))
                } else {
                    None
                },
            })
            .collect();
        for t in self.types.values() {
            extract::report_untyped(&t.fields, &mut self.diags);
        }
        let mut files_read = self.files_read;
        files_read.extend(self.includes.read);
        files_read.sort();
        files_read.dedup();
        // Pages read only because a link pointed at them are not this load's to report on.
        let outside: std::collections::HashSet<&str> = self
            .pages
            .iter()
            .filter(|l| l.linked_only)
            .map(|l| l.page.file.as_ref())
            .collect();
        let mut diagnostics: Vec<Diagnostic> = self
            .diags
            .into_iter()
            .filter(|d| !outside.contains(d.source.file.as_ref()))
            .collect();
        diagnostics.sort();
        diagnostics.dedup();
        Api {
            methods: unique,
            events,
            placements,
            types: self.types,
            pages,
            diagnostics,
            files_read,
        }
    }

    /// Reads the method pages of the loaded set, in the order pages were read.
    fn methods(&mut self) -> Vec<Reading<Option<Method>>> {
        let mut methods = Vec::new();
        for i in 0..self.pages.len() {
            if self.pages[i].kind != PageKind::Method || self.pages[i].linked_only {
                continue;
            }
            self.deps.take();
            let mut diags = Vec::new();
            let result = self.method_of(i, &mut diags);
            methods.push(Reading {
                page: i,
                result,
                diags,
                deps: self.deps.take(),
            });
        }
        methods
    }

    /// Types the untyped fields of shared structures as the examples recorded show them, in
    /// the order of the examples in the docs (page, then line); the first example that types
    /// a field gives its type.
    /// Returns the keys of the structures it changed.
    fn apply_refinements(&mut self) -> std::collections::HashSet<String> {
        let mut refined = std::collections::HashSet::new();
        let mut refinements = std::mem::take(&mut self.refinements);
        // Stable: one example's values (the items of an array) keep the order they are in.
        refinements.sort_by(|a, b| a.at.cmp(&b.at));
        for r in &refinements {
            let Some(t) = self.types.get_mut(&r.key) else {
                continue;
            };
            for f in &mut t.fields {
                if f.ty.is_untyped() {
                    if let Some(v) = r.example.get(&f.api_name).filter(|v| !v.is_null()) {
                        f.ty = ty::infer(v);
                        ty::fill_sources_in(&mut f.ty, &f.source);
                        refined.insert(r.key.0.clone());
                    }
                }
            }
        }
        refined
    }

    /// Reads the event and placement pages ([`extract::event`]), in the order pages were read.
    fn events_and_placements(&mut self) -> Vec<Reading<EventsAndPlacements>> {
        let mut readings = Vec::new();
        for i in 0..self.pages.len() {
            if self.pages[i].linked_only
                || !matches!(self.pages[i].kind, PageKind::Event | PageKind::Placement)
            {
                continue;
            }
            self.deps.take();
            let mut diags = Vec::new();
            let result = self.event_or_placement(i, &mut diags);
            readings.push(Reading {
                page: i,
                result,
                diags,
                deps: self.deps.take(),
            });
        }
        readings
    }

    /// Reads event or placement page `i`.
    fn event_or_placement(&mut self, i: usize, diags: &mut Vec<Diagnostic>) -> EventsAndPlacements {
        let page = self.pages[i].page.clone();
        match self.pages[i].kind {
            PageKind::Event => (
                extract::event::event(&page, self, diags)
                    .into_iter()
                    .collect(),
                Vec::new(),
            ),
            PageKind::Placement => (
                Vec::new(),
                extract::event::placement(&page, self, diags)
                    .into_iter()
                    .collect(),
            ),
            _ => Default::default(),
        }
    }

    /// Reads method page `i` into a [`Method`].
    fn method_of(&mut self, i: usize, diags: &mut Vec<Diagnostic>) -> Option<Method> {
        let page = self.pages[i].page.clone();
        let naming = self.pages[i].naming.clone();
        let segments: Vec<String> = self.pages[i]
            .path
            .strip_prefix(&self.root)
            .unwrap_or(&self.pages[i].path)
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
        extract::method(&page, &naming, &segs, self, diags)
    }

    /// The shared type for a structure on page `pi` (under heading `h`, or the whole page).
    fn shared(&mut self, pi: usize, h: Option<usize>) -> Option<Type> {
        if let Some(done) = self.structures.get(&(pi, h)) {
            return done.clone();
        }
        if let Some(start) = self.visiting.iter().position(|&v| v == (pi, h)) {
            self.note_cycle(start);
            return Some(Type::untyped("recursive structure"));
        }
        let mark = (self.built.len(), self.structure_diags.len());
        self.visiting.push((pi, h));
        let page = self.pages[pi].page.clone();
        // Its defects are reported once, whichever page's reading builds it first.
        let mut own = Vec::new();
        let fields: Option<Vec<Field>> = {
            let mut builder = extract::builder(&page, self, &mut own);
            match h {
                Some(h) => match builder.section(h) {
                    Some(Type::Object { fields }) => Some(fields),
                    _ => None,
                },
                None => builder.page_structure(),
            }
        };
        self.visiting.pop();
        if self.restart.is_some_and(|(entry, _)| entry == (pi, h)) {
            return self.restart_cycle((pi, h), mark);
        }
        self.structure_diags.append(&mut own);
        let key = self.structure_key(pi, h);
        let result = fields.map(|fields| {
            let (title, anchor, line, description) = match h {
                Some(h) => {
                    let (text, anchor) = match &page.blocks[h].kind {
                        BlockKind::Heading { text, anchor, .. } => (
                            text.clone(),
                            anchor.clone().unwrap_or_else(|| extract::slug(text)),
                        ),
                        _ => (String::new(), String::new()),
                    };
                    (text, anchor, page.blocks[h].line, section_prose(&page, h))
                }
                None => {
                    let title = extract::h1(&page)
                        .map(|(_, t)| t.to_owned())
                        .unwrap_or_default();
                    (title, String::new(), 0, String::new())
                }
            };
            let hint = if anchor.is_empty()
                || anchor.chars().any(|c| c.is_ascii_digit()) && title.len() < 40
            {
                title.clone()
            } else {
                anchor.clone()
            };
            // Not made unique here: the generator resolves names that collide, by where the
            // docs define them (not by the order pages are read in).
            let rust_name = names::camel(&hint);
            self.types.insert(
                key.clone(),
                NamedType {
                    rust_name,
                    title,
                    description,
                    fields,
                    source: page.source(line),
                },
            );
            Type::Ref { key }
        });
        self.structures.insert((pi, h), result.clone());
        self.built.push((pi, h));
        result
    }

    /// The key of the structure on page `pi` under heading `h` (the whole page for `None`):
    /// the page, and the heading's anchor.
    fn structure_key(&self, pi: usize, h: Option<usize>) -> TypeKey {
        let rel = shown_path(&self.root, &self.pages[pi].path);
        let anchor = h
            .and_then(|h| match &self.pages[pi].page.blocks.get(h)?.kind {
                BlockKind::Heading { text, anchor, .. } => {
                    Some(anchor.clone().unwrap_or_else(|| extract::slug(text)))
                }
                _ => None,
            })
            .unwrap_or_default();
        TypeKey(if anchor.is_empty() {
            rel
        } else {
            format!("{rel}#{anchor}")
        })
    }

    /// Structures that refer to each other are cut where a reading that enters them at the
    /// smallest (by key) cuts them, whichever is read first. A cycle met while reading
    /// `visiting[start..]`, entered elsewhere, is marked to be read again from its smallest
    /// member once the reading of its entry ends ([`Loader::restart_cycle`]).
    fn note_cycle(&mut self, start: usize) {
        if self.restart.is_some() || self.restarts >= MAX_RESTARTS {
            return;
        }
        let members = self.visiting.get(start..).unwrap_or_default();
        let smallest = members
            .iter()
            .copied()
            .min_by_key(|&(p, h)| self.structure_key(p, h));
        if let (Some(&entry), Some(smallest)) = (members.first(), smallest) {
            if smallest != entry {
                self.restart = Some((entry, smallest));
            }
        }
    }

    /// Reads the structures of a marked cycle again, from its smallest member: what the
    /// reading of `entry` built (since `mark`: structures built, defects reported) is
    /// dropped, the smallest member is read (which reads `entry` inside it), and `entry`'s
    /// result is then that reading's.
    fn restart_cycle(&mut self, entry: StructureAt, mark: (usize, usize)) -> Option<Type> {
        let (_, smallest) = self.restart.take()?;
        self.restarts += 1;
        let dropped: Vec<_> = self.built.drain(mark.0..).collect();
        for done in dropped {
            if let Some(Some(Type::Ref { key })) = self.structures.remove(&done) {
                self.types.remove(&key);
            }
        }
        self.structure_diags.truncate(mark.1);
        self.shared(smallest.0, smallest.1);
        self.shared(entry.0, entry.1)
    }

    /// Resolves a link target written on `page` to a page index (reading it if needed), or
    /// says why there is none. A `/`-rooted target is looked for in the loaded folder and the
    /// folders above it inside the docs root.
    fn target_page(&mut self, page: &Page, path: &str) -> Result<usize, Unread> {
        let missing = || Unread::Io("no such page".to_owned());
        let from = self.path_of(page).ok_or_else(missing)?;
        let path = path.trim();
        let md = if let Some(stem) = path.strip_suffix(".html") {
            format!("{stem}.md")
        } else {
            path.to_owned()
        };
        let candidates: Vec<PathBuf> = if let Some(abs) = md.strip_prefix('/') {
            self.root
                .ancestors()
                .take(self.levels_above + 1)
                .map(|b| b.join(abs))
                .collect()
        } else {
            vec![yfm::resolve_relative(&from, &md)]
        };
        for c in candidates {
            let norm = yfm::normalize(&c);
            if let Some(&i) = self.by_path.get(&norm) {
                return Ok(i);
            }
            if norm.is_file() {
                return self.read_page(&norm, true);
            }
        }
        Err(missing())
    }

    fn path_of(&self, page: &Page) -> Option<PathBuf> {
        self.pages
            .iter()
            .find(|l| std::ptr::eq(Arc::as_ptr(&l.page), page))
            .map(|l| l.path.clone())
    }

    fn dictionary_entry(&mut self, name: &str, diags: &mut Vec<Diagnostic>) -> Option<Type> {
        match self.dictionary.get(name).cloned()? {
            DictEntry::Type(t) => Some(t),
            DictEntry::Structure { page, heading } => self.shared(page, Some(heading)),
            DictEntry::Link { page, target } => {
                let from = self.pages[page].page.clone();
                let at = Source::new(from.file.clone(), 0);
                if let Some(anchor) = target.strip_prefix('#') {
                    let h = extract::anchor_heading(&from, anchor)?;
                    return self.shared(page, Some(h));
                }
                self.link(&from, &target, &at, diags).or_else(|| {
                    Some(Type::untyped(
                        "dictionary object described on a method page",
                    ))
                })
            }
        }
    }
}

/// The events and placements of one page.
type EventsAndPlacements = (Vec<model::Event>, Vec<model::Placement>);

/// Sorts events and placements by name; of two pages for one event code, the first keeps it
/// and the second is reported.
fn unique_events(
    mut events: Vec<model::Event>,
    mut placements: Vec<model::Placement>,
    diags: &mut Vec<Diagnostic>,
) -> EventsAndPlacements {
    events.sort_by_cached_key(|e: &model::Event| e.name.to_ascii_uppercase());
    placements.sort_by(|a: &model::Placement, b| a.name.cmp(&b.name));
    // Two pages for one code: the first keeps it, the second is reported.
    let mut unique: Vec<model::Event> = Vec::with_capacity(events.len());
    for e in events {
        match unique.last() {
            Some(prev) if prev.name.eq_ignore_ascii_case(&e.name) => {
                diags.push(Diagnostic::defect(
                    e.source.clone(),
                    DefectKind::DuplicateMethod,
                    format!(
                        "the event `{}` is also documented at {}",
                        e.name, prev.source
                    ),
                ));
            }
            _ => unique.push(e),
        }
    }
    (unique, placements)
}

/// How many method pages deep a structure described by another method is followed.
const MAX_METHOD_CHAIN: usize = 4;

/// How many cycles of structures one load reads again ([`Loader::restart_cycle`]): each is a
/// reading of part of the docs once more, and hostile docs can hold many cycles; past the
/// bound a cycle stays cut where it was entered.
const MAX_RESTARTS: usize = 256;

/// The structures a method documents: its result when that is an object with fields (or an
/// array of such), and its one parameter that is.
fn documented_structures(m: &Method) -> Vec<Type> {
    fn described(t: &Type) -> Option<&Type> {
        match t {
            Type::Object { fields } if !fields.is_empty() => Some(t),
            Type::Ref { .. } => Some(t),
            Type::Nullable { inner } => described(inner),
            _ => None,
        }
    }
    let result = match &m.result {
        Type::Array { item } => described(item),
        other => described(other),
    };
    let mut objects = m.params.iter().filter_map(|p| described(&p.ty));
    let param = match (objects.next(), objects.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    };
    result.into_iter().chain(param).cloned().collect()
}

/// The prose right under a heading, as plain text.
fn section_prose(page: &Page, h: usize) -> String {
    let mut out = Vec::new();
    for b in &page.blocks[h + 1..] {
        match &b.kind {
            BlockKind::Prose { markdown } if page.note_at(b.line).is_none() => {
                out.push(extract::clean_markdown(markdown));
            }
            BlockKind::Heading { .. } | BlockKind::Table(_) => break,
            _ => {}
        }
    }
    out.join("\n\n")
}

/// The wire type a dictionary entry's description names first.
fn dictionary_type(description: &str) -> Option<Type> {
    let d = plain(description).to_lowercase();
    if d.contains("lang_1") || d.contains("field_1") || d.contains("lang_n") {
        return Some(Type::Map {
            value: Box::new(Type::scalar(Scalar::Any)),
        });
    }
    let keywords: &[(&str, Option<Scalar>)] = &[
        ("integer", Some(Scalar::Integer)),
        ("numeric identifier", Some(Scalar::Integer)),
        ("number", Some(Scalar::Double)),
        ("floating", Some(Scalar::Double)),
        ("string", Some(Scalar::String)),
        ("character", Some(Scalar::String)),
        ("code", Some(Scalar::String)),
        ("boolean", Some(Scalar::Boolean)),
        ("date and time", Some(Scalar::DateTime)),
        ("datetime", Some(Scalar::DateTime)),
        ("date", Some(Scalar::Date)),
        ("file", Some(Scalar::File)),
        ("object", None),
        ("array", None),
    ];
    let Some(first) = keywords
        .iter()
        .filter_map(|(k, s)| d.find(k).map(|pos| (pos, *k, *s)))
        .min_by_key(|(pos, _, _)| *pos)
    else {
        // An enumeration listed by its values: integers when every listed value is one.
        let values: Vec<String> = inlines(description)
            .into_iter()
            .filter_map(|i| match i {
                Inline::Code(c) => Some(c),
                _ => None,
            })
            .collect();
        let all_int = values.len() >= 2 && values.iter().all(|v| v.trim().parse::<i64>().is_ok());
        return all_int.then(|| Type::scalar(Scalar::Integer));
    };
    match first {
        (_, _, Some(s)) => Some(Type::scalar(s)),
        (_, "array", None) => Some(Type::array(Type::untyped(
            "dictionary array of unknown items",
        ))),
        _ => Some(Type::untyped("dictionary object described per method")),
    }
}

impl Links for Loader {
    fn link(
        &mut self,
        page: &Page,
        target: &str,
        at: &Source,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Type> {
        let (path, anchor) = match target.split_once('#') {
            Some((p, a)) => (p, Some(a)),
            None => (target, None),
        };
        if path.is_empty() {
            return None;
        }
        let pi = match self.target_page(page, path) {
            Ok(pi) => pi,
            Err(Unread::Io(_)) => {
                if !self.single {
                    diags.push(Diagnostic::defect(
                        at.clone(),
                        DefectKind::DanglingLink,
                        format!("the linked page `{path}` does not exist"),
                    ));
                }
                return None;
            }
            Err(why) => {
                diags.push(Diagnostic::defect(
                    at.clone(),
                    why.kind(DefectKind::DanglingLink),
                    format!("the linked page `{path}` {why}"),
                ));
                return None;
            }
        };
        match anchor {
            Some(a) if !a.is_empty() => {
                let target_page = self.pages[pi].page.clone();
                match extract::anchor_heading(&target_page, a) {
                    Some(h) => self.shared(pi, Some(h)),
                    None => {
                        diags.push(Diagnostic::defect(
                            at.clone(),
                            DefectKind::DanglingLink,
                            format!("no section `#{a}` on `{path}`"),
                        ));
                        None
                    }
                }
            }
            _ => {
                if self.pages[pi].kind == PageKind::Method {
                    return None;
                }
                self.shared(pi, None)
            }
        }
    }

    fn named(&mut self, name: &str, diags: &mut Vec<Diagnostic>) -> Option<Type> {
        self.deps.get_mut().merge(&Deps {
            lookup: Some(self.indexed),
            ..Deps::default()
        });
        if let Some(t) = self.dictionary_entry(name, diags) {
            return Some(t);
        }
        if let Some(&(pi, h)) = self.named_headings.get(name) {
            return self.shared(pi, Some(h));
        }
        // `structure.field`: the field's type in the named structure (each `.` one level).
        if name.matches('.').count() >= self.limits.max_depth {
            return None;
        }
        let (structure, field) = name.rsplit_once('.')?;
        let t = self.named(structure, diags)?;
        let Type::Ref { key } = t else {
            return None;
        };
        self.deps.get_mut().keys.insert(key.0.clone());
        let fields = self.types.get(&key)?.fields.clone();
        fields
            .into_iter()
            .find(|f| f.api_name.eq_ignore_ascii_case(field))
            .map(|f| f.ty)
    }

    fn method_structures(
        &mut self,
        page: &Page,
        target: &str,
        _diags: &mut Vec<Diagnostic>,
    ) -> Vec<Type> {
        let path = target.split('#').next().unwrap_or_default();
        if path.is_empty() {
            return Vec::new();
        }
        let Ok(pi) = self.target_page(page, path) else {
            return Vec::new();
        };
        if self.pages[pi].kind != PageKind::Method {
            return Vec::new();
        }
        if let Some((done, deps)) = self.method_structures.get(&pi) {
            self.deps.get_mut().merge(deps);
            return done.clone();
        }
        // A chain of pages each pointing at the next is followed a few steps only (a page
        // can be hostile: this runs inside the compiler).
        if self.method_chain >= MAX_METHOD_CHAIN {
            return Vec::new();
        }
        // Pages that point at each other: the inner reference stays unresolved.
        self.method_structures.insert(pi, Default::default());
        let outer = self.deps.take();
        self.method_chain += 1;
        // The target's own defects are reported when it is read for itself.
        let mut scratch = Vec::new();
        let structures = self
            .method_of(pi, &mut scratch)
            .map(|m| documented_structures(&m))
            .unwrap_or_default();
        self.method_chain -= 1;
        let own = self.deps.replace(outer);
        self.deps.get_mut().merge(&own);
        self.method_structures.insert(pi, (structures.clone(), own));
        structures
    }

    fn shared_fields(&self, key: &str) -> Option<Vec<Field>> {
        self.deps.borrow_mut().keys.insert(key.to_owned());
        self.types
            .get(&TypeKey(key.to_owned()))
            .map(|t| t.fields.clone())
    }

    fn refine_shared(
        &mut self,
        key: &str,
        example: &serde_json::Map<String, serde_json::Value>,
        at: &Source,
    ) {
        // Recorded, applied once every page is read ([`Loader::apply_refinements`]); the second
        // reading sees the structures refined and records nothing.
        if self.recording {
            self.refinements.push(Refinement {
                at: at.clone(),
                key: TypeKey(key.to_owned()),
                example: example.clone(),
            });
        }
    }
}
