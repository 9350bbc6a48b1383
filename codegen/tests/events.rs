//! Event and placement pages: names, payload types, defects, and the generated modules.

use std::path::{Path, PathBuf};

use b24_codegen::model::{Scalar, Type};
use b24_codegen::{generate, load, render, DefectKind, Options};

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

const AUTH: &str = "#|
|| **Name**
`type` | **Description** ||
|| **member_id***
`string` | The portal ||
|| **application_token***
`string` | The token ||
|#
";

const EVENT: &str = "# Event When a Thing Is Added onThingAdd

> Scope: [`crm`](x.md)
>
> Who can subscribe: any user

The event is sent when a thing is added.

## What the Handler Receives

```json
{
    \"event\": \"ONTHINGADD\",
    \"data\": {\"FIELDS\": {\"ID\": \"7\", \"CODE\": \"x\"}},
    \"ts\": \"1\",
    \"auth\": {\"member_id\": \"m\", \"application_token\": \"t\"}
}
```

#|
|| **Name**
`type` | **Description** ||
|| **event***
`string` | The code ||
|| **data***
`object` | What happened ||
|| **data.FIELDS***
`object` | The thing, described [below](#fields) ||
|| **auth***
`object` | Described [below](#auth) ||
|#

### Parameter FIELDS {#fields}

#|
|| **Name**
`type` | **Description** ||
|| **ID***
`integer` | Identifier of the thing ||
|#

### Parameter auth {#auth}

{% include notitle [auth](../_includes/auth.md) %}
";

/// A title that says another code than the example: the example wins, the mismatch is reported.
const MISNAMED: &str = "# Event onThingRemove

> Scope: [`crm`](x.md)
>
> Who can subscribe: any user

```json
{\"event\": \"ONTHINGDELETE\", \"data\": {\"FIELDS\": {\"ID\": 1}}}
```
";

const NAMELESS: &str = "# Events

> Who can subscribe: any user

Events of things.
";

const PLACEMENT: &str = "# A Tab in the Thing Card THING_XXX_TAB

> Scope: [`placement`](x.md)

## Where the Widget Is Embedded

#|
|| **Placement Code** | **Location** ||
|| `THING_A_TAB` | In the card of A ||
|| `THING_B_TAB` | In the card of B ||
|#

## What the Handler Receives

### PLACEMENT_OPTIONS

#|
|| **Name**
`type` | **Description** ||
|| **ID***
`integer` | The thing ||
|| **MODE**
`string` | How the card is open ||
|#
";

#[test]
fn event_and_placement_pages_become_types() {
    let dir = tree(
        "events_and_placements",
        &[
            ("_includes/auth.md", AUTH),
            ("things/on-thing-add.md", EVENT),
            ("things/on-thing-remove.md", MISNAMED),
            ("things/index.md", NAMELESS),
            ("widgets/thing-tab.md", PLACEMENT),
        ],
    );
    let api = load(&dir);
    assert_eq!(api.events.len(), 2, "{:#?}", api.diagnostics);
    let add = api
        .events
        .iter()
        .find(|e| e.name == "ONTHINGADD")
        .expect("add");
    assert_eq!(add.type_name, "onThingAdd");
    assert_eq!(add.title, "Event When a Thing Is Added");
    assert_eq!(add.scopes, ["crm"]);
    assert_eq!(add.who_can_subscribe.as_deref(), Some("any user"));
    // data.FIELDS.ID is typed from the section the row links to; CODE from the example.
    let Type::Object { fields } = &add.data else {
        panic!("{:?}", add.data)
    };
    let Type::Object { fields: inner } = &fields[0].ty else {
        panic!("{:?}", fields[0].ty)
    };
    assert_eq!(fields[0].api_name, "FIELDS");
    assert_eq!(inner[0].api_name, "ID");
    assert_eq!(inner[0].ty, Type::scalar(Scalar::Integer));
    assert!(inner.iter().any(|f| f.api_name == "CODE"), "{inner:?}");

    let removed = api.events.iter().find(|e| e.name == "ONTHINGDELETE");
    assert!(removed.is_some(), "the example's code wins");
    let kinds: Vec<(DefectKind, String)> = api
        .diagnostics
        .iter()
        .map(|d| (d.kind, d.source.to_string()))
        .collect();
    assert!(
        kinds.contains(&(
            DefectKind::NameMismatch,
            "things/on-thing-remove.md:1".into()
        )),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(DefectKind::NoEventName, "things/index.md:1".into())),
        "{kinds:?}"
    );

    assert_eq!(api.placements.len(), 1);
    let p = &api.placements[0];
    assert_eq!(p.name, "THING_XXX_TAB");
    assert_eq!(p.codes, ["THING_A_TAB", "THING_B_TAB"]);
    assert_eq!(p.title, "A Tab in the Thing Card");
    let names: Vec<&str> = p.options.iter().map(|f| f.api_name.as_str()).collect();
    assert_eq!(names, ["ID", "MODE"]);

    let summary = b24_codegen::check::summary(&api);
    assert_eq!((summary.events.pages, summary.events.generated), (3, 2));
    assert_eq!(
        (summary.placements.pages, summary.placements.generated),
        (1, 1)
    );

    let code = render(&generate(&api, &Options::default()));
    syn::parse_file(&code).expect("generated code parses");
    for expected in [
        "pub mod events",
        "pub mod crm",
        "pub type OnThingAdd = __b24::events::Incoming<on_thing_add::Data>;",
        "\"ONTHINGADD\" => {",
        "match __b24::events::Incoming::from_event(&raw)",
        "OnThingAdd(crm::OnThingAdd)",
        "Other(__b24::events::Event)",
        "pub mod placements",
        "pub type ThingXxxTab = thing_xxx_tab::Options;",
        "pub const CODES: &[&str] = &[\"THING_A_TAB\", \"THING_B_TAB\"];",
    ] {
        assert!(code.contains(expected), "{expected} not in:\n{code}");
    }

    // `only` selects events by `events`, `events.{scope}` or code, placements by `placements`.
    let only = |o: &[&str]| {
        render(&generate(
            &api,
            &Options {
                only: o.iter().map(|s| s.to_string()).collect(),
                ..Options::default()
            },
        ))
    };
    assert!(!only(&["crm.deal"]).contains("pub mod events"));
    assert!(!only(&["crm.deal"]).contains("pub mod placements"));
    assert!(only(&["events.crm"]).contains("OnThingAdd"));
    let one = only(&["ONTHINGADD"]);
    assert!(one.contains("OnThingAdd") && !one.contains("OnThingRemove"));
    assert!(only(&["placements"]).contains("ThingXxxTab"));
}

/// Pages that look like event or placement pages but document none: the JS interface of a
/// widget's frame (a `BX24.` function, an interface command or event), an index of event pages
/// and a guide to placements. None is an event or a placement, and none is a defect.
#[test]
fn interface_pages_indexes_and_guides_are_not_events_or_placements() {
    const COMMAND: &str = "# Get the Call Status getStatus

> Scope: [`placement`](x.md)
>
> Who can execute the command: any user

{% note info \"\" %}

This is a JS interface command, not a REST method: it cannot be called over `/rest/`.

{% endnote %}

## Command Parameters

None.
";
    const FUNCTION: &str = "# Get the Widget Context BX24.placement.info

> Scope: [`placement`](x.md)

## Returned Data

#|
|| **Placement** | **Description** ||
|| `THING_A_TAB` | Where the widget is ||
|#
";
    const JS_EVENT: &str = "# When the Hold Button Is Clicked Card::holdButtonClick

> Scope: [`placement`](x.md)
>
> Who can subscribe: any user

{% note info \"\" %}

This is a JS interface event, not a REST event: nobody subscribes to it over `/rest/`.

{% endnote %}

## What the Handler Receives

```js
callback(true);
```
";
    const INDEX: &str = "# Events

> Who can subscribe: any user

#|
|| **Event** | **When** ||
|| [onThingAdd](./on-thing-add.md) | A thing is added ||
|| [onThingRemove](./on-thing-remove.md) | A thing is removed ||
|#
";
    const FORMATS: &str = "# Event Formats of Things

## ONTHINGPOLLED {#onthingpolled}

#|
|| **Field** | **Type** | **Description** ||
|| **id** | `integer` | The thing ||
|#
";
    const GUIDE: &str = "# How to Embed a Widget in the Thing Card

> Scope: [`placement`](x.md)

## Register the Handler

Call `placement.bind` with the placement's code.

## What the Handler Receives

The options arrive in `PLACEMENT_OPTIONS`.
";
    let dir = tree(
        "interface_index_guide",
        &[
            ("widgets/get-status.md", COMMAND),
            ("widgets/placement-info.md", FUNCTION),
            ("widgets/hold-button-click.md", JS_EVENT),
            ("widgets/guide.md", GUIDE),
            ("things/events.md", INDEX),
            ("things/formats.md", FORMATS),
            ("widgets/thing-tab.md", PLACEMENT),
        ],
    );
    let api = load(&dir);
    let kind = |file: &str| {
        api.pages
            .iter()
            .find(|p| p.source.file.as_ref() == file)
            .map(|p| p.kind)
    };
    use b24_codegen::model::PageKind;
    assert_eq!(kind("widgets/get-status.md"), Some(PageKind::Interface));
    assert_eq!(kind("widgets/placement-info.md"), Some(PageKind::Interface));
    assert_eq!(
        kind("widgets/hold-button-click.md"),
        Some(PageKind::Interface)
    );
    assert_eq!(kind("widgets/guide.md"), Some(PageKind::Overview));
    assert_eq!(kind("things/events.md"), Some(PageKind::Overview));
    assert_eq!(kind("things/formats.md"), Some(PageKind::Overview));
    assert_eq!(kind("widgets/thing-tab.md"), Some(PageKind::Placement));
    assert!(api.events.is_empty(), "{:?}", api.events);
    let placements: Vec<&str> = api.placements.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(placements, ["THING_XXX_TAB"]);
    assert!(
        !api.diagnostics
            .iter()
            .any(|d| d.kind == DefectKind::NoEventName),
        "{:#?}",
        api.diagnostics
    );
    let summary = b24_codegen::check::summary(&api);
    assert_eq!(summary.page_kinds.get("interface"), Some(&3));
}

/// `facts` exports each event's `data` and each placement's options by path, like methods.
#[test]
fn event_and_placement_facts_are_exported_by_path() {
    let dir = tree(
        "event_and_placement_facts",
        &[
            ("_includes/auth.md", AUTH),
            ("things/on-thing-add.md", EVENT),
            ("widgets/thing-tab.md", PLACEMENT),
        ],
    );
    let facts = b24_codegen::facts::all_facts(&load(&dir));
    let [event] = facts.events.as_slice() else {
        panic!("{:?}", facts.events)
    };
    assert_eq!(
        (event.page.as_str(), event.event.as_str()),
        ("things/on-thing-add.md", "ONTHINGADD")
    );
    let data: Vec<(&str, &str)> = event
        .data
        .iter()
        .map(|i| (i.path.as_str(), i.ty.as_str()))
        .collect();
    assert!(data.contains(&("FIELDS.ID", "integer")), "{data:?}");
    assert!(data.contains(&("", "object")), "{data:?}");
    let [placement] = facts.placements.as_slice() else {
        panic!("{:?}", facts.placements)
    };
    assert_eq!(placement.placement, "THING_XXX_TAB");
    assert_eq!(placement.codes, ["THING_A_TAB", "THING_B_TAB"]);
    let options: Vec<(&str, &str, Option<&str>)> = placement
        .options
        .iter()
        .map(|i| (i.path.as_str(), i.ty.as_str(), i.required))
        .collect();
    assert_eq!(
        options,
        [
            ("ID", "integer", Some("yes")),
            ("MODE", "string", Some("no"))
        ]
    );
}

/// The options line of a printed POST (`[PLACEMENT_OPTIONS] => {...}`, PHP's `print_r` of what
/// the handler receives) is an example of the options: it round-trips, and the keys it shows
/// that no table documents are typed from it.
#[test]
fn a_printed_post_is_an_example_of_the_options() {
    const PRINTED: &str = "# Thing Menu Item THING_MENU

> Scope: [`placement`](x.md)

## What the Handler Receives

```php
Array
(
    [DOMAIN] => example.bitrix24.com
    [PLACEMENT] => THING_MENU
    [PLACEMENT_OPTIONS] => {\"THING_ID\":\"10\",\"URI\":\"\\/things\\/10\\/\"}
)
```

### PLACEMENT_OPTIONS

#|
|| **Name**
`type` | **Description** ||
|| **THING_ID**
`integer` | The thing ||
|#
";
    let dir = tree(
        "printed_placement_options",
        &[("widgets/thing-menu.md", PRINTED)],
    );
    let api = load(&dir);
    let [p] = api.placements.as_slice() else {
        panic!("{:?}", api.placements)
    };
    let options: Vec<(&str, &Type)> = p
        .options
        .iter()
        .map(|f| (f.api_name.as_str(), &f.ty))
        .collect();
    assert_eq!(options[0], ("THING_ID", &Type::scalar(Scalar::Integer)));
    assert_eq!(options[1], ("URI", &Type::scalar(Scalar::String)));
    let [example] = p.examples.as_slice() else {
        panic!("{:?}", p.examples)
    };
    assert_eq!(
        example.json,
        Some(serde_json::json!({"THING_ID": "10", "URI": "/things/10/"}))
    );
    assert_eq!(example.source.to_string(), "widgets/thing-menu.md:12");
}

/// An event a lock published keeps its names when the docs move it to another scope or
/// respell its code, and stays, deprecated, when the docs drop it.
#[test]
fn a_published_event_keeps_its_names_and_stays_when_dropped() {
    use b24_codegen::lock::Lock;
    let v1 = tree(
        "events_lock_v1",
        &[
            ("_includes/auth.md", AUTH),
            ("things/on-thing-add.md", EVENT),
        ],
    );
    let lock = Lock::of(&load(&v1), "v1", None);
    let event = lock.events.iter().find(|e| e.name == "ONTHINGADD").unwrap();
    assert_eq!(event.rust_path, "events::crm::OnThingAdd");
    assert_eq!(event.module, "events::crm::on_thing_add");
    let with_lock = |dir: &Path| {
        let mut api = load(dir);
        let next = lock.update(&Lock::facts(&api, "v2", Some(&lock)));
        let kept = next.apply(&mut api);
        let options = Options {
            lock: Some(std::sync::Arc::new(lock.clone())),
            ..Options::default()
        };
        (kept, render(&generate(&api, &options)))
    };
    // Moved to another scope, the code spelt otherwise.
    let moved = EVENT
        .replace("[`crm`](x.md)", "[`catalog`](x.md)")
        .replace("Added onThingAdd", "Added OnThingadd");
    let v2 = tree(
        "events_lock_v2",
        &[
            ("_includes/auth.md", AUTH),
            ("things/on-thing-add.md", &moved),
        ],
    );
    let plain = render(&generate(&load(&v2), &Options::default()));
    assert!(plain.contains("pub mod catalog"), "{plain}");
    let (_, code) = with_lock(&v2);
    assert!(code.contains("pub mod crm"), "{code}");
    assert!(!code.contains("pub mod catalog"), "{code}");
    assert!(code.contains("pub type OnThingAdd ="), "{code}");
    assert!(code.contains("pub mod on_thing_add"), "{code}");
    assert!(code.contains("OnThingAdd(crm::OnThingAdd)"), "{code}");
    // Dropped: rebuilt from the lock, its data typed, deprecated.
    let v3 = tree("events_lock_v3", &[("_includes/auth.md", AUTH)]);
    let (kept, code) = with_lock(&v3);
    assert_eq!(kept.events, 1);
    assert!(code.contains("pub type OnThingAdd ="), "{code}");
    assert!(
        code.contains("dropped from the docs in version v2"),
        "{code}"
    );
    let flat: String = code.split_whitespace().collect();
    assert!(flat.contains("optid:__b24::Int=\"ID\""), "{code}");
}
