//! Hostile and broken docs trees (issue 9, items 7 and 8): each bound of [`Limits`] and each
//! refusal to read a file is a diagnostic with file:line, and the rest of the docs still loads.
//!
//! Every load runs on its own thread with a 2 MiB stack (as `cargo test`'s threads, a quarter
//! of rustc's) under a time bound, so a hang or a runaway is a failure, not a stuck test.

use std::path::{Path, PathBuf};
use std::time::Duration;

use b24_codegen::model::Type;
use b24_codegen::{generate, load_with, render, Api, DefectKind, Limits, Options, Severity};

/// A fresh folder under the target dir with `files` written in it, marked as a docs root.
fn tree(name: &str, files: &[(&str, &[u8])]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("hostile")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(".yfm"), "lang: en\n").unwrap();
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

/// Loads `path` within `limits` and renders the code, on a 2 MiB-stack thread, in 20 seconds.
fn load_bounded(path: &Path, limits: Limits) -> (Api, String) {
    let path = path.to_owned();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let api = load_with(&path, &limits);
            let code = render(&generate(&api, &Options::default()));
            let _ = tx.send((api, code));
        })
        .unwrap();
    rx.recv_timeout(Duration::from_secs(20))
        .expect("the load ends within 20 seconds")
}

fn load(path: &Path) -> (Api, String) {
    load_bounded(path, Limits::default())
}

/// `file:line` of each diagnostic of `kind`, with its message.
fn found(api: &Api, kind: DefectKind) -> Vec<(String, String)> {
    api.diagnostics
        .iter()
        .filter(|d| d.kind == kind)
        .map(|d| (d.source.to_string(), d.message.clone()))
        .collect()
}

fn has_method(api: &Api, name: &str) -> bool {
    api.methods.iter().any(|m| m.name == name)
}

/// A method page named `name` whose parameter table has `rows` after its header.
fn method_page(name: &str, rows: &str) -> String {
    format!(
        "# Do {name}\n\n> Who can execute the method: any user\n\n## Method Parameters\n\n\
         #|\n|| **Name**\n`type` | **Description** ||\n{rows}|#\n"
    )
}

/// The page every tree has beside the hostile one: it must still load.
const OK_PAGE: (&str, &[u8]) = (
    "ok.md",
    b"# Fine ok.fine\n\n> Who can execute the method: any user\n\n## Method Parameters\n\n\
      #|\n|| **Name**\n`type` | **Description** ||\n|| **id**\n`integer` | Id ||\n|#\n",
);

