//! Paging over list methods: a plain `start`/`next` stream, and the fast ID-keyed export.
//!
//! The export follows the docs' advice for large volumes (`settings/performance/huge-data.md`):
//! `order ID asc`, `filter >ID`, `start=-1` (no count), pages chained inside one `batch` call by
//! `$result[…]` references, several ID ranges in parallel within the shared rate limit.
//! By default the number of ranges follows the size of the export: after the first page and
//! the highest ID, one range per batch call's worth of IDs (`50 × pages per call`), at most
//! [`AUTO_RANGES_MAX`] and at most the client's burst; [`Export::ranges`] forces a number.
//! Ranges run in parallel, so with more than one, records of different ranges interleave:
//! the stream is in ID order only within a range (always with `ranges(1)`).
//! The export covers the IDs up to the highest one at its start (so it ends even under a
//! steady stream of inserts; [`Export::follow_inserts`] also takes the new ones). Each range
//! only accepts strictly increasing IDs inside its bounds, and the ranges are disjoint, so
//! every record that survives the export comes out exactly once, whatever is added or deleted
//! meanwhile; a server that ignores the ID filter is reported as [`Error::StalledCursor`],
//! never looped.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use futures::stream::{self, Stream, StreamExt};
use serde_json::{Map, Value};

use crate::batch::{Batch, Binding, RawCommand};
use crate::client::{params_bytes, CallOptions, Client, Target};
use crate::envelope::Envelope;
use crate::error::{ApiError, DecodeError, Error};
use crate::method::{ListMethod, Method};

/// Records per page of a classic list method.
pub const PAGE_SIZE: usize = 50;

/// The most ID ranges an export runs in parallel when it chooses their number itself.
///
/// A range waits for each batch call before the next (its cursor is the last ID it got), so
/// within the bucket's burst `k` ranges need about `1/k` of one range's round trips; past the
/// burst the bucket's drain sets the pace whatever `k` is. More ranges are not free: the
/// docs advise against many parallel series of requests from one address
/// (`settings/performance/limits.md`), `k` ranges spend a method's time budget
/// (`time.operating`) up to `k` times as fast, and they take `k` requests of the burst at
/// once. Four keep that modest and already cut most of the round trips (10^5 records with a
/// 20 ms round trip: 1.2 s with one range, 0.5 s with four; the facade's `BENCHMARKS.md`).
pub const AUTO_RANGES_MAX: usize = 4;

/// How far a list or an export is: the records delivered so far, and how many the server
/// counted when it started (its `total`), when it said.
///
/// With [`Export::follow_inserts`], or while records are added, `done` may pass `total`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Records delivered to the stream so far.
    pub done: u64,
    /// The server's count of matching records (`total` of the first page), if it gave one.
    pub total: Option<u64>,
}

/// A progress callback, shared by the ranges of an export.
type OnProgress = Arc<dyn Fn(Progress) + Send + Sync>;

/// The records delivered so far and whom to tell.
struct Tracker {
    done: AtomicU64,
    total: Option<u64>,
    report: Option<OnProgress>,
}

impl Tracker {
    /// Counts `n` more records and reports, once per page.
    fn add(&self, n: u64) {
        let done = self.done.fetch_add(n, Ordering::Relaxed) + n;
        if let Some(report) = &self.report {
            report(Progress {
                done,
                total: self.total,
            });
        }
    }
}

fn target<M: Method>() -> Target<'static> {
    Target {
        name: M::NAME,
        version: M::VERSION,
        access: M::ACCESS,
    }
}

fn params_object<M: Method>(request: &M) -> Result<Map<String, Value>, Error<ApiError>> {
    match serde_json::to_value(request) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(Value::Null) => Ok(Map::new()),
        Ok(_) => Err(Error::InvalidArgument(
            "the parameters must serialize to a JSON object".into(),
        )),
        Err(e) => Err(Error::InvalidArgument(format!(
            "the parameters do not serialize: {e}"
        ))),
    }
}

