//! b24 (placeholder).
pub use b24_runtime as runtime;
