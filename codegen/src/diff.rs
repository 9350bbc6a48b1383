//! What changed in the API between two docs trees (what `b24-codegen diff` prints).
//!
//! Two models are compared on what the generated Rust exposes: methods (by name and API
//! version), every request parameter and response field by its path (`fields.TITLE`,
//! `result.item.id`, shared structures followed in place), their types and required markers,
//! the documented error codes, and the deprecated, access and paging flags. Prose and examples
//! are not compared: they change every week without changing the API.
//!
//! A change is *breaking* when code generated from the old docs may stop compiling or
//! behaving against the new ones: a method, parameter, response field or error code removed,
//! a method or field renamed (its Rust path moves), a type changed, a parameter newly required.
//!
//! Every change has a [`Category`] that says what a maintainer has to do about it:
//! `added`, `removed`, `renamed` (the same wire name in other letter case, or the same method
//! on another page), `newly_typed` (the old docs gave no type, the new ones do), `retyped`,
//! `required_changed`, `deprecated`, and `changed` for the rest (error-code, access and paging
//! facts). [`ApiDiff::bump`] is the semver bump a crate regenerated from the new docs needs,
//! and [`ApiDiff::changelog`] a section in the Keep a Changelog form.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use serde::Serialize;

use crate::lock::{parse_source, version_name, Lock, LockedField, LockedMethod};
use crate::model::{Api, ApiVersion, Source};

/// Everything that changed between two docs trees.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ApiDiff {
    /// Methods only in the new docs.
    pub added: Vec<MethodRef>,
    /// Methods only in the old docs (and not renamed).
    pub removed: Vec<MethodRef>,
    /// Methods whose name changed letter case only (`disk.file.copyto` → `disk.file.copyTo`):
    /// the server answers both, the Rust path moves.
    pub renamed: Vec<MethodRename>,
    /// Methods in both (or renamed) whose surface changed.
    pub changed: Vec<MethodChanges>,
    /// True when the crate is generated with the lock (`generate --lock`), which keeps removed
    /// methods and old spellings, deprecated: then neither is breaking.
    pub kept_by_lock: bool,
}

/// A method whose REST name changed letter case only.
#[derive(Clone, Debug, Serialize)]
pub struct MethodRename {
    /// The old REST name.
    pub from: String,
    /// The method in the new docs.
    pub to: MethodRef,
    /// The old docs' page.
    pub was: Source,
}

/// What a maintainer has to do about a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// A method, field or error code the old docs did not have.
    Added,
    /// A method, field or error code the new docs no longer have.
    Removed,
    /// The same method or field under another spelling, or the same method on another page.
    Renamed,
    /// The old docs gave no type where the new ones do (`untyped` → `string`).
    NewlyTyped,
    /// A type changed otherwise.
    Retyped,
    /// A parameter became required or optional.
    RequiredChanged,
    /// A method newly marked deprecated.
    Deprecated,
    /// Anything else: access, paging, no longer deprecated.
    Changed,
}

impl Category {
    /// Every category, in report order.
    pub const ALL: [Category; 8] = [
        Category::Added,
        Category::Removed,
        Category::Renamed,
        Category::NewlyTyped,
        Category::Retyped,
        Category::RequiredChanged,
        Category::Deprecated,
        Category::Changed,
    ];

    /// The name in reports: `added`, `newly typed`, ...
    pub fn label(self) -> &'static str {
        match self {
            Category::Added => "added",
            Category::Removed => "removed",
            Category::Renamed => "renamed",
            Category::NewlyTyped => "newly typed",
            Category::Retyped => "retyped",
            Category::RequiredChanged => "required changed",
            Category::Deprecated => "deprecated",
            Category::Changed => "changed",
        }
    }
}

/// A semver bump, smallest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bump {
    /// Nothing in the API changed (prose, examples, a page moved).
    Patch,
    /// Only additions and other changes code using the old crate survives.
    Minor,
    /// Code using the old crate may break.
    Major,
}

impl fmt::Display for Bump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Bump::Patch => "patch",
            Bump::Minor => "minor",
            Bump::Major => "major",
        })
    }
}

/// A method and where its page is.
#[derive(Clone, Debug, Serialize)]
pub struct MethodRef {
    /// The REST name.
    pub name: String,
    /// Classic or REST 3.0.
    pub version: ApiVersion,
    /// The page's H1 line.
    pub source: Source,
}

