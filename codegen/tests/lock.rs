//! `b24.lock`: the published API, kept across docs versions, and `diff` against it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use b24_codegen::lock::Lock;

fn page(title: &str, method: &str, params: &[(&str, &str)]) -> String {
    let mut rows = String::new();
    for (name, ty) in params {
        rows.push_str(&format!(
            "|| **{name}**\n[`{ty}`](../data-types.md) | Which {} to act on ||\n",
            name.trim_end_matches('*')
        ));
    }
    format!(
        "# {title} {method}\n\n> Scope: [`gadget`](../scopes.md)\n>\n\
         > Who can execute the method: any user\n\nThe method `{method}` acts on a gadget.\n\n\
         ## Method Parameters\n\n#|\n|| **Name**\n`type` | **Description** ||\n{rows}|#\n\n\
         ## Response Handling\n\nHTTP Status: **200**\n\n```json\n{{\n    \"result\": 7\n}}\n```\n\n\
         ### Returned Data\n\n#|\n|| **Name**\n`type` | **Description** ||\n\
         || **result**\n[`integer`](../data-types.md) | The gadget's identifier ||\n|#\n"
    )
}

fn dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Version 1: `gadget.moveto`, `gadget.drop` and `gadget.get`; version 2 spells
/// `gadget.moveTo`, has no `gadget.drop`, and gives `gadget.get` a required `id`.
fn docs(root: &Path, version: u32) -> PathBuf {
    let docs = root.join(format!("docs-v{version}"));
    let g = docs.join("api-reference/gadget");
    std::fs::create_dir_all(&g).unwrap();
    let write = |file: &str, text: String| std::fs::write(g.join(file), text).unwrap();
    if version == 1 {
        write(
            "gadget-move-to.md",
            page("Move a Gadget", "gadget.moveto", &[("id*", "integer")]),
        );
        write(
            "gadget-drop.md",
            page("Drop a Gadget", "gadget.drop", &[("id*", "integer")]),
        );
        write(
            "gadget-get.md",
            page("Get a Gadget", "gadget.get", &[("id", "integer")]),
        );
    } else {
        write(
            "gadget-move-to.md",
            page("Move a Gadget", "gadget.moveTo", &[("id*", "integer")]),
        );
        write(
            "gadget-get.md",
            page("Get a Gadget", "gadget.get", &[("id*", "integer")]),
        );
    }
    docs
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_b24-codegen"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn method<'a>(lock: &'a Lock, name: &str) -> &'a b24_codegen::lock::LockedMethod {
    lock.methods
        .iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("{name} not in the lock"))
}

