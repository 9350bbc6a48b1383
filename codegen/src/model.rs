//! The model of the API: what one docs tree says about its methods.
//!
//! Everything downstream (the generator, the CLI, the emulator) reads this model and nothing
//! else. Every item keeps the [`Source`] it came from, so a diagnostic or a generated doc
//! comment can always point back at the page and line.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::diag::Diagnostic;

/// A place in the docs: a file (as a path relative to the docs root, or as given) and a 1-based line.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Source {
    /// The file, as it should be shown to a person.
    pub file: Arc<str>,
    /// The 1-based line number; 0 when the whole file is meant.
    pub line: u32,
}

impl Source {
    /// A place in `file` at `line`.
    pub fn new(file: impl Into<Arc<str>>, line: u32) -> Self {
        Source {
            file: file.into(),
            line,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// Everything read from one docs tree (or one page).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Api {
    /// Every method, in a stable order (by name, then version).
    pub methods: Vec<Method>,
    /// Structures shared by several methods, keyed by [`TypeKey`].
    pub types: BTreeMap<TypeKey, NamedType>,
    /// Every event the docs describe, in a stable order (by name).
    pub events: Vec<Event>,
    /// Every placement (widget) the docs describe, in a stable order (by name).
    pub placements: Vec<Placement>,
    /// Every page read, with what kind of page it is.
    pub pages: Vec<PageInfo>,
    /// Everything wrong or doubtful found while reading.
    pub diagnostics: Vec<Diagnostic>,
    /// Every file read (pages and includes), as filesystem paths, so a build can be
    /// made to depend on them.
    #[serde(skip)]
    pub files_read: Vec<std::path::PathBuf>,
}

/// One page of the docs and what it was classified as.
#[derive(Clone, Debug, Serialize)]
pub struct PageInfo {
    /// Where the page is.
    pub source: Source,
    /// What kind of page it is.
    pub kind: PageKind,
    /// The method name, for method pages.
    pub method: Option<String>,
}

/// The kinds of page in the docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PageKind {
    /// Documents one REST method.
    Method,
    /// Documents an event the portal sends to an application.
    Event,
    /// Documents a placement (widget) where an application embeds its UI.
    Placement,
    /// Documents the JS interface of a widget's frame (a `BX24.*` function, an interface
    /// command or event): it runs in the browser, not over REST, so nothing is generated.
    Interface,
    /// An overview, a field reference, a how-to or an index page.
    Overview,
}

/// The two REST protocol versions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiVersion {
    /// Classic REST: `/rest/{method}.json`.
    V2,
    /// REST 3.0: `/rest/api/{method}`, unified response and error format.
    V3,
}

/// Whether a method only reads or may change data. It decides whether a call may be re-sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Reads only (`get`, `list`, `fields`, ...): safe to retry.
    Read,
    /// Changes data: never re-sent unless the server proved it did not run it.
    Write,
}

/// One REST method.
#[derive(Clone, Debug, Serialize)]
pub struct Method {
    /// The REST name, e.g. `crm.activity.badge.add`.
    pub name: String,
    /// Classic or REST 3.0.
    pub version: ApiVersion,
    /// The page title without the method name, e.g. `Add Badge`.
    pub title: String,
    /// The description: the page's prose before the parameters, as Markdown.
    pub description: String,
    /// Scopes (permissions) the method needs, e.g. `crm`.
    pub scopes: Vec<String>,
    /// Who may call the method, as the page says it.
    pub who_can_call: Option<String>,
    /// `Some(note)` when the page marks the method outdated or deprecated.
    pub deprecated: Option<String>,
    /// Reads or writes.
    pub access: Access,
    /// The request parameters.
    pub params: Vec<Field>,
    /// The shape of `result` in a successful response.
    pub result: Type,
    /// Where the items of a page are, for methods that page with `start`/`next`.
    pub paging: Option<Paging>,
    /// The documented error codes.
    pub errors: Vec<ErrorCode>,
    /// The examples on the page: request bodies and responses.
    pub examples: Vec<Example>,
    /// The page's H1 line.
    pub source: Source,
}

