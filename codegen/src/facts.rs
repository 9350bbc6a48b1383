//! The model as *facts*: what it claims about each method page, in the normal form of
//! `shared/fidelity/SCHEMA.md`, so that something other than the generator can check it; and
//! the same items for every event page (the payload's `data`) and placement page (its
//! `PLACEMENT_OPTIONS`).
//!
//! Every fact is read from the same [`Api`] the generator and the emulator use, and says what the
//! generated Rust does: a parameter is `required: yes` only when the generated request demands
//! it, an error entry says how the generated `Error` recognises its variant (by code, by exact
//! message, by message prefix), and rows the generated `Error` cannot recognise are listed with
//! `match: none`.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::model::{
    Access, Api, ApiVersion, ErrorCode, ErrorMatch, Event, Field, Method, Placement, Required,
    Scalar, Type, TypeKey,
};

/// Everything the model says, page by page: the export of `b24-codegen facts`.
#[derive(Clone, Debug, Serialize)]
pub struct Facts {
    /// Every method page.
    pub methods: Vec<MethodFacts>,
    /// Every event page.
    pub events: Vec<EventFacts>,
    /// Every placement page.
    pub placements: Vec<PlacementFacts>,
}

/// What one event page says of the event's payload.
#[derive(Clone, Debug, Serialize)]
pub struct EventFacts {
    /// The page, relative to the docs root.
    pub page: String,
    /// The event code as the portal sends it.
    pub event: String,
    /// Every field of the payload's `data`; `""` is `data` itself.
    pub data: Vec<ItemFacts>,
}

/// What one placement page says of the options the widget receives.
#[derive(Clone, Debug, Serialize)]
pub struct PlacementFacts {
    /// The page, relative to the docs root.
    pub page: String,
    /// The placement code of the title.
    pub placement: String,
    /// Every code of the page's code table.
    pub codes: Vec<String>,
    /// Every field of `PLACEMENT_OPTIONS`, nested fields included.
    pub options: Vec<ItemFacts>,
}

/// What one method page says, in the facts form.
#[derive(Clone, Debug, Serialize)]
pub struct MethodFacts {
    /// The page, relative to the docs root.
    pub page: String,
    /// The REST name.
    pub method: String,
    /// `v2` or `v3`.
    pub version: &'static str,
    /// Whether the page marks the method deprecated.
    pub deprecated: bool,
    /// `read` or `write`.
    pub access: &'static str,
    /// Whether the method returns a list in pages.
    pub paged: bool,
    /// Every parameter, nested fields included.
    pub params: Vec<ItemFacts>,
    /// Every field of `result`; `""` is `result` itself.
    pub result: Vec<ItemFacts>,
    /// Every documented error and how it is recognised.
    pub errors: Vec<ErrorFacts>,
}

/// One parameter or result field.
#[derive(Clone, Debug, Serialize)]
pub struct ItemFacts {
    /// API names joined by `.`; `[]` for array items, `{}` for map values.
    pub path: String,
    /// The wire type (`string`, `integer`, `array<T>`, `union<A|B>`, ...).
    #[serde(rename = "type")]
    pub ty: String,
    /// `yes`, `conditional` or `no` (parameters only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required: Option<&'static str>,
    /// True for a row that names a pattern of keys (`UF_*`) rather than one key.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub pattern: bool,
}

/// One documented error.
#[derive(Clone, Debug, Serialize)]
pub struct ErrorFacts {
    /// The code the server sends in `error` (empty when it carries no meaning).
    pub code: String,
    /// The message the variant is recognised by (`exact` and `prefix`), or the row's text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `code`, `exact`, `prefix` or `none`.
    #[serde(rename = "match")]
    pub matching: &'static str,
    /// The HTTP status, where the page gives it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

/// How deep shared structures are followed: deeper nesting is cut (recursive structures).
const MAX_DEPTH: usize = 12;

/// The facts of every method in `api`, in the model's order.
pub fn facts(api: &Api) -> Vec<MethodFacts> {
    api.methods.iter().map(|m| method_facts(api, m)).collect()
}

/// The facts of every method, event and placement in `api`, in the model's order.
pub fn all_facts(api: &Api) -> Facts {
    Facts {
        methods: facts(api),
        events: api.events.iter().map(|e| event_facts(api, e)).collect(),
        placements: api
            .placements
            .iter()
            .map(|p| placement_facts(api, p))
            .collect(),
    }
}

fn event_facts(api: &Api, e: &Event) -> EventFacts {
    let mut walk = Walk::new(api, false);
    walk.item("", &e.data, None, false, 0);
    EventFacts {
        page: e.source.file.to_string(),
        event: e.name.clone(),
        data: walk.out,
    }
}

fn placement_facts(api: &Api, p: &Placement) -> PlacementFacts {
    let mut walk = Walk::new(api, true);
    for f in &p.options {
        walk.field(f, "", 0);
    }
    PlacementFacts {
        page: p.source.file.to_string(),
        placement: p.name.clone(),
        codes: p.codes.clone(),
        options: walk.out,
    }
}

fn method_facts(api: &Api, m: &Method) -> MethodFacts {
    let mut walk = Walk::new(api, true);
    for p in &m.params {
        walk.field(p, "", 0);
    }
    let params = std::mem::take(&mut walk.out);
    walk.params = false;
    walk.item("", &m.result, None, false, 0);
    let result = walk.out;
    MethodFacts {
        page: m.source.file.to_string(),
        method: m.name.clone(),
        version: match m.version {
            ApiVersion::V2 => "v2",
            ApiVersion::V3 => "v3",
        },
        deprecated: m.deprecated.is_some(),
        access: match m.access {
            Access::Read => "read",
            Access::Write => "write",
        },
        paged: m.paging.is_some(),
        params,
        result,
        errors: m.errors.iter().map(error_facts).collect(),
    }
}

fn error_facts(e: &ErrorCode) -> ErrorFacts {
    let (code, message, matching) = match &e.matcher {
        ErrorMatch::Code(code) => (code.clone(), None, "code"),
        ErrorMatch::Exact(text) => (String::new(), Some(text.clone()), "exact"),
        ErrorMatch::Prefix(text) => (String::new(), Some(text.clone()), "prefix"),
        ErrorMatch::None => (
            e.code.clone(),
            Some(e.message.clone().unwrap_or_else(|| e.description.clone())),
            "none",
        ),
    };
    ErrorFacts {
        code,
        message,
        matching,
        status: e.status,
    }
}

/// A walk over the fields of one method, writing one entry per field.
struct Walk<'a> {
    api: &'a Api,
    out: Vec<ItemFacts>,
    /// The shared structures being expanded (a structure inside itself is not expanded again).
    open: Vec<&'a TypeKey>,
    params: bool,
}

