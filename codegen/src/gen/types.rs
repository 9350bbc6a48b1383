//! Model types → Rust types, emitting the structs and enums they need into one module.

use std::collections::{HashMap, HashSet};

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use crate::lock::LockedVariant;
use crate::model::{Field, Required, Scalar, Type};
use crate::names::{self, Scope};

use super::naming::{self, Wanted};
use super::{docs, Context};

/// Who reaches a type: what its impls are for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sides {
    /// A request sends it: `Serialize`.
    pub request: bool,
    /// A response (or an event, a placement) brings it: `Deserialize` and batch keys.
    pub response: bool,
}

impl Sides {
    /// Reached by a request.
    pub const REQUEST: Sides = Sides {
        request: true,
        response: false,
    };
    /// Reached by a response.
    pub const RESPONSE: Sides = Sides {
        request: false,
        response: true,
    };

    /// Both `self` and `other`.
    pub fn or(self, other: Sides) -> Sides {
        Sides {
            request: self.request || other.request,
            response: self.response || other.response,
        }
    }
}

/// Names generated code uses bare (the prelude's): no generated type takes them.
pub const PRELUDE: &[&str] = &["Option", "Vec", "String", "Box", "Result"];

/// The items of one generated module (a method module or the shared `types` module) and the
/// type names already used in it.
///
/// Names are made in two passes ([`Module::planned`]): a dry pass, which writes no docs, learns
/// every name the module's items want (with the names of the types they sit in, to qualify
/// them); [`naming::resolve`] settles them; the second pass makes the items under those names.
pub struct Module<'a> {
    ctx: &'a Context<'a>,
    /// How many modules deep this module is below the generated root.
    depth: usize,
    /// The Rust type already made for a model node (by its address): one node, one Rust type.
    made: HashMap<usize, TokenStream>,
    /// Struct and enum definitions, in the order they were first needed.
    pub items: Vec<TokenStream>,
    /// True while the types of a request are made: their structures demand the fields the docs
    /// mark required (in a constructor), as the request itself does.
    pub request_side: bool,
    /// Who reaches the types being made: a request (they need `Serialize`), a response
    /// (`Deserialize` and batch keys), or both.
    pub side: Sides,
    /// Whether the shared structures it refers to are recorded as reached (not in the
    /// `types` module, whose reach is what the other modules reach).
    pub marks: bool,
    /// The dry pass: names are learnt, docs are not written.
    dry: bool,
    /// The names of the types being made, outermost first: what qualifies a nested name.
    stack: Vec<String>,
    /// What qualifies a name after the types it sits in (a shared structure's page path).
    pub qualifiers: Vec<String>,
    /// Put before each wanted name's order (a shared structure's key).
    pub order: String,
    /// Every name wanted, in the order they were claimed (the dry pass).
    pub wanted: Vec<Wanted>,
    /// The names to hand out, in claim order (the second pass).
    pub plan: Option<Vec<String>>,
    claims: usize,
    /// Whose types these are, as the lock names owners ([`published::method_owner`],
    /// [`published::shared_owner`]); empty for modules the lock does not record.
    pub owner: String,
    /// The wire path of the type being made (`fields.TITLE`, `result[]`, `value|object`):
    /// where the lock records the names made for it.
    wire: String,
}

impl<'a> Module<'a> {
    /// An empty module `depth` levels below the root, making names in a dry pass.
    pub fn new(ctx: &'a Context<'a>, depth: usize) -> Self {
        Module {
            ctx,
            depth,
            made: HashMap::new(),
            items: Vec::new(),
            request_side: false,
            side: Sides::RESPONSE,
            marks: true,
            dry: true,
            stack: Vec::new(),
            qualifiers: Vec::new(),
            order: String::new(),
            wanted: Vec::new(),
            plan: None,
            claims: 0,
            owner: String::new(),
            wire: String::new(),
        }
    }