/// The changes to one method.
#[derive(Clone, Debug, Serialize)]
pub struct MethodChanges {
    /// The REST name.
    pub name: String,
    /// Classic or REST 3.0.
    pub version: ApiVersion,
    /// The method in the new docs.
    pub source: Source,
    /// What changed, in the order parameters, result, errors, flags.
    pub changes: Vec<Change>,
}

/// One change to a method.
#[derive(Clone, Debug, Serialize)]
pub struct Change {
    /// What kind of change it is.
    pub category: Category,
    /// Whether code generated from the old docs may break.
    pub breaking: bool,
    /// What changed, e.g. ``parameter `fields.TITLE`: type string → integer``.
    pub what: String,
    /// Where the new docs say it (the old docs' place for a removal).
    pub source: Source,
}

impl ApiDiff {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.renamed.is_empty()
            && self.changed.is_empty()
    }

    /// True when any change is breaking (a removed or renamed method counts).
    pub fn is_breaking(&self) -> bool {
        self.bump() == Bump::Major
    }

    /// The semver bump a crate generated from the new docs needs over one generated from the
    /// old: major when anything is breaking, minor when anything else but a page move changed,
    /// patch otherwise.
    pub fn bump(&self) -> Bump {
        let gone = !self.removed.is_empty() || !self.renamed.is_empty();
        let method_level = if gone && !self.kept_by_lock {
            Bump::Major
        } else if gone || !self.added.is_empty() {
            Bump::Minor
        } else {
            Bump::Patch
        };
        self.changed
            .iter()
            .flat_map(|m| &m.changes)
            .map(Change::bump)
            .fold(method_level, Ord::max)
    }

    /// How many changes of each category, methods and their fields together (a renamed method
    /// counts once, under `renamed`, and its own changes under theirs).
    pub fn counts(&self) -> BTreeMap<Category, usize> {
        let mut counts: BTreeMap<Category, usize> = Category::ALL.iter().map(|c| (*c, 0)).collect();
        *counts.entry(Category::Added).or_default() += self.added.len();
        *counts.entry(Category::Removed).or_default() += self.removed.len();
        *counts.entry(Category::Renamed).or_default() += self.renamed.len();
        for c in self.changed.iter().flat_map(|m| &m.changes) {
            *counts.entry(c.category).or_default() += 1;
        }
        counts
    }

    /// A changelog section in the Keep a Changelog form (`## [heading]`, then `### Added`,
    /// `### Changed`, `### Deprecated`, `### Removed`), every entry with its file:line and
    /// breaking entries marked **Breaking**. Renamed, retyped, newly typed, required and other
    /// changes go under `Changed`, each with its category.
    pub fn changelog(&self, heading: &str) -> String {
        let mut sections: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        let mut entry = |section: &'static str, line: String| {
            sections.entry(section).or_default().push(line);
        };
        for m in &self.added {
            entry(
                "Added",
                format!("- `{}`{} ({})", m.name, version_suffix(m.version), m.source),
            );
        }
        let kept = self.kept_by_lock;
        for r in &self.renamed {
            let spelled = format!(
                "`{}` is now spelled `{}`{} ({}, was {})",
                r.from,
                r.to.name,
                version_suffix(r.to.version),
                r.to.source,
                r.was
            );
            if kept {
                entry(
                    "Deprecated",
                    format!("- (renamed): {spelled}; the old path stays, deprecated"),
                );
            } else {
                entry("Changed", format!("- **Breaking** (renamed): {spelled}"));
            }
        }
        for m in &self.removed {
            let what = format!(
                "`{}`{} (was {})",
                m.name,
                version_suffix(m.version),
                m.source
            );
            if kept {
                entry(
                    "Deprecated",
                    format!("- (removed): {what}: dropped from the docs, kept deprecated"),
                );
            } else {
                entry("Removed", format!("- **Breaking**: {what}"));
            }
        }
        for m in &self.changed {
            for c in &m.changes {
                let section = match c.category {
                    Category::Added => "Added",
                    Category::Removed => "Removed",
                    Category::Deprecated => "Deprecated",
                    _ => "Changed",
                };
                let mut line = String::from("- ");
                if c.breaking {
                    line.push_str("**Breaking** ");
                }
                let _ = write!(
                    line,
                    "({}): `{}`{}: {} ({})",
                    c.category.label(),
                    m.name,
                    version_suffix(m.version),
                    c.what,
                    c.source
                );
                entry(section, line);
            }
        }
        let mut out = format!("## [{heading}]\n\nSemver: {} bump.\n", self.bump());
        for section in ["Added", "Changed", "Deprecated", "Removed"] {
            if let Some(lines) = sections.get(section) {
                let _ = write!(out, "\n### {section}\n\n");
                for line in lines {
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        out
    }
}

impl ApiDiff {
    /// How a removed or renamed method is marked in the text report.
    fn gone_mark(&self) -> &'static str {
        if self.kept_by_lock {
            "[kept deprecated]"
        } else {
            "[breaking]"
        }
    }
}

