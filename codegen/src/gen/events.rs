//! Events and placements → the `events` and `placements` modules.
//!
//! - `events::{scope}::{snake name}` holds `Data`, the event's `data` typed from its page (and
//!   the structures it needs); `events::{scope}::{CamelName}` is
//!   `runtime::events::Incoming<Data>`: the envelope and the `auth` block are typed once, in
//!   the runtime.
//! - `events::Event` has a variant per event and `Other` for any other code; `from_event`
//!   picks the variant by the `event` code, without regard to case (the portal writes
//!   `ONCRMDEALADD`, the pages `onCrmDealAdd`). A documented event whose data does not fit its
//!   type is kept raw in `Invalid`, with the reason: nothing sent is lost.
//! - `placements::{snake name}` holds `Options` (the fields of `PLACEMENT_OPTIONS`) and
//!   `CODES`; `placements::{CamelName}` names its `Options`.
//!
//! With [`Options::only`](super::Options::only), events are generated when an entry is
//! `events`, `events.{scope}` or the event's code; placements when one is `placements` or the
//! placement's code.

use std::collections::{BTreeMap, HashMap, HashSet};

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::{Event, Placement, Type};
use crate::names::{self, Scope};

use super::types::{ident, Module};
use super::{docs, Context, Options};

/// The `events` and `placements` modules (nothing when there is nothing to generate).
pub fn tokens(ctx: &Context, options: &Options) -> TokenStream {
    let events: Vec<&Event> = ctx
        .api
        .events
        .iter()
        .filter(|e| selects_event(options, e))
        .collect();
    let placements: Vec<&Placement> = ctx
        .api
        .placements
        .iter()
        .filter(|p| selects_placement(options, p))
        .collect();
    let events = (!events.is_empty()).then(|| events_module(ctx, &events));
    let placements = (!placements.is_empty()).then(|| placements_module(ctx, &placements));
    quote!(#events #placements)
}

/// True when `options` selects an event or a placement of `api`.
pub(super) fn selects_any(options: &Options, api: &crate::model::Api) -> bool {
    api.events.iter().any(|e| selects_event(options, e))
        || api.placements.iter().any(|p| selects_placement(options, p))
}

fn selects_event(options: &Options, e: &Event) -> bool {
    let scope = e.scopes.first().map(String::as_str).unwrap_or("");
    options.only.is_empty()
        || options.only.iter().any(|o| {
            o == "events"
                || o.strip_prefix("events.").is_some_and(|s| s == scope)
                || o.eq_ignore_ascii_case(&e.name)
        })
}

fn selects_placement(options: &Options, p: &Placement) -> bool {
    options.only.is_empty()
        || options
            .only
            .iter()
            .any(|o| o == "placements" || o == &p.name || p.codes.contains(o))
}

/// The Rust module of an event's scope (`crm`), or none for a page without a scope.
fn scope_module(e: &Event) -> Option<String> {
    e.scopes.first().map(|s| names::snake(s))
}

/// The events of one scope module, with the Rust names the generator gives them.
struct ScopePlan<'a> {
    /// The scope's module (`crm`), or `None` for events generated at the top of `events`.
    module: Option<String>,
    /// The scope as the pages write it.
    scope: Option<String>,
    /// The scope's events, in the model's order.
    events: Vec<Named<'a>>,
}

/// An event with the Rust names the generator gives it.
pub struct Named<'a> {
    /// The event.
    pub event: &'a Event,
    /// Its type (`OnCrmDealAdd`, in its scope's module).
    pub type_name: String,
    /// Its module (`on_crm_deal_add`, in its scope's module), which holds `Data`.
    pub module: String,
    /// Its variant of `events::Event`.
    pub variant: String,
    /// The path of its module below the generated code's root
    /// (`events::crm::on_crm_deal_add`).
    pub path: String,
}

