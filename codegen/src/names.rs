//! Rust names for API names: deterministic, valid and collision-free.
//!
//! The API name is always kept for the wire (`#[serde(rename)]`); these functions only decide
//! what a Rust programmer types.

use std::collections::HashSet;

/// Words that cannot be raw identifiers (`r#self` is not allowed), so they get a `_` suffix.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

/// Rust keywords (2021 edition, strict and reserved) that need `r#`.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "extern", "false",
    "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref",
    "return", "static", "struct", "trait", "true", "type", "unsafe", "use", "where", "while",
    "abstract", "become", "box", "do", "final", "gen", "macro", "override", "priv", "try",
    "typeof", "unsized", "virtual", "yield",
];

/// Splits an API name into lowercase words: `entityTypeId` → `entity type id`,
/// `UF_CRM_1` → `uf crm 1`, `TITLE (LANG)` → `title lang`, `=DELETED` → `deleted`.
fn words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            continue;
        }
        if c.is_uppercase() && !word.is_empty() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            // camelCase boundary, or the last capital of an acronym before a lowercase word (`HTMLText`).
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                words.push(std::mem::take(&mut word));
            }
        }
        word.extend(c.to_lowercase());
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
        .into_iter()
        .map(|w| {
            w.chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// `snake_case` for fields and modules; a keyword becomes a raw identifier (`r#type`).
pub fn snake(name: &str) -> String {
    let joined = words(name).join("_");
    fix_ident(if joined.is_empty() {
        "field".to_owned()
    } else {
        joined
    })
}

/// `UpperCamelCase` for types and enum variants.
pub fn camel(name: &str) -> String {
    let joined: String = words(name)
        .iter()
        .map(|w| {
            let mut cs = w.chars();
            match cs.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + cs.as_str(),
                None => String::new(),
            }
        })
        .collect();
    fix_ident(if joined.is_empty() {
        "Unnamed".to_owned()
    } else {
        joined
    })
}

/// Makes `ident` valid: a leading digit gets a `_` prefix, keywords become raw.
fn fix_ident(ident: String) -> String {
    let ident = if ident.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{ident}")
    } else {
        ident
    };
    if NOT_RAW.contains(&ident.as_str()) {
        format!("{ident}_")
    } else if KEYWORDS.contains(&ident.as_str()) {
        format!("r#{ident}")
    } else {
        ident
    }
}

/// Hands out names within one scope (a struct's fields, a module's items), so that two API
/// names that map to the same Rust name get distinct ones, in a deterministic way:
/// the first keeps the plain name, later ones get `_2`, `_3`, ...
#[derive(Debug, Default)]
pub struct Scope {
    taken: HashSet<String>,
}

impl Scope {
    /// A scope with `reserved` names already taken (names the generated code uses itself).
    pub fn with_reserved(reserved: &[&str]) -> Self {
        Scope {
            taken: reserved.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// A fresh name based on `base`, unique in this scope.
    ///
    /// ```
    /// use b24_codegen::names::{camel, snake, Scope};
    /// let mut scope = Scope::default();
    /// assert_eq!(scope.claim(camel("badge")), "Badge");
    /// assert_eq!(scope.claim(camel("BADGE")), "Badge2");
    /// assert_eq!(scope.claim(snake("sort")), "sort");
    /// assert_eq!(scope.claim(snake("SORT")), "sort_2");
    /// ```
    pub fn claim(&mut self, base: String) -> String {
        if self.taken.insert(base.clone()) {
            return base;
        }
        let stem = base.strip_prefix("r#").unwrap_or(&base).to_owned();
        // `Badge2` for types (UpperCamelCase), `sort_2` for fields and modules.
        let separator = if stem.starts_with(|c: char| c.is_ascii_uppercase()) {
            ""
        } else {
            "_"
        };
        let mut n = 2u64;
        loop {
            let candidate = format!("{stem}{separator}{n}");
            if self.taken.insert(candidate.clone()) {
                return candidate;
            }
            n += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_follows_word_boundaries() {
        assert_eq!(snake("entityTypeId"), "entity_type_id");
        assert_eq!(snake("ENTITY_TYPE_ID"), "entity_type_id");
        assert_eq!(snake("UF_CRM_1639669411830"), "uf_crm_1639669411830");
        assert_eq!(snake("ufCrm2_1639669411830"), "uf_crm2_1639669411830");
        assert_eq!(snake("HTMLText"), "html_text");
        assert_eq!(snake("TITLE (LANG)"), "title_lang");
        assert_eq!(snake("=DELETED"), "deleted");
        assert_eq!(snake("<selector>"), "selector");
        assert_eq!(snake("UF_..."), "uf");
    }

    #[test]
    fn keywords_become_raw_and_odd_names_stay_valid() {
        assert_eq!(snake("type"), "r#type");
        assert_eq!(snake("TYPE"), "r#type");
        assert_eq!(snake("ref"), "r#ref");
        assert_eq!(snake("self"), "self_");
        assert_eq!(snake("1C"), "_1_c");
        assert_eq!(snake("..."), "field");
        assert_eq!(snake("Название"), "field");
        assert_eq!(camel("ACCESS_DENIED"), "AccessDenied");
        assert_eq!(camel("invalid_select_field"), "InvalidSelectField");
        assert_eq!(camel("Self"), "Self_");
        assert_eq!(camel("400"), "_400");
    }

    #[test]
    fn scope_resolves_collisions_deterministically() {
        let mut scope = Scope::with_reserved(&["extra"]);
        assert_eq!(scope.claim(snake("sort")), "sort");
        assert_eq!(scope.claim(snake("SORT")), "sort_2");
        assert_eq!(scope.claim(snake("type")), "r#type");
        assert_eq!(scope.claim(snake("TYPE")), "type_2");
        assert_eq!(scope.claim(snake("DELETED")), "deleted");
        assert_eq!(scope.claim(snake("=DELETED")), "deleted_2");
        assert_eq!(scope.claim(snake("extra")), "extra_2");
    }
}
