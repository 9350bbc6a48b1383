//! One method → the items of its module.

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::{Access, ApiVersion, ErrorCode, ErrorMatch, Field, Method, Required, Type};
use crate::names::{self, Scope};

use super::published::method_owner;
use super::types::{ident, Module, Sides};
use super::{docs, Context};

/// Names the generated method module uses itself.
const RESERVED: &[&str] = &["Request", "Response", "Error", "METHOD"];

/// The module doc: the page title, its description, scope, who may call, and where it came from.
pub fn module_doc(method: &Method) -> TokenStream {
    let mut doc = format!("{} (`{}`).", method.title.trim(), method.name);
    if !method.description.trim().is_empty() {
        doc.push_str("\n\n");
        doc.push_str(method.description.trim());
    }
    doc.push('\n');
    if !method.scopes.is_empty() {
        let scopes: Vec<String> = method.scopes.iter().map(|s| format!("`{s}`")).collect();
        doc.push_str(&format!("\n- Scope: {}", scopes.join(", ")));
    }
    if let Some(who) = &method.who_can_call {
        doc.push_str(&format!("\n- Who can call: {}", who.trim()));
    }
    if method.version == ApiVersion::V3 {
        doc.push_str("\n- REST 3.0 method");
    }
    if let Some(note) = &method.deprecated {
        doc.push_str(&format!("\n- Deprecated: {}", note.trim()));
    }
    doc.push_str(&format!("\n- Docs: `{}`", method.source));
    docs::attrs(&doc, &method.source.file)
}

