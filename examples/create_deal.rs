//! Create a deal with its company and contact, and handle each documented error.
//!
//! ```text
//! cargo run --example create_deal
//! ```
//!
//! With no `B24_WEBHOOK_URL`, it runs against the embedded emulator (which answers errors as the
//! docs say a portal does). With `B24_WEBHOOK_URL=https://your-portal.bitrix24.com/rest/1/CODE/`
//! (a webhook with the `crm` scope) it runs against that portal: it creates one company, one
//! contact and one deal, all named `b24 example`, and deletes them again at the end.
//!
//! Every documented error of a method is a variant of that method's `Error`: the match arms
//! below are what the pages of `crm.deal.add` and `crm.deal.get` list, plus `Other` for an error
//! the docs do not list, and the runtime's own errors (limits, auth, network) around them.

use b24::crm::{deal, item};
use b24::value::Double;
use b24::{Access, ApiVersion, Client, CustomFields, Error};
use b24_emulator::Emulator;
use serde_json::json;

type AnyError = Box<dyn std::error::Error>;

/// `entityTypeId` of companies and contacts in `crm.item.*`.
const COMPANY: i64 = 4;
const CONTACT: i64 = 3;
/// A custom field of deals the example fills when the portal has it.
const NOTE: &str = "UF_CRM_B24_EXAMPLE_NOTE";

#[tokio::main]
async fn main() -> Result<(), AnyError> {
    let (client, _emulator) = connect().await?;

    // The related records first: a company and a contact, through the universal crm.item.add.
    let company = item::add::Fields {
        title: Some("b24 example".into()),
        ..Default::default()
    };
    let company = item::add::call(&client, &item::add::Request::new(COMPANY, company)).await?;
    let company_id = id_of(&company.item)?;
    let contact = item::add::Fields {
        name: Some("b24".into()),
        last_name: Some("example".into()),
        company_id: Some(company_id.into()),
        ..Default::default()
    };
    let contact = item::add::call(&client, &item::add::Request::new(CONTACT, contact)).await?;
    let contact_id = id_of(&contact.item)?;
    println!("company {company_id}, contact {contact_id}");

    // The deal, linked to both; a custom field only where the portal has it.
    let has_note = client
        .user_fields(&deal::fields::Request::new())
        .await?
        .iter()
        .any(|f| f.name == NOTE);
    let mut fields = deal::add::Fields {
        title: Some("b24 example".into()),
        company_id: Some(company_id.into()),
        contact_id: Some(contact_id.into()),
        currency_id: Some("EUR".into()),
        opportunity: Some(Double::from(1500.5)),
        ..Default::default()
    };
    if has_note {
        fields.set_uf(NOTE, "created by the b24 example")?;
    }
    let deal_id = match deal::add::call(&client, &deal::add::Request::new(fields)).await {
        Ok(id) => id.get(),
        Err(Error::Method(deal::add::Error::AccessDenied(e))) => {
            return Err(format!("this webhook's user may not add deals: {e}").into())
        }
        Err(Error::Method(deal::add::Error::ParameterFieldsMustBeArray(e))) => {
            return Err(format!("the request was malformed: {e}").into())
        }
        Err(other) => return Err(other.into()),
    };
    let got = deal::get::call(&client, &deal::get::Request::new(deal_id)).await?;
    println!(
        "deal {deal_id}: {:?}, company {:?}, contact {:?}, amount {:?}, note {:?}",
        got.title.as_deref().unwrap_or_default(),
        got.company_id,
        got.contact_id,
        got.opportunity,
        got.uf::<String>(NOTE)?
    );

    // Each documented error of crm.deal.get, provoked on purpose.
    for id in [0, i64::from(i32::MAX)] {
        match deal::get::call(&client, &deal::get::Request::new(id)).await {
            Ok(_) => println!("crm.deal.get {id}: found after all"),
            Err(Error::Method(deal::get::Error::IdIsNotDefinedOrInvalid(e))) => {
                println!(
                    "crm.deal.get {id}: the id is not valid ({})",
                    e.description()
                )
            }
            Err(Error::Method(deal::get::Error::NotFound(e))) => {
                println!("crm.deal.get {id}: no such deal ({})", e.description())
            }
            Err(Error::Method(deal::get::Error::AccessDenied(e))) => {
                println!("crm.deal.get {id}: not allowed to read it ({e})")
            }
            Err(Error::Method(other)) => println!("crm.deal.get {id}: undocumented error {other}"),
            // Limits, authentication, network: the runtime's own errors, with their cause.
            Err(other) => return Err(other.into()),
        }
    }
    // `fields` that is not an object cannot be built with the typed request; a raw call can
    // send it, and its error is typed afterwards.
    let raw = client
        .call_raw(
            "crm.deal.add",
            ApiVersion::V2,
            Access::Write,
            &json!({"fields": "x"}),
        )
        .await
        .map_err(Error::typed::<deal::add::Error>);
    match raw {
        Err(Error::Method(deal::add::Error::ParameterFieldsMustBeArray(e))) => {
            println!("crm.deal.add with fields \"x\": {}", e.description())
        }
        Ok(_) => println!("crm.deal.add with fields \"x\" was accepted"),
        Err(other) => println!("crm.deal.add with fields \"x\": {other}"),
    }

    // Clean up what the example created.
    deal::delete::call(&client, &deal::delete::Request::new(deal_id)).await?;
    item::delete::call(&client, &item::delete::Request::new(CONTACT, contact_id)).await?;
    item::delete::call(&client, &item::delete::Request::new(COMPANY, company_id)).await?;
    println!("deleted the deal, the contact and the company");
    Ok(())
}

/// The id of the item a `crm.item.add` answered with.
fn id_of(item: &Option<b24::types::FieldsOfCrmItems>) -> Result<i64, AnyError> {
    item.as_ref()
        .and_then(|i| i.id.as_ref())
        .map(|id| id.get())
        .ok_or_else(|| "crm.item.add answered without the item's id".into())
}

/// A client for `B24_WEBHOOK_URL`, or for a freshly started emulator with the example's custom
/// field registered.
async fn connect() -> Result<(Client, Option<Emulator>), AnyError> {
    if let Ok(url) = std::env::var("B24_WEBHOOK_URL") {
        return Ok((Client::builder().webhook(&url).build()?, None));
    }
    let emulator = Emulator::start().await?;
    let client = Client::builder().webhook(emulator.webhook_url()).build()?;
    let field = deal::userfield::add::Fields::new("B24_EXAMPLE_NOTE", "string");
    deal::userfield::add::call(&client, &deal::userfield::add::Request::new(field)).await?;
    Ok((client, Some(emulator)))
}
