//! One Rust type per shape: structures and unions generated as exact copies of one another
//! (in different modules, for different methods) become one definition and type aliases.
//!
//! Works on the generated tokens, after every name is given: each `object!` / `one_of!` is
//! read with the types its fields name resolved to the definitions they are (not their
//! module-relative spelling), and definitions are grouped by partition refinement, so two are
//! equal when their texts are and the definitions they refer to are equal in turn (cycles
//! included). The type's own attributes (its doc) and the impl flags that only depend on who
//! reaches it (`de`, `de_req`, `ser`, `keys`) are not part of the shape.
//!
//! In each group the definition is kept at the copy that comes first (available under the
//! most features, then the shortest, then the smallest module path); every other copy becomes
//! `pub type Name = <path>;` with its own attributes, so every path stays. The kept definition
//! gets the impls any copy needed, and the definitions it refers to the impls those need.
//!
//! A type some other item implements a trait for (`method!`'s `Request`, an `impl ... for`,
//! either side of a `convert!`) keeps its own definition: one type would get the impl twice.

use std::collections::{BTreeSet, HashMap};

use proc_macro2::{Delimiter, Group, Ident, Punct, Spacing, Span, TokenStream, TokenTree};
use quote::{quote, ToTokens};

/// Which macro a definition is made with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Object,
    Union,
}

/// One `object!` or `one_of!` item.
struct Def {
    /// The module it is in, from the generated root.
    module: Vec<String>,
    name: String,
    kind: Kind,
    /// The macro's tokens before `pub` (the type's attributes).
    meta: Vec<TokenTree>,
    flags: Vec<String>,
    body: Group,
    /// What follows the body (accessors, the constructor).
    rest: Vec<TokenTree>,
    /// The features it is compiled under; `None`: always.
    features: Option<BTreeSet<String>>,
}

/// Impl flags that depend on who reaches a type, not on its shape.
const SIDE_FLAGS: &[&str] = &["de", "de_req", "ser", "keys"];

/// The runtime's and the prelude's paths: never a generated definition.
const EXTERNAL: &[&str] = &[
    "__b24", "String", "Vec", "Option", "Box", "Result", "core", "std", "crate",
];

/// `tokens` with equal structures and unions made one (see the module docs). `feature_gates`:
/// top-level modules are cargo features and `types` items carry `cfg(any(feature = ...))`, so
/// a copy is only an alias of a definition compiled whenever the copy is. Tokens that do not
/// parse are returned as they are.
pub fn dedup(tokens: TokenStream, feature_gates: bool) -> TokenStream {
    let Ok(mut file) = syn::parse2::<syn::File>(tokens.clone()) else {
        return tokens;
    };
    let mut defs = Vec::new();
    let mut claims = Vec::new();
    collect(
        &file.items,
        &mut Vec::new(),
        feature_gates,
        &mut defs,
        &mut claims,
    );
    let plan = plan(&defs, &claims);
    let mut next = 0;
    rewrite(&mut file.items, &defs, &plan, &mut next);
    file.into_token_stream()
}

/// What becomes of each definition.
enum Fate {
    /// Kept, with these side flags (`de`, `ser`, `keys`).
    Keep(BTreeSet<&'static str>),
    /// An alias of the definition with this index.
    Alias(usize),
}

fn collect(
    items: &[syn::Item],
    module: &mut Vec<String>,
    gates: bool,
    defs: &mut Vec<Def>,
    claims: &mut Vec<(Vec<String>, Vec<String>)>,
) {
    for item in items {
        match item {
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    module.push(m.ident.to_string());
                    collect(inner, module, gates, defs, claims);
                    module.pop();
                }
            }
            syn::Item::Macro(m) => {
                let Some(last) = m.mac.path.segments.last() else {
                    continue;
                };
                let kind = match last.ident.to_string().as_str() {
                    "object" => Kind::Object,
                    "one_of" => Kind::Union,
                    "method_error" => continue,
                    "method" => {
                        claims.push((module.clone(), vec!["Request".into()]));
                        continue;
                    }
                    // `convert!` and anything else: what it names may get an impl.
                    _ => {
                        for path in paths(m.mac.tokens.clone()) {
                            claims.push((module.clone(), path));
                        }
                        continue;
                    }
                };
                match parse_def(m.mac.tokens.clone(), kind) {
                    Some(mut def) => {
                        def.module = module.clone();
                        def.features = features(module, &m.attrs, gates);
                        defs.push(def);
                    }
                    // Not understood: kept as it is, and nothing may be an alias of it.
                    None => claims.push((module.clone(), Vec::new())),
                }
            }
            syn::Item::Impl(i) => {
                for path in paths(i.self_ty.to_token_stream()) {
                    claims.push((module.clone(), path));
                }
            }
            _ => {}
        }
    }
}

