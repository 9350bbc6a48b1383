//! Names that do not move: a type's name comes from where the docs define it, never from a
//! counter or from the order pages are read in.
//!
//! - A structure the docs describe once (a section of a page) is named after its section (its
//!   anchor or its title, [`crate::model::NamedType::rust_name`]), in the shared `types` module.
//! - A type made in place (a structure, a union) is named after the field leading to it
//!   (`title` → `Title`, the items of `PRODUCT_ROWS` → `ProductRow`), in the module of the
//!   method, event or shared structure that has it.
//! - Names that collide in a module are resolved by [`resolve`], a rule that looks only at the
//!   colliding names: each of them takes one more word of what qualifies it (the names of the
//!   types it sits in, innermost first: `Response` + `Fields` → `ResponseFields`; for the
//!   `types` module, then the segments of the page's path:
//!   `api-reference/crm/deals/crm-deal-fields.md#fields` → `CrmDealFields`), until they
//!   differ. Names that still collide (nothing left to qualify them) get a number, in the
//!   order of where the docs define them.
//!
//! So a page added or removed renames nothing but the items whose names collide with its own:
//! a method's names depend on its page (and the structures it links to) alone, and the shared
//! module's on the pages that define them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::model::TypeKey;
use crate::names;

/// One name wanted in a module.
#[derive(Clone, Debug)]
pub struct Wanted {
    /// The names to try, least qualified first (never empty).
    pub candidates: Vec<String>,
    /// Orders the requests whose candidates run out (where the docs define the item).
    pub order: String,
    /// The name a lock of the published API gives this item: it keeps it, and no other item
    /// of the module may take it.
    pub pinned: Option<String>,
}

/// The name each request gets. A pinned request keeps its pinned name (only the first of two
/// pinned to one name does), and pinned names are reserved for the others. Every other
/// request of a group that collides (two requests wanting one name, or a reserved name)
/// takes its next candidate, until none collide or the colliding ones have no candidate left;
/// those are numbered in their `order` (the first keeps the name). Requests that never
/// collide keep their first candidate, whatever else is asked.
pub fn resolve(requests: &[Wanted], reserved: &[&str]) -> Vec<String> {
    let mut pinned_names: BTreeSet<&str> = BTreeSet::new();
    let fixed: Vec<Option<&str>> = requests
        .iter()
        .map(|r| r.pinned.as_deref().filter(|name| pinned_names.insert(name)))
        .collect();
    if pinned_names.is_empty() {
        return resolve_free(requests, reserved);
    }
    let free: Vec<Wanted> = requests
        .iter()
        .zip(&fixed)
        .filter(|(_, fixed)| fixed.is_none())
        .map(|(r, _)| r.clone())
        .collect();
    let reserved: Vec<&str> = reserved.iter().copied().chain(pinned_names).collect();
    let mut resolved = resolve_free(&free, &reserved).into_iter();
    fixed
        .into_iter()
        .map(|fixed| match fixed {
            Some(name) => name.to_owned(),
            None => resolved.next().unwrap_or_default(),
        })
        .collect()
}

/// [`resolve`] for requests none of which is pinned.
fn resolve_free(requests: &[Wanted], reserved: &[&str]) -> Vec<String> {
    let reserved: BTreeSet<&str> = reserved.iter().copied().collect();
    let mut level = vec![0usize; requests.len()];
    let name_of = |i: usize, level: &[usize]| -> String {
        let c = &requests[i].candidates;
        c.get(level[i]).or(c.last()).cloned().unwrap_or_default()
    };
    loop {
        let mut by_name: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for i in 0..requests.len() {
            by_name.entry(name_of(i, &level)).or_default().push(i);
        }
        let mut moved = false;
        for (name, group) in &by_name {
            if group.len() < 2 && !reserved.contains(name.as_str()) {
                continue;
            }
            for &i in group {
                if level[i] + 1 < requests[i].candidates.len() {
                    level[i] += 1;
                    moved = true;
                }
            }
        }
        if !moved {
            break;
        }
    }
    let mut out: Vec<String> = (0..requests.len()).map(|i| name_of(i, &level)).collect();
    // What still collides is numbered. The names that do not collide are taken first, so a
    // number never takes a name another item has of its own.
    let mut count: HashMap<&str, usize> = HashMap::new();
    for name in &out {
        *count.entry(name.as_str()).or_default() += 1;
    }
    let clashing: Vec<usize> = (0..out.len())
        .filter(|&i| count[out[i].as_str()] > 1 || reserved.contains(out[i].as_str()))
        .collect();
    let mut taken: BTreeSet<String> = reserved.iter().map(|s| (*s).to_owned()).collect();
    for (i, name) in out.iter().enumerate() {
        if !clashing.contains(&i) {
            taken.insert(name.clone());
        }
    }
    let mut order = clashing;
    order.sort_by(|&a, &b| requests[a].order.cmp(&requests[b].order).then(a.cmp(&b)));
    for i in order {
        let wanted = out[i].clone();
        if taken.insert(wanted.clone()) {
            continue;
        }
        let numbered = (2u64..)
            .map(|n| format!("{wanted}{n}"))
            .find(|c| taken.insert(c.clone()))
            .unwrap_or(wanted);
        out[i] = numbered;
    }
    out
}

