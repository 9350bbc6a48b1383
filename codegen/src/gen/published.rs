//! The names a lock of the published API fixes in the generated code, and the names the
//! generator records for the next lock.
//!
//! Every type the generator names is recorded under its owner (a method, a shared structure)
//! and the wire path it is made for (`fields`, `result[]`, `value|object`), each union with the
//! names of its variants by form. Generating with a lock ([`Options::lock`](super::Options))
//! gives each of those the name the lock records ([`Pins`]), and keeps those names from every
//! other type; a shared structure keeps its name while its key (page and section) is in the
//! docs. When the key is gone (the docs moved, merged or split the structure), the structure
//! that now stands where it was used (the same wire paths) takes its name, or, when that one
//! has a published name of its own, the old name stays as a deprecated alias of it.

use std::collections::{BTreeMap, HashMap};

use crate::lock::{shared_uses, Lock, LockedName};
use crate::model::{Api, Method, TypeKey};

/// Names by owner, then by wire path.
pub type Record = BTreeMap<String, BTreeMap<String, LockedName>>;

/// What a lock fixes.
#[derive(Clone, Debug, Default)]
pub struct Pins {
    /// The name of each shared structure the lock published (or the one that replaced it).
    pub shared: HashMap<TypeKey, String>,
    /// The names of the types made for each owner, by wire path.
    pub names: HashMap<String, BTreeMap<String, LockedName>>,
    /// Published names of shared structures the docs no longer have under their own key.
    pub aliases: Vec<Alias>,
}

/// A published shared structure whose key is gone.
#[derive(Clone, Debug)]
pub struct Alias {
    /// Its published name in `types`.
    pub name: String,
    /// The structure now used where it was; `None` when none is.
    pub target: Option<TypeKey>,
    /// Its key in the lock.
    pub was: String,
    /// The types published inside it: `(name, wire path)`; each stays an alias of the type
    /// made at that path inside `target`.
    pub nested: Vec<(String, String)>,
}

impl Alias {
    /// The alias of the published structure `t`, named `name`, of `target`.
    fn of(t: &crate::lock::LockedType, name: &str, target: Option<TypeKey>) -> Alias {
        Alias {
            name: name.to_owned(),
            target,
            was: t.key.clone(),
            nested: t
                .names
                .iter()
                .map(|n| (n.rust_name.clone(), n.at.clone()))
                .collect(),
        }
    }

    /// Every name the alias keeps: its own and its nested types'.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str()).chain(self.nested.iter().map(|(n, _)| n.as_str()))
    }
}

/// The owner of a method's types, as the lock records it: `crm.deal.add v2`.
pub fn method_owner(m: &Method) -> String {
    format!("{} {}", m.name, crate::lock::version_name(m.version))
}

/// The owner of a shared structure's types: `types <key>`.
pub fn shared_owner(key: &str) -> String {
    format!("types {key}")
}

/// What `lock` fixes when `api` is generated.
pub fn pins(lock: &Lock, api: &Api) -> Pins {
    let mut pins = Pins::default();
    let by_path = |names: &[LockedName]| -> BTreeMap<String, LockedName> {
        names.iter().map(|n| (n.at.clone(), n.clone())).collect()
    };
    for m in &lock.methods {
        pins.names
            .insert(format!("{} {}", m.name, m.version), by_path(&m.names));
    }
    let mut gone = Vec::new();
    for t in &lock.types {
        let Some(name) = t.rust_path.strip_prefix("types::") else {
            continue;
        };
        let key = TypeKey(t.key.clone());
        if api.types.contains_key(&key) {
            pins.names.insert(shared_owner(&t.key), by_path(&t.names));
            pins.shared.insert(key, name.to_owned());
        } else {
            gone.push((t, name));
        }
    }
    if gone.is_empty() {
        return pins;
    }
    // Where each published structure was used, and what is used there now.
    let now = shared_uses(api);
    let mut used_at: HashMap<&str, Vec<(String, &str)>> = HashMap::new();
    for m in &lock.methods {
        let owner = format!("{} {}", m.name, m.version);
        for f in m.params.iter().chain(&m.result) {
            if let Some(path) = &f.rust_type {
                used_at
                    .entry(path.as_str())
                    .or_default()
                    .push((owner.clone(), f.path.as_str()));
            }
        }
    }
    for t in &lock.types {
        for f in &t.fields {
            if let Some(path) = &f.rust_type {
                used_at
                    .entry(path.as_str())
                    .or_default()
                    .push((shared_owner(&t.key), f.path.as_str()));
            }
        }
    }
    for (t, name) in gone {
        // Kept by an earlier update: it stays an alias of what it was one of.
        if t.dropped_in.is_some() {
            let target = t.alias_of.as_ref().and_then(|path| {
                lock.types
                    .iter()
                    .filter(|l| &l.rust_path == path)
                    .map(|l| TypeKey(l.key.clone()))
                    .find(|key| api.types.contains_key(key))
            });
            pins.aliases.push(Alias::of(t, name, target));
            continue;
        }
        let mut votes: BTreeMap<&TypeKey, usize> = BTreeMap::new();
        for (owner, path) in used_at.get(t.rust_path.as_str()).into_iter().flatten() {
            if let Some(key) = now.get(&(owner.clone(), (*path).to_owned())) {
                *votes.entry(key).or_default() += 1;
            }
        }
        // The most uses decide; a tie goes to the first key.
        let target = votes
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(key, _)| (*key).clone());
        match target {
            // Moved: the structure that took its place was not published; it takes the name.
            Some(key) if !pins.shared.contains_key(&key) => {
                pins.names.insert(shared_owner(&key.0), by_path(&t.names));
                pins.shared.insert(key, name.to_owned());
            }
            target => pins.aliases.push(Alias::of(t, name, target)),
        }
    }
    pins
}
