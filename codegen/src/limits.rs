//! The bounds on what one load reads and builds.
//!
//! The docs are input: a page may be broken or hostile, and the loader runs inside `rustc`
//! (through the `api!` macro), where running out of memory or stack is a compiler crash. Every
//! bound here, when reached, becomes a diagnostic with file:line ([`DefectKind::Limit`], or an
//! error for a page that cannot be read at all) and the rest of the docs still loads.
//!
//! The defaults are far above what the upstream docs need (their largest page is 121 KB, they
//! include 13 files in one page at most and 2 deep, a page has at most 520 blocks and table
//! rows, and their structures nest 9 levels,
//! counting the chains through other pages: every bound at these values loads them the same)
//! and low enough that a load stays within a few hundred MiB and seconds whatever the pages say.
//!
//! The generator has one bound of its own: a doc comment is at most 64 KiB (the upstream docs'
//! longest is under 3 KiB), so that code does not grow with the square of a page's nesting.
//!
//! [`DefectKind::Limit`]: crate::DefectKind::Limit

use std::cell::Cell;

/// The bounds of one load ([`crate::load_with`]; [`crate::load`] uses [`Limits::default`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest file read, a page or an included file, in bytes (default 2 MiB). A larger
    /// page cannot be read (an error); a larger included file is not included (a defect).
    /// Reading stops at the bound whatever the file's size claims (`/dev/zero` ends there).
    pub max_file_bytes: u64,
    /// The largest page after include expansion, in bytes of text with their line breaks
    /// (default 8 MiB). An include that would grow the page past it is not expanded.
    pub max_page_bytes: usize,
    /// The most lines a page may have after include expansion (default 65,536; the upstream
    /// docs' most is 2,319): each line costs some 180 bytes beside its text. An include that
    /// would pass it is not expanded; a page's own lines past it are not read.
    pub max_page_lines: usize,
    /// How deep includes may nest: an included file's includes are depth 2 (default 8).
    pub max_include_depth: u8,
    /// How many include directives one page may have, at every depth together, expanded or
    /// not (default 256); past it one is reported and the rest are skipped.
    pub max_includes: usize,
    /// The most blocks (headings, paragraphs, code blocks, tables) and table rows one page may
    /// have, counted in order (default 4096; the upstream docs' most is 520); the rest of the
    /// page is not read. A table in a table's cell has at most this many rows. Some passes
    /// relate every row to every heading: this keeps them within a second or so.
    pub max_items: usize,
    /// How deep structures may nest (default 32): a table in a table's cell, a row `a.b` under
    /// row `a`, a field whose type links to a section (on this page or another) with fields of
    /// its own each count one level, and array dimensions (`object[][]`) must fit in the levels
    /// left. Past the bound a field is typed as untyped, so a type nests at most this many
    /// objects deep (and the loader's recursion is this deep at most).
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 2 << 20,
            max_page_bytes: 8 << 20,
            max_page_lines: 1 << 16,
            max_include_depth: 8,
            max_includes: 256,
            max_items: 4096,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }
}

const DEFAULT_MAX_DEPTH: usize = 32;

thread_local! {
    /// The structure levels being built on this thread and the bound of the load running on it.
    /// Per thread rather than per builder because nesting crosses pages: a structure on one
    /// page links to one on another, which another builder builds; one count sees the chain.
    static NESTING: Cell<(usize, usize)> = const { Cell::new((0, DEFAULT_MAX_DEPTH)) };
}

/// One level of structure nesting entered on this thread; dropping it leaves the level.
pub(crate) struct Level(());

impl Level {
    /// Enters one more level of nesting, or gives the bound when it is reached.
    pub(crate) fn enter() -> Result<Level, usize> {
        NESTING.with(|n| {
            let (depth, max) = n.get();
            if depth >= max {
                return Err(max);
            }
            n.set((depth + 1, max));
            Ok(Level(()))
        })
    }

    /// How many more levels may be entered on this thread.
    pub(crate) fn remaining() -> usize {
        NESTING.with(|n| {
            let (depth, max) = n.get();
            max.saturating_sub(depth)
        })
    }
}

impl Drop for Level {
    fn drop(&mut self) {
        NESTING.with(|n| {
            let (depth, max) = n.get();
            n.set((depth.saturating_sub(1), max));
        });
    }
}

/// Runs `f` with `max_depth` as this thread's nesting bound (the previous bound is restored
/// after, also when `f` panics).
pub(crate) fn with_max_depth<T>(max_depth: usize, f: impl FnOnce() -> T) -> T {
    struct Restore((usize, usize));
    impl Drop for Restore {
        fn drop(&mut self) {
            NESTING.with(|n| n.set(self.0));
        }
    }
    let _restore = Restore(NESTING.with(|n| n.replace((0, max_depth))));
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_count_up_to_the_bound_and_back() {
        with_max_depth(2, || {
            let a = Level::enter();
            assert!(a.is_ok());
            let b = Level::enter();
            assert!(b.is_ok());
            assert_eq!(Level::enter().err(), Some(2));
            assert_eq!(Level::remaining(), 0);
            drop(b);
            assert_eq!(Level::remaining(), 1);
            drop(a);
            assert_eq!(Level::remaining(), 2);
        });
        assert_eq!(Level::remaining(), DEFAULT_MAX_DEPTH);
    }
}
