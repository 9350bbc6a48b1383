//! The generated API of the project's `docs/` against the emulator serving the same docs:
//! the emulator's errors are the documented variants of each method's `Error` (not `Other`),
//! and custom fields are registered, written, read back typed and listed by name.

use b24::crm::deal::{self, userfield};
use b24::uf::CustomFields;
use b24::value::{Date, Int};
use b24::{Access, ApiVersion, Error, UserField};
use futures::StreamExt;
use serde_json::json;

mod emulated;
use emulated::connect;

#[tokio::test]
async fn the_emulators_errors_are_the_documented_variants() {
    let (client, _emulator) = connect().await;
    let missing = deal::get::call(&client, &deal::get::Request::new(404)).await;
    assert!(
        matches!(&missing, Err(Error::Method(deal::get::Error::NotFound(e))) if e.code().is_empty()),
        "{missing:?}"
    );
    let zero = deal::get::call(&client, &deal::get::Request::new(0)).await;
    assert!(
        matches!(
            zero,
            Err(Error::Method(deal::get::Error::IdIsNotDefinedOrInvalid(_)))
        ),
        "{zero:?}"
    );
    let update = deal::update::Request::new(404, deal::update::Fields::default());
    let gone = deal::update::call(&client, &update).await;
    assert!(
        matches!(gone, Err(Error::Method(deal::update::Error::NotFound(_)))),
        "{gone:?}"
    );
    let deleted = deal::delete::call(&client, &deal::delete::Request::new(404)).await;
    assert!(
        matches!(
            deleted,
            Err(Error::Method(deal::delete::Error::NotFound(_)))
        ),
        "{deleted:?}"
    );
    // `fields` that is no object: what only a raw call can send.
    let raw = client
        .call_raw(
            "crm.deal.add",
            ApiVersion::V2,
            Access::Write,
            &json!({"fields": "x"}),
        )
        .await
        .map(|_| ())
        .map_err(Error::typed::<deal::add::Error>);
    assert!(
        matches!(
            raw,
            Err(Error::Method(deal::add::Error::ParameterFieldsMustBeArray(
                _
            )))
        ),
        "{raw:?}"
    );
    let field = userfield::get::call(&client, &userfield::get::Request::new(9)).await;
    assert!(
        matches!(
            field,
            Err(Error::Method(userfield::get::Error::ErrorNotFound(_)))
        ),
        "{field:?}"
    );
    let badge = b24::crm::activity::badge::get::Request::new("nope");
    let badge = b24::crm::activity::badge::get::call(&client, &badge).await;
    assert!(
        matches!(
            badge,
            Err(Error::Method(
                b24::crm::activity::badge::get::Error::NotFound(_)
            ))
        ),
        "{badge:?}"
    );
    let item = b24::crm::item::get::call(&client, &b24::crm::item::get::Request::new(2, 9)).await;
    assert!(
        matches!(
            item,
            Err(Error::Method(b24::crm::item::get::Error::NotFound(_)))
        ),
        "{item:?}"
    );
}

#[tokio::test]
async fn custom_fields_are_registered_written_read_typed_and_listed() {
    let (client, _emulator) = connect().await;
    let mut definition = userfield::add::Fields::new("delivery_date", "date");
    definition
        .extra
        .insert("LABEL".into(), json!("Delivery date"));
    userfield::add::call(&client, &userfield::add::Request::new(definition))
        .await
        .expect("registered");
    let fields = client
        .user_fields(&deal::fields::Request::new())
        .await
        .expect("listed");
    assert_eq!(
        fields,
        [UserField {
            name: "UF_CRM_DELIVERY_DATE".into(),
            type_id: "date".into(),
            multiple: false,
            mandatory: false,
            label: Some("Delivery date".into()),
        }]
    );
    let listed = client
        .user_fields(&userfield::list::Request::new())
        .await
        .expect("listed");
    assert_eq!(listed, fields);

    let new_deal = deal::add::Fields {
        title: Some("Chairs".into()),
        ..Default::default()
    }
    .with_uf("UF_CRM_DELIVERY_DATE", "2026-05-01")
    .expect("a date serializes")
    .with_uf("UF_CRM_WEIGHT", 12)
    .expect("a number serializes");
    let id = deal::add::call(&client, &deal::add::Request::new(new_deal))
        .await
        .expect("added");

    let got = deal::get::call(&client, &deal::get::Request::new(id.get()))
        .await
        .expect("read");
    assert_eq!(got.title.as_deref(), Some("Chairs"));
    let date: Option<Date> = got.uf("UF_CRM_DELIVERY_DATE").expect("a date");
    assert_eq!(
        date.map(|d| d.as_str().to_owned()),
        Some("2026-05-01".into())
    );
    assert_eq!(
        got.uf::<Int>("UF_CRM_WEIGHT")
            .expect("a number")
            .map(|n| n.get()),
        Some(12)
    );

    let list = deal::list::Request {
        select: Some(vec!["ID".into(), "UF_*".into()]),
        ..deal::list::Request::new()
    };
    let deals: Vec<b24::types::Deal> = client
        .list(&list)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()
        .expect("listed");
    assert_eq!(deals.len(), 1);
    assert_eq!(deals[0].title, None, "not selected");
    let names: Vec<&str> = deals[0].custom_fields().iter().map(|(k, _)| *k).collect();
    assert_eq!(names, ["UF_CRM_DELIVERY_DATE", "UF_CRM_WEIGHT"]);
}

