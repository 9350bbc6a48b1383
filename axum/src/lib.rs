//! `b24-axum`: the routes of a Bitrix24 application for [axum].
//!
//! [`AppRoutes`] serves three POST routes, each reading at most [`Limits::max_bytes`] of body
//! (more is refused with 413 before anything is parsed) and parsing within the
//! [`Limits`] (size, nesting depth, number of fields; beyond them: 400, nothing built):
//!
//! | route | what comes | what it does |
//! | --- | --- | --- |
//! | `/install` | the install page's frame form, or the `ONAPPINSTALL` event | stores the portal's tokens, hands your handler the portal's [`Client`]; answers the frame with a page that finishes the installation (`BX24.installFinish()`), the event with `200 OK` |
//! | `/events` | an event, form-encoded (as the portal sends it) or JSON | checks `auth[application_token]` against the one stored at install, in constant time and before the body is parsed (401 when it does not match), decodes it into your event type (the generated `b24::events::Event`), and hands it to your handler with the portal's [`Client`]; `200 OK` |
//! | `/placement` | a placement's frame form (`PLACEMENT`, `PLACEMENT_OPTIONS`, …) | checks its `APPLICATION_TOKEN` the same way, hands your handler the request and the portal's [`Client`], answers what your handler answers |
//!
//! The [`Client`] handed over is the portal's own ([`App::client`]): the installing user's
//! tokens, refreshed through the app's token store. Statuses: 413 too large, 400 beyond the
//! limits or not a Bitrix24 request, 401 not genuine, 503 the token store failed, 500 your
//! handler failed. Nothing secret appears in an answer or a log line.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use b24_axum::AppRoutes;
//! use b24_runtime::{events::Event, App};
//!
//! let app = Arc::new(App::builder("app.1234", "secret").build()?);
//! let routes = AppRoutes::<Event>::new(app).on_event(|event, client| async move {
//!     println!("{} from {:?}", event.event, client);
//!     Ok(())
//! });
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, routes.router()).await?;
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]
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

use std::future::Future;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use futures::future::BoxFuture;

pub use axum;
use b24_runtime::events::{EventError, FromEvent};
use b24_runtime::query::{FormError, Limits};
use b24_runtime::{App, AppError, Client, FrameRequest, InstallRequest};

/// What a handler may fail with (its message is logged, not sent to the portal).
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

type InstallFn =
    dyn Fn(InstallRequest, Client) -> BoxFuture<'static, Option<Response>> + Send + Sync;
type EventFn<E> = dyn Fn(E, Client) -> BoxFuture<'static, Result<(), HandlerError>> + Send + Sync;
type PlacementFn = dyn Fn(FrameRequest, Client) -> BoxFuture<'static, Response> + Send + Sync;

/// The page answering an install frame: it tells the portal the installation is finished.
pub const INSTALL_FINISH_PAGE: &str = "<!DOCTYPE html><html><head><meta charset=\"utf-8\">\
<script src=\"//api.bitrix24.com/api/v1/\"></script></head><body>\
<script>BX24.init(function(){BX24.installFinish();});</script></body></html>";

/// The install, event and placement routes of an application, with your handlers.
/// `E` is what events are decoded into: the generated `b24::events::Event`, or
/// [`b24_runtime::events::Event`] for untyped events.
pub struct AppRoutes<E> {
    app: Arc<App>,
    limits: Limits,
    install: Option<Arc<InstallFn>>,
    event: Option<Arc<EventFn<E>>>,
    placement: Option<Arc<PlacementFn>>,
}

impl<E> Clone for AppRoutes<E> {
    fn clone(&self) -> Self {
        AppRoutes {
            app: self.app.clone(),
            limits: self.limits,
            install: self.install.clone(),
            event: self.event.clone(),
            placement: self.placement.clone(),
        }
    }
}

impl<E> std::fmt::Debug for AppRoutes<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppRoutes")
            .field("app", &self.app)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl<E: FromEvent> AppRoutes<E> {
    /// Routes for an application, within [`Limits::DEFAULT`] (1 MiB, 64 levels, 10,000 fields).
    pub fn new(app: Arc<App>) -> Self {
        AppRoutes {
            app,
            limits: Limits::DEFAULT,
            install: None,
            event: None,
            placement: None,
        }
    }

    /// The limits of a request body.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Called after an install is stored, with the portal's client. Return `Some` to answer
    /// yourself (an install frame is otherwise answered with [`INSTALL_FINISH_PAGE`]).
    pub fn on_install<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(InstallRequest, Client) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Option<Response>> + Send + 'static,
    {
        self.install = Some(Arc::new(move |r, c| Box::pin(f(r, c))));
        self
    }

    /// Called with every genuine event, decoded, and the portal's client.
    pub fn on_event<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(E, Client) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), HandlerError>> + Send + 'static,
    {
        self.event = Some(Arc::new(move |e, c| Box::pin(f(e, c))));
        self
    }

    /// Called with every genuine placement request and the portal's client; its answer is
    /// the widget's page.
    pub fn on_placement<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(FrameRequest, Client) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Response> + Send + 'static,
    {
        self.placement = Some(Arc::new(move |r, c| Box::pin(f(r, c))));
        self
    }

    /// The router: `POST /install`, `POST /events`, `POST /placement` (nest it where you like).
    pub fn router(self) -> Router {
        Router::new()
            .route("/install", post(install::<E>))
            .route("/events", post(event::<E>))
            .route("/placement", post(placement::<E>))
            .with_state(Arc::new(self))
    }
}

