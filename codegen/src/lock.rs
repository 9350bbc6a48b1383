//! The lock of the published API (`b24.lock`): what a crate generated from the docs exposes,
//! written down so the next docs version can be compared with what users already have.
//!
//! The lock lists every method with its Rust module path and its wire facts (REST name,
//! protocol version, access, paging, error codes), every request parameter and response field
//! flattened to its wire path (`fields.TITLE`, `result.item.id`, `result[]`) with its Rust
//! name, type signature and required marker, and every shared structure with its Rust path.
//! Each entry keeps the file:line it came from. It also records the name of every type the
//! generator made (by owner and wire path, [`LockedName`]) and of every union variant: code
//! generated with the lock ([`crate::Options::lock`]) keeps those names.
//!
//! It is JSON, sorted, and written the same way every time, so a maintainer can commit it and
//! read its diff. [`Lock::update`] makes the next lock: the new docs' API, plus every method
//! the previous lock had and the docs no longer do, kept and marked deprecated with the docs
//! version that dropped it (until the maintainer deletes the entry), plus the old spelling of
//! every method renamed in letter case only, which keeps its Rust path.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::gen::published::{method_owner, shared_owner, Record};
use crate::model::{Access, Api, ApiVersion, Field, Method, Required, Source, Type, TypeKey};

/// Shared structures are followed this deep; deeper (or recursive) ones are compared by name.
const MAX_DEPTH: usize = 6;

/// The format of the lock this code writes and reads.
pub const FORMAT: u32 = 1;

/// The largest lock file read, in bytes.
pub const MAX_LOCK_BYTES: u64 = 256 * 1024 * 1024;

/// The lock: the published API.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Lock {
    /// [`FORMAT`].
    pub format: u32,
    /// The docs version the lock was last updated from (a commit, a date, a folder name).
    pub docs_version: String,
    /// The sha256 (lowercase hex) of each upstream docs archive `b24-codegen fetch` downloaded
    /// with this lock, by the revision it was fetched at: recorded on the first fetch of a
    /// revision and checked on every later one. Absent from locks that never fetched.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub docs_archives: BTreeMap<String, String>,
    /// Every method, by REST name then protocol version.
    pub methods: Vec<LockedMethod>,
    /// Every shared structure, by its key.
    pub types: Vec<LockedType>,
    /// Every event, by its code.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<LockedEvent>,
}

/// One event the portal sends to applications.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LockedEvent {
    /// The code (`ONCRMDEALADD` as the page spells it: `onCrmDealAdd`).
    pub name: String,
    /// The Rust path of its type (`events::crm::OnCrmDealAdd`).
    pub rust_path: String,
    /// The Rust path of its module, which holds `Data` (`events::crm::on_crm_deal_add`).
    pub module: String,
    /// Its variant of `events::Event`.
    pub variant: String,
    /// The fields of its `data`, flattened, by path (`data` itself first).
    pub data: Vec<LockedField>,
    /// The names of the types generated for its data, by wire path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<LockedName>,
    /// The docs version that dropped the event; it is kept, deprecated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropped_in: Option<String>,
    /// The page's H1 line, as `file:line`.
    pub source: String,
}

/// One method of the published API.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LockedMethod {
    /// The REST name.
    pub name: String,
    /// `v2` (classic) or `v3` (REST 3.0).
    pub version: String,
    /// The Rust module path, relative to where the generated code is placed
    /// (`crm::deal::add`); `None` for a second page of the same method, which has no module.
    pub rust_path: Option<String>,
    /// `read` or `write`.
    pub access: String,
    /// How it pages: `None` when it does not, else `result` or `result.KEY`.
    pub paging: Option<String>,
    /// The deprecation note, when the method is deprecated.
    pub deprecated: Option<String>,
    /// The docs version that dropped the method; it is kept in the lock, deprecated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropped_in: Option<String>,
    /// The REST name the method is spelled with now, when only its letter case changed; this
    /// entry keeps the old spelling's Rust path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_to: Option<String>,
    /// The request parameters, flattened, by path.
    pub params: Vec<LockedField>,
    /// The fields of `result`, flattened, by path (`result` itself first).
    pub result: Vec<LockedField>,
    /// The documented error codes.
    pub errors: Vec<LockedError>,
    /// The names of the types generated for the method (nested structures, unions), by the
    /// wire path they are made for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<LockedName>,
    /// The page's H1 line, as `file:line`.
    pub source: String,
}

/// The Rust name of a type the generator made, at the wire path it is made for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LockedName {
    /// The wire path (as [`LockedField::path`]; a union's form adds `|` and its signature:
    /// `value|object`).
    pub at: String,
    /// The type's name in its module.
    pub rust_name: String,
    /// For a union, its variants.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<LockedVariant>,
}

/// One variant of a generated union.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LockedVariant {
    /// The signature of the (first) form it carries.
    pub form: String,
    /// The variant's name.
    pub rust_name: String,
}

/// One parameter or response field, at its wire path.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LockedField {
    /// The wire path: names joined by `.`, `[]` for array items, `{}` for map values.
    pub path: String,
    /// The Rust field name, for a named field.
    pub rust_name: Option<String>,
    /// The type's shape: `integer`, `string[]`, `string|null`, `map<object>`, `untyped`.
    #[serde(rename = "type")]
    pub signature: String,
    /// The shared structure its type is (or lists, or maps to): `types::Badge`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rust_type: Option<String>,
    /// `yes`, `no` or `conditional`.
    pub required: String,
    /// Where it is described, as `file:line`.
    pub source: String,
    /// The docs version that dropped the field; it is kept, deprecated, while the structure
    /// that holds it is (see [`Lock::update`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropped_in: Option<String>,
}