/// The features a definition in `module` with `attrs` is compiled under.
fn features(module: &[String], attrs: &[syn::Attribute], gates: bool) -> Option<BTreeSet<String>> {
    if !gates {
        return None;
    }
    let top = module.first()?;
    if top != "types" {
        return Some(BTreeSet::from([top.trim_start_matches("r#").to_owned()]));
    }
    let cfg = attrs.iter().find(|a| a.path().is_ident("cfg"))?;
    let mut set = BTreeSet::new();
    let tokens = cfg.meta.to_token_stream().to_string();
    for part in tokens.split("feature").skip(1) {
        if let Some(name) = part.split('"').nth(1) {
            set.insert(name.to_owned());
        }
    }
    Some(set)
}

/// `#[meta]* pub struct|enum Name [flags] { body } rest*`.
fn parse_def(tokens: TokenStream, kind: Kind) -> Option<Def> {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let at = tokens
        .iter()
        .position(|t| matches!(t, TokenTree::Ident(i) if i == "pub"))?;
    let keyword = if kind == Kind::Object {
        "struct"
    } else {
        "enum"
    };
    let mut rest = tokens[at + 1..].iter();
    match rest.next()? {
        TokenTree::Ident(i) if i == keyword => {}
        _ => return None,
    }
    let TokenTree::Ident(name) = rest.next()? else {
        return None;
    };
    let TokenTree::Group(flags) = rest.next()? else {
        return None;
    };
    let TokenTree::Group(body) = rest.next()? else {
        return None;
    };
    if flags.delimiter() != Delimiter::Bracket || body.delimiter() != Delimiter::Brace {
        return None;
    }
    let flags = flags
        .stream()
        .into_iter()
        .map(|t| match t {
            TokenTree::Ident(i) => Some(i.to_string()),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Def {
        module: Vec::new(),
        name: name.to_string(),
        kind,
        meta: tokens[..at].to_vec(),
        flags,
        body: body.clone(),
        rest: rest.cloned().collect(),
        features: None,
    })
}

/// Every path (`super::types::X`, `Fields`) in `tokens`, segment by segment, but the
/// runtime's and the prelude's.
fn paths(tokens: TokenStream) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    walk(tokens, false, &mut |_| {}, &mut |path| {
        out.push(path.to_vec());
        None
    });
    out
}

