//! Applications against the emulator's token server: the code exchange, installs, and the
//! refresh through a token store (compare-and-set, claims between processes, a failing store).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use b24_emulator::Emulator;
use b24_runtime::store::{MemoryStore, Replaced, StoreError, StoreFuture, TokenStore};
use b24_runtime::{
    Access, ApiVersion, App, Client, Error, InstallRequest, OAuth, RefreshError, Secret, Tokens,
};
use serde_json::json;

const MEMBER: &str = "b24emulator0000000000000000000000";

async fn emulator() -> Emulator {
    Emulator::builder().start().await.expect("emulator")
}

/// A pair the emulator issued, as an install would store it.
fn installed(emulator: &Emulator) -> Tokens {
    let pair = emulator.issue_tokens();
    let mut t = Tokens::new(pair.access_token, Some(Secret::new(pair.refresh_token)));
    t.member_id = Some(MEMBER.to_owned());
    t.client_endpoint = Some(emulator.rest_url());
    t.application_token = Some(Secret::new("app-token-1"));
    t
}

fn client(emulator: &Emulator, tokens: Tokens, store: Arc<dyn TokenStore>) -> Client {
    let app = emulator.oauth_app();
    Client::builder()
        .oauth(
            OAuth::with_tokens(emulator.rest_url(), tokens)
                .client(app.client_id, app.client_secret)
                .token_endpoint(emulator.token_url())
                .store(store),
        )
        .build()
        .expect("client")
}

async fn call(c: &Client) -> Result<(), Error<b24_runtime::ApiError>> {
    c.call_raw(
        "crm.activity.badge.list",
        ApiVersion::V2,
        Access::Read,
        &json!({}),
    )
    .await
    .map(|_| ())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_refreshing_at_once_spend_the_refresh_token_once() {
    let emulator = emulator().await;
    // A store that takes its time to write (a database across a network): the other process
    // reaches its refresh while the first one's new pair is still being saved.
    let store = Arc::new(Flaky {
        slow_replace: true,
        ..Flaky::default()
    });
    let tokens = installed(&emulator);
    store.save(&tokens).await.expect("install");
    // Two "processes": two clients with the same stored pair and one store.
    let a = client(&emulator, tokens.clone(), store.clone());
    let b = client(&emulator, tokens.clone(), store.clone());
    emulator.expire_access_tokens();
    let mut tasks = Vec::new();
    for i in 0..16 {
        let c = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move { call(&c).await }));
    }
    for t in tasks {
        t.await
            .expect("join")
            .expect("every call survives the expiry");
    }
    assert_eq!(emulator.stats().token_refreshes, 1, "one token request");
    assert_eq!(a.refresh_count() + b.refresh_count(), 1);
    let stored = store.load(MEMBER).await.expect("load").expect("stored");
    for c in [&a, &b] {
        let now = c.tokens().expect("oauth");
        assert_eq!(
            now.refresh_token, stored.refresh_token,
            "both on the stored pair"
        );
    }
    assert_ne!(stored.refresh_token, tokens.refresh_token);
    // What the token server did not send is kept from the installed pair.
    assert_eq!(stored.application_token, tokens.application_token);
    assert_eq!(stored.member_id.as_deref(), Some(MEMBER));
}

/// A store whose saves fail while `failing` is set, or take 200 ms with `slow_replace`;
/// loads and claims work.
#[derive(Default)]
struct Flaky {
    inner: MemoryStore,
    failing: std::sync::atomic::AtomicBool,
    slow_replace: bool,
    replaces: AtomicUsize,
}

impl TokenStore for Flaky {
    fn load<'a>(&'a self, member_id: &'a str) -> StoreFuture<'a, Option<Tokens>> {
        self.inner.load(member_id)
    }
    fn save<'a>(&'a self, tokens: &'a Tokens) -> StoreFuture<'a, ()> {
        self.inner.save(tokens)
    }
    fn replace<'a>(
        &'a self,
        expected: &'a Secret,
        tokens: &'a Tokens,
    ) -> StoreFuture<'a, Replaced> {
        self.replaces.fetch_add(1, Ordering::SeqCst);
        if self.failing.load(Ordering::SeqCst) {
            return Box::pin(async { Err(StoreError::new("database is down")) });
        }
        let slow = self.slow_replace;
        Box::pin(async move {
            if slow {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            self.inner.replace(expected, tokens).await
        })
    }
    fn claim<'a>(
        &'a self,
        member_id: &'a str,
        refresh: &'a Secret,
        ttl: std::time::Duration,
    ) -> StoreFuture<'a, b24_runtime::store::Claim> {
        self.inner.claim(member_id, refresh, ttl)
    }
    fn release<'a>(&'a self, member_id: &'a str, refresh: &'a Secret) -> StoreFuture<'a, ()> {
        self.inner.release(member_id, refresh)
    }
}

