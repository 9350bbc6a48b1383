//! The knobs of the emulator: limits, faults, time. All settable at start and while running.

use std::time::Duration;

/// The leaky bucket of request intensity (docs: `limits.md`): every HTTP request adds one to a
/// counter that drains by `drain_per_sec` each (emulated) second; a request that would push the
/// counter above `capacity` is refused with 503 `QUERY_LIMIT_EXCEEDED`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bucket {
    /// `X`: the counter value above which requests are blocked.
    pub capacity: f64,
    /// `Y`: how much the counter drains per emulated second.
    pub drain_per_sec: f64,
}

impl Bucket {
    /// Every plan but Enterprise: 50, draining 2 per second.
    pub const STANDARD: Bucket = Bucket {
        capacity: 50.0,
        drain_per_sec: 2.0,
    };
    /// Enterprise: 250, draining 5 per second.
    pub const ENTERPRISE: Bucket = Bucket {
        capacity: 250.0,
        drain_per_sec: 5.0,
    };
}

impl Default for Bucket {
    fn default() -> Self {
        Bucket::STANDARD
    }
}

/// How much work the server pretends to do and how much it allows.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// The request bucket; `None` turns rate limiting off.
    pub bucket: Option<Bucket>,
    /// The operating budget: emulated seconds of `time.operating` one method may accumulate per
    /// caller in the sliding 10-minute window before further calls get 429
    /// `OPERATION_TIME_LIMIT`; `None` turns it off. Default 480.
    pub operating_limit: Option<f64>,
    /// Emulated seconds every method call takes (and adds to `operating`), unless
    /// [`crate::Emulator::set_processing_time`] set a value for that method. Default 0.
    pub processing_time: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            bucket: Some(Bucket::STANDARD),
            operating_limit: Some(480.0),
            processing_time: 0.0,
        }
    }
}

/// One injected failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The connection is closed without a response; the method did not run.
    DropBeforeRun,
    /// The method ran (its effects are kept), then the connection is closed without a response.
    DropAfterRun,
    /// The method did not run; the answer is this 5xx status. 500 carries the server's JSON
    /// `INTERNAL_SERVER_ERROR`; other statuses carry a proxy's HTML page, as a gateway would.
    ServerError {
        /// The HTTP status, 500..=599.
        status: u16,
    },
    /// The method ran (its effects are kept), then a gateway answered this 5xx status with its
    /// HTML page, as when a proxy times out on a slow call: a write that must not be re-sent.
    ServerErrorAfterRun {
        /// The HTTP status, 500..=599.
        status: u16,
    },
    /// The method ran; the answer is 200 with its JSON body cut in half (valid HTTP framing).
    TruncatedBody,
    /// The method ran; the answer is 200 with an HTML body instead of JSON (a PHP error page).
    NonJsonBody,
}

impl Fault {
    /// Whether the method runs before the fault strikes.
    pub fn method_runs(self) -> bool {
        matches!(
            self,
            Fault::DropAfterRun
                | Fault::ServerErrorAfterRun { .. }
                | Fault::TruncatedBody
                | Fault::NonJsonBody
        )
    }
}

/// Random faults: the probability (0..=1) of each fault on every REST request. The draw is from
/// a seeded generator, so a run is reproducible for a given seed and request order.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FaultRates {
    /// See [`Fault::DropBeforeRun`].
    pub drop_before_run: f64,
    /// See [`Fault::DropAfterRun`].
    pub drop_after_run: f64,
    /// See [`Fault::ServerError`] (drawn as status 500).
    pub server_error: f64,
    /// See [`Fault::ServerErrorAfterRun`] (drawn as status 504).
    pub server_error_after_run: f64,
    /// See [`Fault::TruncatedBody`].
    pub truncated_body: f64,
    /// See [`Fault::NonJsonBody`].
    pub non_json_body: f64,
    /// The generator's seed.
    pub seed: u64,
}

