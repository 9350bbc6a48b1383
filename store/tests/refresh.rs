//! Eight "processes" (eight threads, each with its own tokio runtime and its own store
//! connection) refresh one portal's expired token at once against the emulator's token server:
//! one refresh reaches the token endpoint, every process ends on the new pair.

mod support;

use std::sync::{Arc, Barrier};

use b24_emulator::Emulator;
use b24_runtime::{Access, ApiVersion, Client, OAuth, Secret, TokenStore, Tokens};
use b24_store::{PgStore, SqliteStore};
use serde_json::json;
use support::{Postgres, TempDir};

const MEMBER: &str = "b24emulator0000000000000000000000";
const PROCESSES: usize = 8;

fn installed(emulator: &Emulator) -> Tokens {
    let pair = emulator.issue_tokens();
    let mut t = Tokens::new(pair.access_token, Some(Secret::new(pair.refresh_token)));
    t.member_id = Some(MEMBER.to_owned());
    t.client_endpoint = Some(emulator.rest_url());
    t.application_token = Some(Secret::new("app-token-1"));
    t
}

/// What a process needs to reach the emulated portal.
#[derive(Clone)]
struct Portal {
    rest: String,
    token: String,
    client_id: String,
    client_secret: String,
}

impl Portal {
    fn of(emulator: &Emulator) -> Portal {
        let app = emulator.oauth_app();
        Portal {
            rest: emulator.rest_url(),
            token: emulator.token_url(),
            client_id: app.client_id,
            client_secret: app.client_secret,
        }
    }
}

fn client(portal: &Portal, tokens: Tokens, store: Arc<dyn TokenStore>) -> Client {
    Client::builder()
        .oauth(
            OAuth::with_tokens(portal.rest.clone(), tokens)
                .client(portal.client_id.clone(), portal.client_secret.clone())
                .token_endpoint(portal.token.clone())
                .store(store),
        )
        .build()
        .expect("client")
}

/// Runs the race with `open` giving each process its own connection; returns each process's
/// refresh token at the end.
async fn race<F, Fut, S>(emulator: &Emulator, open: F) -> (Tokens, Vec<Secret>)
where
    F: Fn() -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = S>,
    S: TokenStore + 'static,
{
    let first = open.clone()().await;
    let tokens = installed(emulator);
    first.save(&tokens).await.expect("install");
    emulator.expire_access_tokens();
    let barrier = Arc::new(Barrier::new(PROCESSES));
    let mut threads = Vec::new();
    for _ in 0..PROCESSES {
        let (open, barrier, portal) = (open.clone(), barrier.clone(), Portal::of(emulator));
        threads.push(std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let store: Arc<dyn TokenStore> = Arc::new(open().await);
                // Every process starts from the installed pair, as it read it at start-up.
                let stored = store.load(MEMBER).await.expect("load").expect("stored");
                let c = client(&portal, stored, store);
                barrier.wait();
                c.call_raw(
                    "crm.activity.badge.list",
                    ApiVersion::V2,
                    Access::Read,
                    &json!({}),
                )
                .await
                .expect("every process survives the expiry");
                c.tokens()
                    .expect("oauth")
                    .refresh_token
                    .expect("refresh token")
            })
        }));
    }
    let ends = threads
        .into_iter()
        .map(|t| t.join().expect("process"))
        .collect();
    (tokens, ends)
}

fn check(emulator: &Emulator, installed: &Tokens, stored: &Tokens, ends: &[Secret]) {
    let stats = emulator.stats();
    assert_eq!(
        stats.token_refresh_requests, 1,
        "one request at the token endpoint"
    );
    assert_eq!(stats.token_refreshes, 1);
    let new = stored.refresh_token.as_ref().expect("stored refresh token");
    assert_ne!(Some(new), installed.refresh_token.as_ref(), "renewed");
    assert_eq!(ends.len(), PROCESSES);
    for end in ends {
        assert_eq!(end, new, "every process on the stored pair");
    }
    assert_eq!(stored.application_token, installed.application_token);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_processes_on_sqlite_refresh_once() {
    let emulator = Emulator::builder().start().await.expect("emulator");
    let dir = TempDir::new("race");
    let path = Arc::new(dir.0.join("tokens.db"));
    let (installed, ends) = race(&emulator, move || {
        let path = path.clone();
        async move { SqliteStore::open(&*path).await.expect("open") }
    })
    .await;
    let store = SqliteStore::open(dir.0.join("tokens.db"))
        .await
        .expect("open");
    let stored = store.load(MEMBER).await.expect("load").expect("stored");
    check(&emulator, &installed, &stored, &ends);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_processes_on_postgres_refresh_once() {
    let Some(pg) = Postgres::start() else { return };
    let emulator = Emulator::builder().start().await.expect("emulator");
    let config = Arc::new(pg.config());
    let opener = config.clone();
    let (installed, ends) = race(&emulator, move || {
        let config = opener.clone();
        async move { PgStore::connect(&config).await.expect("connect") }
    })
    .await;
    let store = PgStore::connect(&config).await.expect("connect");
    let stored = store.load(MEMBER).await.expect("load").expect("stored");
    check(&emulator, &installed, &stored, &ends);
}
