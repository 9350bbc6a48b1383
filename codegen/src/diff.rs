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

use crate::model::{Api, ApiVersion, Field, Method, Required, Source, Type};

/// Shared structures are followed this deep; deeper (or recursive) ones are compared by name.
const MAX_DEPTH: usize = 6;

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
        let method_level = if !self.removed.is_empty() || !self.renamed.is_empty() {
            Bump::Major
        } else if !self.added.is_empty() {
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
        for r in &self.renamed {
            entry(
                "Changed",
                format!(
                    "- **Breaking** (renamed): `{}` is now spelled `{}`{} ({}, was {})",
                    r.from,
                    r.to.name,
                    version_suffix(r.to.version),
                    r.to.source,
                    r.was
                ),
            );
        }
        for m in &self.removed {
            entry(
                "Removed",
                format!(
                    "- **Breaking**: `{}`{} (was {})",
                    m.name,
                    version_suffix(m.version),
                    m.source
                ),
            );
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
/// none yet): before the first release section, so the newest comes first.
pub fn insert_changelog(existing: Option<&str>, section: &str) -> String {
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
    let key = |m: &Method| (m.name.clone(), m.version);
    let old_methods: BTreeMap<_, _> = old.methods.iter().map(|m| (key(m), m)).collect();
    let new_methods: BTreeMap<_, _> = new.methods.iter().map(|m| (key(m), m)).collect();
    // A method only in the old docs and one only in the new whose names differ in letter case
    // only are one method renamed (when the folding pairs exactly one with one).
    let fold = |k: &(String, ApiVersion)| (k.0.to_lowercase(), k.1);
    let mut gone: BTreeMap<_, Vec<&Method>> = BTreeMap::new();
    for (k, m) in &old_methods {
        if !new_methods.contains_key(k) {
            gone.entry(fold(k)).or_default().push(m);
        }
    }
    let mut came: BTreeMap<_, Vec<&Method>> = BTreeMap::new();
    for (k, m) in &new_methods {
        if !old_methods.contains_key(k) {
            came.entry(fold(k)).or_default().push(m);
        }
    }
    let mut renamed_from: BTreeMap<(String, ApiVersion), &Method> = BTreeMap::new();
    for (k, olds) in &gone {
        if let (Some([before]), [_]) = (came.get(k).map(Vec::as_slice), olds.as_slice()) {
            renamed_from.insert((before.name.clone(), before.version), olds[0]);
        }
    }
    let renamed_old: Vec<(&str, ApiVersion)> = renamed_from
        .values()
        .map(|m| (m.name.as_str(), m.version))
        .collect();

    let mut out = ApiDiff::default();
    for (k, m) in &old_methods {
        if !new_methods.contains_key(k) && !renamed_old.contains(&(k.0.as_str(), k.1)) {
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
                    was: before.source.clone(),
                });
                before
            }
            (None, None) => {
                out.added.push(method_ref(m));
                continue;
            }
        };
        let changes = method_changes(old, before, new, m);
        if !changes.is_empty() {
            out.changed.push(MethodChanges {
                name: m.name.clone(),
                version: m.version,
                source: m.source.clone(),
                changes,
            });
        }
    }
    out
}

fn method_ref(m: &Method) -> MethodRef {
    MethodRef {
        name: m.name.clone(),
        version: m.version,
        source: m.source.clone(),
    }
}