/// One error code.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LockedError {
    /// The code.
    pub code: String,
    /// Where it is listed, as `file:line`.
    pub source: String,
    /// How an answer is recognised as it, one entry per distinct way its rows give.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matchers: Vec<crate::model::ErrorMatch>,
    /// The docs version that dropped the code; it is kept, deprecated (see
    /// [`Lock::update`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropped_in: Option<String>,
}

/// One shared structure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LockedType {
    /// Its key in the model.
    pub key: String,
    /// The Rust path, relative to where the generated code is placed (`types::Badge`).
    pub rust_path: String,
    /// Its own fields (not followed into other shared structures).
    pub fields: Vec<LockedField>,
    /// The names of the types generated inside it, by wire path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<LockedName>,
    /// Where it is described, as `file:line`.
    pub source: String,
    /// The docs version that dropped its key (page and section); its name stays, deprecated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropped_in: Option<String>,
    /// For a dropped one: the Rust path of the structure used where it was, which its name
    /// stays an alias of (none: an alias of untyped JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias_of: Option<String>,
}

/// Why a lock could not be read.
#[derive(Debug)]
pub enum LockError {
    /// The file could not be read.
    Io(std::io::Error),
    /// The file is larger than [`MAX_LOCK_BYTES`].
    TooLarge(u64),
    /// The file is not a lock.
    Json(serde_json::Error),
    /// The lock is of another format.
    Format(u32),
}

impl fmt::Display for LockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockError::Io(e) => write!(f, "cannot read the lock: {e}"),
            LockError::TooLarge(n) => {
                write!(f, "the lock is {n} bytes, more than {MAX_LOCK_BYTES}")
            }
            LockError::Json(e) => write!(f, "the lock is not valid: {e}"),
            LockError::Format(n) => write!(
                f,
                "the lock is of format {n}; this b24-codegen reads format {FORMAT}"
            ),
        }
    }
}

impl std::error::Error for LockError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LockError::Io(e) => Some(e),
            LockError::Json(e) => Some(e),
            LockError::TooLarge(_) | LockError::Format(_) => None,
        }
    }
}

impl Lock {
    /// The lock of `api`'s published surface, as read from the docs of `docs_version` and
    /// generated with the names `published` records kept (the previous release's lock, if
    /// any): the names are the generator's.
    pub fn of(api: &Api, docs_version: &str, published: Option<&Lock>) -> Lock {
        let options = crate::Options {
            lock: published.map(|l| std::sync::Arc::new(l.clone())),
            ..crate::Options::default()
        };
        let (_, record) = crate::gen::generate_recorded(api, &options);
        Lock::recorded(api, docs_version, &record, &options)
    }

    /// The wire facts of `api` and the names of its shared structures (kept from
    /// `published`), without the names of the types made inside methods: what [`crate::diff`]
    /// compares. No code is generated.
    pub fn facts(api: &Api, docs_version: &str, published: Option<&Lock>) -> Lock {
        let options = crate::Options {
            lock: published.map(|l| std::sync::Arc::new(l.clone())),
            ..crate::Options::default()
        };
        let record = crate::gen::shared_type_names(api, &options);
        Lock::recorded(api, docs_version, &record, &options)
    }

    /// The lock of `api`, with the names `record` says the generator gave (generating with
    /// `options`).
    pub(crate) fn recorded(
        api: &Api,
        docs_version: &str,
        record: &Record,
        options: &crate::Options,
    ) -> Lock {
        let paths: BTreeMap<(&str, ApiVersion), String> =
            crate::gen::module_paths(api, &Default::default())
                .into_iter()
                .map(|(m, path)| ((m.name.as_str(), m.version), path))
                .collect();
        // A shared structure's own name is recorded at the empty path.
        let shared: BTreeMap<&TypeKey, &str> = api
            .types
            .iter()
            .map(|(key, named)| {
                let name = record
                    .get(&shared_owner(&key.0))
                    .and_then(|names| names.get(""))
                    .map_or(named.rust_name.as_str(), |n| n.rust_name.as_str());
                (key, name)
            })
            .collect();
        let names_of = |owner: &str| -> Vec<LockedName> {
            record
                .get(owner)
                .into_iter()
                .flatten()
                .filter(|(at, _)| !at.is_empty())
                .map(|(_, n)| n.clone())
                .collect()
        };
        let mut methods: Vec<LockedMethod> = api
            .methods
            .iter()
            .map(|m| {
                let path = paths.get(&(m.name.as_str(), m.version)).cloned();
                let mut locked = locked_method(api, m, path, &shared);
                locked.names = names_of(&method_owner(m));
                locked
            })
            .collect();
        methods.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
        let types = api
            .types
            .iter()
            .map(|(key, named)| {
                let mut s = Surface::default();
                for f in &named.fields {
                    s.add(api, &f.api_name, &f.ty, Some(f), &f.source, MAX_DEPTH);
                }
                LockedType {
                    key: key.0.clone(),
                    rust_path: format!("types::{}", shared.get(key).copied().unwrap_or_default()),
                    fields: s.into_fields(&shared),
                    names: names_of(&shared_owner(&key.0)),
                    source: named.source.to_string(),
                    dropped_in: None,
                    alias_of: None,
                }
            })
            .collect();
        let all = crate::Options {
            only: Vec::new(),
            ..options.clone()
        };
        let mut events: Vec<LockedEvent> = crate::gen::named_events(api, &all)
            .into_iter()
            .map(|named| {
                let e = named.event;
                let mut data = Surface::default();
                data.add(api, "data", &e.data, None, &e.source, 0);
                let (module, type_name) = (named.path, named.type_name);
                let rust_path = match module.rsplit_once("::") {
                    Some((scope, _)) => format!("{scope}::{type_name}"),
                    None => type_name,
                };
                LockedEvent {
                    name: e.name.clone(),
                    rust_path,
                    module,
                    variant: named.variant,
                    data: data.into_fields(&shared),
                    names: names_of(&crate::gen::event_owner(&e.name)),
                    dropped_in: None,
                    source: e.source.to_string(),
                }
            })
            .collect();
        events.sort_by(|a, b| a.name.cmp(&b.name));
        Lock {
            format: FORMAT,
            docs_version: docs_version.to_owned(),
            docs_archives: BTreeMap::new(),
            methods,
            types,
            events,
        }
    }