/// How a list method pages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Paging {
    /// The key inside `result` that holds the array of items, or `None` when `result` is the array.
    pub items_key: Option<String>,
}

/// A named field of a request or of an object.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Field {
    /// The name on the wire, exactly as the docs write it.
    pub api_name: String,
    /// A valid, collision-free Rust identifier for it (raw identifiers as `r#type`).
    pub rust_name: String,
    /// The type as the docs write it (e.g. `crm_status`, `string|array`), for the docs.
    pub doc_type: String,
    /// The resolved type.
    pub ty: Type,
    /// Whether callers must send it.
    pub required: Required,
    /// The description, as Markdown.
    pub description: String,
    /// Where the field is described.
    pub source: Source,
    /// Why the field is deprecated: set for a field the docs dropped that a lock of the
    /// published API keeps ([`crate`]'s `lock` module), so code using it still compiles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprecated: Option<String>,
}

impl Field {
    /// The family of keys this row stands for, when its name is a pattern (`UF_CRM_...`,
    /// `UF_*`, `PARENT_ID_...`, `propertyN`, `PROPERTY_PropertyId`) rather than one key.
    pub fn pattern(&self) -> Option<KeyPattern> {
        KeyPattern::of(&self.api_name)
    }
}

/// A family of keys named by a pattern row: every key that starts with `prefix` and goes on
/// (with digits only, for `fieldN` patterns).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPattern {
    /// What every key of the family starts with.
    pub prefix: String,
    /// True when the rest of a key is a number (`propertyN`: `property12`).
    pub digits: bool,
}

impl KeyPattern {
    /// The pattern a row name writes, if it is one.
    pub fn of(name: &str) -> Option<KeyPattern> {
        let name = name.trim();
        let marks = ["...", "…", "*", "{", "<", "[N]"];
        if let Some(cut) = marks.iter().filter_map(|m| name.find(m)).min() {
            let prefix = name[..cut].to_owned();
            return (!prefix.is_empty()).then_some(KeyPattern {
                prefix,
                digits: false,
            });
        }
        // `propertyN`, `fieldN`: a lowercase word with a placeholder `N` for a number.
        if let Some(stem) = name.strip_suffix('N') {
            if stem.len() >= 2 && stem.ends_with(|c: char| c.is_ascii_lowercase()) {
                return Some(KeyPattern {
                    prefix: stem.to_owned(),
                    digits: true,
                });
            }
        }
        // `PROPERTY_PropertyId`: an upper-case prefix and a placeholder in another case.
        if let Some((head, tail)) = name.split_once('_') {
            let upper = |s: &str| {
                !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            };
            let placeholder = tail.starts_with(|c: char| c.is_ascii_uppercase())
                && tail.chars().any(|c| c.is_ascii_lowercase())
                && !tail.contains('_');
            if upper(head) && placeholder {
                return Some(KeyPattern {
                    prefix: format!("{head}_"),
                    digits: false,
                });
            }
        }
        None
    }

    /// Whether `key` belongs to the family.
    pub fn matches(&self, key: &str) -> bool {
        match key.strip_prefix(self.prefix.as_str()) {
            Some(rest) if !rest.is_empty() => {
                !self.digits || rest.bytes().all(|b| b.is_ascii_digit())
            }
            _ => false,
        }
    }
}

/// True for a key that names one portal's own field rather than a documented one: a custom
/// field (`UF_CRM_1721244482250`, `ufCrm_5_1690000000`), a list property (`PROPERTY_951`,
/// `property259`) or a relation to a smart process (`PARENT_ID_1220`, `parentId1220`), by the
/// prefixes the docs give these families and the number the portal gave the field.
pub fn is_portal_key(key: &str) -> bool {
    const FAMILIES: &[&str] = &[
        "UF_",
        "uf",
        "PROPERTY_",
        "property",
        "PARENT_ID_",
        "parentId",
    ];
    let digits = key.bytes().rev().take_while(u8::is_ascii_digit).count();
    digits >= 3
        && FAMILIES.iter().any(|f| {
            key.starts_with(f)
                && key[f.len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        })
}

/// Whether a parameter must be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Required {
    /// Marked `*`.
    Yes,
    /// Marked `**` (a footnote: required in some cases only).
    Conditional,
    /// Not marked.
    No,
}

