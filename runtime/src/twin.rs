//! Derive twins of generated types, for the conformance crate's decode benchmark: the same
//! fields with the same value types, read by `#[derive(Deserialize)]`, so that the generated
//! decoding is compared with serde's derive on the docs' own examples.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;

use crate::value::{Bool, Date, DateTime, Double, File, Int};

/// A type's derive twin. A value type is its own twin; a list, an option or a map holds the
/// twins of what it holds; a generated structure's twin is a `#[derive(Deserialize)]` struct
/// with the same wire names (unknown keys skipped, nothing kept), and a union's an untagged
/// derived enum (`object!` and `one_of!` flag `twin`).
pub trait Twin {
    /// The twin.
    type Twin: DeserializeOwned;
}

macro_rules! own_twin {
    ($($ty:ty),* $(,)?) => {
        $( impl Twin for $ty { type Twin = Self; } )*
    };
}

own_twin!(
    String,
    serde_json::Value,
    Int,
    Bool,
    Double,
    Date,
    DateTime,
    File
);

impl<T: Twin> Twin for Vec<T> {
    type Twin = Vec<T::Twin>;
}

impl<T: Twin> Twin for Option<T> {
    type Twin = Option<T::Twin>;
}

impl<T: Twin> Twin for BTreeMap<String, T> {
    type Twin = BTreeMap<String, T::Twin>;
}
