//! Incoming event bodies are attacker-controlled: bounded depth, fields and size, linear
//! parsing, the token checked before the rest is built, and no secret in `Debug` or errors.
//! (A test binary of its own: before the parser was bounded, the first test aborted it.)

use std::time::Duration;

use b24_runtime::events::{Event, EventError};
use b24_runtime::query::{FormError, Limits};
use serde::Deserialize;

const TOKEN: &str = "51856fefc120afa4b628cc82d3935cce";

fn genuine(data: &str) -> String {
    format!("event=ONCRMDEALADD&{data}&auth[application_token]={TOKEN}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deeply_nested_event_is_refused_on_a_worker_without_overflowing_its_stack() {
    let body = genuine(&format!("data{}=1", "[a]".repeat(3_000)));
    assert!(body.len() < 10 * 1024, "{} bytes", body.len());
    let (parsed, verified) = tokio::spawn(async move {
        (
            Event::parse(body.as_bytes()).err(),
            Event::parse_verified(body.as_bytes(), TOKEN).err(),
        )
    })
    .await
    .expect("the worker survives");
    for e in [parsed, verified] {
        assert!(
            matches!(e, Some(EventError::Limit(FormError::TooDeep { limit: 64 }))),
            "{e:?}"
        );
    }
}

/// Parses `body` on a blocking thread, failing after `within` (a quadratic parser would not end).
async fn parse_within(body: String, limits: Limits, within: Duration) -> Result<Event, EventError> {
    let parse = tokio::task::spawn_blocking(move || {
        Event::parse_verified_with(body.as_bytes(), TOKEN, &limits)
    });
    tokio::time::timeout(within, parse)
        .await
        .expect("linear: within the bound")
        .expect("join")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wide_and_appending_events_parse_in_linear_time() {
    let roomy = Limits {
        max_bytes: 8 << 20,
        max_keys: 200_000,
        ..Limits::DEFAULT
    };
    let wide: String = (0..100_000).map(|i| format!("data[k{i}]=1&")).collect();
    let appends = "data[]=1&".repeat(50_000);
    for (body, n) in [(wide, 100_000), (appends, 50_000)] {
        let body = genuine(body.trim_end_matches('&'));
        let e = parse_within(body.clone(), roomy, Duration::from_secs(3))
            .await
            .expect("a genuine event");
        let len = match &e.data {
            serde_json::Value::Array(items) => items.len(),
            serde_json::Value::Object(m) => m.len(),
            other => panic!("{other}"),
        };
        assert_eq!(len, n);
        // Within the default limits, the same body is refused (too large or too many
        // fields), as fast.
        let e = parse_within(body, Limits::DEFAULT, Duration::from_secs(3)).await;
        assert!(matches!(e, Err(EventError::Limit(_))), "{e:?}");
    }
    let big = genuine(&format!("data[x]={}", "a".repeat(2 << 20)));
    assert!(matches!(
        Event::parse_verified(big.as_bytes(), TOKEN),
        Err(EventError::Limit(FormError::TooLarge { .. }))
    ));
}

#[test]
fn the_token_is_checked_before_the_body_is_parsed() {
    // Not an event at all (no `event`): a forged token is what is reported, nothing is built.
    let forged = b"data[FIELDS][ID]=1&auth[application_token]=forged";
    assert!(matches!(
        Event::parse_verified(forged, TOKEN),
        Err(EventError::BadToken)
    ));
    assert!(matches!(
        Event::parse(forged),
        Err(EventError::Malformed(_))
    ));
    // The token PHP would see: the last one, and not one a later field replaced.
    let replaced = genuine("data[ID]=1") + "&auth[application_token][x]=1";
    assert!(matches!(
        Event::parse_verified(replaced.as_bytes(), TOKEN),
        Err(EventError::BadToken)
    ));
    let last = format!("auth[application_token]=old&{}", genuine("data[ID]=1"));
    let e = Event::parse_verified(last.as_bytes(), TOKEN).expect("the last token counts");
    assert_eq!(e.data["ID"], "1");
}

#[test]
fn no_token_and_no_unknown_auth_field_shows_in_debug_or_errors() {
    let access = "s6p6eclrvim6da22ft9ch94ekreb52lv";
    let unknown = "zz-unknown-auth-secret-77";
    let body = genuine(&format!(
        "data[ECHO]={TOKEN}&data[ID]={access}&auth[access_token]={access}&auth[new_secret]={unknown}&auth[domain]=x.bitrix24.com"
    ));
    let e = Event::parse_verified(body.as_bytes(), TOKEN).expect("genuine");
    assert_eq!(
        e.auth.extra.get("new_secret").and_then(|v| v.as_str()),
        Some(unknown)
    );
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Typed {
        #[serde(rename = "ID")]
        id: i64,
    }
    let data_error = e.data_as::<Typed>().expect_err("not a number");
    let malformed = Event::parse(format!("ts={TOKEN}&{body}").as_bytes()).expect_err("ts");
    for shown in [
        format!("{e:?}"),
        format!("{e:#?}"),
        format!("{data_error} {data_error:?}"),
        format!("{malformed} {malformed:?}"),
    ] {
        for secret in [TOKEN, access, unknown] {
            assert!(!shown.contains(secret), "{secret} shows: {shown}");
        }
    }
    let shown = format!("{e:?}");
    assert!(
        shown.contains("new_secret") && shown.contains("x.bitrix24.com"),
        "{shown}"
    );
}

#[test]
fn an_empty_data_the_form_could_not_carry_reads_as_empty() {
    // `"data": []` form-encoded is no `data` at all.
    let body = b24_runtime::query::http_build_query(&serde_json::json!({
        "event": "ONOFFLINEEVENT", "data": [], "ts": "1466439714",
    }));
    let e = Event::parse(body.as_bytes()).expect("parses");
    assert!(e.data.is_null(), "{:?}", e.data);
    assert!(e.data_as::<Vec<serde_json::Value>>().unwrap().is_empty());
    #[derive(Debug, Deserialize, PartialEq, Default)]
    struct Fields {
        #[serde(rename = "ID", default)]
        id: Option<String>,
    }
    assert_eq!(e.data_as::<Fields>().unwrap(), Fields::default());
    assert_eq!(e.data_as::<Option<Fields>>().unwrap(), None, "null first");
    // Data that is there and wrong is still an error.
    let body = genuine("data[ID][x]=1");
    let e = Event::parse(body.as_bytes()).expect("parses");
    assert!(e.data_as::<Vec<serde_json::Value>>().is_err());
}