    /// The next lock: `new`'s API, plus what `self` published and the new docs no longer have,
    /// kept deprecated. A method the new docs dropped stays, marked dropped in
    /// `new.docs_version` (or the version it was dropped in before); the old spelling of a
    /// method renamed in letter case only stays with its Rust path and `renamed_to`. The
    /// recorded archive hashes of both are kept (`new`'s where both name a revision).
    pub fn update(&self, new: &Lock) -> Lock {
        let mut next = new.clone();
        // What a drop is dated with: the new docs' version, or when it has none (the macro,
        // `generate`), the one after this lock's.
        let version = if new.docs_version.is_empty() {
            format!("a version after {}", self.docs_version)
        } else {
            new.docs_version.clone()
        };
        for (rev, sha256) in &self.docs_archives {
            next.docs_archives
                .entry(rev.clone())
                .or_insert_with(|| sha256.clone());
        }
        let present: BTreeMap<(&str, &str), ()> = new
            .methods
            .iter()
            .map(|m| ((m.name.as_str(), m.version.as_str()), ()))
            .collect();
        let folded: BTreeMap<(String, &str), &str> = new
            .methods
            .iter()
            .map(|m| ((m.name.to_lowercase(), m.version.as_str()), m.name.as_str()))
            .collect();
        for old in &self.methods {
            if present.contains_key(&(old.name.as_str(), old.version.as_str())) {
                continue;
            }
            let mut kept = old.clone();
            match folded.get(&(old.name.to_lowercase(), old.version.as_str())) {
                Some(spelling) => {
                    kept.renamed_to = Some((*spelling).to_owned());
                    kept.deprecated = Some(format!("renamed to `{spelling}`"));
                }
                None => {
                    let dropped = old.dropped_in.clone().unwrap_or_else(|| version.clone());
                    kept.deprecated = Some(format!(
                        "dropped from the docs in version {dropped}; kept so code using it \
                         still compiles"
                    ));
                    kept.dropped_in = Some(dropped);
                }
            }
            next.methods.push(kept);
        }
        next.methods
            .sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
        // Dropped fields: those of shared structures first, which the methods' fields
        // inside them follow.
        // A structure is the published one with its key, or (moved to another page) with its
        // published name, which a regeneration with this lock keeps.
        let by_key: BTreeMap<&str, &LockedType> =
            self.types.iter().map(|t| (t.key.as_str(), t)).collect();
        let by_name: BTreeMap<&str, &LockedType> = self
            .types
            .iter()
            .filter(|t| !new.types.iter().any(|n| n.key == t.key))
            .map(|t| (t.rust_path.as_str(), t))
            .collect();
        // Or (merged into another) the one now used where it was: most of the published
        // fields that were it are now that one.
        let merged = merged_into(self, new);
        // A structure whose key and name are both gone stays in the lock, so the next
        // regeneration keeps its old name too.
        for old in by_name.values() {
            if new.types.iter().any(|n| n.rust_path == old.rust_path) {
                continue;
            }
            let mut kept = (*old).clone();
            kept.dropped_in = Some(old.dropped_in.clone().unwrap_or_else(|| version.clone()));
            if kept.alias_of.is_none() {
                kept.alias_of = merged.get(old.rust_path.as_str()).map(|p| (*p).to_owned());
            }
            next.types.push(kept);
        }
        next.types.sort_by(|a, b| a.key.cmp(&b.key));
        for t in next.types.iter_mut().filter(|t| t.dropped_in.is_none()) {
            let old = by_key
                .get(t.key.as_str())
                .or_else(|| by_name.get(t.rust_path.as_str()));
            if let Some(old) = old {
                carry_dropped(&old.fields, &mut t.fields, &version, &[]);
            }
            for old in by_name
                .values()
                .filter(|o| merged.get(o.rust_path.as_str()) == Some(&t.rust_path.as_str()))
            {
                carry_dropped(&old.fields, &mut t.fields, &version, &[]);
            }
        }
        let published: BTreeMap<(&str, &str), &LockedMethod> = self
            .current()
            .map(|m| ((m.name.as_str(), m.version.as_str()), m))
            .collect();
        let types = next.types.clone();
        let now: BTreeMap<String, usize> = next
            .events
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name.to_ascii_uppercase(), i))
            .collect();
        for old in &self.events {
            match now.get(&old.name.to_ascii_uppercase()) {
                Some(&i) if next.events[i].dropped_in.is_none() => {
                    carry_dropped(&old.data, &mut next.events[i].data, &version, &types);
                }
                Some(_) => {}
                None => {
                    let mut kept = old.clone();
                    kept.dropped_in =
                        Some(old.dropped_in.clone().unwrap_or_else(|| version.clone()));
                    next.events.push(kept);
                }
            }
        }
        next.events.sort_by(|a, b| a.name.cmp(&b.name));
        for m in next.methods.iter_mut().filter(|m| m.dropped_in.is_none()) {
            if let Some(old) = published.get(&(m.name.as_str(), m.version.as_str())) {
                carry_dropped(&old.params, &mut m.params, &version, &types);
                carry_dropped(&old.result, &mut m.result, &version, &types);
                for e in &old.errors {
                    if !m.errors.iter().any(|n| n.code == e.code) {
                        let mut kept = e.clone();
                        kept.dropped_in =
                            Some(e.dropped_in.clone().unwrap_or_else(|| version.clone()));
                        m.errors.push(kept);
                    }
                }
                m.errors.sort_by(|a, b| a.code.cmp(&b.code));
            }
        }
        next
    }

    /// Adds to `api` what this lock published and the docs no longer have, so that code
    /// generated from `api` keeps every published Rust path, all marked deprecated:
    /// - the old spelling of a method renamed in letter case only, as a copy of the new one
    ///   under the old name (the server reads method names case-insensitively);
    /// - every method the docs dropped, rebuilt from the lock's fields (nested structures
    ///   made in place again, shared structures still there as themselves);
    /// - the fields ([`LockedField::dropped_in`]) and error codes
    ///   ([`LockedError::dropped_in`]) the docs dropped, back in their structures and methods,
    ///   typed as their signatures say.
    ///
    /// Entries `api` already has are left alone ([`Lock::update`] finds what was dropped).
    /// Returns how many of each were added.
    pub fn apply(&self, api: &mut Api) -> Kept {
        let (fields, errors) = self.keep_members(api);
        Kept {
            methods: self.keep_methods(api),
            fields: fields + self.keep_event_fields(api),
            errors,
            events: self.keep_events(api),
        }
    }

    /// The dropped fields of the events `api` still has, put back.
    fn keep_event_fields(&self, api: &mut Api) -> usize {
        let shared = self.shared_still_in(api);
        let mut kept = 0;
        for locked in &self.events {
            let Some(e) = api
                .events
                .iter_mut()
                .find(|e| e.name.eq_ignore_ascii_case(&locked.name))
            else {
                continue;
            };
            for f in locked.data.iter().filter(|f| f.dropped_in.is_some()) {
                let inside = f.path.strip_prefix("data").unwrap_or_default();
                kept += usize::from(put_back_in(&mut e.data, inside, kept_field(f, &shared)));
            }
        }
        kept
    }

    /// The events the docs dropped, rebuilt from the lock (their names are the lock's).
    fn keep_events(&self, api: &mut Api) -> usize {
        let shared = self.shared_still_in(api);
        let mut added = Vec::new();
        for locked in self.events.iter().filter(|e| e.dropped_in.is_some()) {
            if api
                .events
                .iter()
                .any(|e| e.name.eq_ignore_ascii_case(&locked.name))
            {
                continue;
            }
            let dropped = locked.dropped_in.as_deref().unwrap_or_default();
            let note = format!(
                "dropped from the docs in version {dropped}; kept so code using it still compiles"
            );
            let type_name = locked.rust_path.rsplit("::").next().unwrap_or(&locked.name);
            added.push(crate::model::Event {
                name: locked.name.clone(),
                type_name: type_name.to_owned(),
                title: String::new(),
                description: format!("Deprecated: {note}."),
                scopes: Vec::new(),
                who_can_subscribe: None,
                data: rebuilt_type(&locked.data, "data", &shared),
                examples: Vec::new(),
                source: parse_source(&locked.source),
                deprecated: Some(note),
            });
        }
        let count = added.len();
        api.events.extend(added);
        api.events
            .sort_by_cached_key(|e| e.name.to_ascii_uppercase());
        count
    }

    /// The dropped fields and error codes of the methods and shared structures `api` still
    /// has, put back: how many of each.
    fn keep_members(&self, api: &mut Api) -> (usize, usize) {
        let (mut kept, mut errors) = (0, 0);
        let locked: BTreeMap<(&str, &str), &LockedMethod> = self
            .current()
            .map(|m| ((m.name.as_str(), m.version.as_str()), m))
            .collect();
        let shared = self.shared_still_in(api);
        for m in &mut api.methods {
            let Some(lm) = locked.get(&(m.name.as_str(), version_name(m.version))) else {
                continue;
            };
            for f in lm.params.iter().filter(|f| f.dropped_in.is_some()) {
                kept += usize::from(put_back(&mut m.params, &f.path, kept_field(f, &shared)));
            }
            for f in lm.result.iter().filter(|f| f.dropped_in.is_some()) {
                let inside = f.path.strip_prefix("result").unwrap_or_default();
                kept += usize::from(put_back_in(&mut m.result, inside, kept_field(f, &shared)));
            }
            for e in lm.errors.iter().filter(|e| e.dropped_in.is_some()) {
                if m.errors.iter().any(|n| n.code == e.code) {
                    continue;
                }
                let dropped = e.dropped_in.as_deref().unwrap_or_default();
                let note = format!(
                    "dropped from the docs in version {dropped}; kept so code matching it still compiles"
                );
                m.errors
                    .extend(e.matchers.iter().map(|matcher| crate::model::ErrorCode {
                        code: e.code.clone(),
                        matcher: matcher.clone(),
                        status: None,
                        message: None,
                        description: format!("Deprecated: {note}."),
                        source: parse_source(&e.source),
                        deprecated: Some(note.clone()),
                    }));
                errors += 1;
            }
        }
        for t in &self.types {
            if let Some(named) = api.types.get_mut(&TypeKey(t.key.clone())) {
                for f in t.fields.iter().filter(|f| f.dropped_in.is_some()) {
                    let field = kept_field(f, &shared);
                    kept += usize::from(put_back(&mut named.fields, &f.path, field));
                }
            }
        }
        (kept, errors)
    }

    /// The shared structures of this lock `api` still has, by published path: what a kept
    /// field that was one of them is typed as.
    fn shared_still_in(&self, api: &Api) -> BTreeMap<&str, TypeKey> {
        self.types
            .iter()
            .map(|t| (t.rust_path.as_str(), TypeKey(t.key.clone())))
            .filter(|(_, key)| api.types.contains_key(key))
            .collect()
    }

    /// The old spellings and the dropped methods, rebuilt.
    fn keep_methods(&self, api: &mut Api) -> usize {
        let shared = self.shared_still_in(api);
        let has = |api: &Api, name: &str, version: ApiVersion| {
            api.methods
                .iter()
                .any(|m| m.name == name && m.version == version)
        };
        let mut added = Vec::new();
        for locked in &self.methods {
            let version = if locked.version == version_name(ApiVersion::V3) {
                ApiVersion::V3
            } else {
                ApiVersion::V2
            };
            if has(api, &locked.name, version) {
                continue;
            }
            let note = locked
                .deprecated
                .clone()
                .unwrap_or_else(|| "no longer in the docs".to_owned());
            if let Some(spelling) = &locked.renamed_to {
                if let Some(now) = api
                    .methods
                    .iter()
                    .find(|m| &m.name == spelling && m.version == version)
                {
                    let mut old = now.clone();
                    old.name = locked.name.clone();
                    old.deprecated = Some(note);
                    added.push(old);
                }
            } else if locked.dropped_in.is_some() {
                added.push(rebuilt(locked, version, note, &shared));
            }
        }
        let count = added.len();
        api.methods.extend(added);
        api.methods
            .sort_by(|a, b| (&a.name, a.version).cmp(&(&b.name, b.version)));
        count
    }

    /// The methods the docs of this lock's version have: neither dropped nor an old spelling.
    pub fn current(&self) -> impl Iterator<Item = &LockedMethod> {
        self.methods
            .iter()
            .filter(|m| m.dropped_in.is_none() && m.renamed_to.is_none())
    }

    /// The lock as the JSON text written to `b24.lock` (pretty, ending in a newline).
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Parses the text of a lock.
    pub fn from_json(text: &str) -> Result<Lock, LockError> {
        let lock: Lock = serde_json::from_str(text).map_err(LockError::Json)?;
        if lock.format != FORMAT {
            return Err(LockError::Format(lock.format));
        }
        Ok(lock)
    }

    /// Reads a lock file (at most [`MAX_LOCK_BYTES`]).
    pub fn read(path: &std::path::Path) -> Result<Lock, LockError> {
        use std::io::Read as _;
        let file = std::fs::File::open(path).map_err(LockError::Io)?;
        let mut text = String::new();
        let read = file
            .take(MAX_LOCK_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(LockError::Io)?;
        if read as u64 > MAX_LOCK_BYTES {
            return Err(LockError::TooLarge(read as u64));
        }
        Lock::from_json(&text)
    }
}

