//! Names that do not move: generating with one unrelated page added or removed changes no
//! other public path; names come from where the docs define a type, and collisions are
//! resolved by looking only at the colliding items.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use b24_codegen::{generate, load, render, Options, Severity};

/// A fresh folder under the target dir with `files` written in it.
fn tree(name: &str, files: &[(&str, String)]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("names-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

fn table(rows: &str) -> String {
    format!("#|\n|| **Name**\n`type` | **Description** ||\n{rows}|#\n")
}

/// A method page with `params` and `returned` as field table rows.
fn page(h1: &str, params: &str, returned: &str) -> String {
    format!(
        "# {h1}\n\n> Scope: [`crm`](x.md)\n>\n> Who can execute the method: any user\n\nDoes a thing.\n\n\
         ## Method Parameters\n\n{}\n## Response Handling\n\n### Returned Data\n\n{}",
        table(params),
        table(returned)
    )
}

/// A page describing shared structures: `(title, anchor, rows)` sections.
fn structures(h1: &str, sections: &[(&str, &str, &str)]) -> String {
    let mut text = format!("# {h1}\n\nWhat these things are.\n\n");
    for (title, anchor, rows) in sections {
        text.push_str(&format!("## {title} {{#{anchor}}}\n\n{}\n", table(rows)));
    }
    text
}

const INT: &str = "[`integer`](./data-types.md)";
const STR: &str = "[`string`](./data-types.md)";
const OBJ: &str = "[`object`](./data-types.md)";

/// The docs tree of the test: two families whose shared structures both call themselves
/// `fields` (a collision), each with a nested `settings`, and methods using them.
fn base_files() -> Vec<(&'static str, String)> {
    let fields = |what: &str| {
        format!(
            "|| **ID**\n{INT} | Id of the {what} ||\n|| **TITLE**\n{STR} | Title ||\n\
             || **SETTINGS**\n{OBJ} | Settings of the {what} ||\n\
             || **SETTINGS.mode**\n{STR} | Mode ||\n"
        )
    };
    vec![
        ("data-types.md", "# Data Types\n\nThe types.\n".to_owned()),
        (
            "deal/index.md",
            structures(
                "Deals",
                &[("Deal Fields", "fields", &fields("deal")), ("Stage", "stage", &format!("|| **NAME**\n{STR} | Name ||\n"))],
            ),
        ),
        (
            "deal/deal-get.md",
            page(
                "Get a Deal deal.get",
                &format!("|| **id***\n{INT} | Id ||\n"),
                &format!(
                    "|| **result**\n{OBJ} | The deal, see [its fields](./index.md#fields) ||\n"
                ),
            ),
        ),
        (
            "deal/deal-add.md",
            page(
                "Add a Deal deal.add",
                &format!(
                    "|| **fields***\n{OBJ} | Values ||\n|| **fields.TITLE***\n{STR} | Title ||\n\
                     || **fields.OPTIONS**\n{OBJ} | Options ||\n|| **fields.OPTIONS.copy**\n{STR} | Copy ||\n"
                ),
                &format!("|| **result**\n{INT} | Id ||\n"),
            ),
        ),
        (
            "item/index.md",
            structures("Items", &[("Item Fields", "fields", &fields("item"))]),
        ),
        (
            "item/item-get.md",
            page(
                "Get an Item item.get",
                &format!("|| **id***\n{INT} | Id ||\n"),
                &format!(
                    "|| **result**\n{OBJ} | The answer ||\n\
                     || **item**\n{OBJ} | The item, see [its fields](./index.md#fields) ||\n\
                     || **stage**\n{OBJ} | Its stage, see [stage](../deal/index.md#stage) ||\n"
                ),
            ),
        ),
    ]
}

/// An unrelated family: its own method, a shared structure of its own and nested types.
fn unrelated_files() -> Vec<(&'static str, String)> {
    vec![
        (
            "task/index.md",
            structures(
                "Tasks",
                &[(
                    "Task Checklist",
                    "checklist",
                    &format!("|| **ID**\n{INT} | Id ||\n|| **OPTIONS**\n{OBJ} | Options ||\n|| **OPTIONS.x**\n{STR} | X ||\n"),
                )],
            ),
        ),
        (
            "task/task-get.md",
            page(
                "Get a Task task.get",
                &format!("|| **id***\n{INT} | Id ||\n|| **filter**\n{OBJ} | Filter ||\n|| **filter.ID**\n{INT} | Id ||\n"),
                &format!(
                    "|| **result**\n{OBJ} | The task ||\n|| **checklist**\n{OBJ} | See [checklist](./index.md#checklist) ||\n\
                     || **settings**\n{OBJ} | Settings ||\n|| **settings.mode**\n{STR} | Mode ||\n"
                ),
            ),
        ),
    ]
}

/// The generated code of a tree, checked to have loaded without errors.
fn generated(dir: &Path) -> String {
    let api = load(dir);
    let errors: Vec<String> = api
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(ToString::to_string)
        .collect();
    assert!(errors.is_empty(), "pages failed: {errors:#?}");
    render(&generate(&api, &Options::default()))
}

/// Every public path the code defines: modules, items, their fields and variants, and the
/// names `pub use` gives.
fn public_paths(code: &str) -> BTreeSet<String> {
    fn walk(items: &[syn::Item], prefix: &str, out: &mut BTreeSet<String>) {
        let public = |v: &syn::Visibility| matches!(v, syn::Visibility::Public(_));
        for item in items {
            let (name, vis): (String, &syn::Visibility) = match item {
                syn::Item::Mod(m) => {
                    let path = format!("{prefix}{}", m.ident);
                    if public(&m.vis) {
                        out.insert(path.clone());
                        if let Some((_, inner)) = &m.content {
                            walk(inner, &format!("{path}::"), out);
                        }
                    }
                    continue;
                }
                syn::Item::Struct(s) => {
                    for f in &s.fields {
                        if let (Some(ident), true) = (&f.ident, public(&f.vis)) {
                            out.insert(format!("{prefix}{}.{ident}", s.ident));
                        }
                    }
                    (s.ident.to_string(), &s.vis)
                }
                syn::Item::Enum(e) => {
                    for v in &e.variants {
                        out.insert(format!("{prefix}{}::{}", e.ident, v.ident));
                    }
                    (e.ident.to_string(), &e.vis)
                }
                syn::Item::Type(t) => (t.ident.to_string(), &t.vis),
                syn::Item::Const(c) => (c.ident.to_string(), &c.vis),
                syn::Item::Fn(f) => (f.sig.ident.to_string(), &f.vis),
                syn::Item::Use(u) => {
                    if public(&u.vis) {
                        let mut names = Vec::new();
                        use_names(&u.tree, &mut names);
                        for n in names {
                            out.insert(format!("{prefix}{n}"));
                        }
                    }
                    continue;
                }
                syn::Item::Impl(i) => {
                    // Associated items (batch keys, accessors, constructors).
                    if let syn::Type::Path(p) = &*i.self_ty {
                        if i.trait_.is_none() {
                            let ty = p.path.segments.last().map(|s| s.ident.to_string());
                            for it in &i.items {
                                let n = match it {
                                    syn::ImplItem::Const(c) => c.ident.to_string(),
                                    syn::ImplItem::Fn(f) => f.sig.ident.to_string(),
                                    _ => continue,
                                };
                                out.insert(format!(
                                    "{prefix}{}::{n}",
                                    ty.clone().unwrap_or_default()
                                ));
                            }
                        }
                    }
                    continue;
                }
                syn::Item::Macro(m) => {
                    // Items written through the runtime's macros: `struct Name` / `enum Name`.
                    let tokens: Vec<String> = m
                        .mac
                        .tokens
                        .clone()
                        .into_iter()
                        .map(|t| t.to_string())
                        .collect();
                    for w in tokens.windows(2) {
                        if w[0] == "struct" || w[0] == "enum" {
                            out.insert(format!("{prefix}{}", w[1]));
                        }
                    }
                    continue;
                }
                _ => continue,
            };
            if public(vis) {
                out.insert(format!("{prefix}{name}"));
            }
        }
    }
    fn use_names(tree: &syn::UseTree, out: &mut Vec<String>) {
        match tree {
            syn::UseTree::Path(p) => use_names(&p.tree, out),
            syn::UseTree::Name(n) => out.push(n.ident.to_string()),
            syn::UseTree::Rename(r) => out.push(r.rename.to_string()),
            syn::UseTree::Group(g) => g.items.iter().for_each(|t| use_names(t, out)),
            syn::UseTree::Glob(_) => {}
        }
    }
    let file = syn::parse_file(code).expect("the generated code parses");
    let mut out = BTreeSet::new();
    walk(&file.items, "", &mut out);
    out
}

#[test]
fn an_unrelated_page_added_or_removed_changes_no_other_public_path() {
    let base = tree("base", &base_files());
    let mut with = base_files();
    with.extend(unrelated_files());
    let more = tree("more", &with);
    let before = public_paths(&generated(&base));
    let after = public_paths(&generated(&more));
    let lost: Vec<&String> = before.difference(&after).collect();
    assert!(
        lost.is_empty(),
        "paths the added pages took away: {lost:#?}"
    );
    let added: Vec<&String> = after.difference(&before).collect();
    // What is new is the task family's own: its module, its structure and what is in them.
    for path in &added {
        assert!(
            path.starts_with("task")
                || path.starts_with("types::Checklist")
                || path.starts_with("types::Options"),
            "the added pages changed {path}: {added:#?}"
        );
    }
    assert!(
        added.iter().any(|p| p.as_str() == "types::Checklist"),
        "{added:#?}"
    );
}

#[test]
fn colliding_names_are_qualified_by_where_the_docs_define_them() {
    let dir = tree("collide", &base_files());
    let paths = public_paths(&generated(&dir));
    // `deal/index.md#fields` and `item/index.md#fields` both want `Fields`: each takes its
    // page's folder; their nested `settings` follow their structure's names.
    for expected in [
        "types::DealFields",
        "types::ItemFields",
        "types::DealFieldsSettings",
        "types::ItemFieldsSettings",
        "types::Stage",
        "deal::add::Fields",
        "deal::add::Options",
    ] {
        assert!(paths.contains(expected), "{expected} missing: {paths:#?}");
    }
    let numbered: Vec<&String> = paths
        .iter()
        .filter(|p| !p.contains('.') && p.ends_with(|c: char| c.is_ascii_digit()))
        .collect();
    assert!(
        numbered.is_empty(),
        "names made unique by a number: {numbered:#?}"
    );
}

#[test]
fn removing_a_colliding_page_renames_only_what_collided() {
    let all = base_files();
    let without: Vec<(&str, String)> = all
        .iter()
        .filter(|(p, _)| !p.starts_with("item/"))
        .cloned()
        .collect();
    let before = public_paths(&generated(&tree("all", &all)));
    let after = public_paths(&generated(&tree("without-item", &without)));
    let changed: BTreeSet<&String> = before.symmetric_difference(&after).collect();
    for path in &changed {
        assert!(
            path.starts_with("item")
                || path.starts_with("types::DealFields")
                || path.starts_with("types::ItemFields")
                || path.starts_with("types::Fields")
                || path.starts_with("types::Settings")
                // Described on the deal page, used by item.get alone.
                || path.starts_with("types::Stage"),
            "{path} changed: {changed:#?}"
        );
    }
    assert!(after.contains("types::Fields"), "{after:#?}");
    // The nested `settings` no longer collides either.
    assert!(after.contains("types::Settings"), "{after:#?}");
}

/// The corpus, when it is there (`B24_CORPUS`, or the shared checkout): one method page that
/// nothing links to, removed, changes no public path outside its own module. About a minute
/// in release mode: `cargo test --release -p b24-codegen --test names -- --ignored`.
#[test]
#[ignore = "reads the whole corpus twice"]
fn the_corpus_without_one_page_keeps_every_other_public_path() {
    let corpus = std::env::var_os("B24_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared/b24restdocs"));
    let page = "api-reference/user/userfields/user-userfield-file-get.md";
    if !corpus.join(page).is_file() {
        eprintln!("no corpus at {}: skipped", corpus.display());
        return;
    }
    let copy = Path::new(env!("CARGO_TARGET_TMPDIR")).join("names-corpus");
    let _ = std::fs::remove_dir_all(&copy);
    copy_tree(&corpus, &copy);
    let code = |dir: &Path| render(&generate(&load(dir), &Options::default()));
    let before = public_paths(&code(&copy));
    std::fs::remove_file(copy.join(page)).unwrap();
    let after = public_paths(&code(&copy));
    let _ = std::fs::remove_dir_all(&copy);
    let changed: Vec<&String> = before
        .symmetric_difference(&after)
        .filter(|p| !p.starts_with("user::userfield::file"))
        .collect();
    assert!(changed.is_empty(), "removing {page} changed: {changed:#?}");
    assert!(before
        .iter()
        .any(|p| p.starts_with("user::userfield::file::get::")));
    assert!(!after
        .iter()
        .any(|p| p.starts_with("user::userfield::file::get::")));
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            if entry.file_name() != ".git" {
                copy_tree(&entry.path(), &target);
            }
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The lock of a tree's API, and the code of another tree generated with it.
fn locked(published: &Path) -> std::sync::Arc<b24_codegen::lock::Lock> {
    std::sync::Arc::new(b24_codegen::lock::Lock::of(&load(published), "v1", None))
}

fn generated_with(dir: &Path, lock: &std::sync::Arc<b24_codegen::lock::Lock>) -> String {
    let options = Options {
        lock: Some(lock.clone()),
        ..Options::default()
    };
    render(&generate(&load(dir), &options))
}

/// `files` with every text passed through `edit` and the files `drop` names left out.
fn edited(
    files: &[(&'static str, String)],
    drop: &[&str],
    edit: impl Fn(&str) -> String,
) -> Vec<(&'static str, String)> {
    files
        .iter()
        .filter(|(p, _)| !drop.contains(p))
        .map(|(p, text)| (*p, edit(text)))
        .collect()
}

/// What a diff reports as removed inside methods.
fn removals(changes: &b24_codegen::diff::ApiDiff) -> Vec<&str> {
    changes
        .changed
        .iter()
        .flat_map(|m| &m.changes)
        .filter(|c| c.category == b24_codegen::diff::Category::Removed)
        .map(|c| c.what.as_str())
        .collect()
}

/// The next release against the docs in `dir`, published `lock` in hand: the updated lock,
/// what it kept of the published API, and the code generated with it.
fn next_release(
    lock: &b24_codegen::lock::Lock,
    dir: &Path,
) -> (b24_codegen::lock::Lock, b24_codegen::lock::Kept, String) {
    let mut api = load(dir);
    let next = lock.update(&b24_codegen::lock::Lock::facts(&api, "v2", Some(lock)));
    let kept = next.apply(&mut api);
    let options = Options {
        lock: Some(std::sync::Arc::new(lock.clone())),
        ..Options::default()
    };
    (next, kept, render(&generate(&api, &options)))
}

#[test]
fn the_lock_records_the_names_the_generator_gave() {
    let dir = tree("lock-record", &base_files());
    let lock = locked(&dir);
    // Shared structures under their resolved names (both want `Fields`), with their nested
    // types by wire path.
    let deal_fields = lock
        .types
        .iter()
        .find(|t| t.key == "deal/index.md#fields")
        .unwrap();
    assert_eq!(deal_fields.rust_path, "types::DealFields");
    let settings = deal_fields
        .names
        .iter()
        .find(|n| n.at == "SETTINGS")
        .unwrap();
    assert_eq!(settings.rust_name, "DealFieldsSettings");
    // A method's nested structures, and the fields that are shared structures.
    let add = lock.methods.iter().find(|m| m.name == "deal.add").unwrap();
    let at = |path: &str| {
        add.names
            .iter()
            .find(|n| n.at == path)
            .map(|n| &n.rust_name)
    };
    assert_eq!(at("fields").map(String::as_str), Some("Fields"));
    assert_eq!(at("fields.OPTIONS").map(String::as_str), Some("Options"));
    let get = lock.methods.iter().find(|m| m.name == "deal.get").unwrap();
    let result = get.result.iter().find(|f| f.path == "result").unwrap();
    assert_eq!(result.rust_type.as_deref(), Some("types::DealFields"));
}

#[test]
fn with_the_lock_a_removed_colliding_page_renames_nothing() {
    let all = tree("lock-all", &base_files());
    let lock = locked(&all);
    let without = tree(
        "lock-without-item",
        &edited(
            &base_files(),
            &["item/index.md", "item/item-get.md"],
            str::to_owned,
        ),
    );
    // Without the lock the deal's structure would become `Fields` (see above); with it, every
    // path the first release published outside the removed pages stays.
    let before = public_paths(&generated(&all));
    let after = public_paths(&generated_with(&without, &lock));
    let lost: Vec<&String> = before
        .difference(&after)
        .filter(|p| !p.starts_with("item") && !p.starts_with("types::ItemFields"))
        .collect();
    assert!(lost.is_empty(), "moved: {lost:#?}");
    assert!(after.contains("types::DealFieldsSettings"), "{after:#?}");
    assert!(!after.contains("types::Fields"), "{after:#?}");
}

#[test]
fn a_merged_structure_keeps_its_old_names_as_deprecated_aliases() {
    let v1 = tree("lock-merge-v1", &base_files());
    let lock = locked(&v1);
    // The next docs describe the item's fields by the deal's structure.
    let v2 = edited(&base_files(), &["item/index.md"], |text| {
        text.replace(
            "(./index.md#fields) ||\n|| **stage**",
            "(../deal/index.md#fields) ||\n|| **stage**",
        )
    });
    let code = generated_with(&tree("lock-merge-v2", &v2), &lock);
    let flat: String = code.split_whitespace().collect();
    for (old, now) in [
        ("ItemFields", "DealFields"),
        ("ItemFieldsSettings", "DealFieldsSettings"),
    ] {
        assert!(
            flat.contains(&format!("pubtype{old}={now};")),
            "{old} is not an alias of {now}:\n{code}"
        );
    }
    assert!(code.contains("the docs no longer describe `item/index.md#fields`"));
    // Every path of the first release is still there.
    let before = public_paths(&generated(&v1));
    let after = public_paths(&code);
    let lost: Vec<&String> = before.difference(&after).collect();
    assert!(lost.is_empty(), "lost: {lost:#?}");
}

#[test]
fn a_moved_structure_keeps_its_name() {
    let v1 = tree("lock-move-v1", &base_files());
    let lock = locked(&v1);
    // The item family's structure moves to another folder, whose name would qualify it.
    let moved: Vec<(&'static str, String)> = base_files()
        .into_iter()
        .map(|(p, text)| {
            let p = if p == "item/index.md" {
                "catalog/index.md"
            } else {
                p
            };
            (
                p,
                text.replace(
                    "(./index.md#fields) ||\n|| **stage**",
                    "(../catalog/index.md#fields) ||\n|| **stage**",
                ),
            )
        })
        .collect();
    let v2 = tree("lock-move-v2", &moved);
    let unlocked = public_paths(&generated(&v2));
    assert!(unlocked.contains("types::CatalogFields"), "{unlocked:#?}");
    let after = public_paths(&generated_with(&v2, &lock));
    for kept in [
        "types::ItemFields",
        "types::ItemFieldsSettings",
        "types::DealFields",
    ] {
        assert!(after.contains(kept), "{kept}: {after:#?}");
    }
    assert!(
        !after.iter().any(|p| p.starts_with("types::CatalogFields")),
        "{after:#?}"
    );
}

#[test]
fn union_variants_keep_their_names_when_the_docs_reorder_the_forms() {
    let files = |forms: &str| {
        let mut files = base_files();
        files.push((
            "tag/tag-set.md",
            page(
                "Set a Tag tag.set",
                &format!("|| **value***\n{forms} | The value ||\n"),
                &format!("|| **result**\n{INT} | Id ||\n"),
            ),
        ));
        files
    };
    let v1 = tree(
        "lock-union-v1",
        &files("[`integer[]`](./data-types.md) \\| [`string[]`](./data-types.md)"),
    );
    let lock = locked(&v1);
    let variants = |code: &str| -> String {
        let flat: String = code.split_whitespace().collect();
        let start = flat.find("pubenumValue").expect("the union is generated");
        flat[start..start + flat[start..].find('}').unwrap()].to_owned()
    };
    let first = variants(&generated(&v1));
    assert!(first.contains("Array(Vec<__b24::Int>)"), "{first}");
    assert!(first.contains("Array2(Vec<String>)"), "{first}");
    // Reordered, the names would swap; the lock keeps each with its form.
    let v2 = tree(
        "lock-union-v2",
        &files("[`string[]`](./data-types.md) \\| [`integer[]`](./data-types.md)"),
    );
    let unlocked = variants(&generated(&v2));
    assert!(unlocked.contains("Array(Vec<String>)"), "{unlocked}");
    let kept = variants(&generated_with(&v2, &lock));
    assert!(kept.contains("Array(Vec<__b24::Int>)"), "{kept}");
    assert!(kept.contains("Array2(Vec<String>)"), "{kept}");
}

#[test]
fn fields_the_docs_drop_stay_deprecated_while_their_structure_does() {
    let v1 = tree("lock-fields-v1", &base_files());
    let lock = b24_codegen::lock::Lock::of(&load(&v1), "v1", None);
    // The next docs drop a field of an in-place structure (`deal.add`'s `fields.OPTIONS`, an
    // object with a field of its own), a field of a shared structure (the deal's `TITLE`) and
    // a response field (`item.get`'s `stage`, a shared structure `deal.get` now links to).
    let v2 = edited(&base_files(), &[], |text| {
        let text = text
            .replace("|| **fields.OPTIONS**\n[`object`](./data-types.md) | Options ||\n|| **fields.OPTIONS.copy**\n[`string`](./data-types.md) | Copy ||\n", "")
            .replace("|| **stage**\n[`object`](./data-types.md) | Its stage, see [stage](../deal/index.md#stage) ||\n", "")
            .replace("Id of the deal ||\n|| **TITLE**\n[`string`](./data-types.md) | Title ||\n", "Id of the deal ||\n");
        if !text.starts_with("# Get a Deal") {
            return text;
        }
        text.replacen(
            "|| **id***\n[`integer`](./data-types.md) | Id ||\n",
            "|| **id***\n[`integer`](./data-types.md) | Id ||\n\
             || **stage**\n[`object`](./data-types.md) | A stage, see [stage](./index.md#stage) ||\n",
            1,
        )
    });
    let v2 = tree("lock-fields-v2", &v2);
    let (next, kept, code) = next_release(&lock, &v2);
    assert_eq!(kept.fields, 3);
    // The body of `struct name` after the `n`-th occurrence of `module` in the code.
    let body = |module: &str, name: &str| -> String {
        let from = code.find(module).unwrap_or_else(|| panic!("{module}"));
        let at = from + code[from..].find(&format!("pub struct {name} ")).unwrap();
        code[at..at + code[at..].find('}').unwrap()].to_owned()
    };
    for (module, name, field) in [
        (
            "pub mod add",
            "Fields",
            " options: __b24::Value = \"OPTIONS\"",
        ),
        ("pub mod types", "DealFields", " title: String = \"TITLE\""),
        (
            "pub mod item",
            "Response",
            " stage: super::super::types::Stage = \"stage\"",
        ),
    ] {
        let text = body(module, name);
        let line = text.lines().position(|l| l.contains(field));
        let line = line.unwrap_or_else(|| panic!("{name}.{field} lost:\n{text}"));
        let above: String = text
            .lines()
            .take(line)
            .skip(line.saturating_sub(2))
            .collect();
        assert!(
            above.contains("#[deprecated(note =")
                && above.contains("dropped from the docs in version v2"),
            "{name}.{field} is not deprecated:\n{text}"
        );
    }
    // The item's own `TITLE` (not dropped) is no deprecated field.
    assert!(!body("pub mod types", "ItemFields").contains("deprecated"));

    // The diff against the lock: the three are deprecations; what is lost for real (the
    // `Options` structure's own field, now untyped) is the one breaking change.
    let changes = b24_codegen::diff::diff_locks(&lock, &next);
    let all: Vec<&b24_codegen::diff::Change> =
        changes.changed.iter().flat_map(|m| &m.changes).collect();
    let deprecated: Vec<&str> = all
        .iter()
        .filter(|c| c.category == b24_codegen::diff::Category::Deprecated)
        .map(|c| c.what.as_str())
        .collect();
    assert!(
        deprecated
            .iter()
            .any(|w| w.contains("`fields.OPTIONS` dropped")),
        "{deprecated:#?}"
    );
    assert!(
        deprecated
            .iter()
            .any(|w| w.contains("`result.stage` dropped")),
        "{deprecated:#?}"
    );
    assert!(
        deprecated
            .iter()
            .any(|w| w.contains("`result.TITLE` dropped")),
        "{deprecated:#?}"
    );
    let breaking: Vec<&str> = all
        .iter()
        .filter(|c| c.breaking)
        .map(|c| c.what.as_str())
        .collect();
    assert_eq!(
        breaking,
        ["parameter `fields.OPTIONS.copy` removed"],
        "{all:#?}"
    );
}

#[test]
fn a_dropped_method_is_rebuilt_with_its_structures_and_their_names() {
    let v1 = tree("lock-dropped-v1", &base_files());
    let lock = b24_codegen::lock::Lock::of(&load(&v1), "v1", None);
    let v2 = tree(
        "lock-dropped-v2",
        &edited(&base_files(), &["deal/deal-add.md"], str::to_owned),
    );
    let (_, kept, code) = next_release(&lock, &v2);
    assert_eq!(kept.methods, 1);
    let before = public_paths(&generated(&v1));
    let after = public_paths(&code);
    let lost: Vec<&String> = before.difference(&after).collect();
    assert!(lost.is_empty(), "lost: {lost:#?}");
    // The structures are rebuilt from the lock, fields and all.
    let flat: String = code.split_whitespace().collect();
    assert!(flat.contains("reqfields:Fields=\"fields\""), "{code}");
    assert!(flat.contains("optcopy:String=\"copy\""), "{code}");
    assert!(code.contains("dropped from the docs in version v2"));
}

#[test]
fn a_moved_structure_keeps_the_fields_the_docs_dropped_from_it() {
    let v1 = tree("lock-move-drop-v1", &base_files());
    let lock = b24_codegen::lock::Lock::of(&load(&v1), "v1", None);
    // The item's structure moves to another folder and loses its `TITLE` on the way.
    let moved: Vec<(&'static str, String)> = base_files()
        .into_iter()
        .map(|(p, text)| {
            let p = if p == "item/index.md" {
                "catalog/index.md"
            } else {
                p
            };
            let text = text
                .replace(
                    "(./index.md#fields) ||\n|| **stage**",
                    "(../catalog/index.md#fields) ||\n|| **stage**",
                )
                .replace(
                    "Id of the item ||\n|| **TITLE**\n[`string`](./data-types.md) | Title ||\n",
                    "Id of the item ||\n",
                );
            (p, text)
        })
        .collect();
    let v2 = tree("lock-move-drop-v2", &moved);
    let (next, kept, code) = next_release(&lock, &v2);
    assert_eq!(kept.fields, 1);
    let start = code
        .find("pub struct ItemFields ")
        .expect("the moved structure keeps its name");
    let body = &code[start..start + code[start..].find('}').unwrap()];
    assert!(body.contains(" title: String = \"TITLE\""), "{body}");
    assert!(
        body.contains("dropped from the docs in version v2"),
        "{body}"
    );
    // And the diff says so: a deprecation, not a removal.
    let changes = b24_codegen::diff::diff_locks(&lock, &next);
    let removed = removals(&changes);
    assert!(removed.is_empty(), "{removed:#?}");
}

#[test]
fn an_error_code_the_docs_drop_keeps_its_variant_deprecated() {
    let with_errors = |codes: &[&str]| {
        let mut files = base_files();
        let rows: String = codes
            .iter()
            .map(|c| format!("|| `{c}` | The thing went wrong: {c} ||\n"))
            .collect();
        for (path, text) in &mut files {
            if *path == "deal/deal-get.md" {
                text.push_str(&format!(
                    "\n## Error Handling\n\n### Possible Error Codes\n\n#|\n|| **Code** | **Description** ||\n{rows}|#\n"
                ));
            }
        }
        files
    };
    let v1 = tree(
        "lock-errors-v1",
        &with_errors(&["ACCESS_DENIED", "NOT_FOUND"]),
    );
    let lock = b24_codegen::lock::Lock::of(&load(&v1), "v1", None);
    let v2 = tree("lock-errors-v2", &with_errors(&["ACCESS_DENIED"]));
    let (next, kept, code) = next_release(&lock, &v2);
    assert_eq!(kept.errors, 1);
    let flat: String = code.split_whitespace().collect();
    assert!(flat.contains("NotFound=Code(\"NOT_FOUND\")"), "{code}");
    assert!(
        flat.contains("#[deprecated(note=\"droppedfromthedocsinversionv2"),
        "{code}"
    );
    assert!(
        flat.contains("AccessDenied=Code(\"ACCESS_DENIED\")"),
        "{code}"
    );
    // The diff: a deprecation, nothing breaking.
    let changes = b24_codegen::diff::diff_locks(&lock, &next);
    let all: Vec<&b24_codegen::diff::Change> =
        changes.changed.iter().flat_map(|m| &m.changes).collect();
    assert!(all.iter().all(|c| !c.breaking), "{all:#?}");
    assert!(
        all.iter()
            .any(|c| c.what.contains("error code `NOT_FOUND` dropped")),
        "{all:#?}"
    );
}

#[test]
fn a_merged_structure_brings_its_dropped_fields_into_the_one_that_replaced_it() {
    // The item's structure has a field the deal's has not; the next docs describe the item by
    // the deal's structure.
    let v1_files = edited(&base_files(), &[], |text| {
        text.replace(
            "Id of the item ||\n",
            "Id of the item ||\n|| **ITEM_ONLY**\n[`string`](./data-types.md) | Item only ||\n",
        )
    });
    let v1 = tree("lock-merge-fields-v1", &v1_files);
    let lock = b24_codegen::lock::Lock::of(&load(&v1), "v1", None);
    let v2 = edited(&base_files(), &["item/index.md"], |text| {
        text.replace(
            "(./index.md#fields) ||\n|| **stage**",
            "(../deal/index.md#fields) ||\n|| **stage**",
        )
    });
    let v2 = tree("lock-merge-fields-v2", &v2);
    let (next, kept, code) = next_release(&lock, &v2);
    assert_eq!(kept.fields, 1);
    let start = code.find("pub struct DealFields ").unwrap();
    let body = &code[start..start + code[start..].find('}').unwrap()];
    assert!(
        body.contains(" item_only: String = \"ITEM_ONLY\""),
        "{body}"
    );
    let changes = b24_codegen::diff::diff_locks(&lock, &next);
    let removed = removals(&changes);
    assert!(removed.is_empty(), "{removed:#?}");
    // `item.get`'s `result.item` is now the deal's structure, which the old name aliases: a
    // deprecation, nothing breaking.
    let all: Vec<&b24_codegen::diff::Change> =
        changes.changed.iter().flat_map(|m| &m.changes).collect();
    assert!(all.iter().all(|c| !c.breaking), "{all:#?}");
    assert!(
        all.iter().any(|c| c
            .what
            .contains("types::ItemFields → types::DealFields (`types::ItemFields` kept")),
        "{all:#?}"
    );
}

#[test]
fn regenerating_with_the_lock_the_last_regeneration_wrote_changes_nothing() {
    use b24_codegen::package::{write_package, Package, Runtime};
    let package = |docs_version: &str, previous: Option<b24_codegen::lock::Lock>| Package {
        name: "names".into(),
        version: "1.0.0".into(),
        docs_version: docs_version.into(),
        runtime: Runtime::Version("0.1".into()),
        previous,
    };
    let out = |name: &str| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
        let _ = std::fs::remove_dir_all(&dir);
        dir
    };
    let read_lock = |dir: &Path| b24_codegen::lock::Lock::read(&dir.join("b24.lock")).unwrap();
    // v2 merges the item's structure into the deal's and drops `deal.add`.
    let v1 = load(&tree("regen-v1", &base_files()));
    let v2_files = edited(
        &base_files(),
        &["item/index.md", "deal/deal-add.md"],
        |text| {
            text.replace(
                "(./index.md#fields) ||\n|| **stage**",
                "(../deal/index.md#fields) ||\n|| **stage**",
            )
        },
    );
    let v2 = load(&tree("regen-v2", &v2_files));
    let first = out("regen-first");
    write_package(&v1, &package("v1", None), &first).unwrap();
    let second = out("regen-second");
    write_package(&v2, &package("v2", Some(read_lock(&first))), &second).unwrap();
    let third = out("regen-third");
    write_package(&v2, &package("v2", Some(read_lock(&second))), &third).unwrap();
    for file in ["src/lib.rs", "src/deal.rs", "src/item.rs", "b24.lock"] {
        let (a, b) = (
            std::fs::read_to_string(second.join(file)).unwrap(),
            std::fs::read_to_string(third.join(file)).unwrap(),
        );
        assert_eq!(a, b, "{file} changed");
    }
    let lib = std::fs::read_to_string(second.join("src/lib.rs")).unwrap();
    let flat: String = lib.split_whitespace().collect();
    assert!(flat.contains("pubtypeItemFields=DealFields;"), "{lib}");
}
