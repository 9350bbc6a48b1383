//! A process killed between the token server's answer and the store write.
//!
//! The child process (this test binary run again) refreshes an expired portal through a
//! SQLite store whose `replace` aborts the process: it dies holding the only copy of the new
//! pair. What holds after that:
//! * the store still has the old pair, whole (the write is one transaction that never ran), and
//!   the dead process's claim expires, so the next process is not blocked;
//! * with a token server whose refresh tokens work once (the emulator's default), the old refresh
//!   token is spent: the next process fails cleanly with the server's refusal, and the portal
//!   must be authorized again. No store write can come before the answer it would store, so the
//!   client cannot close this window alone;
//! * with a token server that answers a spent refresh token again within a grace
//!   ([`b24_emulator::OAuthApp::refresh_grace`]), the old pair is still valid: the next process
//!   gets the same new pair and stores it, and nothing is lost.

mod support;

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use b24_emulator::{Emulator, OAuthApp};
use b24_runtime::store::{Claim, Replaced, StoreFuture};
use b24_runtime::{Access, ApiVersion, Client, OAuth, Secret, TokenStore, Tokens};
use b24_store::SqliteStore;
use serde_json::json;
use support::TempDir;

const MEMBER: &str = "b24emulator0000000000000000000000";
const CLAIM: Duration = Duration::from_millis(500);

/// Aborts the process when asked to store a refreshed pair.
struct DieOnReplace(SqliteStore);

impl TokenStore for DieOnReplace {
    fn load<'a>(&'a self, member_id: &'a str) -> StoreFuture<'a, Option<Tokens>> {
        self.0.load(member_id)
    }
    fn save<'a>(&'a self, tokens: &'a Tokens) -> StoreFuture<'a, ()> {
        self.0.save(tokens)
    }
    fn replace<'a>(&'a self, _: &'a Secret, _: &'a Tokens) -> StoreFuture<'a, Replaced> {
        eprintln!("crash child: the token server answered; dying before the store write");
        std::process::abort()
    }
    fn claim<'a>(&'a self, m: &'a str, r: &'a Secret, ttl: Duration) -> StoreFuture<'a, Claim> {
        self.0.claim(m, r, ttl)
    }
    fn release<'a>(&'a self, m: &'a str, r: &'a Secret) -> StoreFuture<'a, ()> {
        self.0.release(m, r)
    }
}

fn client(
    rest: &str,
    token: &str,
    id: &str,
    secret: &str,
    tokens: Tokens,
    store: Arc<dyn TokenStore>,
) -> Client {
    Client::builder()
        .oauth(
            OAuth::with_tokens(rest, tokens)
                .client(id, secret)
                .token_endpoint(token)
                .store(store),
        )
        .build()
        .expect("client")
}

async fn call(c: &Client) -> Result<(), String> {
    c.call_raw(
        "crm.activity.badge.list",
        ApiVersion::V2,
        Access::Read,
        &json!({}),
    )
    .await
    .map(|_| ())
    .map_err(|e| e.to_string())
}

/// The child process: only does something when the parent sets `B24_CRASH_DB`.
#[tokio::test]
#[ignore = "run by the crash tests as a child process"]
async fn crash_child() {
    let Ok(db) = std::env::var("B24_CRASH_DB") else {
        return;
    };
    let env = |k: &str| std::env::var(k).expect(k);
    let store = SqliteStore::open(&db)
        .await
        .expect("open")
        .claim_ttl_at_most(CLAIM);
    let stored = store.load(MEMBER).await.expect("load").expect("stored");
    let store: Arc<dyn TokenStore> = Arc::new(DieOnReplace(store));
    let c = client(
        &env("B24_CRASH_REST"),
        &env("B24_CRASH_TOKEN"),
        &env("B24_CRASH_ID"),
        &env("B24_CRASH_SECRET"),
        stored,
        store,
    );
    let _ = call(&c).await;
    // Not reached: the store write aborts the process.
    std::process::exit(0);
}

/// Installs a portal, expires its token, lets a child process die mid-refresh; gives what the
/// next process then sees.
async fn crash_then_recover(
    grace: f64,
) -> (Emulator, Tokens, SqliteStore, Result<(), String>, TempDir) {
    let app = OAuthApp {
        refresh_grace: grace,
        ..OAuthApp::default()
    };
    let emulator = Emulator::builder()
        .oauth_app(app.clone())
        .start()
        .await
        .expect("emulator");
    let dir = TempDir::new("crash");
    let db = dir.0.join("tokens.db");
    let store = SqliteStore::open(&db)
        .await
        .expect("open")
        .claim_ttl_at_most(CLAIM);
    let pair = emulator.issue_tokens();
    let mut installed = Tokens::new(pair.access_token, Some(Secret::new(pair.refresh_token)));
    installed.member_id = Some(MEMBER.to_owned());
    store.save(&installed).await.expect("install");
    emulator.expire_access_tokens();

    let status = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "crash_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("B24_CRASH_DB", &db)
        .env("B24_CRASH_REST", emulator.rest_url())
        .env("B24_CRASH_TOKEN", emulator.token_url())
        .env("B24_CRASH_ID", &app.client_id)
        .env("B24_CRASH_SECRET", &app.client_secret)
        .status()
        .expect("child runs");
    assert!(!status.success(), "the child died ({status})");
    assert_eq!(
        emulator.stats().token_refreshes,
        1,
        "the child's refresh was answered"
    );
    let after = store
        .load(MEMBER)
        .await
        .expect("load")
        .expect("still stored");
    assert_eq!(
        after.refresh_token, installed.refresh_token,
        "the old pair is still stored, whole"
    );
    assert_eq!(after.access_token, installed.access_token);

    // The next process, after the dead one's claim expired.
    tokio::time::sleep(CLAIM + Duration::from_millis(200)).await;
    let next = client(
        &emulator.rest_url(),
        &emulator.token_url(),
        &app.client_id,
        &app.client_secret,
        after,
        Arc::new(store.clone()),
    );
    let outcome = call(&next).await;
    (emulator, installed, store, outcome, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_use_refresh_tokens_lose_the_portal_cleanly() {
    let (emulator, installed, store, outcome, _dir) = crash_then_recover(0.0).await;
    let e = outcome.expect_err("the old refresh token was spent by the dead process");
    assert!(
        e.contains("invalid_grant") || e.to_lowercase().contains("refresh"),
        "{e}"
    );
    assert!(!e.contains(installed.refresh_token.as_ref().expect("r").expose()));
    assert_eq!(emulator.stats().token_refresh_requests, 2);
    let stored = store.load(MEMBER).await.expect("load").expect("kept");
    assert_eq!(
        stored.refresh_token, installed.refresh_token,
        "nothing half-written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_server_grace_lets_the_next_process_recover() {
    let (emulator, installed, store, outcome, _dir) = crash_then_recover(60.0).await;
    outcome.expect("the next process recovers the pair the dead one got");
    let stats = emulator.stats();
    assert_eq!(stats.token_refresh_requests, 2);
    let stored = store.load(MEMBER).await.expect("load").expect("stored");
    assert_ne!(
        stored.refresh_token, installed.refresh_token,
        "the new pair is stored"
    );
    // The recovered pair is the live one: refreshing it works.
    emulator.expire_access_tokens();
    let next = client(
        &emulator.rest_url(),
        &emulator.token_url(),
        &emulator.oauth_app().client_id,
        &emulator.oauth_app().client_secret,
        stored,
        Arc::new(store),
    );
    call(&next).await.expect("the stored pair refreshes");
}