/// How deep objects nest in a type (an array or a nullable is no level of its own).
fn object_depth(ty: &Type) -> usize {
    match ty {
        Type::Object { fields } => {
            1 + fields
                .iter()
                .map(|f| object_depth(&f.ty))
                .max()
                .unwrap_or(0)
        }
        Type::Array { item } => object_depth(item),
        Type::Nullable { inner } => object_depth(inner),
        Type::Union { variants } => variants.iter().map(object_depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn max_param_depth(api: &Api, method: &str) -> usize {
    let m = api.methods.iter().find(|m| m.name == method).expect(method);
    m.params
        .iter()
        .map(|p| object_depth(&p.ty))
        .max()
        .unwrap_or(0)
}

#[test]
fn a_page_including_itself_is_cut_at_the_cycle() {
    // 338 bytes that expanded to 8^8 copies of themselves (3 GB) before.
    let fan = format!(
        "# Fan-out fan.out\n\n> Who can execute the method: any user\n\n{}",
        "{% include [again](fan.md) %}\n".repeat(8)
    );
    let dir = tree("self-include", &[("fan.md", fan.as_bytes()), OK_PAGE]);
    let (api, _) = load(&dir);
    let cycles = found(&api, DefectKind::MissingInclude);
    assert_eq!(cycles.len(), 8, "{cycles:?}");
    assert_eq!(cycles[0].0, "fan.md:5");
    assert!(cycles[0].1.contains("includes itself"), "{cycles:?}");
    assert!(has_method(&api, "fan.out"));
    assert!(has_method(&api, "ok.fine"));
}

#[test]
fn an_include_fan_out_stops_at_the_include_count() {
    // f0 includes f1 eight times, f1 includes f2 eight times, ...: no cycle, 8^7 includes.
    let mut files: Vec<(String, String)> = (0..7)
        .map(|i| {
            let line = format!("{{% include [next](f{}.md) %}}\n", i + 1);
            (
                format!("_includes/f{i}.md"),
                format!("level {i}\n{}", line.repeat(8)),
            )
        })
        .collect();
    files.push(("_includes/f7.md".into(), "leaf\n".into()));
    let page = format!(
        "{}\n{{% include [f](_includes/f0.md) %}}\n",
        method_page("fan.wide", "|| **id**\n`integer` | Id ||\n")
    );
    files.push(("wide.md".into(), page));
    let files: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_bytes()))
        .chain([OK_PAGE])
        .collect();
    let dir = tree("fan-out", &files);
    let (api, _) = load(&dir);
    let limits = found(&api, DefectKind::Limit);
    assert_eq!(limits.len(), 1, "{limits:?}");
    assert!(limits[0].0.starts_with("_includes/f"), "{limits:?}");
    assert!(limits[0].1.contains("more than 256 includes"), "{limits:?}");
    assert!(has_method(&api, "fan.wide"));
    assert!(has_method(&api, "ok.fine"));
}

#[test]
fn includes_past_the_page_size_bound_are_left_out() {
    let big = "x".repeat(1 << 20);
    let page = format!(
        "{}{}",
        method_page("big.page", "|| **id**\n`integer` | Id ||\n"),
        "{% include [big](big.txt) %}\n".repeat(20)
    );
    let dir = tree(
        "page-size",
        &[
            ("big.md", page.as_bytes()),
            ("big.txt", big.as_bytes()),
            OK_PAGE,
        ],
    );
    let (api, _) = load(&dir);
    let limits = found(&api, DefectKind::Limit);
    // 8 MiB hold seven copies of the 1 MiB file; the other thirteen lines are reported.
    assert_eq!(limits.len(), 13, "{limits:?}");
    assert!(
        limits[0].1.contains("larger than 8388608 bytes"),
        "{limits:?}"
    );
    assert!(has_method(&api, "big.page"));
    assert!(has_method(&api, "ok.fine"));
}

#[test]
fn includes_nest_only_to_the_depth_bound() {
    let mut files: Vec<(String, String)> = (0..12)
        .map(|i| {
            let text = format!("level {i}\n{{% include [next](d{}.md) %}}\n", i + 1);
            (format!("_includes/d{i}.md"), text)
        })
        .collect();
    files.push((
        "deep.md".into(),
        format!(
            "{}{{% include [d](_includes/d0.md) %}}\n",
            method_page("deep.includes", "|| **id**\n`integer` | Id ||\n")
        ),
    ));
    let files: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_bytes()))
        .collect();
    let dir = tree("include-depth", &files);
    let (api, _) = load(&dir);
    // The page includes d0 (depth 1) ... d7 (depth 8), whose include of d8 is refused.
    assert_eq!(
        found(&api, DefectKind::Limit),
        [(
            "_includes/d7.md:2".to_owned(),
            "includes nested deeper than 8 at `d8.md`: not included".to_owned()
        )]
    );
    assert!(has_method(&api, "deep.includes"));
}

/// A parameter whose cell holds a table whose cell holds a table ..., `depth` deep.
fn nested_tables(depth: usize) -> String {
    let open = "|| **f**\n`object` | Level:\n#|\n|| **Name**\n`type` | **Description** ||\n";
    let rows = format!(
        "{}|| **leaf**\n`string` | x ||\n{}",
        open.repeat(depth),
        "|#\n||\n".repeat(depth)
    );
    method_page("nest.tables", &rows)
}

#[test]
fn tables_nested_3000_deep_are_untyped_past_the_depth_bound() {
    let dir = tree(
        "nested-tables",
        &[("nest.md", nested_tables(3000).as_bytes()), OK_PAGE],
    );
    let (api, code) = load(&dir);
    let limits = found(&api, DefectKind::Limit);
    assert_eq!(limits.len(), 1, "{limits:?}");
    assert!(limits[0].0.starts_with("nest.md:"), "{limits:?}");
    assert!(limits[0].1.contains("nested deeper than 32 levels"));
    assert_eq!(max_param_depth(&api, "nest.tables"), 32);
    let (shallow, _) = load_bounded(
        &dir,
        Limits {
            max_depth: 4,
            ..Limits::default()
        },
    );
    assert_eq!(max_param_depth(&shallow, "nest.tables"), 4);
    assert!(has_method(&api, "ok.fine"));
    syn::parse_file(&code).expect("valid Rust");
    // Each level's doc comment holds the tables below it: bounded, not 3000² lines.
    assert!(code.len() < 8 << 20, "{} bytes of code", code.len());
}

