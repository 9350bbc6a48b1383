//! Fleet load: many emulated portals (one `Fleet`), several worker processes, each portal's
//! records exported under its own bucket through the whole stack: tokens from a SQLite store
//! shared by the workers, a `Portals` registry per worker, the client's limiter per portal.
//!
//! `cargo bench -p b24-store --bench fleet` (knobs: B24_FLEET_PORTALS=1000,
//! B24_FLEET_WORKERS=4, B24_FLEET_RECORDS=150 per portal, B24_FLEET_BUCKET=2:0.5 as
//! capacity:drain per second, B24_FLEET_MAX_CONNECTIONS=512 the emulator serves at once,
//! B24_FLEET_IDLE the idle connections a worker keeps: unset, the `Portals` default of
//! `per_portal`). Prints one JSON object; the results are in BENCHMARKS.md.
//!
//! What is measured: the time until every portal is exported, against the least time the
//! buckets allow (a portal of `p` pages, client burst `b`, drain `y`/s needs `(p − b)/y` s);
//! the records per second; the latency of each portal's first call (never held by the bucket:
//! the server's work and the client's under full load), p50/p99; the RSS the workers grow by
//! per 1,000 portals held, and the emulator's; records lost and duplicated.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use b24_emulator::{fleet_member_id, Bucket, Emulator, ServerLimits};
use b24_runtime::{Access, ApiVersion, App, Portals, RateLimit, Secret, TokenStore, Tokens};
use b24_store::SqliteStore;
use serde_json::{json, Value};

const ENTITY_TYPE: u64 = 2;
const PAGE: u64 = 50;

type AnyError = Box<dyn std::error::Error + Send + Sync>;

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn bucket() -> (f64, f64) {
    let text = std::env::var("B24_FLEET_BUCKET").unwrap_or_else(|_| "2:0.5".into());
    let mut parts = text.split(':').map(|p| p.parse::<f64>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(x), Some(y)) if x >= 1.0 && y > 0.0 => (x, y),
        _ => (2.0, 0.5),
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() -> Result<(), AnyError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match std::env::var("B24_FLEET_WORKER").ok() {
        Some(k) => rt.block_on(worker(k.parse()?)),
        None => rt.block_on(parent()),
    }
}

