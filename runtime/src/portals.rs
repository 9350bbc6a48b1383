//! Many portals in one process: a [`Client`] per `member_id`, from the app's token store, with
//! a bounded cache and per-portal fairness.
//!
//! [`Portals`] keeps the clients of the portals used most recently, at most
//! [`PortalsBuilder::capacity`]; the least recently used one is dropped past it. Dropping loses
//! nothing: the tokens are in the app's [`crate::TokenStore`] (a refresh stores the new pair
//! before using it), and the limits are either the portal's shared ones
//! ([`PortalsBuilder::shared_limits`]) or start again from the server's answers.
//!
//! Every portal's client sends through one shared HTTP client ([`PortalsBuilder::http`]): a
//! thousand portals hold one connection pool and one TLS configuration, not a thousand. That
//! pool keeps at most [`PortalsBuilder::per_portal`] idle connections per host (a portal runs
//! no more jobs at once): the connections a burst opened are closed once it is over, instead of
//! holding the server's connection slots idle for minutes while other connections wait for
//! one (against a server with a connection cap, many portals behind one address, that wait
//! lasted until the server closed idle connections: 30 s in the fleet benchmark).
//!
//! Fairness: [`Portals::run`] runs a job with a portal's client under two permits, the portal's
//! own ([`PortalsBuilder::per_portal`] at once) and then one of the process's
//! ([`PortalsBuilder::max_in_flight`] at once, handed out first come, first served). A busy
//! portal queues on its own permits, so it holds at most `per_portal` of the process's and the
//! other portals' jobs get the rest.

use std::fmt;
use std::future::Future;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use hashlink::LruCache;
use tokio::sync::Semaphore;

use crate::app::{App, AppError};
use crate::limits::SharedLimits;
use crate::Client;

type LimitsFor = dyn Fn(&str) -> Option<Arc<dyn SharedLimits>> + Send + Sync;

/// The clients of many portals, built on demand from an [`App`]'s store (see the module).
/// `Send + Sync`; share it in an `Arc`.
pub struct Portals {
    app: Arc<App>,
    cache: Mutex<LruCache<String, Portal>>,
    in_flight: Arc<Semaphore>,
    per_portal: usize,
    limits: Option<Arc<LimitsFor>>,
    http: Option<reqwest::Client>,
}

#[derive(Clone)]
struct Portal {
    client: Client,
    permits: Arc<Semaphore>,
}

impl fmt::Debug for Portals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Portals")
            .field("cached", &self.len())
            .field("per_portal", &self.per_portal)
            .finish_non_exhaustive()
    }
}

/// Settings for [`Portals`].
pub struct PortalsBuilder {
    app: Arc<App>,
    capacity: usize,
    max_in_flight: usize,
    per_portal: usize,
    limits: Option<Arc<LimitsFor>>,
    http: Option<reqwest::Client>,
}

impl fmt::Debug for PortalsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PortalsBuilder")
            .field("capacity", &self.capacity)
            .field("max_in_flight", &self.max_in_flight)
            .field("per_portal", &self.per_portal)
            .finish_non_exhaustive()
    }
}

impl PortalsBuilder {
    /// How many portals' clients are kept at most (default 1,000; at least 1).
    pub fn capacity(mut self, n: usize) -> Self {
        self.capacity = n.max(1);
        self
    }

