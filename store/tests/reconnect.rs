//! A database or Redis restart: the connection the server dropped is opened again by the next
//! call, and while the server stays down a call fails with a typed error (no panic).

mod support;

use std::time::Duration;

use b24_runtime::store::{Replaced, TokenStore};
use b24_runtime::{RateLimit, Secret};
use b24_store::{PgStore, RedisLimits};
use support::{pair, Postgres, Redis};

async fn stored_refresh(store: &PgStore, member: &str) -> Option<String> {
    store
        .load(member)
        .await
        .expect("load")
        .and_then(|t| t.refresh_token)
        .map(|s| s.expose().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_is_survived() {
    let Some(mut pg) = Postgres::start() else {
        return;
    };
    let store = PgStore::connect(&pg.config()).await.expect("connect");
    store.save(&pair("m1", "a1", "r1")).await.expect("save");

    // A read after a restart.
    pg.restart();
    assert_eq!(stored_refresh(&store, "m1").await.as_deref(), Some("r1"));

    // A compare-and-set and a claim after another restart.
    pg.restart();
    let replaced = store
        .replace(&Secret::new("r1"), &pair("m1", "a2", "r2"))
        .await
        .expect("replace after a restart");
    assert!(matches!(replaced, Replaced::Stored), "{replaced:?}");
    assert_eq!(stored_refresh(&store, "m1").await.as_deref(), Some("r2"));
    pg.restart();
    // The connection is found dropped before the claim is sent: it is opened again first.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let claim = store
        .claim("m1", &Secret::new("r2"), Duration::from_secs(30))
        .await
        .expect("claim after a restart");
    assert_eq!(claim, b24_store::Claim::Granted);

    // Down: a typed error, without the connection string's secrets; up again: it works.
    pg.stop();
    let e = store.load("m1").await.expect_err("the server is down");
    let shown = format!("{e} {e:?}");
    assert!(shown.contains("postgres"), "{shown}");
    assert!(std::error::Error::source(&e).is_some(), "{shown}");
    pg.start_again().expect("postgres starts again");
    assert_eq!(stored_refresh(&store, "m1").await.as_deref(), Some("r2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_is_survived() {
    let Some(mut redis) = Redis::start() else {
        return;
    };
    let limits = RedisLimits::connect(&redis.url()).await.expect("connect");
    let portal = limits.portal("m1");
    let rate = RateLimit::STANDARD;
    assert_eq!(portal.take(&rate).await.expect("take"), Duration::ZERO);

    redis.restart();
    assert_eq!(
        portal.take(&rate).await.expect("take after a restart"),
        Duration::ZERO
    );
    redis.restart();
    portal
        .pause_method("crm.item.list", Duration::from_secs(60))
        .await
        .expect("pause after a restart");
    let left = portal
        .method_paused("crm.item.list")
        .await
        .expect("read the pause");
    assert!(
        left.is_some_and(|l| l > Duration::from_secs(50)),
        "{left:?}"
    );
    // Another portal of the same connection reconnected too.
    assert_eq!(
        limits.portal("m2").take(&rate).await.expect("take"),
        Duration::ZERO
    );

    redis.stop();
    let e = portal.take(&rate).await.expect_err("the server is down");
    assert!(format!("{e}").contains("redis"), "{e}");
    redis.start_again().expect("redis starts again");
    assert_eq!(
        portal.take(&rate).await.expect("take when up again"),
        Duration::ZERO
    );
}
