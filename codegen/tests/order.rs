//! The model does not depend on the order pages are read in: a method that takes a field type
//! from a shared structure sees the structure as the examples of all pages type it, whichever
//! page is read first; and which example types a shared field is decided by where the
//! examples are in the docs.
//!
//! Pages are read in the order of their sorted paths, so the tests reorder pages by naming
//! them: the same two method pages are written once as `first.md`/`second.md` and once the
//! other way round, and the two models are compared with the file names swapped back.

use std::path::{Path, PathBuf};

use b24_codegen::model::{Scalar, Type};
use b24_codegen::{facts, generate, load, render, Api, Options, Severity};

/// A fresh folder under the target dir with `files` written in it.
fn tree(name: &str, files: &[(&str, String)]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("order-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

const INT: &str = "[`integer`](./data-types.md)";
const OBJ: &str = "[`object`](./data-types.md)";

fn table(rows: &str) -> String {
    format!("#|\n|| **Name**\n`type` | **Description** ||\n{rows}|#\n")
}

/// A method page with `params` and `returned` as field table rows and `example` as its
/// response example's `result`.
fn method_page(h1: &str, params: &str, returned: &str, example: &str) -> String {
    format!(
        "# {h1}\n\n> Scope: [`thing`](x.md)\n>\n> Who can execute the method: any user\n\n\
         Does a thing.\n\n## Method Parameters\n\n{}\n\
         ## Response Handling\n\nHTTP Status: **200**\n\n```json\n{{\"result\": {example}}}\n```\n\n\
         ### Returned Data\n\n{}",
        table(params),
        table(returned),
    )
}

/// The docs: the shared structure `Thing` (its `VALUE` left untyped by the table); `thing.get`
/// returning it, whose example shows `VALUE` as a string; `thing.set` taking a value typed
/// `thing.VALUE` (the type of that field of the structure). `get_file` and `set_file` are the
/// names of the two method pages.
fn files(get_file: &'static str, set_file: &'static str) -> Vec<(&'static str, String)> {
    vec![
        ("data-types.md", "# Data Types\n\nThe types.\n".to_owned()),
        (
            "things.md",
            format!(
                "# Things\n\nWhat things are.\n\n## Thing {{#thing}}\n\n{}",
                table(&format!(
                    "|| **ID**\n{INT} | Id ||\n|| **VALUE**\n{OBJ} | What the thing holds ||\n"
                ))
            ),
        ),
        (
            get_file,
            method_page(
                "Get a Thing thing.get",
                &format!("|| **id***\n{INT} | Id ||\n"),
                &format!(
                    "|| **result**\n{OBJ} | The thing, see [its fields](./things.md#thing) ||\n"
                ),
                r#"{"ID": 1, "VALUE": "small"}"#,
            ),
        ),
        (
            set_file,
            method_page(
                "Set a Thing's Value thing.set",
                &format!(
                    "|| **id***\n{INT} | Id ||\n\
                     || **value***\n[`thing.VALUE`](./things.md#thing) | The new value ||\n"
                ),
                "|| **result**\n[`boolean`](./data-types.md) | Done ||\n",
                "true",
            ),
        ),
    ]
}

/// The docs of [`files`] with `thing.set` replaced by `thing.peek`, which returns the shared
/// structure too, its example showing `VALUE` as an object.
fn conflicting_files(
    get_file: &'static str,
    peek_file: &'static str,
) -> Vec<(&'static str, String)> {
    let mut files = files(get_file, "unused.md");
    files.pop();
    files.push((
        peek_file,
        method_page(
            "Peek at a Thing thing.peek",
            &format!("|| **id***\n{INT} | Id ||\n"),
            &format!("|| **result**\n{OBJ} | The thing, see [its fields](./things.md#thing) ||\n"),
            r#"{"ID": 2, "VALUE": {"size": 3}}"#,
        ),
    ));
    files
}

/// The api of a tree, checked to have loaded without errors.
fn loaded(dir: &Path) -> Api {
    let api = load(dir);
    let errors: Vec<String> = api
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(ToString::to_string)
        .collect();
    assert!(errors.is_empty(), "pages failed: {errors:#?}");
    api
}

/// `text` with the page names `first.md` and `second.md` swapped.
fn swapped(text: &str) -> String {
    text.replace("first.md", "\u{0}")
        .replace("second.md", "first.md")
        .replace('\u{0}', "second.md")
}

/// What the model says that the generated code and the facts show, and the diagnostics.
fn outputs(api: &Api) -> (String, String, Vec<String>) {
    let facts = serde_json::to_string_pretty(&facts::all_facts(api)).unwrap();
    let code = render(&generate(api, &Options::default()));
    let diags = api.diagnostics.iter().map(ToString::to_string).collect();
    (facts, code, diags)
}

/// The docs `files` makes, loaded twice: with its two pages named `first.md` and `second.md`,
/// and the other way round (so read in the other order).
fn both_orders(
    name: &str,
    files: fn(&'static str, &'static str) -> Vec<(&'static str, String)>,
) -> (Api, Api) {
    (
        loaded(&tree(&format!("{name}-a"), &files("first.md", "second.md"))),
        loaded(&tree(&format!("{name}-b"), &files("second.md", "first.md"))),
    )
}

/// The type of the field `name` (its wire name) of the shared structure `t`.
fn field_of(t: &b24_codegen::model::NamedType, name: &str) -> Type {
    let field = t.fields.iter().find(|f| f.api_name == name);
    field
        .unwrap_or_else(|| panic!("no field {name}"))
        .ty
        .clone()
}

/// Asserts that two loads of the same docs, the pages `first.md` and `second.md` named the
/// other way round in `b`, say the same: facts, generated code and diagnostics.
fn assert_same_but_for_page_names(a: &Api, b: &Api) {
    let (facts_a, code_a, mut diags_a) = outputs(a);
    let (facts_b, code_b, diags_b) = outputs(b);
    assert_eq!(facts_a, swapped(&facts_b), "facts depend on the page order");
    assert_eq!(
        code_a,
        swapped(&code_b),
        "generated code depends on the page order"
    );
    let mut diags_b: Vec<String> = diags_b.iter().map(|d| swapped(d)).collect();
    diags_b.sort();
    diags_a.sort();
    assert_eq!(diags_a, diags_b, "diagnostics depend on the page order");
}

#[test]
fn a_field_type_taken_from_a_shared_structure_does_not_depend_on_page_order() {
    // `first.md` sorts before `second.md`: `thing.get` is read first here, `thing.set` there.
    let (get_first, set_first) = both_orders("field-type", files);
    let source = |api: &Api, name: &str| {
        let m = api.methods.iter().find(|m| m.name == name).unwrap();
        m.source.file.to_string()
    };
    assert_eq!(source(&get_first, "thing.get"), "first.md");
    assert_eq!(source(&set_first, "thing.get"), "second.md");

    // `thing.set`'s `value` is typed as the structure's `VALUE` ends up, whichever page is
    // read first: a string, as `thing.get`'s example shows it.
    for (order, api) in [("get first", &get_first), ("set first", &set_first)] {
        let set = api.methods.iter().find(|m| m.name == "thing.set").unwrap();
        let value = set.params.iter().find(|p| p.api_name == "value").unwrap();
        assert!(
            matches!(
                value.ty,
                Type::Scalar {
                    scalar: Scalar::String
                }
            ),
            "{order}: {:?}",
            value.ty
        );
    }

    assert_same_but_for_page_names(&get_first, &set_first);
}

#[test]
fn examples_that_type_a_shared_field_differently_give_it_the_first_in_the_docs() {
    let (get_first, peek_first) = both_orders("conflict", conflicting_files);
    // Which example types the shared `VALUE` is decided by where the examples are in the
    // docs, not by which page is read first: `first.md`'s. The method whose example does not
    // fit that returns its own copy of the structure, widened to what its example shows.
    let value = |api: &Api| {
        let t = api.types.values().find(|t| t.title == "Thing").unwrap();
        field_of(t, "VALUE")
    };
    let result = |api: &Api, name: &str| {
        api.methods
            .iter()
            .find(|m| m.name == name)
            .unwrap()
            .result
            .clone()
    };
    assert!(
        matches!(
            value(&get_first),
            Type::Scalar {
                scalar: Scalar::String
            }
        ),
        "{:?}",
        value(&get_first)
    );
    assert!(matches!(result(&get_first, "thing.get"), Type::Ref { .. }));
    assert!(matches!(
        result(&get_first, "thing.peek"),
        Type::Object { .. }
    ));
    assert!(
        matches!(value(&peek_first), Type::Object { .. }),
        "{:?}",
        value(&peek_first)
    );
    assert!(matches!(
        result(&peek_first, "thing.peek"),
        Type::Ref { .. }
    ));
    assert!(matches!(
        result(&peek_first, "thing.get"),
        Type::Object { .. }
    ));
}

/// A method typing a field by a structure's name, and another linking to the page outside the
/// loaded folder that defines it (so that page is read only when the link is followed).
fn named_files(user: &'static str, linker: &'static str) -> Vec<(&'static str, String)> {
    let widget = table(&format!("|| **ID**\n{INT} | Id ||\n"));
    vec![
        (".yfm", String::new()),
        (
            "shared/data-types.md",
            "# Data Types\n\nThe types.\n".to_owned(),
        ),
        (
            "shared/widgets.md",
            format!("# Widgets\n\nWhat widgets are.\n\n## Widget {{#widget}}\n\n{widget}"),
        ),
        (
            user,
            method_page(
                "widget.use",
                "|| **w**\n`Widget` | A widget ||\n",
                &format!("|| **ok**\n{INT} | Done ||\n"),
                "{\"ok\": 1}",
            ),
        ),
        (
            linker,
            method_page(
                "widget.link",
                "|| **x**\n[`object`](../shared/widgets.md#widget) | A widget ||\n",
                &format!("|| **ok**\n{INT} | Done ||\n"),
                "{\"ok\": 1}",
            ),
        ),
    ]
}

#[test]
fn a_name_defined_on_a_page_read_for_a_later_link_resolves_whichever_page_is_read_first() {
    for (order, (user, linker)) in [
        ("user first", ("api/first.md", "api/second.md")),
        ("linker first", ("api/second.md", "api/first.md")),
    ] {
        let dir = tree(&order.replace(' ', "-"), &named_files(user, linker));
        let api = load(&dir.join("api"));
        let m = api.methods.iter().find(|m| m.name == "widget.use").unwrap();
        let w = m.params.iter().find(|p| p.api_name == "w").unwrap();
        assert!(
            matches!(&w.ty, Type::Ref { key } if key.0.ends_with("widgets.md#widget")),
            "{order}: {:?}",
            w.ty
        );
    }
}

/// The docs: a catalog of two structures that refer to each other (an order lists its items,
/// an item names its order and the order's id) and two methods, `shop.order.get` on
/// `order_file` returning an order and `shop.item.get` on `item_file` returning an item.
fn cycle_files(order_file: &'static str, item_file: &'static str) -> Vec<(&'static str, String)> {
    let get = |h1: &str, structure: &str| {
        method_page(
            h1,
            &format!("|| **id***\n{INT} | Id ||\n"),
            &format!("|| **result**\n[`{structure}`](./catalog.md#{structure}) | It ||\n"),
            r#"{"id": 1}"#,
        )
    };
    vec![
        ("data-types.md", "# Data Types\n\nThe types.\n".to_owned()),
        (
            "catalog.md",
            format!(
                "# The Shop's Types\n\nWhat the shop keeps.\n\n## Types\n\n\
                 #|\n|| **Type** | **Description** ||\n\
                 || [`shop_order`](#shop_order) | An order ||\n\
                 || [`shop_item`](#shop_item) | An item of an order ||\n|#\n\n\
                 ## Structures\n\n### shop_order\n\n{}\n### shop_item\n\n{}",
                table(
                    "|| **id**\n[`string`](./data-types.md) | Id ||\n\
                     || **items**\n[`shop_item[]`](#shop_item) | Its items ||\n"
                ),
                table(&format!(
                    "|| **id**\n{INT} | Id ||\n\
                     || **orderId**\n[`shop_order.id`](#shop_order) | Its order's id ||\n\
                     || **order**\n[`shop_order`](#shop_order) | Its order ||\n"
                )),
            ),
        ),
        (order_file, get("Get an Order shop.order.get", "shop_order")),
        (item_file, get("Get an Item shop.item.get", "shop_item")),
    ]
}

#[test]
fn structures_that_refer_to_each_other_do_not_depend_on_page_order() {
    let (order_first, item_first) = both_orders("cycle", cycle_files);
    assert_same_but_for_page_names(&order_first, &item_first);
    // Structures on one page that refer to each other are written out in place, and the
    // reading stops where it comes back to a structure it is in: an order's items name the
    // order untyped, an item's order lists its items untyped. An item's `orderId`, typed
    // `shop_order.id`, is the order's `id` as its row types it (a string) on either side.
    let fields = |api: &Api, title: &str| {
        let t = api.types.values().find(|t| t.title == title).unwrap();
        t.fields.iter().map(|f| f.ty.clone()).collect::<Vec<_>>()
    };
    let inline = |t: &Type| match t {
        Type::Array { item } => match &**item {
            Type::Object { fields } => fields.iter().map(|f| f.ty.clone()).collect(),
            other => panic!("{other:?}"),
        },
        Type::Object { fields } => fields.iter().map(|f| f.ty.clone()).collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    let string = Type::scalar(Scalar::String);
    let order = fields(&order_first, "shop_order");
    let item_in_order = inline(&order[1]);
    assert_eq!(item_in_order[1], string, "{item_in_order:?}");
    assert!(item_in_order[2].is_untyped(), "{item_in_order:?}");
    let item = fields(&order_first, "shop_item");
    assert_eq!(item[1], string, "{item:?}");
    let order_in_item = inline(&item[2]);
    assert!(
        matches!(&order_in_item[1], Type::Array { item } if item.is_untyped()),
        "{order_in_item:?}"
    );
}

/// The docs: two structures on two pages that refer to each other (a team lists its members,
/// a member names its team), and two methods, `club.team.get` on `team_file` returning a team
/// and `club.member.get` on `member_file` returning a member.
fn cross_page_cycle_files(
    team_file: &'static str,
    member_file: &'static str,
) -> Vec<(&'static str, String)> {
    let get = |h1: &str, link: &str| {
        method_page(
            h1,
            &format!("|| **id***\n{INT} | Id ||\n"),
            &format!("|| **result**\n[`object`]({link}) | It ||\n"),
            r#"{"id": 1}"#,
        )
    };
    vec![
        ("data-types.md", "# Data Types\n\nThe types.\n".to_owned()),
        (
            "teams.md",
            format!(
                "# Teams\n\nWhat teams are.\n\n## Team {{#team}}\n\n{}",
                table(&format!(
                    "|| **id**\n{INT} | Id ||\n\
                     || **members**\n[`object[]`](./members.md#member) | Its members ||\n"
                ))
            ),
        ),
        (
            "members.md",
            format!(
                "# Members\n\nWhat members are.\n\n## Member {{#member}}\n\n{}",
                table(&format!(
                    "|| **id**\n{INT} | Id ||\n\
                     || **team**\n[`object`](./teams.md#team) | Its team ||\n"
                ))
            ),
        ),
        (
            team_file,
            get("Get a Team club.team.get", "./teams.md#team"),
        ),
        (
            member_file,
            get("Get a Member club.member.get", "./members.md#member"),
        ),
    ]
}

#[test]
fn structures_on_two_pages_that_refer_to_each_other_do_not_depend_on_page_order() {
    let (team_first, member_first) = both_orders("cross-cycle", cross_page_cycle_files);
    assert_same_but_for_page_names(&team_first, &member_first);
    // Cut where a reading entered at the smallest key (`members.md#member`) cuts it: a
    // member names its team, whose list of members is where the cycle closes.
    for api in [&team_first, &member_first] {
        let field = |key: &str, name: &str| {
            field_of(
                &api.types[&b24_codegen::model::TypeKey(key.to_owned())],
                name,
            )
        };
        assert!(
            matches!(field("members.md#member", "team"), Type::Ref { key } if key.0 == "teams.md#team")
        );
        assert!(
            matches!(field("teams.md#team", "members"), Type::Array { item } if item.is_untyped())
        );
    }
}
