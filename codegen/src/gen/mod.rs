//! Model → Rust tokens.
//!
//! The output is a tree of modules following the method names (`crm.activity.badge.add` →
//! `crm::activity::badge::add`; REST 3.0 methods under `v3::`), one module per method holding
//! `METHOD`, `Request`, `Response`, `Error`, `call` and the types they need, and a `types` module
//! with the structures shared by several methods. Generated code stays thin: data types and
//! `impl Method`; behaviour lives in the runtime.

mod dedup;
mod docs;
mod events;
mod method;
mod naming;
pub(crate) mod published;
mod render;
mod types;

pub(crate) use events::{event_owner, named_events, named_placements};
pub use method::RUNTIME_CODES;
pub use render::render;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use proc_macro2::TokenStream;
use quote::quote;

use crate::diag::Severity;
use crate::model::{Api, ApiVersion, Method, NamedType, Type, TypeKey};
use crate::names::{self, Scope};

use types::{ident, Module, Sides};

/// How to generate.
#[derive(Clone, Debug)]
pub struct Options {
    /// The path of the runtime crate in the generated code, e.g. `::b24_runtime`.
    pub runtime: TokenStream,
    /// Generate only methods whose name is one of these or starts with one of these followed by
    /// a dot (`crm.item` selects `crm.item.add` but not `crm.itemx.add`). Empty: every method.
    /// Only the shared structures the selected methods (and events, placements) reach are
    /// generated.
    pub only: Vec<String>,
    /// Give every type both `Serialize` and `Deserialize` (the conformance crate reads and
    /// writes requests and responses alike). Otherwise a type gets `Serialize` when a request
    /// reaches it, and `Deserialize` and batch keys when a response (an event, a placement)
    /// does. Every structure and union also gets a derive twin for the decode bench (flag
    /// `twin`, compiled under the generated crate's `twin` feature).
    pub round_trip: bool,
    /// The lock of the published API: every name it records is kept, and shared structures
    /// the docs merged, split or moved keep their published names (see [`crate::lock`]).
    pub lock: Option<Arc<crate::lock::Lock>>,
    /// Put each shared structure behind the cargo features of the top-level modules that
    /// reach it (`#[cfg(any(feature = "crm", ...))]`), as a crate with a feature per module
    /// needs.
    pub feature_gates: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            runtime: quote!(::b24_runtime),
            only: Vec::new(),
            round_trip: false,
            lock: None,
            feature_gates: false,
        }
    }
}

impl Options {
    /// True when `method` is selected by [`Options::only`].
    pub fn selects(&self, method: &str) -> bool {
        self.only.is_empty()
            || self.only.iter().any(|prefix| {
                method == prefix
                    || method
                        .strip_prefix(prefix.as_str())
                        .is_some_and(|rest| rest.starts_with('.'))
            })
    }
}

impl Options {
    /// True when the selection generates anything of `api`: a method, an event or a placement.
    pub fn selects_any(&self, api: &Api) -> bool {
        api.methods.iter().any(|m| self.selects(&m.name)) || events::selects_any(self, api)
    }
}

/// What every generating function needs.
pub struct Context<'a> {
    api: &'a Api,
    runtime: TokenStream,
    /// The names of the shared structures and of the types nested in them.
    shared: naming::SharedNames,
    /// Every type gets both `Serialize` and `Deserialize` ([`Options::round_trip`]).
    round_trip: bool,
    /// The shared structures the generated modules refer to, and from which side.
    reached: RefCell<BTreeMap<TypeKey, Sides>>,
    /// The names the lock fixes.
    pins: published::Pins,
    /// The names given, for the next lock.
    record: RefCell<published::Record>,
    /// With [`Options::feature_gates`]: the features that reach each shared structure.
    gates: Option<BTreeMap<TypeKey, BTreeSet<String>>>,
    /// The names the lock fixes for events, by upper-case code.
    event_pins: std::collections::HashMap<String, events::EventPin>,
}

