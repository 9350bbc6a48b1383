//! Batch references with no placeholder request: bound parameters are left out of what is
//! written (`batch::Params`), the required ones are checked when the command is added, and the
//! batch creates records and reads them back from the emulator.

use b24::batch::{Batch, Params};
use b24::crm::{deal, item};
use b24::types::FieldsOfCrmItems;
use b24::value::Int;
use b24::Error;

mod emulated;
use emulated::connect;

/// `entityTypeId` of companies and contacts in `crm.item.*`.
const COMPANY: i64 = 4;
const CONTACT: i64 = 3;

fn named(title: &str) -> item::add::Fields {
    item::add::Fields {
        title: Some(title.into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_batch_creates_linked_records_and_reads_them_back_without_placeholders() {
    let (client, emulator) = connect().await;
    // Earlier records, so that the company's, the contact's and the deal's ids all differ and a
    // reference to the wrong command shows.
    let seed = |n: usize| (0..n).map(|i| serde_json::json!({"title": format!("seed {i}")}));
    emulator
        .insert_records(
            "crm.item",
            &serde_json::json!({"entityTypeId": COMPANY}),
            seed(4),
        )
        .expect("companies seeded");
    emulator
        .insert_records(
            "crm.item",
            &serde_json::json!({"entityTypeId": CONTACT}),
            seed(2),
        )
        .expect("contacts seeded");
    let mut batch = Batch::new().halt(true);
    let company = batch
        .add(&item::add::Request::new(COMPANY, named("Acme")))
        .expect("company");
    let company_id = company
        .result()
        .get(item::add::Response::ITEM)
        .get(FieldsOfCrmItems::ID);
    let contact = batch
        .add_with(
            &item::add::Request::new(CONTACT, named("Ann")),
            [company_id.clone().bind(&["fields", "companyId"])],
        )
        .expect("contact");
    let contact_id = contact
        .result()
        .get(item::add::Response::ITEM)
        .get(FieldsOfCrmItems::ID);
    let fields = deal::add::Fields {
        title: Some("from a batch".into()),
        ..Default::default()
    };
    let added = batch
        .add_with(
            &deal::add::Request::new(fields),
            [
                company_id.clone().bind(&["fields", "COMPANY_ID"]),
                contact_id.clone().bind(&["fields", "CONTACT_ID"]),
            ],
        )
        .expect("deal");
    // The required `id` of each read is bound, and so left out: no placeholder request.
    let got_deal = batch
        .add_params(
            Params::<deal::get::Request>::new().bind(deal::get::Request::ID, added.result()),
        )
        .expect("deal read");
    let got_contact = batch
        .add_params(
            Params::<item::get::Request>::new()
                .set(item::get::Request::ENTITY_TYPE_ID, Int::from(CONTACT))
                .bind(item::get::Request::ID, contact_id),
        )
        .expect("contact read");
    assert_eq!(batch.len(), 5);

    let results = client.batch(&batch).await.expect("the batch runs");
    let company = results.get(&company).expect("company added");
    // Ids as numbers: a portal may send `"5"` where a batch reference gave `5`.
    let company_id = company.item.and_then(|i| i.id).expect("company id").get();
    let contact = results.get(&contact).expect("contact added");
    let contact_id = contact.item.and_then(|i| i.id).expect("contact id").get();
    let deal_id = results.get(&added).expect("deal added");
    assert!(
        company_id != contact_id && contact_id != deal_id.get(),
        "distinct ids"
    );
    let deal = results.get(&got_deal).expect("deal read back");
    assert_eq!(deal.id.map(|i| i.get()), Some(deal_id.get()));
    assert_eq!(deal.title.as_deref(), Some("from a batch"));
    assert_eq!(deal.company_id.map(|i| i.get()), Some(company_id));
    assert_eq!(deal.contact_id.map(|i| i.get()), Some(contact_id));
    let read = results.get(&got_contact).expect("contact read back");
    let read = read.item.expect("the contact");
    assert_eq!(read.id.map(|i| i.get()), Some(contact_id));
    // Fields the docs' item table does not list stay in `extra`, as they came.
    let linked: Option<Int> = read
        .extra
        .get("companyId")
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    assert_eq!(linked.map(|i| i.get()), Some(company_id));
}

#[test]
fn a_required_parameter_neither_set_nor_bound_is_refused_when_added() {
    let mut batch = Batch::new();
    let added = batch
        .add(&deal::add::Request::new(deal::add::Fields::default()))
        .expect("add");

    let err = batch
        .add_params(Params::<deal::get::Request>::new())
        .expect_err("id is required");
    assert!(
        matches!(&err, Error::InvalidArgument(m) if m.contains("crm.deal.get") && m.contains("\"id\"")),
        "{err}"
    );

    // `id` bound, `fields` missing; a binding inside `fields` does not make up the rest of it.
    let update =
        || Params::<deal::update::Request>::new().bind(deal::update::Request::ID, added.result());
    for params in [
        update(),
        update().with([added.result().untyped().bind(&["fields", "COMMENTS"])]),
    ] {
        let err = batch.add_params(params).expect_err("fields is required");
        assert!(
            matches!(&err, Error::InvalidArgument(m) if m.contains("\"fields\"") && !m.contains("\"id\"")),
            "{err}"
        );
    }
    assert_eq!(batch.len(), 1, "refused commands are not added");

    // Set, or bound as a whole, it is accepted.
    batch
        .add_params(update().set(
            deal::update::Request::FIELDS,
            deal::update::Fields::default(),
        ))
        .expect("fields set");
    batch
        .add_params(
            Params::<deal::update::Request>::new()
                .set(deal::update::Request::ID, Int::from(1))
                .with([added.result().untyped().bind(&["fields"])]),
        )
        .expect("fields bound");
    assert_eq!(batch.len(), 3);
}