/// `base`, then `base` with each qualifier put in front in turn (innermost first). A qualifier
/// whose last words are the first words of the name merges with them (`object-fields` +
/// `Fields` → `ObjectFields`), and one that adds nothing is skipped.
pub fn qualified(base: &str, qualifiers: &[&str]) -> Vec<String> {
    let mut out = vec![base.to_owned()];
    let mut name = base.to_owned();
    for q in qualifiers {
        let q = names::camel(q);
        if q == "Unnamed" {
            continue;
        }
        let next = merge(&q, &name);
        if next != name {
            name = next;
            out.push(name.clone());
        }
    }
    out
}

/// `front` put before `name`, the words they share at the seam said once:
/// `CrmDeal` + `DealFields` → `CrmDealFields`; `Deal` + `Deal` → `Deal`.
pub fn merge(front: &str, name: &str) -> String {
    let a = camel_words(front);
    let b = camel_words(name);
    let overlap = (0..=a.len().min(b.len()))
        .rev()
        .find(|&n| a[a.len() - n..] == b[..n])
        .unwrap_or(0);
    let mut words: Vec<&str> = a;
    words.extend(&b[overlap..]);
    words.concat()
}

/// The words of an `UpperCamelCase` name: `CrmDeal2Fields` → `Crm`, `Deal2`, `Fields`.
fn camel_words(name: &str) -> Vec<&str> {
    let mut words = Vec::new();
    let mut start = 0;
    for (i, c) in name.char_indices() {
        if i > start && c.is_ascii_uppercase() {
            words.push(&name[start..i]);
            start = i;
        }
    }
    if start < name.len() {
        words.push(&name[start..]);
    }
    words
}

/// The segments of a page path that qualify a structure described on it, innermost first:
/// `api-reference/crm/universal/object-fields.md#fields` → `object-fields`, `universal`, `crm`.
pub fn page_segments(key: &str) -> Vec<&str> {
    let path = key.split('#').next().unwrap_or(key);
    let path = path.strip_suffix(".md").unwrap_or(path);
    path.split('/')
        .filter(|s| !s.is_empty() && *s != "api-reference" && *s != "index" && *s != "..")
        .rev()
        .collect()
}

/// The names of the items of the shared `types` module: each shared structure's, and the
/// plan of names for the types nested in each (in the order its definition claims them).
#[derive(Clone, Debug, Default)]
pub struct SharedNames {
    /// The name of each shared structure.
    pub types: HashMap<TypeKey, String>,
    /// For each shared structure, the names of its nested types, in claim order.
    pub nested: HashMap<TypeKey, Vec<String>>,
}

/// The wanted name of the shared structure `key` named `base` by the docs: qualified by its
/// page's path (unless a lock pins it).
pub fn shared_wanted(key: &TypeKey, base: &str, pinned: Option<String>) -> Wanted {
    Wanted {
        candidates: qualified(base, &page_segments(&key.0)),
        order: key.0.clone(),
        pinned,
    }
}