/// A request's query string and its body, read within the limit.
async fn read(request: Request, limit: usize) -> Result<(String, Bytes, bool), Response> {
    let query = request.uri().query().unwrap_or("").to_owned();
    let json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the body is too large",
        ));
    }
    match axum::body::to_bytes(request.into_body(), limit).await {
        Ok(body) => Ok((query, body, json)),
        Err(e) => {
            let too_large = e
                .into_inner()
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some();
            Err(if too_large {
                refuse(StatusCode::PAYLOAD_TOO_LARGE, "the body is too large")
            } else {
                refuse(StatusCode::BAD_REQUEST, "the body could not be read")
            })
        }
    }
}

fn refuse(status: StatusCode, why: &'static str) -> Response {
    (status, why).into_response()
}

/// The answer for an error of the runtime: never with a secret (the messages hold none).
fn answer(e: &AppError) -> Response {
    let status = match e {
        AppError::Limit(FormError::TooLarge { .. })
        | AppError::Event(EventError::Limit(FormError::TooLarge { .. })) => {
            StatusCode::PAYLOAD_TOO_LARGE
        }
        AppError::Event(EventError::BadToken) | AppError::NotInstalled(_) => {
            StatusCode::UNAUTHORIZED
        }
        AppError::Store(_) | AppError::Token(_) => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Build(_) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    tracing::warn!(status = status.as_u16(), "Bitrix24 request refused: {e}");
    let text = match status {
        StatusCode::UNAUTHORIZED => "not a genuine request".to_owned(),
        StatusCode::SERVICE_UNAVAILABLE => "try again later".to_owned(),
        _ => e.to_string(),
    };
    (status, text).into_response()
}

async fn install<E: FromEvent>(
    State(routes): State<Arc<AppRoutes<E>>>,
    request: Request,
) -> Response {
    let (query, body, _) = match read(request, routes.limits.max_bytes).await {
        Ok(r) => r,
        Err(refused) => return refused,
    };
    let parsed = match InstallRequest::parse_with(&query, &body, &routes.limits) {
        Ok(p) => p,
        Err(e) => return answer(&e),
    };
    let client = match routes.app.install(&parsed).await {
        Ok(c) => c,
        Err(e) => return answer(&e),
    };
    let frame = matches!(parsed, InstallRequest::Frame(_));
    let custom = match &routes.install {
        Some(f) => f(parsed, client).await,
        None => None,
    };
    match custom {
        Some(r) => r,
        None if frame => Html(INSTALL_FINISH_PAGE).into_response(),
        None => (StatusCode::OK, "OK").into_response(),
    }
}

async fn event<E: FromEvent>(
    State(routes): State<Arc<AppRoutes<E>>>,
    request: Request,
) -> Response {
    let (_, body, json) = match read(request, routes.limits.max_bytes).await {
        Ok(r) => r,
        Err(refused) => return refused,
    };
    let verified = if json {
        routes.app.verify_event_json(&body, &routes.limits).await
    } else {
        routes.app.verify_event(&body, &routes.limits).await
    };
    let raw = match verified {
        Ok(e) => e,
        Err(e) => return answer(&e),
    };
    let Some(member) = raw.auth.member_id.clone() else {
        return answer(&AppError::Event(EventError::BadToken));
    };
    let client = match routes.app.client(&member).await {
        Ok(c) => c,
        Err(e) => return answer(&e),
    };
    let event = E::from_event(raw);
    if let Some(f) = &routes.event {
        if let Err(e) = f(event, client).await {
            tracing::error!("the event handler failed: {e}");
            return (StatusCode::INTERNAL_SERVER_ERROR, "the handler failed").into_response();
        }
    }
    (StatusCode::OK, "OK").into_response()
}

async fn placement<E: FromEvent>(
    State(routes): State<Arc<AppRoutes<E>>>,
    request: Request,
) -> Response {
    let (query, body, _) = match read(request, routes.limits.max_bytes).await {
        Ok(r) => r,
        Err(refused) => return refused,
    };
    let frame = match FrameRequest::parse_with(&query, &body, &routes.limits) {
        Ok(f) => f,
        Err(e) => return answer(&e),
    };
    if let Err(e) = routes.app.verify_frame(&frame).await {
        return answer(&e);
    }
    let Some(member) = frame.tokens.member_id.clone() else {
        return answer(&AppError::Event(EventError::BadToken));
    };
    let client = match routes.app.client(&member).await {
        Ok(c) => c,
        Err(e) => return answer(&e),
    };
    match &routes.placement {
        Some(f) => f(frame, client).await,
        None => (StatusCode::OK, "OK").into_response(),
    }
}