impl<'a> Walk<'a> {
    /// A walk writing `required` on each entry when `params`.
    fn new(api: &'a Api, params: bool) -> Self {
        Walk {
            api,
            out: Vec::new(),
            open: Vec::new(),
            params,
        }
    }

    /// A field at `prefix`. The generated request and the structures it sends demand every
    /// field marked required (shared structures, which responses use too, mark none).
    fn field(&mut self, f: &'a Field, prefix: &str, depth: usize) {
        let path = if prefix.is_empty() {
            f.api_name.clone()
        } else {
            format!("{prefix}.{}", f.api_name)
        };
        let required = self.params.then_some(match f.required {
            Required::Yes => "yes",
            Required::Conditional => "conditional",
            Required::No => "no",
        });
        let pattern = f.pattern().is_some();
        self.item(&path, &f.ty, required, pattern, depth);
    }

    fn item(
        &mut self,
        path: &str,
        ty: &'a Type,
        required: Option<&'static str>,
        pattern: bool,
        depth: usize,
    ) {
        self.out.push(ItemFacts {
            path: path.to_owned(),
            ty: self.wire_type(ty, 0),
            required,
            pattern,
        });
        self.children(path, ty, depth);
    }

    /// The entries for what `ty` contains: an object's fields, array items' and map values' fields.
    fn children(&mut self, path: &str, ty: &'a Type, depth: usize) {
        if depth >= MAX_DEPTH {
            return;
        }
        match ty {
            Type::Object { fields } => {
                for f in fields {
                    self.field(f, path, depth + 1);
                }
            }
            Type::Ref { key } => {
                if self.open.contains(&key) {
                    return;
                }
                if let Some(named) = self.api.types.get(key) {
                    self.open.push(key);
                    for f in &named.fields {
                        self.field(f, path, depth + 1);
                    }
                    self.open.pop();
                }
            }
            Type::Array { item } => self.children(&format!("{path}[]"), item, depth + 1),
            Type::Map { value } => self.children(&format!("{path}{{}}"), value, depth + 1),
            Type::Nullable { inner } => self.children(path, inner, depth),
            Type::Union { variants } => {
                // Each form's fields, once: objects of several forms share their paths.
                let before = self.out.len();
                for v in variants {
                    self.children(path, v, depth);
                }
                let mut seen = BTreeSet::new();
                let mut k = before;
                while k < self.out.len() {
                    if seen.insert(self.out[k].path.clone()) {
                        k += 1;
                    } else {
                        self.out.remove(k);
                    }
                }
            }
            Type::Scalar { .. } | Type::Untyped { .. } => {}
        }
    }

    /// The facts name of a type.
    fn wire_type(&self, ty: &Type, depth: usize) -> String {
        if depth > MAX_DEPTH {
            return "any".into();
        }
        match ty {
            Type::Scalar { scalar } => scalar_name(*scalar).into(),
            Type::Array { item } => format!("array<{}>", self.wire_type(item, depth + 1)),
            Type::Map { value } => format!("map<{}>", self.wire_type(value, depth + 1)),
            Type::Nullable { inner } => self.wire_type(inner, depth),
            Type::Object { .. } | Type::Ref { .. } => "object".into(),
            Type::Untyped { object: true, .. } => "object".into(),
            Type::Untyped { .. } => "any".into(),
            Type::Union { variants } => {
                let members: BTreeSet<String> = variants
                    .iter()
                    .map(|v| self.wire_type(v, depth + 1))
                    .collect();
                if members.len() == 1 {
                    members.into_iter().next().unwrap_or_default()
                } else {
                    let members: Vec<String> = members.into_iter().collect();
                    format!("union<{}>", members.join("|"))
                }
            }
        }
    }
}

/// The facts name of a scalar.
pub fn scalar_name(scalar: Scalar) -> &'static str {
    match scalar {
        Scalar::Integer | Scalar::Timestamp => "integer",
        Scalar::Double => "number",
        Scalar::String => "string",
        Scalar::Boolean => "boolean",
        Scalar::YesNo => "yn",
        Scalar::Date => "date",
        Scalar::DateTime => "datetime",
        Scalar::File => "file",
        Scalar::Any => "any",
    }
}