/// Resolves, all at once, the names of the shared structures (`(key, its name, the names its
/// nested types want)`): the `types` module is one namespace, where the `kept` names (old
/// names a lock keeps as aliases) are taken.
pub fn shared_names(wanted: Vec<(TypeKey, Wanted, Vec<Wanted>)>, kept: &[&str]) -> SharedNames {
    let mut requests = Vec::new();
    for (_, own, nested) in &wanted {
        requests.push(own.clone());
        requests.extend(nested.iter().cloned());
    }
    let mut resolved = resolve(&requests, kept).into_iter();
    let mut out = SharedNames::default();
    for (key, _, nested) in wanted {
        if let Some(name) = resolved.next() {
            out.types.insert(key.clone(), name);
        }
        let plan: Vec<String> = resolved.by_ref().take(nested.len()).collect();
        out.nested.insert(key, plan);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted(candidates: &[&str], order: &str) -> Wanted {
        Wanted {
            candidates: candidates.iter().map(|s| (*s).to_owned()).collect(),
            order: order.to_owned(),
            pinned: None,
        }
    }

    #[test]
    fn colliding_names_are_qualified_and_the_others_kept() {
        let requests = vec![
            wanted(&["Fields", "DealFields", "CrmDealFields"], "a"),
            wanted(&["Fields", "ItemFields"], "b"),
            wanted(&["Filter", "DealFilter"], "c"),
        ];
        assert_eq!(
            resolve(&requests, &[]),
            ["DealFields", "ItemFields", "Filter"]
        );
        // The outcome does not depend on the order the requests come in.
        let reversed: Vec<Wanted> = requests.iter().rev().cloned().collect();
        assert_eq!(
            resolve(&reversed, &[]),
            ["Filter", "ItemFields", "DealFields"]
        );
        // An unrelated name changes nothing.
        let mut more = requests.clone();
        more.push(wanted(&["Settings", "TaskSettings"], "d"));
        assert_eq!(
            resolve(&more, &[]),
            ["DealFields", "ItemFields", "Filter", "Settings"]
        );
    }

    #[test]
    fn exhausted_names_are_numbered_without_taking_real_names() {
        let requests = vec![
            wanted(&["Image"], "b"),
            wanted(&["Image"], "a"),
            wanted(&["Image2"], "c"),
            wanted(&["Request"], "d"),
        ];
        assert_eq!(
            resolve(&requests, &["Request"]),
            ["Image3", "Image", "Image2", "Request2"]
        );
    }

    #[test]
    fn pinned_names_stay_and_are_kept_from_the_others() {
        let mut requests = vec![
            wanted(&["Fields", "DealFields"], "a"),
            wanted(&["Fields", "ItemFields"], "b"),
        ];
        // Without a pin both are qualified; pinned, `a` keeps the name it was published with
        // and `b` is qualified away from it.
        assert_eq!(resolve(&requests, &[]), ["DealFields", "ItemFields"]);
        requests[0].pinned = Some("Fields".into());
        assert_eq!(resolve(&requests, &[]), ["Fields", "ItemFields"]);
        // A pinned name is taken by no one else, even one that never collided.
        let lone = vec![wanted(&["Fields"], "c"), requests[0].clone()];
        assert_eq!(resolve(&lone, &[]), ["Fields2", "Fields"]);
        // Two pinned to one name (a hand-edited lock): the second is resolved as if unpinned.
        requests[1].pinned = Some("Fields".into());
        assert_eq!(resolve(&requests, &[]), ["Fields", "ItemFields"]);
    }

    #[test]
    fn qualifiers_merge_at_the_seam() {
        assert_eq!(
            qualified("DealFields", &["deal", "crm"]),
            ["DealFields", "CrmDealFields"]
        );
        assert_eq!(
            qualified("Fields", &["object-fields", "universal", "crm"]),
            [
                "Fields",
                "ObjectFields",
                "UniversalObjectFields",
                "CrmUniversalObjectFields"
            ]
        );
        assert_eq!(merge("Deal", "Deal"), "Deal");
        assert_eq!(merge("CrmDeal", "DealStage"), "CrmDealStage");
        assert_eq!(merge("Badge", "Title"), "BadgeTitle");
        assert_eq!(
            page_segments("api-reference/crm/universal/object-fields.md#fields"),
            ["object-fields", "universal", "crm"]
        );
        assert_eq!(page_segments("api-reference/im/index.md#chat"), ["im"]);
    }
}
