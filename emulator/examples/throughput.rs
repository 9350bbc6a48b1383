//! How fast the emulator answers, so benchmarks know it is not their bottleneck.
//!
//! ```text
//! cargo run --release -p b24-emulator --example throughput [-- CALLS RECORDS]
//! ```
//!
//! Serves the project's `docs/` with no limits and measures, with one keep-alive reqwest client:
//! sequential calls of `user.current`, the same from 8 concurrent tasks, and an export of
//! RECORDS seeded `crm.item` records by batches of 50 `crm.item.list` pages (`start=-1`, `>id`).

use std::time::Instant;

use b24_emulator::Emulator;
use serde_json::{json, Map, Value};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let calls: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5_000);
    let records: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let emulator = Emulator::builder()
        .bucket(None)
        .operating_limit(None)
        .start()
        .await?;
    if emulator.api().methods.is_empty() {
        return Err("the docs loaded no methods".into());
    }
    let client = reqwest::Client::new();
    let url = format!("{}user.current.json", emulator.webhook_url());

    let began = Instant::now();
    for _ in 0..calls {
        client.post(&url).send().await?.bytes().await?;
    }
    let secs = began.elapsed().as_secs_f64();
    println!(
        "sequential: {calls} calls in {secs:.2} s = {:.0} calls/s, {:.1} µs per call",
        calls as f64 / secs,
        secs * 1e6 / calls as f64
    );

    let began = Instant::now();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            let url = url.clone();
            tokio::spawn(async move {
                for _ in 0..calls / 8 {
                    client.post(&url).send().await?.bytes().await?;
                }
                Ok::<_, reqwest::Error>(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    let secs = began.elapsed().as_secs_f64();
    println!(
        "8 concurrent: {} calls in {secs:.2} s = {:.0} calls/s",
        calls / 8 * 8,
        (calls / 8 * 8) as f64 / secs
    );

    let seeded = (0..records).map(|i| json!({"title": format!("record {i}")}));
    emulator.insert_records("crm.item", &json!({"entityTypeId": 2}), seeded)?;
    let batch_url = format!("{}batch.json", emulator.webhook_url());
    let began = Instant::now();
    let (mut last_id, mut seen, mut requests) = (0i64, 0usize, 0usize);
    loop {
        let cmd: Map<String, Value> = (0..50)
            .map(|p| {
                let after = if p == 0 {
                    last_id.to_string()
                } else {
                    format!("$result[p{}][items][49][id]", p - 1)
                };
                let query = format!("crm.item.list?entityTypeId=2&start=-1&order[id]=ASC&filter[>id]={after}&select[]=id&select[]=title");
                (format!("p{p}"), json!(query))
            })
            .collect();
        let body: Value = client
            .post(&batch_url)
            .json(&json!({"halt": 0, "cmd": cmd}))
            .send()
            .await?
            .json()
            .await?;
        requests += 1;
        let mut page_ids = Vec::new();
        for p in 0..50 {
            let items = body["result"]["result"][format!("p{p}")]["items"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let full = items.len() == 50;
            page_ids.extend(items.iter().filter_map(|i| i["id"].as_i64()));
            if !full {
                break;
            }
        }
        seen += page_ids.len();
        match page_ids.last() {
            Some(&id) if page_ids.len() == 2_500 => last_id = id,
            _ => break,
        }
    }
    let secs = began.elapsed().as_secs_f64();
    println!(
        "export: {seen} of {records} records in {requests} batch calls, {secs:.2} s = {:.0} records/s",
        seen as f64 / secs
    );
    Ok(())
}
