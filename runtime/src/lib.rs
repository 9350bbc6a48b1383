//! b24-runtime: what generated Bitrix24 bindings run on.
//!
//! * [`Client`]: webhook or OAuth auth (with single-flight refresh), a client-side leaky bucket,
//!   per-method time budgets, retries that never duplicate a write, timeouts, `tracing` spans.
//! * [`Method`]: the contract every generated request implements; [`method_error!`] builds the
//!   per-method error enums.
//! * [`value`]: lenient value types for what the API really sends.
//! * [`uf`]: custom fields read and written by name with a typed value ([`CustomFields`]),
//!   and listed from `P.fields` / `P.userfield.list` ([`UserField`]).
//! * [`batch`], [`paging`]: typed batches and paged streams / fast exports over any method,
//!   with [`Progress`] (records done, the server's total).
//! * [`select`]: `select`, `filter` and `order` built from the generated field keys with the
//!   documented prefixes.
//! * [`events`]: incoming event parsing with a constant-time `application_token` check.
//! * [`app`]: applications: install and placement requests, the OAuth code exchange, a client
//!   per installed portal; [`store`]: where their tokens live (compare-and-set refresh).
//!
//! Secrets (webhook codes, tokens, application tokens) never appear in `Debug`, `Display`,
//! errors or logs, nor go to a host the user did not configure: redirects are not followed
//! (see [`ClientBuilder::follow_read_redirects`]), and what a server echoes back is scrubbed.
//! Whatever a server sends is bounded: bodies ([`ClientBuilder::max_response_bytes`]), waits
//! it asks for, and incoming event forms ([`query::Limits`]).

#![forbid(unsafe_code)]
// Nothing a server or a form sends may panic the code outside tests.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::unreachable,
        clippy::todo
    )
)]
#![warn(missing_docs)]

pub mod app;
pub mod auth;
pub mod batch;
pub mod client;
pub mod envelope;
pub mod error;
pub mod events;
mod generated;
mod http;
pub mod limits;
pub mod method;
mod object;
pub mod offline;
pub mod paging;
pub mod portals;
pub mod query;
pub mod retry;
pub mod secret;
pub mod select;
pub mod store;
mod twin;
pub mod uf;
pub mod value;

pub use app::{App, AppError, FrameRequest, InstallRequest};
pub use auth::{OAuth, Tokens};
pub use batch::{Batch, BatchResults, Cmd, Ref};
pub use client::{BuildError, CallOptions, Client, ClientBuilder};
pub use envelope::{Envelope, Time};
pub use error::{ApiError, DecodeError, Error, RefreshError, TransportError};
pub use limits::{LimitError, RateLimit, SharedLimits};
pub use method::{Access, ApiVersion, ListMethod, Method, MethodError};
pub use paging::{Export, Progress};
pub use portals::{Portals, PortalsBuilder};
pub use retry::RetryPolicy;
pub use secret::Secret;
pub use store::{MemoryStore, StoreError, TokenStore};
pub use uf::{CustomFields, UserField};

/// The date crate the date accessors of [`value`] use.
pub use chrono;

/// What a generated structure's `extra` holds: the keys the docs do not describe, and
/// documented fields that came as `null` or as an empty array, kept as they came (in the order
/// they came), so that writing a value back gives what was read. A field set wins over an
/// entry of `extra` with its key.
pub type Extra = serde_json::Map<String, serde_json::Value>;

/// Re-exports for generated code, so it needs no serde dependency of its own.
#[doc(hidden)]
pub mod __private {
    pub use crate::object::{
        opt, pattern_entries, present, read_object, req, seq, Direct, ObjectWriter, ReadObject,
        Union,
    };
    pub use crate::twin::Twin;
    pub use serde;
    pub use serde_json;

    // What generated code names through its one short path (`__b24::Int`, `__b24::object!`).
    pub use crate::events;
    pub use crate::value::{Bool, Date, DateTime, Double, File, Int};
    pub use crate::{convert, method, method_error, object, one_of, Extra, ListMethod};
    pub use serde_json::Value;
    pub use std::collections::BTreeMap;
}
