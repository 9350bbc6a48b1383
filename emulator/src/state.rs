//! The emulator's state: the model it serves (fixed at start) and everything that changes
//! (limits, faults, tokens, records, counters) behind one lock. The lock is never held across
//! an `.await`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use b24_codegen::model::{Api, ApiVersion};

use crate::auth::{splitmix, Tokens};
use crate::clock::Clock;
use crate::config::{Fault, Faults, Limits, OAuthApp, ServerLimits, WebhookAuth};
use crate::family::{find_families, Family, Op};
use crate::limits::{LeakyBucket, OperatingBudget};
use crate::received::Received;
use crate::store::Store;

/// Counters for tests and benchmarks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// REST requests received (the token endpoint not included).
    pub requests: u64,
    /// Requests refused with 503 `QUERY_LIMIT_EXCEEDED`.
    pub query_limit_exceeded: u64,
    /// Calls refused with 429 `OPERATION_TIME_LIMIT` (batch commands included).
    pub operation_time_limit: u64,
    /// Requests refused with 401 `expired_token`.
    pub expired_token: u64,
    /// Successful refreshes at the token endpoint.
    pub token_refreshes: u64,
    /// Requests at the token endpoint with `grant_type=refresh_token`, refused ones included
    /// (a spent refresh token, a wrong client).
    pub token_refresh_requests: u64,
    /// Faults injected (queued or random).
    pub faults_injected: u64,
    /// Method executions (batch commands included, the `batch` call itself not).
    pub method_runs: u64,
    /// Runs whose parameters were larger than [`ServerLimits::received_bytes_per_method`], so
    /// [`crate::Emulator::received`] keeps only their size.
    pub received_dropped: u64,
    /// Requests refused with 413 `REQUEST_ENTITY_TOO_LARGE` (the token endpoint included).
    pub body_too_large: u64,
    /// Calls refused because a required parameter was missing or a value did not fit its
    /// documented type (answered with the method's documented error for it).
    pub invalid_params: u64,
}

/// How long a REST 3.0 answer is kept for its `Idempotency-Key`, in emulated seconds (the docs:
/// "its response is stored for 24 hours").
pub(crate) const IDEMPOTENCY_LIFETIME: f64 = 24.0 * 3600.0;

/// The most `Idempotency-Key` answers kept at once; beyond it the oldest go first.
pub(crate) const IDEMPOTENCY_KEYS_KEPT: usize = 10_000;

/// A stored REST 3.0 answer for an `Idempotency-Key`.
#[derive(Clone, Debug)]
pub(crate) struct StoredAnswer {
    /// The request body it answered, as its length and hash (the body itself is not kept).
    pub(crate) request: (usize, u64),
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
    /// Emulated time it was stored.
    pub(crate) stored_at: f64,
}

/// The answers kept for REST 3.0 `Idempotency-Key`s: (caller, method, key) -> answer.
#[derive(Debug, Default)]
pub(crate) struct Idempotent {
    answers: HashMap<(String, String, String), StoredAnswer>,
}

impl Idempotent {
    /// The answer kept for `slot`, unless it expired by `now`.
    pub(crate) fn get(&self, slot: &(String, String, String), now: f64) -> Option<&StoredAnswer> {
        self.answers
            .get(slot)
            .filter(|a| now < a.stored_at + IDEMPOTENCY_LIFETIME)
    }

    /// Keeps `answer` for `slot`, dropping expired answers (and the oldest, when
    /// [`IDEMPOTENCY_KEYS_KEPT`] are kept) to make room.
    pub(crate) fn insert(&mut self, slot: (String, String, String), answer: StoredAnswer) {
        if self.answers.len() >= IDEMPOTENCY_KEYS_KEPT && !self.answers.contains_key(&slot) {
            let now = answer.stored_at;
            self.answers
                .retain(|_, a| now < a.stored_at + IDEMPOTENCY_LIFETIME);
            if self.answers.len() >= IDEMPOTENCY_KEYS_KEPT {
                let oldest = self
                    .answers
                    .iter()
                    .min_by(|a, b| a.1.stored_at.total_cmp(&b.1.stored_at))
                    .map(|(k, _)| k.clone());
                if let Some(oldest) = oldest {
                    self.answers.remove(&oldest);
                }
            }
        }
        self.answers.insert(slot, answer);
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.answers.len()
    }
}

