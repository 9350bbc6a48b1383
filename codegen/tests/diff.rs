//! `diff`: the changes between our `docs/` and an edited copy of it.

use std::path::{Path, PathBuf};

use b24_codegen::diff::{diff, ApiDiff};
use b24_codegen::load;

const BADGES: &str = "api-reference/crm/timeline/activities/configurable/badges";

fn docs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs")
}

/// Copies `from` into a fresh folder under the target dir.
fn copy_tree(from: &Path, name: &str) -> PathBuf {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), target).unwrap();
            }
        }
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    copy(from, &dir);
    dir
}

/// Replaces the first `old` in the file with `new`; the edit must apply.
fn edit(dir: &Path, file: &str, old: &str, new: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(old), "{file} has no {old:?}");
    std::fs::write(&path, text.replacen(old, new, 1)).unwrap();
}

/// The change lines of one method, as `what` plus ` [breaking]` when breaking.
fn changes_of(d: &ApiDiff, method: &str) -> Vec<String> {
    d.changed
        .iter()
        .find(|m| m.name == method)
        .map(|m| {
            m.changes
                .iter()
                .map(|c| format!("{}{}", c.what, if c.breaking { " [breaking]" } else { "" }))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn identical_trees_have_no_changes() {
    let api = load(&docs());
    let again = load(&copy_tree(&docs(), "diff-same"));
    let d = diff(&api, &again);
    assert!(d.is_empty(), "{d}");
    assert!(!d.is_breaking());
    assert_eq!(
        d.to_string(),
        "methods: 0 added, 0 removed, 0 renamed, 0 changed (0 with breaking changes)\n\
         changes: 0 added, 0 removed, 0 renamed, 0 newly typed, 0 retyped, 0 required changed, \
         0 deprecated, 0 changed\nsemver: patch\n"
    );
}

#[test]
fn edits_to_pages_are_reported_with_what_breaks() {
    let new = copy_tree(&docs(), "diff-edited");
    let add = format!("{BADGES}/crm-activity-badge-add.md");
    std::fs::remove_file(new.join(format!("{BADGES}/crm-activity-badge-delete.md"))).unwrap();
    // `title`: `string|array` → `string`; `type` no longer required; a new required parameter.
    edit(&new, &add, "[`string`\\|`array`]", "[`string`]");
    edit(&new, &add, "|| **type***", "|| **type**");
    edit(
        &new,
        &add,
        "|| **type**",
        "|| **entityTypeId***\n[`integer`](../../../../../data-types.md) | Owner type ||\n|| **type**",
    );
    edit(
        &new,
        &add,
        "|| `ACCESS_DENIED` | The user lacks the permissions needed for this operation ||\n",
        "",
    );
    // A field of the shared badge record: every method returning a badge changes.
    edit(
        &new,
        &format!("{BADGES}/index.md"),
        "|| **value**\n",
        "|| **text**\n",
    );

    let (old_api, new_api) = (load(&docs()), load(&new));
    let d = diff(&old_api, &new_api);

    assert!(d.added.is_empty(), "{d}");
    let removed: Vec<_> = d.removed.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(removed, ["crm.activity.badge.delete"]);
    assert_eq!(
        changes_of(&d, "crm.activity.badge.add"),
        [
            "parameter `entityTypeId` added (required, integer) [breaking]",
            "parameter `title`: type string|untyped[] → string [breaking]",
            "parameter `type`: required → optional",
            "response field `result.badge.value` removed [breaking]",
            "response field `result.badge.text` added (string|untyped[])",
            "error code `ACCESS_DENIED` removed [breaking]",
        ],
        "{d}"
    );
    let get = changes_of(&d, "crm.activity.badge.get");
    assert!(
        get.contains(&"response field `result.badge.value` removed [breaking]".to_owned()),
        "{get:?}"
    );
    assert!(d.is_breaking());

    // The other way round, the deleted method is an addition and nothing else is breaking
    // except what was loosened (the type of `title` and the record's field).
    let back = diff(&new_api, &old_api);
    let added: Vec<_> = back.added.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(added, ["crm.activity.badge.delete"]);
    assert!(back.removed.is_empty());
    assert!(changes_of(&back, "crm.activity.badge.add")
        .contains(&"parameter `type`: optional → required [breaking]".to_owned()));

    // The text report names each method and each change with its file:line.
    let text = d.to_string();
    assert!(
        text.starts_with("methods: 0 added, 1 removed, 0 renamed, "),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "- crm.activity.badge.delete (was {BADGES}/crm-activity-badge-delete.md:1) [breaking]"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "    [removed] error code `ACCESS_DENIED` removed [breaking] ({add}:"
        )),
        "{text}"
    );
}