impl Change {
    /// The bump this change alone needs.
    pub fn bump(&self) -> Bump {
        if self.breaking {
            Bump::Major
        } else if self.category == Category::Renamed {
            // A page moved: the method keeps its name and its Rust path.
            Bump::Patch
        } else {
            Bump::Minor
        }
    }
}

/// Inserts a changelog `section` into the text of a `CHANGELOG.md` (`None` when there is
/// none yet): before the first release section, so the newest comes first. A section with the
/// same heading line (the same release written again) is replaced in place.
pub fn insert_changelog(existing: Option<&str>, section: &str) -> String {
    let heading = section.lines().next().unwrap_or_default();
    if let Some(text) = existing.filter(|_| heading.starts_with("## ")) {
        let start = if text.starts_with(&format!("{heading}\n")) {
            Some(0)
        } else {
            text.find(&format!("\n{heading}\n")).map(|i| i + 1)
        };
        if let Some(start) = start {
            let rest = &text[start + heading.len()..];
            let end = rest
                .find("\n## ")
                .map_or(text.len(), |i| start + heading.len() + i + 1);
            let sep = if end < text.len() { "\n" } else { "" };
            return format!(
                "{}{}{sep}{}",
                &text[..start],
                section.trim_end_matches('\n').to_owned() + "\n",
                &text[end..]
            );
        }
    }
    match existing {
        None => format!(
            "# Changelog\n\nAll notable changes to this crate, as the docs they are generated \
             from changed.\n\n{section}"
        ),
        Some(text) => {
            let at = if text.starts_with("## ") {
                Some(0)
            } else {
                text.find("\n## ").map(|i| i + 1)
            };
            match at {
                Some(i) => format!("{}{section}\n{}", &text[..i], &text[i..]),
                None => {
                    let sep = if text.ends_with("\n\n") || text.is_empty() {
                        ""
                    } else if text.ends_with('\n') {
                        "\n"
                    } else {
                        "\n\n"
                    };
                    format!("{text}{sep}{section}")
                }
            }
        }
    }
}

/// Compares the API of `old` docs with the API of `new` docs.
pub fn diff(old: &Api, new: &Api) -> ApiDiff {
    diff_locks(&Lock::facts(old, "", None), &Lock::facts(new, "", None))
}

/// Compares a published API (a lock) with the API of the new docs (as [`Lock::facts`] reads them).
///
/// The methods the old lock keeps as dropped or as an old spelling are not compared: they
/// were reported when they went, and stay deprecated.
pub fn diff_locks(old: &Lock, new: &Lock) -> ApiDiff {
    let key = |m: &LockedMethod| (m.name.clone(), parse_version(&m.version));
    let old_methods: BTreeMap<_, _> = old.current().map(|m| (key(m), m)).collect();
    let new_methods: BTreeMap<_, _> = new.current().map(|m| (key(m), m)).collect();
    // A method only in the old docs and one only in the new whose names differ in letter case
    // only are one method renamed (when the folding pairs exactly one with one).
    let fold = |k: &(String, ApiVersion)| (k.0.to_lowercase(), k.1);
    let mut gone: BTreeMap<_, Vec<&LockedMethod>> = BTreeMap::new();
    for (k, m) in &old_methods {
        if !new_methods.contains_key(k) {
            gone.entry(fold(k)).or_default().push(m);
        }
    }
    let mut came: BTreeMap<_, Vec<&LockedMethod>> = BTreeMap::new();
    for (k, m) in &new_methods {
        if !old_methods.contains_key(k) {
            came.entry(fold(k)).or_default().push(m);
        }
    }
    let mut renamed_from: BTreeMap<(String, ApiVersion), &LockedMethod> = BTreeMap::new();
    for (k, olds) in &gone {
        if let (Some([after]), [before]) = (came.get(k).map(Vec::as_slice), olds.as_slice()) {
            renamed_from.insert(key(after), before);
        }
    }
    let renamed_old: Vec<(String, ApiVersion)> = renamed_from.values().map(|m| key(m)).collect();

    // Shared structures the new lock keeps as aliases of another (merged): a field that was
    // one and is now the other keeps compiling.
    let aliases: BTreeMap<&str, &str> = new
        .types
        .iter()
        .filter(|t| t.dropped_in.is_some())
        .filter_map(|t| Some((t.rust_path.as_str(), t.alias_of.as_deref()?)))
        .collect();
    let mut out = ApiDiff::default();
    for (k, m) in &old_methods {
        if !new_methods.contains_key(k) && !renamed_old.contains(k) {
            out.removed.push(method_ref(m));
        }
    }
    for (k, m) in &new_methods {
        let before = match (old_methods.get(k), renamed_from.get(k)) {
            (Some(before), _) => before,
            (None, Some(before)) => {
                out.renamed.push(MethodRename {
                    from: before.name.clone(),
                    to: method_ref(m),
                    was: parse_source(&before.source),
                });
                before
            }
            (None, None) => {
                out.added.push(method_ref(m));
                continue;
            }
        };
        let changes = method_changes(before, m, &aliases);
        if !changes.is_empty() {
            out.changed.push(MethodChanges {
                name: m.name.clone(),
                version: k.1,
                source: parse_source(&m.source),
                changes,
            });
        }
    }
    out
}

