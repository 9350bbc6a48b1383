//! One batch with references: a company, a contact bound to it, a deal bound to both, and each
//! read back, all in a single HTTP call.
//!
//! ```text
//! cargo run --example batch_refs
//! ```
//!
//! With no `B24_WEBHOOK_URL`, it runs against the embedded emulator. With
//! `B24_WEBHOOK_URL=https://your-portal.bitrix24.com/rest/1/CODE/` (a webhook with the `crm`
//! scope) it runs against that portal: it creates one company, one contact and one deal, all
//! named `b24 batch example`, and deletes them again at the end.
//!
//! A later command takes an earlier command's result through a typed reference
//! (`cmd.result().get(Key)`), resolved on the server (`$result[c0][item][id]`). A required
//! parameter that is bound, such as the `id` of `crm.deal.get`, is left out of what is written:
//! `Params::<get::Request>::new().bind(get::Request::ID, …)`. A required parameter that is
//! neither set nor bound is refused when the command is added, before anything is sent.

use b24::batch::{Batch, Params};
use b24::crm::{deal, item};
use b24::types::FieldsOfCrmItems;
use b24::value::Int;
use b24::Client;
use b24_emulator::Emulator;

type AnyError = Box<dyn std::error::Error>;

/// `entityTypeId` of companies and contacts in `crm.item.*`.
const COMPANY: i64 = 4;
const CONTACT: i64 = 3;
const NAME: &str = "b24 batch example";

#[tokio::main]
async fn main() -> Result<(), AnyError> {
    let (client, _emulator) = connect().await?;

    let mut batch = Batch::new().halt(true);
    let company = item::add::Fields {
        title: Some(NAME.into()),
        ..Default::default()
    };
    let company = batch.add(&item::add::Request::new(COMPANY, company))?;
    // `$result[c0][item][id]`, typed: an `Int`.
    let company_id = company
        .result()
        .get(item::add::Response::ITEM)
        .get(FieldsOfCrmItems::ID);

    let contact = item::add::Fields {
        name: Some("b24".into()),
        last_name: Some("batch example".into()),
        ..Default::default()
    };
    let contact = batch.add_with(
        &item::add::Request::new(CONTACT, contact),
        [company_id.clone().bind(&["fields", "companyId"])],
    )?;
    let contact_id = contact
        .result()
        .get(item::add::Response::ITEM)
        .get(FieldsOfCrmItems::ID);

    let fields = deal::add::Fields {
        title: Some(NAME.into()),
        ..Default::default()
    };
    let added = batch.add_with(
        &deal::add::Request::new(fields),
        [
            company_id.clone().bind(&["fields", "COMPANY_ID"]),
            contact_id.clone().bind(&["fields", "CONTACT_ID"]),
        ],
    )?;

    // Reads whose required `id` is bound: no placeholder id is written.
    let got_deal = batch.add_params(
        Params::<deal::get::Request>::new().bind(deal::get::Request::ID, added.result()),
    )?;
    let got_contact = batch.add_params(
        Params::<item::get::Request>::new()
            .set(item::get::Request::ENTITY_TYPE_ID, Int::from(CONTACT))
            .bind(item::get::Request::ID, contact_id),
    )?;
    let got_company = batch.add_params(
        Params::<item::get::Request>::new()
            .set(item::get::Request::ENTITY_TYPE_ID, Int::from(COMPANY))
            .bind(item::get::Request::ID, company_id),
    )?;
    // What the check refuses: `crm.deal.get` with its `id` neither set nor bound.
    if let Err(e) = batch.add_params(Params::<deal::get::Request>::new()) {
        println!("refused before sending: {e}");
    }

    let results = client.batch(&batch).await?;
    let deal = results.get(&got_deal)?;
    let contact = results.get(&got_contact)?.item.unwrap_or_default();
    let company = results.get(&got_company)?.item.unwrap_or_default();
    let (deal_id, contact_id, company_id) =
        (deal.id.clone(), contact.id.clone(), company.id.clone());
    // `crm.item.*` fields the docs' item table does not list stay in `extra`, as they came.
    let contact_company = extra_int(&contact, "companyId");
    println!(
        "company {:?} {:?}",
        company_id.as_ref().map(Int::get),
        company.extra.get("title")
    );
    println!(
        "contact {:?} {:?} {:?}, company {:?}",
        contact_id.as_ref().map(Int::get),
        contact.extra.get("name"),
        contact.extra.get("lastName"),
        contact_company.as_ref().map(Int::get)
    );
    println!(
        "deal {:?} {:?}, company {:?}, contact {:?}",
        deal_id.as_ref().map(Int::get),
        deal.title.as_deref().unwrap_or_default(),
        deal.company_id.as_ref().map(Int::get),
        deal.contact_id.as_ref().map(Int::get)
    );
    // Compared as numbers: a portal may send `"5"` where a batch reference gave `5`.
    let number = |id: &Option<Int>| id.as_ref().map(Int::get);
    let linked = number(&deal.company_id) == number(&company_id)
        && number(&deal.contact_id) == number(&contact_id)
        && number(&contact_company) == number(&company_id);

    // Clean up what the example created.
    if let Some(id) = deal_id {
        deal::delete::call(&client, &deal::delete::Request::new(id)).await?;
    }
    if let Some(id) = contact_id {
        item::delete::call(&client, &item::delete::Request::new(CONTACT, id)).await?;
    }
    if let Some(id) = company_id {
        item::delete::call(&client, &item::delete::Request::new(COMPANY, id)).await?;
    }
    println!("deleted the deal, the contact and the company");
    if !linked {
        return Err("the records read back are not linked as the batch bound them".into());
    }
    Ok(())
}

/// An integer field of an item kept in `extra` (`"5"` or `5`).
fn extra_int(item: &FieldsOfCrmItems, name: &str) -> Option<Int> {
    serde_json::from_value(item.extra.get(name)?.clone()).ok()
}

/// A client for `B24_WEBHOOK_URL`, or for a freshly started emulator.
async fn connect() -> Result<(Client, Option<Emulator>), AnyError> {
    if let Ok(url) = std::env::var("B24_WEBHOOK_URL") {
        return Ok((Client::builder().webhook(&url).build()?, None));
    }
    let emulator = Emulator::start().await?;
    // A few earlier companies, so that the ids printed differ from one record to the next.
    let earlier = (1..=3).map(|n| serde_json::json!({"title": format!("earlier company {n}")}));
    emulator.insert_records(
        "crm.item",
        &serde_json::json!({"entityTypeId": COMPANY}),
        earlier,
    )?;
    let client = Client::builder().webhook(emulator.webhook_url()).build()?;
    Ok((client, Some(emulator)))
}