struct PageState {
    client: Client,
    params: Result<Map<String, Value>, Option<Error<ApiError>>>,
    start: Option<u64>,
    done: bool,
}

impl Client {
    /// Every page of a list method, following `next` until there is none.
    ///
    /// A `next` that does not move forward ends the stream with [`Error::StalledCursor`].
    pub fn pages<M: ListMethod>(
        &self,
        request: &M,
    ) -> impl Stream<Item = Result<Envelope<M::Response>, Error<M::Error>>> + Send + 'static {
        let state = PageState {
            client: self.clone(),
            params: params_object(request).map_err(Some),
            start: None,
            done: false,
        };
        stream::unfold(state, |mut st| async move {
            if st.done {
                return None;
            }
            let params = match &mut st.params {
                Ok(p) => p,
                Err(e) => {
                    st.done = true;
                    return e.take().map(|e| (Err(e.typed()), st));
                }
            };
            if let Some(s) = st.start {
                params.insert("start".into(), Value::from(s));
            }
            let result = match params_bytes(&*params) {
                Ok(bytes) => {
                    st.client
                        .execute::<M::Response>(target::<M>(), bytes, &CallOptions::default())
                        .await
                }
                Err(e) => Err(e),
            };
            match result {
                Ok(env) => {
                    match env.next {
                        Some(n) if n <= st.start.unwrap_or(0) => {
                            st.params = Err(Some(Error::StalledCursor {
                                method: M::NAME,
                                at: format!("start={n}"),
                            }));
                        }
                        Some(n) => st.start = Some(n),
                        None => st.done = true,
                    }
                    Some((Ok(env), st))
                }
                Err(e) => {
                    st.done = true;
                    Some((Err(e.typed()), st))
                }
            }
        })
    }

    /// Every record of a list method, page by page (`start` / `next`).
    pub fn list<M: ListMethod>(
        &self,
        request: &M,
    ) -> impl Stream<Item = Result<M::Item, Error<M::Error>>> + Send + 'static {
        self.pages(request).flat_map(|page| {
            let items: Vec<Result<M::Item, Error<M::Error>>> = match page {
                Ok(env) => M::into_items(env.result).into_iter().map(Ok).collect(),
                Err(e) => vec![Err(e)],
            };
            stream::iter(items)
        })
    }

    /// The fast export of a list method that filters and orders by ID. See the module docs.
    ///
    /// Every record comes out exactly once, through reads only, within the client's rate
    /// limit. By default the export splits the IDs into several ranges read in parallel (see
    /// [`Export::ranges`]), so records of different ranges come out interleaved: not in ID
    /// order. For ID order, use `.ranges(1)`.
    pub fn export<M: ListMethod>(&self, request: &M) -> Export<M> {
        Export {
            client: self.clone(),
            params: params_object(request),
            ranges: None,
            pages_per_call: crate::batch::MAX_COMMANDS,
            follow_inserts: false,
            on_progress: None,
            _m: std::marker::PhantomData,
        }
    }

    /// Every record of a list method, page by page, as [`Client::list`], calling `report` after
    /// each page with the records delivered so far and the server's `total`.
    pub fn list_with_progress<M: ListMethod>(
        &self,
        request: &M,
        report: impl Fn(Progress) + Send + Sync + 'static,
    ) -> impl Stream<Item = Result<M::Item, Error<M::Error>>> + Send + 'static {
        let mut done = 0u64;
        self.pages(request).flat_map(move |page| {
            let items: Vec<Result<M::Item, Error<M::Error>>> = match page {
                Ok(env) => {
                    let total = env.total;
                    let items: Vec<_> = M::into_items(env.result).into_iter().map(Ok).collect();
                    done += items.len() as u64;
                    report(Progress { done, total });
                    items
                }
                Err(e) => vec![Err(e)],
            };
            stream::iter(items)
        })
    }
}