/// Walks `tokens`, handing each token that is not part of a type path to `text` and each type
/// path to `path`, which says what to write for it (`None`: its own text). With `body`, the
/// tokens are those of a definition, whose field and variant names and keys are no types.
fn walk(
    tokens: TokenStream,
    body: bool,
    text: &mut dyn FnMut(String),
    path: &mut dyn FnMut(&[String]) -> Option<String>,
) {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut i = 0;
    let mut after_arrow = false;
    let mut after_fn = false;
    while i < tokens.len() {
        match &tokens[i] {
            TokenTree::Group(g) => {
                let (open, close) = match g.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::None => ("", ""),
                };
                text(open.into());
                walk(g.stream(), body, text, path);
                text(close.into());
                after_arrow = false;
                after_fn = false;
                i += 1;
            }
            TokenTree::Literal(l) => {
                text(l.to_string());
                i += 1;
            }
            TokenTree::Punct(p) => {
                after_arrow = p.as_char() == '>'
                    && matches!(i.checked_sub(1).map(|j| &tokens[j]),
                        Some(TokenTree::Punct(q)) if q.as_char() == '=' && q.spacing() == Spacing::Joint);
                text(format!(
                    "{}{}",
                    p.as_char(),
                    if p.spacing() == Spacing::Joint {
                        ""
                    } else {
                        " "
                    }
                ));
                i += 1;
            }
            TokenTree::Ident(first) => {
                let mut segments = vec![first.to_string()];
                let mut j = i + 1;
                while let (
                    Some(TokenTree::Punct(a)),
                    Some(TokenTree::Punct(b)),
                    Some(TokenTree::Ident(s)),
                ) = (tokens.get(j), tokens.get(j + 1), tokens.get(j + 2))
                {
                    if a.as_char() != ':' || a.spacing() != Spacing::Joint || b.as_char() != ':' {
                        break;
                    }
                    segments.push(s.to_string());
                    j += 3;
                }
                let named = body
                    && segments.len() == 1
                    && (after_arrow
                        || after_fn
                        || matches!(tokens.get(j), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis)
                        || matches!(tokens.get(j), Some(TokenTree::Punct(p)) if p.as_char() == ':'));
                let external = EXTERNAL.contains(&segments[0].as_str())
                    || segments[0].starts_with(|c: char| c.is_ascii_lowercase())
                        && segments.len() == 1;
                let written = if named || external {
                    None
                } else {
                    path(&segments)
                };
                text(written.unwrap_or_else(|| format!("{} ", segments.join("::"))));
                after_fn = first == "fn";
                after_arrow = false;
                i = j;
            }
        }
    }
}

/// The absolute path (module segments and name) `path` names from `module`.
fn absolute(module: &[String], path: &[String]) -> Vec<String> {
    let mut out = module.to_vec();
    let mut rest = path;
    while let Some((first, tail)) = rest.split_first() {
        match first.as_str() {
            "super" => {
                out.pop();
            }
            "self" => {}
            _ => break,
        }
        rest = tail;
    }
    out.extend(rest.iter().cloned());
    out
}

