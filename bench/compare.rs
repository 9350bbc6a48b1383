//! b24 against raw reqwest and against the Python peer `fast-bitrix24`, on the embedded emulator.
//!
//! Run by `bench/run.sh`, which builds it, makes the Python virtualenv and plots the results.
//! By hand:
//!
//! ```text
//! cargo bench --bench compare -- overhead [--calls 5000] [--rounds 5] [--out FILE]
//! cargo bench --bench compare -- export --records 100000 [--time-scale 1] [--ranges default,1,4]
//!     [--latency-ms 0]
//!     [--python PYTHON --peer bench/peer.py] [--peer-variants default,1] [--only b24|peer]
//!     [--out FILE]
//! ```
//!
//! `overhead`: `b24::crm::item::get::call` against a hand-written reqwest + serde_json call
//! decoding the same generated response type, both on one emulator with no limits.
//!
//! `export`: for each client a fresh emulator with the default bucket (50 requests, drained at 2
//! per emulated second) holding N `crm.item` records; the client exports them all. The emulator
//! is sampled every 20 ms (list pages served, 503s sent), and the records the client got are
//! checked against the stored ids (lost, duplicated). With `--time-scale S` the emulator runs S
//! emulated seconds per real second, and both clients are told the bucket drains `2·S` per real
//! second. `--latency-ms L` delays every answer by L real milliseconds (a round trip to a
//! real portal; default 0).
//!
//! Results are JSON on stdout (or in `--out`). A client that fails is reported in the JSON; the
//! program itself fails only when it cannot run (bad arguments, no emulator, no peer process).

use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use b24::crm::item;
use b24::{Client, Error, RateLimit};
use b24_emulator::{Bucket, Emulator, Faults};
use futures::StreamExt;
use serde_json::{json, Value};

type AnyError = Box<dyn std::error::Error + Send + Sync>;

/// Records in one list page, and pages chained in one batch call: records per HTTP request.
const PAGE: u64 = 50;
const PAGES_PER_BATCH: u64 = 50;
/// The `entityTypeId` the records are stored under (deals).
const ENTITY_TYPE: i64 = 2;
const SAMPLE_EVERY: Duration = Duration::from_millis(20);

