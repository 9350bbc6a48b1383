//! The expansion cache: what an `api!` expansion generated, kept in the target folder and used
//! again while nothing it was made from has changed.
//!
//! Cargo re-expands a macro whenever the crate holding it is recompiled (any edit of that
//! crate, `touch`, rust-analyzer), and an expansion reads and models the whole docs tree
//! whatever `only` selects: examples on any page type the shared structures, so a selection
//! cannot be read alone without its types depending on the selection. The cache makes such a
//! re-expansion cost what the output costs to parse.
//!
//! An entry is one file per macro call (crate, arguments, docs folder), overwritten when it no
//! longer holds, so the cache holds one entry per `api!` call. It starts with a header, the
//! fingerprint of everything the output depends on:
//!
//! - the generator: this crate's and `b24-codegen`'s source ([`b24_codegen::GENERATOR_SOURCE`]);
//! - the macro's arguments as written and the docs folder they resolve to;
//! - the pages below that folder (one added or removed changes the listing), and the
//!   modification times of its folders (an include that was missing and now exists);
//! - every file read (pages, includes, linked pages, the lock) and the nearest `Cargo.lock`
//!   (a dependency upgraded), each by size and modification time, as cargo itself decides
//!   what is fresh.
//!
//! The entry is used only when the header computed now is byte for byte the one stored. An
//! expansion with a compile error is not stored (its spans point into the caller's code). Any
//! failure to read or write the cache means a full expansion, never an error.
//!
//! Where: `B24_API_CACHE` names the folder, or `off` turns the cache off; else
//! `b24-api-cache` in the target folder (`CARGO_TARGET_DIR`, or the nearest `target` folder
//! at or above the crate that holds cargo's `CACHEDIR.TAG`); with no target folder found, no
//! cache.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use proc_macro2::{Ident, Span, TokenStream, TokenTree};

/// This crate's source, part of the generator's fingerprint.
const MACRO_SOURCE: [&str; 2] = [include_str!("lib.rs"), include_str!("cache.rs")];

/// The first line of every entry; a new layout gets a new line.
const MAGIC: &str = "b24 api! expansion cache 1";

/// The identifier that stands for the runtime path in a stored expansion: the path the
/// `b24::api!` wrapper passes is `$crate::runtime`, and `$crate` does not survive being written
/// out as text and read back.
pub(crate) fn runtime_placeholder() -> TokenStream {
    TokenTree::Ident(Ident::new("__b24_runtime_path", Span::call_site())).into()
}

/// `tokens` with every [`runtime_placeholder`] at the top level replaced by `runtime`. The
/// generator names the runtime once, at the top (`use RUNTIME::__private as __b24;`), and
/// everything inside through `__b24`, so groups are not walked: on the whole API that walk
/// costs more than half of reading the stored code back.
pub(crate) fn with_runtime(tokens: TokenStream, runtime: &TokenStream) -> TokenStream {
    let mut out = TokenStream::new();
    for tree in tokens {
        match tree {
            TokenTree::Ident(ident) if ident == "__b24_runtime_path" => {
                out.extend(runtime.clone());
            }
            other => out.extend([other]),
        }
    }
    out
}

/// The cache entry of one macro call.
#[derive(Debug)]
pub(crate) struct Entry {
    file: PathBuf,
    /// The fingerprint lines that do not depend on the files read.
    head: String,
    docs: PathBuf,
}

impl Entry {
    /// The entry of the call with arguments `input` (as written) reading `docs`, in the cache
    /// folder the environment names; `None` when the cache is off or has no folder.
    pub(crate) fn for_call(input: &str, docs: &Path) -> Option<Entry> {
        let folder = folder()?;
        let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
        Entry::in_folder(&folder, &manifest, input, docs)
    }

    /// The entry of the call with arguments `input` reading `docs` from the crate at
    /// `manifest`, in `folder`.
    pub(crate) fn in_folder(
        folder: &Path,
        manifest: &str,
        input: &str,
        docs: &Path,
    ) -> Option<Entry> {
        let generator = format!(
            "{} {:016x}",
            b24_codegen::GENERATOR_SOURCE,
            fnv(MACRO_SOURCE.iter().flat_map(|s| s.bytes()))
        );
        Entry::of_generator(&generator, folder, manifest, input, docs)
    }

