//! A publishable crate of the bindings: one cargo feature per top-level module, sources split
//! so that a feature compiles only its part.
//!
//! The generated code is made once, as [`generate`](crate::generate) makes it for `api!`, and
//! cut at its root: each top-level module (`crm`, `user`, `events`, ...) goes to its own file
//! behind the feature of its name; what every module uses (the runtime's short path, the
//! shared `types`, `SKIPPED_PAGES`) stays in `lib.rs`. `full` turns every feature on. Next to
//! the sources: `Cargo.toml`, `README.md`, `CHANGELOG.md` and the lock of what the crate
//! publishes (`b24.lock`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use proc_macro2::TokenStream;
use quote::ToTokens;
use serde::Serialize;

use crate::diff::{diff_locks, insert_changelog};
use crate::gen::{module_paths, render, Options};
use crate::lock::{Kept, Lock};
use crate::model::Api;

/// Root modules that are not features: the shared structures every feature reads.
const ALWAYS: &[&str] = &["types"];

/// How the crate depends on `b24-runtime`.
#[derive(Clone, Debug)]
pub enum Runtime {
    /// A version requirement on crates.io (what a published crate needs).
    Version(String),
    /// A path (this repository's tests and CI).
    Path(PathBuf),
}

/// What to write.
#[derive(Clone, Debug)]
pub struct Package {
    /// The crate's name (`bitrix24-api`).
    pub name: String,
    /// The crate's version (the caller computes it, e.g. from `diff`'s bump).
    pub version: String,
    /// The docs version the bindings are read from (recorded in the lock and the README).
    pub docs_version: String,
    /// The `b24-runtime` dependency.
    pub runtime: Runtime,
    /// The lock of the previous release: its paths are kept (see [`Lock::apply`]), the new
    /// lock is its update, and the changelog section is the difference.
    pub previous: Option<Lock>,
}

/// What was written.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Written {
    /// Feature → the number of methods it holds (`events` and `placements` count their
    /// events and placements).
    pub features: BTreeMap<String, usize>,
    /// Files written, relative to the crate's folder.
    pub files: Vec<String>,
    /// Methods and fields kept from the previous lock, deprecated.
    pub kept: Kept,
}

/// Writes the crate for `api` into `out` (created if needed; the files it writes are
/// replaced, `src/` is written anew).
pub fn write_package(api: &Api, package: &Package, out: &Path) -> io::Result<Written> {
    // What the previous release published and the docs dropped or respelled is added to the
    // API, deprecated, so its paths stay; the code is generated with the previous names kept.
    let mut kept_api = api.clone();
    let kept = match &package.previous {
        Some(previous) => previous
            .update(&Lock::facts(api, &package.docs_version, Some(previous)))
            .apply(&mut kept_api),
        None => Kept::default(),
    };
    let options = Options {
        runtime: quote::quote!(::b24_runtime),
        lock: package.previous.clone().map(std::sync::Arc::new),
        feature_gates: true,
        ..Options::default()
    };
    let (tokens, record) = crate::gen::generate_recorded(&kept_api, &options);
    // The new lock: the docs' API with the names just given, plus what the previous release
    // published and the docs no longer have.
    let docs_lock = Lock::recorded(api, &package.docs_version, &record, &options);
    let lock = match &package.previous {
        Some(previous) => previous.update(&docs_lock),
        None => docs_lock.clone(),
    };
    let api = kept_api;
    let file = syn::parse2::<syn::File>(tokens)
        .map_err(|e| io::Error::other(format!("the generated code does not parse: {e}")))?;

    let counts = feature_counts(&api, &options);
    let mut written = Written {
        kept,
        ..Written::default()
    };
    let src = out.join("src");
    if src.exists() {
        std::fs::remove_dir_all(&src)?;
    }
    std::fs::create_dir_all(&src)?;

    let mut root = TokenStream::new();
    let mut declarations = String::new();
    for item in file.items {
        let syn::Item::Mod(mut module) = item else {
            item.to_tokens(&mut root);
            continue;
        };
        let name = module.ident.to_string();
        let feature = name.trim_start_matches("r#").to_owned();
        let Some((_, items)) = module.content.take() else {
            module.to_tokens(&mut root);
            continue;
        };
        if ALWAYS.contains(&feature.as_str()) {
            module.content = Some((Default::default(), items));
            module.to_tokens(&mut root);
            continue;
        }
        let body: TokenStream = items.iter().map(ToTokens::to_token_stream).collect();
        let path = format!("src/{feature}.rs");
        std::fs::write(out.join(&path), render(&body))?;
        written.files.push(path);
        // The module keeps its docs and attributes; its body is the file.
        module.semi = Some(Default::default());
        let declaration = render(&module.to_token_stream());
        let _ = writeln!(
            declarations,
            "#[cfg(feature = \"{feature}\")]\n{declaration}"
        );
        written
            .features
            .insert(feature.clone(), counts.get(&feature).copied().unwrap_or(0));
    }

    let lib = format!(
        "{}\n#![allow(deprecated, clippy::all)]\n\n{}\n{declarations}",
        crate_doc(package, &written),
        render(&root),
    );
    std::fs::write(src.join("lib.rs"), lib)?;
    written.files.insert(0, "src/lib.rs".into());

    std::fs::write(out.join("Cargo.toml"), cargo_toml(package, &written))?;
    std::fs::write(out.join("README.md"), readme(package, &written))?;
    let section = match &package.previous {
        Some(previous) => {
            let mut changes = diff_locks(previous, &lock);
            changes.kept_by_lock = true;
            changes.changelog(&package.version)
        }
        None => format!(
            "## [{}]\n\n### Added\n\n- The bindings of {} methods, read from the docs {}.\n",
            package.version,
            api.methods.len(),
            package.docs_version
        ),
    };
    let existing = std::fs::read_to_string(out.join("CHANGELOG.md")).ok();
    std::fs::write(
        out.join("CHANGELOG.md"),
        insert_changelog(existing.as_deref(), &section),
    )?;
    std::fs::write(out.join("b24.lock"), lock.to_json())?;
    written.files.extend(
        ["Cargo.toml", "README.md", "CHANGELOG.md", "b24.lock"]
            .iter()
            .map(|f| (*f).to_owned()),
    );
    Ok(written)
}

