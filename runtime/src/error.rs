//! Errors (placeholder).
/// An error answer of the API.
#[derive(Debug)]
pub struct ApiError;