#[tokio::test]
async fn lists_take_filters_built_from_the_generated_keys() {
    use b24::runtime::select::{Filter, Order, Select};
    use b24::types::Deal;
    let (client, emulator) = connect().await;
    let deals = [
        ("A", 500, "NEW"),
        ("B", 1500, "NEW"),
        ("C", 2500, "LOSE"),
        ("D", 1000, "WON"),
    ];
    emulator
        .insert_records(
            "crm.deal",
            &json!({}),
            deals
                .iter()
                .map(|(t, o, s)| json!({"TITLE": t, "OPPORTUNITY": o, "STAGE_ID": s})),
        )
        .expect("seeded");
    let request = deal::list::Request {
        select: Some(
            Select::new()
                .field(Deal::TITLE)
                .field(Deal::OPPORTUNITY)
                .names(),
        ),
        filter: Some(
            Filter::new()
                .ge(Deal::OPPORTUNITY, 1000)
                .not_in(Deal::STAGE_ID, ["LOSE"])
                .to()
                .expect("a filter"),
        ),
        order: Some(Order::new().desc(Deal::OPPORTUNITY).to().expect("an order")),
        ..deal::list::Request::new()
    };
    let found = deal::list::call(&client, &request).await.expect("listed");
    let titles: Vec<_> = found.iter().filter_map(|d| d.title.clone()).collect();
    assert_eq!(titles, ["B", "D"]);
    assert_eq!(
        format!("{:?}", found[0].id),
        "Some(2)",
        "ids debug as numbers"
    );

    let done = std::sync::Arc::new(std::sync::Mutex::new(b24::Progress::default()));
    let seen = std::sync::Arc::clone(&done);
    let exported = client
        .export(&deal::list::Request::new())
        .on_progress(move |p| *seen.lock().expect("progress") = p)
        .stream()
        .collect::<Vec<_>>()
        .await;
    assert_eq!(exported.len(), 4);
    let progress = *done.lock().expect("progress");
    assert_eq!(
        progress,
        b24::Progress {
            done: 4,
            total: Some(4)
        }
    );
}

#[tokio::test]
async fn a_read_deal_converts_to_its_update_fields() {
    let (client, _emulator) = connect().await;
    let fields = deal::add::Fields {
        title: Some("before".into()),
        comments: Some("kept".into()),
        currency_id: Some("EUR".into()),
        ..Default::default()
    };
    let id = deal::add::call(&client, &deal::add::Request::new(fields))
        .await
        .expect("added")
        .get();
    let got = deal::get::call(&client, &deal::get::Request::new(id))
        .await
        .expect("read");
    // The generated conversion: the fields `update` takes, as `get` read them.
    let mut edit = deal::update::Fields::from(&got);
    assert_eq!(edit.comments.as_deref(), Some("kept"));
    assert_eq!(edit.currency_id.as_deref(), Some("EUR"));
    assert!(
        edit.extra.is_empty(),
        "what only a read brings is not sent back"
    );
    edit.title = Some("after".into());
    deal::update::call(&client, &deal::update::Request::new(id, edit))
        .await
        .expect("updated");
    let again = deal::get::call(&client, &deal::get::Request::new(id))
        .await
        .expect("read again");
    assert_eq!(again.title.as_deref(), Some("after"));
    assert_eq!(again.comments.as_deref(), Some("kept"));
    assert_eq!(again.currency_id.as_deref(), Some("EUR"));
}