/// A fast ID-keyed export, configured before it starts ([`Client::export`]).
pub struct Export<M> {
    client: Client,
    params: Result<Map<String, Value>, Error<ApiError>>,
    /// Forced by [`Export::ranges`]; `None`: chosen from the span of IDs.
    ranges: Option<usize>,
    pages_per_call: usize,
    follow_inserts: bool,
    on_progress: Option<OnProgress>,
    _m: std::marker::PhantomData<fn() -> M>,
}

/// How the records of one method are laid out, learnt from the first page.
#[derive(Clone, Debug)]
struct Layout {
    /// The path from `result` to the list of records (empty when `result` is the list).
    items_path: Vec<String>,
    id_field: String,
    filter_key: String,
    params: Map<String, Value>,
}

/// The list of records in a page's result: the result itself, or its only list-valued field.
fn items_path(result: &Value) -> Option<Vec<String>> {
    match result {
        Value::Array(_) => Some(Vec::new()),
        Value::Object(m) => {
            let mut lists = m.iter().filter(|(_, v)| v.is_array());
            match (lists.next(), lists.next()) {
                (Some((k, _)), None) => Some(vec![k.clone()]),
                _ if m.is_empty() => Some(Vec::new()),
                _ => None,
            }
        }
        _ => None,
    }
}

fn items_at<'a>(result: &'a Value, path: &[String]) -> &'a [Value] {
    match crate::batch::lookup(result, path) {
        Some(Value::Array(items)) => items,
        _ => &[],
    }
}

