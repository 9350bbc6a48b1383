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
//! Time: limits run in *emulated seconds* (see [`Emulator::set_time_scale`]); timestamps sent
//! to clients (`time.start`, `operating_reset_at`, token `expires`) are wall-clock Unix times.

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
mod reply;
mod state;
mod store;
mod validate;

pub use auth::TokenPair;
pub use config::{Bucket, Fault, FaultRates, Faults, Limits, OAuthApp, WebhookAuth};
pub use emulator::{default_docs_dir, Emulator, EmulatorBuilder, DEFAULT_WEBHOOK_CODE};
pub use state::Stats;
pub use store::StoreError;