async fn parent() -> Result<(), AnyError> {
    let portals: usize = env("B24_FLEET_PORTALS", 1000);
    let workers: usize = env("B24_FLEET_WORKERS", 4).max(1);
    let records: u64 = env("B24_FLEET_RECORDS", 150);
    let (capacity, drain) = bucket();
    let dir = std::env::temp_dir().join(format!("b24-fleet-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let db: PathBuf = dir.join("tokens.db");

    let max_connections: usize = env(
        "B24_FLEET_MAX_CONNECTIONS",
        ServerLimits::default().max_connections,
    );
    let rss_before = rss_kib();
    let fleet = Emulator::builder()
        .bucket(Some(Bucket {
            capacity,
            drain_per_sec: drain,
        }))
        .server_limits(ServerLimits {
            max_connections,
            ..ServerLimits::default()
        })
        .operating_limit(None)
        .start_fleet(portals)
        .await?;
    let store = SqliteStore::open(&db).await?;
    for portal in fleet.portals() {
        let rows = (1..=records).map(|k| json!({ "title": format!("record {k}") }));
        portal.insert_records("crm.item", &json!({ "entityTypeId": ENTITY_TYPE }), rows)?;
        let pair = portal.issue_tokens();
        let mut t = Tokens::new(pair.access_token, Some(Secret::new(pair.refresh_token)));
        t.member_id = Some(portal.member_id().to_owned());
        t.client_endpoint = Some(portal.rest_url());
        store.save(&t).await?;
    }
    let rss_emulator = rss_kib().saturating_sub(rss_before);
    let app = fleet.portals()[0].oauth_app();

    let started = Instant::now();
    let children: Vec<_> = (0..workers)
        .map(|k| {
            Command::new(std::env::current_exe()?)
                .env("B24_FLEET_WORKER", k.to_string())
                .env("B24_FLEET_WORKERS", workers.to_string())
                .env("B24_FLEET_PORTALS", portals.to_string())
                .env("B24_FLEET_RECORDS", records.to_string())
                .env("B24_FLEET_BUCKET", format!("{capacity}:{drain}"))
                .env("B24_FLEET_DB", &db)
                .env("B24_FLEET_TOKEN_URL", fleet.portals()[0].token_url())
                .env("B24_FLEET_CLIENT_ID", &app.client_id)
                .env("B24_FLEET_CLIENT_SECRET", &app.client_secret)
                .stdout(Stdio::piped())
                .spawn()
        })
        .collect::<Result<_, _>>()?;
    let outputs = tokio::task::spawn_blocking(move || {
        children
            .into_iter()
            .map(|c| c.wait_with_output())
            .collect::<Result<Vec<_>, _>>()
    })
    .await??;
    let elapsed = started.elapsed().as_secs_f64();
    let mut reports = Vec::new();
    for out in outputs {
        if !out.status.success() {
            return Err(format!("a worker failed: {}", out.status).into());
        }
        reports.push(serde_json::from_slice::<Value>(&out.stdout)?);
    }
    let sum = |k: &str| reports.iter().filter_map(|r| r[k].as_u64()).sum::<u64>();
    let mut first: Vec<f64> = reports
        .iter()
        .filter_map(|r| r["first_call_ms"].as_array())
        .flatten()
        .filter_map(Value::as_f64)
        .collect();
    first.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        first
            .get(((first.len() as f64 * p) as usize).min(first.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    let pages = records / PAGE + u64::from(records % PAGE != 0);
    let client_burst = RateLimit::custom(capacity as u32, drain).client_burst() as f64;
    let least = ((pages as f64 - client_burst).max(0.0)) / drain;
    let stats: u64 = fleet
        .portals()
        .iter()
        .map(|p| p.stats().query_limit_exceeded)
        .sum();
    let total = portals as u64 * records;
    let report = json!({
        "portals": portals,
        "workers": workers,
        "records_per_portal": records,
        "bucket": {"capacity": capacity, "drain_per_sec": drain},
        "emulator_max_connections": max_connections,
        "seconds": elapsed,
        "least_seconds_the_buckets_allow": least,
        "of_least": if least > 0.0 { elapsed / least } else { f64::NAN },
        "records_per_sec": total as f64 / elapsed,
        "records_per_sec_the_buckets_allow": if least > 0.0 { total as f64 / least } else { f64::NAN },
        "calls": sum("calls"),
        "records": sum("records"),
        "lost": sum("lost"),
        "duplicated": sum("duplicated"),
        "server_503s": stats,
        "first_call_ms_p50": pct(0.5),
        "first_call_ms_p99": pct(0.99),
        "worker_rss_kib_per_1000_portals": sum("rss_growth_kib") as f64 * 1000.0 / portals as f64,
        "emulator_rss_kib_per_1000_portals": rss_emulator as f64 * 1000.0 / portals as f64,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    drop(fleet);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

async fn worker(k: usize) -> Result<(), AnyError> {
    let var = |n: &str| std::env::var(n).map_err(|_| format!("{n} unset"));
    let workers: usize = env("B24_FLEET_WORKERS", 4);
    let portals: usize = env("B24_FLEET_PORTALS", 1000);
    let records: u64 = env("B24_FLEET_RECORDS", 150);
    let (capacity, drain) = bucket();
    let rss_before = rss_kib();
    let store: Arc<dyn TokenStore> = Arc::new(SqliteStore::open(var("B24_FLEET_DB")?).await?);
    let app = App::builder(var("B24_FLEET_CLIENT_ID")?, var("B24_FLEET_CLIENT_SECRET")?)
        .token_endpoint(var("B24_FLEET_TOKEN_URL")?)
        .store(store)
        .configure_clients(move |b| b.rate_limit(RateLimit::custom(capacity as u32, drain)))
        .build()?;
    let mine: Vec<String> = (0..portals)
        .filter(|i| i % workers == k)
        .map(fleet_member_id)
        .collect();
    let mut registry = Portals::builder(Arc::new(app));
    // B24_FLEET_IDLE: the most idle connections a worker keeps to the fleet (a large number
    // gives back reqwest's default, every one for 90 s).
    if let Some(idle) = std::env::var("B24_FLEET_IDLE")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(idle)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(65))
            .build()?;
        registry = registry.http(http);
    }
    let registry = Arc::new(
        registry
            .capacity(mine.len().max(1))
            .max_in_flight(256)
            .per_portal(1)
            .build(),
    );
    let tasks: Vec<_> = mine
        .iter()
        .cloned()
        .map(|member| {
            let registry = registry.clone();
            tokio::spawn(async move {
                registry
                    .run(&member, |client| async move {
                        let mut ids = Vec::new();
                        let mut first_ms = 0.0;
                        let mut calls = 0u64;
                        let mut start = 0u64;
                        loop {
                            let t = Instant::now();
                            let page = client
                                .call_raw(
                                    "crm.item.list",
                                    ApiVersion::V2,
                                    Access::Read,
                                    &json!({"entityTypeId": ENTITY_TYPE, "start": start, "order": {"id": "ASC"}}),
                                )
                                .await?;
                            if calls == 0 {
                                first_ms = t.elapsed().as_secs_f64() * 1000.0;
                            }
                            calls += 1;
                            if let Some(items) = page.result["items"].as_array() {
                                ids.extend(items.iter().filter_map(|i| i["id"].as_u64()));
                            }
                            match page.next {
                                Some(next) if next > start => start = next,
                                _ => break,
                            }
                        }
                        Ok::<_, AnyError>((ids, first_ms, calls))
                    })
                    .await
            })
        })
        .collect();
    let (mut got, mut lost, mut duplicated, mut calls) = (0u64, 0u64, 0u64, 0u64);
    let mut first = Vec::new();
    for t in tasks {
        let (ids, first_ms, n) = t.await???;
        let unique: HashSet<u64> = ids.iter().copied().collect();
        got += ids.len() as u64;
        duplicated += (ids.len() - unique.len()) as u64;
        lost += records.saturating_sub(unique.len() as u64);
        calls += n;
        first.push(first_ms);
    }
    let rss_growth = rss_kib().saturating_sub(rss_before);
    println!(
        "{}",
        json!({"records": got, "lost": lost, "duplicated": duplicated, "calls": calls,
               "first_call_ms": first, "rss_growth_kib": rss_growth, "portals_held": registry.len()})
    );
    Ok(())
}
