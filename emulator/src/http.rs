//! The wire: routing of `/rest/...` and `/oauth/token/`, request decoding, auth, the leaky
//! bucket, REST 3.0 idempotency, and the injected faults.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use b24_codegen::model::{Access, ApiVersion};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Request, Response};
use serde_json::{json, Map, Value};

use crate::auth::{check_webhook, Caller};
use crate::batch;
use crate::config::{Fault, ServerLimits};
use crate::dispatch;
use crate::params::{merge, normalize_lists, parse_query};
use crate::reply::{ApiError, Outcome};
use crate::state::{body_fingerprint, Shared, StoredAnswer};

/// Returned to hyper to close the connection without an answer.
#[derive(Debug)]
pub(crate) struct Dropped;

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped on purpose")
    }
}

impl std::error::Error for Dropped {}

type Answer = Response<Full<Bytes>>;

const JSON: &str = "application/json; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";

fn answer(status: u16, content_type: &str, body: impl Into<Bytes>) -> Answer {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(CONTENT_TYPE, value);
    }
    response
}

fn json_answer(status: u16, body: &Value) -> Answer {
    answer(status, JSON, serde_json::to_vec(body).unwrap_or_default())
}

/// The answer to a path that names no portal of a fleet.
pub(crate) fn not_found() -> Answer {
    json_answer(
        404,
        &json!({"error": "NOT_FOUND", "error_description": "No portal at this path"}),
    )
}

/// Handles one HTTP request.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    base_url: Arc<str>,
    request: Request<Incoming>,
) -> Result<Answer, Dropped> {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path();
    let body = match read_body(&shared.server, &parts.headers, body).await {
        Ok(body) => body,
        Err(BodyError::Broken) => return Err(Dropped),
        Err(BodyError::TooLarge(rest)) => {
            shared.lock().stats.body_too_large += 1;
            // A client still sending would be reset, its answer unread, if the connection
            // closed now: read and drop the rest for a while, as nginx's lingering close.
            let linger = shared.server.body_timeout.unwrap_or(LONGEST_LINGER);
            tokio::spawn(tokio::time::timeout(linger, drain(rest)));
            let error = ApiError::new(
                413,
                "REQUEST_ENTITY_TOO_LARGE",
                format!(
                    "The request body is larger than {} bytes",
                    shared.server.max_body_bytes
                ),
            );
            return Ok(refuse_body(path, &error));
        }
        Err(BodyError::TimedOut) => {
            let error = ApiError::new(
                408,
                "REQUEST_TIMEOUT",
                "The request body did not arrive in time",
            );
            return Ok(refuse_body(path, &error));
        }
    };
    let latency = shared.lock().faults.latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let query = parts.uri.query().unwrap_or("");
    if path.trim_end_matches('/') == "/oauth/token" {
        return Ok(token_endpoint(&shared, &base_url, query, &body));
    }
    let Some(rest) = path.strip_prefix("/rest/") else {
        return Ok(answer(404, "text/plain", "not found"));
    };
    let request = RestRequest {
        path: rest,
        query,
        body: &body,
        content_type: header(&parts.headers, CONTENT_TYPE.as_str()),
        idempotency_key: header(&parts.headers, "idempotency-key"),
    };
    rest_call(&shared, request).await
}

/// Why a request body was not read.
enum BodyError {
    /// Longer than [`ServerLimits::max_body_bytes`]; the part not read yet.
    TooLarge(Incoming),
    /// Not complete within [`ServerLimits::body_timeout`].
    TimedOut,
    /// The connection failed while the body was read.
    Broken,
}

