//! Limits shared in Redis: four "processes" (threads with their own runtimes and their own
//! Redis connections) call one emulated portal whose bucket is 50 + 2/s, and a method paused by
//! one process's time budget is paused for the others.

mod support;

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use b24_emulator::{Bucket, Emulator};
use b24_runtime::{Access, ApiVersion, Client, RateLimit, RetryPolicy};
use b24_store::RedisLimits;
use serde_json::json;
use support::Redis;

const PROCESSES: usize = 4;
const METHOD: &str = "crm.activity.badge.list";

/// Each process calls as fast as its limiter lets it for `window`; gives the calls answered
/// within the window. `redis`: share the bucket there, else each process meters its own.
fn run(webhook: &str, redis: Option<String>, window: Duration) -> u64 {
    let barrier = Arc::new(Barrier::new(PROCESSES));
    let threads: Vec<_> = (0..PROCESSES)
        .map(|_| {
            let (webhook, redis, barrier) = (webhook.to_owned(), redis.clone(), barrier.clone());
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async move {
                    let mut b = Client::builder()
                        .webhook(&webhook)
                        .rate_limit(RateLimit::STANDARD);
                    if let Some(url) = &redis {
                        let limits = RedisLimits::connect(url).await.expect("redis");
                        b = b.shared_limits(limits.portal("portal-1"));
                    }
                    let client = b.build().expect("client");
                    barrier.wait();
                    let deadline = Instant::now() + window;
                    let mut answered = 0;
                    let params = json!({});
                    while Instant::now() < deadline {
                        let call = client.call_raw(METHOD, ApiVersion::V2, Access::Read, &params);
                        match tokio::time::timeout_at(deadline.into(), call).await {
                            Ok(Ok(_)) => answered += 1,
                            Ok(Err(e)) => panic!("a call failed: {e}"),
                            Err(_) => break,
                        }
                    }
                    answered
                })
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|t| t.join().expect("process"))
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_share_one_bucket_without_503s() {
    let Some(redis) = Redis::start() else { return };
    let emulator = Emulator::builder()
        .bucket(Some(Bucket::STANDARD))
        .start()
        .await
        .expect("emulator");
    let window = Duration::from_secs(15);
    let webhook = emulator.webhook_url();
    let url = redis.url();
    let answered = tokio::task::spawn_blocking(move || run(&webhook, Some(url), window))
        .await
        .expect("run");
    let stats = emulator.stats();
    let max = RateLimit::STANDARD.max_requests_in(window);
    eprintln!(
        "shared bucket: {answered} calls in {window:?} by {PROCESSES} processes, max {max}, {:.1} %, {} 503s",
        100.0 * answered as f64 / max,
        stats.query_limit_exceeded
    );
    assert_eq!(stats.query_limit_exceeded, 0, "no 503 QUERY_LIMIT_EXCEEDED");
    assert!(answered as f64 >= 0.95 * max, "{answered} of at most {max}");
    assert!(
        answered as f64 <= max + 1.0,
        "{answered} is more than the bucket admits"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_each_with_its_own_bucket_overrun_the_portal() {
    // The control: without the shared bucket the same processes get 503s.
    let emulator = Emulator::builder()
        .bucket(Some(Bucket::STANDARD))
        .start()
        .await
        .expect("emulator");
    let webhook = emulator.webhook_url();
    tokio::task::spawn_blocking(move || run(&webhook, None, Duration::from_secs(2)))
        .await
        .expect("run");
    assert!(emulator.stats().query_limit_exceeded > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_method_paused_by_one_process_is_paused_for_the_others() {
    let Some(redis) = Redis::start() else { return };
    let emulator = Emulator::builder().start().await.expect("emulator");
    // Every call of METHOD reports 2 s of `operating`: over the 1 s budget the clients keep.
    emulator.set_processing_time(METHOD, 2.0);
    let build = |limits: &RedisLimits| {
        Client::builder()
            .webhook(emulator.webhook_url())
            .operating_limit(Duration::from_secs(1))
            .retry(RetryPolicy::default().max_operating_wait(Duration::from_millis(10)))
            .shared_limits(limits.portal("portal-2"))
            .build()
            .expect("client")
    };
    let (a_limits, b_limits) = (
        RedisLimits::connect(&redis.url()).await.expect("redis"),
        RedisLimits::connect(&redis.url()).await.expect("redis"),
    );
    let (a, b) = (build(&a_limits), build(&b_limits));
    a.call_raw(METHOD, ApiVersion::V2, Access::Read, &json!({}))
        .await
        .expect("the first call runs");
    // The pause is shared in the background: give it a moment.
    let other = b_limits.portal("portal-2");
    let deadline = Instant::now() + Duration::from_secs(5);
    while other.method_paused(METHOD).await.expect("redis").is_none() {
        assert!(Instant::now() < deadline, "the pause never reached redis");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let runs = emulator.runs(METHOD);
    let e = b
        .call_raw(METHOD, ApiVersion::V2, Access::Read, &json!({}))
        .await
        .expect_err("paused by the other process");
    assert!(
        e.to_string().contains("OPERATION_TIME_LIMIT") || e.to_string().contains("time budget"),
        "{e}"
    );
    assert_eq!(emulator.runs(METHOD), runs, "nothing sent");
    // Another method, and another portal, are not paused.
    b.call_raw("user.current", ApiVersion::V2, Access::Read, &json!({}))
        .await
        .expect("another method runs");
    assert!(b_limits
        .portal("portal-3")
        .method_paused(METHOD)
        .await
        .expect("redis")
        .is_none());
    // A shorter pause does not shorten a longer one.
    other
        .pause_method(METHOD, Duration::from_millis(1))
        .await
        .expect("redis");
    assert!(other
        .method_paused(METHOD)
        .await
        .expect("redis")
        .is_some_and(|d| d > Duration::from_millis(100)));
}

#[tokio::test]
async fn an_unreachable_redis_is_an_error_without_the_url() {
    let port = support::free_port();
    let e = RedisLimits::connect(&format!("redis://:hunter2@127.0.0.1:{port}/"))
        .await
        .expect_err("nothing listens");
    assert!(!format!("{e} {e:?}").contains("hunter2"), "{e:?}");
}
