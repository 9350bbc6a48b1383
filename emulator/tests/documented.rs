//! The emulator answers as the project's `docs/` say a portal answers: errors in the pages'
//! own wire form, records holding exactly what was written plus what the server assigns,
//! `select` masks, and custom fields registered through `crm.deal.userfield.add`.

use b24_emulator::Emulator;
use serde_json::{json, Value};

async fn start() -> Emulator {
    Emulator::builder()
        .bucket(None)
        .operating_limit(None)
        .webhook_user("7")
        .start()
        .await
        .expect("the emulator starts")
}

async fn call(emulator: &Emulator, method: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}{method}.json", emulator.webhook_url()))
        .json(&body)
        .send()
        .await
        .expect("answered");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON"))
}

#[tokio::test]
async fn errors_take_the_pages_wire_form() {
    let emulator = start().await;
    // crm.deal.get documents `Empty value | Not found` and shows `{"error": "", ...}`.
    let (status, body) = call(&emulator, "crm.deal.get", json!({"id": 999})).await;
    assert_eq!(status, 400);
    assert_eq!(body, json!({"error": "", "error_description": "Not found"}));
    // A missing or non-positive id: the row that names `ID`.
    for params in [json!({}), json!({"id": 0}), json!({"id": "abc"})] {
        let (status, body) = call(&emulator, "crm.deal.get", params.clone()).await;
        assert_eq!(status, 400, "{params}");
        assert_eq!(
            body,
            json!({"error": "", "error_description": "ID is not defined or invalid"}),
            "{params}"
        );
    }
    // The example's own text wins where it is the row's: "ID is not defined or invalid."
    let (_, body) = call(&emulator, "crm.deal.delete", json!({})).await;
    assert_eq!(
        body["error_description"], "ID is not defined or invalid.",
        "{body}"
    );
    // A row recognised by its code sends the code; its message fills the placeholder.
    let (_, body) = call(&emulator, "crm.deal.userfield.get", json!({"id": 5})).await;
    assert_eq!(
        body,
        json!({"error": "ERROR_NOT_FOUND", "error_description": "The entity with ID '5' is not found"})
    );
    // `fields` of the wrong form: the row naming it.
    let (_, body) = call(&emulator, "crm.deal.add", json!({"fields": "x"})).await;
    assert_eq!(
        body,
        json!({"error": "", "error_description": "Parameter 'fields' must be array."})
    );
    // Badges document codes: the code is sent.
    let (_, body) = call(&emulator, "crm.activity.badge.get", json!({"code": "nope"})).await;
    assert_eq!(body["error"], "NOT_FOUND");
    assert_eq!(body["error_description"], "Not found.");
    // crm.item.get: the `NOT_FOUND` row about the item, not the one about `entityTypeId`.
    let (_, body) = call(
        &emulator,
        "crm.item.get",
        json!({"entityTypeId": 2, "id": 9}),
    )
    .await;
    assert_eq!(
        body,
        json!({"error": "NOT_FOUND", "error_description": "Element not found"})
    );
}

