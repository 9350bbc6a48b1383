//! The summary of a docs check (what `b24-codegen check` prints).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::diag::{DefectKind, Severity};
use crate::model::{Api, ApiVersion, ExampleKind, Field, PageKind, Type};

/// What a check found.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Pages read.
    pub pages: usize,
    /// Method pages.
    pub methods: usize,
    /// Method pages that produced a method.
    pub generated: usize,
    /// Method pages that produced no method.
    pub failed: usize,
    /// Pages that could not be read at all (not UTF-8 text, not a regular file, larger than
    /// the bound, outside the docs root, a symlink loop): each has an error diagnostic.
    pub unreadable: usize,
    /// Pages per kind.
    pub page_kinds: BTreeMap<String, usize>,
    /// Methods per API version.
    pub versions: BTreeMap<String, usize>,
    /// Methods marked deprecated.
    pub deprecated: usize,
    /// Methods that page with `start`/`next`.
    pub paged: usize,
    /// Fields (parameters and response fields, nested ones included) with a type.
    pub typed_fields: usize,
    /// Fields that fell back to an untyped value.
    pub untyped_fields: usize,
    /// Shared structures.
    pub shared_types: usize,
    /// Documented error codes.
    pub error_codes: usize,
    /// Examples per kind: found, valid JSON as written, mechanically repaired.
    pub examples: BTreeMap<String, ExampleCounts>,
    /// Event pages, the events read from them, and the fields of their `data`.
    pub events: PageCounts,
    /// Placement pages, the placements read from them, and the fields of their options.
    pub placements: PageCounts,
    /// Docs defects per kind.
    pub defects: BTreeMap<String, usize>,
    /// Every diagnostic.
    pub diagnostics: Vec<DiagnosticEntry>,
}

impl Summary {
    /// True when every page was read and every method page produced a method (what
    /// `b24-codegen check` and `generate` exit with).
    pub fn passed(&self) -> bool {
        self.failed == 0 && self.unreadable == 0
    }
}

/// Counts of one kind of example.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ExampleCounts {
    /// Examples found.
    pub found: usize,
    /// Valid JSON as written.
    pub valid: usize,
    /// Valid after a mechanical repair.
    pub repaired: usize,
    /// Not JSON even after a repair.
    pub invalid: usize,
}

/// Pages of one kind (events, placements) and what they gave.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PageCounts {
    /// Pages of the kind.
    pub pages: usize,
    /// Events or placements read from them (a page naming none gives a `no_event_name` defect).
    pub generated: usize,
    /// Fields (nested ones included) with a type.
    pub typed_fields: usize,
    /// Fields that fell back to an untyped value.
    pub untyped_fields: usize,
}

/// One diagnostic, flat for JSON.
#[derive(Clone, Debug, Serialize)]
pub struct DiagnosticEntry {
    /// The file.
    pub file: String,
    /// The 1-based line.
    pub line: u32,
    /// `error` or `defect`.
    pub severity: Severity,
    /// The kind, snake_case.
    pub kind: String,
    /// What is wrong.
    pub message: String,
}

/// Summarises what loading found.
pub fn summary(api: &Api) -> Summary {
    let mut page_kinds = BTreeMap::new();
    for p in &api.pages {
        *page_kinds.entry(kind_name(p.kind).to_owned()).or_insert(0) += 1;
    }
    let method_pages = api
        .pages
        .iter()
        .filter(|p| p.kind == PageKind::Method)
        .count();
    let failed_pages: std::collections::BTreeSet<&str> = api
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.source.file.as_ref())
        .collect();
    let failed = api
        .pages
        .iter()
        .filter(|p| p.kind == PageKind::Method && failed_pages.contains(p.source.file.as_ref()))
        .count();
    // A page that cannot be read has one error of these kinds (as defects they are about
    // included or linked files).
    let unreadable = api
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .filter(|d| {
            matches!(
                d.kind,
                DefectKind::Io | DefectKind::Limit | DefectKind::OutsideRoot
            )
        })
        .count();
    let mut versions = BTreeMap::new();
    let mut typed = 0;
    let mut untyped = 0;
    let mut examples: BTreeMap<String, ExampleCounts> = BTreeMap::new();
    for m in &api.methods {
        let v = match m.version {
            ApiVersion::V2 => "v2",
            ApiVersion::V3 => "v3",
        };
        *versions.entry(v.to_owned()).or_insert(0) += 1;
        count_fields(&m.params, &mut typed, &mut untyped);
        count_type(&m.result, &mut typed, &mut untyped);
        for e in &m.examples {
            let k = match e.kind {
                ExampleKind::Request => "request",
                ExampleKind::Response => "response",
                ExampleKind::Error => "error",
            };
            let c = examples.entry(k.to_owned()).or_default();
            c.found += 1;
            match (&e.json, e.repaired) {
                (Some(_), false) => c.valid += 1,
                (Some(_), true) => c.repaired += 1,
                (None, _) => c.invalid += 1,
            }
        }
    }
    for t in api.types.values() {
        count_fields(&t.fields, &mut typed, &mut untyped);
    }
    let pages_of = |kind| api.pages.iter().filter(|p| p.kind == kind).count();
    let mut events = PageCounts {
        pages: pages_of(PageKind::Event),
        generated: api.events.len(),
        ..PageCounts::default()
    };
    for e in &api.events {
        count_type(
            &e.data,
            &mut events.typed_fields,
            &mut events.untyped_fields,
        );
    }
    let mut placements = PageCounts {
        pages: pages_of(PageKind::Placement),
        generated: api.placements.len(),
        ..PageCounts::default()
    };
    for p in &api.placements {
        count_fields(
            &p.options,
            &mut placements.typed_fields,
            &mut placements.untyped_fields,
        );
    }
    let mut defects = BTreeMap::new();
    for d in &api.diagnostics {
        *defects.entry(d.kind.as_str().to_owned()).or_insert(0) += 1;
    }
    Summary {
        pages: api.pages.len(),
        methods: method_pages,
        generated: method_pages - failed,
        failed,
        unreadable,
        page_kinds,
        versions,
        deprecated: api
            .methods
            .iter()
            .filter(|m| m.deprecated.is_some())
            .count(),
        paged: api.methods.iter().filter(|m| m.paging.is_some()).count(),
        typed_fields: typed,
        untyped_fields: untyped,
        shared_types: api.types.len(),
        error_codes: api.methods.iter().map(|m| m.errors.len()).sum(),
        examples,
        events,
        placements,
        defects,
        diagnostics: api
            .diagnostics
            .iter()
            .map(|d| DiagnosticEntry {
                file: d.source.file.to_string(),
                line: d.source.line,
                severity: d.severity,
                kind: d.kind.as_str().to_owned(),
                message: d.message.clone(),
            })
            .collect(),
    }
}

