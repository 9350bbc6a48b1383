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
mod types;

pub use method::RUNTIME_CODES;

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::quote;

use crate::diag::Severity;
use crate::model::{Api, ApiVersion, Method};
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
}

/// Generates the Rust code for every selected method of `api`.
///
/// Pages that could not be turned into a method are listed in a `SKIPPED_PAGES` constant (the
/// macro additionally turns them into compile errors unless told to skip them).
pub fn generate(api: &Api, options: &Options) -> TokenStream {
    let ctx = Context {
        api,
        runtime: options.runtime.clone(),
    };
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

/// Formats generated tokens as Rust source (prettyplease). Tokens that do not parse as a file
/// are returned unformatted, so a generator bug shows up in the compiler, not as a panic here.
pub fn render(tokens: &TokenStream) -> String {
    match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        Err(_) => tokens.to_string(),
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

    /// The children with their module names, in a stable order: names are claimed in the
    /// order of the API segments, so two segments with one Rust name (`Chat`, `chat`) get
    /// `chat` and `chat_2` every time.
    fn named_children(&self, root: bool) -> Vec<(String, &str, &Node<'a>)> {
        // At the root, `types` is the shared module and `events`, `placements` the typed
        // events and placements: a method namespace of that name (the method `events`) gets
        // the next free name (`events_2`), whatever the selection, so its path never depends
        // on whether events are generated.
        let reserved: &[&str] = if root {
            &["types", "events", "placements"]
        } else {
            &["types"]
        };
        let mut module_names = Scope::with_reserved(reserved);
        self.children
            .iter()
            .map(|(segment, child)| {
                (
                    module_names.claim(names::snake(segment)),
                    segment.as_str(),
                    child,
                )
            })
            .collect()
    }

    /// The child modules of this node, `depth` levels below the root.
    fn tokens(&self, ctx: &Context, depth: usize) -> TokenStream {
        let modules = self
            .named_children(depth == 0)
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

/// The `types` module: structures shared by several methods.
fn shared_types(ctx: &Context) -> TokenStream {
    let taken: Vec<&str> = ctx
        .api
        .types
        .values()
        .map(|t| t.rust_name.as_str())
        .collect();
    let mut module = Module::new(ctx, 1, &taken);
    for named in ctx.api.types.values() {
        let doc = format!(
            "{}\n\n{}\n\nDescribed at `{}`.",
            named.title, named.description, named.source
        );
        let doc = docs::attrs(&doc, &named.source.file);
        let def = module.struct_def(&ident(&named.rust_name), doc, &named.fields, false);
        module.items.push(def);
    }
    let items = &module.items;
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
        assert!(code.contains("pub r#type: ::std::option::Option<::std::string::String>"));
        assert!(code.contains("pub enum Title"));
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
