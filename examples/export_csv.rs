//! Export every deal to CSV, custom fields included, with progress.
//!
//! ```text
//! cargo run --example export_csv [-- deals.csv]
//! ```
//!
//! With no `B24_WEBHOOK_URL`, it starts the embedded emulator, registers two custom fields of
//! deals (`crm.deal.userfield.add`) and stores 5,000 deals, then exports them. With
//! `B24_WEBHOOK_URL=https://your-portal.bitrix24.com/rest/1/CODE/` (a webhook with the `crm`
//! scope) it exports that portal's deals; it only reads. The columns are the standard fields
//! below and every custom field `crm.deal.fields` lists. The file goes to the path given, else
//! `deals.csv` in the system's temporary folder.
//!
//! Progress comes from [`b24::Export::on_progress`]: records done and the server's total,
//! drawn as an `indicatif` bar on stderr (its length is set once the server's total is known;
//! without a total it counts up). The callback is a plain closure: anything `Send + Sync` can
//! take the figures.

use std::io::Write;
use std::time::Instant;

use b24::crm::deal;
use b24::runtime::select::Select;
use b24::types::Deal;
use b24::{Client, CustomFields};
use b24_emulator::Emulator;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Value};

type AnyError = Box<dyn std::error::Error>;

/// Deals the emulator is seeded with.
const SEEDED: usize = 5_000;

#[tokio::main]
async fn main() -> Result<(), AnyError> {
    let path = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("deals.csv"));
    let (client, _emulator) = connect().await?;

    // The custom fields of deals on this portal become columns.
    let custom = client.user_fields(&deal::fields::Request::new()).await?;
    let mut select = Select::new()
        .field(Deal::ID)
        .field(Deal::TITLE)
        .field(Deal::STAGE_ID)
        .field(Deal::CURRENCY_ID)
        .field(Deal::OPPORTUNITY);
    for field in &custom {
        select = select.name(&field.name);
    }
    let request = deal::list::Request {
        select: Some(select.names()),
        ..deal::list::Request::new()
    };

    let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
    // The columns: the fields selected, the standard ones then the custom ones.
    let header = select.names();
    writeln!(out, "{}", csv_row(&header))?;

    let started = Instant::now();
    // A spinner until the first page brings the server's total, then a bar of that length.
    let bar = ProgressBar::new_spinner().with_style(ProgressStyle::with_template(
        "{spinner} {pos} deals exported",
    )?);
    let bar_style =
        ProgressStyle::with_template("{bar:40} {pos}/{len} deals, {per_sec}, eta {eta}")?;
    let shown = bar.clone();
    let deals = client
        .export(&request)
        .on_progress(move |progress| {
            // Every page: records so far, and the server's count when it gave one.
            if let Some(total) = progress.total {
                if shown.length() != Some(total) {
                    shown.set_style(bar_style.clone());
                    shown.set_length(total);
                }
            }
            shown.set_position(progress.done);
        })
        .stream();
    let mut deals = std::pin::pin!(deals);
    let mut count = 0usize;
    while let Some(deal) = deals.next().await {
        let deal: Deal = deal?;
        let mut row = vec![
            deal.id.as_ref().map(|v| v.to_string()).unwrap_or_default(),
            deal.title.clone().unwrap_or_default(),
            deal.stage_id.clone().unwrap_or_default(),
            deal.currency_id.clone().unwrap_or_default(),
            // Money as the portal wrote it ("1500.00"), not through an f64.
            deal.opportunity
                .as_ref()
                .and_then(|v| v.to_decimal())
                .map(|d| d.to_string())
                .unwrap_or_default(),
        ];
        for field in &custom {
            row.push(cell(deal.uf_value(&field.name)));
        }
        writeln!(out, "{}", csv_row(&row))?;
        count += 1;
    }
    out.flush()?;
    bar.finish();
    // The bar is driven by the export's own count: it ends where the records end.
    if bar.position() != count as u64 {
        return Err(format!(
            "progress said {} records, the stream gave {count}",
            bar.position()
        )
        .into());
    }
    println!(
        "progress: {} of {}",
        bar.position(),
        bar.length().map_or("?".into(), |l| l.to_string())
    );
    println!(
        "{count} deals with {} custom fields written to {} in {:.2} s",
        custom.len(),
        path.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A client for `B24_WEBHOOK_URL`, or for a freshly started and seeded emulator.
async fn connect() -> Result<(Client, Option<Emulator>), AnyError> {
    if let Ok(url) = std::env::var("B24_WEBHOOK_URL") {
        return Ok((Client::builder().webhook(&url).build()?, None));
    }
    let emulator = Emulator::start().await?;
    let client = Client::builder().webhook(emulator.webhook_url()).build()?;
    // Register the custom fields through the API, as an administrator would.
    for (name, kind, label) in [
        ("DELIVERY_DATE", "date", "Delivery date"),
        ("WEIGHT", "double", "Weight, kg"),
    ] {
        let mut field = deal::userfield::add::Fields::new(name, kind);
        field.extra.insert("LABEL".into(), json!(label));
        deal::userfield::add::call(&client, &deal::userfield::add::Request::new(field)).await?;
    }
    // Deals stored directly (no HTTP, no rate limit), every third one without custom values.
    let deals = (1..=SEEDED).map(|n| {
        let mut deal = json!({
            "TITLE": format!("Deal #{n}"),
            "STAGE_ID": if n % 4 == 0 { "WON" } else { "NEW" },
            "CURRENCY_ID": "EUR",
            "OPPORTUNITY": format!("{}.{:02}", 100 + n, n % 100),
        });
        if n % 3 != 0 {
            deal["UF_CRM_DELIVERY_DATE"] = json!(format!("2026-05-{:02}", 1 + n % 28));
            deal["UF_CRM_WEIGHT"] = json!(n as f64 / 4.0);
        }
        deal
    });
    emulator.insert_records("crm.deal", &json!({}), deals)?;
    eprintln!("emulator: {} ({SEEDED} deals stored)", emulator.base_url());
    Ok((client, Some(emulator)))
}

/// A custom field's value as a CSV cell: text as is, a list joined with `;`, empty for none.
fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| cell(Some(v)))
            .collect::<Vec<_>>()
            .join(";"),
        Some(other) => other.to_string(),
    }
}

/// One CSV line (RFC 4180: fields with a comma, a quote or a line break are quoted).
fn csv_row(fields: &[String]) -> String {
    fields
        .iter()
        .map(|f| {
            if f.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}