/// What [`Lock::apply`] added to an API.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Kept {
    /// Methods: old spellings and methods the docs dropped.
    pub methods: usize,
    /// Fields the docs dropped from structures that are still there.
    pub fields: usize,
    /// Error codes the docs dropped from methods that are still there.
    pub errors: usize,
    /// Events the docs dropped.
    pub events: usize,
}

/// For each shared structure of `old` whose name `new` no longer has, the structure `new` uses
/// at most of the method fields that were it (by method and wire path).
fn merged_into<'a>(old: &'a Lock, new: &'a Lock) -> BTreeMap<&'a str, &'a str> {
    let names: Vec<&str> = new.types.iter().map(|t| t.rust_path.as_str()).collect();
    let methods: BTreeMap<(&str, &str), &LockedMethod> = new
        .current()
        .map(|m| ((m.name.as_str(), m.version.as_str()), m))
        .collect();
    let mut votes: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    for m in old.current() {
        let Some(now) = methods.get(&(m.name.as_str(), m.version.as_str())) else {
            continue;
        };
        let now: BTreeMap<&str, &str> = now
            .params
            .iter()
            .chain(&now.result)
            .filter_map(|f| Some((f.path.as_str(), f.rust_type.as_deref()?)))
            .collect();
        for f in m.params.iter().chain(&m.result) {
            let Some(was) = f.rust_type.as_deref().filter(|w| !names.contains(w)) else {
                continue;
            };
            if let Some(is) = now.get(f.path.as_str()) {
                *votes.entry(was).or_default().entry(is).or_default() += 1;
            }
        }
    }
    votes
        .into_iter()
        .filter_map(|(was, to)| {
            let (is, _) = to
                .into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))?;
            Some((was, is))
        })
        .collect()
}