fn method_changes(old_api: &Api, old: &Method, new_api: &Api, new: &Method) -> Vec<Change> {
    let mut changes = Vec::new();
    if old.source.file != new.source.file {
        changes.push(Change {
            category: Category::Renamed,
            breaking: false,
            what: format!("page moved from {}", old.source),
            source: new.source.clone(),
        });
    }
    let old_params = Surface::of_fields(old_api, &old.params);
    let new_params = Surface::of_fields(new_api, &new.params);
    compare(&old_params, &new_params, "parameter", true, &mut changes);
    let old_result = Surface::of_type(old_api, "result", &old.result, &old.source);
    let new_result = Surface::of_type(new_api, "result", &new.result, &new.source);
    compare(
        &old_result,
        &new_result,
        "response field",
        false,
        &mut changes,
    );

    let old_errors: BTreeMap<_, _> = old.errors.iter().map(|e| (&e.code, e)).collect();
    let new_errors: BTreeMap<_, _> = new.errors.iter().map(|e| (&e.code, e)).collect();
    for (code, e) in &old_errors {
        if !new_errors.contains_key(code) {
            changes.push(Change {
                category: Category::Removed,
                breaking: true,
                what: format!("error code `{code}` removed"),
                source: e.source.clone(),
            });
        }
    }
    for (code, e) in &new_errors {
        if !old_errors.contains_key(code) {
            changes.push(Change {
                category: Category::Added,
                breaking: false,
                what: format!("error code `{code}` added"),
                source: e.source.clone(),
            });
        }
    }

    let mut flag = |category: Category, breaking: bool, what: String| {
        changes.push(Change {
            category,
            breaking,
            what,
            source: new.source.clone(),
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
            format!("access {:?} → {:?}", old.access, new.access).to_lowercase(),
        );
    }
    if old.paging != new.paging {
        let describe = |p: &Option<crate::model::Paging>| match p {
            None => "not paged".to_owned(),
            Some(p) => match &p.items_key {
                Some(key) => format!("paged (items in `result.{key}`)"),
                None => "paged (items in `result`)".to_owned(),
            },
        };
        flag(
            Category::Changed,
            true,
            format!("{} → {}", describe(&old.paging), describe(&new.paging)),
        );
    }
    changes
}

/// The fields of a request or a response, flattened to paths.
struct Surface {
    fields: BTreeMap<String, Entry>,
}

/// One flattened field.
struct Entry {
    ty: Type,
    signature: String,
    required: Required,
    source: Source,
}

impl Surface {
    fn of_fields(api: &Api, fields: &[Field]) -> Surface {
        let mut s = Surface {
            fields: BTreeMap::new(),
        };
        s.add_fields(api, "", fields, 0);
        s
    }

    fn of_type(api: &Api, path: &str, ty: &Type, source: &Source) -> Surface {
        let mut s = Surface {
            fields: BTreeMap::new(),
        };
        s.add(api, path, ty, Required::No, source, 0);
        s
    }

    fn add_fields(&mut self, api: &Api, prefix: &str, fields: &[Field], depth: usize) {
        for f in fields {
            let path = if prefix.is_empty() {
                f.api_name.clone()
            } else {
                format!("{prefix}.{}", f.api_name)
            };
            self.add(api, &path, &f.ty, f.required, &f.source, depth);
        }
    }

    fn add(
        &mut self,
        api: &Api,
        path: &str,
        ty: &Type,
        required: Required,
        source: &Source,
        depth: usize,
    ) {
        self.fields.insert(
            path.to_owned(),
            Entry {
                ty: shape(ty),
                signature: signature(ty),
                required,
                source: source.clone(),
            },
        );
        self.add_inner(api, path, ty, source, depth);
    }

    /// The fields inside `path`'s type: object fields, array items, map values, and the
    /// fields of every form of a union or a nullable type, all under `path`.
    fn add_inner(&mut self, api: &Api, path: &str, ty: &Type, source: &Source, depth: usize) {
        if depth >= MAX_DEPTH {
            return;
        }
        match ty {
            Type::Object { fields } => self.add_fields(api, path, fields, depth + 1),
            Type::Ref { key } => {
                if let Some(named) = api.types.get(key) {
                    self.add_fields(api, path, &named.fields, depth + 1);
                }
            }
            Type::Array { item } => {
                let items = format!("{path}[]");
                self.add(api, &items, item, Required::No, source, depth + 1)
            }
            Type::Map { value } => {
                let values = format!("{path}{{}}");
                self.add(api, &values, value, Required::No, source, depth + 1)
            }
            Type::Nullable { inner } => self.add_inner(api, path, inner, source, depth),
            Type::Union { variants } => {
                for v in variants {
                    self.add_inner(api, path, v, source, depth);
                }
            }
            Type::Scalar { .. } | Type::Untyped { .. } => {}
        }
    }
}

fn compare(old: &Surface, new: &Surface, noun: &str, request: bool, out: &mut Vec<Change>) {
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
        .fields
        .iter()
        .filter(|(path, e)| {
            old.fields
                .get(*path)
                .is_some_and(|b| b.signature != e.signature)
        })
        .map(|(path, _)| path.as_str())
        .collect();
    let mut removed: Vec<&str> = Vec::new();
    for path in old.fields.keys() {
        if !new.fields.contains_key(path) && !under(path, &removed) && !under(path, &retyped) {
            removed.push(path);
        }
    }
    let mut added: Vec<&str> = Vec::new();
    for path in new.fields.keys() {
        if !old.fields.contains_key(path) && !under(path, &added) && !under(path, &retyped) {
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
            source: old.fields[*path].source.clone(),
        });
    }
    for (from, to) in &renames {
        let (before, e) = (&old.fields[*from], &new.fields[*to]);
        let mut what = format!("{noun} `{from}` renamed to `{to}`");
        if before.signature != e.signature {
            let _ = write!(what, " (type {} → {})", before.signature, e.signature);
        }
        out.push(Change {
            category: Category::Renamed,
            breaking: true,
            what,
            source: e.source.clone(),
        });
    }
    for (path, e) in &new.fields {
        match old.fields.get(path) {
            None if added.contains(&path.as_str()) && !renamed_new.contains(&path.as_str()) => {
                let required = request && e.required == Required::Yes;
                out.push(Change {
                    category: Category::Added,
                    breaking: required,
                    what: format!(
                        "{noun} `{path}` added ({}{})",
                        if required { "required, " } else { "" },
                        e.signature
                    ),
                    source: e.source.clone(),
                });
            }
            None => {}
            Some(before) => {
                if before.signature != e.signature {
                    let category = if refines(&before.ty, &e.ty) {
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
                        source: e.source.clone(),
                    });
                }
                if request && before.required != e.required {
                    out.push(Change {
                        category: Category::RequiredChanged,
                        breaking: e.required == Required::Yes,
                        what: format!(
                            "{noun} `{path}`: {} → {}",
                            required_word(before.required),
                            required_word(e.required)
                        ),
                        source: e.source.clone(),
                    });
                }
            }
        }
    }
}