impl Context<'_> {
    /// Records the name given to the type made for `owner` at wire path `at`.
    fn record_name(
        &self,
        owner: &str,
        at: &str,
        rust_name: String,
        variants: Vec<crate::lock::LockedVariant>,
    ) {
        if owner.is_empty() {
            return;
        }
        let mut record = self.record.borrow_mut();
        let names = record.entry(owner.to_owned()).or_default();
        // A union's variants come after its name was claimed.
        let entry = names
            .entry(at.to_owned())
            .or_insert_with(|| crate::lock::LockedName {
                at: at.to_owned(),
                rust_name: rust_name.clone(),
                variants: Vec::new(),
            });
        if !variants.is_empty() && entry.rust_name == rust_name {
            entry.variants = variants;
        }
    }

    /// Records that `side` reaches the shared structure `key`.
    fn reach(&self, key: &TypeKey, side: Sides) {
        let mut reached = self.reached.borrow_mut();
        let entry = reached.entry(key.clone()).or_default();
        *entry = entry.or(side);
    }

    /// The name of the shared structure `key` in the `types` module.
    fn shared_name<'k>(&'k self, key: &'k TypeKey) -> &'k str {
        match self.shared.types.get(key) {
            Some(name) => name,
            None => self
                .api
                .types
                .get(key)
                .map_or(key.0.as_str(), |t| t.rust_name.as_str()),
        }
    }
}

/// Generates the Rust code for every selected method of `api`.
///
/// Pages that could not be turned into a method are listed in a `SKIPPED_PAGES` constant (the
/// macro additionally turns them into compile errors unless told to skip them).
pub fn generate(api: &Api, options: &Options) -> TokenStream {
    generate_recorded(api, options).0
}

/// [`generate`], and the names it gave every type (what the lock records).
pub(crate) fn generate_recorded(api: &Api, options: &Options) -> (TokenStream, published::Record) {
    let ctx = context(api, options);
    let tree = tree(api, options).tokens(&ctx, 0);
    let events = events::tokens(&ctx, options);
    // Last: what the modules above reach.
    let shared = shared_types(&ctx);
    let skipped = api
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.to_string());
    let runtime = &options.runtime;
    let tokens = quote! {
        #[doc(hidden)]
        #[allow(unused_imports)]
        use #runtime::__private as __b24;
        #tree
        #events
        #shared
        /// Pages that could not be turned into code, with the reason (`file:line: ...`).
        pub const SKIPPED_PAGES: &[&str] = &[#(#skipped),*];
    };
    let tokens = dedup::dedup(tokens, options.feature_gates);
    let mut record = ctx.record.take();
    record_shared_names(&ctx, &mut record);
    (tokens, record)
}

/// The names of the shared structures alone (no code is made), as [`generate_recorded`]
/// records them.
pub(crate) fn shared_type_names(api: &Api, options: &Options) -> published::Record {
    let ctx = context(api, options);
    let mut record = published::Record::new();
    record_shared_names(&ctx, &mut record);
    record
}

fn record_shared_names(ctx: &Context, record: &mut published::Record) {
    for (key, name) in &ctx.shared.types {
        record
            .entry(published::shared_owner(&key.0))
            .or_default()
            .insert(
                String::new(),
                crate::lock::LockedName {
                    at: String::new(),
                    rust_name: name.clone(),
                    variants: Vec::new(),
                },
            );
    }
}

/// The context of a generation: the lock's pins, the shared structures' names.
fn context<'a>(api: &'a Api, options: &Options) -> Context<'a> {
    let mut ctx = Context {
        api,
        // Generated code names the runtime through one short path, imported at the root and
        // by each module from its parent.
        runtime: quote!(__b24),
        shared: naming::SharedNames::default(),
        round_trip: options.round_trip,
        reached: RefCell::default(),
        pins: options
            .lock
            .as_ref()
            .map(|lock| published::pins(lock, api))
            .unwrap_or_default(),
        record: RefCell::default(),
        gates: options.feature_gates.then(|| feature_gates(api, options)),
        event_pins: options
            .lock
            .as_ref()
            .map(|lock| events::event_pins(lock))
            .unwrap_or_default(),
    };
    ctx.shared = shared_names(&ctx);
    ctx
}

/// The features (top-level modules) whose methods, events or placements reach each shared
/// structure, through other structures too.
fn feature_gates(api: &Api, options: &Options) -> BTreeMap<TypeKey, BTreeSet<String>> {
    let mut roots: Vec<(String, Vec<&Type>)> = Vec::new();
    for (method, path) in module_paths(api, options) {
        let top = path.split("::").next().unwrap_or_default();
        let mut types: Vec<&Type> = method.params.iter().map(|p| &p.ty).collect();
        types.push(&method.result);
        roots.push((top.trim_start_matches("r#").to_owned(), types));
    }
    let events = named_events(api, options);
    roots.push((
        "events".into(),
        events.iter().map(|e| &e.event.data).collect(),
    ));
    let placements = named_placements(api, options);
    roots.push((
        "placements".into(),
        placements
            .iter()
            .flat_map(|(p, _)| p.options.iter().map(|f| &f.ty))
            .collect(),
    ));
    let mut gates: BTreeMap<TypeKey, BTreeSet<String>> = BTreeMap::new();
    for (feature, types) in roots {
        let mut stack = Vec::new();
        for ty in types {
            refs_of(ty, &mut stack);
        }
        while let Some(key) = stack.pop() {
            if !gates
                .entry(key.clone())
                .or_default()
                .insert(feature.clone())
            {
                continue;
            }
            if let Some(named) = api.types.get(key) {
                for f in &named.fields {
                    refs_of(&f.ty, &mut stack);
                }
            }
        }
    }
    gates
}