/// Adds to `next` (a structure's fields in the new docs) each field of `published` the docs
/// dropped that can stay: one whose parent is still a structure made in place (the root, an
/// object field not shared, their items), and whose Rust name no field beside it took (a field
/// respelled in letter case only keeps its Rust name through the new spelling). A field inside
/// a shared structure stays when that structure (in `types`) keeps it.
fn carry_dropped(
    published: &[LockedField],
    next: &mut Vec<LockedField>,
    version: &str,
    types: &[LockedType],
) {
    let now: BTreeMap<&str, &LockedField> = next.iter().map(|f| (f.path.as_str(), f)).collect();
    let mut carried = Vec::new();
    // Carried fields that are a shared structure still published: what is inside them stays.
    let mut shared_kept: Vec<&str> = Vec::new();
    for f in published {
        if now.contains_key(f.path.as_str()) {
            continue;
        }
        // The items or values of a field carried come with it: its type says them.
        let of_field = f
            .path
            .strip_suffix("[]")
            .or_else(|| f.path.strip_suffix("{}"));
        let holder_kept =
            of_field.is_some_and(|base| carried.iter().any(|c: &LockedField| c.path == base));
        if holder_kept || ancestors(&f.path).any(|a| shared_kept.contains(&a)) {
            let mut kept = f.clone();
            kept.dropped_in = Some(f.dropped_in.clone().unwrap_or_else(|| version.to_owned()));
            carried.push(kept);
            continue;
        }
        let Some((parent, _)) = split_path(&f.path) else {
            continue;
        };
        // The innermost shared structure around the field, and the field's path inside it.
        let shared = ancestors(&f.path).find_map(|a| {
            let rust_type = now.get(a)?.rust_type.as_deref()?;
            Some((rust_type, f.path[a.len()..].trim_start_matches('.')))
        });
        let in_place = match shared {
            Some((rust_type, inside)) => types.iter().any(|t| {
                t.rust_path == rust_type
                    && t.fields
                        .iter()
                        .any(|k| k.path == inside && k.dropped_in.is_some())
            }),
            None => {
                parent.is_empty()
                    || now
                        .get(parent)
                        .is_some_and(|p| matches!(p.signature.as_str(), "object" | "object|null"))
            }
        };
        let taken = next.iter().any(|n| {
            n.rust_name.is_some()
                && n.rust_name == f.rust_name
                && split_path(&n.path).is_some_and(|(p, _)| p == parent)
        });
        if in_place && !taken {
            if f.rust_type
                .as_ref()
                .is_some_and(|r| types.iter().any(|t| &t.rust_path == r))
            {
                shared_kept.push(&f.path);
            }
            let mut kept = f.clone();
            kept.dropped_in = Some(f.dropped_in.clone().unwrap_or_else(|| version.to_owned()));
            carried.push(kept);
        }
    }
    next.extend(carried);
    next.sort_by(|a, b| a.path.cmp(&b.path));
}