/// A UTC time in the form of the docs' `DATE_CREATE`, within a minute of now.
fn assert_now(value: &Value) {
    let text = value.as_str().unwrap_or_default();
    assert_eq!(text.len(), 25, "{value}");
    assert!(text.ends_with("+00:00"), "{value}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let year = 1970 + now / 31_556_952;
    assert!(text.starts_with(&year.to_string()), "{value}");
}

#[tokio::test]
async fn a_new_record_holds_what_was_written_and_what_the_server_assigns() {
    let emulator = start().await;
    let written = json!({"TITLE": "Chairs", "OPPORTUNITY": 1500.5, "UF_CRM_NOTE": "fragile"});
    let (status, added) = call(&emulator, "crm.deal.add", json!({"fields": written})).await;
    assert_eq!((status, &added["result"]), (200, &json!(1)), "{added}");
    let (_, got) = call(&emulator, "crm.deal.get", json!({"id": 1})).await;
    let deal = got["result"].as_object().expect("a deal");
    let keys: Vec<&str> = deal.keys().map(String::as_str).collect();
    // Nothing of the documented example (CONTACT_ID 7, COMPANY_ID 3, a 2026 date...).
    assert_eq!(
        keys,
        [
            "ID",
            "TITLE",
            "OPPORTUNITY",
            "UF_CRM_NOTE",
            "CREATED_BY_ID",
            "MODIFY_BY_ID",
            "DATE_CREATE",
            "DATE_MODIFY"
        ]
    );
    assert_eq!(
        deal["ID"], "1",
        "ids are strings, as the documented deal writes them"
    );
    assert_eq!(deal["TITLE"], "Chairs");
    assert_eq!(deal["OPPORTUNITY"], 1500.5);
    assert_eq!(deal["UF_CRM_NOTE"], "fragile");
    assert_eq!(deal["CREATED_BY_ID"], "7", "the calling webhook's user");
    assert_eq!(deal["MODIFY_BY_ID"], "7");
    assert_now(&deal["DATE_CREATE"]);
    assert_eq!(deal["DATE_MODIFY"], deal["DATE_CREATE"]);

    let (_, updated) = call(
        &emulator,
        "crm.deal.update",
        json!({"id": 1, "fields": {"STAGE_ID": "WON"}}),
    )
    .await;
    assert_eq!(updated["result"], true);
    let (_, got) = call(&emulator, "crm.deal.get", json!({"id": "1"})).await;
    assert_eq!(got["result"]["STAGE_ID"], "WON");
    assert_eq!(got["result"]["TITLE"], "Chairs");
    assert_now(&got["result"]["DATE_MODIFY"]);
}

#[tokio::test]
async fn select_masks_pick_standard_and_custom_fields() {
    let emulator = start().await;
    let fields =
        json!({"TITLE": "Desks", "OPPORTUNITY": 10, "UF_CRM_NOTE": "n", "UF_CRM_WEIGHT": 3});
    call(&emulator, "crm.deal.add", json!({"fields": fields})).await;
    let keys = |body: &Value| -> Vec<String> {
        body["result"][0]
            .as_object()
            .map(|d| d.keys().cloned().collect())
            .unwrap_or_default()
    };
    let list = |select: Value| {
        let emulator = &emulator;
        async move {
            call(emulator, "crm.deal.list", json!({"select": select}))
                .await
                .1
        }
    };
    // The list's `select` documents `UF_*` for custom fields: `*` is the standard ones only.
    let star = list(json!(["*"])).await;
    assert!(keys(&star).iter().all(|k| !k.starts_with("UF_")), "{star}");
    assert!(keys(&star).contains(&"TITLE".to_string()));
    assert_eq!(
        keys(&list(json!(["UF_*"])).await),
        ["ID", "UF_CRM_NOTE", "UF_CRM_WEIGHT"]
    );
    assert_eq!(
        keys(&list(json!(["*", "UF_*"])).await),
        keys(&list(json!([])).await),
        "by default every field"
    );
    assert_eq!(
        keys(&list(json!(["title", "UF_CRM_WEIGHT"])).await),
        ["ID", "TITLE", "UF_CRM_WEIGHT"]
    );
}

#[tokio::test]
async fn user_fields_registered_through_userfield_add_show_in_fields_and_lists() {
    let emulator = start().await;
    let (status, added) = call(
        &emulator,
        "crm.deal.userfield.add",
        json!({"fields": {"FIELD_NAME": "delivery_date", "USER_TYPE_ID": "date", "LABEL": "Delivery date", "MANDATORY": "Y"}}),
    )
    .await;
    assert_eq!(status, 200, "{added}");
    let id = added["result"].clone();
    let (_, got) = call(&emulator, "crm.deal.userfield.get", json!({"id": id})).await;
    assert_eq!(
        got["result"]["FIELD_NAME"], "UF_CRM_DELIVERY_DATE",
        "the server's prefix"
    );
    let (_, listed) = call(&emulator, "crm.deal.userfield.list", json!({})).await;
    assert_eq!(listed["result"][0]["FIELD_NAME"], "UF_CRM_DELIVERY_DATE");

    let (_, fields) = call(&emulator, "crm.deal.fields", json!({})).await;
    let fields = fields["result"].as_object().expect("fields");
    assert!(fields.contains_key("TITLE"));
    assert!(
        !fields.contains_key("UF_CRM_1721244482250"),
        "the custom field of the portal the docs were written on is not ours"
    );
    assert_eq!(
        fields["UF_CRM_DELIVERY_DATE"],
        json!({
            "type": "date", "isRequired": true, "isReadOnly": false, "isImmutable": false,
            "isMultiple": false, "isDynamic": true, "title": "UF_CRM_DELIVERY_DATE",
            "listLabel": "Delivery date", "formLabel": "Delivery date",
            "filterLabel": "Delivery date", "settings": {}
        })
    );

    call(
        &emulator,
        "crm.deal.add",
        json!({"fields": {"TITLE": "No date"}}),
    )
    .await;
    call(
        &emulator,
        "crm.deal.add",
        json!({"fields": {"TITLE": "Dated", "UF_CRM_DELIVERY_DATE": "2026-05-01"}}),
    )
    .await;
    let (_, list) = call(&emulator, "crm.deal.list", json!({"select": ["UF_*"]})).await;
    assert_eq!(
        list["result"],
        json!([
            {"ID": "1", "UF_CRM_DELIVERY_DATE": null},
            {"ID": "2", "UF_CRM_DELIVERY_DATE": "2026-05-01"}
        ])
    );
    let (_, filtered) = call(
        &emulator,
        "crm.deal.list",
        json!({"filter": {">=UF_CRM_DELIVERY_DATE": "2026-01-01"}, "select": ["TITLE"]}),
    )
    .await;
    assert_eq!(filtered["result"], json!([{"ID": "2", "TITLE": "Dated"}]));

    call(&emulator, "crm.deal.userfield.delete", json!({"id": id})).await;
    let (_, fields) = call(&emulator, "crm.deal.fields", json!({})).await;
    assert!(fields["result"].get("UF_CRM_DELIVERY_DATE").is_none());
}