fn parse_version(v: &str) -> ApiVersion {
    if v == version_name(ApiVersion::V3) {
        ApiVersion::V3
    } else {
        ApiVersion::V2
    }
}

fn method_ref(m: &LockedMethod) -> MethodRef {
    MethodRef {
        name: m.name.clone(),
        version: parse_version(&m.version),
        source: parse_source(&m.source),
    }
}

fn method_changes(
    old: &LockedMethod,
    new: &LockedMethod,
    aliases: &BTreeMap<&str, &str>,
) -> Vec<Change> {
    let mut changes = Vec::new();
    let (old_source, new_source) = (parse_source(&old.source), parse_source(&new.source));
    if old_source.file != new_source.file {
        changes.push(Change {
            category: Category::Renamed,
            breaking: false,
            what: format!("page moved from {old_source}"),
            source: new_source.clone(),
        });
    }
    compare(
        &old.params,
        &new.params,
        "parameter",
        true,
        aliases,
        &mut changes,
    );
    compare(
        &old.result,
        &new.result,
        "response field",
        false,
        aliases,
        &mut changes,
    );

    let old_errors: BTreeMap<_, _> = old.errors.iter().map(|e| (&e.code, e)).collect();
    let new_errors: BTreeMap<_, _> = new.errors.iter().map(|e| (&e.code, e)).collect();
    for (code, e) in &old_errors {
        let kept = new_errors.get(code).is_some_and(|n| n.dropped_in.is_some());
        if kept && e.dropped_in.is_none() {
            changes.push(Change {
                category: Category::Deprecated,
                breaking: false,
                what: format!("error code `{code}` dropped from the docs, kept deprecated"),
                source: parse_source(&e.source),
            });
        }
        if !new_errors.contains_key(code) {
            changes.push(Change {
                category: Category::Removed,
                breaking: true,
                what: format!("error code `{code}` removed"),
                source: parse_source(&e.source),
            });
        }
    }
    for (code, e) in &new_errors {
        if !old_errors.contains_key(code) {
            changes.push(Change {
                category: Category::Added,
                breaking: false,
                what: format!("error code `{code}` added"),
                source: parse_source(&e.source),
            });
        }
    }

    let mut flag = |category: Category, breaking: bool, what: String| {
        changes.push(Change {
            category,
            breaking,
            what,
            source: new_source.clone(),
        })
    };
    match (&old.deprecated, &new.deprecated) {
        (None, Some(_)) => flag(Category::Deprecated, false, "now deprecated".into()),
        (Some(_), None) => flag(Category::Changed, false, "no longer deprecated".into()),
        _ => {}
    }
    if old.access != new.access {
        flag(
            Category::Changed,
            false,
            format!("access {} → {}", old.access, new.access),
        );
    }
    if old.paging != new.paging {
        let describe = |p: &Option<String>| match p {
            None => "not paged".to_owned(),
            Some(items) => format!("paged (items in `{items}`)"),
        };
        flag(
            Category::Changed,
            true,
            format!("{} → {}", describe(&old.paging), describe(&new.paging)),
        );
    }
    changes
}

