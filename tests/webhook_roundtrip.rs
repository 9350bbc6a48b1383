//! A test a team can copy into its own crate: start the emulator, point a webhook client at it,
//! write through the generated API and check that the write reads back.
//!
//! Copy this file to your crate's `tests/` with `b24`, `b24-emulator` and `tokio` (features
//! `macros`, `rt-multi-thread`) as dev-dependencies. The emulator is a Bitrix24 REST server on
//! 127.0.0.1 answering as the docs say a portal does; nothing leaves the machine. The client is
//! built from a webhook URL exactly as for a real portal, so the code under test does not know
//! the difference.

use b24::crm::deal;
use b24::{Client, Error};
use b24_emulator::Emulator;

/// What the application under test would do: create a deal and rename it.
async fn create_and_rename(
    client: &Client,
    title: &str,
    renamed: &str,
) -> Result<i64, Box<dyn std::error::Error + Send + Sync>> {
    let fields = deal::add::Fields {
        title: Some(title.into()),
        ..Default::default()
    };
    let id = deal::add::call(client, &deal::add::Request::new(fields))
        .await?
        .get();
    let fields = deal::update::Fields {
        title: Some(renamed.into()),
        ..Default::default()
    };
    deal::update::call(client, &deal::update::Request::new(id, fields)).await?;
    Ok(id)
}

#[tokio::test]
async fn a_write_through_the_webhook_reads_back() {
    // A fresh portal per test: tests do not see each other's records.
    let emulator = Emulator::start().await.expect("the emulator starts");
    let client = Client::builder()
        .webhook(emulator.webhook_url())
        .build()
        .expect("a webhook client");

    let id = create_and_rename(&client, "first", "renamed")
        .await
        .expect("the writes succeed");

    let got = deal::get::call(&client, &deal::get::Request::new(id))
        .await
        .expect("the deal reads back");
    assert_eq!(got.id.map(|i| i.get()), Some(id));
    assert_eq!(got.title.as_deref(), Some("renamed"));
    // Each write reached the portal once.
    assert_eq!(emulator.runs("crm.deal.add"), 1);
    assert_eq!(emulator.runs("crm.deal.update"), 1);

    // A deleted deal is gone: the documented error, typed.
    deal::delete::call(&client, &deal::delete::Request::new(id))
        .await
        .expect("deleted");
    let gone = deal::get::call(&client, &deal::get::Request::new(id)).await;
    assert!(
        matches!(gone, Err(Error::Method(deal::get::Error::NotFound(_)))),
        "{gone:?}"
    );
}
