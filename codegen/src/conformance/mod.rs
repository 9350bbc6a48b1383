//! The conformance crate: the generated bindings plus one test per docs example.
//!
//! Each response example's `result` must deserialize into the method's `Response`, and each
//! request body (without the transport's `auth` key) into `Request`, and come back as the same
//! JSON, key order aside: nothing added, lost or altered. Each event payload example's `data`
//! must round-trip through the event's `Data`, and the whole payload, form-encoded as a portal
//! posts it, must decode into the event's own variant of `events::Event`; each
//! `PLACEMENT_OPTIONS` example must round-trip through its placement's `Options`. Examples that are not
//! JSON even after a mechanical repair are docs defects, counted here and reported by `check`,
//! not tests.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::io;
use std::path::Path;

use serde::Serialize;

use crate::diag::DefectKind;
use crate::gen::{module_paths, named_events, named_placements, render, Options};
use crate::model::{Api, ExampleKind, Type};
use serde_json::Value;

/// The round-trip helpers, written into the crate as `src/support.rs`.
const SUPPORT: &str = include_str!("support.rs");

/// What was written, by kind of example.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Written {
    /// Response examples.
    pub responses: Counts,
    /// Request bodies.
    pub requests: Counts,
    /// Event payloads (each gives two tests: its `data` round trip and its delivery).
    pub events: Counts,
    /// `PLACEMENT_OPTIONS` examples of placement pages.
    pub placements: Counts,
}

/// Counts for one kind of example.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Counts {
    /// Examples of this kind on the pages of generated methods.
    pub examples: usize,
    /// Tests written (valid or mechanically repaired JSON).
    pub tests: usize,
    /// Of the tests, examples that needed a mechanical repair.
    pub repaired: usize,
    /// Of the tests, examples that `check` reports as contradicting their table (test names end
    /// in `__docs_defect`).
    pub at_listed_defect: usize,
    /// Not JSON even after a repair: docs defects, no test.
    pub invalid: usize,
    /// Valid JSON with nothing to test: a response example without `result`, or a request
    /// body that is not an object.
    pub nothing_to_test: usize,
    /// Object keys of the tested examples that land in a typed field of the generated type.
    pub keys_typed: usize,
    /// Object keys that land in an `extra` map (undocumented keys, and keys of a documented
    /// family such as `UF_CRM_...`).
    pub keys_in_extra: usize,
    /// The share of those keys that land in typed fields, in percent.
    pub typed_key_percent: f64,
}

impl Counts {
    fn finish(&mut self) {
        let all = self.keys_typed + self.keys_in_extra;
        self.typed_key_percent = if all == 0 {
            100.0
        } else {
            (1000.0 * self.keys_typed as f64 / all as f64).round() / 10.0
        };
    }
}

/// Counts where the keys of `value` land when it is read as `ty`: in a typed field or in an
/// `extra` map. Follows the generated types: objects and shared structures have their fields,
/// maps and untyped values hold no fields (their keys are data), unions read as the form
/// whose shape the value has.
fn count_keys(api: &Api, ty: &Type, value: &Value, counts: &mut Counts, depth: usize) {
    if depth > 64 {
        return;
    }
    let fields = match ty {
        Type::Object { fields } => Some(fields.as_slice()),
        Type::Ref { key } => api.types.get(key).map(|t| t.fields.as_slice()),
        _ => None,
    };
    match (ty, value) {
        (Type::Nullable { inner }, v) => count_keys(api, inner, v, counts, depth + 1),
        (Type::Union { variants }, v) => {
            let form = variants.iter().find(|t| {
                matches!(
                    (t, v),
                    (
                        Type::Object { .. } | Type::Ref { .. } | Type::Map { .. },
                        Value::Object(_)
                    ) | (Type::Array { .. }, Value::Array(_))
                )
            });
            if let Some(form) = form {
                count_keys(api, form, v, counts, depth + 1);
            }
        }
        (Type::Array { item }, Value::Array(items)) => {
            for v in items {
                count_keys(api, item, v, counts, depth + 1);
            }
        }
        (Type::Map { value: vt }, Value::Object(map)) => {
            for v in map.values() {
                count_keys(api, vt, v, counts, depth + 1);
            }
        }
        (_, Value::Object(map)) => {
            let Some(fields) = fields else { return };
            for (key, v) in map {
                let field = fields
                    .iter()
                    .find(|f| &f.api_name == key && f.pattern().is_none());
                match field {
                    Some(f) => {
                        counts.keys_typed += 1;
                        count_keys(api, &f.ty, v, counts, depth + 1);
                    }
                    None => counts.keys_in_extra += 1,
                }
            }
        }
        _ => {}
    }
}