#[test]
fn an_anchor_chain_3000_deep_is_untyped_past_the_depth_bound() {
    let mut page = method_page("anchor.chain", "|| **f**\n[`object`](#s0) | start ||\n");
    for i in 0..3000 {
        page.push_str(&format!(
            "\n## S{i} {{#s{i}}}\n\n#|\n|| **Name**\n`type` | **Description** ||\n\
             || **f**\n[`object`](#s{}) | next ||\n|#\n",
            i + 1
        ));
    }
    let dir = tree("anchor-chain", &[("chain.md", page.as_bytes()), OK_PAGE]);
    let (api, code) = load(&dir);
    let limits = found(&api, DefectKind::Limit);
    let messages: Vec<&str> = limits.iter().map(|(_, m)| m.as_str()).collect();
    // Section 32 is too deep; and the page is cut after 4096 blocks and rows (section 1022).
    assert_eq!(
        messages,
        [
            "structures nested deeper than 32 levels: typed as untyped",
            "the page has more than 4096 blocks and table rows: the rest of it is not read"
        ],
        "{limits:?}"
    );
    assert!(limits[0].0.starts_with("chain.md:"), "{limits:?}");
    assert_eq!(max_param_depth(&api, "anchor.chain"), 32);
    assert!(has_method(&api, "ok.fine"));
    syn::parse_file(&code).expect("valid Rust");
}

#[test]
fn a_chain_of_pages_each_linking_the_next_is_bounded_across_pages() {
    // p0's structure has a field typed by p1's structure, ...: one builder per page, one count.
    let pages: Vec<(String, String)> = (0..300)
        .map(|i| {
            let text = format!(
                "# Structure {i}\n\n#|\n|| **Name**\n`type` | **Description** ||\n\
                 || **next**\n[`object`](p{}.md) | the next ||\n|#\n",
                i + 1
            );
            (format!("p{i}.md"), text)
        })
        .collect();
    let start = method_page("page.chain", "|| **f**\n[`object`](p0.md) | start ||\n");
    let files: Vec<(&str, &[u8])> = pages
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_bytes()))
        .chain([("start.md", start.as_bytes()), OK_PAGE])
        .collect();
    let dir = tree("page-chain", &files);
    let (api, code) = load(&dir);
    let limits = found(&api, DefectKind::Limit);
    assert_eq!(limits.len(), 1, "{limits:?}");
    assert!(limits[0].0.starts_with('p'), "{limits:?}");
    assert!(has_method(&api, "page.chain"));
    assert!(has_method(&api, "ok.fine"));
    syn::parse_file(&code).expect("valid Rust");
}

#[test]
fn dotted_rows_1000_deep_are_untyped_past_the_depth_bound() {
    // `a`, `a.a`, `a.a.a`, ...: a megabyte of names.
    let rows: String = (1..=1000)
        .map(|n| format!("|| **{}**\n`object` | level ||\n", vec!["a"; n].join(".")))
        .collect();
    let dir = tree(
        "dotted-rows",
        &[
            ("dots.md", method_page("dotted.rows", &rows).as_bytes()),
            OK_PAGE,
        ],
    );
    let (api, _) = load(&dir);
    let limits = found(&api, DefectKind::Limit);
    assert_eq!(limits.len(), 1, "{limits:?}");
    assert_eq!(max_param_depth(&api, "dotted.rows"), 32);
    assert!(has_method(&api, "ok.fine"));
}

#[test]
fn array_dimensions_past_the_depth_bound_are_untyped() {
    let rows = format!("|| **grid**\n`integer{}` | deep ||\n", "[]".repeat(3000));
    let dir = tree(
        "array-dims",
        &[
            ("dims.md", method_page("array.dims", &rows).as_bytes()),
            OK_PAGE,
        ],
    );
    let (api, _) = load(&dir);
    let limits = found(&api, DefectKind::Limit);
    assert_eq!(limits.len(), 1, "{limits:?}");
    let m = api.methods.iter().find(|m| m.name == "array.dims").unwrap();
    assert!(m.params[0].ty.is_untyped(), "{:?}", m.params[0].ty);
    assert!(has_method(&api, "ok.fine"));
}