/// The answer to a request whose body was not read: the error in the shape of the API the path
/// names, on a connection that closes (the rest of the body would be taken for the next request).
fn refuse_body(path: &str, error: &ApiError) -> Answer {
    let version = path
        .strip_prefix("/rest/")
        .and_then(route)
        .map_or(ApiVersion::V2, |r| r.version);
    let mut response = error_answer(version, error);
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

/// How long the rest of a refused body is read and dropped when there is no body timeout.
const LONGEST_LINGER: Duration = Duration::from_secs(30);

/// Reads the body within the size and time limits: a `Content-Length` above the limit is
/// refused before reading anything, and no more than one chunk past the limit is ever read.
async fn read_body(
    limits: &ServerLimits,
    headers: &hyper::HeaderMap,
    body: Incoming,
) -> Result<Bytes, BodyError> {
    let max = limits.max_body_bytes;
    let declared = header(headers, CONTENT_LENGTH.as_str()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > u64::try_from(max).unwrap_or(u64::MAX)) {
        return Err(BodyError::TooLarge(body));
    }
    // Sized from the declared length (at most the limit), so the buffer never doubles.
    let capacity = declared.map_or(0, |length| usize::try_from(length).unwrap_or(max).min(max));
    let read = read_at_most(body, max, capacity);
    match limits.body_timeout {
        Some(timeout) => tokio::time::timeout(timeout, read)
            .await
            .map_err(|_| BodyError::TimedOut)?,
        None => read.await,
    }
}

async fn read_at_most(mut body: Incoming, max: usize, capacity: usize) -> Result<Bytes, BodyError> {
    let mut read = Vec::with_capacity(capacity);
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(|_| BodyError::Broken)?.into_data() else {
            continue; // trailers
        };
        if data.len() > max.saturating_sub(read.len()) {
            return Err(BodyError::TooLarge(body));
        }
        read.extend_from_slice(&data);
    }
    Ok(Bytes::from(read))
}

async fn drain(mut body: Incoming) {
    while let Some(Ok(_)) = body.frame().await {}
}

fn header<'h>(headers: &'h hyper::HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

struct RestRequest<'a> {
    path: &'a str,
    query: &'a str,
    body: &'a [u8],
    content_type: Option<&'a str>,
    idempotency_key: Option<&'a str>,
}

/// Where a REST path points.
struct Route<'a> {
    version: ApiVersion,
    webhook: Option<(&'a str, &'a str)>,
    method: &'a str,
}

fn route(path: &str) -> Option<Route<'_>> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let (version, segments) = match segments.split_first() {
        Some((&"api", rest)) => (ApiVersion::V3, rest),
        _ => (ApiVersion::V2, segments.as_slice()),
    };
    let (webhook, method) = match segments {
        [user, code, method] => (Some((*user, *code)), *method),
        [method] => (None, *method),
        _ => return None,
    };
    let method = method.strip_suffix(".json").unwrap_or(method);
    Some(Route {
        version,
        webhook,
        method,
    })
}

fn error_answer(version: ApiVersion, error: &ApiError) -> Answer {
    match version {
        ApiVersion::V2 => json_answer(error.status, &error.v2_body()),
        ApiVersion::V3 => json_answer(error.status, &error.v3_body()),
    }
}

/// Reads the parameters: the query string (REST 2 only) and a JSON or form body.
fn read_params(
    request: &RestRequest<'_>,
    version: ApiVersion,
) -> Result<Map<String, Value>, ApiError> {
    let mut params = match version {
        ApiVersion::V2 => parse_query(request.query.as_bytes()),
        // REST 3.0 reads no parameters from the query string, except the token.
        ApiVersion::V3 => parse_query(request.query.as_bytes())
            .into_iter()
            .filter(|(k, _)| k == "auth")
            .collect(),
    };
    let body = request.body;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(params);
    }
    let is_json = request
        .content_type
        .is_some_and(|c| c.to_ascii_lowercase().contains("json"))
        || body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if is_json {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => {
                let mut value = Value::Object(map);
                normalize_lists(&mut value);
                if let Value::Object(map) = value {
                    merge(&mut params, map);
                }
            }
            _ => return Err(invalid_json(version)),
        }
    } else if version == ApiVersion::V3 {
        return Err(invalid_json(version));
    } else {
        merge(&mut params, parse_query(body));
    }
    Ok(params)
}

fn invalid_json(version: ApiVersion) -> ApiError {
    match version {
        ApiVersion::V2 => {
            ApiError::new(400, "INVALID_REQUEST", "The request body is not valid JSON")
        }
        ApiVersion::V3 => ApiError::new(
            400,
            "BITRIX_REST_V3_EXCEPTION_INVALIDJSONEXCEPTION",
            "The request body is not valid JSON",
        ),
    }
}