/// The paths that hold `path`, innermost first: `a.b[].c` → `a.b[]`, `a.b`, `a`.
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    path.char_indices()
        .rev()
        .filter(|&(i, c)| i > 0 && matches!(c, '.' | '[' | '{'))
        .map(move |(i, _)| &path[..i])
}

/// A field's path as its parent's path and its own name (`fields.TITLE` → `fields`, `TITLE`);
/// `None` for array items and map values, which are not named fields.
fn split_path(path: &str) -> Option<(&str, &str)> {
    if path.ends_with([']', '}']) {
        return None;
    }
    Some(match path.rfind(['.', ']', '}']) {
        Some(i) if path.as_bytes()[i] == b'.' => (&path[..i], &path[i + 1..]),
        Some(i) => (&path[..=i], &path[i + 1..]),
        None => ("", path),
    })
}

/// Puts `field` at `path` among `fields` (relative to them); false when its parent is no
/// structure made in place or a field of that name is there.
fn put_back(fields: &mut Vec<Field>, path: &str, field: Field) -> bool {
    let Some((parent, name)) = split_path(path) else {
        return false;
    };
    if parent.is_empty() {
        if fields.iter().any(|x| x.api_name == name) {
            return false;
        }
        fields.push(field);
        return true;
    }
    let (first, rest) = match parent.find(['.', '[', '{']) {
        Some(i) => parent.split_at(i),
        None => (parent, ""),
    };
    let Some(holder) = fields.iter_mut().find(|x| x.api_name == first) else {
        return false;
    };
    put_back_in(&mut holder.ty, &format!("{rest}.{name}"), field)
}

/// [`put_back`] inside a type: `path` is relative to it (`.TITLE`, `[].ID`).
fn put_back_in(ty: &mut Type, path: &str, field: Field) -> bool {
    match ty {
        Type::Nullable { inner } => put_back_in(inner, path, field),
        Type::Array { item } => match path.strip_prefix("[]") {
            Some(rest) => put_back_in(item, rest, field),
            None => false,
        },
        Type::Map { value } => match path.strip_prefix("{}") {
            Some(rest) => put_back_in(value, rest, field),
            None => false,
        },
        Type::Object { fields } => match path.strip_prefix('.') {
            Some(rest) => put_back(fields, rest, field),
            None => false,
        },
        // The lock lists the fields of every form of a union at the union's path.
        Type::Union { variants } => variants
            .iter_mut()
            .any(|v| put_back_in(v, path, field.clone())),
        _ => false,
    }
}

/// The field at a locked path: named after its last segment, typed from the signature (the
/// shared structure it was, when that is still there).
fn field_of(f: &LockedField, shared: &BTreeMap<&str, TypeKey>) -> Field {
    let name = split_path(&f.path).map_or(f.path.as_str(), |(_, name)| name);
    let key = f.rust_type.as_deref().and_then(|r| shared.get(r));
    Field {
        api_name: name.to_owned(),
        rust_name: f
            .rust_name
            .clone()
            .unwrap_or_else(|| crate::names::snake(name)),
        doc_type: f.signature.clone(),
        ty: match key {
            Some(key) => type_around(&f.signature, key),
            None => type_of(&f.signature),
        },
        required: match f.required.as_str() {
            "yes" => Required::Yes,
            "conditional" => Required::Conditional,
            _ => Required::No,
        },
        description: String::new(),
        source: parse_source(&f.source),
        deprecated: None,
    }
}

/// The field a lock keeps, deprecated.
fn kept_field(f: &LockedField, shared: &BTreeMap<&str, TypeKey>) -> Field {
    let dropped = f.dropped_in.as_deref().unwrap_or("a later version");
    let note =
        format!("dropped from the docs in version {dropped}; kept so code using it still compiles");
    Field {
        description: format!("Deprecated: {note}."),
        deprecated: Some(note),
        ..field_of(f, shared)
    }
}

