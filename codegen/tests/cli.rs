//! The `b24-codegen` binary: exit statuses, `check --json`, `generate`, `diff`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn docs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs")
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_b24-codegen"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn check_json_summarises_our_docs_and_succeeds() {
    let docs = docs();
    let out = run(&["check", docs.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    // Our docs: the badge family, crm.item.{add,get,list,update,delete},
    // crm.deal.{add,get,list,update,delete,fields}, crm.deal.userfield.{add,get,list,update,
    // delete}, user.current, event.{bind,unbind,get} and event.offline.{get,clear,error};
    // four event pages and a placement page.
    assert_eq!(summary["methods"], 27, "{summary:#}");
    assert_eq!(summary["generated"], 27);
    assert_eq!(summary["failed"], 0);
    assert_eq!(summary["page_kinds"]["method"], 27);
    assert_eq!(summary["events"]["pages"], 4);
    assert_eq!(summary["events"]["generated"], 4);
    assert_eq!(summary["placements"]["generated"], 1);
    assert!(summary["pages"].as_u64().unwrap() > 10);
    assert!(summary["diagnostics"].is_array());
    assert!(summary["typed_fields"].as_u64().unwrap() > 100);
}

#[test]
fn check_fails_on_a_page_it_cannot_generate_and_names_file_and_line() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-bad-page");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("nameless.md");
    std::fs::write(
        &page,
        "# Add Something\n\n> Who can execute the method: any user\n\n## Method Parameters\n\nNone.\n",
    )
    .unwrap();
    let out = run(&["check", page.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("nameless.md:1"), "{text}");
}

#[test]
fn check_and_generate_fail_on_a_page_they_cannot_read_and_name_file_and_line() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-unreadable-page");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("good.md"),
        "# Get Things thing.get\n\n> Who can execute the method: any user\n\nNo parameters.\n",
    )
    .unwrap();
    std::fs::write(dir.join("bad.md"), b"# Broken\n\n\xff\xfe\n").unwrap();
    let out = run(&["check", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.contains("bad.md:3: error[io]: the page is not UTF-8 text (line 3)"),
        "{text}"
    );
    assert!(text.contains("pages that could not be read: 1"), "{text}");
    let json = run(&["check", dir.to_str().unwrap(), "--json"]);
    assert_eq!(json.status.code(), Some(1));
    let summary: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(summary["unreadable"], 1, "{summary:#}");
    assert_eq!(summary["generated"], 1);
    // The rest is still generated, and the failure is in the exit status.
    let generated = run(&["generate", dir.to_str().unwrap()]);
    assert_eq!(generated.status.code(), Some(1));
    assert!(
        stderr(&generated).contains("bad.md:3"),
        "{}",
        stderr(&generated)
    );
    assert!(stdout(&generated).contains("\"thing.get\""));
}

#[test]
fn a_docs_folder_or_page_given_relative_to_the_current_folder_is_fenced_too() {
    // `page.md` has the parent `""`, which every path starts with: the fence let all through.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-relative-fence");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("page.md"),
        "# Leak p.leak\n\n> Who can execute the method: any user\n\n## Method Parameters\n\n\
         #|\n|| **Name**\n`type` | **Description** ||\n\
         || **a**\n`string` | {% include [p](/etc/passwd) %} ||\n|#\n",
    )
    .unwrap();
    for path in ["page.md", ".", ""] {
        let args: &[&str] = if path.is_empty() {
            &["generate", "./"]
        } else {
            &["generate", path]
        };
        let out = Command::new(env!("CARGO_BIN_EXE_b24-codegen"))
            .args(args)
            .current_dir(&dir)
            .output()
            .expect("the binary runs");
        assert!(out.status.success(), "{path}: {}", stderr(&out));
        let code = stdout(&out);
        assert!(code.contains("\"p.leak\""), "{path}: {code}");
        assert!(!code.contains("root:"), "{path}: /etc/passwd in the code");
    }
    let check = Command::new(env!("CARGO_BIN_EXE_b24-codegen"))
        .args(["check", "page.md"])
        .current_dir(&dir)
        .output()
        .expect("the binary runs");
    assert!(
        stdout(&check).contains("page.md:11: defect[outside_root]"),
        "{}",
        stdout(&check)
    );
}

