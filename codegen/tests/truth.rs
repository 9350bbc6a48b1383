//! The rules that make the model say what a page says, each on a small docs tree written in
//! the upstream format, checked through the facts export (what `b24-codegen facts` prints and
//! the fidelity score reads).

use std::path::{Path, PathBuf};

use b24_codegen::facts::{facts, MethodFacts};
use b24_codegen::{load, DefectKind};

/// A fresh folder under the target dir with `files` written in it.
fn tree(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("truth-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

fn method<'a>(all: &'a [MethodFacts], name: &str) -> &'a MethodFacts {
    all.iter().find(|m| m.method == name).unwrap_or_else(|| {
        panic!(
            "no {name} in {:?}",
            all.iter().map(|m| &m.method).collect::<Vec<_>>()
        )
    })
}

/// `(type, required)` of a parameter.
fn param(m: &MethodFacts, path: &str) -> (String, String) {
    let p = m
        .params
        .iter()
        .find(|p| p.path == path)
        .unwrap_or_else(|| panic!("no parameter {path}: {:#?}", m.params));
    (p.ty.clone(), p.required.unwrap_or("").to_owned())
}

/// The type of a result field.
fn result(m: &MethodFacts, path: &str) -> String {
    m.result
        .iter()
        .find(|r| r.path == path)
        .unwrap_or_else(|| panic!("no result field {path}: {:#?}", m.result))
        .ty
        .clone()
}

fn has_result(m: &MethodFacts, path: &str) -> bool {
    m.result.iter().any(|r| r.path == path)
}

/// A method page with `params` and `returned` as field table rows, request examples (cURL)
/// and a response example.
fn page(h1: &str, params: &str, returned: &str, requests: &str, response: &str) -> String {
    format!(
        "# {h1}\n\n> Scope: [`crm`](x.md)\n>\n> Who can execute the method: any user\n\nDoes a thing.\n\n\
         ## Method Parameters\n\n#|\n|| **Name**\n`type` | **Description** ||\n{params}|#\n\n\
         ## Code Examples\n\n{requests}\n\n## Response Handling\n\n{response}\n\n### Returned Data\n\n\
         #|\n|| **Name**\n`type` | **Description** ||\n{returned}|#\n"
    )
}

fn curl(method: &str, body: &str) -> String {
    format!(
        "```bash\ncurl -X POST \\\n-H \"Content-Type: application/json\" \\\n-d '{body}' \\\nhttps://x/rest/1/c/{method}\n```"
    )
}

fn response(json: &str) -> String {
    format!("```json\n{{\"result\": {json}, \"time\": {{\"start\": 1}}}}\n```")
}