fn compare(
    old: &[LockedField],
    new: &[LockedField],
    noun: &str,
    request: bool,
    aliases: &BTreeMap<&str, &str>,
    out: &mut Vec<Change>,
) {
    let old: BTreeMap<&str, &LockedField> = old.iter().map(|f| (f.path.as_str(), f)).collect();
    let new: BTreeMap<&str, &LockedField> = new.iter().map(|f| (f.path.as_str(), f)).collect();
    // A field under a removed or added field is not reported again.
    let under = |path: &str, parents: &[&str]| {
        parents.iter().any(|p| {
            path.len() > p.len()
                && path.starts_with(p)
                && matches!(path.as_bytes()[p.len()], b'.' | b'[' | b'{')
        })
    };
    // Nor is the inside of a field whose type changed: the type change says it.
    let retyped: Vec<&str> = new
        .iter()
        .filter(|(path, e)| {
            old.get(*path)
                .is_some_and(|b| b.signature != e.signature || other_shared(b, e))
        })
        .map(|(path, _)| *path)
        .collect();
    let mut removed: Vec<&str> = Vec::new();
    for path in old.keys() {
        if !new.contains_key(path) && !under(path, &removed) && !under(path, &retyped) {
            removed.push(path);
        }
    }
    let mut added: Vec<&str> = Vec::new();
    for path in new.keys() {
        if !old.contains_key(path) && !under(path, &added) && !under(path, &retyped) {
            added.push(path);
        }
    }
    // A removed and an added path equal but for letter case are one field renamed, when the
    // folding pairs exactly one with one.
    let folded = |paths: &[&str]| {
        let mut by: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, p) in paths.iter().enumerate() {
            by.entry(p.to_lowercase()).or_default().push(i);
        }
        by
    };
    let (gone, came) = (folded(&removed), folded(&added));
    let mut renames: Vec<(&str, &str)> = Vec::new();
    for (key, olds) in &gone {
        if let (&[o], Some(&[n])) = (olds.as_slice(), came.get(key).map(Vec::as_slice)) {
            renames.push((removed[o], added[n]));
        }
    }
    let renamed_old: Vec<&str> = renames.iter().map(|r| r.0).collect();
    let renamed_new: Vec<&str> = renames.iter().map(|r| r.1).collect();
    for path in &removed {
        if renamed_old.contains(path) {
            continue;
        }
        out.push(Change {
            category: Category::Removed,
            breaking: true,
            what: format!("{noun} `{path}` removed"),
            source: parse_source(&old[path].source),
        });
    }
    for (from, to) in &renames {
        let (before, e) = (old[from], new[to]);
        let mut what = format!("{noun} `{from}` renamed to `{to}`");
        if before.signature != e.signature {
            let _ = write!(what, " (type {} → {})", before.signature, e.signature);
        }
        out.push(Change {
            category: Category::Renamed,
            breaking: true,
            what,
            source: parse_source(&e.source),
        });
    }
    for (path, e) in &new {
        match old.get(path) {
            None if added.contains(path) && !renamed_new.contains(path) => {
                let required = request && e.required == "yes";
                out.push(Change {
                    category: Category::Added,
                    breaking: required,
                    what: format!(
                        "{noun} `{path}` added ({}{})",
                        if required { "required, " } else { "" },
                        e.signature
                    ),
                    source: parse_source(&e.source),
                });
            }
            None => {}
            // Dropped from the docs, kept by the lock: a deprecation (once).
            Some(before) if e.dropped_in.is_some() && before.dropped_in.is_none() => {
                out.push(Change {
                    category: Category::Deprecated,
                    breaking: false,
                    what: format!("{noun} `{path}` dropped from the docs, kept deprecated"),
                    source: parse_source(&before.source),
                });
            }
            Some(_) if e.dropped_in.is_some() => {}
            Some(before) => {
                if before.signature == e.signature && other_shared(before, e) {
                    // The same shape, another shared structure: the Rust type changed, unless
                    // the old one is kept as an alias of the new.
                    let (was, is) = (
                        before.rust_type.as_deref().unwrap_or_default(),
                        e.rust_type.as_deref().unwrap_or_default(),
                    );
                    let aliased = aliases.get(was) == Some(&is);
                    out.push(Change {
                        category: if aliased {
                            Category::Deprecated
                        } else {
                            Category::Retyped
                        },
                        breaking: !aliased,
                        what: if aliased {
                            format!("{noun} `{path}`: type {was} → {is} (`{was}` kept as a deprecated alias)")
                        } else {
                            format!("{noun} `{path}`: type {was} → {is}")
                        },
                        source: parse_source(&e.source),
                    });
                }
                if before.signature != e.signature {
                    let category = if refines(&before.signature, &e.signature) {
                        Category::NewlyTyped
                    } else {
                        Category::Retyped
                    };
                    out.push(Change {
                        category,
                        breaking: true,
                        what: format!(
                            "{noun} `{path}`: type {} → {}",
                            before.signature, e.signature
                        ),
                        source: parse_source(&e.source),
                    });
                }
                if request && before.required != e.required {
                    out.push(Change {
                        category: Category::RequiredChanged,
                        breaking: e.required == "yes",
                        what: format!(
                            "{noun} `{path}`: {} → {}",
                            required_word(&before.required),
                            required_word(&e.required)
                        ),
                        source: parse_source(&e.source),
                    });
                }
            }
        }
    }
}