async fn rest_call(shared: &Shared, request: RestRequest<'_>) -> Result<Answer, Dropped> {
    let Some(route) = route(request.path) else {
        return Ok(error_answer(ApiVersion::V2, &ApiError::method_not_found()));
    };
    let version = route.version;
    let fault = {
        let mut inner = shared.lock();
        inner.stats.requests += 1;
        inner.take_fault(route.method)
    };
    match fault {
        Some(Fault::DropBeforeRun) => return Err(Dropped),
        Some(Fault::ServerError { status }) => return Ok(server_error(version, status)),
        _ => {}
    }

    let mut params = match read_params(&request, version) {
        Ok(params) => params,
        Err(error) => return Ok(error_answer(version, &error)),
    };
    let token = params.remove("auth");
    let caller = match authenticate(shared, &route, token.as_ref()) {
        Ok(caller) => caller,
        Err(error) => return Ok(error_answer(version, &error)),
    };
    {
        let mut inner = shared.lock();
        if let Some(bucket) = inner.limits.bucket {
            let now = inner.clock.now();
            if !inner.bucket.admit(bucket, now) {
                inner.stats.query_limit_exceeded += 1;
                drop(inner);
                return Ok(error_answer(version, &ApiError::query_limit_exceeded()));
            }
        }
    }

    let idempotency = match idempotency(shared, &route, &caller, &request) {
        Ok(idempotency) => idempotency,
        Err(error) => return Ok(error_answer(version, &error)),
    };
    if let Some(Idempotency::Replay(stored)) = &idempotency {
        let mut response = answer(stored.status, JSON, stored.body.clone());
        echo_idempotency_key(&mut response, request.idempotency_key);
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
        return Ok(response);
    }

    let outcome: Outcome =
        if version == ApiVersion::V2 && route.method.eq_ignore_ascii_case(batch::METHOD) {
            batch::run(shared, &caller, &params).await
        } else {
            dispatch::call(shared, &caller, version, route.method, &params).await
        };
    let (status, body) = {
        let inner = shared.lock();
        match version {
            ApiVersion::V2 => outcome.v2(&inner.clock),
            ApiVersion::V3 => outcome.v3(&inner.clock),
        }
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    if let Some(Idempotency::Store(key)) = idempotency {
        if outcome.reply.is_ok() {
            let mut inner = shared.lock();
            let stored_at = inner.clock.now();
            inner.idempotent.insert(
                key,
                StoredAnswer {
                    request: body_fingerprint(request.body),
                    status,
                    body: bytes.clone(),
                    stored_at,
                },
            );
        }
    }

    let mut response = after_run(fault, status, bytes)?;
    if version == ApiVersion::V3 {
        echo_idempotency_key(&mut response, request.idempotency_key);
    }
    Ok(response)
}

/// The answer of a call that ran, spoilt by the fault injected into it, if any.
fn after_run(fault: Option<Fault>, status: u16, mut body: Vec<u8>) -> Result<Answer, Dropped> {
    Ok(match fault {
        Some(Fault::DropAfterRun) => return Err(Dropped),
        Some(Fault::ServerErrorAfterRun { status }) => gateway_page(status),
        Some(Fault::TruncatedBody) => {
            body.truncate(body.len() / 2);
            answer(status, JSON, body)
        }
        Some(Fault::NonJsonBody) => answer(
            200,
            HTML,
            "<br />\n<b>Fatal error</b>:  Allowed memory size exhausted in <b>/home/bitrix/www/bitrix/modules/rest/lib/rest.php</b><br />\n",
        ),
        _ => answer(status, JSON, body),
    })
}

fn echo_idempotency_key(response: &mut Answer, key: Option<&str>) {
    if let Some(key) = key.and_then(|k| HeaderValue::from_str(k).ok()) {
        response.headers_mut().insert("idempotency-key", key);
    }
}

fn authenticate(
    shared: &Shared,
    route: &Route<'_>,
    token: Option<&Value>,
) -> Result<Caller, ApiError> {
    let mut inner = shared.lock();
    if let Some((user, code)) = route.webhook {
        return check_webhook(&inner.webhook, user, code);
    }
    let token = token.and_then(Value::as_str).unwrap_or("");
    let now = inner.clock.now();
    let checked = inner.tokens.check(token, &inner.oauth, now);
    if matches!(&checked, Err(e) if e.code == "expired_token") {
        inner.stats.expired_token += 1;
    }
    checked
}

enum Idempotency {
    /// Run the call and keep its answer under this key.
    Store((String, String, String)),
    /// The call already ran with this key and body: send the kept answer again.
    Replay(StoredAnswer),
}

/// REST 3.0 writes with an `Idempotency-Key` header run once per key.
fn idempotency(
    shared: &Shared,
    route: &Route<'_>,
    caller: &Caller,
    request: &RestRequest<'_>,
) -> Result<Option<Idempotency>, ApiError> {
    let Some(key) = request.idempotency_key else {
        return Ok(None);
    };
    if route.version != ApiVersion::V3 {
        return Ok(None);
    }
    let writes = shared
        .method_index(route.method, ApiVersion::V3)
        .and_then(|i| shared.api.methods.get(i))
        .is_some_and(|m| m.access == Access::Write);
    if !writes {
        return Ok(None);
    }
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(ApiError::new(
            400,
            "BITRIX_REST_V3_EXCEPTION_INVALIDIDEMPOTENCYKEYEXCEPTION",
            "The Idempotency-Key must be 1 to 255 printable ASCII characters",
        ));
    }
    let slot = (
        caller.key.clone(),
        route.method.to_ascii_lowercase(),
        key.to_string(),
    );
    let inner = shared.lock();
    match inner.idempotent.get(&slot, inner.clock.now()) {
        Some(stored) if stored.request == body_fingerprint(request.body) => {
            Ok(Some(Idempotency::Replay(stored.clone())))
        }
        Some(_) => Err(ApiError::new(
            422,
            "BITRIX_REST_V3_EXCEPTION_IDEMPOTENCYKEYREUSEDEXCEPTION",
            "The Idempotency-Key was already used with a different request body",
        )),
        None => Ok(Some(Idempotency::Store(slot))),
    }
}