/// The length and hash of a request body, to tell a repeated call from a different one.
pub(crate) fn body_fingerprint(body: &[u8]) -> (usize, u64) {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut hasher);
    (body.len(), hasher.finish())
}

/// What changes while the emulator runs.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) clock: Clock,
    pub(crate) limits: Limits,
    pub(crate) processing: HashMap<String, f64>,
    pub(crate) faults: Faults,
    fault_draws: u64,
    queued: VecDeque<(Option<String>, Fault)>,
    pub(crate) bucket: LeakyBucket,
    pub(crate) budget: OperatingBudget,
    pub(crate) store: Store,
    pub(crate) tokens: Tokens,
    pub(crate) webhook: WebhookAuth,
    pub(crate) oauth: OAuthApp,
    pub(crate) stats: Stats,
    pub(crate) runs: HashMap<String, u64>,
    /// The parameters of the latest runs of each method.
    pub(crate) received: HashMap<String, Received>,
    pub(crate) idempotent: Idempotent,
}

impl Inner {
    /// The fault for the next request to `method`: a queued one first, else a random draw.
    pub(crate) fn take_fault(&mut self, method: &str) -> Option<Fault> {
        let queued = self.queued.iter().position(|(m, _)| {
            m.as_deref()
                .map_or(true, |m| m.eq_ignore_ascii_case(method))
        });
        let fault = match queued {
            Some(i) => self.queued.remove(i).map(|(_, f)| f),
            None => self.draw_fault(),
        };
        if fault.is_some() {
            self.stats.faults_injected += 1;
        }
        fault
    }

    fn draw_fault(&mut self) -> Option<Fault> {
        let rates = self.faults.rates;
        let total = rates.drop_before_run
            + rates.drop_after_run
            + rates.server_error
            + rates.server_error_after_run
            + rates.truncated_body
            + rates.non_json_body;
        if total <= 0.0 {
            return None;
        }
        self.fault_draws += 1;
        let bits = splitmix(rates.seed ^ self.fault_draws.wrapping_mul(0xD6E8_FEB8_6659_FD93));
        let mut u = (bits >> 11) as f64 / (1u64 << 53) as f64;
        for (p, fault) in [
            (rates.drop_before_run, Fault::DropBeforeRun),
            (rates.drop_after_run, Fault::DropAfterRun),
            (rates.server_error, Fault::ServerError { status: 500 }),
            (
                rates.server_error_after_run,
                Fault::ServerErrorAfterRun { status: 504 },
            ),
            (rates.truncated_body, Fault::TruncatedBody),
            (rates.non_json_body, Fault::NonJsonBody),
        ] {
            if u < p {
                return Some(fault);
            }
            u -= p;
        }
        None
    }

    /// Queues a fault for the next request (to `method`, or to any method).
    pub(crate) fn queue_fault(&mut self, method: Option<String>, fault: Fault) {
        self.queued.push_back((method, fault));
    }

    /// Counts one run of `method` and keeps its parameters, within `limits`.
    pub(crate) fn record_run(
        &mut self,
        method: &str,
        params: &serde_json::Map<String, serde_json::Value>,
        limits: &ServerLimits,
    ) {
        self.stats.method_runs += 1;
        *self.runs.entry(method.to_string()).or_insert(0) += 1;
        let dropped = self.received.entry(method.to_string()).or_default().push(
            params,
            limits.received_per_method,
            limits.received_bytes_per_method,
        );
        if dropped {
            self.stats.received_dropped += 1;
        }
    }

    /// The processing time of one call of `method`, in emulated seconds.
    pub(crate) fn processing_time(&self, method: &str) -> f64 {
        self.processing
            .get(&method.to_ascii_lowercase())
            .copied()
            .unwrap_or(self.limits.processing_time)
            .max(0.0)
    }
}

/// Everything the server works from.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) api: Arc<Api>,
    /// Fixed at start.
    pub(crate) server: ServerLimits,
    /// The portal's `member_id` (what its token answers and install requests say).
    pub(crate) member_id: String,
    methods: HashMap<(String, ApiVersion), usize>,
    pub(crate) families: Vec<Family>,
    family_of: HashMap<usize, (usize, Op)>,
    inner: Mutex<Inner>,
    /// Subscriptions, offline events and deliveries ([`crate::apps`]); locked after `inner`.
    pub(crate) apps: crate::apps::Apps,
}

