//! `b24-emulator`: a Bitrix24-compatible REST server on loopback, driven by the docs model.
//!
//! It serves the wire protocol of the real server (webhooks at `/rest/{user}/{code}/{method}`,
//! OAuth at `/rest/{method}` with `auth`, REST 3.0 at `/rest/api/...`, JSON and
//! `http_build_query` form bodies, `batch`), checks every call against the documented parameters,
//! keeps real records for add/get/list/update/delete families, and enforces the documented
//! limits (leaky bucket, operating time). Knobs inject latency and faults and speed time up, so
//! clients can be tested against the failures they must survive.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let emulator = b24_emulator::Emulator::builder().start().await?;
//! let url = format!("{}crm.activity.badge.list.json", emulator.webhook_url());
//! # let _ = url;
//! # Ok(()) }
//! ```
//!
//! # What it serves
//!
//! - `POST`/`GET /rest/{user}/{code}/{method}[.json]` (webhook; user `1` and any code by default),
//!   `/rest/{method}[.json]` with `auth` in the body or the query (OAuth), and REST 3.0 at
//!   `/rest/api/{user}/{code}/{method}` and `/rest/api/{method}` (JSON bodies only, unified
//!   answers and errors, `Idempotency-Key` for writes). `/oauth/token/` refreshes tokens.
//! - Every documented method: required parameters and types are checked against the model
//!   (`REQUIRED_ARG_MISSING`, `INVALID_ARG_VALUE`, with the status the page gives, else 400);
//!   unknown methods get 404 `ERROR_METHOD_NOT_FOUND`; the answer is the documented example.
//! - Families: methods `P.add`/`P.get`/`P.list`/`P.update`/`P.delete` sharing a prefix keep real
//!   records. Which parameter is the id, which ones name a collection (e.g. `entityTypeId`),
//!   which one carries the record, and how each answer is shaped all come from the pages.
//!   Lists page by 50 (`start`, `next`, `total`; `start=-1` skips the count) and filter with
//!   the documented prefixes (`>`, `>=`, `<`, `<=`, `@`, `!@`, `=`, `!`, `%`).
//! - `batch`: up to 50 commands, `halt`, `$result[cmd][path]` references.
//!
//! # Knobs
//!
//! [`Limits`] (leaky bucket, operating budget, processing time), [`Faults`] and [`Fault`]
//! (latency, dropped connections before or after the method ran, 5xx, truncated and non-JSON
//! bodies), the time scale, token lifetime and expiry: all set on the builder or while running.
//! [`Emulator::stats`], [`Emulator::runs`] and [`Emulator::records`] show what happened.
//!
//! [`ServerLimits`] bound what one client may hold of the server, so a test gone wrong meets an
//! error instead of exhausting the machine: request bodies (32 MiB, else 413
//! `REQUEST_ENTITY_TOO_LARGE`, the rest of the body read and dropped), connections at once
//! (512; more wait), the time for a request head, idle keep-alive time included (30 s), and
//! for a body (30 s, else 408 `REQUEST_TIMEOUT`), and the parameters kept for
//! [`Emulator::received`] (100 runs and 8 MiB per method). What `batch` references copy is
//! bounded like a body; at most 10,000 `Idempotency-Key` answers (each kept 24 emulated hours)
//! and 100,000 access tokens are kept. A failing `accept` (out of file descriptors) is retried
//! after a pause growing from 5 to 250 ms, never at once.
//!
//! Time: limits run in *emulated seconds* (see [`Emulator::set_time_scale`]); timestamps sent
//! to clients (`time.start`, `operating_reset_at`, token `expires`) are wall-clock Unix times.
//! Durations in `time` (`duration`, `processing`, `operating`) are emulated seconds.

#![warn(missing_docs)]
#![forbid(unsafe_code)]
// Nothing a request carries may panic the server; tests may.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::todo,
        clippy::unimplemented,
        clippy::unreachable
    )
)]

mod apps;
mod auth;
mod batch;
mod clock;
mod config;
mod dispatch;
mod emulator;
mod family;
mod http;
mod limits;
mod params;
mod query;
mod received;
mod reply;
mod state;
mod store;
mod validate;

pub use apps::{Delivery, Installation, Subscription, MEMBER_ID};
pub use auth::TokenPair;
pub use config::{Bucket, Fault, FaultRates, Faults, Limits, OAuthApp, ServerLimits, WebhookAuth};
pub use emulator::{default_docs_dir, Emulator, EmulatorBuilder, DEFAULT_WEBHOOK_CODE};
pub use state::Stats;
pub use store::StoreError;
