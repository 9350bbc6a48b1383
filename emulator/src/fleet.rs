//! Many emulated portals behind one listener: portal `i` answers under `/p/{i}/`, and at the
//! root of its domain `p{i}.example.test` when the `Host` header names it, with its own
//! bucket, operating budget, OAuth tokens, records and counters.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::emulator::{Emulator, EmulatorBuilder, FleetRoute, Routing, FLEET_DOMAIN};
use crate::state::Shared;

/// The most portals one fleet serves.
pub const MAX_FLEET: usize = 100_000;

/// Portals served by one listener (see [`EmulatorBuilder::start_fleet`]). Each portal is an
/// [`Emulator`] (its tokens, limits, stats and records), reached at
/// `http://{addr}/p/{i}` ([`Emulator::base_url`]) and, by `Host`, at
/// `http://p{i}.example.test:{port}` ([`Fleet::host_url`]). Stops when dropped.
pub struct Fleet {
    portals: Vec<Emulator>,
    addr: SocketAddr,
    server: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("addr", &self.addr)
            .field("portals", &self.portals.len())
            .finish()
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

impl Fleet {
    /// The address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Portal `i`, if there is one.
    pub fn portal(&self, i: usize) -> Option<&Emulator> {
        self.portals.get(i)
    }

    /// Portal `i`'s base URL by domain, `http://p{i}.example.test:{port}` (`None` past the
    /// last portal). The name resolves nowhere: point the client at [`Fleet::addr`] for it
    /// (`reqwest::ClientBuilder::resolve(&fleet_domain(i), fleet.addr())`).
    pub fn host_url(&self, i: usize) -> Option<String> {
        (i < self.portals.len()).then(|| host_url(i, self.addr.port()))
    }

    /// Every portal, in order.
    pub fn portals(&self) -> &[Emulator] {
        &self.portals
    }

    /// How many portals.
    pub fn len(&self) -> usize {
        self.portals.len()
    }

    /// True for a fleet of none (never: a fleet has at least one portal).
    pub fn is_empty(&self) -> bool {
        self.portals.is_empty()
    }
}

/// Portal `i`'s `member_id`: 33 characters, like a real one.
pub fn fleet_member_id(i: usize) -> String {
    format!("b24fleet{i:025}")
}

/// Portal `i`'s domain: `p{i}.example.test` (see [`Fleet::host_url`]).
pub fn fleet_domain(i: usize) -> String {
    format!("p{i}.{FLEET_DOMAIN}")
}

fn host_url(i: usize, port: u16) -> String {
    format!("http://{}:{port}", fleet_domain(i))
}

impl EmulatorBuilder {
    /// Starts `portals` portals (1 to [`MAX_FLEET`]) with this builder's settings, each with
    /// its own state and the `member_id` [`fleet_member_id`]`(i)`, behind one listener.
    pub async fn start_fleet(self, portals: usize) -> std::io::Result<Fleet> {
        if portals == 0 || portals > MAX_FLEET {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("a fleet has 1 to {MAX_FLEET} portals"),
            ));
        }
        let (api, host, port, settings) = self.into_parts();
        let api = Arc::new(api);
        let listener = TcpListener::bind(SocketAddr::new(host, port)).await?;
        let addr = listener.local_addr()?;
        let server_limits = settings.server.clone();
        let mut routes = Vec::with_capacity(portals);
        let mut emulators = Vec::with_capacity(portals);
        for i in 0..portals {
            let mut settings = settings.clone();
            settings.member_id = fleet_member_id(i);
            let shared = Arc::new(Shared::new(Arc::clone(&api), settings));
            let base_url: Arc<str> = Arc::from(format!("http://{addr}/p/{i}"));
            routes.push(FleetRoute {
                shared: Arc::clone(&shared),
                by_path: Arc::clone(&base_url),
                by_host: Arc::from(host_url(i, addr.port())),
            });
            emulators.push(Emulator::unserved(shared, addr, base_url));
        }
        let server = tokio::spawn(crate::emulator::serve(
            listener,
            server_limits,
            Arc::new(Routing::Fleet(routes)),
        ));
        Ok(Fleet {
            portals: emulators,
            addr,
            server: Some(server),
        })
    }
}
