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
//! - Every documented method: required parameters and types are checked against the model;
//!   unknown methods get 404 `ERROR_METHOD_NOT_FOUND`; the answer is the documented example.
//! - Errors as the docs show them: a missing parameter, a value of the wrong type or a record
//!   that does not exist is answered with the method's documented error for it (the row of the
//!   page's error table that speaks of it and names no other parameter), in the page's wire
//!   form: `{"error": "", "error_description": "Not found"}` where the page says so, the code
//!   where the row is recognised by its code, REST 3.0's `error.code`/`message`/`validation`.
//!   The generated `Error` of the method recognises it as the documented variant. Pages that
//!   document no such error get `REQUIRED_ARG_MISSING`, `INVALID_ARG_VALUE` or `NOT_FOUND`
//!   (400).
//! - Families: methods `P.add`/`P.get`/`P.list`/`P.update`/`P.delete` sharing a prefix keep real
//!   records. Which parameter is the id, which ones name a collection (e.g. `entityTypeId`),
//!   which one carries the record, and how each answer is shaped all come from the pages.
//!   A record holds exactly what was written, plus what the server assigns: the id, the
//!   creation and change times (now) and users (the caller) in the fields the documented record
//!   has for them (`DATE_CREATE`, `createdBy`...), in its forms. Lists page by 50 (`start`,
//!   `next`, `total`; `start=-1` skips the count), filter with the documented prefixes (`>`,
//!   `>=`, `<`, `<=`, `@`, `!@`, `=`, `!`, `%`) and honour `select` masks (`*`, `UF_*`, any
//!   `PREFIX*`; `*` leaves custom fields out where the list documents `UF_*`).
//! - Custom fields: the records of `P.userfield.add` (the family `P.userfield`) are the custom
//!   fields of `P`: their names get `P`'s documented prefix (`UF_CRM_`), `P.fields` lists them
//!   beside the documented fields (without the documented portal's own), and records of `P`
//!   show them as `null` until written.
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
mod errors;
mod family;
mod fleet;
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
pub use emulator::{
    default_docs_dir, Emulator, EmulatorBuilder, DEFAULT_WEBHOOK_CODE, FLEET_DOMAIN,
};
pub use fleet::{fleet_domain, fleet_member_id, Fleet, MAX_FLEET};
pub use state::Stats;
pub use store::StoreError;
