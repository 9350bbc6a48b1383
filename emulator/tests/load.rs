//! A test gone wrong: huge bodies, loops of large calls, connections that send nothing or half a
//! request, more connections than the server serves. Every one meets a limit, on loopback.

mod common;

use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Far longer than any limit under test: reaching it means the server never acted.
const PATIENCE: Duration = Duration::from_secs(10);

/// A short limit, so the tests are quick.
const SHORT: Duration = Duration::from_millis(300);

fn status_of(answer: &[u8]) -> Option<u16> {
    let text = String::from_utf8_lossy(answer);
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

fn json_of(answer: &[u8]) -> Value {
    let text = String::from_utf8_lossy(answer);
    let body = text.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    serde_json::from_str(body).unwrap_or(Value::Null)
}

/// Reads until the server closes the connection; panics when it keeps it open past `PATIENCE`.
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut answer = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut answer))
        .await
        .expect("the server closes the connection")
        .expect("the connection reads");
    answer
}

/// Reads one answer with a small body (no more than one read's worth after the head).
async fn read_answer(stream: &mut TcpStream) -> Vec<u8> {
    let mut answer = vec![0; 64 * 1024];
    let n = tokio::time::timeout(PATIENCE, stream.read(&mut answer))
        .await
        .expect("an answer comes")
        .expect("the connection reads");
    answer.truncate(n);
    answer
}

fn get_request(emulator: &b24_emulator::Emulator) -> String {
    let path = emulator.webhook_url().replace(emulator.base_url(), "");
    format!("GET {path}user.current.json HTTP/1.1\r\nHost: localhost\r\n\r\n")
}

#[tokio::test]
async fn a_body_over_the_limit_gets_413_and_is_never_run_or_kept() {
    let emulator = common::start().await;
    assert_eq!(emulator.server_limits().max_body_bytes, 32 << 20);
    let body = bytes::Bytes::from(vec![b' '; 50 << 20]);
    let url = format!("{}user.current.json", emulator.webhook_url());
    for _ in 0..10 {
        let response = common::client()
            .post(&url)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .expect("the 413 reaches the client");
        assert_eq!(response.status().as_u16(), 413);
        let error: Value = response.json().await.expect("a JSON error");
        assert_eq!(error["error"], "REQUEST_ENTITY_TOO_LARGE");
    }
    // REST 3.0 answers in its own error shape.
    let response = common::client()
        .post(format!("{}tasks.task.add", emulator.webhook_url_v3()))
        .body(body.clone())
        .send()
        .await
        .expect("the 413 reaches the client");
    assert_eq!(response.status().as_u16(), 413);
    let error: Value = response.json().await.expect("a JSON error");
    assert_eq!(error["error"]["code"], "REQUEST_ENTITY_TOO_LARGE");

    assert_eq!(emulator.stats().body_too_large, 11);
    assert_eq!(emulator.stats().requests, 0);
    assert!(emulator.received("user.current").is_empty());
}

