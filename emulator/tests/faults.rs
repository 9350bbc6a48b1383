//! Injected faults: dropped connections before and after the method ran, 5xx, broken bodies,
//! latency, random faults.

mod common;

use std::time::{Duration, Instant};

use b24_emulator::{Fault, FaultRates, Faults};
use common::{call, client, start};
use serde_json::{json, Value};

fn add_body(title: &str) -> Value {
    json!({"entityTypeId": 2, "fields": {"title": title}})
}

async fn raw_add(
    emulator: &b24_emulator::Emulator,
    title: &str,
) -> reqwest::Result<reqwest::Response> {
    client()
        .post(format!("{}crm.item.add.json", emulator.webhook_url()))
        .json(&add_body(title))
        .send()
        .await
}

#[tokio::test]
async fn drop_before_run_leaves_no_trace() {
    let emulator = start().await;
    emulator.inject(Fault::DropBeforeRun);
    let outcome = raw_add(&emulator, "lost").await;
    assert!(outcome.is_err(), "no answer expected");
    assert_eq!(emulator.runs("crm.item.add"), 0);
    assert!(emulator.records("crm.item").expect("family").is_empty());
    // Only one request was affected.
    let (status, _) = call(&emulator, "crm.item.add", add_body("kept")).await;
    assert_eq!(status, 200);
    assert_eq!(emulator.stats().faults_injected, 1);
}

#[tokio::test]
async fn drop_after_run_keeps_the_write() {
    let emulator = start().await;
    emulator.inject_for("crm.item.add", Fault::DropAfterRun);
    // A call to another method is not affected.
    assert_eq!(call(&emulator, "user.current", json!({})).await.0, 200);
    assert!(raw_add(&emulator, "written").await.is_err());
    assert_eq!(emulator.runs("crm.item.add"), 1);
    let records = emulator.records("crm.item").expect("family");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["title"], "written");
}

#[tokio::test]
async fn server_errors_do_not_run_the_method() {
    let emulator = start().await;
    emulator.inject(Fault::ServerError { status: 500 });
    emulator.inject(Fault::ServerError { status: 502 });
    let (status, body) = call(&emulator, "crm.item.add", add_body("x")).await;
    assert_eq!(status, 500);
    assert_eq!(body["error"], "INTERNAL_SERVER_ERROR");
    let response = raw_add(&emulator, "x").await.expect("an answer");
    assert_eq!(response.status(), 502);
    let text = response.text().await.expect("body");
    assert!(text.contains("502 Bad Gateway"));
    assert_eq!(emulator.runs("crm.item.add"), 0);
}

#[tokio::test]
async fn gateway_error_after_the_method_ran_keeps_the_write() {
    let emulator = start().await;
    emulator.inject(Fault::ServerErrorAfterRun { status: 504 });
    assert!(Fault::ServerErrorAfterRun { status: 504 }.method_runs());
    let response = raw_add(&emulator, "slow").await.expect("an answer");
    assert_eq!(response.status(), 504);
    assert!(response
        .text()
        .await
        .expect("body")
        .contains("504 Gateway Timeout"));
    assert_eq!(emulator.runs("crm.item.add"), 1);
    assert_eq!(emulator.records("crm.item").expect("family").len(), 1);
}

#[tokio::test]
async fn broken_bodies_after_the_method_ran() {
    let emulator = start().await;
    emulator.inject(Fault::TruncatedBody);
    emulator.inject(Fault::NonJsonBody);
    let truncated = raw_add(&emulator, "a").await.expect("answer");
    assert_eq!(truncated.status(), 200);
    let text = truncated.text().await.expect("body");
    assert!(text.starts_with("{\"result\""), "{text}");
    assert!(serde_json::from_str::<Value>(&text).is_err());
    let html = raw_add(&emulator, "b").await.expect("answer");
    let text = html.text().await.expect("body");
    assert!(text.contains("Fatal error"));
    assert!(serde_json::from_str::<Value>(&text).is_err());
    assert_eq!(emulator.runs("crm.item.add"), 2);
}

#[tokio::test]
async fn latency_delays_every_answer() {
    let emulator = start().await;
    emulator.set_faults(Faults {
        latency: Duration::from_millis(150),
        ..Faults::default()
    });
    let began = Instant::now();
    assert_eq!(call(&emulator, "user.current", json!({})).await.0, 200);
    assert!(began.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn random_faults_follow_their_rates() {
    let emulator = start().await;
    emulator.set_faults(Faults {
        rates: FaultRates {
            drop_before_run: 1.0,
            seed: 7,
            ..FaultRates::default()
        },
        ..Faults::default()
    });
    for _ in 0..5 {
        assert!(raw_add(&emulator, "never").await.is_err());
    }
    assert_eq!(emulator.runs("crm.item.add"), 0);
    emulator.set_faults(Faults {
        rates: FaultRates {
            server_error: 0.5,
            seed: 7,
            ..FaultRates::default()
        },
        ..Faults::default()
    });
    let mut errors = 0;
    for _ in 0..200 {
        if raw_add(&emulator, "maybe").await.expect("answer").status() == 500 {
            errors += 1;
        }
    }
    assert!((60..=140).contains(&errors), "{errors} of 200 at rate 0.5");
    assert_eq!(emulator.runs("crm.item.add"), 200 - errors);
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let emulator = start().await;
    let url = format!("{}user.current.json", emulator.webhook_url());
    assert_eq!(
        client().get(&url).send().await.expect("answer").status(),
        200
    );
    emulator.shutdown().await;
    let fresh = reqwest::Client::new();
    assert!(fresh.get(&url).send().await.is_err());
}
