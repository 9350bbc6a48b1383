//! The emulator's state: the model it serves (fixed at start) and everything that changes
//! (limits, faults, tokens, records, counters) behind one lock. The lock is never held across
//! an `.await`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};

use b24_codegen::model::{Api, ApiVersion};

use crate::auth::{splitmix, Tokens};
use crate::clock::Clock;
use crate::config::{Fault, Faults, Limits, OAuthApp, WebhookAuth};
use crate::family::{find_families, Family, Op};
use crate::limits::{LeakyBucket, OperatingBudget};
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
    /// Faults injected (queued or random).
    pub faults_injected: u64,
    /// Method executions (batch commands included, the `batch` call itself not).
    pub method_runs: u64,
}

/// How many runs of each method keep their parameters for [`crate::Emulator::received`].
pub(crate) const RECEIVED_KEPT: usize = 100;

/// A stored REST 3.0 answer for an `Idempotency-Key`.
#[derive(Clone, Debug)]
pub(crate) struct StoredAnswer {
    pub(crate) request_body: Vec<u8>,
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
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
    /// The parameters of the latest runs of each method, oldest first.
    pub(crate) received: HashMap<String, VecDeque<serde_json::Value>>,
    pub(crate) idempotent: HashMap<(String, String, String), StoredAnswer>,
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

    /// Counts one run of `method` and keeps its parameters (the latest [`RECEIVED_KEPT`]).
    pub(crate) fn record_run(
        &mut self,
        method: &str,
        params: &serde_json::Map<String, serde_json::Value>,
    ) {
        self.stats.method_runs += 1;
        *self.runs.entry(method.to_string()).or_insert(0) += 1;
        let kept = self.received.entry(method.to_string()).or_default();
        if kept.len() == RECEIVED_KEPT {
            kept.pop_front();
        }
        kept.push_back(serde_json::Value::Object(params.clone()));
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
    pub(crate) api: Api,
    methods: HashMap<(String, ApiVersion), usize>,
    pub(crate) families: Vec<Family>,
    family_of: HashMap<usize, (usize, Op)>,
    inner: Mutex<Inner>,
}

/// The settings a server starts with.
#[derive(Debug, Clone)]
pub(crate) struct StartSettings {
    pub(crate) limits: Limits,
    pub(crate) faults: Faults,
    pub(crate) time_scale: f64,
    pub(crate) webhook: WebhookAuth,
    pub(crate) oauth: OAuthApp,
}

impl Shared {
    pub(crate) fn new(api: Api, settings: StartSettings) -> Self {
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
            idempotent: HashMap::new(),
        };
        Shared {
            api,
            methods,
            families,
            family_of,
            inner: Mutex::new(inner),
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