#[test]
fn a_type_name_of_30000_dotted_parts_is_read_as_a_field_reference() {
    // `structure.field` was resolved one `.` at a time, recursively: 30,000 frames.
    let name = vec!["a"; 30_000].join(".");
    let rows = format!("|| **x**\n`{name}` | deep ||\n");
    let dir = tree(
        "dotted-type",
        &[
            ("t.md", method_page("dotted.type", &rows).as_bytes()),
            OK_PAGE,
        ],
    );
    let (api, _) = load(&dir);
    let m = api
        .methods
        .iter()
        .find(|m| m.name == "dotted.type")
        .unwrap();
    assert_eq!(
        m.params[0].ty,
        Type::scalar(b24_codegen::model::Scalar::String)
    );
    assert!(has_method(&api, "ok.fine"));
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo").arg(path).status();
    assert!(
        status.is_ok_and(|s| s.success()),
        "mkfifo {}",
        path.display()
    );
}

/// The one error of the load, which must be about `file` and of `kind`.
fn unreadable(api: &Api, file: &str, kind: DefectKind) -> String {
    let errors: Vec<_> = api
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].source.file.as_ref(), file, "{errors:?}");
    assert_eq!(errors[0].kind, kind, "{errors:?}");
    let s = b24_codegen::check::summary(api);
    assert_eq!(s.unreadable, 1);
    assert!(!s.passed());
    errors[0].to_string()
}

#[cfg(unix)]
#[test]
fn a_fifo_named_like_a_page_is_an_unreadable_page() {
    let dir = tree("fifo-page", &[OK_PAGE]);
    mkfifo(&dir.join("x.md"));
    let (api, _) = load(&dir);
    let error = unreadable(&api, "x.md", DefectKind::Io);
    assert!(error.contains("is not a regular file"), "{error}");
    assert!(has_method(&api, "ok.fine"));
}

#[cfg(unix)]
#[test]
fn an_included_fifo_is_not_read() {
    let page = format!(
        "{}{{% include [f](f.txt) %}}\n",
        method_page("fifo.include", "|| **id**\n`integer` | Id ||\n")
    );
    let dir = tree("fifo-include", &[("i.md", page.as_bytes()), OK_PAGE]);
    mkfifo(&dir.join("f.txt"));
    let (api, _) = load(&dir);
    let missing = found(&api, DefectKind::MissingInclude);
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert!(
        missing[0].1.contains("is not a regular file"),
        "{missing:?}"
    );
    assert!(has_method(&api, "fifo.include"));
    assert!(has_method(&api, "ok.fine"));
}

#[cfg(unix)]
#[test]
fn an_include_of_dev_zero_is_refused() {
    let page = format!(
        "{}{{% include [z](/dev/zero) %}}\n",
        method_page("zero.include", "|| **id**\n`integer` | Id ||\n")
    );
    let dir = tree("dev-zero", &[("z.md", page.as_bytes()), OK_PAGE]);
    let (api, _) = load(&dir);
    let refused = found(&api, DefectKind::OutsideRoot);
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(refused[0].0.starts_with("z.md:"));
    assert!(has_method(&api, "zero.include"));
    assert!(has_method(&api, "ok.fine"));
}

#[test]
fn files_larger_than_the_file_bound_are_not_read() {
    let big = format!("# Big big.page\n\n{}\n", "x".repeat(3 << 20));
    let include = format!(
        "{}{{% include [big](big.txt) %}}\n",
        method_page("big.include", "|| **id**\n`integer` | Id ||\n")
    );
    let dir = tree(
        "file-size",
        &[
            ("big.md", big.as_bytes()),
            ("big.txt", big.as_bytes()),
            ("inc.md", include.as_bytes()),
            OK_PAGE,
        ],
    );
    let (api, _) = load(&dir);
    let error = unreadable(&api, "big.md", DefectKind::Limit);
    assert!(error.contains("larger than 2097152 bytes"), "{error}");
    let limits = found(&api, DefectKind::Limit);
    assert!(
        limits.iter().any(|(at, _)| at.starts_with("inc.md:")),
        "{limits:?}"
    );
    assert!(has_method(&api, "big.include"));
    assert!(has_method(&api, "ok.fine"));
}