#[test]
fn an_object_row_that_links_to_a_fields_page_takes_its_first_table_and_the_keys_its_text_names() {
    let fields = "# Thing Fields\n\n#|\n|| **Name**\n`type` | **Description** ||\n\
        || **title**\n[`string`](./data-types.md) | Title ||\n\
        || **checklist**\n[`object`](./data-types.md) | Items. Key — item identifier, value — object with [item description](#item) ||\n\
        || **watchers**\n[`array`](./data-types.md) | List of user identifiers ||\n\
        || **busy**\n[`object`](./data-types.md) | The key of the object is the user ID. The value is an array of objects, each an [item](#item) ||\n\
        || **edit**\n[`boolean`](./data-types.md) | Editing is allowed ||\n\
        || **edit.owner**\n[`boolean`](./data-types.md) | Changing the owner is allowed ||\n|#\n\n\
        ## Object item {#item}\n\n#|\n|| **Name**\n`type` | **Description** ||\n\
        || **id**\n[`integer`](./data-types.md) | Item id ||\n|| **isDone**\n[`char`](./data-types.md) | `Y` or `N` ||\n|#\n";
    let add = page(
        "Add a Thing thing.add",
        "|| **fields***\n[`object`](./data-types.md) | Values of [thing fields](./fields.md). Required fields for creating a thing:\n- `TITLE` — the title\n- `OWNER_ID` — the owner\n\nYou can pass `EXTRA_PARAMS`:\n\n```js\nEXTRA_PARAMS: [{CODE: 3, VALUE: 'Y'}]\n```\n||\n",
        "|| **result**\n[`object`](./data-types.md) | Result ||\n|| **thing**\n[`object`](./data-types.md) | The thing, see [its fields](./fields.md) ||\n",
        &curl("thing.add", r#"{"fields":{"TITLE":"A","OWNER_ID":1}}"#),
        "",
    );
    let dir = tree(
        "fields-page",
        &[("fields.md", fields), ("thing-add.md", &add)],
    );
    let all = facts(&load(&dir));
    let m = method(&all, "thing.add");
    assert_eq!(param(m, "fields.title"), ("string".into(), "no".into()));
    assert_eq!(param(m, "fields.TITLE"), ("string".into(), "yes".into()));
    assert_eq!(
        param(m, "fields.OWNER_ID"),
        ("integer".into(), "yes".into())
    );
    assert_eq!(param(m, "fields.EXTRA_PARAMS").0, "array<object>");
    assert_eq!(param(m, "fields.EXTRA_PARAMS[].CODE").0, "integer");
    assert_eq!(param(m, "fields.checklist").0, "map<object>");
    assert_eq!(param(m, "fields.checklist{}.isDone").0, "yn");
    assert_eq!(param(m, "fields.watchers").0, "array<integer>");
    assert_eq!(param(m, "fields.busy").0, "map<array<object>>");
    assert_eq!(param(m, "fields.busy{}[].id").0, "integer");
    assert_eq!(param(m, "fields.edit").0, "boolean");
    assert_eq!(
        param(m, "fields.edit.owner").0,
        "boolean",
        "a key with a dot"
    );
    assert!(
        !m.params.iter().any(|p| p.path == "fields.id"),
        "the item section is not part of the page's structure"
    );
    assert_eq!(result(m, "thing.title"), "string");
}

#[test]
fn a_row_whose_sentence_says_another_method_describes_it_takes_that_methods_structure() {
    let get = page(
        "Get a Thing thing.get",
        "|| **id***\n[`integer`](./data-types.md) | Id ||\n",
        "|| **result**\n[`object`](./data-types.md) | The thing ||\n|| **ID**\n[`integer`](./data-types.md) | Id ||\n|| **NAME**\n[`string`](./data-types.md) | Name ||\n",
        "",
        "",
    );
    let list = page(
        "List Things thing.list",
        "|| **start**\n[`integer`](./data-types.md) | Offset ||\n",
        "|| **result**\n[`array`](./data-types.md) | The things. For the structure of a thing, see the method [thing.get](./thing-get.md) ||\n",
        "",
        "",
    );
    let count = page(
        "Count Things thing.count",
        "|| **filter**\n[`object`](./data-types.md) | Which things. Their ids can be obtained with [thing.get](./thing-get.md) ||\n",
        "|| **result**\n[`integer`](./data-types.md) | How many ||\n",
        "",
        "",
    );
    let dir = tree(
        "method-structure",
        &[
            ("thing-get.md", &get),
            ("thing-list.md", &list),
            ("thing-count.md", &count),
        ],
    );
    let all = facts(&load(&dir));
    let m = method(&all, "thing.list");
    assert_eq!(result(m, ""), "array<object>");
    assert_eq!(result(m, "[].ID"), "integer");
    assert_eq!(result(m, "[].NAME"), "string");
    let m = method(&all, "thing.count");
    assert!(
        !m.params.iter().any(|p| p.path == "filter.ID"),
        "a link that says where values come from is not a structure"
    );
}

#[test]
fn flags_patterns_portal_keys_select_and_the_level_of_result_fields() {
    let get = page(
        "Get a Deal-like Thing thing.get",
        "|| **id***\n[`integer`](./data-types.md) | Id ||\n\
         || **select**\n[`array`](./data-types.md) | Fields to return, see [the fields](#fields) ||\n\
         || **isActive**\n[`boolean`](./data-types.md) | Flag: `Y` — yes, `N` — no ||\n",
        "|| **result**\n[`array`](./data-types.md) | The thing ||\n\
         || **ID**\n[`integer`](./data-types.md) | Id ||\n\
         || **CLOSED**\n[`char`](./data-types.md) | Indicator of a closed thing ||\n\
         || **VIEW**\n[`char`](./data-types.md) | Appearance: `F` — flags, `K` — radio buttons ||\n\
         || **NOTE**\n[`char`](./data-types.md) | Commentary ||\n\
         || **OPENED**\n[`boolean`](./data-types.md) | Opened ||\n\
         || **SHARED**\n[`boolean`](./data-types.md) | Shared ||\n\
         || **UF_CRM_...**\n[`any`](./data-types.md) | Custom fields ||\n",
        "",
        &response(
            r#"{"ID": "5", "CLOSED": "N", "OPENED": "Y", "SHARED": true, "UF_CRM_1721244482250": "x", "PARENT_ID_1220": 3}"#,
        ),
    );
    let get = format!(
        "{get}\n### Fields {{#fields}}\n\n#|\n|| **Name**\n`type` | **Description** ||\n|| **ID**\n[`integer`](./data-types.md) | Id ||\n|#\n"
    );
    let dir = tree("flags", &[("thing-get.md", &get)]);
    let all = facts(&load(&dir));
    let m = method(&all, "thing.get");
    assert_eq!(param(m, "select").0, "array<string>");
    assert_eq!(
        param(m, "isActive").0,
        "yn",
        "the description lists Y and N"
    );
    assert_eq!(
        result(m, ""),
        "object",
        "the example shows the fields in an object"
    );
    assert_eq!(result(m, "CLOSED"), "yn");
    assert_eq!(result(m, "VIEW"), "string", "a char with other values");
    assert_eq!(result(m, "NOTE"), "string", "a char of free text");
    assert_eq!(result(m, "OPENED"), "yn", "the example writes it Y");
    assert_eq!(result(m, "SHARED"), "boolean");
    let pattern = m
        .result
        .iter()
        .find(|r| r.path == "UF_CRM_...")
        .expect("the pattern row");
    assert!(pattern.pattern);
    assert!(!has_result(m, "UF_CRM_1721244482250"), "one portal's field");
    assert!(!has_result(m, "PARENT_ID_1220"), "one portal's relation");
}

#[test]
fn alternatives_and_cases_make_parameters_conditional_nested_ones_too() {
    let add = page(
        "Add an Event thing.add",
        "|| **from***\n[`datetime`](./data-types.md) | Start ||\n\
         || **from_ts**\n[`integer`](./data-types.md) | Timestamp. Can be used instead of the `from` parameter ||\n\
         || **section***\n[`integer`](./data-types.md) | Section. This parameter is required if `auto` is not `Y` ||\n\
         || **fields***\n[`object`](./data-types.md) | Values ||\n\
         || **fields.start**\n[`string`](./data-types.md) | `end` must be passed along with `start` ||\n\
         || **fields.end**\n[`string`](./data-types.md) | End ||\n\
         || **fields.name***\n[`string`](./data-types.md) | Name ||\n",
        "|| **result**\n[`integer`](./data-types.md) | Id ||\n",
        "",
        "",
    );
    let dir = tree("alternatives", &[("thing-add.md", &add)]);
    let all = facts(&load(&dir));
    let m = method(&all, "thing.add");
    assert_eq!(param(m, "from").1, "conditional");
    assert_eq!(param(m, "from_ts").1, "conditional");
    assert_eq!(param(m, "section").1, "conditional");
    assert_eq!(param(m, "fields").1, "yes");
    assert_eq!(param(m, "fields.start").1, "conditional");
    assert_eq!(param(m, "fields.end").1, "conditional");
    assert_eq!(
        param(m, "fields.name").1,
        "yes",
        "nested required fields are demanded"
    );
}

#[test]
fn examples_type_what_tables_leave_open_and_never_retype_a_request() {
    let get = page(
        "Get Lines thing.get",
        "|| **FILTER**\n[`object`](./data-types.md) | Filter, see [fields](#filterable) ||\n\
         || **id***\n[`string`](./data-types.md) | Identifier ||\n\
         || **LABEL**\n[`string`](./data-types.md) | You can pass a string or an object with captions in `{\"de\": \"Hallo\", \"en\": \"Hello\"}` format ||\n\
         || **FIELDS***\n[`array`](./data-types.md) | Array of fields, see [below](#f) ||\n",
        "|| **result**\n[`array`](./data-types.md) | The lines ||\n",
        &curl("thing.get", r#"{"id": 325, "FIELDS": {"NAME": "n"}}"#),
        &response(r#"[{"CONFIG_ID": "3", "TITLE": "a", "NAMES": {"de": "x", "en": "y"}}]"#),
    );
    let get = format!(
        "{get}\n### Filterable {{#filterable}}\n\n#|\n|| **Name**\n`type` | **Description** ||\n|| **CONFIG_ID**\n[`integer`](./data-types.md) | Config ||\n|#\n\n\
         ### Fields {{#f}}\n\n#|\n|| **Name**\n`type` | **Description** ||\n|| **NAME***\n[`string`](./data-types.md) | Name ||\n|#\n"
    );
    let dir = tree("vocabulary", &[("thing-get.md", &get)]);
    let api = load(&dir);
    let all = facts(&api);
    let m = method(&all, "thing.get");
    assert_eq!(
        result(m, "[].CONFIG_ID"),
        "integer",
        "typed by the filter table"
    );
    assert_eq!(result(m, "[].TITLE"), "string");
    assert_eq!(result(m, "[].NAMES"), "map<string>", "keyed by languages");
    assert_eq!(
        param(m, "id").0,
        "string",
        "the table's type, not the example's"
    );
    assert_eq!(param(m, "LABEL").0, "union<map<string>|string>");
    assert_eq!(
        param(m, "FIELDS").0,
        "object",
        "an associative array is an object"
    );
    assert_eq!(param(m, "FIELDS.NAME").1, "yes");
    assert!(
        api.diagnostics
            .iter()
            .any(|d| d.kind == DefectKind::ExampleContradictsTable
                && d.message.contains("`id` is documented as `string`")),
        "the contradiction is reported"
    );
}

#[test]
fn a_title_that_reads_makes_a_read_unless_a_change_is_named() {
    let read = page(
        "Get Thing Types thing.ownertype",
        "",
        "|| **result**\n[`array`](./data-types.md) | Types ||\n",
        "",
        "",
    );
    let write = page(
        "Get or Modify Rights thing.rights",
        "",
        "|| **result**\n[`boolean`](./data-types.md) | Done ||\n",
        "",
        "",
    );
    let dir = tree("access", &[("a.md", &read), ("b.md", &write)]);
    let all = facts(&load(&dir));
    assert_eq!(method(&all, "thing.ownertype").access, "read");
    assert_eq!(method(&all, "thing.rights").access, "write");
}

#[test]
fn methods_that_describe_each_other_in_a_ring_or_a_long_chain_load() {
    let mut files = Vec::new();
    for i in 0..300 {
        let next = (i + 1) % 300;
        files.push((
            format!("m{i}.md"),
            page(
                &format!("Get Thing {i} thing.get{i}"),
                "",
                &format!(
                    "|| **result**\n[`array`](./data-types.md) | For the structure of a thing, see the method [thing.get{next}](./m{next}.md) ||\n"
                ),
                "",
                "",
            ),
        ));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let dir = tree("chain", &refs);
    let api = load(&dir);
    assert_eq!(api.methods.len(), 300);
}

#[test]
fn a_shared_structure_with_required_fields_gets_a_request_view_that_demands_them() {
    let types = "# Thing Types\n\n## Address {#address}\n\n#|\n|| **Name**\n`type` | **Description** ||\n\
        || **CITY***\n[`string`](./data-types.md) | City ||\n|| **ZIP**\n[`string`](./data-types.md) | Code ||\n|#\n";
    let add = page(
        "Add a Thing thing.add",
        "|| **address***\n[`object`](./data-types.md) | The [address](./types.md#address) ||\n",
        "|| **result**\n[`object`](./data-types.md) | The thing ||\n|| **address**\n[`object`](./data-types.md) | The [address](./types.md#address) ||\n",
        "",
        "",
    );
    let dir = tree(
        "request-view",
        &[("types.md", types), ("thing-add.md", &add)],
    );
    let api = load(&dir);
    let all = facts(&api);
    let m = method(&all, "thing.add");
    assert_eq!(param(m, "address.CITY").1, "yes");
    let code = b24_codegen::render(&b24_codegen::generate(&api, &Default::default()));
    let file = syn::parse_file(&code).expect("valid Rust");
    let text = quote::quote!(#file).to_string().replace(' ', "");
    // Structures are `object!` invocations: `req` fields are plain and set by `new`, `opt`
    // ones are `Option`s.
    assert!(
        text.contains("reqcity:") && text.contains("(city:"),
        "the request's view demands CITY:\n{code}"
    );
    assert!(
        text.contains("optcity:"),
        "the shared type, read from responses, keeps it optional"
    );
}
