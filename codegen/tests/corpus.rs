//! Loads real docs: the upstream corpus (`B24_DOCS_DIR`, default `../shared/b24restdocs`
//! beside the repo), the seed page and our own `docs/`. Each test skips with a message when its
//! input is absent.

use std::path::{Path, PathBuf};

use b24_codegen::check::summary;
use b24_codegen::model::{PageKind, Required, Scalar, Type};
use b24_codegen::{load, Severity};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn corpus_dir() -> PathBuf {
    match std::env::var_os("B24_DOCS_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => repo_root().join("../shared/b24restdocs"),
    }
}

#[test]
fn whole_corpus_loads_every_method_page() {
    let dir = corpus_dir();
    if !dir.is_dir() {
        eprintln!(
            "skipped: no docs corpus at {} (set B24_DOCS_DIR)",
            dir.display()
        );
        return;
    }
    let api = load(&dir);
    let s = summary(&api);
    let errors: Vec<String> = api
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "pages that could not be read: {errors:#?}"
    );
    assert_eq!(s.failed, 0);
    assert_eq!(s.generated, s.methods);
    // Every method page yields a method (duplicates of one name and version aside).
    let method_pages = api
        .pages
        .iter()
        .filter(|p| p.kind == PageKind::Method)
        .count();
    assert!(api.methods.len() * 100 >= method_pages * 99);
    // Plausible classification of a docs tree of this size.
    let kind = |k: &str| s.page_kinds.get(k).copied().unwrap_or(0);
    assert!(kind("method") > 1000, "{:?}", s.page_kinds);
    assert!(kind("event") > 100, "{:?}", s.page_kinds);
    assert!(kind("placement") > 30, "{:?}", s.page_kinds);
    assert!(kind("overview") > 200, "{:?}", s.page_kinds);
    assert!(
        s.versions.get("v3").copied().unwrap_or(0) > 50,
        "{:?}",
        s.versions
    );
    assert!(s.deprecated > 100);
    // Untyped fields stay under 5% of all fields.
    let total = s.typed_fields + s.untyped_fields;
    assert!(
        s.untyped_fields * 20 <= total,
        "{} untyped of {total}",
        s.untyped_fields
    );
    // Every diagnostic points at a line of a file.
    for d in &api.diagnostics {
        assert!(!d.source.file.is_empty(), "{d}");
    }
    // Shared structures are named after their sections; names that collide are resolved by
    // the generator, by where the docs define them (tests/names.rs), so the model's may repeat.
    for t in api.types.values() {
        assert!(
            t.rust_name
                .starts_with(|c: char| c.is_ascii_uppercase() || c == '_'),
            "{}",
            t.rust_name
        );
    }
    // Rust names are unique within each parameter list.
    for m in &api.methods {
        let mut seen = std::collections::HashSet::new();
        for p in &m.params {
            assert!(seen.insert(&p.rust_name), "{} {}", m.name, p.rust_name);
        }
    }
}

#[test]
fn seed_page_is_a_complete_method() {
    let seed = repo_root().join("../shared/seed/000_f99650f274d833a2.txt");
    if !seed.is_file() {
        eprintln!("skipped: no seed page at {}", seed.display());
        return;
    }
    let api = load(&seed);
    assert_eq!(api.methods.len(), 1);
    let m = &api.methods[0];
    assert_eq!(m.name, "crm.activity.badge.add");
    assert_eq!(m.title, "Add Badge");
    assert_eq!(m.scopes, vec!["crm"]);
    assert_eq!(
        m.who_can_call.as_deref(),
        Some("users with administrative access to the crm section")
    );
    assert!(m.description.contains("adds a new badge"));
    assert_eq!(m.source.line, 1);
    let names: Vec<&str> = m.params.iter().map(|p| p.api_name.as_str()).collect();
    assert_eq!(names, ["code", "title", "value", "type"]);
    assert!(m.params.iter().all(|p| p.required == Required::Yes));
    assert_eq!(m.params[3].rust_name, "r#type");
    assert_eq!(m.params[0].ty, Type::scalar(Scalar::String));
    assert!(matches!(&m.params[1].ty, Type::Union { variants } if variants.len() == 2));
    assert_eq!(m.params[0].source.line, 15);
    // The result is nested from the example: `result.badge` is an object of four strings.
    let Type::Object { fields } = &m.result else {
        panic!("result should be an object: {:?}", m.result)
    };
    assert_eq!(fields[0].api_name, "badge");
    let Type::Object { fields: badge } = &fields[0].ty else {
        panic!("badge should be an object")
    };
    assert_eq!(badge.len(), 4);
    let codes: Vec<&str> = m.errors.iter().map(|e| e.code.as_str()).collect();
    assert_eq!(codes, ["ACCESS_DENIED", "REQUIRED_ARG_MISSING"]);
    assert_eq!(m.errors[0].source.line, 195);
    let request = m
        .examples
        .iter()
        .find(|e| e.kind == b24_codegen::model::ExampleKind::Request)
        .and_then(|e| e.json.clone());
    assert_eq!(
        request,
        Some(
            serde_json::json!({"code": "missedCall", "title": "Call Status", "value": "Missed", "type": "failure"})
        )
    );
    assert!(m.paging.is_none());
    assert_eq!(m.access, b24_codegen::model::Access::Write);
    // The seed is read alone: its includes are missing and reported, nothing else.
    assert!(api
        .diagnostics
        .iter()
        .all(|d| d.kind == b24_codegen::DefectKind::MissingInclude));
}

#[test]
fn our_docs_generate_every_page() {
    let docs = repo_root().join("docs");
    if !docs.is_dir() {
        eprintln!("skipped: no docs/ folder");
        return;
    }
    let api = load(&docs);
    let s = summary(&api);
    assert_eq!(s.failed, 0, "{:#?}", s.diagnostics);
    assert!(api
        .diagnostics
        .iter()
        .all(|d| d.severity != Severity::Error));
    for name in ["crm.item.add", "crm.activity.badge.add"] {
        if let Some(m) = api.methods.iter().find(|m| m.name == name) {
            assert!(!m.params.is_empty(), "{name} has parameters");
        }
    }
    // `crm.item.add` takes `fields`, an object described in its `{#fields}` section.
    if let Some(m) = api.methods.iter().find(|m| m.name == "crm.item.add") {
        let fields = m.params.iter().find(|p| p.api_name == "fields");
        if let Some(f) = fields {
            assert!(
                matches!(&f.ty, Type::Object { fields } if fields.len() >= 3)
                    || matches!(&f.ty, Type::Ref { .. }),
                "{:?}",
                f.ty
            );
        }
    }
    // Every file read is a real path, so the macro can depend on it.
    assert!(api.files_read.iter().all(|p| p.is_file()));
}
