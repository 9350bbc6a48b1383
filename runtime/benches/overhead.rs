//! Per-call overhead of `Client::call` against raw reqwest + serde_json on the same loopback
//! server (same request type, same response type).
//!
//! `cargo bench -p b24-runtime --bench overhead -- --calls 20000 --rounds 5 --concurrency 1`

mod common;

use std::time::{Duration, Instant};

use b24_runtime::{Client, RateLimit};
use common::item;

async fn raw_round(
    http: &reqwest::Client,
    url: &str,
    calls: usize,
    concurrency: usize,
) -> Duration {
    let start = Instant::now();
    let per = calls / concurrency;
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (http, url) = (http.clone(), url.to_owned());
        tasks.push(tokio::spawn(async move {
            for i in 0..per {
                let req = item::Request {
                    entity_type_id: 2,
                    id: i as i64,
                };
                let body = serde_json::to_vec(&req).expect("ser");
                let resp = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .expect("send");
                let bytes = resp.bytes().await.expect("body");
                let env: item::RawEnvelope = serde_json::from_slice(&bytes).expect("decode");
                std::hint::black_box(env);
            }
        }));
    }
    for t in tasks {
        t.await.expect("join");
    }
    start.elapsed()
}

async fn b24_round(client: &Client, calls: usize, concurrency: usize) -> Duration {
    let start = Instant::now();
    let per = calls / concurrency;
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per {
                let r = client
                    .call(&item::Request {
                        entity_type_id: 2,
                        id: i as i64,
                    })
                    .await
                    .expect("call");
                std::hint::black_box(r);
            }
        }));
    }
    for t in tasks {
        t.await.expect("join");
    }
    start.elapsed()
}

/// The fastest round: on a shared machine, noise only ever adds time.
fn best(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

fn main() {
    let calls: usize = common::arg("calls", 20_000);
    let rounds: usize = common::arg("rounds", 5);
    let concurrency: usize = common::arg("concurrency", 1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let (addr, _) = common::serve(None).await;
        let base = format!("http://{addr}/rest/1/{}/", common::CODE);
        let url = format!("{base}crm.item.get.json");
        let http = reqwest::Client::new();
        let unmetered = Client::builder().webhook(&base).no_rate_limit().build().expect("client");
        // A meter that never blocks, to measure its own cost.
        let metered = Client::builder()
            .webhook(&base)
            .rate_limit(RateLimit::custom(1_000_000, 1e9))
            .build()
            .expect("client");
        // Warm up connections and allocators.
        raw_round(&http, &url, 2_000, concurrency).await;
        b24_round(&unmetered, 2_000, concurrency).await;
        b24_round(&metered, 2_000, concurrency).await;
        let (mut raw, mut plain, mut meter) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            let us = |d: Duration| d.as_secs_f64() * 1e6 / calls as f64;
            raw.push(us(raw_round(&http, &url, calls, concurrency).await));
            plain.push(us(b24_round(&unmetered, calls, concurrency).await));
            meter.push(us(b24_round(&metered, calls, concurrency).await));
        }
        let (r, p, m) = (best(&raw), best(&plain), best(&meter));
        println!("calls per round: {calls}, rounds: {rounds}, concurrency: {concurrency} (best round shown)");
        println!("raw reqwest + serde_json : {r:8.2} µs/call (rounds: {raw:.2?})");
        println!("b24 Client::call         : {p:8.2} µs/call ({:+.1}%) (rounds: {plain:.2?})", (p / r - 1.0) * 100.0);
        println!("b24 Client::call + meter : {m:8.2} µs/call ({:+.1}%) (rounds: {meter:.2?})", (m / r - 1.0) * 100.0);
    });
}