    /// How many [`Portals::run`] jobs run at once in the process (default 256; at least 1).
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n.clamp(1, Semaphore::MAX_PERMITS);
        self
    }

    /// How many [`Portals::run`] jobs of one portal run at once (default 4; at least 1).
    pub fn per_portal(mut self, n: usize) -> Self {
        self.per_portal = n.clamp(1, Semaphore::MAX_PERMITS);
        self
    }

    /// The shared limits of each portal (by `member_id`), for its client
    /// ([`crate::ClientBuilder::shared_limits`]); `None` keeps a portal's limits in the process.
    pub fn shared_limits(
        mut self,
        f: impl Fn(&str) -> Option<Arc<dyn SharedLimits>> + Send + Sync + 'static,
    ) -> Self {
        self.limits = Some(Arc::new(f));
        self
    }

    /// The HTTP client every portal's client sends through (one connection pool and TLS
    /// configuration for all). Default: one with the runtime's default timeouts (65 s, connect
    /// 10 s) keeping at most [`PortalsBuilder::per_portal`] idle connections per host, whose
    /// timeouts then override the timeouts set by [`crate::app::AppBuilder::configure_clients`].
    pub fn http(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// The registry.
    pub fn build(self) -> Portals {
        let http = self.http.or_else(|| {
            crate::http::builder(
                std::time::Duration::from_secs(65),
                std::time::Duration::from_secs(10),
            )
            .pool_max_idle_per_host(self.per_portal)
            .build()
            .ok()
        });
        let capacity = NonZeroUsize::new(self.capacity).map_or(1, NonZeroUsize::get);
        Portals {
            app: self.app,
            cache: Mutex::new(LruCache::new(capacity)),
            in_flight: Arc::new(Semaphore::new(self.max_in_flight)),
            per_portal: self.per_portal,
            limits: self.limits,
            http,
        }
    }
}

impl Portals {
    /// A registry over `app`'s store and client settings.
    pub fn builder(app: Arc<App>) -> PortalsBuilder {
        PortalsBuilder {
            app,
            capacity: 1_000,
            max_in_flight: 256,
            per_portal: 4,
            limits: None,
            http: None,
        }
    }

    /// How many portals' clients are cached now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when no client is cached.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// True when the portal's client is cached (without touching its recency).
    pub fn is_cached(&self, member_id: &str) -> bool {
        self.lock().peek(member_id).is_some()
    }

    /// The portal's client: the cached one, else one built from the pair in the store
    /// ([`AppError::NotInstalled`] when there is none).
    pub async fn client(&self, member_id: &str) -> Result<Client, AppError> {
        Ok(self.portal(member_id).await?.client)
    }

    /// Runs `job` with the portal's client once the portal and the process have room (see the
    /// module on fairness).
    pub async fn run<F, Fut, T>(&self, member_id: &str, job: F) -> Result<T, AppError>
    where
        F: FnOnce(Client) -> Fut,
        Fut: Future<Output = T>,
    {
        let portal = self.portal(member_id).await?;
        // Neither semaphore is ever closed: a failed acquire cannot happen, but is not a panic.
        let _mine = portal.permits.acquire().await.ok();
        let _process = self.in_flight.acquire().await.ok();
        Ok(job(portal.client).await)
    }

    /// Drops the portal's client (after an uninstall, say); the store is not touched.
    pub fn forget(&self, member_id: &str) {
        self.lock().remove(member_id);
    }

    async fn portal(&self, member_id: &str) -> Result<Portal, AppError> {
        if let Some(p) = self.lock().get(member_id) {
            return Ok(p.clone());
        }
        let tokens = self
            .app
            .store()
            .load(member_id)
            .await?
            .ok_or_else(|| AppError::NotInstalled(member_id.to_owned()))?;
        let limits = self.limits.as_ref().and_then(|f| f(member_id));
        let http = self.http.clone();
        let client = self.app.build_client_with(tokens, |b| {
            let b = match limits {
                Some(l) => b.shared_limits(l),
                None => b,
            };
            match http {
                Some(h) => b.http_client(h),
                None => b,
            }
        })?;
        let built = Portal {
            client,
            permits: Arc::new(Semaphore::new(self.per_portal)),
        };
        // Two callers at once may both build one; the first kept wins, so the callers agree.
        let mut cache = self.lock();
        if let Some(p) = cache.get(member_id) {
            return Ok(p.clone());
        }
        cache.insert(member_id.to_owned(), built.clone());
        Ok(built)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<String, Portal>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}
