//! Quick start: the generated Bitrix24 API at work, with no account needed.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! With no `B24_WEBHOOK_URL` in the environment, it starts the embedded emulator (a Bitrix24
//! REST server on 127.0.0.1, built from the same docs as the bindings), stores 10,000 deals in
//! it, and runs the tour below against it.
//!
//! With `B24_WEBHOOK_URL=https://your-portal.bitrix24.com/rest/1/CODE/` (a webhook with the
//! `crm` and `user` scopes) it runs the same tour against that portal. There it writes exactly
//! one thing: a badge with the code `b24_quickstart`, which it deletes again at the end. Everything
//! else only reads (the current user, the badges, at most 10,000 deals). The webhook code is
//! never printed.

use std::error::Error as _;
use std::time::Instant;

use b24::crm::activity::badge;
use b24::crm::item;
use b24::{user, Batch, Client, Error};
use b24_emulator::Emulator;
use futures::StreamExt;
use serde_json::json;

/// The code of the one badge the tour adds and deletes.
const BADGE: &str = "b24_quickstart";
/// `entityTypeId` of deals (leads are 1, contacts 3, companies 4).
const DEALS: i64 = 2;
/// The export stops after this many records, so the tour stays short on a large portal.
const EXPORT_AT_MOST: usize = 10_000;

type AnyError = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> Result<(), AnyError> {
    // Keep the emulator (if any) alive for the whole run: dropping it stops the server.
    let (client, _emulator) = connect().await?;

    let me = user::current::call(&client, &user::current::Request::new()).await?;
    println!(
        "signed in as {} {} (user {})",
        me.name.unwrap_or_default(),
        me.last_name.unwrap_or_default(),
        me.id.map(|id| id.get()).unwrap_or_default()
    );

    // Add the badge, run the tour, and delete the badge whatever the tour did.
    let request = badge::add::Request::new(
        BADGE,
        badge::add::Title::String("b24 quick start".into()),
        badge::add::Value::String("Demo".into()),
        "secondary",
    );
    badge::add::call(&client, &request).await?;
    println!("added badge `{BADGE}`");
    let tour = tour(&client).await;
    badge::delete::call(&client, &badge::delete::Request::new(BADGE)).await?;
    println!("deleted badge `{BADGE}`");
    tour
}

/// A client for `B24_WEBHOOK_URL`, or for a freshly started emulator.
async fn connect() -> Result<(Client, Option<Emulator>), AnyError> {
    if let Ok(url) = std::env::var("B24_WEBHOOK_URL") {
        println!("portal: {} (B24_WEBHOOK_URL)", portal(&url));
        return Ok((Client::builder().webhook(&url).build()?, None));
    }
    let emulator = Emulator::start().await?;
    // Stored directly (no HTTP, no rate limit), so the export below has something to read.
    let deals = (1..=EXPORT_AT_MOST).map(|n| json!({ "title": format!("Deal #{n}") }));
    emulator.insert_records("crm.item", &json!({ "entityTypeId": DEALS }), deals)?;
    println!(
        "emulator: {} (no B24_WEBHOOK_URL set; {EXPORT_AT_MOST} deals stored)",
        emulator.base_url()
    );
    let client = Client::builder().webhook(emulator.webhook_url()).build()?;
    Ok((client, Some(emulator)))
}

async fn tour(client: &Client) -> Result<(), AnyError> {
    // One call: a typed request in, a typed response out.
    let got = badge::get::call(client, &badge::get::Request::new(BADGE)).await?;
    if let Some(found) = got.badge {
        println!(
            "got badge `{}` (type {})",
            found.code.unwrap_or_default(),
            found.r#type.unwrap_or_default()
        );
    }

    let listed = badge::list::call(client, &badge::list::Request::new()).await?;
    let codes: Vec<String> = listed
        .badges
        .unwrap_or_default()
        .into_iter()
        .filter_map(|b| b.code)
        .collect();
    println!("{} badges: {}", codes.len(), codes.join(", "));

    // A batch: several typed calls in one HTTP request; each handle gives back its own type.
    let mut batch = Batch::new();
    let me = batch.add(&user::current::Request::new())?;
    let ours = batch.add(&badge::get::Request::new(BADGE))?;
    let first_page = batch.add(&item::list::Request {
        select: Some(vec!["id".into(), "title".into()]),
        ..item::list::Request::new(DEALS)
    })?;
    let results = client.batch(&batch).await?;
    let me: user::current::Response = results.get(&me)?;
    let ours: badge::get::Response = results.get(&ours)?;
    let first_page: item::list::Response = results.get(&first_page)?;
    println!(
        "batch of {} calls in one request: user {}, badge `{}`, {} deals on the first page",
        batch.len(),
        me.id.map(|id| id.get()).unwrap_or_default(),
        ours.badge.and_then(|b| b.code).unwrap_or_default(),
        first_page.items.map_or(0, |items| items.len())
    );

    // The fast export: `id > last` cursors, 50 pages chained per batch call, each record once,
    // within the client's rate limit (50 requests at once, then 2 per second by default).
    let started = Instant::now();
    let request = item::list::Request {
        select: Some(vec!["id".into(), "title".into()]),
        ..item::list::Request::new(DEALS)
    };
    let mut deals = std::pin::pin!(client.export(&request).stream().take(EXPORT_AT_MOST));
    let mut count = 0;
    while let Some(deal) = deals.next().await {
        let _deal: b24::types::FieldsOfCrmItems = deal?;
        count += 1;
    }
    println!(
        "exported {count} deals in {:.2} s",
        started.elapsed().as_secs_f64()
    );

    // Documented errors are variants of the method's own error type.
    let missing = item::get::Request::new(DEALS, i64::from(i32::MAX));
    match item::get::call(client, &missing).await {
        Err(Error::Method(item::get::Error::NotFound(e))) => {
            println!(
                "crm.item.get of a missing deal: NOT_FOUND ({})",
                e.description()
            )
        }
        Ok(_) => println!("crm.item.get: deal {} exists after all", i32::MAX),
        Err(other) => {
            // Anything else (network, limits, access) keeps its cause.
            eprintln!("crm.item.get failed: {other} ({:?})", other.source());
            return Err(other.into());
        }
    }
    Ok(())
}

/// The portal part of a webhook URL, without the user and the secret code.
fn portal(url: &str) -> &str {
    url.split("/rest/").next().unwrap_or("")
}