fn kind_name(kind: PageKind) -> &'static str {
    match kind {
        PageKind::Method => "method",
        PageKind::Event => "event",
        PageKind::Placement => "placement",
        PageKind::Interface => "interface",
        PageKind::Overview => "overview",
    }
}

/// Counts fields: a field is untyped when its type (under arrays and `null`) is untyped.
fn count_fields(fields: &[Field], typed: &mut usize, untyped: &mut usize) {
    for f in fields {
        if is_untyped(&f.ty) {
            *untyped += 1;
        } else {
            *typed += 1;
        }
        count_type(&f.ty, typed, untyped);
    }
}

/// Counts the fields nested in a type (not the type itself).
fn count_type(ty: &Type, typed: &mut usize, untyped: &mut usize) {
    match ty {
        Type::Object { fields } => count_fields(fields, typed, untyped),
        Type::Array { item } => count_type(item, typed, untyped),
        Type::Nullable { inner } => count_type(inner, typed, untyped),
        Type::Map { value } => count_type(value, typed, untyped),
        Type::Union { variants } => {
            for v in variants {
                count_type(v, typed, untyped);
            }
        }
        _ => {}
    }
}

fn is_untyped(ty: &Type) -> bool {
    match ty {
        Type::Untyped { .. } => true,
        Type::Array { item } => is_untyped(item),
        Type::Nullable { inner } => is_untyped(inner),
        _ => false,
    }
}

/// The human-readable report: diagnostics per page with file:line, then the summary.
pub fn render_text(summary: &Summary) -> String {
    let mut out = String::new();
    let mut current = "";
    for d in &summary.diagnostics {
        if d.file != current {
            current = &d.file;
            let _ = writeln!(out, "{current}");
        }
        let level = match d.severity {
            Severity::Error => "error",
            Severity::Defect => "defect",
        };
        let _ = writeln!(
            out,
            "  {}:{}: {level}[{}]: {}",
            d.file, d.line, d.kind, d.message
        );
    }
    if !summary.diagnostics.is_empty() {
        out.push('\n');
    }
    let kinds: Vec<String> = summary
        .page_kinds
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    let _ = writeln!(out, "pages: {} ({})", summary.pages, kinds.join(", "));
    let _ = writeln!(
        out,
        "method pages: {}, generated {}, failed {}",
        summary.methods, summary.generated, summary.failed
    );
    if summary.unreadable > 0 {
        let _ = writeln!(out, "pages that could not be read: {}", summary.unreadable);
    }
    let versions: Vec<String> = summary
        .versions
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    let _ = writeln!(
        out,
        "methods: {}; deprecated {}; paged {}",
        versions.join(", "),
        summary.deprecated,
        summary.paged
    );
    let total = summary.typed_fields + summary.untyped_fields;
    let pct = if total == 0 {
        0.0
    } else {
        summary.untyped_fields as f64 * 100.0 / total as f64
    };
    let _ = writeln!(
        out,
        "fields: {} typed, {} untyped ({pct:.1}%); shared types {}; error codes {}",
        summary.typed_fields, summary.untyped_fields, summary.shared_types, summary.error_codes
    );
    for (what, c) in [
        ("event", &summary.events),
        ("placement", &summary.placements),
    ] {
        let _ = writeln!(
            out,
            "{what} pages: {}, generated {}; fields {} typed, {} untyped",
            c.pages, c.generated, c.typed_fields, c.untyped_fields
        );
    }
    for (k, c) in &summary.examples {
        let _ = writeln!(
            out,
            "{k} examples: {} found, {} valid, {} repaired, {} invalid",
            c.found, c.valid, c.repaired, c.invalid
        );
    }
    if !summary.defects.is_empty() {
        let defects: Vec<String> = summary
            .defects
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        let _ = writeln!(out, "defects: {}", defects.join(", "));
    }
    out
}