/// True when both fields are shared structures, and not the same one.
fn other_shared(old: &LockedField, new: &LockedField) -> bool {
    matches!((&old.rust_type, &new.rust_type), (Some(a), Some(b)) if a != b)
}

/// True when the `new` signature differs from the `old` one only where `old` says
/// `untyped`: the docs newly state a type (`untyped` → `string`, `untyped[]` →
/// `integer[]`, `string|untyped` → `string|object`) rather than change one.
fn refines(old: &str, new: &str) -> bool {
    let mut parts = old.split("untyped");
    let Some(first) = parts.next() else {
        return false;
    };
    let Some(mut rest) = new.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    if parts.is_empty() {
        return rest.is_empty();
    }
    // Each `untyped` stands for a non-empty piece: match the literal parts between them in
    // order, the last one at the end.
    for (i, part) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            return rest.len() > part.len() && rest.ends_with(part);
        }
        match rest.get(1..).and_then(|r| r.find(part)) {
            Some(at) => rest = &rest[1 + at + part.len()..],
            None => return false,
        }
    }
    false
}

fn required_word(r: &str) -> &'static str {
    match r {
        "yes" => "required",
        "conditional" => "required in some cases",
        _ => "optional",
    }
}

impl fmt::Display for ApiDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let breaking = self
            .changed
            .iter()
            .filter(|m| m.changes.iter().any(|c| c.breaking))
            .count();
        writeln!(
            f,
            "methods: {} added, {} removed, {} renamed, {} changed ({breaking} with breaking changes)",
            self.added.len(),
            self.removed.len(),
            self.renamed.len(),
            self.changed.len()
        )?;
        let counts = self.counts();
        let counts: Vec<String> = Category::ALL
            .iter()
            .map(|c| format!("{} {}", counts[c], c.label()))
            .collect();
        writeln!(f, "changes: {}", counts.join(", "))?;
        writeln!(f, "semver: {}", self.bump())?;
        for m in &self.added {
            writeln!(
                f,
                "+ {}{} ({})",
                m.name,
                version_suffix(m.version),
                m.source
            )?;
        }
        for m in &self.removed {
            writeln!(
                f,
                "- {}{} (was {}) {}",
                m.name,
                version_suffix(m.version),
                m.source,
                self.gone_mark()
            )?;
        }
        for r in &self.renamed {
            writeln!(
                f,
                "> {} → {}{} ({}, was {}) [renamed] {}",
                r.from,
                r.to.name,
                version_suffix(r.to.version),
                r.to.source,
                r.was,
                self.gone_mark()
            )?;
        }
        for m in &self.changed {
            writeln!(
                f,
                "~ {}{} ({})",
                m.name,
                version_suffix(m.version),
                m.source
            )?;
            for c in &m.changes {
                let mut line = format!("    [{}] {}", c.category.label(), c.what);
                if c.breaking {
                    line.push_str(" [breaking]");
                }
                let _ = write!(line, " ({})", c.source);
                writeln!(f, "{line}")?;
            }
        }
        Ok(())
    }
}

fn version_suffix(v: ApiVersion) -> &'static str {
    match v {
        ApiVersion::V2 => "",
        ApiVersion::V3 => " (REST 3.0)",
    }
}