fn id_of(item: &Value, field: &str) -> Option<i64> {
    match item.get(field)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn param_key(params: &Map<String, Value>, default: &str) -> String {
    params
        .keys()
        .find(|k| k.eq_ignore_ascii_case(default))
        .cloned()
        .unwrap_or_else(|| default.to_owned())
}

/// The request parameters of one export page: `order ID asc`, `start=-1`, the ID bounds.
fn page_params(layout: &Layout, order_key: &str, after: Option<i64>, upto: Option<i64>) -> Value {
    let mut params = layout.params.clone();
    let mut filter = match params.remove(&layout.filter_key) {
        Some(Value::Object(f)) => f,
        _ => Map::new(),
    };
    if let Some(a) = after {
        filter.insert(format!(">{}", layout.id_field), Value::from(a));
    }
    if let Some(u) = upto {
        filter.insert(format!("<={}", layout.id_field), Value::from(u));
    }
    params.insert(layout.filter_key.clone(), Value::Object(filter));
    let mut order = Map::new();
    order.insert(layout.id_field.clone(), Value::from("ASC"));
    params.insert(order_key.to_owned(), Value::Object(order));
    params.insert("start".into(), Value::from(-1));
    Value::Object(params)
}

/// The records of one page (or an error) for the stream: a page at a time, so the export
/// task and the reader meet once per page, not once per record.
type Sender<M> =
    tokio::sync::mpsc::Sender<Vec<Result<<M as ListMethod>::Item, Error<<M as Method>::Error>>>>;

impl<M: ListMethod + 'static> Export<M> {
    /// Export this many ID ranges in parallel (`n` below 1 counts as 1). All share the
    /// client's rate limit.
    ///
    /// Without this call the export chooses: it reads the first page and the highest ID, then
    /// runs one range per batch call's worth of IDs in between (`50 ×`
    /// [`Export::pages_per_call`] IDs), at most [`AUTO_RANGES_MAX`] and at most the client's
    /// burst (so a small table is one range). Range bounds fall on whole batch calls where
    /// the span allows, and a range sends no request past its upper bound.
    ///
    /// Records come in ID order within a range; ranges run in parallel, so with more than one
    /// the stream interleaves them. `ranges(1)` gives the whole export in ID order.
    pub fn ranges(mut self, n: usize) -> Self {
        self.ranges = Some(n.max(1));
        self
    }

    /// Pages chained in one `batch` call (1–50, default 50).
    pub fn pages_per_call(mut self, n: usize) -> Self {
        self.pages_per_call = n.clamp(1, crate::batch::MAX_COMMANDS);
        self
    }

    /// Also export records added while the export runs (default off: the export covers the
    /// IDs up to the highest one at its start, so it ends even under a steady stream of
    /// inserts; with this on, it ends only once it catches up with them).
    pub fn follow_inserts(mut self, yes: bool) -> Self {
        self.follow_inserts = yes;
        self
    }

    /// Calls `report` after each page with the records delivered so far and the server's count
    /// of the records to export. Asking for the count makes the first page a counted one (one
    /// `start=0` call instead of `start=-1`, which the docs advise against only for the many
    /// pages that follow). To watch from elsewhere, feed a channel:
    /// `let (tx, rx) = tokio::sync::watch::channel(Progress::default());`
    /// `export.on_progress(move |p| { let _ = tx.send(p); })`.
    pub fn on_progress(mut self, report: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.on_progress = Some(Arc::new(report));
        self
    }

    /// Runs the export; records come as they arrive: in ID order within each range, ranges
    /// interleaved (see [`Export::ranges`]).
    pub fn stream(self) -> impl Stream<Item = Result<M::Item, Error<M::Error>>> + Send + 'static {
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tokio::spawn(async move {
            if let Err(e) = self.run(&tx).await {
                let _ = tx.send(vec![Err(e.typed())]).await;
            }
        });
        stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|page| (stream::iter(page), rx))
        })
        .flatten()
    }

    async fn run(self, tx: &Sender<M>) -> Result<(), Error<ApiError>> {
        let Export {
            client,
            params,
            ranges,
            pages_per_call,
            follow_inserts,
            on_progress,
            ..
        } = self;
        let params = params?;
        let filter_key = param_key(&params, M::FILTER_PARAM);
        let order_key = param_key(&params, M::ORDER_PARAM);
        let mut layout = Layout {
            items_path: Vec::new(),
            id_field: M::ID_FIELD.to_owned(),
            filter_key,
            params,
        };
        // The first page, as a plain call, shows where the records and their IDs are (and,
        // counted, how many there are).
        let mut first_params = page_params(&layout, &order_key, None, None);
        if on_progress.is_some() {
            first_params["start"] = Value::from(0);
        }
        let first_page = raw_envelope::<M>(&client, &first_params).await?;
        let tracker = Arc::new(Tracker {
            done: AtomicU64::new(0),
            total: first_page.total,
            report: on_progress,
        });
        let first = first_page.result;
        layout.items_path = items_path(&first).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "cannot find the list of records in the result of {}",
                M::NAME
            ))
        })?;
        let items = items_at(&first, &layout.items_path);
        if let Some(item) = items.first() {
            if item.get(&layout.id_field).is_none() {
                let alt = [
                    layout.id_field.to_lowercase(),
                    layout.id_field.to_uppercase(),
                ];
                layout.id_field =
                    alt.into_iter()
                        .find(|f| item.get(f).is_some())
                        .ok_or_else(|| {
                            Error::InvalidArgument(format!(
                                "the records of {} have no {} field",
                                M::NAME,
                                M::ID_FIELD
                            ))
                        })?;
            }
        }
        let mut cursor = i64::MIN;
        let full = items.len() >= PAGE_SIZE;
        if !emit::<M>(tx, items, &layout.id_field, &mut cursor, None, &tracker).await? || !full {
            return Ok(());
        }
        // The highest ID at the start bounds the export, so it ends even while records keep
        // coming; with `follow_inserts`, the last range also takes what is added meanwhile.
        let mut desc = page_params(&layout, &order_key, Some(cursor), None);
        desc[&order_key][&layout.id_field] = Value::from("DESC");
        let last = raw_page::<M>(&client, &desc).await?;
        let max = match items_at(&last, &layout.items_path).first() {
            None => return Ok(()), // nothing after the first page (any more)
            Some(item) => id_of(item, &layout.id_field).unwrap_or(i64::MIN),
        };
        if max <= cursor {
            // Asked for IDs above the cursor, the server sent one below: it ignores the filter.
            return Err(Error::StalledCursor {
                method: M::NAME,
                at: format!("{} > {cursor}", layout.id_field),
            });
        }
        // More ranges than the client lets through at once would only queue at its limiter.
        let cap = client
            .burst()
            .map_or(AUTO_RANGES_MAX, |b| AUTO_RANGES_MAX.min(b as usize));
        let ids_per_call = (PAGE_SIZE * pages_per_call) as i64;
        let bounds = range_bounds(cursor, max, ranges, ids_per_call, cap);
        let top = (!follow_inserts).then_some(max);
        let mut workers = tokio::task::JoinSet::new();
        for (i, &lo) in bounds.iter().enumerate() {
            let hi = bounds.get(i + 1).copied().or(top);
            let range = Range {
                client: client.clone(),
                layout: layout.clone(),
                order_key: order_key.clone(),
                pages_per_call,
            };
            let tx = tx.clone();
            let tracker = Arc::clone(&tracker);
            workers.spawn(async move {
                if let Err(e) = range.run::<M>(lo, hi, &tx, &tracker).await {
                    let _ = tx.send(vec![Err(e.typed())]).await;
                }
            });
        }
        while workers.join_next().await.is_some() {}
        Ok(())
    }
}