fn server_error(version: ApiVersion, status: u16) -> Answer {
    if status == 500 {
        let error = ApiError::new(500, "INTERNAL_SERVER_ERROR", "Internal server error");
        return error_answer(version, &error);
    }
    gateway_page(status)
}

/// What a proxy in front of the server answers when the backend fails or times out.
fn gateway_page(status: u16) -> Answer {
    let reason = hyper::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Server Error");
    answer(
        status,
        HTML,
        format!(
            "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
        ),
    )
}

/// `/oauth/token/`: `grant_type=refresh_token` exchanges a refresh token for a new pair,
/// `grant_type=authorization_code` a code from [`crate::Emulator::issue_auth_code`].
fn token_endpoint(shared: &Shared, base_url: &str, query: &str, body: &[u8]) -> Answer {
    let mut params = parse_query(query.as_bytes());
    merge(&mut params, parse_query(body));
    let get = |name: &str| params.get(name).and_then(Value::as_str).unwrap_or("");
    let mut inner = shared.lock();
    let oauth_error = |code: &str, description: &str| {
        json_answer(
            400,
            &json!({"error": code, "error_description": description}),
        )
    };
    let grant = get("grant_type");
    if grant == "refresh_token" {
        inner.stats.token_refresh_requests += 1;
    }
    if grant != "refresh_token" && grant != "authorization_code" {
        return oauth_error("invalid_request", "Unsupported grant_type");
    }
    if get("client_id") != inner.oauth.client_id
        || get("client_secret") != inner.oauth.client_secret
    {
        return oauth_error("invalid_client", "Invalid client data");
    }
    let now = inner.clock.now();
    let lifetime = inner.oauth.access_token_lifetime;
    let grace = inner.oauth.refresh_grace;
    let pair = if grant == "refresh_token" {
        inner
            .tokens
            .refresh(get("refresh_token"), now, lifetime, grace)
    } else {
        inner.tokens.redeem_code(get("code"), now, lifetime)
    };
    let Some((access, refresh)) = pair else {
        return oauth_error("invalid_grant", "Invalid grant");
    };
    if grant == "refresh_token" {
        inner.stats.token_refreshes += 1;
    }
    let expires = inner.clock.wall_time(now + lifetime).floor() as i64;
    let expires_in = inner.clock.real_duration(lifetime).as_secs_f64().ceil() as u64;
    json_answer(
        200,
        &json!({
            "access_token": access,
            "client_endpoint": format!("{base_url}/rest/"),
            "domain": base_url.trim_start_matches("http://"),
            "expires": expires,
            "expires_in": expires_in,
            "member_id": shared.member_id,
            "refresh_token": refresh,
            "scope": "crm,user,task",
            "server_endpoint": format!("{base_url}/oauth/"),
            "status": "L",
            "user_id": 1
        }),
    )
}
