//! Decoding (and encoding) a list page: the generated structures against a
//! `#[derive(Deserialize)]` struct with the same fields and value types, and a plain
//! `serde_json::Value` parse. `cargo bench --bench decode` (figures in `codegen/BENCHMARKS.md`).
//!
//! The page is what `crm.item.list` answers: 50 items of 40 fields (ids as numbers and as
//! strings, dates, `Y`/`N` flags, money, lists of ids, empty values as `null`), about 55 kB.
//! The generated types come from `bench/decode-docs/` (a list and an add method over one
//! shared item structure of 40 fields), through `b24::api!` as an application would.

use std::hint::black_box;
use std::time::{Duration, Instant};

use b24::value::{Bool, Date, DateTime, Double, Int};
use serde::{Deserialize, Serialize};

mod api {
    b24::api!("bench/decode-docs");
}

/// The item as a derive with the same fields and value types.
#[derive(Deserialize, Serialize)]
#[allow(dead_code)]
struct Item {
    #[serde(rename = "id", default, skip_serializing_if = "Option::is_none")]
    id: Option<Int>,
    #[serde(
        rename = "entityTypeId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    entity_type_id: Option<Int>,
    #[serde(rename = "createdBy", default, skip_serializing_if = "Option::is_none")]
    created_by: Option<Int>,
    #[serde(rename = "updatedBy", default, skip_serializing_if = "Option::is_none")]
    updated_by: Option<Int>,
    #[serde(
        rename = "assignedById",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    assigned_by_id: Option<Int>,
    #[serde(
        rename = "lastActivityBy",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    last_activity_by: Option<Int>,
    #[serde(rename = "webformId", default, skip_serializing_if = "Option::is_none")]
    webform_id: Option<Int>,
    #[serde(
        rename = "categoryId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    category_id: Option<Int>,
    #[serde(rename = "companyId", default, skip_serializing_if = "Option::is_none")]
    company_id: Option<Int>,
    #[serde(rename = "contactId", default, skip_serializing_if = "Option::is_none")]
    contact_id: Option<Int>,
    #[serde(
        rename = "mycompanyId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    mycompany_id: Option<Int>,
    #[serde(rename = "movedBy", default, skip_serializing_if = "Option::is_none")]
    moved_by: Option<Int>,
    #[serde(
        rename = "createdTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    created_time: Option<DateTime>,
    #[serde(
        rename = "updatedTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    updated_time: Option<DateTime>,
    #[serde(
        rename = "lastActivityTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    last_activity_time: Option<DateTime>,
    #[serde(rename = "movedTime", default, skip_serializing_if = "Option::is_none")]
    moved_time: Option<DateTime>,
    #[serde(rename = "begindate", default, skip_serializing_if = "Option::is_none")]
    begindate: Option<Date>,
    #[serde(rename = "closedate", default, skip_serializing_if = "Option::is_none")]
    closedate: Option<Date>,
    #[serde(rename = "title", default, skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(rename = "stageId", default, skip_serializing_if = "Option::is_none")]
    stage_id: Option<String>,
    #[serde(
        rename = "previousStageId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    previous_stage_id: Option<String>,
    #[serde(
        rename = "currencyId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    currency_id: Option<String>,
    #[serde(rename = "sourceId", default, skip_serializing_if = "Option::is_none")]
    source_id: Option<String>,
    #[serde(
        rename = "sourceDescription",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    source_description: Option<String>,
    #[serde(rename = "comments", default, skip_serializing_if = "Option::is_none")]
    comments: Option<String>,
    #[serde(rename = "utmSource", default, skip_serializing_if = "Option::is_none")]
    utm_source: Option<String>,
    #[serde(rename = "utmMedium", default, skip_serializing_if = "Option::is_none")]
    utm_medium: Option<String>,
    #[serde(
        rename = "utmCampaign",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    utm_campaign: Option<String>,
    #[serde(
        rename = "utmContent",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    utm_content: Option<String>,
    #[serde(rename = "utmTerm", default, skip_serializing_if = "Option::is_none")]
    utm_term: Option<String>,
    #[serde(rename = "opened", default, skip_serializing_if = "Option::is_none")]
    opened: Option<Bool>,
    #[serde(rename = "closed", default, skip_serializing_if = "Option::is_none")]
    closed: Option<Bool>,
    #[serde(
        rename = "isManualOpportunity",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    is_manual_opportunity: Option<Bool>,
    #[serde(
        rename = "isReturnCustomer",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    is_return_customer: Option<Bool>,
    #[serde(
        rename = "isRepeatedApproach",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    is_repeated_approach: Option<Bool>,
    #[serde(
        rename = "isRecurring",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    is_recurring: Option<Bool>,
    #[serde(
        rename = "opportunity",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    opportunity: Option<Double>,
    #[serde(rename = "taxValue", default, skip_serializing_if = "Option::is_none")]
    tax_value: Option<Double>,
    #[serde(rename = "observers", default, skip_serializing_if = "Option::is_none")]
    observers: Option<Vec<Int>>,
    #[serde(
        rename = "contactIds",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    contact_ids: Option<Vec<Int>>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Page {
    items: Vec<Item>,
}

/// One item, the `n`-th of the page: about 1.1 kB.
fn item(n: u64) -> serde_json::Value {
    let user = |k: u64| {
        if (n + k) % 3 == 0 {
            serde_json::json!((n * 7 + k) % 900 + 1)
        } else {
            serde_json::json!(((n * 7 + k) % 900 + 1).to_string())
        }
    };
    serde_json::json!({
        "id": n + 1000,
        "entityTypeId": 2,
        "createdBy": user(1),
        "updatedBy": user(2),
        "assignedById": user(3),
        "lastActivityBy": user(4),
        "webformId": null,
        "categoryId": n % 4,
        "companyId": (n * 13) % 500,
        "contactId": if n % 5 == 0 { serde_json::Value::Null } else { serde_json::json!(n * 3) },
        "mycompanyId": 1,
        "movedBy": user(5),
        "createdTime": "2025-01-21T13:48:51+02:00",
        "updatedTime": "2025-02-03T09:15:07+02:00",
        "lastActivityTime": "2025-02-03T09:15:07+02:00",
        "movedTime": if n % 2 == 0 { serde_json::json!("2025-01-22T10:00:00+02:00") } else { serde_json::Value::Null },
        "begindate": "2025-01-21T03:00:00+02:00",
        "closedate": "2025-03-31T03:00:00+02:00",
        "title": format!("Deal #{n}: supply of equipment for the warehouse"),
        "stageId": format!("C{}:PREPARATION", n % 4),
        "previousStageId": "NEW",
        "currencyId": "USD",
        "sourceId": "CALL",
        "sourceDescription": "Inbound call from the website widget, routed to the sales team",
        "comments": "Customer asked for a quote with delivery and installation; follow up after the demo on Friday. Prefers e-mail.",
        "utmSource": "google",
        "utmMedium": "cpc",
        "utmCampaign": null,
        "utmContent": "",
        "utmTerm": null,
        "opened": "Y",
        "closed": "N",
        "isManualOpportunity": "N",
        "isReturnCustomer": if n % 3 == 0 { "Y" } else { "N" },
        "isRepeatedApproach": "N",
        "isRecurring": "N",
        "opportunity": 1500.5 + n as f64,
        "taxValue": "0.00",
        "observers": [1, "7", 12],
        "contactIds": [n * 3, n * 3 + 1],
    })
}

fn page() -> String {
    let items: Vec<serde_json::Value> = (0..50).map(item).collect();
    serde_json::json!({"items": items}).to_string()
}

/// Microseconds per call of `f`: the best of `rounds` rounds of `n` calls.
fn best(rounds: usize, n: usize, mut f: impl FnMut()) -> f64 {
    let mut best = Duration::MAX;
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..n {
            f();
        }
        best = best.min(start.elapsed());
    }
    best.as_secs_f64() * 1e6 / n as f64
}

