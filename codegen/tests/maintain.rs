//! What a maintainer is told between two docs versions: the category of each change, the
//! semver bump and the changelog, on two small docs trees written here (old and new).

use std::path::{Path, PathBuf};
use std::process::Command;

use b24_codegen::diff::{diff, insert_changelog, ApiDiff, Bump, Category};
use b24_codegen::load;

/// One parameter row: name (with `*` when required) and type.
type Param<'a> = (&'a str, &'a str);

/// A method page in the upstream format: H1 with the method name, scope, parameters table,
/// a response and its table.
fn page(title: &str, method: &str, params: &[Param]) -> String {
    let mut rows = String::new();
    for (name, ty) in params {
        rows.push_str(&format!(
            "|| **{name}**\n[`{ty}`](../data-types.md) | The {} to use ||\n",
            name.trim_end_matches('*')
        ));
    }
    format!(
        "# {title} {method}\n\n> Scope: [`widget`](../scopes.md)\n>\n\
         > Who can execute the method: any user\n\nThe method `{method}` works on widgets.\n\n\
         ## Method Parameters\n\n#|\n|| **Name**\n`type` | **Description** ||\n{rows}|#\n\n\
         ## Response Handling\n\nHTTP Status: **200**\n\n```json\n{{\n    \"result\": true\n}}\n```\n\n\
         ### Returned Data\n\n#|\n|| **Name**\n`type` | **Description** ||\n\
         || **result**\n[`boolean`](../data-types.md) | `true` on success ||\n|#\n"
    )
}

