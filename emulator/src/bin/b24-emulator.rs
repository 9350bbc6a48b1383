//! `b24-emulator`: serve the Bitrix24 REST API of a docs tree on loopback.
//!
//! ```text
//! b24-emulator [--port 8080] [--docs DIR] [--user U] [--code C] [--time-scale S] [--no-limits]
//!              [--seed PREFIX:N[:PARTITION_JSON]]... [--max-body-bytes N] [--max-connections N]
//!              [--header-timeout SECS] [--body-timeout SECS] [--received-per-method N]
//!              [--received-bytes N]
//! ```

#![forbid(unsafe_code)]

use std::io::Write;
use std::process::ExitCode;

/// Prints a line to stdout; a closed stdout (a reader that went away) is not an error.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

use std::time::Duration;

use b24_emulator::{Emulator, ServerLimits};

const USAGE: &str = "\
usage: b24-emulator [--port PORT] [--docs DIR] [--user U] [--code C] [--time-scale S] [--no-limits]
                    [--seed PREFIX:N[:PARTITION_JSON]]... [--max-body-bytes N]
                    [--max-connections N] [--header-timeout SECS] [--body-timeout SECS]
                    [--received-per-method N] [--received-bytes N]

  --port PORT              port on 127.0.0.1 (default 8080; 0 for any free port)
  --docs DIR               docs folder or page to serve (default: the project's docs/)
  --user U                 accept webhooks of this user only (default 1)
  --code C                 accept this webhook code only (default: any code)
  --time-scale S           emulated seconds per real second (default 1)
  --no-limits              no leaky bucket and no operating budget
  --seed SPEC              store N records {\"title\": \"record K\"} in a family before serving, e.g.
                           --seed 'crm.item:100000:{\"entityTypeId\":2}' (repeatable)
  --max-body-bytes N       largest request body; larger ones get 413 (default 33554432)
  --max-connections N      connections served at once; more wait (default 512)
  --header-timeout SECS    time for a request head, idle time between requests included;
                           0 for no limit (default 30)
  --body-timeout SECS      time for a request body once its head arrived; 0 for no limit
                           (default 30)
  --received-per-method N  runs of each method whose parameters are kept (default 100)
  --received-bytes N       bytes of parameters kept per method (default 8388608)";

struct Options {
    port: u16,
    docs: Option<String>,
    user: Option<String>,
    code: Option<String>,
    time_scale: f64,
    no_limits: bool,
    seeds: Vec<Seed>,
    server: ServerLimits,
}

/// Records to store before serving.
struct Seed {
    prefix: String,
    count: usize,
    partition: serde_json::Value,
}

fn parse_seed(spec: &str) -> Result<Seed, String> {
    let mut parts = spec.splitn(3, ':');
    let prefix = parts.next().unwrap_or_default().to_string();
    let count = parts
        .next()
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("--seed `{spec}`: expected PREFIX:N[:PARTITION_JSON]"))?;
    let partition = match parts.next() {
        Some(json) => serde_json::from_str(json)
            .map_err(|e| format!("--seed `{spec}`: the partition is not JSON: {e}"))?,
        None => serde_json::json!({}),
    };
    Ok(Seed {
        prefix,
        count,
        partition,
    })
}

fn count(flag: &str, value: &str) -> Result<usize, String> {
    value
        .parse()
        .map_err(|_| format!("{flag} needs a whole number"))
}

/// Seconds; 0 means no limit.
fn timeout(flag: &str, value: &str) -> Result<Option<Duration>, String> {
    let secs: f64 = value
        .parse()
        .ok()
        .filter(|s: &f64| s.is_finite() && *s >= 0.0)
        .ok_or_else(|| format!("{flag} needs a number of seconds (0 for no limit)"))?;
    Ok((secs > 0.0).then(|| Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX)))
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        port: 8080,
        docs: None,
        user: None,
        code: None,
        time_scale: 1.0,
        no_limits: false,
        seeds: Vec::new(),
        server: ServerLimits::default(),
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .cloned()
                .ok_or_else(|| format!("{arg} needs a value"))
        };
        match arg.as_str() {
            "--port" => {
                options.port = value()?
                    .parse()
                    .map_err(|_| "--port needs a number from 0 to 65535".to_string())?
            }
            "--docs" => options.docs = Some(value()?),
            "--user" => options.user = Some(value()?),
            "--code" => options.code = Some(value()?),
            "--time-scale" => {
                options.time_scale = value()?
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s > 0.0)
                    .ok_or("--time-scale needs a positive number")?
            }
            "--no-limits" => options.no_limits = true,
            "--seed" => options.seeds.push(parse_seed(&value()?)?),
            "--max-body-bytes" => options.server.max_body_bytes = count(arg, &value()?)?,
            "--max-connections" => options.server.max_connections = count(arg, &value()?)?,
            "--header-timeout" => options.server.header_timeout = timeout(arg, &value()?)?,
            "--body-timeout" => options.server.body_timeout = timeout(arg, &value()?)?,
            "--received-per-method" => options.server.received_per_method = count(arg, &value()?)?,
            "--received-bytes" => options.server.received_bytes_per_method = count(arg, &value()?)?,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse(&args) {
        Ok(options) => options,
        Err(message) if message.is_empty() => {
            say!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("b24-emulator: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut builder = Emulator::builder()
        .port(options.port)
        .time_scale(options.time_scale)
        .server_limits(options.server);
    if let Some(docs) = &options.docs {
        builder = builder.docs(docs);
    }
    if let Some(user) = options.user {
        builder = builder.webhook_user(user);
    }
    let fixed_code = options.code.is_some();
    if let Some(code) = options.code {
        builder = builder.webhook_code(code);
    }
    if options.no_limits {
        builder = builder.bucket(None).operating_limit(None);
    }
    let emulator = match builder.start().await {
        Ok(emulator) => emulator,
        Err(error) => {
            eprintln!(
                "b24-emulator: cannot listen on port {}: {error}",
                options.port
            );
            return ExitCode::FAILURE;
        }
    };
    for seed in &options.seeds {
        let records = (0..seed.count).map(|k| serde_json::json!({"title": format!("record {k}")}));
        if let Err(error) = emulator.insert_records(&seed.prefix, &seed.partition, records) {
            eprintln!("b24-emulator: --seed {}: {error}", seed.prefix);
            return ExitCode::FAILURE;
        }
        say!("seeded {} records in {}", seed.count, seed.prefix);
    }
    let api = emulator.api();
    let docs = options
        .docs
        .unwrap_or_else(|| b24_emulator::default_docs_dir().display().to_string());
    say!(
        "b24-emulator: {} methods from {docs} ({} diagnostics), {} entity families",
        api.methods.len(),
        api.diagnostics.len(),
        emulator.families().len()
    );
    if fixed_code {
        say!(
            "webhook: {}/rest/{{user}}/<your code>/",
            emulator.base_url()
        );
    } else {
        say!("webhook: {}", emulator.webhook_url());
    }
    say!(
        "oauth:   {} (token endpoint {})",
        emulator.rest_url(),
        emulator.token_url()
    );
    std::future::pending::<()>().await;
    ExitCode::SUCCESS
}