#[tokio::test]
async fn a_client_that_sends_the_whole_body_before_reading_gets_the_413() {
    let emulator = common::start().await;
    let mut stream = TcpStream::connect(emulator.addr()).await.expect("connects");
    let path = emulator.webhook_url().replace(emulator.base_url(), "");
    let body = vec![b' '; 50 << 20];
    let head = format!(
        "POST {path}user.current.json HTTP/1.1\r\nHost: localhost\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("writes");
    // As Python's http.client does: the server answers at once, then reads and drops the rest.
    tokio::time::timeout(PATIENCE, stream.write_all(&body))
        .await
        .expect("the server reads the body")
        .expect("the server does not reset the connection while the body is sent");
    let answer = read_until_closed(&mut stream).await;
    assert_eq!(status_of(&answer), Some(413));
    assert_eq!(json_of(&answer)["error"], "REQUEST_ENTITY_TOO_LARGE");
}

#[tokio::test]
async fn a_streamed_body_is_cut_at_the_limit() {
    let emulator = common::builder()
        .max_body_bytes(1 << 20)
        .start()
        .await
        .expect("starts");
    let mut stream = TcpStream::connect(emulator.addr()).await.expect("connects");
    let path = emulator.webhook_url().replace(emulator.base_url(), "");
    let head = format!(
        "POST {path}user.current.json HTTP/1.1\r\nHost: localhost\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("writes");
    // 64 KiB chunks up to 1 GiB, the end never announced: the server must answer on its own.
    let chunk = format!("10000\r\n{}\r\n", " ".repeat(0x10000));
    let (mut reader, mut writer) = stream.into_split();
    let sender = tokio::spawn(async move {
        for _ in 0..(1 << 14) {
            if writer.write_all(chunk.as_bytes()).await.is_err() {
                break;
            }
        }
    });
    let mut answer = vec![0; 4096];
    let n = tokio::time::timeout(PATIENCE, reader.read(&mut answer))
        .await
        .expect("an answer comes while the body is still sent")
        .expect("reads");
    sender.abort();
    answer.truncate(n);
    assert_eq!(status_of(&answer), Some(413), "{answer:?}");
    assert_eq!(json_of(&answer)["error"], "REQUEST_ENTITY_TOO_LARGE");
    assert_eq!(emulator.stats().body_too_large, 1);
}

#[tokio::test]
async fn kept_parameters_stay_within_the_byte_budget() {
    let emulator = common::start().await;
    let budget = emulator.server_limits().received_bytes_per_method;
    assert_eq!(budget, 8 << 20);
    let big = |fill: char, len: usize| json!({ "payload": fill.to_string().repeat(len) });
    // Twenty calls of 1 MiB each: only the latest that fit in 8 MiB are kept.
    for i in 0..20u8 {
        let (status, _) = common::call(
            &emulator,
            "user.current",
            big(char::from(b'a' + i), 1 << 20),
        )
        .await;
        assert_eq!(status, 200);
    }
    let kept = emulator.received("user.current");
    let kept_bytes: usize = kept
        .iter()
        .map(|v| serde_json::to_vec(v).map_or(0, |j| j.len()))
        .sum();
    assert!(kept_bytes <= budget, "{kept_bytes} bytes kept");
    assert_eq!(kept.len(), 7);
    let last = kept
        .last()
        .and_then(|v| v["payload"].as_str())
        .unwrap_or("");
    assert!(last.starts_with('t') && last.len() == 1 << 20);
    assert_eq!(emulator.stats().received_dropped, 0);

    // One call larger than the whole budget leaves its size, not its parameters.
    let (status, _) = common::call(&emulator, "user.current", big('z', 10 << 20)).await;
    assert_eq!(status, 200);
    let kept = emulator.received("user.current");
    let bytes = (10 << 20) + r#"{"payload":""}"#.len();
    assert_eq!(
        kept.last(),
        Some(&json!({ "b24_emulator_dropped_bytes": bytes }))
    );
    assert_eq!(emulator.stats().received_dropped, 1);
    assert_eq!(emulator.runs("user.current"), 21);
}

#[tokio::test]
async fn a_connection_that_sends_nothing_or_half_a_head_is_closed() {
    let emulator = common::builder()
        .header_timeout(Some(SHORT))
        .start()
        .await
        .expect("starts");

    let mut silent = TcpStream::connect(emulator.addr()).await.expect("connects");
    read_until_closed(&mut silent).await;

    let mut slowloris = TcpStream::connect(emulator.addr()).await.expect("connects");
    let request = get_request(&emulator);
    let half = request.get(..request.len() - 10).unwrap_or_default();
    slowloris.write_all(half.as_bytes()).await.expect("writes");
    read_until_closed(&mut slowloris).await;

    // Idle between requests counts too: the keep-alive connection closes after an answer.
    let mut idle = TcpStream::connect(emulator.addr()).await.expect("connects");
    idle.write_all(request.as_bytes()).await.expect("writes");
    let answer = read_until_closed(&mut idle).await;
    assert_eq!(status_of(&answer), Some(200));
    assert_eq!(emulator.stats().requests, 1);
}

#[tokio::test]
async fn a_stalled_body_gets_408_within_the_body_timeout() {
    let emulator = common::builder()
        .body_timeout(Some(SHORT))
        .start()
        .await
        .expect("starts");
    let mut stream = TcpStream::connect(emulator.addr()).await.expect("connects");
    let path = emulator.webhook_url().replace(emulator.base_url(), "");
    let head = format!(
        "POST {path}user.current.json HTTP/1.1\r\nHost: localhost\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"a\":"
    );
    stream.write_all(head.as_bytes()).await.expect("writes");
    let answer = read_until_closed(&mut stream).await;
    assert_eq!(status_of(&answer), Some(408));
    assert_eq!(json_of(&answer)["error"], "REQUEST_TIMEOUT");
    assert_eq!(emulator.stats().requests, 0);
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_for_a_free_one() {
    let emulator = common::builder()
        .max_connections(2)
        .header_timeout(None)
        .start()
        .await
        .expect("starts");
    let request = get_request(&emulator);
    // Two keep-alive connections, each answered once, hold both slots.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(emulator.addr()).await.expect("connects");
        stream.write_all(request.as_bytes()).await.expect("writes");
        assert_eq!(status_of(&read_answer(&mut stream).await), Some(200));
        held.push(stream);
    }
    // The kernel queues a third connection, but the server does not take it...
    let mut third = TcpStream::connect(emulator.addr()).await.expect("connects");
    third.write_all(request.as_bytes()).await.expect("writes");
    let mut byte = [0; 1];
    let early = tokio::time::timeout(SHORT, third.peek(&mut byte)).await;
    assert!(early.is_err(), "a third connection was served");
    // ...until one of the two closes.
    drop(held.pop());
    assert_eq!(status_of(&read_answer(&mut third).await), Some(200));
    assert_eq!(emulator.stats().requests, 3);
}
