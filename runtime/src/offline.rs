//! Offline events (`event.bind` with `event_type=offline`): a [`Stream`] over the queue that
//! removes from it only what the caller has processed.
//!
//! [`OfflineEvents`] reads with `event.offline.get` and `clear=0`, so the records read stay
//! queued, reserved under a `process_id`. Each record comes as an [`OfflineEvent`]; the caller
//! [`OfflineEvent::ack`]s it once processed (or [`OfflineEvent::fail`]s it: it is set aside
//! with `event.offline.error`). Before the next batch is read, the acknowledged records are
//! removed with `event.offline.clear` (by `ID`), and the failed ones marked; a record neither
//! acknowledged nor failed stays reserved and is read again (the same `process_id`), so a
//! process that dies between reading and processing loses nothing. The stream ends when the
//! queue has nothing more, after the last acknowledgements are sent.
//!
//! ```no_run
//! # async fn demo(client: b24_runtime::Client) -> Result<(), b24_runtime::Error<b24_runtime::ApiError>> {
//! use futures::StreamExt;
//! let mut events = std::pin::pin!(b24_runtime::offline::OfflineEvents::new(client).stream());
//! while let Some(event) = events.next().await {
//!     let event = event?;
//!     println!("{} {}", event.name, event.data);
//!     event.ack();
//! }
//! # Ok(()) }
//! ```

use std::sync::{Arc, Mutex};

use futures::Stream;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::client::Client;
use crate::error::{ApiError, Error};
use crate::method::{Access, ApiVersion};
use crate::value::Int;
use crate::Extra;

/// The most records `event.offline.get` returns at once (its `limit`).
pub const MAX_BATCH: u32 = 50;

/// How to read the offline queue.
#[derive(Clone, Debug)]
pub struct OfflineEvents {
    client: Client,
    batch: u32,
    auth_connector: Option<String>,
    filter: Option<Value>,
    resume: Option<String>,
}

/// One record of the offline queue.
#[derive(Clone, Debug)]
pub struct OfflineEvent {
    /// The record's `ID`.
    pub id: Int,
    /// The event code (`EVENT_NAME`), e.g. `ONCRMDEALADD`.
    pub name: String,
    /// The event's data (`EVENT_DATA`), as an online handler receives it in `data`.
    pub data: Value,
    /// More about the event (`EVENT_ADDITIONAL`).
    pub additional: Value,
    /// The change the record belongs to (`MESSAGE_ID`).
    pub message_id: Option<String>,
    /// When it was queued (`TIMESTAMP_X`).
    pub timestamp: Option<String>,
    /// The reservation the record was read under.
    pub process_id: Option<String>,
    /// Fields not listed above.
    pub extra: Extra,
    outcome: Arc<Mutex<Outcomes>>,
}

impl OfflineEvent {
    /// The record is processed: it is removed from the queue before the next batch is read.
    pub fn ack(&self) {
        let mut o = self.outcome.lock().unwrap_or_else(|p| p.into_inner());
        o.acked.push(self.id.get());
    }

    /// The record cannot be processed: it is set aside with `event.offline.error` (read again
    /// only with `error=1`) instead of being read again.
    pub fn fail(&self) {
        let mut o = self.outcome.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(m) = &self.message_id {
            o.failed.push(m.clone());
        }
    }
}

/// What the caller said about the records of the current batch.
#[derive(Debug, Default)]
struct Outcomes {
    acked: Vec<i64>,
    failed: Vec<String>,
}

#[derive(Deserialize)]
struct Batch {
    #[serde(default)]
    process_id: Option<Value>,
    #[serde(default)]
    events: Vec<Record>,
}

#[derive(Deserialize)]
struct Record {
    #[serde(rename = "ID")]
    id: Int,
    #[serde(rename = "EVENT_NAME", default)]
    name: String,
    #[serde(rename = "EVENT_DATA", default)]
    data: Value,
    #[serde(rename = "EVENT_ADDITIONAL", default)]
    additional: Value,
    #[serde(rename = "MESSAGE_ID", default)]
    message_id: Option<Value>,
    #[serde(rename = "TIMESTAMP_X", default)]
    timestamp: Option<String>,
    #[serde(flatten)]
    extra: Extra,
}

/// The reader's state between items.
struct Reader {
    options: OfflineEvents,
    process_id: Option<String>,
    pending: std::vec::IntoIter<OfflineEvent>,
    outcome: Arc<Mutex<Outcomes>>,
    /// The records this stream delivered (each is delivered once per stream).
    delivered: std::collections::HashSet<i64>,
    /// True once a batch came back with nothing new, after the acknowledgements were sent.
    done: bool,
}

impl OfflineEvents {
    /// A reader of the application's offline queue, [`MAX_BATCH`] records at a time.
    pub fn new(client: Client) -> Self {
        OfflineEvents {
            client,
            batch: MAX_BATCH,
            auth_connector: None,
            filter: None,
            resume: None,
        }
    }

