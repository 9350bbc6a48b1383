//! Model → Rust tokens.
//!
//! The output is a tree of modules following the method names (`crm.activity.badge.add` →
//! `crm::activity::badge::add`; REST 3.0 methods under `v3::`), one module per method holding
//! `METHOD`, `Request`, `Response`, `Error`, `call` and the types they need, and a `types` module
//! with the structures shared by several methods. Generated code stays thin: data types and
//! `impl Method`; behaviour lives in the runtime.

mod docs;
mod events;
mod method;
mod naming;
mod render;
mod types;

pub use method::RUNTIME_CODES;
pub use render::render;

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::quote;

use crate::diag::Severity;
use crate::model::{Api, ApiVersion, Method, NamedType, TypeKey};
use crate::names::{self, Scope};

use types::{ident, Module};

/// How to generate.
#[derive(Clone, Debug)]
pub struct Options {
    /// The path of the runtime crate in the generated code, e.g. `::b24_runtime`.
    pub runtime: TokenStream,
    /// Generate only methods whose name is one of these or starts with one of these followed by
    /// a dot (`crm.item` selects `crm.item.add` but not `crm.itemx.add`). Empty: every method.
    pub only: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            runtime: quote!(::b24_runtime),
            only: Vec::new(),
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

/// What every generating function needs.
pub struct Context<'a> {
    api: &'a Api,
    runtime: TokenStream,
    /// The names of the shared structures and of the types nested in them.
    shared: naming::SharedNames,
}

impl Context<'_> {
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
    let mut ctx = Context {
        api,
        runtime: options.runtime.clone(),
        shared: naming::SharedNames::default(),
    };
    ctx.shared = shared_names(&ctx);
    let tree = tree(api, options).tokens(&ctx, 0);
    let shared = shared_types(&ctx);
    let events = events::tokens(&ctx, options);
    let skipped = api
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.to_string());
    quote! {
        #tree
        #shared
        #events
        /// Pages that could not be turned into code, with the reason (`file:line: ...`).
        pub const SKIPPED_PAGES: &[&str] = &[#(#skipped),*];
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
    fn named_children(&self) -> Vec<(String, &str, &Node<'a>)> {
        // `types` is the shared module at the root. A segment written as its module name
        // (`chat`) claims it first, so a sibling spelt otherwise (`Chat`) added or removed
        // never renames it.
        let mut module_names = Scope::with_reserved(&["types"]);
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
        let modules = self
            .named_children()
            .into_iter()
            .map(|(name, segment, child)| {
                let name = ident(&name);
                let inner = child.tokens(ctx, depth + 1);
                let (doc, body) = match child.methods.first() {
                    // Two pages for one name and version are reported by the loader; the first wins.
                    Some(method) => (
                        method::module_doc(method),
                        method::items(ctx, method, depth + 1),
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
                        #body
                        #inner
                    }
                }
            });
        quote!(#(#modules)*)
    }

    /// Records the module path (`crm::item::add`) of every generated method below this node.
    fn collect_paths(&self, prefix: &str, paths: &mut Vec<(&'a Method, String)>) {
        for (name, _, child) in self.named_children() {
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
        let own = naming::shared_wanted(key, &base);
        wanted.push((key.clone(), own, std::mem::take(&mut module.wanted)));
    }
    naming::shared_names(wanted)
}

/// The module a shared structure's definition is made in: nested names are qualified by the
/// structure's name, then by its page's path.
fn shared_module<'a>(ctx: &'a Context<'a>, key: &TypeKey) -> Module<'a> {
    let mut module = Module::new(ctx, 1);
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

/// The `types` module: structures shared by several methods, and the types nested in them.
fn shared_types(ctx: &Context) -> TokenStream {
    let mut items = Vec::new();
    for (key, named) in &ctx.api.types {
        let plan = ctx.shared.nested.get(key).cloned().unwrap_or_default();
        let mut module = shared_module(ctx, key).with_plan(plan);
        shared_def(&mut module, named, ctx.shared_name(key));
        items.append(&mut module.items);
    }
    quote! {
        /// Structures shared by several methods.
        #[allow(deprecated)]
        pub mod types {
            #(#items)*
        }
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
        assert!(code.contains("pub const METHOD: &str = \"crm.activity.badge.add\";"));
        assert!(
            code.contains("opt r#type: ::std::string::String = \"type\","),
            "{code}"
        );
        assert!(code.contains("pub enum Title [de ser]"), "{code}");
        assert!(code.contains("type Item = Badge;"), "{code}");
        assert!(
            code.contains("```text"),
            "code blocks in docs must be inert: {code}"
        );
        assert!(!file.items.is_empty());
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
}