/// The shape of a type without the fields of its objects (they are compared one by one).
fn shape(ty: &Type) -> Type {
    match ty {
        Type::Object { .. } => Type::Object { fields: Vec::new() },
        Type::Array { item } => Type::array(shape(item)),
        Type::Map { value } => Type::Map {
            value: Box::new(shape(value)),
        },
        Type::Nullable { inner } => Type::Nullable {
            inner: Box::new(shape(inner)),
        },
        Type::Union { variants } => Type::Union {
            variants: variants.iter().map(shape).collect(),
        },
        Type::Scalar { .. } | Type::Ref { .. } | Type::Untyped { .. } => ty.clone(),
    }
}

/// True when `new` differs from `old` only where `old` is untyped: the docs newly state a
/// type (`untyped` → `string`, `untyped[]` → `integer[]`) rather than change one.
fn refines(old: &Type, new: &Type) -> bool {
    match (old, new) {
        (Type::Untyped { .. }, _) => true,
        (Type::Array { item: a }, Type::Array { item: b })
        | (Type::Map { value: a }, Type::Map { value: b })
        | (Type::Nullable { inner: a }, Type::Nullable { inner: b }) => refines(a, b),
        (Type::Union { variants: a }, Type::Union { variants: b }) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| refines(a, b))
        }
        _ => signature(old) == signature(new),
    }
}

fn required_word(r: Required) -> &'static str {
    match r {
        Required::Yes => "required",
        Required::Conditional => "required in some cases",
        Required::No => "optional",
    }
}

/// A short rendering of a type's shape: `integer`, `string[]`, `string|object`, `map<integer>`.
/// Shared structures render as `object`: their fields are compared one by one.
fn signature(ty: &Type) -> String {
    match ty {
        Type::Scalar { scalar } => format!("{scalar:?}").to_lowercase(),
        Type::Array { item } => format!("{}[]", wrap(item)),
        Type::Union { variants } => variants.iter().map(signature).collect::<Vec<_>>().join("|"),
        Type::Nullable { inner } => format!("{}|null", signature(inner)),
        Type::Object { .. } | Type::Ref { .. } => "object".into(),
        Type::Map { value } => format!("map<{}>", signature(value)),
        Type::Untyped { .. } => "untyped".into(),
    }
}

fn wrap(ty: &Type) -> String {
    match ty {
        Type::Union { .. } | Type::Nullable { .. } => format!("({})", signature(ty)),
        _ => signature(ty),
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
                "- {}{} (was {}) [breaking]",
                m.name,
                version_suffix(m.version),
                m.source
            )?;
        }
        for r in &self.renamed {
            writeln!(
                f,
                "> {} → {}{} ({}, was {}) [renamed] [breaking]",
                r.from,
                r.to.name,
                version_suffix(r.to.version),
                r.to.source,
                r.was
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