/// What becomes of each definition, in the order of `defs`.
fn plan(defs: &[Def], claims: &[(Vec<String>, Vec<String>)]) -> Vec<Fate> {
    let index: HashMap<Vec<String>, usize> = defs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let mut path = d.module.clone();
            path.push(d.name.clone());
            (path, i)
        })
        .collect();
    let mut claimed = vec![false; defs.len()];
    for (module, path) in claims {
        if path.is_empty() {
            // An item not understood: nothing is merged in its module.
            defs.iter()
                .enumerate()
                .filter(|(_, d)| &d.module == module)
                .for_each(|(i, _)| claimed[i] = true);
        } else if let Some(&i) = index.get(&absolute(module, path)) {
            claimed[i] = true;
        }
    }

    // Each definition's text, with the definitions it refers to as holes.
    let mut texts = Vec::with_capacity(defs.len());
    let mut refs: Vec<Vec<usize>> = Vec::with_capacity(defs.len());
    for (i, def) in defs.iter().enumerate() {
        let mut text = String::new();
        let mut to = Vec::new();
        // `params` implements `batch::Parameters`, which a method's `Request` has once.
        if claimed[i] || def.flags.iter().any(|f| f == "params") {
            text.push_str(&format!("claimed {}::{} ", def.module.join("::"), def.name));
        }
        text.push_str(if def.kind == Kind::Object {
            "object "
        } else {
            "union "
        });
        for flag in def
            .flags
            .iter()
            .filter(|f| !SIDE_FLAGS.contains(&f.as_str()))
        {
            text.push_str(flag);
            text.push(' ');
        }
        for attr in other_attrs(&def.meta) {
            text.push_str(&attr.to_string());
        }
        let body = strip_keys(def.body.stream());
        let rest: TokenStream = def.rest.iter().cloned().collect();
        for part in [body, rest] {
            let mut out = String::new();
            walk(part, true, &mut |t| out.push_str(&t), &mut |path| {
                let abs = absolute(&def.module, path);
                Some(match index.get(&abs) {
                    Some(&r) => {
                        to.push(r);
                        "\u{0} ".to_owned()
                    }
                    // Something else of the module (an alias, `Error`): itself.
                    None => format!("{} ", abs.join("::")),
                })
            });
            text.push_str(&out);
            text.push('|');
        }
        texts.push(text);
        refs.push(to);
    }

    // Partition refinement: a definition's class is its text's, then that and its references'
    // classes, until no class splits.
    let mut class = intern(texts.iter().cloned());
    let mut count = distinct(&class);
    loop {
        let next = intern(defs.iter().enumerate().map(|(i, _)| {
            let mut key = class[i].to_string();
            for r in &refs[i] {
                key.push(',');
                key.push_str(&class[*r].to_string());
            }
            key
        }));
        let n = distinct(&next);
        class = next;
        if n == count {
            break;
        }
        count = n;
    }

    // The copies of each class, best first: a kept definition must be compiled whenever each
    // copy aliasing it is.
    let mut order: Vec<usize> = (0..defs.len()).collect();
    order.sort_by(|&a, &b| {
        let rank = |d: &Def| {
            (
                d.features.as_ref().map_or(0, |f| usize::MAX - f.len()),
                d.module.len(),
            )
        };
        (class[a], rank(&defs[a]), &defs[a].module, &defs[a].name).cmp(&(
            class[b],
            rank(&defs[b]),
            &defs[b].module,
            &defs[b].name,
        ))
    });
    let covers = |kept: &Def, copy: &Def| match (&kept.features, &copy.features) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(k), Some(c)) => c.is_subset(k),
    };
    let mut target: Vec<usize> = (0..defs.len()).collect();
    let mut kept_of_class: HashMap<usize, Vec<usize>> = HashMap::new();
    for &i in &order {
        let kept = kept_of_class.entry(class[i]).or_default();
        match kept.iter().find(|&&k| covers(&defs[k], &defs[i])) {
            Some(&k) => target[i] = k,
            None => kept.push(i),
        }
    }

    // The side flags each kept definition needs: its copies', then what the definitions it
    // refers to need for them.
    let mut sides: Vec<BTreeSet<&'static str>> = vec![BTreeSet::new(); defs.len()];
    for (i, def) in defs.iter().enumerate() {
        for flag in &def.flags {
            match flag.as_str() {
                "de" | "de_req" => sides[target[i]].insert("de"),
                "ser" => sides[target[i]].insert("ser"),
                "keys" => sides[target[i]].insert("keys"),
                _ => false,
            };
        }
    }
    let mut changed = true;
    while changed {
        changed = false;
        for i in 0..defs.len() {
            if target[i] != i {
                continue;
            }
            for &r in &refs[i] {
                let t = target[r];
                for flag in ["de", "ser"] {
                    if sides[i].contains(flag) && sides[t].insert(flag) {
                        changed = true;
                    }
                }
            }
        }
    }
    (0..defs.len())
        .map(|i| {
            if target[i] == i {
                Fate::Keep(std::mem::take(&mut sides[i]))
            } else {
                Fate::Alias(target[i])
            }
        })
        .collect()
}

fn intern(keys: impl Iterator<Item = String>) -> Vec<usize> {
    let mut ids: HashMap<String, usize> = HashMap::new();
    keys.map(|k| {
        let n = ids.len();
        *ids.entry(k).or_insert(n)
    })
    .collect()
}

fn distinct(class: &[usize]) -> usize {
    class.iter().collect::<BTreeSet<_>>().len()
}

/// The attributes in `meta` other than docs.
fn other_attrs(meta: &[TokenTree]) -> Vec<TokenStream> {
    let mut out = Vec::new();
    for pair in meta.windows(2) {
        if let (TokenTree::Punct(p), TokenTree::Group(g)) = (&pair[0], &pair[1]) {
            let is_doc =
                matches!(g.stream().into_iter().next(), Some(TokenTree::Ident(i)) if i == "doc");
            if p.as_char() == '#' && !is_doc {
                out.push(g.stream());
            }
        }
    }
    out
}