    /// Runs `make` twice: dry, to learn the names it wants, then with those names resolved
    /// (`reserved` taken). Returns what the second run made, and the module with its items.
    /// `owner` is whose types they are, for the lock (empty: not recorded).
    pub fn planned<T>(
        ctx: &'a Context<'a>,
        depth: usize,
        owner: &str,
        reserved: &[&str],
        mut make: impl FnMut(&mut Module<'a>) -> T,
    ) -> (T, Module<'a>) {
        let mut dry = Module::new(ctx, depth);
        dry.owner = owner.to_owned();
        make(&mut dry);
        let reserved: Vec<&str> = reserved.iter().chain(PRELUDE).copied().collect();
        let plan = naming::resolve(&dry.wanted, &reserved);
        let mut module = Module::new(ctx, depth);
        module.owner = owner.to_owned();
        module.dry = false;
        module.plan = Some(plan);
        let made = make(&mut module);
        (made, module)
    }

    /// This module, for the second pass with `plan` (names resolved elsewhere).
    pub fn with_plan(mut self, plan: Vec<String>) -> Self {
        self.dry = false;
        self.plan = Some(plan);
        self
    }

    /// Doc attributes for a Markdown text (none in the dry pass).
    pub fn doc(&self, markdown: &str, page: &str) -> TokenStream {
        if self.dry {
            TokenStream::new()
        } else {
            docs::attrs(markdown, page)
        }
    }

    /// The fields of an object type, following a reference to a shared structure.
    pub fn fields_of(&self, ty: &'a Type) -> Option<&'a [Field]> {
        match ty {
            Type::Object { fields } => Some(fields),
            Type::Ref { key } => self.ctx.api.types.get(key).map(|t| t.fields.as_slice()),
            Type::Nullable { inner } => self.fields_of(inner),
            _ => None,
        }
    }

    /// The model being generated.
    pub fn api(&self) -> &'a crate::model::Api {
        self.ctx.api
    }

    /// The path of the runtime crate.
    pub fn runtime(&self) -> TokenStream {
        self.ctx.runtime.clone()
    }

    /// A fresh type name in this module, derived from `hint`: in the dry pass the name is
    /// wanted, qualified by the names of the types it sits in; in the second, it is the one
    /// the plan gives.
    pub fn claim_name(&mut self, hint: &str) -> Ident {
        let base = names::camel(hint);
        let index = self.claims;
        self.claims += 1;
        if let Some(name) = self.plan.as_ref().and_then(|plan| plan.get(index)) {
            self.ctx
                .record_name(&self.owner, &self.wire, name.clone(), Vec::new());
            return ident(name);
        }
        let mut candidates = vec![base.clone()];
        let mut name = base.clone();
        let outer = self.stack.iter().rev().cloned();
        for q in outer.chain(self.qualifiers.iter().map(|q| names::camel(q))) {
            let next = naming::merge(&q, &name);
            if next != name {
                name = next;
                candidates.push(name.clone());
            }
        }
        let pinned = self.pinned().map(|p| p.rust_name.clone());
        self.wanted.push(Wanted {
            candidates,
            order: format!("{}{index:08}", self.order),
            pinned,
        });
        ident(&base)
    }

    /// What the lock published for the type made at the current wire path.
    fn pinned(&self) -> Option<&'a crate::lock::LockedName> {
        self.ctx.pins.names.get(&self.owner)?.get(&self.wire)
    }

    /// Sets the wire path the next types are made at (`result` for a response).
    pub fn set_wire(&mut self, path: &str) {
        path.clone_into(&mut self.wire);
    }

    /// Runs `make` one step down the wire path: `step` is a field name (joined with `.`) or
    /// a marker (`[]`, `{}`, `|form`) appended as it is.
    fn below<T>(&mut self, step: &str, make: impl FnOnce(&mut Self) -> T) -> T {
        let len = self.wire.len();
        let marker = step.starts_with(['[', '{', '|']);
        if !self.wire.is_empty() && !marker {
            self.wire.push('.');
        }
        self.wire.push_str(step);
        let made = make(self);
        self.wire.truncate(len);
        made
    }

    /// The impls the types being made need: what reaches them, or both for a round trip.
    fn impls(&self) -> Sides {
        if self.ctx.round_trip {
            Sides::REQUEST.or(Sides::RESPONSE)
        } else {
            self.side
        }
    }

    /// Makes the items `make` needs inside the type `name` (its nested names are qualified by it).
    fn inside<T>(&mut self, name: &Ident, make: impl FnOnce(&mut Self) -> T) -> T {
        let name = name.to_string();
        self.stack
            .push(name.strip_prefix("r#").unwrap_or(&name).to_owned());
        let made = make(self);
        self.stack.pop();
        made
    }