/// `METHOD`, `Request`, `Response`, `Error`, the `Method` impls, `call` and nested types.
pub fn items(
    ctx: &Context,
    method: &Method,
    depth: usize,
    siblings: &[(&str, &Method)],
) -> TokenStream {
    let rt = &ctx.runtime;
    let name = &method.name;
    let deprecated = method.deprecated.as_ref().map(|note| {
        let note = note.trim();
        quote!(#[deprecated(note = #note)])
    });

    let request_doc = format!(" The parameters of `{name}`.");
    let ((request, response, list_impl, conversions), module) =
        Module::planned(ctx, depth, &method_owner(method), RESERVED, |module| {
            module.request_side = true;
            module.side = Sides::REQUEST;
            let request = module.struct_def(
                &ident("Request"),
                quote!(#[doc = #request_doc] #deprecated),
                &method.params,
                true,
            );
            let conversions = conversions(module, method, siblings);
            module.request_side = false;
            module.side = Sides::RESPONSE;
            module.set_wire("result");
            let response = response(module, method);
            let list_impl = list_impl(module, method);
            (request, response, list_impl, conversions)
        });
    let error = error_enum(ctx, method);

    let version = match method.version {
        ApiVersion::V2 => quote!(V2),
        ApiVersion::V3 => quote!(V3),
    };
    let access = match method.access {
        Access::Read => quote!(Read),
        Access::Write => quote!(Write),
    };
    let nested = &module.items;
    let deprecated = deprecated.iter();
    quote! {
        #rt::method!(#name, #version, #access #(, #deprecated)*);
        #request
        #response
        #error
        #list_impl
        #conversions
        #(#nested)*
    }
}

/// `From<&sibling::Response>` for each structure a parameter of this method describes in place
/// (`update`'s `fields`), from each sibling method's object result (`get`'s), where every
/// field of the structure is optional and the result has a field of that name and type.
fn conversions(module: &mut Module, method: &Method, siblings: &[(&str, &Method)]) -> TokenStream {
    let rt = module.runtime();
    let mut out = TokenStream::new();
    for param in &method.params {
        let Type::Object { fields: target } = &param.ty else {
            continue;
        };
        let target: Vec<&Field> = target.iter().filter(|f| f.pattern().is_none()).collect();
        if target.is_empty() || target.iter().any(|f| f.required == Required::Yes) {
            continue;
        }
        // Already made by the request: the cached name of the structure.
        let target_ty = module.rust_type(&param.ty, &param.api_name);
        for (sibling, other) in siblings {
            if std::ptr::eq(*other, method) || other.version != method.version {
                continue;
            }
            let Type::Object { fields: source } = &other.result else {
                continue;
            };
            let agrees = |t: &&Field| {
                source.iter().any(|s| {
                    s.pattern().is_none()
                        && s.api_name == t.api_name
                        && s.rust_name == t.rust_name
                        && non_null(&s.ty) == non_null(&t.ty)
                        && portable(module, non_null(&t.ty))
                })
            };
            if !target.iter().all(agrees) {
                continue;
            }
            let sibling = ident(sibling);
            let names = target.iter().map(|f| ident(&f.rust_name));
            out.extend(
                quote!(#rt::convert!(super::#sibling::Response => #target_ty { #(#names),* });),
            );
        }
    }
    out
}

/// `T` of `T | null`.
fn non_null(ty: &Type) -> &Type {
    match ty {
        Type::Nullable { inner } => inner,
        other => other,
    }
}

/// Whether a type is rendered as the same Rust type in a request and a response: no structure
/// or union described in place (each module names its own), no shared structure a request
/// gets its own view of.
fn portable(module: &Module, ty: &Type) -> bool {
    match ty {
        Type::Scalar { .. } | Type::Untyped { .. } => true,
        Type::Array { item } => portable(module, item),
        Type::Nullable { inner } => portable(module, inner),
        Type::Map { value } => portable(module, value),
        Type::Ref { key } => module
            .api()
            .types
            .get(key)
            .is_some_and(|named| named.fields.iter().all(|f| f.required != Required::Yes)),
        Type::Object { .. } | Type::Union { .. } => false,
    }
}

/// `Response`: a struct when `result` is an object, otherwise an alias of its type.
fn response(module: &mut Module, method: &Method) -> TokenStream {
    let doc = format!(" The `result` of `{}`.", method.name);
    match &method.result {
        Type::Object { fields } => {
            module.struct_def(&ident("Response"), quote!(#[doc = #doc]), fields, false)
        }
        other => {
            let ty = module.rust_type(other, "items");
            quote!(#[doc = #doc] pub type Response = #ty;)
        }
    }
}

/// `impl ListMethod` for methods that page: where the items of one page are.
fn list_impl(module: &mut Module, method: &Method) -> TokenStream {
    let rt = module.runtime();
    let Some(paging) = &method.paging else {
        return TokenStream::new();
    };
    let (item_ty, into_items) = match (&paging.items_key, &method.result) {
        (None, Type::Array { item }) => (module.rust_type(item, "item"), quote!(response)),
        (Some(key), Type::Object { fields }) => {
            let Some(field) = fields.iter().find(|f| &f.api_name == key) else {
                return TokenStream::new();
            };
            let item = match &field.ty {
                Type::Array { item } => item,
                Type::Nullable { inner } => match inner.as_ref() {
                    Type::Array { item } => item,
                    _ => return TokenStream::new(),
                },
                _ => return TokenStream::new(),
            };
            let name = ident(&field.rust_name);
            (
                module.rust_type(item, "item"),
                quote!(response.#name.unwrap_or_default()),
            )
        }
        _ => return TokenStream::new(),
    };
    // The fast export filters and orders by the records' id, under the names this method uses.
    let item_fields = match (&paging.items_key, &method.result) {
        (None, Type::Array { item }) => module.fields_of(item),
        (Some(key), Type::Object { fields }) => fields
            .iter()
            .find(|f| &f.api_name == key)
            .and_then(|f| match &f.ty {
                Type::Array { item } => module.fields_of(item),
                _ => None,
            }),
        _ => None,
    };
    let spelled = |names: &[&str], among: &mut dyn Iterator<Item = &str>| {
        let among: Vec<&str> = among.collect();
        names
            .iter()
            .find(|n| among.contains(n))
            .map(|n| n.to_string())
    };
    let id_field = item_fields
        .and_then(|fields| {
            spelled(
                &["ID", "id"],
                &mut fields.iter().map(|f| f.api_name.as_str()),
            )
        })
        .map(|name| quote!(const ID_FIELD: &'static str = #name;));
    let param = |names: &[&str]| {
        spelled(
            names,
            &mut method.params.iter().map(|p| p.api_name.as_str()),
        )
    };
    let filter_param =
        param(&["filter", "FILTER"]).map(|name| quote!(const FILTER_PARAM: &'static str = #name;));
    let order_param =
        param(&["order", "ORDER"]).map(|name| quote!(const ORDER_PARAM: &'static str = #name;));
    quote! {
        impl #rt::ListMethod for Request {
            type Item = #item_ty;
            fn into_items(response: Response) -> Vec<Self::Item> {
                #into_items
            }
            #id_field
            #filter_param
            #order_param
        }
    }
}

/// The method's `Error` enum: one variant per way a documented error is recognised (rows with
/// one code, or one text, merged). Rows no fixed text identifies get no variant (they arrive
/// as `Other`), nor do codes the runtime handles itself (they arrive as runtime errors); both
/// are listed in the enum's documentation.
fn error_enum(ctx: &Context, method: &Method) -> TokenStream {
    let rt = &ctx.runtime;
    let mut matchers: Vec<(&ErrorMatch, Vec<&ErrorCode>)> = Vec::new();
    let mut elsewhere: Vec<&ErrorCode> = Vec::new();
    for error in &method.errors {
        let handled =
            matches!(&error.matcher, ErrorMatch::Code(c) if RUNTIME_CODES.contains(&c.as_str()));
        if handled || error.matcher == ErrorMatch::None {
            elsewhere.push(error);
            continue;
        }
        match matchers.iter_mut().find(|(m, _)| **m == error.matcher) {
            Some((_, rows)) => rows.push(error),
            None => matchers.push((&error.matcher, vec![error])),
        }
    }
    // The names a lock published keep their matchers; the others are taken by no new one.
    let owner = method_owner(method);
    let published = ctx
        .pins
        .names
        .get(&owner)
        .and_then(|names| names.get(ERROR_AT))
        .map(|n| n.variants.as_slice())
        .unwrap_or_default();
    let reserved: Vec<&str> = std::iter::once("Other")
        .chain(published.iter().map(|v| v.rust_name.as_str()))
        .collect();
    let mut variant_names = Scope::with_reserved(&reserved);
    let mut recorded = Vec::new();
    let variants: Vec<TokenStream> = matchers
        .iter()
        .filter_map(|(matcher, rows)| {
            let (kind, text, shown) = match matcher {
                ErrorMatch::Code(code) => (quote!(Code), code, format!("`{code}`")),
                ErrorMatch::Exact(text) => (quote!(Message), text, format!("Message `{text}`")),
                ErrorMatch::Prefix(text) => (
                    quote!(Prefix),
                    text,
                    format!("Message starting with `{text}`"),
                ),
                ErrorMatch::None => return None,
            };
            let hint: String = text
                .split_whitespace()
                .take(8)
                .collect::<Vec<_>>()
                .join(" ");
            let form = matcher_form(matcher);
            let name = published
                .iter()
                .find(|v| v.form == form)
                .map(|v| v.rust_name.clone())
                .unwrap_or_else(|| variant_names.claim(names::camel(&hint)));
            let variant = ident(&name);
            recorded.push(crate::lock::LockedVariant {
                form,
                rust_name: name,
            });
            let mut doc = shown;
            for row in rows {
                doc.push_str(&format!("\n\n{}", row_meaning(row)));
            }
            let doc = docs::attrs(&doc, rows.first().map_or("", |row| &row.source.file));
            // Deprecated when every row of it is (codes the docs dropped, kept by the lock).
            let deprecated = rows
                .iter()
                .map(|row| row.deprecated.as_deref())
                .collect::<Option<Vec<&str>>>()
                .and_then(|notes| notes.first().copied())
                .map(|note| quote!(#[deprecated(note = #note)]));
            Some(quote!(#doc #deprecated #variant = #kind(#text),))
        })
        .collect();
    ctx.record_name(&owner, ERROR_AT, "Error".to_owned(), recorded);
    let mut doc = format!("Errors of `{}`.", method.name);
    if !elsewhere.is_empty() {
        doc.push_str("\n\nAlso documented, and not recognisable by a code or a fixed text here:");
        for row in &elsewhere {
            let code = match &row.matcher {
                ErrorMatch::Code(code) => format!(
                    "`{code}` (arrives as a runtime error: `b24::Error::{}`)",
                    runtime_variant(code)
                ),
                _ => "`Other`".to_owned(),
            };
            doc.push_str(&format!("\n- {code}: {}", row_meaning(row)));
        }
    }
    let doc = docs::attrs(&doc, &method.source.file);
    quote! {
        #rt::method_error! {
            #doc
            pub enum Error {
                #(#variants)*
            }
        }
    }
}

/// Where the lock records the names of a method's error variants (by [`matcher_form`]): beside
/// its types' wire paths, at a name no wire path has.
pub const ERROR_AT: &str = "!Error";

/// How the lock names the matcher of an error variant: `code:ACCESS_DENIED`,
/// `message:Not found`, `prefix:Field is required`.
pub fn matcher_form(matcher: &ErrorMatch) -> String {
    match matcher {
        ErrorMatch::Code(code) => format!("code:{code}"),
        ErrorMatch::Exact(text) => format!("message:{text}"),
        ErrorMatch::Prefix(text) => format!("prefix:{text}"),
        ErrorMatch::None => "none".to_owned(),
    }
}

/// The codes `b24_runtime` handles on every call before a method's error type sees them
/// (`b24_runtime::error::RUNTIME_CODES`; a test of the facade crate keeps the two lists equal).
pub const RUNTIME_CODES: &[&str] = &[
    "QUERY_LIMIT_EXCEEDED",
    "OPERATION_TIME_LIMIT",
    "expired_token",
    "NO_AUTH_FOUND",
    "invalid_token",
    "INVALID_CREDENTIALS",
    "wrong_auth_type",
    "invalid_client",
    "invalid_grant",
];

/// The `b24::Error` variant a runtime-handled code arrives as.
fn runtime_variant(code: &str) -> &'static str {
    match code {
        "QUERY_LIMIT_EXCEEDED" => "QueryLimitExceeded",
        "OPERATION_TIME_LIMIT" => "OperationTimeLimit",
        "expired_token" => "ExpiredToken",
        _ => "Auth",
    }
}

/// What an error row says: its message and description, and the HTTP status.
fn row_meaning(row: &ErrorCode) -> String {
    let meaning = [row.message.as_deref(), Some(row.description.as_str())]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(": ");
    let status = row
        .status
        .map(|s| format!(" (HTTP {s})"))
        .unwrap_or_default();
    format!("{meaning}{status}")
}