#[tokio::test]
async fn a_failing_store_loses_no_refresh_token() {
    let emulator = emulator().await;
    let store = Arc::new(Flaky::default());
    let tokens = installed(&emulator);
    store.save(&tokens).await.expect("install");
    let c = client(&emulator, tokens.clone(), store.clone());
    emulator.expire_access_tokens();
    store.failing.store(true, Ordering::SeqCst);
    let e = call(&c).await.expect_err("the new pair could not be saved");
    assert!(matches!(e, Error::Refresh(RefreshError::Store(_))), "{e:?}");
    let shown = format!("{e} {e:?}");
    assert!(shown.contains("database is down"), "{shown}");
    // The new pair was not used before it was saved: the client still holds the old one.
    assert_eq!(
        c.tokens().expect("oauth").refresh_token,
        tokens.refresh_token
    );
    assert_eq!(emulator.stats().token_refreshes, 1);

    // The store is back: the kept pair is saved and used, the token server is not asked again
    // (the old refresh token is spent: asking again would be refused).
    store.failing.store(false, Ordering::SeqCst);
    call(&c).await.expect("works with the kept pair");
    assert_eq!(
        emulator.stats().token_refreshes,
        1,
        "no second token request"
    );
    let stored = store.load(MEMBER).await.expect("load").expect("stored");
    assert_ne!(stored.refresh_token, tokens.refresh_token);
    assert_eq!(
        c.tokens().expect("oauth").refresh_token,
        stored.refresh_token
    );
    assert_eq!(store.replaces.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_hook_that_fails_keeps_the_pair_for_the_next_refresh() {
    let emulator = emulator().await;
    let tokens = installed(&emulator);
    let app = emulator.oauth_app();
    let calls = Arc::new(AtomicUsize::new(0));
    let c = Client::builder()
        .oauth(
            OAuth::with_tokens(emulator.rest_url(), tokens)
                .client(app.client_id, app.client_secret)
                .token_endpoint(emulator.token_url())
                .on_refresh({
                    let calls = calls.clone();
                    move |_t| {
                        let n = calls.fetch_add(1, Ordering::SeqCst);
                        async move {
                            if n == 0 {
                                Err(StoreError::new("disk full"))
                            } else {
                                Ok(())
                            }
                        }
                    }
                }),
        )
        .build()
        .expect("client");
    emulator.expire_access_tokens();
    assert!(call(&c).await.is_err());
    call(&c).await.expect("saved the second time, then used");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(emulator.stats().token_refreshes, 1);
}

#[tokio::test]
async fn an_authorization_code_is_exchanged_and_stored() {
    let emulator = emulator().await;
    let oauth = emulator.oauth_app();
    let store = Arc::new(MemoryStore::new());
    let app = App::builder(oauth.client_id.clone(), oauth.client_secret.clone())
        .token_endpoint(emulator.token_url())
        .store(store.clone())
        .build()
        .expect("app");
    let code = emulator.issue_auth_code();
    let c = app.authorize(&code).await.expect("exchanged");
    call(&c).await.expect("the portal's client works");
    let stored = store.load(MEMBER).await.expect("load").expect("stored");
    assert_eq!(
        stored.client_endpoint.as_deref(),
        Some(emulator.rest_url().as_str())
    );
    assert!(stored.refresh_token.is_some());
    // The token server's `domain` names itself, not the portal: kept aside.
    assert!(stored.domain.is_none());
    assert!(stored.extra.contains_key("domain"));
    // A code works once; the error shows no secret.
    let e = app.authorize(&code).await.expect_err("spent");
    let shown = format!("{e} {e:?} {app:?}");
    assert!(shown.contains("invalid_grant"), "{shown}");
    assert!(!shown.contains(&oauth.client_secret), "{shown}");
    // The same client is handed out for the portal.
    let again = app.client(MEMBER).await.expect("installed");
    assert_eq!(
        again.tokens().expect("oauth").access_token,
        c.tokens().expect("oauth").access_token
    );
    assert!(matches!(
        app.client("nobody").await,
        Err(b24_runtime::AppError::NotInstalled(_))
    ));
}

#[tokio::test]
async fn an_install_frame_is_stored_and_its_client_works() {
    let emulator = emulator().await;
    let oauth = emulator.oauth_app();
    let app = App::builder(oauth.client_id.clone(), oauth.client_secret.clone())
        .token_endpoint(emulator.token_url())
        .build()
        .expect("app");
    let pair = emulator.issue_tokens();
    let host = emulator.base_url().trim_start_matches("http://").to_owned();
    let query = format!("DOMAIN={host}&PROTOCOL=0&LANG=en&APP_SID=s1");
    let body = format!(
        "AUTH_ID={}&AUTH_EXPIRES=3600&REFRESH_ID={}&APPLICATION_TOKEN=apptok&member_id={}&status=L&PLACEMENT=DEFAULT",
        pair.access_token,
        pair.refresh_token,
        emulator.member_id()
    );
    let install = InstallRequest::parse(&query, body.as_bytes()).expect("install");
    let c = app.install(&install).await.expect("installed");
    call(&c).await.expect("calls the portal the frame named");
    emulator.expire_access_tokens();
    call(&c).await.expect("refreshes through the store");
    let stored = app
        .store()
        .load(emulator.member_id())
        .await
        .expect("load")
        .expect("stored");
    assert_eq!(
        stored.application_token.as_ref().map(Secret::expose),
        Some("apptok"),
        "the application token survives the refresh"
    );
    assert_eq!(emulator.stats().token_refreshes, 1);

    // Another install for the installed portal with another application token: refused, and
    // the stored pair is untouched; the same token again is a reinstall.
    let forged = body.replace("APPLICATION_TOKEN=apptok", "APPLICATION_TOKEN=forged");
    let again = InstallRequest::parse(&query, forged.as_bytes()).expect("parses");
    assert!(matches!(
        app.install(&again).await,
        Err(b24_runtime::AppError::Event(
            b24_runtime::events::EventError::BadToken
        ))
    ));
    let kept = app
        .store()
        .load(emulator.member_id())
        .await
        .expect("load")
        .expect("stored");
    assert_eq!(kept.refresh_token, stored.refresh_token);
    let same = InstallRequest::parse(&query, body.as_bytes()).expect("parses");
    app.install(&same)
        .await
        .expect("a reinstall with the same token");
}
