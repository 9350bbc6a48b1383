//! Snapshot tests of the generated code: the seed's family from our own `docs/`, formatted as
//! `b24-codegen generate` writes it. A change to the generator shows up here as a diff to review
//! (`cargo insta review`, or `INSTA_UPDATE=always cargo test -p b24-codegen --test generated`).

use std::path::Path;

use b24_codegen::{generate, load, render, Options, Severity};

fn docs(relative: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs")
        .join(relative)
}

fn generated(relative: &str) -> String {
    let api = load(&docs(relative));
    let errors: Vec<String> = api
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(ToString::to_string)
        .collect();
    assert!(errors.is_empty(), "pages failed: {errors:#?}");
    render(&generate(&api, &Options::default()))
}

#[test]
fn badge_family() {
    insta::assert_snapshot!(generated(
        "api-reference/crm/timeline/activities/configurable/badges"
    ));
}

#[test]
fn user_current() {
    insta::assert_snapshot!(generated("api-reference/user"));
}

#[test]
fn selecting_methods_leaves_the_others_out() {
    let api = load(&docs("api-reference/crm/universal"));
    let options = Options {
        only: vec!["crm.item.get".into()],
        ..Options::default()
    };
    let code = render(&generate(&api, &options));
    assert!(code.contains("pub mod get"));
    for other in ["add", "list", "update", "delete"] {
        assert!(
            !code.contains(&format!("pub mod {other} ")),
            "crm.item.{other} was not selected"
        );
    }
}

#[test]
fn every_page_of_our_docs_generates_code_that_parses() {
    let api = load(&docs(""));
    let methods: Vec<&str> = api.methods.iter().map(|m| m.name.as_str()).collect();
    for expected in [
        "crm.activity.badge.add",
        "crm.activity.badge.get",
        "crm.activity.badge.list",
        "crm.activity.badge.delete",
        "user.current",
        "crm.item.add",
        "crm.item.get",
        "crm.item.list",
        "crm.item.update",
        "crm.item.delete",
    ] {
        assert!(
            methods.contains(&expected),
            "{expected} missing: {methods:?}"
        );
    }
    let code = render(&generate(&api, &Options::default()));
    syn::parse_file(&code).expect("the generated code is valid Rust");
}