/// Methods per top-level module, and the events and placements generated.
fn feature_counts(api: &Api, options: &Options) -> BTreeMap<String, usize> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for (_, path) in module_paths(api, options) {
        let top = path.split("::").next().unwrap_or_default();
        *counts
            .entry(top.trim_start_matches("r#").to_owned())
            .or_default() += 1;
    }
    counts.insert(
        "events".into(),
        crate::gen::named_events(api, options).len(),
    );
    counts.insert("placements".into(), api.placements.len());
    counts
}

/// What a feature's count counts.
fn items_of(feature: &str) -> &'static str {
    match feature {
        "events" => "events",
        "placements" => "placements",
        _ => "methods",
    }
}

/// The feature with the most methods, for the examples.
fn example_feature(written: &Written) -> &str {
    written
        .features
        .iter()
        .filter(|(f, _)| items_of(f) == "methods")
        .max_by_key(|(_, n)| **n)
        .map_or("full", |(f, _)| f.as_str())
}

fn crate_doc(package: &Package, written: &Written) -> String {
    let example = example_feature(written);
    format!(
        "//! Bitrix24 REST API bindings, generated by `b24-codegen crate` from the docs \
         `{docs}`.\n//!\n\
         //! Every top-level module is a cargo feature (`full` turns on all of them): depend \
         on the\n//! crate with the features you call, e.g. `features = [\"{example}\"]`. The \
         calls run on\n//! [`b24_runtime::Client`]:\n//!\n\
         //! ```no_run\n\
         //! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {{\n\
         //! let client = b24_runtime::Client::builder()\n\
         //!     .webhook(\"https://example.bitrix24.com/rest/1/code/\")\n\
         //!     .build()?;\n\
         //! # let _ = client;\n\
         //! # Ok(())\n\
         //! # }}\n\
         //! ```\n",
        docs = package.docs_version,
    )
}

fn cargo_toml(package: &Package, written: &Written) -> String {
    let runtime = match &package.runtime {
        Runtime::Version(v) => format!("{{ version = \"{v}\" }}"),
        Runtime::Path(p) => format!(
            "{{ path = \"{}\" }}",
            p.display().to_string().replace('\\', "/")
        ),
    };
    let all: Vec<String> = written
        .features
        .keys()
        .map(|f| format!("\"{f}\""))
        .collect();
    let mut features = format!("[features]\ndefault = []\nfull = [{}]\n", all.join(", "));
    for (feature, count) in &written.features {
        let _ = writeln!(features, "{feature} = [] # {count} {}", items_of(feature));
    }
    format!(
        "[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\n\
         description = \"Bitrix24 REST API bindings generated from the docs {docs}\"\n\
         license = \"MIT\"\nreadme = \"README.md\"\n\n\
         # Not a member of any enclosing workspace.\n[workspace]\n\n\
         [dependencies]\nb24-runtime = {runtime}\n\n{features}\n\
         [package.metadata.docs.rs]\nfeatures = [\"full\"]\n",
        name = package.name,
        version = package.version,
        docs = package.docs_version,
    )
}

fn readme(package: &Package, written: &Written) -> String {
    let mut rows = String::new();
    for (feature, count) in &written.features {
        let _ = writeln!(rows, "| `{feature}` | {count} {} |", items_of(feature));
    }
    format!(
        "# {name}\n\nBitrix24 REST API bindings, generated by `b24-codegen crate` from the docs \
         `{docs}`: a request type, a response type, an error enum and an async call per method, \
         run by `b24-runtime`.\n\n\
         Every top-level module is a cargo feature; none is on by default, `full` turns on all.\n\n\
         ```toml\n[dependencies]\n{name} = {{ version = \"{version}\", features = [\"{example}\"] }}\n```\n\n\
         | feature | holds |\n| --- | ---: |\n{rows}\n\
         `b24.lock` records every published Rust path: regenerating with it keeps them (see \
         `CHANGELOG.md`).\n",
        name = package.name,
        version = package.version,
        docs = package.docs_version,
        example = example_feature(written),
    )
}