/// A body without its fields' batch keys (`=> KEY`).
fn strip_keys(body: TokenStream) -> TokenStream {
    let tokens: Vec<TokenTree> = body.into_iter().collect();
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        if is_arrow(&tokens, i) {
            i += 3;
            continue;
        }
        out.push(tokens[i].clone());
        i += 1;
    }
    out.into_iter().collect()
}

/// Whether `tokens[i..]` starts with `=> Ident`.
fn is_arrow(tokens: &[TokenTree], i: usize) -> bool {
    matches!(
        (tokens.get(i), tokens.get(i + 1), tokens.get(i + 2)),
        (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)), Some(TokenTree::Ident(_)))
            if a.as_char() == '=' && a.spacing() == Spacing::Joint && b.as_char() == '>'
    )
}

/// A body whose fields all have their batch key: `KEY` after the member's name.
fn with_keys(body: TokenStream) -> TokenStream {
    let tokens: Vec<TokenTree> = body.into_iter().collect();
    let mut out: Vec<TokenTree> = Vec::with_capacity(tokens.len());
    let mut member: Option<String> = None;
    let mut words = 0;
    let mut i = 0;
    while i < tokens.len() {
        let token = tokens[i].clone();
        match &token {
            TokenTree::Ident(id) => {
                words += 1;
                // `kind member: ...`: the second word of a line.
                if words == 2 {
                    member = Some(id.to_string());
                }
            }
            TokenTree::Literal(_)
                if matches!(out.last(), Some(TokenTree::Punct(p)) if p.as_char() == '=')
                    && !is_arrow(&tokens, i + 1) =>
            {
                out.push(token);
                if let Some(m) = member.take() {
                    let key = m.trim_start_matches("r#").to_ascii_uppercase();
                    out.push(TokenTree::Punct(Punct::new('=', Spacing::Joint)));
                    out.push(TokenTree::Punct(Punct::new('>', Spacing::Alone)));
                    out.push(TokenTree::Ident(Ident::new(&key, Span::call_site())));
                }
                i += 1;
                continue;
            }
            TokenTree::Punct(p) if p.as_char() == ',' => {
                words = 0;
                member = None;
            }
            _ => {}
        }
        out.push(token);
        i += 1;
    }
    out.into_iter().collect()
}

