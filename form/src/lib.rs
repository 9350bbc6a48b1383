//! PHP's form encoding, as Bitrix24 speaks it: one implementation for the runtime and the
//! emulator.
//!
//! * [`http_build_query`] writes what PHP's `http_build_query` writes (batch commands are
//!   `method?query` strings the server reads with `parse_str`).
//! * [`parse_str`] reads like PHP's `parse_str` (incoming events, form bodies, query strings),
//!   into JSON the way `json_encode` would write the PHP array. It is bounded by [`Limits`]
//!   (input size, bracket depth, number of fields) and linear in the input: input beyond the
//!   limits is a [`FormError`], never a crash or a long stall.
//! * [`find`] reads the one field PHP would leave at a path without building the tree, e.g. to
//!   check an event's `auth[application_token]` before parsing the rest of an untrusted body.
//! * [`comparable_error_text`] is how both sides compare an error's text with the docs' (the
//!   runtime to recognise a documented error, the emulator to answer with it).
//! * [`scalar`] says whether a value PHP sent reads as an integer, a number or a flag, for the
//!   runtime's lenient types, the generator and the emulator alike.
//!
//! ```
//! use b24_form::{http_build_query, parse_str, Limits};
//! let form = parse_str(b"fields[TITLE]=Deal+1&ids[]=5&ids[]=6", &Limits::DEFAULT)?;
//! assert_eq!(form["fields"]["TITLE"], "Deal 1");
//! assert_eq!(form["ids"], serde_json::json!(["5", "6"]));
//! assert_eq!(http_build_query(&serde_json::json!({"a": {"b": 1}})), "a%5Bb%5D=1");
//! # Ok::<(), b24_form::FormError>(())
//! ```

#![forbid(unsafe_code)]
// Nothing a form sends may panic the code outside tests.
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

mod encode;
mod parse;
pub mod scalar;
mod text;

pub use encode::{http_build_query, urldecode, urlencode};
pub use parse::{find, parse_str, FormError, Limits, MAX_DEPTH};
pub use text::comparable_error_text;