/// Writes the conformance crate for `api` into `out` (created if needed). `runtime_dir` is the
/// `b24-runtime` crate the bindings depend on.
pub fn write_crate(api: &Api, out: &Path, runtime_dir: &Path) -> io::Result<Written> {
    std::fs::create_dir_all(out.join("src"))?;
    std::fs::create_dir_all(out.join("tests"))?;
    std::fs::create_dir_all(out.join("benches"))?;
    let runtime = runtime_dir.display().to_string().replace('\\', "/");
    std::fs::write(
        out.join("Cargo.toml"),
        format!(
            r#"[package]
name = "b24-conformance"
version = "0.0.0"
edition = "2021"
publish = false

# Not a member of any enclosing workspace.
[workspace]

# Tens of thousands of small generated items: debug info and incremental state cost more
# build time than they are worth here.
[profile.dev]
debug = 0
incremental = false

[profile.bench]
debug = 0
incremental = false

[dependencies]
b24-runtime = {{ path = "{runtime}" }}
serde = {{ version = "1", features = ["derive"] }}
serde_json = {{ version = "1", features = ["float_roundtrip", "preserve_order"] }}

# A `#[derive(Deserialize)]` twin of every generated structure and union, for the bench.
[features]
twin = []

# Decoding every response example into its generated type, against its derive twin and
# serde_json's own parses: `cargo bench --features twin --bench decode`.
[[bench]]
name = "decode"
harness = false
required-features = ["twin"]
"#
        ),
    )?;
    std::fs::write(
        out.join("src/lib.rs"),
        "//! Generated by `b24-codegen conformance`: the bindings and the round-trip helpers.\n\
         #![allow(deprecated, missing_docs, clippy::all)]\n\n\
         pub mod api;\npub mod support;\n",
    )?;
    std::fs::write(out.join("src/support.rs"), SUPPORT)?;
    // The tests read and write every request and response: every type gets both impls.
    let options = Options {
        round_trip: true,
        ..Options::default()
    };
    std::fs::write(
        out.join("src/api.rs"),
        render(&crate::generate(api, &options)),
    )?;
    let (tests, bench, written) = tests(api, &options);
    std::fs::write(out.join("tests/examples.rs"), tests)?;
    std::fs::write(out.join("benches/decode.rs"), bench)?;
    Ok(written)
}

/// The test file, the decode benchmark (every response example not at a listed defect) and the
/// counts.
fn tests(api: &Api, options: &Options) -> (String, String, Written) {
    let mut bench = String::from(
        "//! Decoding every response example into its generated type (generated by\n\
         //! `b24-codegen conformance`; `cargo bench --features twin --bench decode`).\n\
         #![allow(deprecated)]\n\n\
         use b24_conformance::api;\nuse b24_conformance::support::{bench_decode, decodes, twin};\n\n\
         fn main() {\n    bench_decode(&[\n",
    );
    let mut file = String::from(
        "//! One test per docs example (generated by `b24-codegen conformance`).\n\
         #![allow(deprecated, non_snake_case)]\n\n\
         use b24_conformance::api;\nuse b24_conformance::support::{check, deliver};\n",
    );
    let mut written = Written::default();
    let contradicted: HashSet<(&str, u32)> = api
        .diagnostics
        .iter()
        .filter(|d| d.kind == DefectKind::ExampleContradictsTable)
        .map(|d| (&*d.source.file, d.source.line))
        .collect();
    for (method, path) in module_paths(api, options) {
        let test_stem = path.replace("::", "_").replace("r#", "");
        for (index, example) in method.examples.iter().enumerate() {
            let (counts, type_name) = match example.kind {
                ExampleKind::Response => (&mut written.responses, "Response"),
                ExampleKind::Request => (&mut written.requests, "Request"),
                ExampleKind::Error => continue,
            };
            counts.examples += 1;
            let Some(json) = &example.json else {
                counts.invalid += 1;
                continue;
            };
            let subject = match example.kind {
                ExampleKind::Response => json.get("result").cloned(),
                _ => json.as_object().map(|body| {
                    let mut body = body.clone();
                    if !method.params.iter().any(|p| p.api_name == "auth") {
                        body.remove("auth");
                    }
                    serde_json::Value::Object(body)
                }),
            };
            let Some(subject) = subject else {
                counts.nothing_to_test += 1;
                continue;
            };
            counts.tests += 1;
            counts.repaired += usize::from(example.repaired);
            match example.kind {
                ExampleKind::Request => {
                    let request = Type::Object {
                        fields: method.params.clone(),
                    };
                    count_keys(api, &request, &subject, counts, 0);
                }
                _ => count_keys(api, &method.result, &subject, counts, 0),
            }
            // An example the loader already reported as contradicting its table is expected to
            // fail; its test says so in its name, and the CLI counts it apart.
            let defect = contradicted.contains(&(&*example.source.file, example.source.line));
            counts.at_listed_defect += usize::from(defect);
            let suffix = if defect { "__docs_defect" } else { "" };
            let text = subject.to_string();
            let hashes = "#".repeat(longest_hash_run(&text) + 1);
            let kind = type_name.to_ascii_lowercase();
            // Writing to a String cannot fail.
            let _ = write!(
                file,
                "\n#[test]\nfn {test_stem}__{kind}_{index}{suffix}() {{\n    check::<api::{path}::{type_name}>(\n        {place:?},\n        r{hashes}\"{text}\"{hashes},\n    );\n}}\n",
                place = example.source.to_string(),
            );
            if example.kind == ExampleKind::Response && !defect {
                let _ = writeln!(
                    bench,
                    "        ({place:?}, r{hashes}\"{text}\"{hashes}, decodes::<api::{path}::Response>, twin::<api::{path}::Response>),",
                    place = example.source.to_string(),
                );
            }
        }
    }
    bench.push_str("    ]);\n}\n");
    event_tests(api, options, &contradicted, &mut file, &mut written.events);
    placement_tests(api, options, &mut file, &mut written.placements);
    written.responses.finish();
    written.requests.finish();
    written.events.finish();
    written.placements.finish();
    (file, bench, written)
}

