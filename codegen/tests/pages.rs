//! Loads small docs trees written by the test: includes, shared structures, result nesting,
//! paging, and the defects the loader must report with file:line.

use std::path::{Path, PathBuf};

use b24_codegen::model::{
    ApiVersion, ErrorMatch, ExampleKind, PageKind, Paging, Required, Scalar, Type,
};
use b24_codegen::{load, Api, DefectKind};

/// A fresh folder under the target dir with `files` written in it.
fn tree(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

fn defects(api: &Api, kind: DefectKind) -> Vec<String> {
    api.diagnostics
        .iter()
        .filter(|d| d.kind == kind)
        .map(|d| d.source.to_string())
        .collect()
}

const DATA_TYPES: &str = "# Data Types

## Types

#|
|| **Type** | **Description** ||
|| `crm_status` | String identifier of a directory element ||
|| `crm_contact` | Integer identifier of a contact ||
|| [`crm_multifield`](#crm_multifield) | Object describing a multifield ||
|| `lang_map` | Object format: `{lang_1: value_1}` ||
|#

### crm_multifield {#crm_multifield}

#|
|| **Value**
`type` | **Description** ||
|| **ID**
`integer` | Identifier ||
|| **VALUE**
`string` | The value ||
|#
";

const LIST: &str = "# Get a List of Things thing.list

> Scope: [`crm`](x.md)
>
> Who can execute the method: any user

Returns things.

## Method Parameters

{% include [required](../_includes/required.md) %}

#|
|| **Name**
`type` | **Description** ||
|| **filter**
[`object`](data-types.md) | Format object `{\"field_1\": \"value_1\"}` ||
|| **start**
[`integer`](data-types.md) | Offset ||
|| **status**
[`crm_status`](data-types.md) | Status ||
|| **contacts**
[`crm_contact[]`](data-types.md) | Contacts ||
|| **PHONE**
[`crm_multifield[]`](data-types.md#crm_multifield) | Phones ||
|| **fields***
[`object`](data-types.md) | Described [below](#parametr-fields) ||
|| **fields**
`string` | Twice ||
|#

### Parameter fields

#|
|| **Name**
`type` | **Description** ||
|| **TITLE**
`string` | Title ||
|| **OPENED**
`boolean` | Open ||
|| **TITLE (LANG)**
`lang_map` | Titles ||
|#

## Code Examples

- cURL

    ```bash
    curl -X POST \\
    -d '{\"start\":0,\"status\":\"NEW\",\"auth\":\"**token**\"}' \\
    https://**portal**/rest/thing.list
    ```

## Response Handling

```json
{
    \"result\": {
        \"items\": [{\"id\": \"5\", \"name\": \"x\", \"PHONE\": [{\"ID\": 1, \"VALUE\": \"+1\"}]}]
    },
    \"next\": 50,
    \"total\": 60,
    \"time\": {\"start\": 1}
}
```

### Returned Data

#|
|| **Name**
`type` | **Description** ||
|| **result**
`object` | Root ||
|| **items**
`object[]` | The things ||
|| **id**
`integer` | Identifier ||
|| **name**
`string` | Name ||
|| **PHONE**
[`crm_multifield[]`](data-types.md#crm_multifield) | Phones ||
|| **total**
`integer` | Total ||
|| **next**
`integer` | Next ||
|#

## Error Handling

### Possible Error Codes

#|
|| **Status** | **Code** | **Description** | **Value** ||
|| `400` | `NOT_FOUND` | Not found | The thing is missing ||
|| `400` | `100` | Could not find value for parameter {id} | Missing id ||
|#

{% include [system](../_includes/system-errors.md) %}
";

const GET: &str = "# Get a Thing thing.get

> Scope: [`crm`](x.md)

{% note warning \"DEPRECATED\" %}

Use thing.list.

{% endnote %}

## Method Parameters

#|
|| **Name**
`type` | **Description** ||
|| **id***
`integer` | Id ||
|| **PHONE**
[`crm_multifield`](data-types.md#crm_multifield) | A phone ||
|| **owner**
`nosuchtype` | Owner ||
|#

## Code Examples

```bash
curl -d '{\"id\": \"abc\"}' https://x/rest/api/thing.get
```

## Response Handling

```json
{\"result\": {\"id\": 1, \"flag\": true}, // a comment
}
```

### Returned Data

#|
|| **Name**
`type` | **Description** ||
|| **result**
`object` | The thing ||
|#
";

#[test]
fn a_small_tree_loads_with_shared_types_nesting_and_paging() {
    let dir = tree(
        "small_tree",
        &[
            ("docs/data-types.md", DATA_TYPES),
            ("docs/thing-list.md", LIST),
            ("docs/thing-get.md", GET),
            ("docs/overview.md", "# Things\n\nAn overview.\n"),
            // The root of the docs project: includes and links are read below it only.
            (".yfm", "lang: en\n"),
            (
                "_includes/required.md",
                "Required parameters are marked with `*` {.b24-info}",
            ),
            (
                "_includes/system-errors.md",
                "#|\n|| **Code** | **Description** ||\n|| `QUERY_LIMIT_EXCEEDED` | Too many ||\n|#",
            ),
        ],
    );
    let api = load(&dir.join("docs"));
    let kinds: Vec<(String, PageKind)> = api
        .pages
        .iter()
        .map(|p| (p.source.file.to_string(), p.kind))
        .collect();
    assert!(kinds.contains(&("thing-list.md".into(), PageKind::Method)));
    assert!(kinds.contains(&("overview.md".into(), PageKind::Overview)));
    assert!(kinds.contains(&("data-types.md".into(), PageKind::Overview)));
    // Includes outside the folder loaded but inside the docs root are read and listed for
    // cargo.
    assert!(api
        .files_read
        .iter()
        .any(|p| p.ends_with("_includes/required.md")));
    assert!(api.files_read.iter().any(|p| p.ends_with("thing-list.md")));

    let list = api.methods.iter().find(|m| m.name == "thing.list").unwrap();
    let get = api.methods.iter().find(|m| m.name == "thing.get").unwrap();
    assert_eq!(list.version, ApiVersion::V2);
    assert_eq!(get.version, ApiVersion::V3);
    assert!(get
        .deprecated
        .as_deref()
        .is_some_and(|d| d.contains("Use thing.list")));
    assert!(list.deprecated.is_none());

    let param = |name: &str| list.params.iter().find(|p| p.api_name == name).unwrap();
    assert!(matches!(param("filter").ty, Type::Map { .. }));
    assert_eq!(param("status").ty, Type::scalar(Scalar::String));
    assert_eq!(
        param("contacts").ty,
        Type::array(Type::scalar(Scalar::Integer))
    );
    // The broken `#parametr-fields` anchor falls back to the "Parameter fields" heading.
    let Type::Object { fields } = &param("fields").ty else {
        panic!("fields: {:?}", param("fields").ty)
    };
    let names: Vec<(&str, &str)> = fields
        .iter()
        .map(|f| (f.api_name.as_str(), f.rust_name.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("TITLE", "title"),
            ("OPENED", "opened"),
            ("TITLE (LANG)", "title_lang")
        ]
    );
    assert!(matches!(fields[2].ty, Type::Map { .. }));
    assert_eq!(param("fields").required, Required::Yes);
    // One shared type for the multifield, used by both pages.
    let Type::Array { item } = &param("PHONE").ty else {
        panic!("PHONE: {:?}", param("PHONE").ty)
    };
    let Type::Ref { key } = item.as_ref() else {
        panic!("PHONE item: {item:?}")
    };
    let phone_get = get.params.iter().find(|p| p.api_name == "PHONE").unwrap();
    assert_eq!(phone_get.ty, Type::Ref { key: key.clone() });
    assert_eq!(api.types.len(), 1);
    assert_eq!(api.types[key].rust_name, "CrmMultifield");
    assert_eq!(api.types[key].fields.len(), 2);

    // The flat returned-data table is nested where the example has its keys.
    let Type::Object { fields: result } = &list.result else {
        panic!("result: {:?}", list.result)
    };
    assert_eq!(result.len(), 1);
    assert_eq!(result[0].api_name, "items");
    let Type::Array { item } = &result[0].ty else {
        panic!("items: {:?}", result[0].ty)
    };
    let Type::Object {
        fields: item_fields,
    } = item.as_ref()
    else {
        panic!("item: {item:?}")
    };
    let item_names: Vec<&str> = item_fields.iter().map(|f| f.api_name.as_str()).collect();
    assert_eq!(item_names, ["id", "name", "PHONE"]);
    assert_eq!(item_fields[0].ty, Type::scalar(Scalar::Integer));
    assert_eq!(
        list.paging,
        Some(Paging {
            items_key: Some("items".into())
        })
    );
    assert!(get.paging.is_none());

    // Errors: one per row, code 100 recognised by its message up to the placeholder, system
    // errors not included.
    let matchers: Vec<&ErrorMatch> = list.errors.iter().map(|e| &e.matcher).collect();
    assert_eq!(
        matchers,
        [
            &ErrorMatch::Code("NOT_FOUND".into()),
            &ErrorMatch::Prefix("Could not find value for parameter".into())
        ]
    );
    assert_eq!(list.errors[0].status, Some(400));
    assert_eq!(list.errors[0].message.as_deref(), Some("Not found"));

    // Examples: the request without `auth`, the repaired response.
    let request = list
        .examples
        .iter()
        .find(|e| e.kind == ExampleKind::Request)
        .unwrap();
    assert_eq!(
        request.json,
        Some(serde_json::json!({"start": 0, "status": "NEW"}))
    );
    let response = get
        .examples
        .iter()
        .find(|e| e.kind == ExampleKind::Response)
        .unwrap();
    assert!(response.repaired);
    assert_eq!(
        response.json,
        Some(serde_json::json!({"result": {"id": 1, "flag": true}}))
    );
    // `result` of thing.get gains the example's fields.
    let Type::Object { fields } = &get.result else {
        panic!("get result: {:?}", get.result)
    };
    assert_eq!(fields.len(), 2);

    // Defects, each with its file:line.
    assert_eq!(
        defects(&api, DefectKind::DanglingLink),
        ["thing-list.md:26"]
    );
    assert_eq!(
        defects(&api, DefectKind::DuplicateParameter),
        ["thing-list.md:28"]
    );
    assert_eq!(defects(&api, DefectKind::UnknownType), ["thing-get.md:20"]);
    assert_eq!(
        defects(&api, DefectKind::RepairedExample),
        ["thing-get.md:33"]
    );
    // `id` is an integer; the example's "abc" contradicts it: reported at the example (line
    // 27), and the request keeps the table's type (the caller writes what the table says).
    assert_eq!(
        defects(&api, DefectKind::ExampleContradictsTable),
        ["thing-get.md:27", "thing-list.md:50"]
    );
    let id = get.params.iter().find(|p| p.api_name == "id").unwrap();
    assert_eq!(id.ty, Type::scalar(Scalar::Integer));
}

#[test]
fn a_page_without_a_method_name_fails_with_its_line() {
    let dir = tree(
        "no_name",
        &[(
            "docs/broken.md",
            "# Something Odd\n\n> Who can execute the method: anyone\n\n## Method Parameters\n\nNone.\n",
        )],
    );
    let api = load(&dir.join("docs"));
    assert!(api.methods.is_empty());
    // No REST name anywhere: not a method page, so nothing failed.
    assert_eq!(api.pages[0].kind, PageKind::Overview);
    let s = b24_codegen::check::summary(&api);
    assert_eq!(s.failed, 0);
}

#[test]
fn unreadable_paths_never_panic() {
    let api = load(Path::new("/nonexistent/b24/page.md"));
    assert!(api.methods.is_empty());
    assert_eq!(api.diagnostics.len(), 1);
    assert_eq!(api.diagnostics[0].kind, DefectKind::Io);
    let api = load(Path::new("/nonexistent/b24/folder/"));
    assert!(api.pages.is_empty());
}

#[test]
fn adversarial_pages_never_panic() {
    let bad: &[(&str, &str)] = &[
        ("docs/a.md", "# T a.b.c\n\n## Method Parameters\n\n#|\n|| **x** | `#|` nested |#\n"),
        ("docs/b.md", "# T b.c\n\n```json\n{\"unclosed\": \n"),
        ("docs/c.md", "# T c.d\n\n{% include [self](c.md) %}\n{% include [self](c.md) %}\n"),
        ("docs/d.md", "# T d.e\n\n## Code Examples\n\n```bash\ncurl -d \"$(date '\nhttps://x/rest/d.e\n```\n"),
        ("docs/e.md", "# Ünïcödé e.f\n\n  #|\n|| **ä*** \u{a0}\n`strïng` | ö ||\n   |#\n## Response Handling\n\n```json\n{\"result\": [[[[]]]]}\n```\n"),
        ("docs/f.md", "# T f.g\n\n## Method Parameters\n\n#|\n|| **a.b.c** | x ||\n|| **a[]** | y ||\n|| **.** | z ||\n|| **[]** | w ||\n|#\n[{#T}]()\n"),
        ("docs/g.md", "{% note %}\n{% if x %}\n# T g.h\n{% endnote %}\n{% endif %}\n|# ||\n"),
        ("docs/h.md", "# T h.i\n\n## Response Handling\n\n```json\n{\"result\": {\"a\": {\"a\": {\"a\": {\"a\": {\"a\": 1}}}}}}\n```\n\n### Returned Data\n\n#|\n|| **result**\n[`object`](#a) | x ||\n|| **a**\n[`object`](#h) | y ||\n|#\n\n### A {#a}\n\n#|\n|| **a**\n[`object`](#a) | recursive ||\n|#\n"),
    ];
    let dir = tree("adversarial", bad);
    let api = load(&dir.join("docs"));
    assert!(api.pages.len() >= bad.len() - 1);
    let s = b24_codegen::check::summary(&api);
    assert_eq!(s.failed, 0);
    // The self-include is cut off and reported, not expanded forever.
    assert!(api
        .diagnostics
        .iter()
        .any(|d| d.kind == DefectKind::MissingInclude && d.source.file.as_ref() == "c.md"));
    // The unterminated command substitution is a shell defect.
    assert!(api
        .diagnostics
        .iter()
        .any(|d| d.kind == DefectKind::InvalidShell && d.source.file.as_ref() == "d.md"));
}

/// A list page whose table names no `start` and whose example carries `total` but no `next`
/// (the last page of a list): it pages. A `total` inside `result` is a count, not paging.
#[test]
fn an_envelope_total_marks_a_list_and_a_total_inside_result_does_not() {
    let page = |name: &str, body: &str| {
        format!(
            "# List Things {name}\n\n> Who can execute the method: any user\n\n\
             ## Method Parameters\n\nNo parameters.\n\n## Response Handling\n\n\
             ```json\n{body}\n```\n"
        )
    };
    let paged = page(
        "thing.list",
        r#"{"result": [{"ID": "1"}], "total": 1, "time": {"start": 1}}"#,
    );
    let counted = page(
        "thing.count",
        r#"{"result": {"items": [{"ID": "1"}], "total": 1}, "time": {"start": 1}}"#,
    );
    let dir = tree(
        "paging-total",
        &[("thing-list.md", &paged), ("thing-count.md", &counted)],
    );
    let api = load(&dir);
    let by_name = |n: &str| api.methods.iter().find(|m| m.name == n).expect(n);
    assert_eq!(
        by_name("thing.list").paging,
        Some(Paging { items_key: None })
    );
    assert_eq!(by_name("thing.count").paging, None);
}

/// Two parameters marked required that the page says stand in for each other are required
/// only in some cases; a required parameter that merely mentions another stays required; a
/// `UF_*` wildcard row is neither required nor a marker.
#[test]
fn alternatives_marked_required_become_conditional() {
    let page = "# Delete a List lists.thing.delete\n\n\
        > Who can execute the method: any user\n\n\
        ## Method Parameters\n\n\
        #|\n\
        || **Name**\n`type` | **Description** ||\n\
        || **IBLOCK_ID***\n`integer` | Identifier of the block ||\n\
        || **IBLOCK_CODE***\n`string` | Code of the block.\n\n\
        {% note warning %}\n\nAt least one of the parameters must be specified: `IBLOCK_ID` or `IBLOCK_CODE`\n\n{% endnote %} ||\n\
        || **CHAT_ID***\n`integer` | Chat. Required if `DIALOG_ID` is not provided ||\n\
        || **DIALOG_ID***\n`string` | Dialog ||\n\
        || **ELEMENT_ID***\n`integer` | Element of the block `IBLOCK_ID` ||\n\
        || **UF_\\***\n`any` | Custom fields ||\n\
        |#\n";
    let dir = tree("alternatives", &[("lists-thing-delete.md", page)]);
    let api = load(&dir);
    let m = &api.methods[0];
    let required: Vec<(&str, Required)> = m
        .params
        .iter()
        .map(|p| (p.api_name.as_str(), p.required))
        .collect();
    assert_eq!(
        required,
        [
            ("IBLOCK_ID", Required::Conditional),
            ("IBLOCK_CODE", Required::Conditional),
            ("CHAT_ID", Required::Conditional),
            ("DIALOG_ID", Required::Conditional),
            ("ELEMENT_ID", Required::Yes),
            ("UF_*", Required::No),
        ]
    );
}

/// A `##` section named after a parameter describes that parameter's structure: its rows are
/// not more top-level parameters, even with no anchor linking to it.
#[test]
fn a_section_named_after_a_parameter_is_its_structure() {
    let page = "# Add a Requisite thing.requisite.add\n\n\
        > Who can execute the method: any user\n\n\
        ## Method Parameters\n\n\
        #|\n\
        || **Name**\n`type` | **Description** ||\n\
        || **fields***\n[`object`](data-types.md) | Values of the new requisite ||\n\
        |#\n\n\
        ## Parameter fields\n\n\
        #|\n\
        || **Name**\n`type` | **Description** ||\n\
        || **NAME***\n`string` | Name ||\n\
        || **SORT**\n`integer` | Sort ||\n\
        |#\n\n\
        ## Code Examples\n\n\
        ```bash\ncurl -d '{\"fields\":{\"NAME\":\"x\",\"SORT\":5}}' https://x/rest/thing.requisite.add\n```\n";
    let dir = tree("parameter-section", &[("thing-requisite-add.md", page)]);
    let api = load(&dir);
    let m = &api.methods[0];
    let names: Vec<&str> = m.params.iter().map(|p| p.api_name.as_str()).collect();
    assert_eq!(names, ["fields"]);
    let Type::Object { fields } = &m.params[0].ty else {
        panic!("fields: {:?}", m.params[0].ty)
    };
    let inner: Vec<(&str, Required)> = fields
        .iter()
        .map(|f| (f.api_name.as_str(), f.required))
        .collect();
    assert_eq!(inner, [("NAME", Required::Yes), ("SORT", Required::No)]);
    let contradictions = defects(&api, DefectKind::ExampleContradictsTable);
    assert!(contradictions.is_empty(), "{contradictions:?}");
}