fn rewrite(items: &mut [syn::Item], defs: &[Def], plan: &[Fate], next: &mut usize) {
    for item in items.iter_mut() {
        match item {
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = m.content.as_mut() {
                    let before = *next;
                    rewrite(inner, defs, plan, next);
                    if *next != before {
                        drop_unused_runtime(inner);
                    }
                }
            }
            syn::Item::Macro(m) => {
                let Some(last) = m.mac.path.segments.last() else {
                    continue;
                };
                let kind = match last.ident.to_string().as_str() {
                    "object" => Kind::Object,
                    "one_of" => Kind::Union,
                    _ => continue,
                };
                if parse_def(m.mac.tokens.clone(), kind).is_none() {
                    continue;
                }
                let i = *next;
                *next += 1;
                let (Some(def), Some(fate)) = (defs.get(i), plan.get(i)) else {
                    continue;
                };
                match fate {
                    Fate::Keep(sides) => m.mac.tokens = kept_tokens(def, sides),
                    Fate::Alias(k) => {
                        let Some(kept) = defs.get(*k) else { continue };
                        let attrs = &m.attrs;
                        let meta: TokenStream = def.meta.iter().cloned().collect();
                        let name = Ident::new(&def.name, Span::call_site());
                        let path = relative(&def.module, &kept.module, &kept.name);
                        let alias = quote!(#(#attrs)* #meta pub type #name = #path;);
                        if let Ok(alias) = syn::parse2::<syn::Item>(alias) {
                            *item = alias;
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// Leaves out the module's `use super::__b24;` when nothing else in it names the runtime any
/// more (its definitions became aliases).
fn drop_unused_runtime(items: &mut Vec<syn::Item>) {
    let is_import = |item: &syn::Item| matches!(item, syn::Item::Use(u) if u.tree.to_token_stream().to_string() == "super :: __b24");
    let used = items
        .iter()
        .filter(|item| !is_import(item))
        .any(|item| mentions(item.to_token_stream(), "__b24"));
    if !used {
        items.retain(|item| !is_import(item));
    }
}

/// Whether `tokens` have the identifier `name`.
fn mentions(tokens: TokenStream, name: &str) -> bool {
    tokens.into_iter().any(|t| match t {
        TokenTree::Ident(i) => i == name,
        TokenTree::Group(g) => mentions(g.stream(), name),
        _ => false,
    })
}

/// The macro tokens of a kept definition, with the side flags `sides`.
fn kept_tokens(def: &Def, sides: &BTreeSet<&'static str>) -> TokenStream {
    let has_req = def.kind == Kind::Object
        && (def.flags.iter().any(|f| f == "de_req") || has_required(&def.body));
    let mut flags: Vec<&str> = Vec::new();
    if sides.contains("de") {
        flags.push(if has_req { "de_req" } else { "de" });
    }
    if sides.contains("ser") {
        flags.push("ser");
    }
    let keys = sides.contains("keys");
    if keys {
        flags.push("keys");
    }
    flags.extend(
        def.flags
            .iter()
            .map(String::as_str)
            .filter(|f| !SIDE_FLAGS.contains(f)),
    );
    let flags = flags.iter().map(|f| Ident::new(f, Span::call_site()));
    let meta: TokenStream = def.meta.iter().cloned().collect();
    let keyword = Ident::new(
        if def.kind == Kind::Object {
            "struct"
        } else {
            "enum"
        },
        Span::call_site(),
    );
    let name = Ident::new(&def.name, Span::call_site());
    let body = if keys && !def.flags.iter().any(|f| f == "keys") {
        with_keys(def.body.stream())
    } else {
        def.body.stream()
    };
    let rest: TokenStream = def.rest.iter().cloned().collect();
    quote!(#meta pub #keyword #name [#(#flags)*] { #body } #rest)
}

/// Whether a structure's body has a `req` field.
fn has_required(body: &Group) -> bool {
    let mut first = true;
    for token in body.stream() {
        match &token {
            TokenTree::Ident(i) if first && i == "req" => return true,
            TokenTree::Punct(p) if p.as_char() == ',' => {
                first = true;
                continue;
            }
            TokenTree::Punct(p) if p.as_char() == '#' => continue,
            TokenTree::Group(_) => continue,
            _ => {}
        }
        first = false;
    }
    false
}

/// The path from module `from` to the item `name` of module `to`.
fn relative(from: &[String], to: &[String], name: &str) -> TokenStream {
    let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
    let ups = (common..from.len()).map(|_| quote!(super::));
    let down = to[common..].iter().map(|s| {
        let segment = super::types::ident(s);
        quote!(#segment::)
    });
    let name = Ident::new(name, Span::call_site());
    if common == from.len() {
        quote!(self:: #(#down)* #name)
    } else {
        quote!(#(#ups)* #(#down)* #name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Module `name` with a structure `Fields` (one field) and `extra` after it.
    fn module(name: &str, extra: TokenStream) -> TokenStream {
        let name = Ident::new(name, Span::call_site());
        quote! {
            pub mod #name {
                use super::__b24;
                __b24::object! {
                    #[doc = " Fields."]
                    pub struct Fields [ser default] {
                        #[doc = " The id."]
                        opt id: __b24::Int = "ID",
                    }
                }
                #extra
            }
        }
    }

    fn aliases(tokens: TokenStream) -> usize {
        dedup(tokens, false)
            .to_string()
            .matches("pub type Fields")
            .count()
    }

    #[test]
    fn a_type_something_implements_a_trait_for_keeps_its_definition() {
        let plain = [module("a", quote!()), module("b", quote!())];
        assert_eq!(aliases(quote!(#(#plain)*)), 1);
        for extra in [
            quote!(__b24::convert!(super::a::Response => Fields { id });),
            quote!(impl Marker for Fields {}),
        ] {
            let tokens = [module("a", quote!()), module("b", extra)];
            assert_eq!(aliases(quote!(#(#tokens)*)), 0);
        }
    }
}
