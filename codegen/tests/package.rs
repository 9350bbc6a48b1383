//! `b24-codegen crate`: a feature per top-level module, each in its own file, the rest in
//! `lib.rs`; written twice, byte for byte the same. (Building the crate with some features and
//! with `full` is CI's job: `.ci/run` builds one from the upstream corpus.)

use std::path::{Path, PathBuf};

use b24_codegen::package::{write_package, Package, Runtime};
use quote::ToTokens;

fn docs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs")
}

fn package() -> Package {
    Package {
        name: "our-bindings".into(),
        version: "1.2.3".into(),
        docs_version: "ours".into(),
        runtime: Runtime::Version("0.1".into()),
        previous: None,
    }
}

fn out(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn every_top_level_module_is_a_feature_in_its_own_file() {
    let api = b24_codegen::load(&docs());
    let dir = out("package-features");
    let written = write_package(&api, &package(), &dir).unwrap();
    for feature in ["crm", "user", "events"] {
        assert!(
            written.features.get(feature).is_some_and(|n| *n > 0),
            "{feature}: {:?}",
            written.features
        );
    }
    let lib = read(&dir, "src/lib.rs");
    syn::parse_file(&lib).expect("lib.rs is Rust");
    let manifest = read(&dir, "Cargo.toml");
    let manifest: toml::Table = manifest.parse().expect("Cargo.toml is TOML");
    let features = manifest["features"].as_table().unwrap();
    let full: Vec<&str> = features["full"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(
        full,
        written
            .features
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    assert_eq!(
        manifest["dependencies"]["b24-runtime"]["version"].as_str(),
        Some("0.1")
    );
    for feature in written.features.keys() {
        assert!(features.contains_key(feature), "{feature}");
        let declaration = format!("#[cfg(feature = \"{feature}\")]");
        assert!(lib.contains(&declaration), "{declaration}");
        let file = read(&dir, &format!("src/{feature}.rs"));
        let parsed = syn::parse_file(&file).expect("a feature's file is Rust");
        // A feature's file reaches the rest of the crate only through the root's shared
        // items, never through another feature's module.
        for other in written.features.keys().filter(|o| *o != feature) {
            assert!(
                !file.contains(&format!("crate::{other}::")),
                "{feature} uses {other}"
            );
        }
        assert!(!parsed.items.is_empty(), "{feature}");
    }
    // What every feature reads stays in lib.rs.
    assert!(lib.contains("pub mod types"));
    assert!(lib.contains("__private as __b24"));
    assert!(lib.contains("pub const SKIPPED_PAGES"));
    assert!(read(&dir, "README.md").contains("| `crm` |"));
    assert!(read(&dir, "CHANGELOG.md").contains("## [1.2.3]"));
    let lock = b24_codegen::lock::Lock::read(&dir.join("b24.lock")).unwrap();
    assert_eq!(lock.methods.len(), api.methods.len());
}

#[test]
fn writing_the_same_docs_twice_gives_the_same_bytes() {
    let api = b24_codegen::load(&docs());
    let (a, b) = (out("package-twice-a"), out("package-twice-b"));
    let written = write_package(&api, &package(), &a).unwrap();
    write_package(&api, &package(), &b).unwrap();
    for file in &written.files {
        assert_eq!(read(&a, file), read(&b, file), "{file}");
    }
    // And again into the same folder: src/ is written anew, the release's changelog section
    // replaced, not doubled.
    write_package(&api, &package(), &a).unwrap();
    for file in &written.files {
        assert_eq!(read(&a, file), read(&b, file), "{file}");
    }
}

#[test]
fn each_shared_structure_is_compiled_only_for_the_features_that_reach_it() {
    let api = b24_codegen::load(&docs());
    let dir = out("package-gates");
    let written = write_package(&api, &package(), &dir).unwrap();
    let lib = syn::parse_file(&read(&dir, "src/lib.rs")).unwrap();
    let types = lib
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "types" => m.content.as_ref().map(|(_, i)| i),
            _ => None,
        })
        .expect("lib.rs has the types module");
    // Each structure of `types` with the features its `cfg` names.
    let mut gates: Vec<(String, Vec<String>)> = Vec::new();
    for item in types {
        let syn::Item::Macro(m) = item else { continue };
        let tokens: Vec<String> = m
            .mac
            .tokens
            .clone()
            .into_iter()
            .map(|t| t.to_string())
            .collect();
        let Some(name) = tokens
            .windows(2)
            .find(|w| w[0] == "struct" || w[0] == "enum")
            .map(|w| w[1].clone())
        else {
            continue;
        };
        let cfg = m
            .attrs
            .iter()
            .find(|a| a.path().is_ident("cfg"))
            .unwrap_or_else(|| panic!("{name} has no cfg"));
        let text = cfg.meta.to_token_stream().to_string();
        let features: Vec<String> = text
            .split('"')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect();
        assert!(!features.is_empty(), "{name}: {text}");
        gates.push((name, features));
    }
    assert!(!gates.is_empty());
    // A feature that names a structure compiles it.
    for feature in written.features.keys() {
        let file = read(&dir, &format!("src/{feature}.rs"));
        for (name, features) in &gates {
            if file.contains(&format!("types::{name}")) {
                assert!(
                    features.contains(feature),
                    "{feature} uses {name}, gated {features:?}"
                );
            }
        }
    }
    // And the gates are real: some structure is left out of some feature.
    assert!(
        gates.iter().any(|(_, f)| f.len() < written.features.len()),
        "{gates:?}"
    );
}