/// Groups `events` by scope and names their modules and types: one place for the names, read
/// by the generator and by [`named_events`]. An event a lock published keeps its scope
/// module, module, type and variant names (`pins`, by upper-case code), which no other event
/// takes.
fn plan<'a>(events: &[&'a Event], pins: &HashMap<String, EventPin>) -> Vec<ScopePlan<'a>> {
    // Scope → the events in it, in the model's order.
    let mut by_scope: BTreeMap<Option<String>, Vec<&Event>> = BTreeMap::new();
    let mut seen = HashSet::new();
    let pin = |e: &Event| pins.get(&e.name.to_ascii_uppercase());
    for e in events {
        // One variant per code: a second page for the same code is reported by the loader.
        if seen.insert(e.name.to_ascii_uppercase()) {
            let scope = match pin(e) {
                Some(p) => p.scope.clone(),
                None => scope_module(e),
            };
            by_scope.entry(scope).or_default().push(e);
        }
    }
    let mut scope_names = Scope::with_reserved(&["Event"]);
    let mut reserved_variants = vec!["Other", "Invalid"];
    reserved_variants.extend(events.iter().filter_map(|e| Some(pin(e)?.variant.as_str())));
    let mut variants = Scope::with_reserved(&reserved_variants);
    by_scope
        .into_iter()
        .map(|(scope, list)| {
            let module = scope.as_ref().map(|s| scope_names.claim(s.clone()));
            let pinned: Vec<&EventPin> = list.iter().filter_map(|e| pin(e)).collect();
            let mut type_names = Scope::with_reserved(
                &pinned
                    .iter()
                    .map(|p| p.type_name.as_str())
                    .collect::<Vec<_>>(),
            );
            let mut module_names =
                Scope::with_reserved(&pinned.iter().map(|p| p.module.as_str()).collect::<Vec<_>>());
            let events = list
                .into_iter()
                .map(|event| {
                    let (module_name, type_name, variant) = match pin(event) {
                        Some(p) => (p.module.clone(), p.type_name.clone(), p.variant.clone()),
                        None => (
                            module_names.claim(names::snake(&event.type_name)),
                            type_names.claim(names::camel(&event.type_name)),
                            variants.claim(names::camel(&event.type_name)),
                        ),
                    };
                    Named {
                        event,
                        type_name,
                        variant,
                        path: match &module {
                            Some(s) => format!("events::{s}::{module_name}"),
                            None => format!("events::{module_name}"),
                        },
                        module: module_name,
                    }
                })
                .collect();
            ScopePlan {
                module,
                scope,
                events,
            }
        })
        .collect()
}

/// Every generated event with its Rust names, in the order of the `events` module.
pub fn named_events<'a>(api: &'a crate::model::Api, options: &Options) -> Vec<Named<'a>> {
    let events: Vec<&Event> = api
        .events
        .iter()
        .filter(|e| selects_event(options, e))
        .collect();
    let pins = options
        .lock
        .as_ref()
        .map(|lock| event_pins(lock))
        .unwrap_or_default();
    plan(&events, &pins)
        .into_iter()
        .flat_map(|p| p.events)
        .collect()
}

/// The names a lock published for an event.
#[derive(Clone, Debug)]
pub struct EventPin {
    /// Its scope's module (`crm`), or `None` at the top of `events`.
    pub scope: Option<String>,
    /// Its module (`on_crm_deal_add`).
    pub module: String,
    /// Its type (`OnCrmDealAdd`).
    pub type_name: String,
    /// Its variant of `events::Event`.
    pub variant: String,
}

/// The published names of each event of `lock`, by upper-case code.
pub fn event_pins(lock: &crate::lock::Lock) -> HashMap<String, EventPin> {
    lock.events
        .iter()
        .filter_map(|e| {
            let mut module: Vec<&str> = e.module.split("::").skip(1).collect();
            let name = module.pop()?;
            let type_name = e.rust_path.rsplit("::").next()?;
            Some((
                e.name.to_ascii_uppercase(),
                EventPin {
                    scope: module.first().map(|s| (*s).to_owned()),
                    module: name.to_owned(),
                    type_name: type_name.to_owned(),
                    variant: e.variant.clone(),
                },
            ))
        })
        .collect()
}