fn main() -> Result<(), AnyError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo bench` passes `--bench` to harness-less benches; it is not ours.
    let args: Vec<String> = args.into_iter().filter(|a| a != "--bench").collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let report = match args.first().map(String::as_str) {
        Some("overhead") => runtime.block_on(overhead(&args))?,
        Some("export") => runtime.block_on(export(&args))?,
        _ => {
            return Err(
                "usage: compare overhead [--calls N] [--rounds R] [--out FILE]\n       \
                 compare export --records N [--time-scale S] [--ranges default|R,...] \
                 [--python PYTHON --peer PEER.py] [--peer-variants default,N] \
                 [--only b24|peer] [--out FILE]"
                    .into(),
            )
        }
    };
    let text = serde_json::to_string_pretty(&report)?;
    match option(&args, "out") {
        Some(path) => std::fs::write(path, text + "\n")?,
        None => println!("{text}"),
    }
    Ok(())
}

/// `--name value` from the arguments.
fn option<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    let flag = format!("--{name}");
    args.iter()
        .position(|a| *a == flag)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn number<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> Result<T, AnyError> {
    match option(args, name) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| format!("--{name}: not a valid number: {v}").into()),
    }
}

fn seed(emulator: &Emulator, records: u64) -> Result<(), AnyError> {
    let rows = (1..=records).map(|k| json!({ "title": format!("record {k}") }));
    emulator.insert_records("crm.item", &json!({ "entityTypeId": ENTITY_TYPE }), rows)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Per-call overhead

/// What a hand-written client decodes: the generated `result` type inside the envelope.
#[derive(serde::Deserialize)]
struct RawEnvelope {
    #[allow(dead_code)]
    result: item::get::Response,
}

async fn overhead(args: &[String]) -> Result<Value, AnyError> {
    let calls: usize = number(args, "calls", 3_000)?;
    let rounds: usize = number(args, "rounds", 10)?;
    let emulator = Emulator::builder()
        .bucket(None)
        .operating_limit(None)
        .start()
        .await?;
    seed(&emulator, 1)?;
    let client = Client::builder()
        .webhook(emulator.webhook_url())
        .no_rate_limit()
        .build()?;
    let http = reqwest::Client::new();
    let url = format!("{}{}.json", emulator.webhook_url(), item::get::METHOD);
    let request = item::get::Request::new(ENTITY_TYPE, 1);

    let raw_round = |n: usize| {
        let (http, url, request) = (http.clone(), url.clone(), request.clone());
        async move {
            let started = Instant::now();
            for _ in 0..n {
                let body = serde_json::to_vec(&request)?;
                let response = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await?;
                let bytes = response.bytes().await?;
                let envelope: RawEnvelope = serde_json::from_slice(&bytes)?;
                std::hint::black_box(envelope);
            }
            Ok::<_, AnyError>(started.elapsed())
        }
    };
    let b24_round = |n: usize| {
        let (client, request) = (client.clone(), request.clone());
        async move {
            let started = Instant::now();
            for _ in 0..n {
                std::hint::black_box(item::get::call(&client, &request).await?);
            }
            Ok::<_, AnyError>(started.elapsed())
        }
    };
    // Warm up connections, allocators and the emulator.
    raw_round(calls / 5).await?;
    b24_round(calls / 5).await?;
    // Rounds alternate, so a burst of load from elsewhere hits both sides alike.
    let (mut raw, mut b24) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        raw.push(measure(calls, raw_round(calls)).await?);
        b24.push(measure(calls, b24_round(calls)).await?);
    }
    let wall = |v: &[(f64, f64)]| v.iter().map(|r| r.0).collect::<Vec<_>>();
    let cpu = |v: &[(f64, f64)]| v.iter().map(|r| r.1).collect::<Vec<_>>();
    let ratio = |b: f64, r: f64| if r > 0.0 { b / r } else { f64::NAN };
    Ok(json!({
        "method": item::get::METHOD,
        "calls_per_round": calls,
        "rounds": rounds,
        "raw_wall_us": wall(&raw),
        "b24_wall_us": wall(&b24),
        "raw_cpu_us": cpu(&raw),
        "b24_cpu_us": cpu(&b24),
        "raw_best_us": best(&wall(&raw)),
        "b24_best_us": best(&wall(&b24)),
        "ratio_best": ratio(best(&wall(&b24)), best(&wall(&raw))),
        "ratio_median": ratio(median(&wall(&b24)), median(&wall(&raw))),
        "raw_cpu_best_us": best(&cpu(&raw)),
        "b24_cpu_best_us": best(&cpu(&b24)),
        "ratio_cpu_best": ratio(best(&cpu(&b24)), best(&cpu(&raw))),
    }))
}

/// Runs one round; returns (wall µs per call, CPU µs per call of this whole process).
async fn measure(
    calls: usize,
    round: impl std::future::Future<Output = Result<Duration, AnyError>>,
) -> Result<(f64, f64), AnyError> {
    let cpu_before = cpu_seconds();
    let wall = round.await?;
    let cpu = cpu_seconds() - cpu_before;
    let per_call = |seconds: f64| seconds * 1e6 / calls as f64;
    Ok((per_call(wall.as_secs_f64()), per_call(cpu)))
}

/// CPU seconds this process has used (user + system, all threads; Linux `/proc`, else 0).
/// The emulator runs in this process too, so it is the client's cost plus the same server cost.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    // utime and stime are fields 14 and 15 of the file: 11 and 12 after the name.
    ticks(11).unwrap_or(0.0) / 100.0 + ticks(12).unwrap_or(0.0) / 100.0
}

/// The fastest round: on a shared machine noise only ever adds time.
fn best(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

fn median(v: &[f64]) -> f64 {
    let mut sorted = v.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
}

// ---------------------------------------------------------------------------------------------
// Bulk export

/// One reading of the emulator's counters, `t` seconds after the client started.
struct Sample {
    t: f64,
    list_runs: u64,
    requests: u64,
    refused_503: u64,
}

/// Samples the emulator until stopped, on a thread of its own: the async runtime is busy
/// serving the emulator (and running b24), and a sampling task there would miss its ticks.
struct Sampler {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Vec<Sample>>,
}

impl Sampler {
    fn start(emulator: Arc<Emulator>, started: Instant) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut samples = Vec::new();
            loop {
                let stats = emulator.stats();
                samples.push(Sample {
                    t: started.elapsed().as_secs_f64(),
                    list_runs: emulator.runs(item::list::METHOD),
                    requests: stats.requests,
                    refused_503: stats.query_limit_exceeded,
                });
                if flag.load(Ordering::Relaxed) {
                    return samples;
                }
                std::thread::sleep(SAMPLE_EVERY);
            }
        });
        Sampler { stop, thread }
    }

    fn finish(self) -> Result<Vec<Sample>, AnyError> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .join()
            .map_err(|_| "the sampling thread panicked".into())
    }
}

/// Counts how often each stored id (1..=records) came back.
struct Tally {
    seen: Vec<u8>,
    outside: u64,
}

impl Tally {
    fn new(records: u64) -> Tally {
        Tally {
            seen: vec![0; records as usize + 1],
            outside: 0,
        }
    }

    fn add(&mut self, id: i64) {
        match usize::try_from(id)
            .ok()
            .filter(|&i| i >= 1)
            .and_then(|i| self.seen.get_mut(i))
        {
            Some(n) => *n = n.saturating_add(1),
            None => self.outside += 1,
        }
    }

    fn summary(&self) -> Value {
        let got: u64 = self.seen.iter().map(|&n| u64::from(n)).sum::<u64>() + self.outside;
        let distinct = self.seen.iter().skip(1).filter(|&&n| n > 0).count() as u64;
        let lost = (self.seen.len() as u64 - 1) - distinct;
        json!({
            "records_received": got,
            "lost": lost,
            "duplicated": got - distinct - self.outside,
            "unknown_ids": self.outside,
        })
    }
}

/// A fresh emulator with the default bucket at this time scale, holding `records` records,
/// answering after `latency`.
async fn seeded_emulator(
    records: u64,
    scale: f64,
    latency: Duration,
) -> Result<Arc<Emulator>, AnyError> {
    let emulator = Emulator::builder()
        .bucket(Some(Bucket::STANDARD))
        .time_scale(scale)
        .start()
        .await?;
    seed(&emulator, records)?;
    emulator.set_faults(Faults {
        latency,
        ..Faults::default()
    });
    Ok(Arc::new(emulator))
}

async fn export(args: &[String]) -> Result<Value, AnyError> {
    let records: u64 = number(args, "records", 100_000)?;
    let scale: f64 = number(args, "time-scale", 1.0)?;
    let latency_ms: u64 = number(args, "latency-ms", 0)?;
    if records == 0 || !(scale.is_finite() && scale > 0.0) {
        return Err("--records must be at least 1 and --time-scale positive".into());
    }
    let latency = Duration::from_millis(latency_ms);
    let bucket = Bucket::STANDARD;
    // Every record travels in some request, at most PAGE·PAGES_PER_BATCH per request; the
    // bucket lets `capacity` requests through at once, then `drain_per_sec` per second.
    let min_requests = records.div_ceil(PAGE * PAGES_PER_BATCH);
    let min_emulated = (min_requests as f64 - bucket.capacity).max(0.0) / bucket.drain_per_sec;

    let only = option(args, "only");
    let mut b24 = Vec::new();
    if only != Some("peer") {
        // One run per value of `--ranges`: ID ranges exported in parallel, `default` for the
        // export's own choice.
        for ranges in option(args, "ranges").unwrap_or("default").split(',') {
            let ranges: Option<usize> =
                match ranges {
                    "default" => None,
                    n => Some(n.parse().map_err(|_| {
                        format!("--ranges: `{n}` is neither `default` nor a number")
                    })?),
                };
            b24.push(run_b24(records, scale, latency, ranges).await?);
        }
    }
    let mut peers = Vec::new();
    if let (false, Some(python), Some(script)) = (
        only == Some("b24"),
        option(args, "python"),
        option(args, "peer"),
    ) {
        // `default`: the library as shipped; a number N: inside its `slow(N)` context.
        for variant in option(args, "peer-variants")
            .unwrap_or("default")
            .split(',')
        {
            let concurrency = match variant {
                "default" => None,
                n => Some(n.parse::<u32>().map_err(|_| {
                    format!("--peer-variants: `{n}` is neither `default` nor a number")
                })?),
            };
            peers.push(run_peer(records, scale, latency, python, script, concurrency).await?);
        }
    }
    Ok(json!({
        "records": records,
        "time_scale": scale,
        "latency_ms": latency_ms,
        "bucket": { "capacity": bucket.capacity, "drain_per_emulated_second": bucket.drain_per_sec },
        "records_per_request": PAGE * PAGES_PER_BATCH,
        "min_requests": min_requests,
        "min_seconds_emulated": min_emulated,
        "min_seconds_real": min_emulated / scale,
        "b24": b24,
        "fast_bitrix24": peers,
    }))
}

fn timeline(samples: &[Sample], records: u64) -> Value {
    let rows: Vec<Value> = samples
        .iter()
        .map(|s| {
            json!([
                (s.t * 1000.0).round() / 1000.0,
                (s.list_runs * PAGE).min(records),
                s.requests,
                s.refused_503
            ])
        })
        .collect();
    json!({ "columns": ["seconds", "records_served", "requests", "refused_503"], "rows": rows })
}

async fn run_b24(
    records: u64,
    scale: f64,
    latency: Duration,
    ranges: Option<usize>,
) -> Result<Value, AnyError> {
    let emulator = seeded_emulator(records, scale, latency).await?;
    let client = Client::builder()
        .webhook(emulator.webhook_url())
        .rate_limit(RateLimit::custom(
            bucket_capacity(),
            Bucket::STANDARD.drain_per_sec * scale,
        ))
        .build()?;
    let request = item::list::Request {
        select: Some(vec!["id".into(), "title".into()]),
        ..item::list::Request::new(ENTITY_TYPE)
    };
    let received = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let sampler = Sampler::start(Arc::clone(&emulator), started);
    let mut tally = Tally::new(records);
    let mut errors: Vec<String> = Vec::new();
    let mut limited_at_caller = 0u64;
    let export = client.export(&request);
    let export = match ranges {
        Some(n) => export.ranges(n),
        None => export,
    };
    let mut stream = std::pin::pin!(export.stream());
    while let Some(record) = stream.next().await {
        match record {
            Ok(item) => {
                tally.add(item.id.map_or(-1, |id| id.get()));
                received.fetch_add(1, Ordering::Relaxed);
            }
            Err(Error::QueryLimitExceeded(_)) => limited_at_caller += 1,
            Err(e) => errors.push(e.to_string()),
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let samples = sampler.finish()?;
    let stats = emulator.stats();
    let mut result = tally.summary();
    let extra = json!({
        "client": format!(
            "b24 {} (Client::export, {})",
            env!("CARGO_PKG_VERSION"),
            ranges.map_or("automatic ranges".to_owned(), |n| format!("ranges({n})"))
        ),
        "seconds": seconds,
        "requests": stats.requests,
        "refused_503": stats.query_limit_exceeded,
        "refused_429": stats.operation_time_limit,
        "503_reaching_caller": limited_at_caller,
        "errors": errors,
        "timeline": timeline(&samples, records),
    });
    merge(&mut result, extra);
    Ok(result)
}

fn bucket_capacity() -> u32 {
    Bucket::STANDARD.capacity as u32
}

async fn run_peer(
    records: u64,
    scale: f64,
    latency: Duration,
    python: &str,
    script: &str,
    concurrency: Option<u32>,
) -> Result<Value, AnyError> {
    let emulator = seeded_emulator(records, scale, latency).await?;
    let started = Instant::now();
    let sampler = Sampler::start(Arc::clone(&emulator), started);
    let mut command = tokio::process::Command::new(python);
    command
        .arg(script)
        .args(["--webhook", &emulator.webhook_url()])
        .args(["--records", &records.to_string()])
        .args(["--entity-type", &ENTITY_TYPE.to_string()])
        .args(["--pool", &bucket_capacity().to_string()])
        .args([
            "--rate",
            &(Bucket::STANDARD.drain_per_sec * scale).to_string(),
        ]);
    if let Some(n) = concurrency {
        command.args(["--concurrency", &n.to_string()]);
    }
    let output = command
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .await
        .map_err(|e| format!("cannot start the peer `{python} {script}`: {e}"))?;
    let wall = started.elapsed().as_secs_f64();
    let samples = sampler.finish()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut result: Value = stdout
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str(line).ok())
        .ok_or_else(|| {
            format!(
                "the peer printed no JSON result (exit {:?}): {}",
                output.status.code(),
                stdout.chars().take(2000).collect::<String>()
            )
        })?;
    let stats = emulator.stats();
    let extra = json!({
        "wall_seconds_with_startup": wall,
        "requests": stats.requests,
        "refused_503": stats.query_limit_exceeded,
        "refused_429": stats.operation_time_limit,
        "timeline": timeline(&samples, records),
    });
    merge(&mut result, extra);
    Ok(result)
}

fn merge(into: &mut Value, from: Value) {
    if let (Value::Object(into), Value::Object(from)) = (into, from) {
        into.extend(from);
    }
}