/// `#[cfg(any(feature = ...))]` for what the features `gate` names reach; nothing when
/// features are not gated.
fn cfg_attr(gate: Option<&BTreeSet<String>>) -> TokenStream {
    match gate {
        Some(features) => {
            let features = features.iter();
            quote!(#[cfg(any(#(feature = #features),*))])
        }
        None => TokenStream::new(),
    }
}

/// One level of the module tree: the methods named exactly here and the modules below.
#[derive(Default)]
struct Node<'a> {
    methods: Vec<&'a Method>,
    children: BTreeMap<String, Node<'a>>,
}

impl<'a> Node<'a> {
    fn insert(&mut self, path: &[&str], method: &'a Method) {
        match path.split_first() {
            None => self.methods.push(method),
            Some((first, rest)) => self
                .children
                .entry((*first).to_owned())
                .or_default()
                .insert(rest, method),
        }
    }

    /// The children with their module names, in a stable order: two segments with one Rust
    /// name (`chat`, `Chat`) get `chat` and `chat_2` every time, whatever else is there.
    fn named_children(&self, root: bool) -> Vec<(String, &str, &Node<'a>)> {
        // At the root, `types` is the shared module and `events`, `placements` the typed
        // events and placements: a method namespace of that name (the method `events`) gets
        // the next free name (`events_2`), whatever the selection. A segment written as its module name (`chat`)
        // claims it first, so a sibling spelt otherwise (`Chat`) added or removed never
        // renames it.
        let reserved: &[&str] = if root {
            &["types", "events", "placements"]
        } else {
            &["types"]
        };
        let mut module_names = Scope::with_reserved(reserved);
        let mut named: BTreeMap<&str, String> = BTreeMap::new();
        for exact in [true, false] {
            for segment in self.children.keys() {
                let snake = names::snake(segment);
                if (snake == *segment) == exact {
                    named.insert(segment, module_names.claim(snake));
                }
            }
        }
        self.children
            .iter()
            .map(|(segment, child)| {
                let name = named.remove(segment.as_str()).unwrap_or_default();
                (name, segment.as_str(), child)
            })
            .collect()
    }

    /// The child modules of this node, `depth` levels below the root.
    fn tokens(&self, ctx: &Context, depth: usize) -> TokenStream {
        let children = self.named_children(depth == 0);
        // The methods beside each other (`crm.deal.get`, `crm.deal.update`): views of one
        // entity, between which conversions are generated where the fields agree.
        let siblings: Vec<(&str, &Method)> = children
            .iter()
            .filter_map(|(name, _, child)| Some((name.as_str(), *child.methods.first()?)))
            .collect();
        let modules = children.iter().map(|(name, segment, child)| {
            let name = ident(name);
            let inner = child.tokens(ctx, depth + 1);
            let (doc, body) = match child.methods.first() {
                // Two pages for one name and version are reported by the loader; the first wins.
                Some(method) => (
                    method::module_doc(method),
                    method::items(ctx, method, depth + 1, &siblings),
                ),
                None => {
                    let doc = format!(" Methods under `{segment}`.");
                    (quote!(#[doc = #doc]), TokenStream::new())
                }
            };
            quote! {
                #doc
                #[allow(deprecated)]
                pub mod #name {
                    use super::__b24;
                    #body
                    #inner
                }
            }
        });
        quote!(#(#modules)*)
    }

    /// Records the module path (`crm::item::add`) of every generated method below this node.
    fn collect_paths(&self, prefix: &str, paths: &mut Vec<(&'a Method, String)>) {
        for (name, _, child) in self.named_children(prefix.is_empty()) {
            let path = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}::{name}")
            };
            if let Some(method) = child.methods.first() {
                paths.push((method, path.clone()));
            }
            child.collect_paths(&path, paths);
        }
    }
}

/// The module tree of the selected methods.
fn tree<'a>(api: &'a Api, options: &Options) -> Node<'a> {
    let mut root = Node::default();
    for method in api.methods.iter().filter(|m| options.selects(&m.name)) {
        let mut path: Vec<&str> = method.name.split('.').collect();
        if method.version == ApiVersion::V3 {
            path.insert(0, "v3");
        }
        root.insert(&path, method);
    }
    root
}

