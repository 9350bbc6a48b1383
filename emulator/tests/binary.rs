//! The `b24-emulator` binary: starts on the project's docs, seeds, serves.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Kills the child when the test ends, however it ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `command` (the binary, maybe through a shell) with its output piped; returns it with
/// the webhook URL it prints and the number of methods it serves.
fn start(mut command: Command) -> (Child, String, usize) {
    let child = command
        .stdout(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut child = Child(child);
    let stdout = child.0.stdout.take().expect("stdout");
    let mut webhook = None;
    let mut methods = 0usize;
    let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
    for line in lines.by_ref() {
        if let Some(rest) = line.strip_prefix("b24-emulator: ") {
            methods = rest
                .split(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
        }
        if let Some(url) = line.strip_prefix("webhook: ") {
            webhook = Some(url.trim().to_string());
            break;
        }
    }
    // Keep draining what the binary prints after that.
    std::thread::spawn(move || lines.for_each(drop));
    let webhook = webhook.expect("the binary prints its webhook URL");
    (child, webhook, methods)
}

#[tokio::test]
async fn binary_serves_the_project_docs_with_seeded_records() {
    let mut command = Command::new(env!("CARGO_BIN_EXE_b24-emulator"));
    command.args(["--port", "0", "--seed", r#"crm.item:60:{"entityTypeId":2}"#]);
    let (_child, webhook, methods) = start(command);
    assert!(webhook.starts_with("http://127.0.0.1:") && webhook.ends_with("/rest/1/b24emulator/"));
    if methods == 0 {
        eprintln!("skipped: the loader found no methods in docs/");
        return;
    }
    let page: Value = reqwest::get(format!("{webhook}crm.item.list.json?entityTypeId=2"))
        .await
        .expect("answer")
        .json()
        .await
        .expect("json");
    assert_eq!(page["total"], 60);
    assert_eq!(page["next"], 50);
}

#[tokio::test]
async fn binary_takes_the_server_limits_from_its_flags() {
    let mut command = Command::new(env!("CARGO_BIN_EXE_b24-emulator"));
    command.args(["--port", "0", "--max-body-bytes", "4096"]);
    command.args(["--header-timeout", "5", "--body-timeout", "0.5"]);
    command.args(["--received-per-method", "10", "--received-bytes", "100000"]);
    let (_child, webhook, _) = start(command);
    let url = format!("{webhook}user.current.json");
    let client = reqwest::Client::new();
    let small = client.post(&url).body(vec![b' '; 4096]).send().await;
    assert_eq!(small.expect("answer").status().as_u16(), 200);
    let large = client.post(&url).body(vec![b' '; 4097]).send().await;
    assert_eq!(large.expect("answer").status().as_u16(), 413);

    let bad = Command::new(env!("CARGO_BIN_EXE_b24-emulator"))
        .args(["--header-timeout", "soon"])
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(2));
}

/// The CPU time (user and system) a process has used, in clock ticks of `/proc` (1/100 s).
#[cfg(target_os = "linux")]
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    // The fields after the command name (which may hold spaces) closes with `)`.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    field(11) + field(12)
}

#[cfg(target_os = "linux")]
fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |dir| dir.count())
}

/// Out of file descriptors, `accept` fails while the listener stays readable: the server must
/// wait instead of retrying at full speed, and serve again once descriptors are free. The
/// binary runs with at most 64 open files (through the shell's `ulimit`, so no other test
/// is starved) and gets 100 idle connections.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn out_of_file_descriptors_the_accept_loop_waits_then_serves_again() {
    const LIMIT: usize = 64;
    let mut command = Command::new("sh");
    command.args([
        "-c",
        &format!("ulimit -n {LIMIT} && exec \"$0\" \"$@\""),
        env!("CARGO_BIN_EXE_b24-emulator"),
        "--port",
        "0",
        "--max-connections",
        "1000",
    ]);
    let (child, webhook, _) = start(command);
    let pid = child.0.id();
    let addr = webhook
        .trim_start_matches("http://")
        .split('/')
        .next()
        .and_then(|a| a.parse::<std::net::SocketAddr>().ok())
        .expect("the webhook names an address");

    let held: Vec<std::net::TcpStream> = (0..100)
        .map(|_| {
            std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5))
                .expect("the kernel queues the connection")
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    while open_files(pid) < LIMIT && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    // (Descriptors inherited above the limit count too, so there may be more.)
    assert!(open_files(pid) >= LIMIT, "the server uses every descriptor");

    // Retrying at once keeps a core busy (about 100 ticks a second); waiting costs nothing.
    let before = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(1));
    let spent = cpu_ticks(pid) - before;
    assert!(
        spent < 25,
        "the accept loop spun: {spent} ticks of CPU in one second"
    );

    drop(held);
    let answer = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a client")
        .get(format!("{webhook}user.current.json"))
        .send()
        .await
        .expect("the server serves again");
    assert_eq!(answer.status().as_u16(), 200);
}