    /// [`Entry::in_folder`] for the generator whose fingerprint is `generator`.
    fn of_generator(
        generator: &str,
        folder: &Path,
        manifest: &str,
        input: &str,
        docs: &Path,
    ) -> Option<Entry> {
        let docs_text = docs.to_str()?;
        let mut call = String::new();
        let _ = writeln!(call, "crate {manifest:?}");
        let _ = writeln!(call, "input {input:?}");
        let _ = writeln!(call, "docs {docs_text:?}");
        // Named by the call alone: a new generator overwrites the entry of the old one.
        let slot = fnv(call.bytes());
        let mut head = String::new();
        let _ = writeln!(head, "{MAGIC}");
        let _ = writeln!(head, "generator {generator}");
        head.push_str(&call);
        Some(Entry {
            file: folder.join(format!("{slot:016x}.rs")),
            head,
            docs: docs.to_owned(),
        })
    }

    /// The code stored for this call, when everything it was made from is as it was.
    pub(crate) fn read(&self) -> Option<String> {
        let stored = std::fs::read_to_string(&self.file).ok()?;
        let (lengths, rest) = stored.split_once('\n')?;
        let (header_length, code_length) = lengths.split_once(' ')?;
        let header = rest.get(..header_length.parse().ok()?)?;
        let code = rest.get(header.len()..)?;
        if code.len() != code_length.parse::<usize>().ok()? {
            return None;
        }
        let files: Vec<PathBuf> = header
            .lines()
            .filter_map(|line| line.strip_prefix("file "))
            .filter_map(|line| Some(PathBuf::from(line.splitn(3, ' ').nth(2)?)))
            .collect();
        (self.header(&files)? == header).then(|| code.to_owned())
    }

    /// Stores `code`, made from the pages below the docs folder and the files `read`.
    pub(crate) fn write(&self, read: &[PathBuf], code: &str) {
        let mut files = read.to_vec();
        files.extend(cargo_lock());
        files.sort();
        files.dedup();
        let Some(header) = self.header(&files) else {
            return;
        };
        let Some(folder) = self.file.parent() else {
            return;
        };
        if std::fs::create_dir_all(folder).is_err() {
            return;
        }
        // Written aside and renamed, so that a reader never sees half an entry.
        let aside = self
            .file
            .with_extension(format!("{}.partial", std::process::id()));
        let entry = format!("{} {}\n{header}{code}", header.len(), code.len());
        if std::fs::write(&aside, entry).is_err() || std::fs::rename(&aside, &self.file).is_err() {
            let _ = std::fs::remove_file(&aside);
        }
    }

    /// The full fingerprint with the files `files` as they are now; `None` when one cannot be
    /// looked at or its path cannot be written on a line.
    fn header(&self, files: &[PathBuf]) -> Option<String> {
        let mut header = self.head.clone();
        for page in b24_codegen::page_files(&self.docs) {
            let page = line_path(&page)?;
            let _ = writeln!(header, "page {page}");
        }
        // A file created in a folder changes the folder's time: an include that was missing
        // and now exists (`_includes` holds no pages, so the listing does not show it).
        let mut folders = vec![self.docs.clone()];
        while let Some(folder) = folders.pop() {
            let Ok(meta) = std::fs::symlink_metadata(&folder) else {
                continue;
            };
            if !meta.is_dir() {
                continue;
            }
            let modified = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
            let _ = writeln!(
                header,
                "folder {} {}",
                modified.as_nanos(),
                line_path(&folder)?
            );
            let mut inner: Vec<PathBuf> = std::fs::read_dir(&folder)
                .ok()?
                .flatten()
                // Hidden folders are skipped as the page listing skips them (a `.git` inside
                // the docs changes with every git command).
                .filter(|e| {
                    e.file_type().is_ok_and(|t| t.is_dir())
                        && !e.file_name().to_string_lossy().starts_with('.')
                })
                .map(|e| e.path())
                .collect();
            inner.sort_unstable_by(|a, b| b.cmp(a));
            folders.extend(inner);
        }
        for file in files {
            let meta = std::fs::metadata(file).ok()?;
            let modified = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
            let path = line_path(file)?;
            let _ = writeln!(header, "file {} {} {path}", meta.len(), modified.as_nanos());
        }
        Some(header)
    }
}

