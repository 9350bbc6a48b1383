//! The public Rust paths of a generated crate, and what a newer one lost: the measure of
//! "a published path never moves" on real docs history.
//!
//! ```sh
//! b24-codegen crate OLD_DOCS --out /tmp/old --runtime-path runtime
//! cp -r /tmp/old /tmp/new
//! b24-codegen crate NEW_DOCS --out /tmp/new --lock /tmp/new/b24.lock --runtime-path runtime
//! cargo run --release -p b24-codegen --example public_paths -- /tmp/old /tmp/new
//! ```
//!
//! Paths are modules, items (structs and enums written through the runtime's macros too),
//! struct fields, enum variants and associated constants, each as `module::Item.field` or
//! `module::Enum::Variant`. Prints the counts, then every lost path.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [old, new] = args.as_slice() else {
        eprintln!("usage: public_paths OLD_CRATE NEW_CRATE");
        std::process::exit(2);
    };
    let (old, new) = (crate_paths(Path::new(old)), crate_paths(Path::new(new)));
    let lost: Vec<&String> = old.difference(&new).collect();
    let added = new.difference(&old).count();
    // A closed pipe (`| head`) ends the listing quietly.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "old {} paths, new {} paths: {} lost, {added} added",
        old.len(),
        new.len(),
        lost.len()
    );
    for path in &lost {
        if writeln!(out, "lost: {path}").is_err() {
            return;
        }
    }
}

/// Every public path of the crate in `dir` (its `src/*.rs`, each feature file as its module).
fn crate_paths(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let Ok(entries) = std::fs::read_dir(dir.join("src")) else {
        eprintln!("{}: no src/", dir.display());
        std::process::exit(2);
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let Ok(file) = syn::parse_file(&text) else {
            eprintln!("{}: not Rust", path.display());
            continue;
        };
        let prefix = if stem == "lib" {
            String::new()
        } else {
            format!("{stem}::")
        };
        walk(&file.items, &prefix, &mut out);
    }
    out
}

fn walk(items: &[syn::Item], prefix: &str, out: &mut BTreeSet<String>) {
    let public = |v: &syn::Visibility| matches!(v, syn::Visibility::Public(_));
    for item in items {
        match item {
            syn::Item::Mod(m) if public(&m.vis) => {
                let path = format!("{prefix}{}", m.ident);
                out.insert(path.clone());
                if let Some((_, inner)) = &m.content {
                    walk(inner, &format!("{path}::"), out);
                }
            }
            syn::Item::Type(t) if public(&t.vis) => {
                out.insert(format!("{prefix}{}", t.ident));
            }
            syn::Item::Const(c) if public(&c.vis) => {
                out.insert(format!("{prefix}{}", c.ident));
            }
            syn::Item::Macro(m) => macro_paths(&m.mac.tokens, prefix, out),
            _ => {}
        }
    }
}

/// The items of a runtime item macro (`object!`, `one_of!`, `method_error!`): its type, and
/// the fields or variants in its braces (a field line is `kind name: Type = "wire"`, a variant
/// `Name(Type)` or `Name = ...`).
fn macro_paths(tokens: &proc_macro2::TokenStream, prefix: &str, out: &mut BTreeSet<String>) {
    use proc_macro2::{Delimiter, TokenTree};
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    for (i, t) in trees.iter().enumerate() {
        let TokenTree::Ident(kw) = t else { continue };
        let is_struct = kw == "struct";
        if !is_struct && kw != "enum" {
            continue;
        }
        let Some(TokenTree::Ident(name)) = trees.get(i + 1) else {
            continue;
        };
        let item = format!("{prefix}{name}");
        out.insert(item.clone());
        let Some(body) = trees[i + 2..].iter().find_map(|t| match t {
            TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => Some(g.stream()),
            _ => None,
        }) else {
            continue;
        };
        let body: Vec<TokenTree> = body.into_iter().collect();
        for (j, t) in body.iter().enumerate() {
            let TokenTree::Ident(member) = t else {
                continue;
            };
            let next = body.get(j + 1);
            let punct = |c: char| matches!(next, Some(TokenTree::Punct(p)) if p.as_char() == c);
            let starts_line = j == 0
                || matches!(&body[j - 1], TokenTree::Punct(p) if p.as_char() == ',')
                || matches!(&body[j - 1], TokenTree::Group(g) if g.delimiter() == Delimiter::Bracket);
            let after_kind = j > 0
                && matches!(&body[j - 1], TokenTree::Ident(k) if k == "opt" || k == "req" || k == "seq");
            if is_struct && punct(':') && after_kind {
                // `opt name: T`: the field's kind word comes before it.
                out.insert(format!("{item}.{member}"));
            } else if !is_struct && starts_line {
                let variant_like = matches!(next, Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis)
                    || punct('=')
                    || punct(',');
                if variant_like {
                    out.insert(format!("{item}::{member}"));
                }
            }
        }
    }
}
