//! The contract between generated code and the runtime.
//!
//! Every generated `Request` implements [`Method`]; list methods also implement [`ListMethod`].
//! Every generated per-method `Error` enum implements [`MethodError`].

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::ApiError;

/// The REST protocol version a method belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ApiVersion {
    /// Classic REST: `POST {base}/{method}.json`, envelope `{result, time, next, total}`.
    V2,
    /// REST 3.0: `POST {portal}/rest/api/…/{method}`, unified response and error format.
    V3,
}

/// Whether a method only reads or may change data; decides what may be re-sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    /// Reads only: safe to retry after any transport error.
    Read,
    /// Changes data: re-sent only after errors proving the server did not run it.
    Write,
}

/// A REST method call: the request parameters plus what the method returns.
pub trait Method: Serialize + Send + Sync {
    /// The REST name, e.g. `crm.activity.badge.add`.
    const NAME: &'static str;
    /// The protocol version.
    const VERSION: ApiVersion;
    /// Reads or writes.
    const ACCESS: Access;
    /// The decoded `result` of a successful call.
    type Response: DeserializeOwned + Send + 'static;
    /// The errors this method documents (plus a catch-all).
    type Error: MethodError;
}

/// A method's typed error: built from any [`ApiError`], keeps it.
pub trait MethodError: From<ApiError> + std::error::Error + Send + Sync + 'static {
    /// The API error this value was built from (status, code, description, raw body).
    fn api_error(&self) -> &ApiError;
}

/// A method whose results come in pages of up to 50 items (`start` / `next` / `total`).
///
/// The provided constants serve the fast ID-keyed export ([`crate::Client::export`]); their
/// defaults fit most classic list methods. When the request already has a parameter whose name
/// matches `filter` / `order` case-insensitively, that one is used instead.
pub trait ListMethod: Method {
    /// One record.
    type Item: DeserializeOwned + Send + 'static;
    /// The records of one page.
    fn into_items(response: Self::Response) -> Vec<Self::Item>;

    /// The records' identifier field, used in `order` and in the `>ID` filter (default `ID`;
    /// when the records carry `id` instead, that spelling is used).
    const ID_FIELD: &'static str = "ID";
    /// The name of the filter parameter (default `filter`).
    const FILTER_PARAM: &'static str = "filter";
    /// The name of the order parameter (default `order`).
    const ORDER_PARAM: &'static str = "order";
}
