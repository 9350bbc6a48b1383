//! The leaky bucket (503) and the operating budget (429), counted, never timed.

mod common;

use b24_emulator::{Bucket, Limits};
use common::{builder, call};
use serde_json::json;

#[tokio::test]
async fn bucket_refuses_above_capacity_and_counts_503s() {
    // No draining: exactly `capacity` requests pass, whatever the speed of the machine.
    let bucket = Bucket {
        capacity: 50.0,
        drain_per_sec: 0.0,
    };
    let emulator = builder().bucket(Some(bucket)).start().await.expect("start");
    let mut statuses = Vec::new();
    for _ in 0..60 {
        let (status, body) = call(&emulator, "user.current", json!({})).await;
        if status == 503 {
            assert_eq!(body["error"], "QUERY_LIMIT_EXCEEDED");
        }
        statuses.push(status);
    }
    assert_eq!(statuses.iter().filter(|&&s| s == 200).count(), 50);
    assert!(statuses[50..].iter().all(|&s| s == 503));
    assert_eq!(emulator.stats().query_limit_exceeded, 10);
    assert_eq!(emulator.stats().requests, 60);
    assert_eq!(
        emulator.runs("user.current"),
        50,
        "refused requests never run"
    );

    // Draining (with emulated time running fast) lets requests through again.
    emulator.set_bucket(Some(Bucket {
        capacity: 50.0,
        drain_per_sec: 2.0,
    }));
    emulator.set_time_scale(10_000.0);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let (status, _) = call(&emulator, "user.current", json!({})).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn operating_budget_gives_429_until_the_oldest_basket_expires() {
    // Each call takes 20 emulated seconds (0.2 real s at scale 100); the 10-minute window is
    // 6 real seconds, far more than the test needs, so a slow machine changes nothing.
    let emulator = builder()
        .limits(Limits {
            bucket: None,
            operating_limit: Some(50.0),
            processing_time: 20.0,
        })
        .time_scale(100.0)
        .start()
        .await
        .expect("start");
    let mut operating = Vec::new();
    for _ in 0..3 {
        let (status, body) = call(&emulator, "user.current", json!({})).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["time"]["processing"], 20.0);
        operating.push(body["time"]["operating"].as_f64().expect("operating"));
    }
    assert_eq!(operating, [20.0, 40.0, 60.0]);
    let (status, body) = call(&emulator, "user.current", json!({})).await;
    assert_eq!(status, 429);
    assert_eq!(body["error"], "OPERATION_TIME_LIMIT");
    assert_eq!(emulator.stats().operation_time_limit, 1);
    assert_eq!(emulator.runs("user.current"), 3);

    // Another method has its own budget.
    let (status, _) = call(&emulator, "crm.activity.badge.list", json!({})).await;
    assert_eq!(status, 200);

    // Let ten emulated minutes pass quickly: the method works again, its budget starts over.
    emulator.set_time_scale(100_000.0);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let (status, body) = call(&emulator, "user.current", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["time"]["operating"], 20.0);
}

#[tokio::test]
async fn operating_reset_at_is_wall_clock_ten_minutes_after_the_first_call() {
    let emulator = builder()
        .operating_limit(Some(480.0))
        .processing_time(1.0)
        .time_scale(60.0)
        .start()
        .await
        .expect("start");
    let (_, body) = call(&emulator, "user.current", json!({})).await;
    let start = body["time"]["start"].as_f64().expect("start");
    let reset = body["time"]["operating_reset_at"].as_i64().expect("reset") as f64;
    // 600 emulated seconds at scale 60 are 10 real seconds.
    assert!(
        (reset - start - 10.0).abs() <= 1.0,
        "start {start} reset {reset}"
    );
}

#[tokio::test]
async fn batch_counts_once_in_the_bucket() {
    let bucket = Bucket {
        capacity: 2.0,
        drain_per_sec: 0.0,
    };
    let emulator = builder().bucket(Some(bucket)).start().await.expect("start");
    let cmd: serde_json::Map<String, serde_json::Value> = (0..10)
        .map(|i| (format!("c{i}"), json!("user.current")))
        .collect();
    let (status, body) = call(&emulator, "batch", json!({"cmd": cmd})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(emulator.runs("user.current"), 10);
    let (status, _) = call(&emulator, "batch", json!({"cmd": cmd})).await;
    assert_eq!(status, 200);
    let (status, _) = call(&emulator, "batch", json!({"cmd": cmd})).await;
    assert_eq!(status, 503);
}