/// A docs root `docs/` beside `outside/secret.md`, whose text must never be read.
fn with_secret_outside(name: &str, page: &str) -> PathBuf {
    let dir = tree(
        name,
        &[
            ("outside/secret.md", b"# Secret\n\n#|\n|| **Name**\n`type` | **Description** ||\n|| **SECRET_FIELD**\n`string` | the secret text ||\n|#\n"),
        ],
    );
    std::fs::remove_file(dir.join(".yfm")).unwrap();
    let docs = dir.join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(docs.join(".yfm"), "lang: en\n").unwrap();
    std::fs::write(docs.join("p.md"), page).unwrap();
    std::fs::write(docs.join(OK_PAGE.0), OK_PAGE.1).unwrap();
    docs
}

#[test]
fn includes_outside_the_docs_root_are_refused() {
    let rows = "|| **a**\n`string` | {% include [p](/etc/passwd) %} ||\n\
                || **b**\n`string` | {% include [s](../outside/secret.md) %} ||\n\
                || **c**\n`string` | {% include [s](sub/../../outside/secret.md) %} ||\n";
    let docs = with_secret_outside("include-outside", &method_page("leak.include", rows));
    let (api, code) = load(&docs);
    let refused = found(&api, DefectKind::OutsideRoot);
    let lines: Vec<&str> = refused.iter().map(|(at, _)| at.as_str()).collect();
    assert_eq!(lines, ["p.md:11", "p.md:13", "p.md:15"], "{refused:?}");
    assert!(!code.contains("root:"), "/etc/passwd in the code");
    assert!(
        !code.contains("secret text"),
        "the outside file in the code"
    );
    assert!(has_method(&api, "leak.include"));
    assert!(has_method(&api, "ok.fine"));
}

#[test]
fn links_outside_the_docs_root_are_refused() {
    let rows = "|| **a**\n[`object`](../outside/secret.md) | see ||\n\
                || **b**\n[`object`](/../outside/secret.md) | see ||\n";
    let docs = with_secret_outside("link-outside", &method_page("leak.link", rows));
    let (api, code) = load(&docs);
    let refused = found(&api, DefectKind::OutsideRoot);
    let lines: Vec<&str> = refused.iter().map(|(at, _)| at.as_str()).collect();
    assert_eq!(lines, ["p.md:10", "p.md:12"], "{refused:?}");
    assert!(
        !code.contains("SECRET_FIELD"),
        "the outside page in the code"
    );
    assert!(
        !code.contains("secret text"),
        "the outside page in the code"
    );
    assert!(!api.files_read.iter().any(|f| f.ends_with("secret.md")));
    assert!(has_method(&api, "leak.link"));
    assert!(has_method(&api, "ok.fine"));
}

#[cfg(unix)]
#[test]
fn a_symlink_to_a_file_outside_the_root_is_not_read() {
    let page = method_page("plain.page", "|| **id**\n`integer` | Id ||\n");
    let docs = with_secret_outside("symlink-outside", &page);
    std::os::unix::fs::symlink("../outside/secret.md", docs.join("s.md")).unwrap();
    let (api, code) = load(&docs);
    let error = unreadable(&api, "s.md", DefectKind::OutsideRoot);
    assert!(error.contains("outside the docs root"), "{error}");
    assert!(!code.contains("SECRET_FIELD"));
    assert!(has_method(&api, "ok.fine"));
}

#[cfg(unix)]
#[test]
fn a_symlink_loop_is_an_unreadable_page() {
    let dir = tree("symlink-loop", &[OK_PAGE]);
    std::os::unix::fs::symlink("b.md", dir.join("a.md")).unwrap();
    std::os::unix::fs::symlink("a.md", dir.join("b.md")).unwrap();
    let (api, _) = load(&dir);
    let errors: Vec<_> = api
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.to_string())
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].starts_with("a.md:0: error[io]: the page cannot be read"),
        "{errors:?}"
    );
    assert_eq!(b24_codegen::check::summary(&api).unreadable, 2);
    assert!(has_method(&api, "ok.fine"));
}

#[test]
fn a_page_that_is_not_utf8_is_unreadable_at_its_line() {
    let dir = tree(
        "not-utf8",
        &[
            ("bad.md", b"# Bad bad.page\n\nfine\n\xff\xfe here\n"),
            OK_PAGE,
        ],
    );
    let (api, _) = load(&dir);
    let error = unreadable(&api, "bad.md", DefectKind::Io);
    assert_eq!(
        error,
        "bad.md:4: error[io]: the page is not UTF-8 text (line 4)"
    );
    assert!(has_method(&api, "ok.fine"));
}