/// The settings a server starts with.
#[derive(Debug, Clone)]
pub(crate) struct StartSettings {
    pub(crate) limits: Limits,
    pub(crate) faults: Faults,
    pub(crate) time_scale: f64,
    pub(crate) webhook: WebhookAuth,
    pub(crate) oauth: OAuthApp,
    pub(crate) server: ServerLimits,
    pub(crate) member_id: String,
}

impl Shared {
    pub(crate) fn new(api: Arc<Api>, settings: StartSettings) -> Self {
        let methods = api
            .methods
            .iter()
            .enumerate()
            .map(|(i, m)| ((m.name.to_ascii_lowercase(), m.version), i))
            .collect();
        let (families, family_of) = find_families(&api);
        let seed = splitmix(crate::clock::unix_now().to_bits());
        let inner = Inner {
            clock: Clock::new(settings.time_scale),
            limits: settings.limits,
            processing: HashMap::new(),
            faults: settings.faults,
            fault_draws: 0,
            queued: VecDeque::new(),
            bucket: LeakyBucket::default(),
            budget: OperatingBudget::default(),
            store: Store::default(),
            tokens: Tokens::new(seed),
            webhook: settings.webhook,
            oauth: settings.oauth,
            stats: Stats::default(),
            runs: HashMap::new(),
            received: HashMap::new(),
            idempotent: Idempotent::default(),
        };
        Shared {
            api,
            server: settings.server,
            member_id: settings.member_id,
            methods,
            families,
            family_of,
            inner: Mutex::new(inner),
            apps: crate::apps::Apps::default(),
        }
    }

    /// Locks the changing state. A panic elsewhere never makes the state unusable.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The index of a documented method (names are case-insensitive, as on the server).
    pub(crate) fn method_index(&self, name: &str, version: ApiVersion) -> Option<usize> {
        self.methods
            .get(&(name.to_ascii_lowercase(), version))
            .copied()
    }

    /// The family operation a method performs, if it belongs to a family.
    pub(crate) fn family_op(&self, method_index: usize) -> Option<(usize, Op)> {
        self.family_of.get(&method_index).copied()
    }

    /// The family with this prefix (any version, REST 2 first).
    pub(crate) fn family_index(&self, prefix: &str) -> Option<usize> {
        let mut found: Vec<usize> = self
            .families
            .iter()
            .enumerate()
            .filter(|(_, f)| f.prefix.eq_ignore_ascii_case(prefix))
            .map(|(i, _)| i)
            .collect();
        found.sort_by_key(|&i| self.families.get(i).map(|f| f.version));
        found.first().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(stored_at: f64) -> StoredAnswer {
        StoredAnswer {
            request: body_fingerprint(b"{}"),
            status: 200,
            body: Vec::new(),
            stored_at,
        }
    }

    fn slot(key: usize) -> (String, String, String) {
        ("caller".into(), "method".into(), key.to_string())
    }

    #[test]
    fn idempotency_answers_expire_after_a_day_and_stay_bounded() {
        let mut kept = Idempotent::default();
        kept.insert(slot(0), answer(0.0));
        assert!(kept.get(&slot(0), IDEMPOTENCY_LIFETIME - 1.0).is_some());
        assert!(kept.get(&slot(0), IDEMPOTENCY_LIFETIME).is_none());

        for key in 1..IDEMPOTENCY_KEYS_KEPT + 10 {
            kept.insert(slot(key), answer(key as f64));
        }
        assert_eq!(kept.len(), IDEMPOTENCY_KEYS_KEPT);
        // The oldest went first; the newest are kept.
        assert!(kept.get(&slot(1), 100.0).is_none());
        assert!(kept.get(&slot(IDEMPOTENCY_KEYS_KEPT + 9), 100.0).is_some());
    }

    #[test]
    fn body_fingerprints_tell_bodies_apart() {
        assert_eq!(
            body_fingerprint(b"{\"a\":1}"),
            body_fingerprint(b"{\"a\":1}")
        );
        assert_ne!(
            body_fingerprint(b"{\"a\":1}"),
            body_fingerprint(b"{\"a\":2}")
        );
    }
}