/// Writes `pages` (path → text) into a fresh folder.
fn tree(name: &str, pages: &[(&str, String)]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in pages {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    dir
}

const W: &str = "api-reference/widget";

/// The old docs: five widget methods.
fn old_docs(name: &str) -> PathBuf {
    tree(
        name,
        &[
            (
                &format!("{W}/widget-get.md"),
                page(
                    "Get a Widget",
                    "widget.get",
                    &[
                        ("id*", "integer"),
                        ("filter", "frobnicator"),
                        ("Name", "string"),
                        ("size", "integer"),
                    ],
                ),
            ),
            (
                &format!("{W}/widget-copy-to.md"),
                page("Copy a Widget", "widget.copyto", &[("id*", "integer")]),
            ),
            (
                &format!("{W}/widget-list.md"),
                page("List Widgets", "widget.list", &[("select", "string")]),
            ),
            (
                &format!("{W}/widget-delete.md"),
                page("Delete a Widget", "widget.delete", &[("id*", "integer")]),
            ),
            (
                &format!("{W}/widget-legacy.md"),
                page("Old Widget Call", "widget.legacy", &[("id*", "integer")]),
            ),
        ],
    )
}

/// The new docs: `copyto` spelled `copyTo`, `delete` gone, `add` new, `legacy` moved to an
/// outdated section, `get`'s `filter` newly typed, `size` retyped, `Name` spelled `NAME`, and
/// `list`'s `select` required.
fn new_docs(name: &str) -> PathBuf {
    tree(
        name,
        &[
            (
                &format!("{W}/widget-get.md"),
                page(
                    "Get a Widget",
                    "widget.get",
                    &[
                        ("id*", "integer"),
                        ("filter", "string"),
                        ("NAME", "string"),
                        ("size", "string"),
                    ],
                ),
            ),
            (
                &format!("{W}/widget-copy-to.md"),
                page("Copy a Widget", "widget.copyTo", &[("id*", "integer")]),
            ),
            (
                &format!("{W}/widget-list.md"),
                page("List Widgets", "widget.list", &[("select*", "string")]),
            ),
            (
                &format!("{W}/widget-add.md"),
                page("Add a Widget", "widget.add", &[("name*", "string")]),
            ),
            (
                &format!("{W}/outdated/widget-legacy.md"),
                page("Old Widget Call", "widget.legacy", &[("id*", "integer")]),
            ),
        ],
    )
}

/// `category: what (file:line)` for every change of one method.
fn changes_of(d: &ApiDiff, method: &str) -> Vec<String> {
    d.changed
        .iter()
        .find(|m| m.name == method)
        .map(|m| {
            m.changes
                .iter()
                .map(|c| format!("{}: {} ({})", c.category.label(), c.what, c.source))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn each_change_has_its_category_and_place() {
    let (old, new) = (
        load(&old_docs("maintain-old")),
        load(&new_docs("maintain-new")),
    );
    let d = diff(&old, &new);
    let names =
        |v: &[b24_codegen::diff::MethodRef]| v.iter().map(|m| m.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&d.added), ["widget.add"], "{d}");
    // The case-only rename is not a removal.
    assert_eq!(names(&d.removed), ["widget.delete"], "{d}");
    assert_eq!(d.renamed.len(), 1, "{d}");
    assert_eq!(d.renamed[0].from, "widget.copyto");
    assert_eq!(d.renamed[0].to.name, "widget.copyTo");
    assert_eq!(
        d.renamed[0].was.to_string(),
        format!("{W}/widget-copy-to.md:1")
    );

    let get = format!("{W}/widget-get.md");
    assert_eq!(
        changes_of(&d, "widget.get"),
        [
            format!("renamed: parameter `Name` renamed to `NAME` ({get}:18)"),
            format!("newly typed: parameter `filter`: type untyped → string ({get}:16)"),
            format!("retyped: parameter `size`: type integer → string ({get}:20)"),
        ],
        "{d}"
    );
    assert_eq!(
        changes_of(&d, "widget.list"),
        [format!(
            "required changed: parameter `select`: optional → required ({W}/widget-list.md:14)"
        )]
    );
    assert_eq!(
        changes_of(&d, "widget.legacy"),
        [
            format!(
                "renamed: page moved from {W}/widget-legacy.md:1 ({W}/outdated/widget-legacy.md:1)"
            ),
            format!("deprecated: now deprecated ({W}/outdated/widget-legacy.md:1)"),
        ]
    );
    let counts = d.counts();
    assert_eq!(counts[&Category::Added], 1);
    assert_eq!(counts[&Category::Removed], 1);
    assert_eq!(counts[&Category::Renamed], 3);
    assert_eq!(counts[&Category::NewlyTyped], 1);
    assert_eq!(counts[&Category::Retyped], 1);
    assert_eq!(counts[&Category::RequiredChanged], 1);
    assert_eq!(counts[&Category::Deprecated], 1);
    assert_eq!(counts[&Category::Changed], 0);
    assert_eq!(d.bump(), Bump::Major);
}

#[test]
fn the_bump_is_the_largest_change_needs() {
    let old = old_docs("bump-old");
    let same = diff(&load(&old), &load(&old));
    assert_eq!(same.bump(), Bump::Patch);

    // A page moved alone changes no Rust path: patch.
    let legacy = std::fs::read_to_string(old.join(format!("{W}/widget-legacy.md"))).unwrap();
    let moved = old_docs("bump-moved");
    std::fs::remove_file(moved.join(format!("{W}/widget-legacy.md"))).unwrap();
    std::fs::create_dir_all(moved.join(format!("{W}/more"))).unwrap();
    std::fs::write(moved.join(format!("{W}/more/widget-legacy.md")), &legacy).unwrap();
    let d = diff(&load(&old), &load(&moved));
    assert_eq!(d.counts()[&Category::Renamed], 1, "{d}");
    assert_eq!(d.bump(), Bump::Patch, "{d}");

    // A method added: minor; the reverse (removed): major.
    let grown = old_docs("bump-grown");
    std::fs::write(
        grown.join(format!("{W}/widget-add.md")),
        page("Add a Widget", "widget.add", &[("name", "string")]),
    )
    .unwrap();
    assert_eq!(diff(&load(&old), &load(&grown)).bump(), Bump::Minor);
    assert_eq!(diff(&load(&grown), &load(&old)).bump(), Bump::Major);
}

#[test]
fn the_changelog_has_keep_a_changelog_sections_with_places() {
    let d = diff(
        &load(&old_docs("changelog-old")),
        &load(&new_docs("changelog-new")),
    );
    let section = d.changelog("2.0.0 - docs of 2026-08-21");
    assert!(
        section.starts_with("## [2.0.0 - docs of 2026-08-21]\n\nSemver: major bump.\n"),
        "{section}"
    );
    let order: Vec<&str> = section.lines().filter(|l| l.starts_with("### ")).collect();
    assert_eq!(
        order,
        ["### Added", "### Changed", "### Deprecated", "### Removed"]
    );
    assert!(section.contains(&format!("- `widget.add` ({W}/widget-add.md:1)")));
    assert!(section
        .contains("- **Breaking** (renamed): `widget.copyto` is now spelled `widget.copyTo`"));
    assert!(section.contains(&format!(
        "- **Breaking** (newly typed): `widget.get`: parameter `filter`: type untyped → string ({W}/widget-get.md:16)"
    )));
    assert!(section.contains(&format!(
        "- (deprecated): `widget.legacy`: now deprecated ({W}/outdated/widget-legacy.md:1)"
    )));
    assert!(section.contains(&format!(
        "- **Breaking**: `widget.delete` (was {W}/widget-delete.md:1)"
    )));

    // Inserted above the newest release of an existing changelog, or a new one.
    let fresh = insert_changelog(None, &section);
    assert!(fresh.starts_with("# Changelog\n"));
    assert!(fresh.ends_with(&section));
    let existing = "# Changelog\n\nIntro.\n\n## [1.0.0]\n\n### Added\n\n- all\n";
    let both = insert_changelog(Some(existing), &section);
    let new_at = both.find("## [2.0.0").unwrap();
    let old_at = both.find("## [1.0.0]").unwrap();
    assert!(both.starts_with("# Changelog\n\nIntro.\n\n"), "{both}");
    assert!(new_at < old_at, "{both}");
    // The same release written again replaces its section, wherever it is.
    assert_eq!(insert_changelog(Some(&both), &section), both);
    let older = "## [1.0.0]\n\n### Added\n\n- other\n";
    let replaced = insert_changelog(Some(&both), older);
    assert_eq!(replaced.matches("## [1.0.0]").count(), 1, "{replaced}");
    assert!(
        replaced.ends_with("- other\n") && !replaced.contains("- all"),
        "{replaced}"
    );
    assert!(replaced.contains("## [2.0.0"), "{replaced}");
}

#[test]
fn the_cli_prints_categories_and_bump_and_writes_the_changelog() {
    let (old, new) = (old_docs("cli-maintain-old"), new_docs("cli-maintain-new"));
    let log = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-maintain-CHANGELOG.md");
    let _ = std::fs::remove_file(&log);
    let out = Command::new(env!("CARGO_BIN_EXE_b24-codegen"))
        .args(["diff", old.to_str().unwrap(), new.to_str().unwrap()])
        .args(["--changelog", log.to_str().unwrap(), "--release", "2.0.0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "breaking: exit 1");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("methods: 1 added, 1 removed, 1 renamed, 3 changed (2 with breaking changes)")
    );
    assert_eq!(
        lines.next(),
        Some("changes: 1 added, 1 removed, 3 renamed, 1 newly typed, 1 retyped, 1 required changed, 1 deprecated, 0 changed")
    );
    assert_eq!(lines.next(), Some("semver: major"));
    assert!(text.contains("> widget.copyto → widget.copyTo ("), "{text}");
    let written = std::fs::read_to_string(&log).unwrap();
    assert!(written.contains("## [2.0.0]\n"), "{written}");

    let json = Command::new(env!("CARGO_BIN_EXE_b24-codegen"))
        .args([
            "diff",
            old.to_str().unwrap(),
            new.to_str().unwrap(),
            "--json",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["bump"], "major");
    assert_eq!(v["counts"]["newly_typed"], 1);
    assert_eq!(v["renamed"][0]["from"], "widget.copyto");
}

/// The two shared docs versions (2025-08-26 and 2026-08-21) beside the repo, when present.
fn shared_versions() -> Option<(PathBuf, PathBuf)> {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    let old = shared.join("b24restdocs-2025-08-26");
    let new = shared.join("b24restdocs");
    (old.is_dir() && new.is_dir()).then_some((old, new))
}

#[test]
fn on_the_two_shared_versions_no_case_only_rename_or_page_move_is_a_removal() {
    let Some((old, new)) = shared_versions() else {
        eprintln!("skipped: no ../shared/b24restdocs-2025-08-26 and ../shared/b24restdocs");
        return;
    };
    let (old, new) = (load(&old), load(&new));
    let d = diff(&old, &new);
    for m in &d.removed {
        let lower = m.name.to_lowercase();
        let kept = new
            .methods
            .iter()
            .find(|n| n.version == m.version && n.name.to_lowercase() == lower);
        assert!(kept.is_none(), "{} reported removed, is {:?}", m.name, kept);
    }
    assert!(d.renamed.len() >= 20, "{}", d.renamed.len());
    assert!(d
        .renamed
        .iter()
        .all(|r| r.from != r.to.name && r.from.eq_ignore_ascii_case(&r.to.name)));
    let counts = d.counts();
    // The docs mostly state types they did not before: most type changes are newly typed.
    assert!(
        counts[&Category::NewlyTyped] > 2 * counts[&Category::Retyped],
        "{counts:?}"
    );
    assert_eq!(d.bump(), Bump::Major);
    let section = d.changelog("Unreleased");
    assert!(section.contains("### Removed"));
}