    /// The Rust type for `ty`, defining any struct or enum it needs, named after `hint`.
    /// Asking again for the same model node gives the same type without defining it twice.
    pub fn rust_type(&mut self, ty: &Type, hint: &str) -> TokenStream {
        let key = ty as *const Type as usize;
        if let Some(made) = self.made.get(&key) {
            return made.clone();
        }
        let made = self.make_type(ty, hint);
        self.made.insert(key, made.clone());
        made
    }

    fn make_type(&mut self, ty: &Type, hint: &str) -> TokenStream {
        let rt = &self.ctx.runtime;
        match ty {
            Type::Scalar { scalar } => scalar_type(rt, *scalar),
            Type::Array { item } => {
                let item = self.below("[]", |m| m.rust_type(item, &singular(hint)));
                quote!(Vec<#item>)
            }
            Type::Nullable { inner } => {
                let inner = self.rust_type(inner, hint);
                quote!(Option<#inner>)
            }
            Type::Map { value } => {
                let value = self.below("{}", |m| m.rust_type(value, &format!("{hint} value")));
                quote!(#rt::BTreeMap<String, #value>)
            }
            Type::Ref { key } => match self.ctx.api.types.get(key) {
                // A shared structure with required fields, sent by a request: the request gets
                // its own view that demands them (the shared type, also read from responses,
                // keeps every field optional).
                Some(named)
                    if self.request_side
                        && named.fields.iter().any(|f| f.required == Required::Yes) =>
                {
                    let name = self.claim_name(hint);
                    let doc = format!(
                        " The `{hint}` structure as a request sends it: `types::{}` with its required fields demanded.",
                        self.ctx.shared_name(key)
                    );
                    let def = self.struct_def(&name, quote!(#[doc = #doc]), &named.fields, true);
                    self.items.push(def);
                    quote!(#name)
                }
                Some(_) => {
                    if self.marks {
                        self.ctx.reach(key, self.side);
                    }
                    let name = ident(self.ctx.shared_name(key));
                    let up = (0..self.depth).map(|_| quote!(super::));
                    quote!(#(#up)* types::#name)
                }
                None => quote!(#rt::Value),
            },
            Type::Untyped { .. } => quote!(#rt::Value),
            Type::Object { fields } => {
                let name = self.claim_name(hint);
                let doc = format!(" The `{hint}` structure.");
                let def = self.struct_def(&name, quote!(#[doc = #doc]), fields, self.request_side);
                self.items.push(def);
                quote!(#name)
            }
            Type::Union { variants } => self.union_type(variants, hint),
        }
    }

    /// `pub struct #name { fields..., extra }` with docs, and its serde impls.
    ///
    /// With `plain_required` (a request and the structures it sends), fields the docs mark
    /// required are plain fields set by a `new` constructor; otherwise (what responses bring,
    /// and shared structures) every field is an `Option`: what comes back depends on `select`
    /// and the portal, and a shared table serves `add` and `update` alike.
    pub fn struct_def(
        &mut self,
        name: &Ident,
        doc: TokenStream,
        fields: &[Field],
        plain_required: bool,
    ) -> TokenStream {
        self.inside(name, |m| m.struct_body(name, doc, fields, plain_required))
    }

    fn struct_body(
        &mut self,
        name: &Ident,
        doc: TokenStream,
        fields: &[Field],
        plain_required: bool,
    ) -> TokenStream {
        let rt = self.ctx.runtime.clone();
        let keyed = self.side.response && !plain_required;
        // A request names its parameters too (keys and which are required), for batch
        // commands whose bound parameters are left out (`batch::Params`).
        let request = plain_required && name == "Request";
        let mut all_optional = true;
        let mut lines = Vec::new();
        let mut args = Vec::new();
        let mut families = Vec::new();
        let mut custom_fields = false;
        for field in fields {
            // A row naming a family of keys (`UF_CRM_...`) is no field: its keys are in
            // `extra`, read through an accessor.
            if let Some(pattern) = field.pattern() {
                custom_fields |= is_custom_prefix(&pattern.prefix);
                let prefix = &pattern.prefix;
                let digits = pattern.digits.then(|| quote!(, digits));
                let accessor = ident(&field.rust_name);
                // The accessor decodes the family's values from `extra`: their type is read.
                let side = self.side;
                self.side = side.or(Sides::RESPONSE);
                let ty = self.below(&field.api_name, |m| m.rust_type(&field.ty, &field.api_name));
                self.side = side;
                let doc = self.doc(&field_doc(field, false), &field.source.file);
                families.push(quote!(#doc fn #accessor -> #ty = #prefix #digits;));
                continue;
            }
            let plain = plain_required && field.required == Required::Yes;
            all_optional &= !plain;
            let member = ident(&field.rust_name);
            let api = &field.api_name;
            // A request's `filter` and `order` are also built from a `Filter` / `Order`
            // (`select::Filter::to`), which reads them: their types are read too.
            let side = self.side;
            if name == "Request" && ["filter", "order"].contains(&api.to_ascii_lowercase().as_str())
            {
                self.side = side.or(Sides::RESPONSE);
            }
            let (doc, ty, takes_lists) = self.below(api, |m| m.field_def(field, plain));
            self.side = side;
            let kind = if plain {
                args.push(quote!(#member: #ty));
                quote!(req)
            } else if takes_lists {
                quote!(seq)
            } else {
                quote!(opt)
            };
            // Batch keys for what responses bring (a request's structures are sent, not read).
            let key = (keyed || request).then(|| {
                let key = format_ident!("{}", key_name(&field.rust_name));
                quote!(=> #key)
            });
            lines.push(quote!(#doc #kind #member: #ty = #api #key,));
        }
        let type_name = name.to_string();
        // A request always has `new`; a structure it sends has one when it has required fields.
        let constructor =
            (plain_required && (!all_optional || type_name == "Request")).then(|| {
                let noun = if type_name == "Request" {
                    "A request"
                } else {
                    "A value"
                };
                let doc = if args.is_empty() {
                    format!(" {noun} with no parameters set.")
                } else if type_name == "Request" {
                    format!(" {noun} with the required parameters set and the optional ones unset.")
                } else {
                    format!(" {noun} with the required fields set and the optional ones unset.")
                };
                quote!(new #[doc = #doc] (#(#args),*);)
            });
        let mut flags = Vec::new();
        let sides = self.impls();
        if sides.response {
            flags.push(if all_optional {
                quote!(de)
            } else {
                quote!(de_req)
            });
        }
        if sides.request {
            flags.push(quote!(ser));
        }
        if keyed && !lines.is_empty() {
            flags.push(quote!(keys));
        }
        if all_optional {
            flags.push(quote!(default));
        }
        if request && !lines.is_empty() {
            flags.push(quote!(params));
        }
        if custom_fields {
            flags.push(quote!(uf));
        }
        // The conformance crate's decode bench compares with a derive twin.
        if self.ctx.round_trip {
            flags.push(quote!(twin));
        }
        quote! {
            #rt::object! {
                #doc
                pub struct #name [#(#flags)*] {
                    #(#lines)*
                }
                #(#families)*
                #constructor
            }
        }
    }

    /// The field's docs, its type without the `Option` of an optional field, and whether `[]`
    /// is a value of that type (rather than PHP's empty associative array).
    fn field_def(&mut self, field: &Field, plain: bool) -> (TokenStream, TokenStream, bool) {
        // `Option<T | null>` is just `Option<T>`.
        let ty = match (&field.ty, plain) {
            (Type::Nullable { inner }, false) => inner.as_ref(),
            (ty, _) => ty,
        };
        let takes_lists = takes_lists(ty);
        let ty = self.rust_type(ty, &field.api_name);
        let mut doc = self.doc(&field_doc(field, plain), &field.source.file);
        if let Some(note) = &field.deprecated {
            doc.extend(quote!(#[deprecated(note = #note)]));
        }
        (doc, ty, takes_lists)
    }

    fn union_type(&mut self, variants: &[Type], hint: &str) -> TokenStream {
        let rt = self.ctx.runtime.clone();
        let mut forms: Vec<Form> = Vec::new();
        for variant in variants {
            let signature = crate::lock::signature(variant);
            let ty = self.below(&format!("|{signature}"), |m| {
                m.rust_type(variant, &format!("{hint} {}", variant_name(variant)))
            });
            // Two forms with one Rust type (`string|text`) need one variant only.
            match forms
                .iter_mut()
                .find(|f| f.ty.to_string() == ty.to_string())
            {
                Some(form) => {
                    form.signatures.push(signature);
                    form.may_take_objects |= may_take_objects(variant);
                    form.may_take_arrays |= may_take_arrays(variant);
                    form.takes_every_array &= takes_every_array(variant);
                }
                None => forms.push(Form {
                    name: variant_name(variant),
                    ty,
                    takes_lists: takes_lists(variant),
                    may_take_objects: may_take_objects(variant),
                    may_take_arrays: may_take_arrays(variant),
                    takes_every_array: takes_every_array(variant),
                    signatures: vec![signature],
                }),
            }
        }
        match forms.len() {
            0 => return quote!(#rt::Value),
            1 => return forms.remove(0).ty,
            _ => {}
        }
        // Forms are tried in order: the catch-all JSON value must come last.
        let any = quote!(#rt::Value).to_string();
        forms.sort_by_key(|f| f.ty.to_string() == any);
        let pinned = self
            .pinned()
            .map(|p| p.variants.as_slice())
            .unwrap_or_default();
        let name = self.claim_name(hint);
        let named = variant_names(&forms, pinned);
        let variants = forms.iter().zip(&named).map(|(form, variant)| {
            let variant = ident(&variant.rust_name);
            let ty = &form.ty;
            // `[]` is read by the forms that take lists first.
            let list = form.takes_lists.then(|| quote!(as list));
            quote!(#variant(#ty) #list,)
        });
        if !self.dry {
            let name = name.to_string();
            self.ctx
                .record_name(&self.owner, &self.wire, name, named.clone());
        }
        let doc = format!(" One of the forms the docs allow for `{hint}`.");
        let sides = self.impls();
        let flags = [
            sides.response.then(|| quote!(de)),
            sides.request.then(|| quote!(ser)),
            self.ctx.round_trip.then(|| quote!(twin)),
        ];
        let flags = flags.iter().flatten();
        // A value that one form alone can take is read straight into it (`Direct`). Part of
        // the shape whichever side reaches the union: only `de` reads by it.
        let alone = |takes: fn(&Form) -> bool| {
            let mut takers = forms.iter().zip(&named).filter(|(form, _)| takes(form));
            match (takers.next(), takers.next()) {
                (Some(one), None) => Some(one),
                _ => None,
            }
        };
        let objects = alone(|f| f.may_take_objects).map(|(_, v)| {
            let v = ident(&v.rust_name);
            quote!(objects => #v;)
        });
        let arrays = alone(|f| f.may_take_arrays)
            .filter(|(form, _)| form.takes_every_array)
            .map(|(_, v)| {
                let v = ident(&v.rust_name);
                quote!(arrays => #v;)
            });
        let reads =
            (objects.is_some() || arrays.is_some()).then(|| quote!(reads { #objects #arrays }));
        self.items.push(quote! {
            #rt::one_of! {
                #[doc = #doc]
                pub enum #name [#(#flags)*] {
                    #(#variants)*
                }
                #reads
            }
        });
        quote!(#name)
    }
}

/// One variant of a union: the forms the docs allow that share one Rust type.
struct Form {
    /// What the variant is named after (`integer`, `array`, a structure's anchor).
    name: String,
    ty: TokenStream,
    takes_lists: bool,
    /// Whether a JSON object may be a value of it (a structure, a map, raw JSON).
    may_take_objects: bool,
    /// Whether a non-empty JSON array may be a value of it.
    may_take_arrays: bool,
    /// Whether every JSON array, `[]` included, is a value of it (a list, raw JSON).
    takes_every_array: bool,
    /// The forms' signatures (`integer`, `timestamp`), in the docs' order.
    signatures: Vec<String>,
}

/// The name of each variant: the one the lock published for one of its forms, else a fresh
/// name after the form (published names are taken by no other variant).
fn variant_names(forms: &[Form], published: &[LockedVariant]) -> Vec<LockedVariant> {
    let reserved: Vec<&str> = published.iter().map(|v| v.rust_name.as_str()).collect();
    let mut scope = Scope::with_reserved(&reserved);
    let mut kept: HashSet<&str> = HashSet::new();
    forms
        .iter()
        .map(|form| {
            let rust_name = published
                .iter()
                .find(|v| form.signatures.contains(&v.form) && kept.insert(&v.rust_name))
                .map(|v| v.rust_name.clone())
                .unwrap_or_else(|| scope.claim(names::camel(&form.name)));
            LockedVariant {
                form: form.signatures[0].clone(),
                rust_name,
            }
        })
        .collect()
}

/// Whether `[]` is a value of `ty` (a list, raw JSON, a file, a union with such a form) rather
/// than PHP's empty associative array.
fn takes_lists(ty: &Type) -> bool {
    match ty {
        Type::Array { .. } | Type::Untyped { .. } => true,
        Type::Scalar { scalar } => matches!(scalar, Scalar::Any | Scalar::File),
        Type::Nullable { inner } => takes_lists(inner),
        Type::Union { variants } => variants.iter().any(takes_lists),
        Type::Object { .. } | Type::Map { .. } | Type::Ref { .. } => false,
    }
}

/// Whether a JSON object may be a value of `ty`. A shared structure counts whatever it is,
/// so a form that is not counted surely takes no object.
fn may_take_objects(ty: &Type) -> bool {
    match ty {
        Type::Object { .. } | Type::Map { .. } | Type::Ref { .. } | Type::Untyped { .. } => true,
        Type::Scalar { scalar } => matches!(scalar, Scalar::Any | Scalar::File),
        Type::Array { .. } => false,
        Type::Nullable { inner } => may_take_objects(inner),
        Type::Union { variants } => variants.iter().any(may_take_objects),
    }
}

/// Whether a non-empty JSON array may be a value of `ty` (a structure takes only `[]`).
fn may_take_arrays(ty: &Type) -> bool {
    match ty {
        Type::Array { .. } | Type::Ref { .. } | Type::Untyped { .. } => true,
        Type::Scalar { scalar } => matches!(scalar, Scalar::Any | Scalar::File),
        Type::Object { .. } | Type::Map { .. } => false,
        Type::Nullable { inner } => may_take_arrays(inner),
        Type::Union { variants } => variants.iter().any(may_take_arrays),
    }
}

/// Whether every JSON array, `[]` included, is a value of `ty`.
fn takes_every_array(ty: &Type) -> bool {
    match ty {
        Type::Array { .. } | Type::Untyped { .. } => true,
        Type::Scalar { scalar } => matches!(scalar, Scalar::Any | Scalar::File),
        _ => false,
    }
}

/// The runtime type a scalar is carried in.
fn scalar_type(rt: &TokenStream, scalar: Scalar) -> TokenStream {
    match scalar {
        Scalar::Integer | Scalar::Timestamp => quote!(#rt::Int),
        Scalar::Double => quote!(#rt::Double),
        Scalar::String => quote!(String),
        Scalar::Boolean | Scalar::YesNo => quote!(#rt::Bool),
        Scalar::Date => quote!(#rt::Date),
        Scalar::DateTime => quote!(#rt::DateTime),
        Scalar::File => quote!(#rt::File),
        Scalar::Any => quote!(#rt::Value),
    }
}

/// A name for the form a union variant stands for.
fn variant_name(ty: &Type) -> String {
    match ty {
        Type::Scalar { scalar } => match scalar {
            Scalar::Integer => "integer",
            Scalar::Double => "double",
            Scalar::String => "string",
            Scalar::Boolean => "boolean",
            Scalar::YesNo => "flag",
            Scalar::Date => "date",
            Scalar::DateTime => "datetime",
            Scalar::Timestamp => "timestamp",
            Scalar::File => "file",
            Scalar::Any => "any",
        }
        .to_owned(),
        Type::Array { .. } => "array".to_owned(),
        Type::Nullable { inner } => variant_name(inner),
        Type::Object { .. } => "object".to_owned(),
        Type::Map { .. } => "map".to_owned(),
        Type::Ref { key } => key.0.rsplit(['#', '/']).next().unwrap_or("ref").to_owned(),
        Type::Union { .. } => "union".to_owned(),
        Type::Untyped { .. } => "value".to_owned(),
    }
}

/// The doc text of a field: its description, and the docs' type where it says more than the Rust type.
fn field_doc(field: &Field, plain: bool) -> String {
    let mut doc = match field.description.trim() {
        // Fields known only from an example have no description of their own.
        "" => format!("`{}`, as the docs' examples show it.", field.api_name),
        description => description.to_owned(),
    };
    match field.required {
        Required::Yes if !plain => doc.push_str("\n\nMarked required in the docs."),
        Required::Conditional => doc.push_str("\n\nRequired in some cases (see the description)."),
        _ => {}
    }
    if !field.doc_type.trim().is_empty() && says_more(&field.doc_type, &field.ty) {
        doc.push_str(&format!("\n\nType in the docs: `{}`.", field.doc_type));
    }
    doc
}

/// Whether the docs' type (`integer[]`, `crm_status`, `string|array`) says more than the Rust
/// type of `ty` does: it names something other than the dictionary's basic words, or a kind of
/// value the Rust type does not hold.
fn says_more(doc_type: &str, ty: &Type) -> bool {
    let mut held = Vec::new();
    kinds(ty, &mut held);
    let mut said = false;
    for word in doc_type
        .split(['|', ','])
        .map(str::trim)
        .filter(|w| !w.is_empty())
    {
        let (base, dims) = crate::extract::types::strip_array(word);
        let kind = match base.trim().to_ascii_lowercase().as_str() {
            "integer" | "int" => "integer",
            "string" | "text" => "string",
            "boolean" | "bool" => "boolean",
            "double" | "float" | "number" => "double",
            "date" => "date",
            "datetime" => "datetime",
            "object" => "object",
            "array" => "array",
            "file" => "file",
            "any" | "mixed" => "any",
            "null" => continue,
            _ => return true,
        };
        if !held.contains(&kind) || dims > 0 && !held.contains(&"array") {
            return true;
        }
        said = true;
    }
    !said
}

/// The kinds of value a type holds, in the words of [`says_more`].
fn kinds(ty: &Type, out: &mut Vec<&'static str>) {
    match ty {
        Type::Scalar { scalar } => out.push(match scalar {
            Scalar::Integer | Scalar::Timestamp => "integer",
            Scalar::Double => "double",
            Scalar::String => "string",
            Scalar::Boolean | Scalar::YesNo => "boolean",
            Scalar::Date => "date",
            Scalar::DateTime => "datetime",
            Scalar::File => "file",
            Scalar::Any => "any",
        }),
        Type::Array { item } => {
            out.push("array");
            kinds(item, out);
        }
        Type::Nullable { inner } => kinds(inner, out),
        Type::Union { variants } => variants.iter().for_each(|v| kinds(v, out)),
        Type::Object { .. } | Type::Map { .. } | Type::Ref { .. } => out.push("object"),
        Type::Untyped { object: true, .. } => out.push("object"),
        Type::Untyped { .. } => out.push("any"),
    }
}

/// A rough singular for naming array items: `badges` → `badge`, `categories` → `category`.
fn singular(name: &str) -> String {
    if let Some(stem) = name.strip_suffix("ies").filter(|s| s.len() > 1) {
        format!("{stem}y")
    } else if name.len() > 3 && name.ends_with('s') && !name.ends_with("ss") {
        name[..name.len() - 1].to_owned()
    } else {
        format!("{name} item")
    }
}

/// An identifier from a name made by [`names`] (raw identifiers included). A name that is not
/// a valid identifier (which [`names`] never makes) is passed through [`names::snake`] first, so
/// this never panics.
/// The associated constant naming a field in batch references: `badge` → `BADGE`,
/// `r#type` → `TYPE`.
fn key_name(rust_name: &str) -> String {
    rust_name.trim_start_matches("r#").to_ascii_uppercase()
}

pub fn ident(name: &str) -> Ident {
    let valid = |s: &str| {
        s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && s != "_"
    };
    match name.strip_prefix("r#") {
        Some(raw) if valid(raw) && !["self", "Self", "super", "crate"].contains(&raw) => {
            Ident::new_raw(raw, Span::call_site())
        }
        None if valid(name) => format_ident!("{}", name),
        _ => ident(&names::snake(name)),
    }
}

/// Whether a pattern row's prefix names custom fields (`UF_CRM_`, `ufCrm`): their structure
/// implements `uf::CustomFields`.
fn is_custom_prefix(prefix: &str) -> bool {
    prefix.starts_with("UF_")
        || prefix.strip_prefix("uf").is_some_and(|rest| {
            rest.is_empty() || rest.starts_with(|c: char| c.is_ascii_uppercase() || c == '_')
        })
}

#[cfg(test)]
mod tests {
    use super::singular;

    #[test]
    fn singular_names_array_items() {
        assert_eq!(singular("badges"), "badge");
        assert_eq!(singular("categories"), "category");
        assert_eq!(singular("address"), "address item");
        assert_eq!(singular("ids"), "ids item");
        assert_eq!(singular("FM"), "FM item");
    }
}
