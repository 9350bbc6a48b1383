//! The `Portals` registry: a client per portal from the store, a bounded LRU cache that loses
//! nothing, and per-portal fairness.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use b24_emulator::Emulator;
use b24_runtime::store::{MemoryStore, TokenStore};
use b24_runtime::{Access, ApiVersion, App, AppError, Portals, Secret, Tokens};
use serde_json::json;

/// One emulator stands for every portal: each member id gets its own pair from it.
async fn setup(portals: &[&str]) -> (Emulator, Arc<App>, Arc<MemoryStore>) {
    let emulator = Emulator::builder().start().await.expect("emulator");
    let store = Arc::new(MemoryStore::new());
    for member in portals {
        let pair = emulator.issue_tokens();
        let mut t = Tokens::new(pair.access_token, Some(Secret::new(pair.refresh_token)));
        t.member_id = Some((*member).to_owned());
        t.client_endpoint = Some(emulator.rest_url());
        store.save(&t).await.expect("install");
    }
    let oauth = emulator.oauth_app();
    let app = App::builder(oauth.client_id, oauth.client_secret)
        .token_endpoint(emulator.token_url())
        .store(store.clone())
        .build()
        .expect("app");
    (emulator, Arc::new(app), store)
}

async fn call(c: &b24_runtime::Client) {
    c.call_raw("user.current", ApiVersion::V2, Access::Read, &json!({}))
        .await
        .expect("call");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_is_bounded_and_an_evicted_portal_loses_nothing() {
    // The emulator's token server names one portal; `a` is that one, so its refresh is stored
    // under `a`. `b` and `c` are not called after the expiry (they would refresh as that portal).
    let a_id = b24_emulator::MEMBER_ID;
    let (emulator, app, store) = setup(&[a_id, "b", "c"]).await;
    let portals = Portals::builder(app).capacity(2).build();
    call(&portals.client(a_id).await.expect("a")).await;
    call(&portals.client("b").await.expect("b")).await;
    // `a` used again: `b` is now the least recently used.
    let a = portals.client(a_id).await.expect("a");
    // `a` refreshes: the new pair goes to the store.
    emulator.expire_access_tokens();
    call(&a).await;
    let refreshed = a.tokens().expect("oauth").refresh_token;
    portals.client("c").await.expect("c");
    assert_eq!(portals.len(), 2);
    assert!(!portals.is_cached("b"), "the least recently used went");
    assert!(portals.is_cached(a_id) && portals.is_cached("c"));
    // Evict `a` too, then get it back: from the store, on the refreshed pair.
    portals.client("b").await.expect("b again");
    assert!(!portals.is_cached(a_id));
    drop(a);
    let a2 = portals.client(a_id).await.expect("a from the store");
    assert_eq!(a2.tokens().expect("oauth").refresh_token, refreshed);
    call(&a2).await;
    assert_eq!(
        store
            .load(a_id)
            .await
            .expect("load")
            .and_then(|t| t.refresh_token),
        refreshed
    );
    // Same client for concurrent callers of a cached portal.
    let again = portals.client(a_id).await.expect("a");
    assert_eq!(
        again.tokens().expect("oauth").access_token,
        a2.tokens().expect("oauth").access_token
    );
    // A portal not in the store.
    assert!(matches!(
        portals.client("nobody").await,
        Err(AppError::NotInstalled(m)) if m == "nobody"
    ));
    assert_eq!(portals.len(), 2, "a failed lookup caches nothing");
    portals.forget(a_id);
    assert!(!portals.is_cached(a_id));
    assert!(
        store.load(a_id).await.expect("load").is_some(),
        "forget keeps the store"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_portal_does_not_starve_the_others() {
    let (_emulator, app, _store) = setup(&["busy", "quiet"]).await;
    let portals = Arc::new(Portals::builder(app).max_in_flight(4).per_portal(2).build());
    let started = Arc::new(AtomicUsize::new(0));
    let busy_now = Arc::new(AtomicUsize::new(0));
    let busy_most = Arc::new(AtomicUsize::new(0));
    let mut jobs = Vec::new();
    for _ in 0..40 {
        let (p, started, now, most) = (
            portals.clone(),
            started.clone(),
            busy_now.clone(),
            busy_most.clone(),
        );
        jobs.push(tokio::spawn(async move {
            p.run("busy", |_client| async move {
                started.fetch_add(1, Ordering::SeqCst);
                let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(n, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                now.fetch_sub(1, Ordering::SeqCst);
            })
            .await
            .expect("busy job");
        }));
    }
    // Let the busy portal's jobs queue up first.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let (p, s) = (portals.clone(), started.clone());
    let quiet_position = p
        .run("quiet", |client| async move {
            let at = s.fetch_add(1, Ordering::SeqCst);
            call(&client).await;
            at
        })
        .await
        .expect("quiet job");
    for j in jobs {
        j.await.expect("join");
    }
    assert_eq!(started.load(Ordering::SeqCst), 41);
    assert!(busy_most.load(Ordering::SeqCst) <= 2, "per-portal cap held");
    // Without per-portal permits the quiet job would wait behind the 40 busy ones.
    assert!(
        quiet_position < 8,
        "the quiet portal ran after {quiet_position} busy jobs"
    );
}

/// The registry's connections do not outlast a burst: against a server that serves 4
/// connections at once and never closes an idle one, 12 portals called at once all get their
/// answer (each connection past the 4 waits in the listen backlog until one of the 4 closes,
/// which only the client does, once it keeps no more than `per_portal` idle).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_leaves_no_idle_connection_holding_the_servers_slots() {
    let emulator = Emulator::builder()
        .server_limits(b24_emulator::ServerLimits {
            max_connections: 4,
            header_timeout: None,
            ..b24_emulator::ServerLimits::default()
        })
        .start()
        .await
        .expect("emulator");
    let store = Arc::new(MemoryStore::new());
    let members: Vec<String> = (0..12).map(|i| format!("m{i}")).collect();
    for member in &members {
        let pair = emulator.issue_tokens();
        let mut t = Tokens::new(pair.access_token, Some(Secret::new(pair.refresh_token)));
        t.member_id = Some(member.clone());
        t.client_endpoint = Some(emulator.rest_url());
        store.save(&t).await.expect("install");
    }
    let oauth = emulator.oauth_app();
    let app = App::builder(oauth.client_id, oauth.client_secret)
        .token_endpoint(emulator.token_url())
        .store(store)
        .build()
        .expect("app");
    let portals = Arc::new(Portals::builder(Arc::new(app)).per_portal(1).build());
    let burst = members.iter().cloned().map(|member| {
        let portals = portals.clone();
        tokio::spawn(async move {
            portals
                .run(&member, |c| async move { call(&c).await })
                .await
                .expect("run")
        })
    });
    // Not a speed goal: without the bound the 8 last calls never get an answer at all.
    let all = tokio::time::timeout(Duration::from_secs(60), futures::future::join_all(burst))
        .await
        .expect("every call of the burst is answered");
    assert_eq!(all.len(), 12);
    assert!(all.iter().all(|joined| joined.is_ok()));
    assert_eq!(emulator.stats().requests, 12);
}