/// The lower bounds of the ranges that split the IDs `(cursor, max]` (range `i` is
/// `(bounds[i], bounds[i + 1]]`, the last one ends at `max`): `forced` ranges, or one per
/// `ids_per_call` IDs up to `cap`. Ranges span whole batch calls (`ids_per_call` IDs each,
/// the last range takes the remainder) when there are at least as many calls as ranges;
/// otherwise the IDs are split evenly. Strictly increasing, all in `[cursor, max)`.
fn range_bounds(
    cursor: i64,
    max: i64,
    forced: Option<usize>,
    ids_per_call: i64,
    cap: usize,
) -> Vec<i64> {
    let (lo, span) = (i128::from(cursor), i128::from(max) - i128::from(cursor));
    let chunk = i128::from(ids_per_call.max(1));
    if span <= 0 {
        return vec![cursor];
    }
    let calls = (span + chunk - 1) / chunk;
    let k = match forced {
        Some(n) => n.max(1) as i128,
        None => calls.min(cap.max(1) as i128),
    };
    let mut bounds = vec![cursor];
    if calls >= k {
        // `calls` batch calls dealt out, the first `calls % k` ranges taking one more.
        let (each, extra) = (calls / k, calls % k);
        let mut b = lo;
        for i in 0..k - 1 {
            b += (each + i128::from(i < extra)) * chunk;
            bounds.push(b as i64);
        }
    } else {
        for i in 1..k {
            let b = lo + span * i / k;
            if b > i128::from(*bounds.last().unwrap_or(&cursor)) {
                bounds.push(b as i64);
            }
        }
    }
    bounds
}

async fn raw_page<M: Method>(client: &Client, params: &Value) -> Result<Value, Error<ApiError>> {
    Ok(raw_envelope::<M>(client, params).await?.result)
}

async fn raw_envelope<M: Method>(
    client: &Client,
    params: &Value,
) -> Result<Envelope<Value>, Error<ApiError>> {
    let bytes = params_bytes(params)?;
    client
        .execute::<Value>(target::<M>(), bytes, &CallOptions::default())
        .await
}

/// Sends the records of a page whose ID is above `cursor` (and at most `upto`), in order,
/// moving the cursor. Returns `false` when the receiver is gone.
async fn emit<M: ListMethod>(
    tx: &Sender<M>,
    items: &[Value],
    id_field: &str,
    cursor: &mut i64,
    upto: Option<i64>,
    tracker: &Tracker,
) -> Result<bool, Error<ApiError>> {
    let mut page = Vec::with_capacity(items.len());
    let result = decode_page::<M>(&mut page, items, id_field, cursor, upto);
    if !page.is_empty() {
        let n = page.len() as u64;
        if tx.send(page).await.is_err() {
            return Ok(false);
        }
        tracker.add(n);
    }
    result.map(|()| true)
}