#[test]
fn the_lock_records_rust_paths_and_wire_facts() {
    let root = dir("lock-facts");
    let v1 = docs(&root, 1);
    let file = root.join("b24.lock");
    let out = run(&[
        "lock",
        "update",
        s(&v1),
        "--lock",
        s(&file),
        "--docs-version",
        "v1",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lock = Lock::read(&file).unwrap();
    assert_eq!(lock.format, b24_codegen::lock::FORMAT);
    assert_eq!(lock.docs_version, "v1");
    let names: Vec<&str> = lock.methods.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["gadget.drop", "gadget.get", "gadget.moveto"]);
    let get = method(&lock, "gadget.get");
    assert_eq!(get.rust_path.as_deref(), Some("gadget::get"));
    assert_eq!(get.version, "v2");
    assert_eq!(get.access, "read");
    assert_eq!(get.source, "api-reference/gadget/gadget-get.md:1");
    assert_eq!(get.params.len(), 1);
    assert_eq!(get.params[0].path, "id");
    assert_eq!(get.params[0].rust_name.as_deref(), Some("id"));
    assert_eq!(get.params[0].signature, "integer");
    assert_eq!(get.params[0].required, "no");
    assert_eq!(
        get.params[0].source,
        "api-reference/gadget/gadget-get.md:14"
    );
    assert_eq!(get.result[0].path, "result");
    assert_eq!(get.result[0].signature, "integer");
    // The same docs give the same bytes.
    let again = root.join("again.lock");
    run(&[
        "lock",
        "update",
        s(&v1),
        "--lock",
        s(&again),
        "--docs-version",
        "v1",
    ]);
    assert_eq!(
        std::fs::read(&file).unwrap(),
        std::fs::read(&again).unwrap()
    );
}

#[test]
fn dropped_and_respelled_methods_stay_in_the_lock_deprecated() {
    let root = dir("lock-keep");
    let (v1, v2) = (docs(&root, 1), docs(&root, 2));
    let file = root.join("b24.lock");
    run(&[
        "lock",
        "update",
        s(&v1),
        "--lock",
        s(&file),
        "--docs-version",
        "v1",
    ]);

    // Against the lock, the new docs are what `diff v1 v2` says.
    let against_lock = run(&["diff", "--lock", s(&file), s(&v2)]);
    let against_docs = run(&["diff", s(&v1), s(&v2)]);
    assert_eq!(against_lock.status.code(), Some(1));
    let text = String::from_utf8(against_lock.stdout).unwrap();
    assert_eq!(text, String::from_utf8(against_docs.stdout).unwrap());
    assert!(
        text.starts_with("methods: 0 added, 1 removed, 1 renamed, 1 changed"),
        "{text}"
    );
    assert!(text.contains("semver: major"), "{text}");

    let out = run(&[
        "lock",
        "update",
        s(&v2),
        "--lock",
        s(&file),
        "--docs-version",
        "v2",
    ]);
    assert!(out.status.success());
    let lock = Lock::read(&file).unwrap();
    let dropped = method(&lock, "gadget.drop");
    assert_eq!(dropped.dropped_in.as_deref(), Some("v2"));
    assert!(dropped.deprecated.as_deref().unwrap().contains("v2"));
    assert_eq!(dropped.rust_path.as_deref(), Some("gadget::drop"));
    let old = method(&lock, "gadget.moveto");
    assert_eq!(old.renamed_to.as_deref(), Some("gadget.moveTo"));
    assert_eq!(old.rust_path.as_deref(), Some("gadget::moveto"));
    let new = method(&lock, "gadget.moveTo");
    assert_eq!(new.rust_path.as_deref(), Some("gadget::move_to"));
    assert_eq!(new.renamed_to, None);
    assert_eq!(method(&lock, "gadget.get").params[0].required, "yes");

    // Now the lock is the v2 API: nothing to report, and the kept entries are not news.
    let same = run(&["diff", "--lock", s(&file), s(&v2), "--json"]);
    assert_eq!(same.status.code(), Some(0));
    let d: serde_json::Value = serde_json::from_slice(&same.stdout).unwrap();
    assert_eq!(d["bump"], "patch", "{d:#}");
    assert_eq!(d["removed"].as_array().unwrap().len(), 0);

    // A later version keeps the version that dropped it.
    run(&[
        "lock",
        "update",
        s(&v2),
        "--lock",
        s(&file),
        "--docs-version",
        "v3",
    ]);
    let lock = Lock::read(&file).unwrap();
    assert_eq!(
        method(&lock, "gadget.drop").dropped_in.as_deref(),
        Some("v2")
    );
    assert_eq!(lock.docs_version, "v3");
}

#[test]
fn a_bad_lock_or_a_bad_command_line_is_refused() {
    let root = dir("lock-bad");
    let v1 = docs(&root, 1);
    let file = root.join("b24.lock");
    std::fs::write(
        &file,
        "{\"format\": 99, \"docs_version\": \"\", \"methods\": [], \"types\": []}",
    )
    .unwrap();
    let out = run(&["diff", "--lock", s(&file), s(&v1)]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("format 99"), "{err}");
    std::fs::write(&file, "not json").unwrap();
    let out = run(&["lock", "update", s(&v1), "--lock", s(&file)]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "not json",
        "left alone"
    );
    for args in [
        &["diff", "--lock", s(&file), s(&v1), s(&v1)][..],
        &["diff", s(&v1)],
        &["lock", "update", s(&v1)],
        &["lock", "frobnicate"],
    ] {
        assert_eq!(run(args).status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn generate_with_the_lock_keeps_every_published_rust_path() {
    let root = dir("lock-generate");
    let (v1, v2) = (docs(&root, 1), docs(&root, 2));
    let file = root.join("b24.lock");
    run(&[
        "lock",
        "update",
        s(&v1),
        "--lock",
        s(&file),
        "--docs-version",
        "v1",
    ]);
    run(&[
        "lock",
        "update",
        s(&v2),
        "--lock",
        s(&file),
        "--docs-version",
        "v2",
    ]);

    let plain = String::from_utf8(run(&["generate", s(&v2)]).stdout).unwrap();
    let out = run(&["generate", s(&v2), "--lock", s(&file)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let locked = String::from_utf8(out.stdout).unwrap();
    syn::parse_file(&locked).expect("valid Rust");
    for module in ["pub mod move_to", "pub mod get"] {
        assert!(
            plain.contains(module) && locked.contains(module),
            "{module}"
        );
    }
    // Without the lock the old paths are gone; with it they are there, deprecated.
    for (module, wire) in [
        ("pub mod moveto", "\"gadget.moveto\""),
        ("pub mod drop", "\"gadget.drop\""),
    ] {
        assert!(!plain.contains(module), "{module} without the lock");
        assert!(locked.contains(module), "{module} with the lock");
        assert!(locked.contains(wire), "{wire}");
    }
    assert!(locked.contains("renamed to `gadget.moveTo`"), "{locked}");
    assert!(locked.contains("dropped from the docs in version v2"));
    // The dropped method keeps its typed parameter.
    let lock = Lock::read(&file).unwrap();
    let mut api = b24_codegen::load(&v2);
    assert_eq!(lock.apply(&mut api).methods, 2);
    let dropped = api
        .methods
        .iter()
        .find(|m| m.name == "gadget.drop")
        .unwrap();
    assert_eq!(dropped.params[0].api_name, "id");
    assert_eq!(
        dropped.params[0].ty,
        b24_codegen::model::Type::scalar(b24_codegen::model::Scalar::Integer)
    );
    assert!(dropped.deprecated.is_some());
    // Applying twice adds nothing more.
    assert_eq!(lock.apply(&mut api).methods, 0);
}

#[test]
fn with_the_lock_kept_removals_and_respellings_are_deprecations() {
    let root = dir("lock-kept");
    let v1 = docs(&root, 1);
    let file = root.join("b24.lock");
    run(&[
        "lock",
        "update",
        s(&v1),
        "--lock",
        s(&file),
        "--docs-version",
        "v1",
    ]);
    // The next docs drop `gadget.drop` and respell `gadget.moveto`, nothing else.
    let next = root.join("docs-next");
    std::fs::create_dir_all(next.join("api-reference/gadget")).unwrap();
    for f in ["gadget-get.md", "gadget-move-to.md"] {
        let text = std::fs::read_to_string(v1.join("api-reference/gadget").join(f)).unwrap();
        std::fs::write(
            next.join("api-reference/gadget").join(f),
            text.replace("gadget.moveto", "gadget.moveTo"),
        )
        .unwrap();
    }
    let plain = run(&["diff", "--lock", s(&file), s(&next)]);
    assert_eq!(plain.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&plain.stdout).contains("semver: major"));

    let log = root.join("CHANGELOG.md");
    let kept = run(&[
        "diff",
        "--lock",
        s(&file),
        s(&next),
        "--kept",
        "--changelog",
        s(&log),
    ]);
    assert_eq!(kept.status.code(), Some(0), "not breaking");
    let text = String::from_utf8(kept.stdout).unwrap();
    assert!(text.contains("semver: minor"), "{text}");
    assert!(
        text.contains(
            "- gadget.drop (was api-reference/gadget/gadget-drop.md:1) [kept deprecated]"
        ),
        "{text}"
    );
    assert!(text.contains("> gadget.moveto → gadget.moveTo ("), "{text}");
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("### Deprecated"), "{log}");
    assert!(!log.contains("### Removed"), "{log}");
    assert!(!log.contains("**Breaking**"), "{log}");
    // `--kept` means nothing without a lock.
    assert_eq!(
        run(&["diff", s(&v1), s(&next), "--kept"]).status.code(),
        Some(2)
    );
}

#[test]
fn the_crate_of_the_next_release_keeps_the_published_paths_and_says_what_changed() {
    let root = dir("lock-crate");
    let (v1, v2) = (docs(&root, 1), docs(&root, 2));
    let out = root.join("crate");
    let first = run(&[
        "crate",
        s(&v1),
        "--out",
        s(&out),
        "--docs-version",
        "v1",
        "--crate-version",
        "0.1.0",
    ]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let lock = out.join("b24.lock");
    let second = run(&[
        "crate",
        s(&v2),
        "--out",
        s(&out),
        "--lock",
        s(&lock),
        "--docs-version",
        "v2",
        "--crate-version",
        "0.2.0",
    ]);
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let code = std::fs::read_to_string(out.join("src/gadget.rs")).unwrap();
    syn::parse_file(&code).expect("valid Rust");
    for module in ["pub mod move_to", "pub mod moveto", "pub mod drop"] {
        assert!(code.contains(module), "{module}");
    }
    assert!(code.contains("dropped from the docs in version v2"));
    // The lock written with the crate still has what v1 published.
    let written = Lock::read(&lock).unwrap();
    assert_eq!(written.docs_version, "v2");
    assert!(method(&written, "gadget.drop").dropped_in.is_some());
    // Both releases in the changelog, the newest first; the removal is a deprecation.
    let changelog = std::fs::read_to_string(out.join("CHANGELOG.md")).unwrap();
    let (new, old) = (
        changelog.find("## [0.2.0]").unwrap(),
        changelog.find("## [0.1.0]").unwrap(),
    );
    assert!(new < old, "{changelog}");
    let section = &changelog[new..old];
    let deprecated = section.find("### Deprecated").expect(section);
    assert!(section[deprecated..].contains("`gadget.drop`"), "{section}");
    assert!(
        section[deprecated..].contains("`gadget.moveto`"),
        "{section}"
    );
    // The one breaking change is the parameter that became required, not the kept paths.
    assert_eq!(section.matches("**Breaking**").count(), 1, "{section}");
    assert!(section.contains("**Breaking** (required changed): `gadget.get`"));
}