    /// Read first the records still reserved under `process_id` (by a process that stopped
    /// before it acknowledged them).
    pub fn resume(mut self, process_id: impl Into<String>) -> Self {
        self.resume = Some(process_id.into());
        self
    }

    /// Records per `event.offline.get` (1 to [`MAX_BATCH`]).
    pub fn batch(mut self, n: u32) -> Self {
        self.batch = n.clamp(1, MAX_BATCH);
        self
    }

    /// Read only the records of this source key (`auth_connector` of `event.bind`).
    pub fn auth_connector(mut self, key: impl Into<String>) -> Self {
        self.auth_connector = Some(key.into());
        self
    }

    /// Read only the records this filter selects (`{"EVENT_NAME": "ONCRMDEALADD"}`).
    pub fn filter(mut self, filter: Value) -> Self {
        self.filter = Some(filter);
        self
    }

    /// The records, as a stream that ends when the queue is empty.
    pub fn stream(self) -> impl Stream<Item = Result<OfflineEvent, Error<ApiError>>> + Send {
        let reader = Reader {
            process_id: self.resume.clone(),
            options: self,
            pending: Vec::new().into_iter(),
            outcome: Arc::default(),
            delivered: std::collections::HashSet::new(),
            done: false,
        };
        futures::stream::unfold(reader, |mut r| async move {
            loop {
                if let Some(next) = r.pending.next() {
                    return Some((Ok(next), r));
                }
                if r.done {
                    return None;
                }
                if let Err(e) = r.settle().await {
                    r.done = true;
                    return Some((Err(e), r));
                }
                match r.fetch().await {
                    Ok(0) => return None,
                    Ok(_) => continue,
                    Err(e) => {
                        r.done = true;
                        return Some((Err(e), r));
                    }
                }
            }
        })
    }
}

impl Reader {
    /// Sends what the caller said about the last batch: clears the acknowledged records, marks
    /// the failed ones. Unanswered records stay reserved under the `process_id`.
    async fn settle(&mut self) -> Result<(), Error<ApiError>> {
        let Some(process_id) = self.process_id.clone() else {
            return Ok(());
        };
        let (acked, failed) = {
            let mut o = self.outcome.lock().unwrap_or_else(|p| p.into_inner());
            (std::mem::take(&mut o.acked), std::mem::take(&mut o.failed))
        };
        let client = &self.options.client;
        if !failed.is_empty() {
            let params = json!({"process_id": process_id, "message_id": failed});
            client
                .call_raw(
                    "event.offline.error",
                    ApiVersion::V2,
                    Access::Write,
                    &params,
                )
                .await?;
        }
        if !acked.is_empty() {
            let params = json!({"process_id": process_id, "id": acked});
            client
                .call_raw(
                    "event.offline.clear",
                    ApiVersion::V2,
                    Access::Write,
                    &params,
                )
                .await?;
        }
        Ok(())
    }

    /// Reads the next batch (the unanswered records of the reservation first); how many.
    async fn fetch(&mut self) -> Result<usize, Error<ApiError>> {
        let o = &self.options;
        let mut params = json!({"clear": 0, "limit": o.batch});
        if let Some(p) = &self.process_id {
            params["process_id"] = json!(p);
        }
        if let Some(k) = &o.auth_connector {
            params["auth_connector"] = json!(k);
        }
        if let Some(f) = &o.filter {
            params["filter"] = f.clone();
        }
        // Reading reserves records: not a plain read, never re-sent blindly.
        let answer = o
            .client
            .call_raw("event.offline.get", ApiVersion::V2, Access::Write, &params)
            .await?;
        let batch: Batch = serde_json::from_value(answer.result).map_err(|e| {
            Error::Decode(crate::error::DecodeError {
                status: 200,
                body: String::new(),
                reason: format!("event.offline.get: {e}"),
            })
        })?;
        if let Some(p) = batch.process_id.as_ref().and_then(text) {
            self.process_id = Some(p);
        }
        let process_id = self.process_id.clone();
        let delivered = &mut self.delivered;
        let events: Vec<OfflineEvent> = batch
            .events
            .into_iter()
            .filter(|r| delivered.insert(r.id.get()))
            .map(|r| OfflineEvent {
                id: r.id,
                name: r.name,
                data: r.data,
                additional: r.additional,
                message_id: r.message_id.as_ref().and_then(text),
                timestamp: r.timestamp,
                process_id: process_id.clone(),
                extra: r.extra,
                outcome: self.outcome.clone(),
            })
            .collect();
        let n = events.len();
        self.pending = events.into_iter();
        Ok(n)
    }
}

/// A string or a number as text; `None` for anything else (`null`, `false`).
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