/// Network conditions and random faults.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    /// Real time added before every answer (REST and token endpoint alike).
    pub latency: Duration,
    /// Random faults on REST requests.
    pub rates: FaultRates,
}

/// Which webhooks are accepted.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookAuth {
    /// The user id in the URL. Default `1`.
    pub user: String,
    /// The code in the URL; `None` accepts any code. Default `None`.
    pub code: Option<String>,
}

impl Default for WebhookAuth {
    fn default() -> Self {
        WebhookAuth {
            user: "1".to_string(),
            code: None,
        }
    }
}

impl std::fmt::Debug for WebhookAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookAuth")
            .field("user", &self.user)
            .field("code", &self.code.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The OAuth application the token endpoint knows.
#[derive(Clone, PartialEq)]
pub struct OAuthApp {
    /// `client_id`. Default `local.b24emulator`.
    pub client_id: String,
    /// `client_secret`. Default `b24-emulator-secret`.
    pub client_secret: String,
    /// Lifetime of an access token in emulated seconds. Default 3600.
    pub access_token_lifetime: f64,
    /// For how many emulated seconds a spent refresh token still answers, with the same new
    /// pair its first refresh got (while that pair's refresh token is unspent). Default 0: a
    /// refresh token works once. A grace models token servers that forgive a client which died
    /// before storing the new pair.
    pub refresh_grace: f64,
}

impl Default for OAuthApp {
    fn default() -> Self {
        OAuthApp {
            client_id: "local.b24emulator".to_string(),
            client_secret: "b24-emulator-secret".to_string(),
            access_token_lifetime: 3600.0,
            refresh_grace: 0.0,
        }
    }
}

impl std::fmt::Debug for OAuthApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthApp")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("access_token_lifetime", &self.access_token_lifetime)
            .field("refresh_grace", &self.refresh_grace)
            .finish()
    }
}

/// What one client may hold of the server: the size of a request body, connections, the time a
/// request may take to arrive, and the parameters kept for [`crate::Emulator::received`]. So a
/// test gone wrong (a huge upload, connections left open, a loop of large calls) meets an error
/// instead of exhausting the machine. Set on the builder; fixed while the server runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerLimits {
    /// The largest request body, in bytes. A larger one is refused with 413
    /// `REQUEST_ENTITY_TOO_LARGE` (decided from `Content-Length` when sent, else after reading
    /// one byte past the limit). Default 32 MiB.
    pub max_body_bytes: usize,
    /// Connections served at once (at least 1); further ones wait in the listen backlog until
    /// one closes. Default 512, below the usual limit of 1024 open files per process.
    pub max_connections: usize,
    /// How long a connection may take to send the complete head of its next request, counted
    /// from its opening or from the end of the previous answer: a connection that sends nothing,
    /// half a head (slowloris), or stays idle between requests this long is closed. So this is
    /// also the keep-alive timeout. `None`: no limit. Default 30 s.
    pub header_timeout: Option<Duration>,
    /// How long the body of a request may take to arrive once its head has; a slower one is
    /// answered 408 `REQUEST_TIMEOUT` and its connection closed. `None`: no limit. Default 30 s.
    pub body_timeout: Option<Duration>,
    /// The runs of each method whose parameters are kept for [`crate::Emulator::received`].
    /// Default 100.
    pub received_per_method: usize,
    /// The bytes (as JSON) of parameters kept per method; the oldest runs make room for new
    /// ones, and parameters larger than this are kept as a stand-in giving their size (see
    /// [`crate::Emulator::received`]). Default 8 MiB.
    pub received_bytes_per_method: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            max_body_bytes: 32 << 20,
            max_connections: 512,
            header_timeout: Some(Duration::from_secs(30)),
            body_timeout: Some(Duration::from_secs(30)),
            received_per_method: 100,
            received_bytes_per_method: 8 << 20,
        }
    }
}