/// Decodes into `page` the records above `cursor` (and at most `upto`), moving the cursor; a
/// record without a numeric ID stops the page with an error, after the records before it.
fn decode_page<M: ListMethod>(
    page: &mut Vec<Result<M::Item, Error<M::Error>>>,
    items: &[Value],
    id_field: &str,
    cursor: &mut i64,
    upto: Option<i64>,
) -> Result<(), Error<ApiError>> {
    for item in items {
        let id = id_of(item, id_field).ok_or_else(|| {
            Error::Decode(DecodeError {
                status: 200,
                body: item.to_string(),
                reason: format!("a record of {} without a numeric {id_field}", M::NAME),
            })
        })?;
        if id <= *cursor || upto.is_some_and(|u| id > u) {
            continue; // already seen, or another range's
        }
        *cursor = id;
        let decoded = M::Item::deserialize(item).map_err(|e| {
            Error::Decode(DecodeError {
                status: 200,
                body: item.to_string(),
                reason: format!("a record of {}: {e}", M::NAME),
            })
        });
        page.push(decoded.map_err(Error::typed));
    }
    Ok(())
}

use serde::Deserialize as _;

/// One ID range `(lo, hi]` of an export, walked by chained batches.
struct Range {
    client: Client,
    layout: Layout,
    order_key: String,
    pages_per_call: usize,
}