/// The module path of every method [`generate`] makes a module for, relative to where the
/// generated code is placed (e.g. `crm::activity::badge::add`). A method that is not listed
/// (a second page for the same name and version) has no module of its own.
pub fn module_paths<'a>(api: &'a Api, options: &Options) -> Vec<(&'a Method, String)> {
    let mut paths = Vec::new();
    tree(api, options).collect_paths("", &mut paths);
    paths
}

/// The names of the `types` module's items: each shared structure's definition is made dry
/// to learn the names its nested types want, then every name is resolved at once
/// ([`naming::shared_names`]).
fn shared_names(ctx: &Context) -> naming::SharedNames {
    let mut wanted = Vec::new();
    for (key, named) in &ctx.api.types {
        let base = names::camel(&named.rust_name);
        let mut module = shared_module(ctx, key);
        shared_def(&mut module, named, &base);
        let own = naming::shared_wanted(key, &base, ctx.pins.shared.get(key).cloned());
        wanted.push((key.clone(), own, std::mem::take(&mut module.wanted)));
    }
    let kept: Vec<&str> = ctx.pins.aliases.iter().flat_map(|a| a.names()).collect();
    naming::shared_names(wanted, &kept)
}

/// The module a shared structure's definition is made in: nested names are qualified by the
/// structure's name, then by its page's path.
fn shared_module<'a>(ctx: &'a Context<'a>, key: &TypeKey) -> Module<'a> {
    let mut module = Module::new(ctx, 1);
    module.owner = published::shared_owner(&key.0);
    module.marks = false;
    module.qualifiers = naming::page_segments(&key.0)
        .into_iter()
        .map(str::to_owned)
        .collect();
    module.order = format!("{key} ");
    module
}

/// The definition of a shared structure named `name`, pushed to `module`'s items.
fn shared_def(module: &mut Module, named: &NamedType, name: &str) {
    let doc = format!(
        "{}\n\n{}\n\nDescribed at `{}`.",
        named.title, named.description, named.source
    );
    let doc = module.doc(&doc, &named.source.file);
    let def = module.struct_def(&ident(name), doc, &named.fields, false);
    module.items.push(def);
}

