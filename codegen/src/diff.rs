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
//! a type changed, a parameter newly required.

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
    /// Methods only in the old docs.
    pub removed: Vec<MethodRef>,
    /// Methods in both whose surface changed.
    pub changed: Vec<MethodChanges>,
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
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    /// True when any change is breaking (a removed method counts).
    pub fn is_breaking(&self) -> bool {
        !self.removed.is_empty()
            || self
                .changed
                .iter()
                .any(|m| m.changes.iter().any(|c| c.breaking))
    }
}

/// Compares the API of `old` docs with the API of `new` docs.
pub fn diff(old: &Api, new: &Api) -> ApiDiff {
    let key = |m: &Method| (m.name.clone(), m.version);
    let old_methods: BTreeMap<_, _> = old.methods.iter().map(|m| (key(m), m)).collect();
    let new_methods: BTreeMap<_, _> = new.methods.iter().map(|m| (key(m), m)).collect();
    let mut out = ApiDiff::default();
    for (k, m) in &old_methods {
        if !new_methods.contains_key(k) {
            out.removed.push(method_ref(m));
        }
    }
    for (k, m) in &new_methods {
        match old_methods.get(k) {
            None => out.added.push(method_ref(m)),
            Some(before) => {
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
                breaking: true,
                what: format!("error code `{code}` removed"),
                source: e.source.clone(),
            });
        }
    }
    for (code, e) in &new_errors {
        if !old_errors.contains_key(code) {
            changes.push(Change {
                breaking: false,
                what: format!("error code `{code}` added"),
                source: e.source.clone(),
            });
        }
    }

    let mut flag = |breaking: bool, what: String| {
        changes.push(Change {
            breaking,
            what,
            source: new.source.clone(),
        })
    };
    match (&old.deprecated, &new.deprecated) {
        (None, Some(_)) => flag(false, "now deprecated".into()),
        (Some(_), None) => flag(false, "no longer deprecated".into()),
        _ => {}
    }
    if old.access != new.access {
        flag(
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
    for (path, e) in &old.fields {
        if !new.fields.contains_key(path) && !under(path, &removed) && !under(path, &retyped) {
            removed.push(path);
            out.push(Change {
                breaking: true,
                what: format!("{noun} `{path}` removed"),
                source: e.source.clone(),
            });
        }
    }
    let mut added: Vec<&str> = Vec::new();
    for (path, e) in &new.fields {
        match old.fields.get(path) {
            None if !under(path, &added) && !under(path, &retyped) => {
                added.push(path);
                let required = request && e.required == Required::Yes;
                out.push(Change {
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
                    out.push(Change {
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
            "methods: {} added, {} removed, {} changed ({breaking} with breaking changes)",
            self.added.len(),
            self.removed.len(),
            self.changed.len()
        )?;
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
        for m in &self.changed {
            writeln!(
                f,
                "~ {}{} ({})",
                m.name,
                version_suffix(m.version),
                m.source
            )?;
            for c in &m.changes {
                let mut line = format!("    {}", c.what);
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
