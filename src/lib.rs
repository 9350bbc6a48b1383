//! # b24: typed Bitrix24 REST API bindings, generated from the Bitrix24 documentation
//!
//! Every method page under the crate's `docs/` folder becomes a module named after the method
//! (`crm.activity.badge.add` → [`crm::activity::badge::add`]) holding a `Request` (the
//! parameters), a `Response` (the decoded `result`), an `Error` (the documented error codes plus
//! a catch-all), `METHOD` and `call`. The runtime ([`Client`], auth, limits, retries, batch,
//! paging, errors and lenient value types) is re-exported from [`b24_runtime`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use b24::crm::activity::badge::add;
//!
//! let client = b24::Client::builder()
//!     .webhook("https://example.bitrix24.com/rest/1/webhook_code/")
//!     .build()?;
//! let request = add::Request::new(
//!     "missedCall",
//!     add::Title::String("Call status".into()),
//!     add::Value::String("Missed".into()),
//!     "failure",
//! );
//! match add::call(&client, &request).await {
//!     Ok(response) => println!("added: {:?}", response.badge),
//!     Err(b24::Error::Method(add::Error::AccessDenied(e))) => eprintln!("no access: {e}"),
//!     Err(other) => return Err(other.into()),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! To generate bindings from another docs tree (for example a checkout of the upstream
//! documentation), use [`api!`] in your own crate.
#![warn(missing_docs)]

pub use b24_runtime as runtime;
pub use b24_runtime::{
    batch, uf, value, Access, ApiError, ApiVersion, Batch, CallOptions, Client, ClientBuilder,
    CustomFields, Error, Export, Extra, ListMethod, Method, MethodError, OAuth, Progress,
    RateLimit, RetryPolicy, Tokens, UserField,
};

/// Generates bindings from a docs folder or page, for this crate's runtime. Takes the options of
/// [`b24_macros::api!`], e.g. `b24::api!(env = "B24_DOCS_DIR", only = ["crm.deal"]);`.
#[macro_export]
macro_rules! api {
    ($($options:tt)*) => {
        $crate::__macros::api!(runtime = $crate::runtime, $($options)*);
    };
}

#[doc(hidden)]
pub use b24_macros as __macros;

/// The install, event and placement routes of an application for axum (feature `axum`).
#[cfg(feature = "axum")]
pub use b24_axum as axum;

pub use b24_runtime::{app, offline, store, App, AppError, FrameRequest, InstallRequest};

b24_macros::api!("docs");
