//! The `b24-emulator` binary: starts on the project's docs, seeds, serves.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;

/// Kills the child when the test ends, however it ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn binary_serves_the_project_docs_with_seeded_records() {
    let child = Command::new(env!("CARGO_BIN_EXE_b24-emulator"))
        .args(["--port", "0", "--seed", r#"crm.item:60:{"entityTypeId":2}"#])
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