/// A page of `body` under a method title, named `q.{name}`.
fn titled(name: &str, body: &str) -> String {
    format!("# Quadratic q.{name}\n\n> Who can execute the method: any user\n\n{body}")
}

/// Loads a tree of one page (and the page every tree has) and checks its method loaded.
fn loads_in_time(name: &str, page: &str) -> Api {
    loads_in_time_with(name, page, Limits::default())
}

/// [`loads_in_time`] within `limits`.
fn loads_in_time_with(name: &str, page: &str, limits: Limits) -> Api {
    let dir = tree(name, &[("q.md", page.as_bytes()), OK_PAGE]);
    let (api, _) = load_bounded(&dir, limits);
    assert!(
        api.methods.iter().any(|m| m.name.starts_with("q.")),
        "{:#?}",
        api.diagnostics
    );
    assert!(has_method(&api, "ok.fine"));
    api
}

// Shapes that a pass handled one item at a time, searching the whole page (or the whole stack)
// for each: a megabyte took from seconds to minutes. Each loads in time now. Where the line
// and item bounds would cut the page short, they are lifted: the pass itself is linear.

/// The default limits without the bounds on lines and items per page.
fn uncut() -> Limits {
    Limits {
        max_page_lines: usize::MAX,
        max_items: usize::MAX,
        ..Limits::default()
    }
}

#[test]
fn many_notes_load_in_linear_time() {
    // `note_at` looked through every note for each block, `note_text` through every block.
    let body = "{% note info %}\n\nx\n\n{% endnote %}\n".repeat(60_000);
    loads_in_time_with("many-notes", &titled("notes", &body), uncut());
}

#[test]
fn deep_taken_conditions_load_in_linear_time() {
    // Each line checked every open `{% if %}`; after `{% else %}` all are taken.
    let body = format!(
        "{}{}",
        "{% if a %}\n{% else %}\n".repeat(40_000),
        "x\n".repeat(100_000)
    );
    loads_in_time_with("many-ifs", &titled("ifs", &body), uncut());
}

#[test]
fn unclosed_attribute_braces_load_in_linear_time() {
    // Each `{.` searched the rest of the text for its `}`.
    let body = format!("text {}\n", "{.".repeat(500_000));
    loads_in_time("attribute-braces", &titled("braces", &body));
}

#[test]
fn many_empty_link_texts_load_in_linear_time() {
    // Each `[](x)` made the text be searched again from its start and shifted.
    let rows = format!("|| **a**\n`string` | {} ||\n", "[](x)".repeat(200_000));
    loads_in_time("empty-links", &method_page("q.links", &rows));
}

#[test]
fn notes_nest_only_to_the_depth_bound() {
    let body = format!(
        "{}deep\n\n{}",
        "{% note info %}\n\nx\n\n".repeat(100),
        "{% endnote %}\n".repeat(100)
    );
    let api = loads_in_time("nested-notes", &titled("nested.notes", &body));
    let limits = found(&api, DefectKind::Limit);
    // Notes 33 to 100 are dropped, each reported at its line.
    assert_eq!(limits.len(), 68, "{limits:?}");
    assert_eq!(limits[0].0, format!("q.md:{}", 5 + 32 * 4));
    assert!(
        limits[0].1.contains("notes nested deeper than 32"),
        "{limits:?}"
    );
}

#[test]
fn a_table_of_60000_rows_is_cut_at_the_item_bound() {
    // Each row was compared with every row before it (repeated names, parents of `a.b`).
    let rows: String = (0..60_000)
        .map(|i| format!("|| **f{i}** | x ||\n"))
        .collect();
    let api = loads_in_time("many-rows", &method_page("q.rows", &rows));
    let limits = found(&api, DefectKind::Limit);
    assert_eq!(limits.len(), 1, "{limits:?}");
    // The title, the who-can line, the heading and the table are 4 of the 4096 items.
    let first_cut = 4096 - 4 - 1;
    assert_eq!(limits[0].0, format!("q.md:{}", 10 + first_cut));
    assert!(limits[0].1.contains("more than 4096 blocks and table rows"));
    let m = api.methods.iter().find(|m| m.name == "q.rows").unwrap();
    assert_eq!(m.params.len(), first_cut);
}