/// `file:line` back into a [`Source`] (a text without a line number is the whole file).
pub fn parse_source(text: &str) -> Source {
    match text.rsplit_once(':') {
        Some((file, line)) => match line.parse() {
            Ok(line) => Source::new(file, line),
            Err(_) => Source::new(text, 0),
        },
        None => Source::new(text, 0),
    }
}

/// The wire name of a protocol version in the lock.
pub fn version_name(v: ApiVersion) -> &'static str {
    match v {
        ApiVersion::V2 => "v2",
        ApiVersion::V3 => "v3",
    }
}

/// A method the docs dropped, from what the lock says of it.
fn rebuilt(
    locked: &LockedMethod,
    version: ApiVersion,
    note: String,
    shared: &BTreeMap<&str, TypeKey>,
) -> Method {
    // Each field at its path, parents first (the paths are sorted): a structure made in place
    // gets its fields back; one of the lock's shared structures is that structure again.
    let skeleton = |f: &LockedField| {
        let mut field = field_of(f, shared);
        if f.rust_type.is_none() {
            field.ty = open_objects(field.ty);
        }
        field
    };
    let mut params = Vec::new();
    for f in &locked.params {
        put_back(&mut params, &f.path, skeleton(f));
    }
    let result = rebuilt_type(&locked.result, "result", shared);
    for p in &mut params {
        close_empty_objects(&mut p.ty);
    }
    Method {
        name: locked.name.clone(),
        version,
        title: String::new(),
        description: note.clone(),
        scopes: Vec::new(),
        who_can_call: None,
        deprecated: Some(note),
        access: if locked.access == "read" {
            Access::Read
        } else {
            Access::Write
        },
        params,
        result,
        paging: locked.paging.as_ref().map(|p| crate::model::Paging {
            items_key: p.strip_prefix("result.").map(str::to_owned),
        }),
        errors: Vec::new(),
        examples: Vec::new(),
        source: parse_source(&locked.source),
    }
}

/// The type at `root` (`result`, `data`) rebuilt from the locked fields under it: structures
/// made in place get their fields back; the lock's shared structures still there are
/// themselves.
fn rebuilt_type(fields: &[LockedField], root: &str, shared: &BTreeMap<&str, TypeKey>) -> Type {
    let skeleton = |f: &LockedField| {
        let mut field = field_of(f, shared);
        if f.rust_type.is_none() {
            field.ty = open_objects(field.ty);
        }
        field
    };
    let mut ty = Type::untyped("not in the lock");
    for f in fields {
        match f.path.strip_prefix(root) {
            Some("") => ty = skeleton(f).ty,
            Some(inside) => {
                put_back_in(&mut ty, inside, skeleton(f));
            }
            None => {}
        }
    }
    close_empty_objects(&mut ty);
    ty
}

/// `ty` with its untyped objects as structures without fields yet, to put fields back into.
fn open_objects(ty: Type) -> Type {
    match ty {
        Type::Array { item } => Type::array(open_objects(*item)),
        Type::Nullable { inner } => Type::Nullable {
            inner: Box::new(open_objects(*inner)),
        },
        Type::Map { value } => Type::Map {
            value: Box::new(open_objects(*value)),
        },
        other if other == type_of("object") => Type::Object { fields: Vec::new() },
        other => other,
    }
}

/// Structures that got no field back are untyped objects again, as the lock's signature
/// alone says.
fn close_empty_objects(ty: &mut Type) {
    match ty {
        Type::Object { fields } if fields.is_empty() => *ty = type_of("object"),
        Type::Object { fields } => fields
            .iter_mut()
            .for_each(|f| close_empty_objects(&mut f.ty)),
        Type::Array { item } => close_empty_objects(item),
        Type::Nullable { inner } => close_empty_objects(inner),
        Type::Map { value } => close_empty_objects(value),
        _ => {}
    }
}

/// The type `signature` says with its `object` the shared structure `key` (`object[]` → a
/// list of it); other signatures as [`type_of`] reads them.
fn type_around(signature: &str, key: &TypeKey) -> Type {
    let shared = || Type::Ref { key: key.clone() };
    match signature {
        "object" => shared(),
        "object[]" => Type::array(shared()),
        "object|null" => Type::Nullable {
            inner: Box::new(shared()),
        },
        "map<object>" => Type::Map {
            value: Box::new(shared()),
        },
        other => type_of(other),
    }
}

/// A type back from its [`signature`], where the signature says all of it (scalars, arrays,
/// nullable and maps of those); objects and unions become untyped JSON.
fn type_of(signature: &str) -> Type {
    use crate::model::Scalar;
    let scalar = match signature {
        "integer" => Some(Scalar::Integer),
        "double" => Some(Scalar::Double),
        "string" => Some(Scalar::String),
        "boolean" => Some(Scalar::Boolean),
        "yesno" => Some(Scalar::YesNo),
        "date" => Some(Scalar::Date),
        "datetime" => Some(Scalar::DateTime),
        "timestamp" => Some(Scalar::Timestamp),
        "file" => Some(Scalar::File),
        "any" => Some(Scalar::Any),
        _ => None,
    };
    if let Some(scalar) = scalar {
        return Type::scalar(scalar);
    }
    if let Some(item) = signature.strip_suffix("[]") {
        let item = item
            .strip_prefix('(')
            .and_then(|i| i.strip_suffix(')'))
            .unwrap_or(item);
        return Type::array(type_of(item));
    }
    if let Some(inner) = signature.strip_suffix("|null") {
        if !inner.contains('|') {
            return Type::Nullable {
                inner: Box::new(type_of(inner)),
            };
        }
    }
    if let Some(value) = signature
        .strip_prefix("map<")
        .and_then(|v| v.strip_suffix('>'))
    {
        return Type::Map {
            value: Box::new(type_of(value)),
        };
    }
    if signature == "object" {
        return Type::untyped_object("dropped from the docs: its fields are not rebuilt");
    }
    Type::untyped(format!(
        "dropped from the docs: `{signature}` is not rebuilt"
    ))
}