fn main() {
    let rounds: usize = std::env::var("B24_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15);
    let n: usize = std::env::var("B24_BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let text = page();

    // Both read the same page, and the generated one keeps every key.
    let generated: api::crm::item::list::Response = serde_json::from_str(&text).unwrap();
    let items = generated.items.as_ref().unwrap();
    assert_eq!(items.len(), 50);
    let derived: Page = serde_json::from_str(&text).unwrap();
    assert_eq!(derived.items.len(), 50);
    let unknown: Vec<&String> = items
        .iter()
        .flat_map(|i| i.extra.iter())
        .filter(|(_, v)| !v.is_null())
        .map(|(k, _)| k)
        .collect();
    assert!(
        unknown.is_empty(),
        "keys the generated item did not take: {unknown:?}"
    );

    let mut rows = Vec::new();
    // Interleaved, so load from elsewhere hits every variant alike.
    let mut times = [f64::MAX; 3];
    for _ in 0..3 {
        times[0] = times[0].min(best(rounds, n, || {
            black_box(
                serde_json::from_str::<api::crm::item::list::Response>(black_box(&text)).unwrap(),
            );
        }));
        times[1] = times[1].min(best(rounds, n, || {
            black_box(serde_json::from_str::<Page>(black_box(&text)).unwrap());
        }));
        times[2] = times[2].min(best(rounds, n, || {
            black_box(serde_json::from_str::<serde_json::Value>(black_box(&text)).unwrap());
        }));
    }
    rows.push(("decode: generated `crm.item.list` Response", times[0]));
    rows.push(("decode: #[derive(Deserialize)] struct", times[1]));
    rows.push(("decode: serde_json::Value", times[2]));

    // Encoding: the 50 items as `crm.item.add` requests would send them.
    let requests: Vec<api::crm::item::add::Request> = items
        .iter()
        .map(|i| api::crm::item::add::Request::new(2i64, i.clone()))
        .collect();
    // The same requests without the `null` keys the items came with: what the derive writes.
    let bare: Vec<api::crm::item::add::Request> = items
        .iter()
        .map(|i| {
            let mut i = i.clone();
            i.extra.clear();
            api::crm::item::add::Request::new(2i64, i)
        })
        .collect();
    let mut enc = [f64::MAX; 3];
    for _ in 0..3 {
        enc[2] = enc[2].min(best(rounds, n, || {
            black_box(serde_json::to_string(black_box(&bare)).unwrap());
        }));
        enc[0] = enc[0].min(best(rounds, n, || {
            black_box(serde_json::to_string(black_box(&requests)).unwrap());
        }));
        enc[1] = enc[1].min(best(rounds, n, || {
            black_box(serde_json::to_string(black_box(&derived.items)).unwrap());
        }));
    }
    rows.push(("encode: generated `crm.item.add` Requests (50)", enc[0]));
    rows.push(("encode: #[derive(Serialize)] structs (50)", enc[1]));
    rows.push((
        "encode: generated Requests without the kept `null`s (50)",
        enc[2],
    ));

    println!(
        "encoded bytes: generated {}, without the kept nulls {}, derive {}",
        serde_json::to_string(&requests).map_or(0, |t| t.len()),
        serde_json::to_string(&bare).map_or(0, |t| t.len()),
        serde_json::to_string(&derived.items).map_or(0, |t| t.len())
    );
    println!(
        "page: {} bytes, 50 items of 40 fields; best of {} x {rounds} rounds of {n} calls",
        text.len(),
        3
    );
    println!("| variant | µs per page |");
    println!("|---|---:|");
    for (name, us) in &rows {
        println!("| {name} | {us:.1} |");
    }
    println!(
        "decode ratio generated / derive: {:.2}",
        times[0] / times[1]
    );
    println!("decode ratio generated / Value: {:.2}", times[0] / times[2]);
    println!("encode ratio generated / derive: {:.2}", enc[0] / enc[1]);
    println!(
        "encode ratio generated without the kept nulls / derive: {:.2}",
        enc[2] / enc[1]
    );
}