/// A type, as a small algebra.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Type {
    /// A scalar from the docs' dictionary.
    Scalar {
        /// Which scalar.
        scalar: Scalar,
    },
    /// `T[]`, `array` of a known item type.
    Array {
        /// The item type.
        item: Box<Type>,
    },
    /// `A | B`: one of several forms.
    Union {
        /// The forms, in the docs' order, without `null`.
        variants: Vec<Type>,
    },
    /// `T | null`.
    Nullable {
        /// The non-null type.
        inner: Box<Type>,
    },
    /// A structure described in place.
    Object {
        /// Its fields, in the docs' order.
        fields: Vec<Field>,
    },
    /// An object used as a map from open keys (filters, custom fields, `{id: value}` maps).
    Map {
        /// The value type.
        value: Box<Type>,
    },
    /// A shared structure in [`Api::types`].
    Ref {
        /// Its key.
        key: TypeKey,
    },
    /// Something the docs leave vague: kept as raw JSON, counted and reported.
    Untyped {
        /// Why it could not be typed.
        reason: String,
        /// True when the docs say it is an object, and no more: its fields are not described.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        object: bool,
    },
}

impl Type {
    /// A scalar type.
    pub fn scalar(scalar: Scalar) -> Self {
        Type::Scalar { scalar }
    }

    /// An untyped node with a reason.
    pub fn untyped(reason: impl Into<String>) -> Self {
        Type::Untyped {
            reason: reason.into(),
            object: false,
        }
    }

    /// An object the docs name without describing its fields.
    pub fn untyped_object(reason: impl Into<String>) -> Self {
        Type::Untyped {
            reason: reason.into(),
            object: true,
        }
    }

    /// `[item]`.
    pub fn array(item: Type) -> Self {
        Type::Array {
            item: Box::new(item),
        }
    }

    /// True for an [`Type::Untyped`] node.
    pub fn is_untyped(&self) -> bool {
        matches!(self, Type::Untyped { .. })
    }
}

/// The scalars of the docs' type dictionary (`data-types.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scalar {
    /// `integer` and integer references (ids of users, CRM items, ...): numbers or numeric strings.
    Integer,
    /// `double`: numbers or numeric strings.
    Double,
    /// `string`, `text` and string references (status ids, codes).
    String,
    /// `boolean`: JSON `true`/`false` on the wire (read leniently: `Y`/`N`, `1`/`0` too).
    Boolean,
    /// `char` flags holding `Y` or `N` (read leniently: `true`/`false`, `1`/`0` too).
    YesNo,
    /// `date`: `YYYY-MM-DD`.
    Date,
    /// `datetime`: `YYYY-MM-DDThh:mm:ss±hh:mm`.
    DateTime,
    /// `timestamp`: Unix seconds.
    Timestamp,
    /// `file`: an id or a file description.
    File,
    /// `any`: documented as accepting any JSON.
    Any,
}

/// The key of a shared structure: the page it is described on and the section anchor.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct TypeKey(pub String);

impl fmt::Display for TypeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A structure described once and used by several methods.
#[derive(Clone, Debug, Serialize)]
pub struct NamedType {
    /// The name the docs give it (after its section's anchor or title), e.g. `UfEnumElement`.
    /// Not unique: the generator qualifies names that collide by the page's path, so that a
    /// name depends only on where the docs define the structure.
    pub rust_name: String,
    /// The section heading it comes from.
    pub title: String,
    /// The section's prose.
    pub description: String,
    /// The fields.
    pub fields: Vec<Field>,
    /// The section heading.
    pub source: Source,
}