fn locked_method(
    api: &Api,
    m: &Method,
    rust_path: Option<String>,
    shared: &BTreeMap<&TypeKey, &str>,
) -> LockedMethod {
    let mut params = Surface::default();
    for f in &m.params {
        params.add(api, &f.api_name, &f.ty, Some(f), &f.source, 0);
    }
    let mut result = Surface::default();
    result.add(api, "result", &m.result, None, &m.source, 0);
    let mut errors: Vec<LockedError> = Vec::new();
    for e in &m.errors {
        match errors.iter_mut().find(|l| l.code == e.code) {
            Some(locked) => {
                if !locked.matchers.contains(&e.matcher) {
                    locked.matchers.push(e.matcher.clone());
                }
            }
            None => errors.push(LockedError {
                code: e.code.clone(),
                source: e.source.to_string(),
                matchers: vec![e.matcher.clone()],
                dropped_in: None,
            }),
        }
    }
    errors.sort_by(|a, b| a.code.cmp(&b.code));
    LockedMethod {
        name: m.name.clone(),
        version: version_name(m.version).to_owned(),
        rust_path,
        access: match m.access {
            Access::Read => "read",
            Access::Write => "write",
        }
        .to_owned(),
        paging: m.paging.as_ref().map(|p| match &p.items_key {
            Some(key) => format!("result.{key}"),
            None => "result".to_owned(),
        }),
        deprecated: m.deprecated.clone(),
        dropped_in: None,
        renamed_to: None,
        params: params.into_fields(shared),
        result: result.into_fields(shared),
        errors,
        names: Vec::new(),
        source: m.source.to_string(),
    }
}

/// Where `api`'s methods and shared structures use a shared structure: by owner
/// ([`method_owner`], [`shared_owner`]) and wire path, the structure's key.
pub(crate) fn shared_uses(api: &Api) -> BTreeMap<(String, String), TypeKey> {
    let mut uses = BTreeMap::new();
    let mut take = |owner: String, surface: Surface| {
        for (path, key) in surface.refs {
            uses.insert((owner.clone(), path), key);
        }
    };
    for m in &api.methods {
        let mut s = Surface::default();
        for f in &m.params {
            s.add(api, &f.api_name, &f.ty, Some(f), &f.source, 0);
        }
        s.add(api, "result", &m.result, None, &m.source, 0);
        take(method_owner(m), s);
    }
    for (key, named) in &api.types {
        let mut s = Surface::default();
        for f in &named.fields {
            s.add(api, &f.api_name, &f.ty, Some(f), &f.source, MAX_DEPTH);
        }
        take(shared_owner(&key.0), s);
    }
    uses
}

/// The shared structure a type is, lists or maps to.
fn direct_ref(ty: &Type) -> Option<&TypeKey> {
    match ty {
        Type::Ref { key } => Some(key),
        Type::Array { item } => direct_ref(item),
        Type::Nullable { inner } => direct_ref(inner),
        Type::Map { value } => direct_ref(value),
        _ => None,
    }
}

/// The fields of a request or a response, flattened to paths.
#[derive(Default)]
struct Surface {
    fields: BTreeMap<String, LockedField>,
    /// The paths whose type is a shared structure ([`direct_ref`]).
    refs: BTreeMap<String, TypeKey>,
}

impl Surface {
    /// The fields, each naming the shared structure its type is (by `shared`'s names).
    fn into_fields(self, shared: &BTreeMap<&TypeKey, &str>) -> Vec<LockedField> {
        let refs = self.refs;
        self.fields
            .into_values()
            .map(|mut f| {
                f.rust_type = refs
                    .get(&f.path)
                    .and_then(|key| shared.get(key))
                    .map(|name| format!("types::{name}"));
                f
            })
            .collect()
    }

    fn add(
        &mut self,
        api: &Api,
        path: &str,
        ty: &Type,
        field: Option<&Field>,
        source: &Source,
        depth: usize,
    ) {
        let required = field.map_or(Required::No, |f| f.required);
        if let Some(key) = direct_ref(ty) {
            self.refs.insert(path.to_owned(), key.clone());
        }
        self.fields.insert(
            path.to_owned(),
            LockedField {
                path: path.to_owned(),
                rust_name: field.map(|f| f.rust_name.clone()),
                signature: signature(ty),
                rust_type: None,
                dropped_in: None,
                required: match required {
                    Required::Yes => "yes",
                    Required::No => "no",
                    Required::Conditional => "conditional",
                }
                .to_owned(),
                source: source.to_string(),
            },
        );
        self.add_inner(api, path, ty, source, depth);
    }

    fn add_fields(&mut self, api: &Api, prefix: &str, fields: &[Field], depth: usize) {
        for f in fields {
            let path = format!("{prefix}.{}", f.api_name);
            self.add(api, &path, &f.ty, Some(f), &f.source, depth);
        }
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
                self.add(api, &items, item, None, source, depth + 1)
            }
            Type::Map { value } => {
                let values = format!("{path}{{}}");
                self.add(api, &values, value, None, source, depth + 1)
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

/// A short rendering of a type's shape: `integer`, `string[]`, `string|object`, `map<integer>`.
/// Shared structures render as `object`: their fields are compared one by one.
pub fn signature(ty: &Type) -> String {
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