/// Two tests per event payload example: `data` round-trips through the event's `Data`, and the
/// payload, form-encoded, decodes into the event's variant.
fn event_tests(
    api: &Api,
    options: &Options,
    contradicted: &HashSet<(&str, u32)>,
    file: &mut String,
    counts: &mut Counts,
) {
    for named in named_events(api, options) {
        let test_stem = named.path.replace("::", "_").replace("r#", "");
        for (index, example) in named.event.examples.iter().enumerate() {
            counts.examples += 1;
            let Some(json) = &example.json else {
                counts.invalid += 1;
                continue;
            };
            let Some(data) = json.get("data") else {
                counts.nothing_to_test += 1;
                continue;
            };
            counts.tests += 1;
            counts.repaired += usize::from(example.repaired);
            count_keys(api, &named.event.data, data, counts, 0);
            let defect = contradicted.contains(&(&*example.source.file, example.source.line));
            counts.at_listed_defect += usize::from(defect);
            let suffix = if defect { "__docs_defect" } else { "" };
            let place = example.source.to_string();
            let (path, variant) = (&named.path, &named.variant);
            let data = data.to_string();
            let hashes = "#".repeat(longest_hash_run(&data) + 1);
            let payload = json.to_string();
            let payload_hashes = "#".repeat(longest_hash_run(&payload) + 1);
            // Writing to a String cannot fail.
            let _ = write!(
                file,
                "\n#[test]\nfn {test_stem}__event_data_{index}{suffix}() {{\n    check::<api::{path}::Data>(\n        {place:?},\n        r{hashes}\"{data}\"{hashes},\n    );\n}}\n\
                 \n#[test]\nfn {test_stem}__event_delivered_{index}{suffix}() {{\n    let event: api::events::Event = deliver(\n        {place:?},\n        r{payload_hashes}\"{payload}\"{payload_hashes},\n    );\n    assert!(\n        matches!(event, api::events::Event::{variant}(_)),\n        \"{{}}: conformance failure [delivery]: decoded as {{:?}}\",\n        {place:?},\n        event,\n    );\n}}\n",
            );
        }
    }
}

/// A test per `PLACEMENT_OPTIONS` example: it round-trips through the placement's `Options`.
fn placement_tests(api: &Api, options: &Options, file: &mut String, counts: &mut Counts) {
    for (placement, path) in named_placements(api, options) {
        let test_stem = path.replace("::", "_").replace("r#", "");
        for (index, example) in placement.examples.iter().enumerate() {
            counts.examples += 1;
            let Some(json) = &example.json else {
                counts.invalid += 1;
                continue;
            };
            counts.tests += 1;
            counts.repaired += usize::from(example.repaired);
            let fields = Type::Object {
                fields: placement.options.clone(),
            };
            count_keys(api, &fields, json, counts, 0);
            let text = json.to_string();
            let hashes = "#".repeat(longest_hash_run(&text) + 1);
            // Writing to a String cannot fail.
            let _ = write!(
                file,
                "\n#[test]\nfn {test_stem}__placement_options_{index}() {{\n    check::<api::{path}::Options>(\n        {place:?},\n        r{hashes}\"{text}\"{hashes},\n    );\n}}\n",
                place = example.source.to_string(),
            );
        }
    }
}

/// The longest run of `#` right after a `"` in `text`, so a raw string can hold it.
fn longest_hash_run(text: &str) -> usize {
    text.split('"')
        .skip(1)
        .map(|after| after.chars().take_while(|&c| c == '#').count())
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::longest_hash_run;

    #[test]
    fn raw_strings_get_enough_hashes() {
        assert_eq!(longest_hash_run(r#"{"a":"b"}"#), 0);
        assert_eq!(longest_hash_run(r###"{"a":"##b"}"###), 2);
    }
}