#[test]
fn generate_prints_formatted_rust_that_parses() {
    let docs = docs();
    let out = run(&["generate", docs.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let code = stdout(&out);
    let file = syn::parse_file(&code).expect("valid Rust");
    assert!(!file.items.is_empty());
    assert!(code.contains("__b24::method!(\"crm.activity.badge.add\", V2, Write);"));
    // Formatted: one item per line, indented, not one long token line.
    assert!(code.lines().count() > 500);
    let long = code.lines().map(str::trim_start).find(|l| {
        let text = l.starts_with("///") || l.starts_with('"') || l.starts_with("#[doc");
        !text && l.len() > 120
    });
    assert_eq!(long, None, "an unformatted line");
}

#[test]
fn diff_exits_zero_without_breaking_changes_and_one_with_them() {
    let docs = docs();
    let same = run(&["diff", docs.to_str().unwrap(), docs.to_str().unwrap()]);
    assert_eq!(same.status.code(), Some(0), "{}", stderr(&same));
    assert_eq!(
        stdout(&same),
        "methods: 0 added, 0 removed, 0 renamed, 0 changed (0 with breaking changes)\n\
         changes: 0 added, 0 removed, 0 renamed, 0 newly typed, 0 retyped, 0 required changed, \
         0 deprecated, 0 changed\nsemver: patch\n"
    );

    // One page alone against the whole folder: the 26 other methods added, nothing removed.
    let page = docs.join("api-reference/user/user-current.md");
    let grown = run(&[
        "diff",
        page.to_str().unwrap(),
        docs.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(grown.status.code(), Some(0), "{}", stderr(&grown));
    let d: serde_json::Value = serde_json::from_slice(&grown.stdout).expect("JSON");
    assert_eq!(d["added"].as_array().unwrap().len(), 26, "{d:#}");
    assert_eq!(d["removed"].as_array().unwrap().len(), 0);

    // The other way round, 26 methods are removed: breaking.
    let shrunk = run(&["diff", docs.to_str().unwrap(), page.to_str().unwrap()]);
    assert_eq!(shrunk.status.code(), Some(1));
    assert!(stdout(&shrunk).starts_with("methods: 0 added, 26 removed, 0 renamed, "));
}

#[test]
fn bad_arguments_exit_two_and_say_what_is_wrong() {
    for args in [
        &["check"][..],
        &["check", "docs", "--frobnicate"],
        &["diff", "docs"],
        &["explode", "docs"],
        // A flag of another subcommand is an error, not silently ignored.
        &["generate", "docs", "--json"],
        &["check", "docs", "--out", "x.rs"],
        &["diff", "a", "b", "c"],
        &["conformance", "docs"],
        &["conformance", "docs", "--out", "dir", "--require", "many"],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        // clap's form: what is wrong, then the usage or where to find it.
        let text = stderr(&out);
        assert!(text.starts_with("error: "), "{args:?}: {text}");
        assert!(
            text.contains("Usage: b24-codegen") || text.contains("try '--help'"),
            "{args:?}: {text}"
        );
        assert!(stdout(&out).is_empty(), "{args:?}");
    }
    // No command at all: the help, on standard error, and the same exit code.
    let none = run(&[]);
    assert_eq!(none.status.code(), Some(2));
    assert!(stderr(&none).contains("Usage: b24-codegen <COMMAND>"));
}

#[test]
fn every_subcommand_has_help_and_the_binary_a_version() {
    let top = run(&["--help"]);
    assert_eq!(top.status.code(), Some(0), "{}", stderr(&top));
    let text = stdout(&top);
    let commands = ["check", "generate", "facts", "diff", "lock", "conformance"];
    for command in commands {
        assert!(text.contains(command), "{command} not in\n{text}");
    }
    assert!(text.contains("Exit codes:"), "{text}");
    for command in commands {
        for flag in ["--help", "-h"] {
            let out = run(&[command, flag]);
            assert_eq!(out.status.code(), Some(0), "{command} {flag}");
            let help = stdout(&out);
            assert!(
                help.contains(&format!("Usage: b24-codegen {command}")),
                "{command}: {help}"
            );
        }
    }
    let update = stdout(&run(&["lock", "update", "--help"]));
    assert!(
        update.contains("Usage: b24-codegen lock update"),
        "{update}"
    );
    assert!(update.contains("--docs-version"), "{update}");
    let help = stdout(&run(&["help", "diff"]));
    assert!(help.contains("--json"), "{help}");
    let version = run(&["--version"]);
    assert_eq!(version.status.code(), Some(0));
    assert_eq!(
        stdout(&version).trim(),
        format!("b24-codegen {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn clap_is_not_in_the_dependency_tree_of_api_users() {
    // `b24` (the facade `api!` users depend on) and `b24-macros` build b24-codegen without
    // its `cli` feature; only the binary needs clap.
    for package in ["b24", "b24-macros"] {
        let out = Command::new(env!("CARGO"))
            .args(["tree", "-e", "normal", "-p", package])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("cargo runs");
        assert!(out.status.success(), "{}", stderr(&out));
        let tree = stdout(&out);
        assert!(tree.contains("b24-codegen"), "{tree}");
        assert!(!tree.contains("clap"), "{package} depends on clap:\n{tree}");
    }
}