impl Range {
    async fn run<M: ListMethod + 'static>(
        &self,
        lo: i64,
        hi: Option<i64>,
        tx: &Sender<M>,
        tracker: &Tracker,
    ) -> Result<(), Error<ApiError>> {
        let mut cursor = lo;
        loop {
            // A range holds at most one record per ID: ask for no page past its upper bound.
            let pages = match hi {
                Some(h) => {
                    let left = i128::from(h) - i128::from(cursor);
                    if left <= 0 {
                        return Ok(());
                    }
                    let needed = (left + PAGE_SIZE as i128 - 1) / PAGE_SIZE as i128;
                    self.pages_per_call.min(needed as usize)
                }
                None => self.pages_per_call,
            };
            let mut batch = Batch::new().halt(true);
            for i in 0..pages {
                let after = (i == 0).then_some(cursor);
                let mut bindings = Vec::new();
                if i > 0 {
                    let mut path = self.layout.items_path.clone();
                    path.push((PAGE_SIZE - 1).to_string());
                    path.push(self.layout.id_field.clone());
                    bindings.push(Binding::new(
                        vec![
                            self.layout.filter_key.clone(),
                            format!(">{}", self.layout.id_field),
                        ],
                        format!("p{}", i - 1),
                        path,
                    ));
                }
                batch.push(RawCommand {
                    key: format!("p{i}"),
                    method: M::NAME.to_owned(),
                    access: M::ACCESS,
                    params: page_params(&self.layout, &self.order_key, after, hi),
                    bindings,
                })?;
            }
            let results = self.client.batch(&batch).await?;
            let before = cursor;
            for i in 0..pages {
                let key = format!("p{i}");
                if let Some(e) = results.error(&key) {
                    return Err(Error::Method(e.clone()));
                }
                let Some(result) = results.raw(&key) else {
                    break;
                };
                let items = items_at(result, &self.layout.items_path);
                if !emit::<M>(tx, items, &self.layout.id_field, &mut cursor, hi, tracker).await? {
                    return Ok(());
                }
                if items.len() < PAGE_SIZE {
                    return Ok(());
                }
            }
            if cursor == before {
                return Err(Error::StalledCursor {
                    method: M::NAME,
                    at: format!("{} > {cursor}", self.layout.id_field),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_the_records() {
        assert_eq!(items_path(&json!([{"ID": 1}])), Some(vec![]));
        assert_eq!(
            items_path(&json!({"items": [], "x": 1})),
            Some(vec!["items".to_owned()])
        );
        assert_eq!(items_path(&json!({"a": [], "b": []})), None);
        assert_eq!(items_path(&json!(5)), None);
    }

    /// The ranges `(lo, hi]` that `range_bounds` makes of `(cursor, max]`.
    fn ranges_of(cursor: i64, max: i64, forced: Option<usize>, chunk: i64) -> Vec<(i64, i64)> {
        let bounds = range_bounds(cursor, max, forced, chunk, AUTO_RANGES_MAX);
        let mut tops = bounds[1..].to_vec();
        tops.push(max);
        bounds.into_iter().zip(tops).collect()
    }

    #[test]
    fn automatic_ranges_follow_the_span_on_whole_batch_calls() {
        // 10^5 records after a first page of 50: 40 calls of 2,500 IDs, 4 ranges of 10 calls.
        assert_eq!(
            ranges_of(50, 100_000, None, 2_500),
            [
                (50, 25_050),
                (25_050, 50_050),
                (50_050, 75_050),
                (75_050, 100_000)
            ]
        );
        // Fewer calls than the cap: one range each.
        assert_eq!(
            ranges_of(50, 5_000, None, 2_500),
            [(50, 2_550), (2_550, 5_000)]
        );
        // Under one call: one range.
        assert_eq!(ranges_of(50, 333, None, 2_500), [(50, 333)]);
        // 9 calls in 4 ranges: 3, 2, 2 and the rest.
        assert_eq!(
            ranges_of(0, 850, None, 100),
            [(0, 300), (300, 500), (500, 700), (700, 850)]
        );
        // The client's burst caps the count.
        assert_eq!(range_bounds(0, 100_000, None, 2_500, 2), [0, 50_000]);
    }

    #[test]
    fn forced_ranges_keep_their_count() {
        assert_eq!(ranges_of(50, 100_000, Some(1), 2_500), [(50, 100_000)]);
        // 40 calls in 6 ranges: 7, 7, 7, 7, 6, the rest.
        let six = ranges_of(50, 100_000, Some(6), 2_500);
        assert_eq!(six.len(), 6);
        assert!(six[..5].iter().all(|(lo, hi)| (hi - lo) % 2_500 == 0));
        // Fewer calls than ranges: the IDs split evenly, never an empty range.
        assert_eq!(
            ranges_of(50, 333, Some(3), 2_500),
            [(50, 144), (144, 238), (238, 333)]
        );
        assert_eq!(ranges_of(0, 2, Some(5), 2_500), [(0, 1), (1, 2)]);
    }

    #[test]
    fn range_bounds_are_disjoint_and_cover_the_span() {
        let spans = [
            (0, 1),
            (-5, 7),
            (i64::MIN, i64::MAX),
            (10, 9_999),
            (1, 250_001),
        ];
        for (cursor, max) in spans {
            for forced in [None, Some(1), Some(3), Some(8), Some(1_000)] {
                for chunk in [50, 100, 2_500] {
                    let ranges = ranges_of(cursor, max, forced, chunk);
                    assert_eq!(ranges.first().map(|r| r.0), Some(cursor));
                    assert_eq!(ranges.last().map(|r| r.1), Some(max));
                    assert!(ranges.iter().all(|(lo, hi)| lo < hi), "{ranges:?}");
                    assert!(ranges.windows(2).all(|w| w[0].1 == w[1].0), "{ranges:?}");
                    if forced.is_none() {
                        assert!(ranges.len() <= AUTO_RANGES_MAX);
                    }
                }
            }
        }
    }

    #[test]
    fn export_page_parameters() {
        let mut params = Map::new();
        params.insert("FILTER".into(), json!({"=STATUS": "NEW"}));
        params.insert("select".into(), json!(["ID"]));
        let layout = Layout {
            items_path: vec![],
            id_field: "ID".into(),
            filter_key: param_key(&params, "filter"),
            params,
        };
        assert_eq!(
            page_params(&layout, "order", Some(7), Some(99)),
            json!({"select": ["ID"], "FILTER": {"=STATUS": "NEW", ">ID": 7, "<=ID": 99}, "order": {"ID": "ASC"}, "start": -1})
        );
    }
}