/// `path` as text that fits on one line of the header.
fn line_path(path: &Path) -> Option<&str> {
    path.to_str().filter(|p| !p.contains('\n'))
}

/// The cache folder, from `B24_API_CACHE` or the target folder.
fn folder() -> Option<PathBuf> {
    match std::env::var_os("B24_API_CACHE") {
        Some(v) if v == "off" => return None,
        Some(v) if !v.is_empty() => return Some(PathBuf::from(v)),
        _ => {}
    }
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => std::path::absolute(dir).ok()?,
        _ => {
            let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR")?);
            manifest
                .ancestors()
                .map(|dir| dir.join("target"))
                .find(|target| target.join("CACHEDIR.TAG").is_file())?
        }
    };
    Some(target.join("b24-api-cache"))
}

/// The `Cargo.lock` nearest above the crate being compiled: it changes when a dependency does.
fn cargo_lock() -> Option<PathBuf> {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR")?);
    manifest
        .ancestors()
        .map(|dir| dir.join("Cargo.lock"))
        .find(|lock| lock.is_file())
}

/// FNV-1a, 64 bits: names an entry; the entry's header, compared in full, decides.
fn fnv(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A docs folder with two pages and a scratch cache folder, under a fresh temporary folder.
    fn setup(name: &str) -> (PathBuf, PathBuf) {
        let root = std::env::temp_dir().join(format!("b24-cache-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let docs = root.join("docs");
        std::fs::create_dir_all(docs.join("sub")).unwrap();
        std::fs::write(docs.join("a.md"), "# a\n").unwrap();
        std::fs::write(docs.join("sub/b.md"), "# b\n").unwrap();
        (docs, root.join("cache"))
    }

    /// The pages of [`setup`] still there.
    fn files(docs: &Path) -> Vec<PathBuf> {
        [docs.join("a.md"), docs.join("sub/b.md")]
            .into_iter()
            .filter(|f| f.exists())
            .collect()
    }

    #[test]
    fn an_entry_is_read_back_while_its_inputs_hold() {
        let (docs, cache) = setup("hold");
        let entry = Entry::in_folder(&cache, "/app", "\"docs\"", &docs).unwrap();
        assert_eq!(entry.read(), None, "nothing stored yet");
        entry.write(&files(&docs), "pub mod api {}");
        assert_eq!(entry.read().as_deref(), Some("pub mod api {}"));
        // The same call again finds it; another call, crate or folder does not.
        let again = Entry::in_folder(&cache, "/app", "\"docs\"", &docs).unwrap();
        assert_eq!(again.read().as_deref(), Some("pub mod api {}"));
        for other in [
            Entry::in_folder(&cache, "/app", "\"docs\", skip_invalid", &docs),
            Entry::in_folder(&cache, "/other", "\"docs\"", &docs),
            Entry::in_folder(&cache, "/app", "\"docs\"", &docs.join("sub")),
        ] {
            assert_eq!(other.unwrap().read(), None);
        }
    }

    #[test]
    fn another_generator_misses_and_replaces_the_entry() {
        let (docs, cache) = setup("generator");
        let old = Entry::of_generator("0.1.0+a", &cache, "/app", "\"docs\"", &docs).unwrap();
        let new = Entry::of_generator("0.1.0+b", &cache, "/app", "\"docs\"", &docs).unwrap();
        old.write(&files(&docs), "old code");
        assert_eq!(new.read(), None);
        new.write(&files(&docs), "new code");
        assert_eq!(new.read().as_deref(), Some("new code"));
        assert_eq!(old.read(), None);
        assert_eq!(
            std::fs::read_dir(&cache).unwrap().count(),
            1,
            "one entry per call"
        );
    }

    #[test]
    fn an_edited_added_or_removed_page_invalidates_the_entry() {
        let (docs, cache) = setup("stale");
        let entry = Entry::in_folder(&cache, "/app", "\"docs\"", &docs).unwrap();
        let stored = |entry: &Entry| {
            entry.write(&files(&docs), "code");
            assert!(entry.read().is_some());
        };
        stored(&entry);
        std::fs::write(docs.join("sub/b.md"), "# b, longer\n").unwrap();
        assert_eq!(entry.read(), None, "a page read changed size");
        stored(&entry);
        std::fs::write(docs.join("new.md"), "# new\n").unwrap();
        assert_eq!(entry.read(), None, "a page was added");
        std::fs::remove_file(docs.join("new.md")).unwrap();
        stored(&entry);
        // Same size, later modification time.
        let file = std::fs::File::options()
            .write(true)
            .open(docs.join("a.md"))
            .unwrap();
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
        file.set_modified(later).unwrap();
        assert_eq!(entry.read(), None, "a page read was modified");
        stored(&entry);
        std::fs::remove_file(docs.join("sub/b.md")).unwrap();
        assert_eq!(entry.read(), None, "a page read was removed");
        std::fs::create_dir_all(docs.join("_includes")).unwrap();
        stored(&entry);
        std::fs::create_dir_all(docs.join(".git")).unwrap();
        stored(&entry);
        std::fs::write(docs.join(".git/index"), "x").unwrap();
        assert!(
            entry.read().is_some(),
            "a hidden folder is not part of the docs"
        );
        std::fs::write(docs.join("_includes/note.md"), "a note\n").unwrap();
        assert_eq!(
            entry.read(),
            None,
            "a file was added where pages include from"
        );
    }

    #[test]
    fn the_runtime_path_is_put_back_at_the_top_level() {
        let placeholder = runtime_placeholder();
        let stored = quote::quote!(
            use #placeholder::__private as __b24;
            pub struct A(__b24::Value);
            use #placeholder::X;
        );
        let runtime = quote::quote!(::my_crate::runtime);
        let text = stored.to_string().parse::<TokenStream>().unwrap();
        let expected = quote::quote!(
            use ::my_crate::runtime::__private as __b24;
            pub struct A(__b24::Value);
            use ::my_crate::runtime::X;
        );
        assert_eq!(
            with_runtime(text, &runtime).to_string(),
            expected.to_string()
        );
    }

    #[test]
    fn generated_code_written_out_and_read_back_is_the_code_generated() {
        // The project's own docs pages, generated as an expansion stores them and directly.
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
        let api = b24_codegen::load(&docs);
        assert!(api.methods.len() > 10, "{} methods", api.methods.len());
        let with = |runtime: TokenStream| {
            let options = b24_codegen::Options {
                runtime,
                ..b24_codegen::Options::default()
            };
            b24_codegen::generate(&api, &options)
        };
        let runtime = quote::quote!(::b24_runtime);
        let stored = with(runtime_placeholder()).to_string();
        let read_back = with_runtime(stored.parse().unwrap(), &runtime);
        assert_eq!(read_back.to_string(), with(runtime).to_string());
    }

    #[test]
    fn a_damaged_entry_is_a_miss() {
        let (docs, cache) = setup("damaged");
        let entry = Entry::in_folder(&cache, "/app", "\"docs\"", &docs).unwrap();
        entry.write(&files(&docs), "code");
        let text = std::fs::read_to_string(&entry.file).unwrap();
        for damaged in [
            String::new(),
            "x\nabc".to_owned(),
            "99999999 4\nshort".to_owned(),
            text.replacen("file ", "file 1", 1),
            text.get(..text.len() / 2).unwrap().to_owned(),
            text.get(..text.len() - 1).unwrap().to_owned(),
        ] {
            std::fs::write(&entry.file, damaged).unwrap();
            assert_eq!(entry.read(), None);
        }
    }
}
