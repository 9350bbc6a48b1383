//! The `api!` macro (placeholder until the generator lands).
