//! `b24-codegen`: reads Bitrix24 REST documentation pages (Markdown in the YFM dialect) into a
//! [`model::Api`] and turns that model into Rust tokens.
//!
//! This is a plain library: no `proc_macro` types. The `b24-macros` crate, the `b24-codegen`
//! CLI and build scripts all call the same three functions:
//!
//! - [`load`]: a docs folder or a single page → [`model::Api`] (never panics; problems become
//!   [`diag::Diagnostic`]s with file:line and the rest still loads);
//! - [`generate`]: [`model::Api`] → [`proc_macro2::TokenStream`];
//! - [`render`]: tokens → formatted Rust source.
//!
//! `generate`, `render` and the modules built on them (the lock, the diff, the package and
//! conformance crates) need the `emit` feature (on by default), which brings proc-macro2,
//! quote, syn and prettyplease; without it the crate reads docs into the model and checks it.

#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod check;
#[cfg(feature = "emit")]
pub mod conformance;
pub mod diag;
#[cfg(feature = "emit")]
pub mod diff;
pub mod extract;
pub mod facts;
#[cfg(feature = "emit")]
mod gen;
pub mod limits;
mod load;
#[cfg(feature = "emit")]
pub mod lock;
pub mod model;
pub mod names;
#[cfg(feature = "emit")]
pub mod package;
pub mod page;
pub mod yfm;

pub use diag::{DefectKind, Diagnostic, Severity};
#[cfg(feature = "emit")]
pub use gen::{generate, module_paths, render, Options, RUNTIME_CODES};
pub use limits::Limits;
pub use load::{load, load_with, page_files};
pub use model::Api;

/// A fingerprint of this crate's source (its `src/` and `Cargo.toml`), which changes whenever
/// the generator's code does, even when its version does not (a path or git dependency): what
/// a cache of generated code is keyed on besides its inputs.
pub const GENERATOR_SOURCE: &str =
    concat!(env!("CARGO_PKG_VERSION"), "+", env!("B24_CODEGEN_SOURCE"));