/// A documented error.
#[derive(Clone, Debug, Serialize)]
pub struct ErrorCode {
    /// The code as the table writes it (`ACCESS_DENIED`, `0`, `Empty value`, ...).
    pub code: String,
    /// How an answer of the server is recognised as this error.
    pub matcher: ErrorMatch,
    /// The HTTP status, where the table gives one.
    pub status: Option<u16>,
    /// The error message the server sends, where the table gives it.
    pub message: Option<String>,
    /// What it means, as Markdown.
    pub description: String,
    /// The table row.
    pub source: Source,
    /// Why the error is deprecated: set for a code the docs dropped that a lock of the
    /// published API keeps, so code matching its variant still compiles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprecated: Option<String>,
}

/// How an error answer is recognised as a documented error.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(tag = "match", content = "text", rename_all = "snake_case")]
pub enum ErrorMatch {
    /// The answer's `error` (REST 3.0: `error.code`) is this code.
    Code(String),
    /// The code carries no meaning (empty, `0`, `100`) and the description is this text
    /// (compared without surrounding whitespace, a trailing period or a trailing `<br>`).
    Exact(String),
    /// As [`ErrorMatch::Exact`], but the server adds details after this text.
    Prefix(String),
    /// The row describes errors no fixed text identifies ("other errors", a text that starts
    /// with its variable part, an explanation rather than the server's words).
    None,
}

/// An example on the page.
#[derive(Clone, Debug, Serialize)]
pub struct Example {
    /// What the example shows.
    pub kind: ExampleKind,
    /// The JSON text as written on the page.
    pub text: String,
    /// The parsed JSON (after a mechanical repair, see `repaired`), or `None` when it is not JSON.
    pub json: Option<serde_json::Value>,
    /// True when comments, `...` or trailing commas had to be removed to read it.
    pub repaired: bool,
    /// Where the example starts.
    pub source: Source,
}

/// The kinds of example.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExampleKind {
    /// A request body (the `-d` of a cURL example).
    Request,
    /// A successful response.
    Response,
    /// An error response.
    Error,
}

/// An event the portal sends to a handler (`ONCRMDEALADD`), from its page.
#[derive(Clone, Debug, Serialize)]
pub struct Event {
    /// The event code as the portal sends it in `event` (matched without regard to case).
    pub name: String,
    /// The name the Rust type is made from: the title's spelling of the code (`onCrmDealAdd`).
    pub type_name: String,
    /// The page title without the code, e.g. `Event When Creating a Deal`.
    pub title: String,
    /// The description: the page's prose before its first section, as Markdown.
    pub description: String,
    /// The scopes the page names; the first one is the Rust module (`events::crm`).
    pub scopes: Vec<String>,
    /// Who may subscribe, as the page says it.
    pub who_can_subscribe: Option<String>,
    /// The shape of `data` in the event (the envelope and its `auth` block are the runtime's).
    pub data: Type,
    /// The examples of the payload on the page.
    pub examples: Vec<Example>,
    /// The page's H1 line.
    pub source: Source,
    /// Why the event is deprecated: set for an event the docs dropped that a lock of the
    /// published API keeps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprecated: Option<String>,
}

/// A placement (a place in the portal's interface where an application embeds a widget),
/// from its page.
#[derive(Clone, Debug, Serialize)]
pub struct Placement {
    /// The placement code as the title writes it (`CRM_XXX_DETAIL_TAB`, `LANDING_BLOCK_*`).
    pub name: String,
    /// Every placement code the page's code table lists (`CRM_DEAL_DETAIL_TAB`, ...).
    pub codes: Vec<String>,
    /// The page title without the code.
    pub title: String,
    /// The description: the page's prose before its first section, as Markdown.
    pub description: String,
    /// The scopes the page names.
    pub scopes: Vec<String>,
    /// The fields of `PLACEMENT_OPTIONS`, the call context the handler receives.
    pub options: Vec<Field>,
    /// The examples of `PLACEMENT_OPTIONS` on the page (JSON objects with a documented
    /// option's key).
    pub examples: Vec<Example>,
    /// The page's H1 line.
    pub source: Source,
}
