//! b24-runtime (placeholder: the contract is in `method`).
pub mod error;
pub mod method;