#[test]
fn links_to_missing_anchors_among_many_headings_load_in_time() {
    // Each link looked through every heading, making a slug of each.
    let rows: String = (0..15_000)
        .map(|i| format!("|| **f{i}**\n[`object`](#h{i}) | x ||\n"))
        .collect();
    let headings: String = (0..15_000)
        .map(|i| format!("## H{i} {{#g{i}}}\n\n"))
        .collect();
    let page = format!("{}\n{headings}", method_page("q.links", &rows));
    let api = loads_in_time("many-headings", &page);
    assert_eq!(found(&api, DefectKind::Limit).len(), 1);
}

#[test]
fn a_table_in_a_cell_keeps_the_item_bound_of_rows() {
    let inner: String = (0..10_000)
        .map(|i| format!("|| **f{i}**\n`string` | x ||\n"))
        .collect();
    let rows = format!(
        "|| **f**\n`object` | Fields:\n#|\n|| **Name**\n`type` | **Description** ||\n{inner}|#\n||\n"
    );
    let api = loads_in_time("cell-rows", &method_page("q.cell", &rows));
    let m = api.methods.iter().find(|m| m.name == "q.cell").unwrap();
    let Type::Object { fields } = &m.params[0].ty else {
        panic!("{:?}", m.params[0].ty)
    };
    // The header row is one of the 4096.
    assert_eq!(fields.len(), 4095);
}

#[test]
fn many_includes_past_the_page_size_load_in_time() {
    // Found by the fuzzer: a refused include did not count, so each of 55,000 directives
    // scanned the included file again (35 s for 55,000 of a 300 KB file).
    let included = "x\n".repeat(70_000);
    let page = format!(
        "{}{}",
        method_page("many.includes", "|| **id**\n`integer` | Id ||\n"),
        "{% include [i](inc.txt) %}\n".repeat(20_000)
    );
    let dir = tree(
        "many-includes",
        &[
            ("i.md", page.as_bytes()),
            ("inc.txt", included.as_bytes()),
            OK_PAGE,
        ],
    );
    let (api, _) = load(&dir);
    let limits = found(&api, DefectKind::Limit);
    // No copy of 70,000 lines fits in 65,536: directives 1 to 256 are refused, the 257th
    // reports the count and ends it.
    assert_eq!(limits.len(), 256 + 1, "{:?}", &limits[..3]);
    assert!(
        limits[0].1.contains("would have more than 65536 lines"),
        "{:?}",
        limits[0]
    );
    let counted = limits
        .iter()
        .filter(|(_, m)| m.contains("more than 256 includes"));
    assert_eq!(counted.count(), 1);
    assert!(has_method(&api, "many.includes"));
    assert!(has_method(&api, "ok.fine"));
}

#[test]
fn a_page_of_100000_lines_is_cut_at_the_line_bound() {
    // Each line costs some 180 bytes beside its text: 4 million short lines took 750 MB.
    let body = "x\n".repeat(100_000);
    let api = loads_in_time("many-lines", &titled("lines", &body));
    assert_eq!(
        found(&api, DefectKind::Limit),
        [(
            "q.md:65537".to_owned(),
            "the page has more than 65536 lines with its includes: the rest is not read".to_owned()
        )]
    );
}

#[test]
fn a_response_example_nested_120_deep_is_untyped_past_the_depth_bound() {
    // serde_json reads 128 levels; a type inferred from each of them overflowed the stack in
    // the emitter (a 2 MiB thread in debug) before the bound.
    let json = format!("{}1{}", "[".repeat(120), "]".repeat(120));
    let page = format!(
        "# Deep deep.example\n\n> Who can execute the method: any user\n\n\
         ## Method Parameters\n\n#|\n|| **Name**\n`type` | **Description** ||\n\
         || **id**\n`integer` | Id ||\n|#\n\n## Response Handling\n\nHTTP Status: **200**\n\n\
         ```json\n{{\"result\": {json}, \"time\": {{\"start\": 1}}}}\n```\n"
    );
    let dir = tree("deep-example", &[("deep.md", page.as_bytes()), OK_PAGE]);
    let (api, code) = load(&dir);
    let m = api
        .methods
        .iter()
        .find(|m| m.name == "deep.example")
        .expect("deep.example");
    let mut arrays = 0;
    let mut ty = &m.result;
    while let Type::Array { item } = ty {
        arrays += 1;
        ty = item;
    }
    assert!(matches!(ty, Type::Untyped { .. }), "{ty:?}");
    assert!(arrays <= 32, "{arrays} array levels");
    assert!(has_method(&api, "ok.fine"));
    syn::parse_file(&code).expect("valid Rust");
}
