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

/// CPU seconds this process used so far (user + system, all threads; Linux `/proc`).
/// Less disturbed than wall time by other processes on a shared machine.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Fields 14 and 15 of the file (utime, stime) are 11 and 12 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// Runs a round and returns (wall µs per call, CPU µs per call).
async fn measure<F: std::future::Future<Output = Duration>>(calls: usize, round: F) -> (f64, f64) {
    let cpu0 = cpu_seconds();
    let wall = round.await;
    let cpu = cpu_seconds() - cpu0;
    (
        wall.as_secs_f64() * 1e6 / calls as f64,
        cpu * 1e6 / calls as f64,
    )
}

/// The fastest round: on a shared machine, noise only ever adds time.
fn best(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

fn main() {
    let calls: usize = common::arg("calls", 20_000);
    let rounds: usize = common::arg("rounds", 5);
    let concurrency: usize = common::arg("concurrency", 1);
    let rt = common::tokio_runtime();
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
        let same_http = Client::builder()
            .webhook(&base)
            .no_rate_limit()
            .http_client(reqwest::Client::new())
            .build()
            .expect("client");
        // Warm up connections and allocators.
        raw_round(&http, &url, 2_000, concurrency).await;
        b24_round(&unmetered, 2_000, concurrency).await;
        b24_round(&metered, 2_000, concurrency).await;
        b24_round(&same_http, 2_000, concurrency).await;
        let (mut raw, mut plain, mut meter, mut same) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        // The variants take turns going first, so none always runs in the same slot.
        for round in 0..rounds {
            for slot in 0..4 {
                match (round + slot) % 4 {
                    0 => raw.push(measure(calls, raw_round(&http, &url, calls, concurrency)).await),
                    1 => plain.push(measure(calls, b24_round(&unmetered, calls, concurrency)).await),
                    2 => meter.push(measure(calls, b24_round(&metered, calls, concurrency)).await),
                    _ => same.push(measure(calls, b24_round(&same_http, calls, concurrency)).await),
                }
            }
        }
        let wall = |v: &[(f64, f64)]| best(&v.iter().map(|x| x.0).collect::<Vec<_>>());
        let cpu = |v: &[(f64, f64)]| best(&v.iter().map(|x| x.1).collect::<Vec<_>>());
        println!("calls per round: {calls}, rounds: {rounds}, concurrency: {concurrency} (best round; CPU includes the in-process server)");
        println!("                           wall µs/call        CPU µs/call");
        for (name, v) in [("raw reqwest + serde_json", &raw), ("b24 Client::call", &plain), ("b24 Client::call + meter", &meter), ("b24, plain reqwest client", &same)] {
            println!(
                "{name:<25}: {:8.2} ({:+6.1}%)   {:8.2} ({:+6.1}%)",
                wall(v),
                (wall(v) / wall(&raw) - 1.0) * 100.0,
                cpu(v),
                (cpu(v) / cpu(&raw) - 1.0) * 100.0
            );
        }
    });
}