fn events_module(ctx: &Context, events: &[&Event]) -> TokenStream {
    let rt = &ctx.runtime;
    let mut modules = Vec::new();
    let mut top = Vec::new();
    // (variant, path of the type, code)
    let mut cases: Vec<(proc_macro2::Ident, TokenStream, String)> = Vec::new();
    for plan in plan(events, &ctx.event_pins) {
        let scope_ident = plan.module.as_deref().map(ident);
        let depth = if plan.module.is_some() { 3 } else { 2 };
        let mut items = Vec::new();
        for named in plan.events {
            let e = named.event;
            let type_name = ident(&named.type_name);
            let module = ident(&named.module);
            let data_doc = format!(
                " The `data` of `{}`, as its page describes it (`{}`).",
                e.name, e.source
            );
            let owner = event_owner(&e.name);
            let (def, data) =
                Module::planned(ctx, depth, &owner, &["Data"], |data| match &e.data {
                    Type::Object { fields } => {
                        data.struct_def(&ident("Data"), quote!(#[doc = #data_doc]), fields, false)
                    }
                    other => {
                        let ty = data.rust_type(other, "Data value");
                        quote!(#[doc = #data_doc] pub type Data = #ty;)
                    }
                });
            let nested = &data.items;
            let doc = event_doc(e);
            let deprecated = e
                .deprecated
                .as_ref()
                .map(|note| quote!(#[deprecated(note = #note)]));
            let module_doc = format!(" The types of `{}`.", e.name);
            let name = &e.name;
            let code_doc = format!(" `{name}`, the code the portal sends in `event`.");
            items.push(quote! {
                #[doc = #module_doc]
                pub mod #module {
                    use super::__b24;
                    #def
                    #(#nested)*
                    #[doc = #code_doc]
                    pub const NAME: &str = #name;
                }
                #doc
                #deprecated
                pub type #type_name = #rt::events::Incoming<#module::Data>;
            });
            let variant = ident(&named.variant);
            let path = match &scope_ident {
                Some(s) => quote!(#s::#type_name),
                None => quote!(#type_name),
            };
            cases.push((variant, path, e.name.to_ascii_uppercase()));
        }
        match (&scope_ident, &plan.scope) {
            (Some(s), Some(scope)) => {
                let doc = format!(" Events of the scope `{scope}`.");
                modules.push(quote! {
                    #[doc = #doc]
                    pub mod #s { use super::__b24; #(#items)* }
                });
            }
            _ => top.extend(items),
        }
    }
    let variant_defs = cases.iter().map(|(v, path, code)| {
        let doc = format!(" `{code}`.");
        quote!(#[doc = #doc] #v(#path),)
    });
    let arms = cases.iter().map(|(v, _, code)| {
        quote! {
            #code => match #rt::events::Incoming::from_event(&raw) {
                Ok(typed) => Event::#v(typed),
                Err(error) => Event::Invalid { raw, error },
            },
        }
    });
    let auths = cases
        .iter()
        .map(|(v, _, _)| quote!(Event::#v(e) => &e.auth,));
    let names = cases
        .iter()
        .map(|(v, _, _)| quote!(Event::#v(e) => &e.event,));
    quote! {
        /// Events the portal sends to an application's handlers, typed from their pages.
        ///
        /// Each event has a module with its `Data` and a type `Incoming<Data>`; [`Event`]
        /// decodes any incoming event by its code.
        #[allow(deprecated, clippy::large_enum_variant)]
        pub mod events {
            use super::__b24;
            #(#modules)*
            #(#top)*

            /// An incoming event, by its `event` code (compared without regard to case).
            #[derive(Debug)]
            #[non_exhaustive]
            pub enum Event {
                #(#variant_defs)*
                /// A documented event whose `data` does not have the documented shape: kept
                /// as it came, with the reason.
                Invalid {
                    /// The event as it came.
                    raw: #rt::events::Event,
                    /// Why its data could not be typed.
                    error: #rt::events::EventError,
                },
                /// An event the docs do not describe, kept as it came.
                Other(#rt::events::Event),
            }

            impl Event {
                /// The event code as sent.
                pub fn name(&self) -> &str {
                    match self {
                        #(#names)*
                        Event::Invalid { raw, .. } | Event::Other(raw) => &raw.event,
                    }
                }
            }

            impl #rt::events::FromEvent for Event {
                fn from_event(raw: #rt::events::Event) -> Self {
                    match raw.event.to_ascii_uppercase().as_str() {
                        #(#arms)*
                        _ => Event::Other(raw),
                    }
                }
                fn auth(&self) -> &#rt::events::EventAuth {
                    match self {
                        #(#auths)*
                        Event::Invalid { raw, .. } | Event::Other(raw) => &raw.auth,
                    }
                }
            }
        }
    }
}

/// The owner of an event's types, as the lock names owners: `event ONCRMDEALADD`.
pub fn event_owner(code: &str) -> String {
    format!("event {}", code.to_ascii_uppercase())
}

fn event_doc(e: &Event) -> TokenStream {
    let mut doc = format!("{} (`{}`).", e.title.trim(), e.name);
    if !e.description.trim().is_empty() {
        doc.push_str("\n\n");
        doc.push_str(e.description.trim());
    }
    doc.push('\n');
    if !e.scopes.is_empty() {
        let scopes: Vec<String> = e.scopes.iter().map(|s| format!("`{s}`")).collect();
        doc.push_str(&format!("\n- Scope: {}", scopes.join(", ")));
    }
    if let Some(who) = &e.who_can_subscribe {
        doc.push_str(&format!("\n- Who can subscribe: {}", who.trim()));
    }
    doc.push_str(&format!("\n- Docs: `{}`", e.source));
    docs::attrs(&doc, &e.source.file)
}

/// Each placement with its type name (`CrmDealDetailTab`) and module name
/// (`crm_deal_detail_tab`, which holds `Options`): one place for the names, read by the
/// generator and by [`named_placements`].
fn plan_placements<'a>(placements: &[&'a Placement]) -> Vec<(&'a Placement, String, String)> {
    let mut type_names = Scope::with_reserved(&[]);
    let mut module_names = Scope::with_reserved(&[]);
    placements
        .iter()
        .map(|p| {
            let stem = p.name.replace('*', "");
            let type_name = type_names.claim(names::camel(&stem));
            (*p, type_name, module_names.claim(names::snake(&stem)))
        })
        .collect()
}

/// Every generated placement with the path of its module below the generated code's root
/// (`placements::crm_deal_detail_tab`, which holds `Options`).
pub fn named_placements<'a>(
    api: &'a crate::model::Api,
    options: &Options,
) -> Vec<(&'a Placement, String)> {
    let placements: Vec<&Placement> = api
        .placements
        .iter()
        .filter(|p| selects_placement(options, p))
        .collect();
    plan_placements(&placements)
        .into_iter()
        .map(|(p, _, module)| (p, format!("placements::{module}")))
        .collect()
}

fn placements_module(ctx: &Context, placements: &[&Placement]) -> TokenStream {
    let mut items = Vec::new();
    for (p, type_name, module) in plan_placements(placements) {
        let type_name = ident(&type_name);
        let module = ident(&module);
        let doc = format!(
            " `PLACEMENT_OPTIONS` of `{}`: the call context its handler receives (`{}`).",
            p.name, p.source
        );
        let (def, m) = Module::planned(ctx, 2, "", &["Options"], |m| {
            m.struct_def(&ident("Options"), quote!(#[doc = #doc]), &p.options, false)
        });
        let nested = &m.items;
        let codes = &p.codes;
        let mut text = format!("{} (`{}`).", p.title.trim(), p.name);
        if !p.description.trim().is_empty() {
            text.push_str("\n\n");
            text.push_str(p.description.trim());
        }
        text.push_str(&format!("\n\n- Docs: `{}`", p.source));
        let type_doc = docs::attrs(&text, &p.source.file);
        let module_doc = format!(" The types of the placement `{}`.", p.name);
        items.push(quote! {
            #[doc = #module_doc]
            pub mod #module {
                    use super::__b24;
                #def
                #(#nested)*
                /// The placement codes the page lists.
                pub const CODES: &[&str] = &[#(#codes),*];
            }
            #type_doc
            pub type #type_name = #module::Options;
        });
    }
    quote! {
        /// Placements (widgets), typed from their pages: the `PLACEMENT_OPTIONS` each one's
        /// handler receives. Read them with `FrameRequest::options_as`.
        #[allow(deprecated)]
        pub mod placements {
            use super::__b24;
            #(#items)*
        }
    }
}