/// The `types` module: the shared structures something generated reaches (through each
/// other too), and the types nested in them.
fn shared_types(ctx: &Context) -> TokenStream {
    let mut reached = ctx.reached.borrow().clone();
    let mut stack: Vec<TypeKey> = reached.keys().cloned().collect();
    while let Some(key) = stack.pop() {
        let (Some(named), Some(&side)) = (ctx.api.types.get(&key), reached.get(&key)) else {
            continue;
        };
        let mut refs = Vec::new();
        for f in &named.fields {
            refs_of(&f.ty, &mut refs);
        }
        for r in refs {
            let entry = reached.entry(r.clone()).or_default();
            if entry.or(side) != *entry {
                *entry = entry.or(side);
                stack.push(r.clone());
            }
        }
    }
    let mut items = Vec::new();
    let gate = |key: &TypeKey| cfg_attr(ctx.gates.as_ref().and_then(|g| g.get(key)));
    for (key, named) in &ctx.api.types {
        let Some(&side) = reached.get(key) else {
            continue;
        };
        let plan = ctx.shared.nested.get(key).cloned().unwrap_or_default();
        let mut module = shared_module(ctx, key).with_plan(plan);
        module.side = side;
        shared_def(&mut module, named, ctx.shared_name(key));
        let cfg = gate(key);
        items.extend(module.items.into_iter().map(|item| quote!(#cfg #item)));
    }
    for alias in &ctx.pins.aliases {
        items.extend(alias_items(ctx, alias, &reached));
    }
    // Unused in a crate built without the features that reach any structure.
    let import = (!items.is_empty()).then(|| {
        quote!(
            #[allow(unused_imports)]
            use super::__b24;
        )
    });
    quote! {
        /// Structures shared by several methods.
        #[allow(deprecated)]
        pub mod types {
            #import
            #(#items)*
        }
    }
}

/// The old names a lock keeps for a shared structure whose key the docs dropped: deprecated
/// aliases of the structure used where it was (and of the types inside it, path by path), or
/// of untyped JSON when none is.
fn alias_items(
    ctx: &Context,
    alias: &published::Alias,
    reached: &BTreeMap<TypeKey, Sides>,
) -> Vec<TokenStream> {
    let rt = &ctx.runtime;
    let doc = |name: &str| format!(" `{name}` as the previous release published it.");
    let Some(key) = &alias.target else {
        let note = format!(
            "the docs no longer describe `{}` nor use a structure where it was; kept, untyped, \
             so code naming it still compiles",
            alias.was
        );
        let (name, doc) = (ident(&alias.name), doc(&alias.name));
        return vec![
            quote!(#[doc = #doc] #[deprecated(note = #note)] pub type #name = #rt::Value;),
        ];
    };
    // Not generated in this selection: neither are its old names.
    if !reached.contains_key(key) {
        return Vec::new();
    }
    let cfg = cfg_attr(ctx.gates.as_ref().and_then(|g| g.get(key)));
    let target_name = ctx.shared_name(key);
    let record = ctx.record.borrow();
    let inside = record.get(&published::shared_owner(&key.0));
    let nested = alias.nested.iter().filter_map(|(old, at)| {
        let now = inside?.get(at)?;
        Some((old.as_str(), now.rust_name.as_str()))
    });
    std::iter::once((alias.name.as_str(), target_name))
        .chain(nested)
        .map(|(old, now)| {
            let note = format!(
                "the docs no longer describe `{}`; the structure used where it was is `{target_name}`",
                alias.was
            );
            let (doc, old, now) = (doc(old), ident(old), ident(now));
            quote!(#cfg #[doc = #doc] #[deprecated(note = #note)] pub type #old = #now;)
        })
        .collect()
}

/// The shared structures `ty` refers to.
fn refs_of<'t>(ty: &'t Type, out: &mut Vec<&'t TypeKey>) {
    match ty {
        Type::Ref { key } => out.push(key),
        Type::Array { item } => refs_of(item, out),
        Type::Nullable { inner } => refs_of(inner, out),
        Type::Map { value } => refs_of(value, out),
        Type::Union { variants } => variants.iter().for_each(|v| refs_of(v, out)),
        Type::Object { fields } => fields.iter().for_each(|f| refs_of(&f.ty, out)),
        Type::Scalar { .. } | Type::Untyped { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        Access, ErrorCode, ErrorMatch, Field, Method, Paging, Required, Scalar, Source, Type,
    };

    fn field(api: &str, rust: &str, ty: Type, required: Required) -> Field {
        Field {
            api_name: api.into(),
            rust_name: rust.into(),
            doc_type: String::new(),
            ty,
            required,
            description: format!("The {api}."),
            source: Source::new("page.md", 1),
            deprecated: None,
        }
    }

    fn method(name: &str, params: Vec<Field>, result: Type, paging: Option<Paging>) -> Method {
        Method {
            name: name.into(),
            version: ApiVersion::V2,
            title: "A method".into(),
            description: "Does things.\n\n```\n{ not: rust }\n```".into(),
            scopes: vec!["crm".into()],
            who_can_call: Some("any user".into()),
            deprecated: None,
            access: Access::Write,
            params,
            result,
            paging,
            errors: vec![ErrorCode {
                code: "ACCESS_DENIED".into(),
                matcher: ErrorMatch::Code("ACCESS_DENIED".into()),
                status: Some(403),
                message: None,
                description: "No access".into(),
                source: Source::new("page.md", 9),
                deprecated: None,
            }],
            examples: Vec::new(),
            source: Source::new("page.md", 1),
        }
    }

    #[test]
    fn one_method_becomes_a_module_with_its_items() {
        let string = Type::scalar(Scalar::String);
        let title = Type::Union {
            variants: vec![string.clone(), Type::array(string.clone())],
        };
        let badge = Type::Object {
            fields: vec![field("code", "code", string.clone(), Required::No)],
        };
        let api = Api {
            methods: vec![
                method(
                    "crm.activity.badge.add",
                    vec![
                        field("code", "code", string.clone(), Required::Yes),
                        field("title", "title", title, Required::Yes),
                        field("type", "r#type", string.clone(), Required::No),
                    ],
                    Type::Object {
                        fields: vec![field("badge", "badge", badge.clone(), Required::No)],
                    },
                    None,
                ),
                method(
                    "crm.activity.badge.list",
                    vec![],
                    Type::Object {
                        fields: vec![field("badges", "badges", Type::array(badge), Required::No)],
                    },
                    Some(Paging {
                        items_key: Some("badges".into()),
                    }),
                ),
            ],
            ..Api::default()
        };
        let code = render(&generate(&api, &Options::default()));
        let file: syn::File = syn::parse_str(&code).expect("generated code parses");
        assert!(code.contains("pub mod crm"), "{code}");
        assert!(code.contains("__b24::method!(\"crm.activity.badge.add\", V2, Write);"));
        // A request's parameters have keys and say which are required (`params`), for batch
        // commands that leave bound parameters out.
        assert!(
            code.contains("opt r#type: String = \"type\" => TYPE,"),
            "{code}"
        );
        assert!(code.contains("pub struct Request [ser params]"), "{code}");
        // Impls for what reaches a type: a request sends `Title`, a response brings `Badge`
        // (batch keys too).
        assert!(code.contains("pub enum Title [ser]"), "{code}");
        assert!(
            code.contains("pub struct Badge [de keys default]"),
            "{code}"
        );
        // No parameters: nothing to name.
        assert!(code.contains("pub struct Request [ser default]"), "{code}");
        assert!(code.contains("type Item = Badge;"), "{code}");
        assert!(
            code.contains("```text"),
            "code blocks in docs must be inert: {code}"
        );
        assert!(!file.items.is_empty());
    }

    #[test]
    fn a_read_converts_to_a_write_only_where_every_written_field_agrees() {
        let string = Type::scalar(Scalar::String);
        let int = Type::scalar(Scalar::Integer);
        let object = |fields| Type::Object { fields };
        let id = || field("id", "id", int.clone(), Required::Yes);
        let got = object(vec![
            field("TITLE", "title", string.clone(), Required::No),
            field("STAGE_ID", "stage_id", string.clone(), Required::No),
        ]);
        let write = |fields| {
            vec![
                id(),
                field("fields", "fields", object(fields), Required::Yes),
            ]
        };
        let api = Api {
            methods: vec![
                method("crm.thing.get", vec![id()], got, None),
                // Every field of `fields` is in `get`'s result, with its type.
                method(
                    "crm.thing.update",
                    write(vec![field("TITLE", "title", string.clone(), Required::No)]),
                    Type::scalar(Scalar::Boolean),
                    None,
                ),
                // `STAGE_ID` with another type, and a field `get` does not have: none.
                method(
                    "crm.thing.add",
                    write(vec![field(
                        "STAGE_ID",
                        "stage_id",
                        int.clone(),
                        Required::No,
                    )]),
                    int.clone(),
                    None,
                ),
                method(
                    "crm.thing.copy",
                    write(vec![
                        field("TITLE", "title", string.clone(), Required::No),
                        field("NEW", "new", string.clone(), Required::No),
                    ]),
                    int.clone(),
                    None,
                ),
            ],
            ..Api::default()
        };
        let code = render(&generate(&api, &Options::default()));
        assert_eq!(code.matches("convert!(").count(), 1, "{code}");
        assert!(
            code.contains("__b24::convert!(super::get::Response => Fields { title });"),
            "{code}"
        );
    }

    #[test]
    fn only_selects_by_dotted_prefix() {
        let options = Options {
            only: vec!["crm.item".into()],
            ..Options::default()
        };
        assert!(options.selects("crm.item.add"));
        assert!(options.selects("crm.item"));
        assert!(!options.selects("crm.itemx.add"));
        assert!(!options.selects("crm.activity.badge.add"));
    }

    #[test]
    fn a_method_named_like_a_root_module_of_the_generator_takes_the_next_name() {
        // The REST method `events` and the typed `events` module (and `types`, `placements`)
        // would be one module twice: the method yields, whatever the selection.
        let api = Api {
            methods: ["events", "placements", "types", "crm.events.list"]
                .into_iter()
                .map(|n| method(n, Vec::new(), Type::scalar(Scalar::Boolean), None))
                .collect(),
            ..Api::default()
        };
        let paths: Vec<String> = module_paths(&api, &Options::default())
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        assert!(paths
            .iter()
            .all(|p| p != "events" && p != "placements" && p != "types"));
        assert!(paths.contains(&"crm::events::list".to_owned()), "{paths:?}");
        assert_eq!(paths.len(), 4, "{paths:?}");
        syn::parse2::<syn::File>(generate(&api, &Options::default())).expect("valid Rust");
    }
}
