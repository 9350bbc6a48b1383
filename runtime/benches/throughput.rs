//! Sustained throughput against a server-side leaky bucket, compared with the bucket's
//! theoretical maximum `X + Y·t`, and the 503s that reach the caller.
//!
//! `cargo bench -p b24-runtime --bench throughput -- --burst 50 --rate 2 --seconds 60 --workers 16`

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use b24_runtime::{Client, Error, RateLimit};
use common::item;

fn main() {
    let burst: u32 = common::arg("burst", 50);
    let rate: f64 = common::arg("rate", 2.0);
    let seconds: f64 = common::arg("seconds", 60.0);
    let workers: usize = common::arg("workers", 16);
    let rt = common::tokio_runtime();
    rt.block_on(async {
        let (addr, counters) = common::serve(Some(common::Bucket::new(burst, rate))).await;
        let base = format!("http://{addr}/rest/1/{}/", common::CODE);
        let client = Client::builder()
            .webhook(&base)
            .rate_limit(RateLimit::custom(burst, rate))
            .build()
            .expect("client");
        let ok = Arc::new(AtomicU64::new(0));
        let limited = Arc::new(AtomicU64::new(0));
        let other = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..workers {
            let (client, ok, limited, other, stop) = (
                client.clone(),
                ok.clone(),
                limited.clone(),
                other.clone(),
                stop.clone(),
            );
            tasks.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    match client
                        .call(&item::Request {
                            entity_type_id: 2,
                            id: 1,
                        })
                        .await
                    {
                        Ok(_) => ok.fetch_add(1, Ordering::Relaxed),
                        Err(Error::QueryLimitExceeded(_)) => {
                            limited.fetch_add(1, Ordering::Relaxed)
                        }
                        Err(_) => other.fetch_add(1, Ordering::Relaxed),
                    };
                }
            }));
        }
        tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
        stop.store(true, Ordering::Relaxed);
        // Requests admitted before the deadline still count; those started after it are
        // waiting in the meter and are cut off here.
        let served_at_deadline = counters.served.load(Ordering::Relaxed);
        let elapsed = start.elapsed().as_secs_f64();
        for t in tasks {
            t.abort();
        }
        let max = f64::from(burst) + rate * elapsed;
        println!("bucket X={burst} Y={rate}/s, {workers} workers, {elapsed:.1} s");
        println!("served by the server     : {served_at_deadline}");
        println!("theoretical maximum X+Y·t: {max:.1}");
        println!(
            "ratio                    : {:.2}%",
            served_at_deadline as f64 / max * 100.0
        );
        println!(
            "sustained rate after the burst: {:.3}/s of {rate}/s",
            (served_at_deadline as f64 - f64::from(burst)) / elapsed
        );
        println!(
            "503s sent by the server  : {}",
            counters.refused.load(Ordering::Relaxed)
        );
        println!(
            "503s reaching the caller : {}",
            limited.load(Ordering::Relaxed)
        );
        println!(
            "other errors             : {}",
            other.load(Ordering::Relaxed)
        );
        println!("calls completed (ok)     : {}", ok.load(Ordering::Relaxed));
    });
}
