//! A client on a fresh emulator, without rate limits or retries: every call reaches the
//! emulator exactly once, as written.

use b24::{Client, RetryPolicy};
use b24_emulator::Emulator;

/// Starts an emulator with no bucket and no time budget, and a webhook client on it.
pub async fn connect() -> (Client, Emulator) {
    let emulator = Emulator::builder()
        .bucket(None)
        .operating_limit(None)
        .start()
        .await
        .expect("the emulator starts");
    let client = Client::builder()
        .webhook(emulator.webhook_url())
        .no_rate_limit()
        .retry(RetryPolicy::none())
        .build()
        .expect("a client");
    (client, emulator)
}
