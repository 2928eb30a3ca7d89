//! [`TraceStore`]: finished spans grouped by trace, and [`SpanRow`]s — the flattened,
//! display-ready span tree (depth-first, children by start time) that the span table,
//! waterfall and details panel render.

use std::collections::{HashMap, HashSet};
use std::time::SystemTime;

use opentelemetry::trace::{SpanId, Status, TraceId};
use opentelemetry::{Array, Value};
use opentelemetry_sdk::trace::SpanData;

use serde::{Deserialize, Serialize};

use super::delivery::{Outcome, SpanKey};
use super::otlp::{self, OtlpError};
use super::{genai, provider, semconv};

/// Where a trace stands with Phoenix, derived from its [`Delivery`].
#[derive(Debug, Clone, PartialEq)]
pub enum ExportState {
    Pending,
    Sending,
    /// Every span delivered, or set aside with a reason.
    Exported,
    /// Still to be sent; the reason the last attempt failed.
    Failed(String),
}

impl ExportState {
    pub fn label(&self) -> &'static str {
        match self {
            ExportState::Pending => "pending",
            ExportState::Sending => "sending",
            ExportState::Exported => "exported",
            ExportState::Failed(_) => "failed",
        }
    }
}

/// What became of each span of a trace. A span in none of the sets is pending: spans
/// that finish while an export of their trace is under way are sent by the next one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Delivery {
    /// Spans Phoenix accepted.
    pub sent: HashSet<SpanId>,
    /// Spans in a request now.
    pub in_flight: HashSet<SpanId>,
    /// Spans that will never be accepted, and why.
    pub set_aside: Vec<(SpanId, String)>,
    /// Why the last attempt to send this trace's pending spans failed.
    pub failure: Option<String>,
}

impl Delivery {
    fn settled(&self, span: SpanId) -> bool {
        self.sent.contains(&span)
            || self.in_flight.contains(&span)
            || self.set_aside.iter().any(|(s, _)| *s == span)
    }
}

/// The spans of one trace and what became of them.
#[derive(Debug, Clone)]
pub struct TraceRecord {
    /// 32 hex digits.
    pub trace_id: String,
    pub spans: Vec<SpanData>,
    pub delivery: Delivery,
}

impl TraceRecord {
    /// A trace not sent yet.
    pub fn new(trace_id: String, spans: Vec<SpanData>) -> Self {
        TraceRecord {
            trace_id,
            spans,
            delivery: Delivery::default(),
        }
    }

    pub fn export(&self) -> ExportState {
        let d = &self.delivery;
        if !d.in_flight.is_empty() {
            ExportState::Sending
        } else if self.pending().next().is_none() {
            ExportState::Exported
        } else if let Some(reason) = &d.failure {
            ExportState::Failed(reason.clone())
        } else {
            ExportState::Pending
        }
    }

    /// Spans neither delivered, nor being sent, nor set aside.
    pub fn pending(&self) -> impl Iterator<Item = &SpanData> {
        self.spans
            .iter()
            .filter(|s| !self.delivery.settled(s.span_context.span_id()))
    }

    /// Whether every span is delivered or set aside (so evicting it loses nothing).
    pub fn is_exported(&self) -> bool {
        self.export() == ExportState::Exported
    }
}

impl TraceRecord {
    /// The span without a parent.
    pub fn root(&self) -> Option<&SpanData> {
        self.spans
            .iter()
            .find(|s| s.parent_span_id == SpanId::INVALID)
    }

    /// Earliest start to latest end, in milliseconds.
    pub fn duration_ms(&self) -> f64 {
        let start = self.spans.iter().map(|s| s.start_time).min();
        let end = self.spans.iter().map(|s| s.end_time).max();
        match (start, end) {
            (Some(s), Some(e)) => ms_between(s, e),
            _ => 0.0,
        }
    }

    /// Summed duration of the spans called `name`, in milliseconds (e.g. every
    /// `retrieval` of an agent run).
    pub fn time_in(&self, name: &str) -> f64 {
        self.spans
            .iter()
            .filter(|s| s.name == name)
            .map(|s| ms_between(s.start_time, s.end_time))
            .sum()
    }

    /// The root span's attribute `key`, as text.
    pub fn root_attribute(&self, key: &str) -> Option<String> {
        let root = self.root()?;
        root.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.to_string())
    }

    /// Whether any span failed.
    pub fn has_error(&self) -> bool {
        self.spans
            .iter()
            .any(|s| matches!(s.status, Status::Error { .. }))
    }

    /// The flattened span tree.
    pub fn rows(&self) -> Vec<SpanRow> {
        let t0 = self
            .spans
            .iter()
            .map(|s| s.start_time)
            .min()
            .unwrap_or(SystemTime::UNIX_EPOCH);
        // Children by parent, each list by start time: one pass, so a 2,000-span trace
        // lays out in linear time.
        let mut children: HashMap<SpanId, Vec<&SpanData>> = HashMap::new();
        let ids: HashSet<SpanId> = self
            .spans
            .iter()
            .map(|s| s.span_context.span_id())
            .collect();
        // Orphans (parent not in this record) are shown as roots rather than lost.
        let mut roots: Vec<&SpanData> = Vec::new();
        for s in &self.spans {
            if s.parent_span_id == SpanId::INVALID || !ids.contains(&s.parent_span_id) {
                roots.push(s);
            } else {
                children.entry(s.parent_span_id).or_default().push(s);
            }
        }
        roots.sort_by_key(|s| s.start_time);
        children
            .values_mut()
            .for_each(|c| c.sort_by_key(|s| s.start_time));
        let mut rows = Vec::with_capacity(self.spans.len());
        let mut stack: Vec<(&SpanData, usize)> = roots.into_iter().rev().map(|r| (r, 0)).collect();
        while let Some((span, depth)) = stack.pop() {
            let kids = children
                .get(&span.span_context.span_id())
                .map_or(&[][..], Vec::as_slice);
            rows.push(SpanRow::new(span, depth, t0, !kids.is_empty()));
            stack.extend(kids.iter().rev().map(|c| (*c, depth + 1)));
        }
        rows
    }
}

/// A trace's spans, delivered and set-aside counts, and state: when any changes, the
/// copy kept in storage is stale.
pub type Version = (usize, usize, usize, ExportState);

/// A trace as the page keeps it between visits: its OTLP/JSON and what became of its
/// spans (a span being sent is kept as pending).
#[derive(Serialize, Deserialize)]
struct Saved {
    otlp: String,
    /// Written by pages before per-span delivery: every span was sent.
    #[serde(default)]
    exported: bool,
    failure: Option<String>,
    /// Delivered span ids (hex).
    #[serde(default)]
    sent: Vec<String>,
    /// Span ids (hex) set aside, and why.
    #[serde(default)]
    set_aside: Vec<(String, String)>,
}

impl TraceRecord {
    /// The text kept for this trace.
    pub fn to_saved(&self) -> String {
        let d = &self.delivery;
        let saved = Saved {
            otlp: otlp::to_json(self.spans.clone(), &provider::resource("ragtrace")),
            exported: false,
            failure: d.failure.clone(),
            sent: d.sent.iter().map(SpanId::to_string).collect(),
            set_aside: d
                .set_aside
                .iter()
                .map(|(s, why)| (s.to_string(), why.clone()))
                .collect(),
        };
        serde_json::to_string(&saved).expect("saved traces serialise")
    }

    /// A trace back from [`TraceRecord::to_saved`]'s text.
    pub fn from_saved(text: &str) -> Result<TraceRecord, OtlpError> {
        let saved: Saved = serde_json::from_str(text)?;
        let spans = otlp::from_json(&saved.otlp)?;
        let trace_id = spans[0].span_context.trace_id().to_string();
        let id = |hex: &str| SpanId::from_hex(hex).ok();
        let sent = if saved.exported {
            spans.iter().map(|s| s.span_context.span_id()).collect()
        } else {
            saved.sent.iter().filter_map(|h| id(h)).collect()
        };
        let set_aside = saved
            .set_aside
            .into_iter()
            .filter_map(|(h, why)| Some((id(&h)?, why)))
            .collect();
        Ok(TraceRecord {
            trace_id,
            spans,
            delivery: Delivery {
                sent,
                in_flight: HashSet::new(),
                set_aside,
                failure: saved.failure,
            },
        })
    }

    /// What decides whether the kept copy is stale.
    pub fn version(&self) -> Version {
        let d = &self.delivery;
        (
            self.spans.len(),
            d.sent.len(),
            d.set_aside.len(),
            self.export(),
        )
    }
}

/// Which traces the trace list shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TraceFilter {
    /// Case-insensitive text looked for in the question, root name and trace id.
    pub text: String,
    /// `None`: any status; `Some(true)`: only traces with an error span.
    pub errors: Option<bool>,
    /// The root span's name (`rag_pipeline`, `agent_run`, …); `None`: any.
    pub root: Option<String>,
}

impl TraceRecord {
    /// Whether the trace list shows this trace under `filter`.
    pub fn matches(&self, filter: &TraceFilter) -> bool {
        let root = self.root().map(|r| r.name.to_string()).unwrap_or_default();
        let needle = filter.text.trim().to_lowercase();
        let text_ok = needle.is_empty()
            || [
                self.root_attribute(semconv::INPUT_VALUE)
                    .unwrap_or_default(),
                root.clone(),
                self.trace_id.clone(),
            ]
            .iter()
            .any(|h| h.to_lowercase().contains(&needle));
        text_ok
            && filter.errors.is_none_or(|e| e == self.has_error())
            && filter.root.as_ref().is_none_or(|r| *r == root)
    }
}

/// A change one tab tells the others, so their stores agree: what was delivered (so
/// no other tab sends it again), deleted or cleared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum StoreChange {
    /// (trace id, span id) in hex.
    Delivered(Vec<(String, String)>),
    Removed(String),
    Cleared,
}

impl StoreChange {
    pub fn delivered(keys: &[SpanKey]) -> Self {
        StoreChange::Delivered(
            keys.iter()
                .map(|(t, s)| (t.to_string(), s.to_string()))
                .collect(),
        )
    }
}

/// What [`TraceStore::evict`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Eviction {
    /// Exported traces forgotten.
    pub removed: usize,
    /// Still over a bound: only unexported traces are left to forget, and they stay.
    pub over: bool,
}

/// Every trace the page has seen, oldest first.
#[derive(Debug, Clone, Default)]
pub struct TraceStore {
    pub traces: Vec<TraceRecord>,
}

impl TraceStore {
    /// Files finished spans under their traces (a trace may arrive in several parts;
    /// a span already held, by id, is not added twice). New spans are pending.
    /// Returns the ids of the traces touched.
    pub fn add(&mut self, spans: Vec<SpanData>) -> Vec<String> {
        let mut touched: Vec<String> = Vec::new();
        for span in spans {
            let id = span.span_context.trace_id().to_string();
            let trace = match self.traces.iter().position(|t| t.trace_id == id) {
                Some(i) => &mut self.traces[i],
                None => {
                    self.traces.push(TraceRecord::new(id.clone(), Vec::new()));
                    self.traces.last_mut().expect("just pushed")
                }
            };
            let span_id = span.span_context.span_id();
            if trace
                .spans
                .iter()
                .all(|s| s.span_context.span_id() != span_id)
            {
                trace.spans.push(span);
            }
            if !touched.contains(&id) {
                touched.push(id);
            }
        }
        touched
    }

    /// Marks every pending span as being sent and returns them, oldest trace first.
    pub fn begin_export(&mut self) -> Vec<SpanData> {
        let mut out = Vec::new();
        for t in &mut self.traces {
            let pending: Vec<SpanData> = t.pending().cloned().collect();
            t.delivery
                .in_flight
                .extend(pending.iter().map(|s| s.span_context.span_id()));
            out.extend(pending);
        }
        out
    }

    /// Files what an export run did: delivered spans are sent, set-aside spans keep
    /// their reason, and every other span that was in flight is pending again — with
    /// the run's failure as its trace's reason when the run stopped.
    pub fn finish_export(&mut self, outcome: &Outcome) {
        let mut sent: HashMap<TraceId, Vec<SpanId>> = HashMap::new();
        for (t, s) in &outcome.delivered {
            sent.entry(*t).or_default().push(*s);
        }
        let mut aside: HashMap<TraceId, Vec<(SpanId, String)>> = HashMap::new();
        for ((t, s), why) in &outcome.set_aside {
            aside.entry(*t).or_default().push((*s, why.clone()));
        }
        let failure = outcome.stopped.as_ref().map(|s| s.error().to_string());
        for t in &mut self.traces {
            let id = t.spans.first().map(|s| s.span_context.trace_id());
            if let Some(id) = id {
                t.delivery.sent.extend(sent.remove(&id).unwrap_or_default());
                t.delivery
                    .set_aside
                    .extend(aside.remove(&id).unwrap_or_default());
            }
            if t.delivery.in_flight.is_empty() {
                continue;
            }
            t.delivery.in_flight.clear();
            let still_pending = t.pending().next().is_some();
            t.delivery.failure = if still_pending { failure.clone() } else { None };
        }
    }

    /// Marks spans delivered by a request outside a run (the keepalive flush).
    pub fn mark_delivered(&mut self, keys: &[SpanKey]) {
        for t in &mut self.traces {
            for (trace, span) in keys {
                if t.spans.first().map(|s| s.span_context.trace_id()) == Some(*trace) {
                    t.delivery.sent.insert(*span);
                }
            }
        }
    }

    /// Spans not delivered nor set aside, being sent or not (none marked), for the flush
    /// on page hide: a request in flight dies with the page.
    pub fn unsent_spans(&self) -> Vec<SpanData> {
        self.traces
            .iter()
            .flat_map(|t| {
                let d = &t.delivery;
                t.spans.iter().filter(|s| {
                    let id = s.span_context.span_id();
                    !d.sent.contains(&id) && d.set_aside.iter().all(|(a, _)| *a != id)
                })
            })
            .cloned()
            .collect()
    }

    /// Traces with spans still to send, and their count of such spans.
    pub fn pending_count(&self) -> (usize, usize) {
        self.traces
            .iter()
            .map(|t| t.pending().count() + t.delivery.in_flight.len())
            .filter(|n| *n > 0)
            .fold((0, 0), |(traces, spans), n| (traces + 1, spans + n))
    }

    /// Puts back traces kept from an earlier visit, oldest first.
    pub fn restore(&mut self, traces: Vec<TraceRecord>) {
        self.traces.extend(traces);
        self.traces
            .sort_by_key(|t| t.spans.iter().map(|s| s.start_time).min());
    }

    /// Forgets the oldest exported traces until at most `max_traces` remain and their
    /// sizes (`size_of`, e.g. bytes kept in storage) add up to at most `max_bytes`.
    /// Traces with spans not yet delivered are never forgotten, however old: when they
    /// alone exceed the bounds, they all stay and [`Eviction::over`] says so.
    pub fn evict(
        &mut self,
        max_traces: usize,
        max_bytes: usize,
        size_of: impl Fn(&TraceRecord) -> usize,
    ) -> Eviction {
        let mut count = self.traces.len();
        let mut total: usize = self.traces.iter().map(&size_of).sum();
        let mut gone = HashSet::new();
        let newest = self.traces.len().saturating_sub(1);
        for (i, t) in self.traces.iter().enumerate() {
            if count <= max_traces && total <= max_bytes {
                break;
            }
            if i < newest && t.is_exported() {
                gone.insert(i);
                count -= 1;
                total -= size_of(t);
            }
        }
        let mut i = 0;
        self.traces.retain(|_| {
            i += 1;
            !gone.contains(&(i - 1))
        });
        Eviction {
            removed: gone.len(),
            over: count > max_traces || total > max_bytes,
        }
    }

    /// Applies a change another tab made.
    pub fn apply(&mut self, change: &StoreChange) {
        match change {
            StoreChange::Delivered(keys) => {
                let keys: Vec<SpanKey> = keys
                    .iter()
                    .filter_map(|(t, s)| {
                        Some((TraceId::from_hex(t).ok()?, SpanId::from_hex(s).ok()?))
                    })
                    .collect();
                self.mark_delivered(&keys);
            }
            StoreChange::Removed(id) => self.remove(id),
            StoreChange::Cleared => self.traces.clear(),
        }
    }

    /// Forgets the trace `trace_id`.
    pub fn remove(&mut self, trace_id: &str) {
        self.traces.retain(|t| t.trace_id != trace_id);
    }

    pub fn get(&self, trace_id: &str) -> Option<&TraceRecord> {
        self.traces.iter().find(|t| t.trace_id == trace_id)
    }
}

/// One span, ready to display.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanRow {
    pub span_id: String,
    pub name: String,
    /// OpenInference kind (`openinference.span.kind`), e.g. `RETRIEVER`.
    pub kind: String,
    /// `OK`, `ERROR` or `UNSET`.
    pub status: &'static str,
    pub status_message: String,
    pub depth: usize,
    /// Whether spans hang under this one (the row after it is one level deeper).
    pub has_children: bool,
    pub offset_ms: f64,
    pub duration_ms: f64,
    /// The attribute that says most about this kind of span.
    pub key_attribute: String,
    pub attributes: Vec<(String, String)>,
    pub events: Vec<EventRow>,
}

/// One span event, ready to display.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub name: String,
    pub offset_ms: f64,
    pub attributes: Vec<(String, String)>,
}

impl SpanRow {
    fn new(span: &SpanData, depth: usize, t0: SystemTime, has_children: bool) -> Self {
        let attributes: Vec<(String, String)> = span
            .attributes
            .iter()
            .map(|kv| (kv.key.to_string(), display_value(&kv.value)))
            .collect();
        let get = |k: &str| {
            attributes
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        let lookup = |k: &str| {
            attributes
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        // Spans from producers that follow OpenTelemetry's GenAI conventions instead.
        let kind = get(semconv::SPAN_KIND)
            .or_else(|| genai::kind(lookup).map(|k| k.as_str().to_string()))
            .unwrap_or_default();
        let key_attribute = match kind.as_str() {
            "RETRIEVER" => get(semconv::RETRIEVAL_QUERY),
            "EMBEDDING" => get(semconv::EMBEDDING_MODEL_NAME),
            "LLM" => {
                get(semconv::LLM_MODEL_NAME).or_else(|| genai::model(lookup).map(str::to_string))
            }
            "TOOL" => get(semconv::TOOL_NAME)
                .map(|t| format!("{t}: {}", get(semconv::INPUT_VALUE).unwrap_or_default())),
            _ => get(semconv::AGENT_ACTION).or_else(|| get(semconv::INPUT_VALUE)),
        }
        .unwrap_or_default();
        let (status, status_message) = match &span.status {
            Status::Ok => ("OK", String::new()),
            Status::Error { description } => ("ERROR", description.to_string()),
            Status::Unset => ("UNSET", String::new()),
        };
        SpanRow {
            span_id: span.span_context.span_id().to_string(),
            name: span.name.to_string(),
            kind,
            status,
            status_message,
            depth,
            has_children,
            offset_ms: ms_between(t0, span.start_time),
            duration_ms: ms_between(span.start_time, span.end_time),
            key_attribute,
            attributes,
            events: span
                .events
                .iter()
                .map(|e| EventRow {
                    name: e.name.to_string(),
                    offset_ms: ms_between(t0, e.timestamp),
                    attributes: e
                        .attributes
                        .iter()
                        .map(|kv| (kv.key.to_string(), kv.value.to_string()))
                        .collect(),
                })
                .collect(),
        }
    }

    /// The messages under `llm.input_messages` or `llm.output_messages` (the `prefix`),
    /// in order, as (role, content); a GenAI span's `gen_ai.*` messages when it has none.
    pub fn messages(&self, prefix: &str) -> Vec<(String, String)> {
        let found: Vec<(String, String)> = (0..)
            .map_while(|i| {
                let field = |f: &str| {
                    self.attribute(&format!("{prefix}.{i}.message.{f}"))
                        .map(str::to_string)
                };
                let (role, content) = (field("role"), field("content"));
                (role.is_some() || content.is_some())
                    .then(|| (role.unwrap_or_default(), content.unwrap_or_default()))
            })
            .collect();
        if !found.is_empty() {
            return found;
        }
        let side = if prefix.contains("output") {
            genai::Side::Output
        } else {
            genai::Side::Input
        };
        genai::messages(|k| self.attribute(k), side)
    }

    /// The retrieved documents, in rank order, as (id, score, content).
    pub fn documents(&self) -> Vec<(String, String, String)> {
        (0..)
            .map_while(|i| {
                let field = |f: &str| {
                    self.attribute(&semconv::retrieval_document(i, f))
                        .map(str::to_string)
                };
                Some((
                    field("id")?,
                    field("score").unwrap_or_default(),
                    field("content").unwrap_or_default(),
                ))
            })
            .collect()
    }

    /// The texts an embedding span embedded, in order.
    pub fn embedding_texts(&self) -> Vec<String> {
        (0..)
            .map_while(|i| {
                self.attribute(&semconv::embedding(i, "text"))
                    .map(str::to_string)
            })
            .collect()
    }

    /// `input.value` (`side` = `input`) or `output.value`, pretty-printed when its
    /// mime type says JSON and it parses as JSON.
    pub fn io_value(&self, side: &str) -> Option<String> {
        let value = self.attribute(&format!("{side}.value"))?;
        let json = self
            .attribute(&format!("{side}.mime_type"))
            .is_some_and(|m| m.contains("json"));
        Some(
            json.then(|| serde_json::from_str::<serde_json::Value>(value).ok())
                .flatten()
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or_else(|| value.to_string()),
        )
    }

    /// Every attribute as one JSON object (what the details panel copies).
    pub fn attributes_json(&self) -> String {
        let map: serde_json::Map<String, serde_json::Value> = self
            .attributes
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        serde_json::to_string_pretty(&map).expect("strings serialise")
    }

    /// An attribute's displayed value.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Numbers of an array attribute shown at most: embedding vectors run to thousands,
/// and formatting them all made the spans table slow (the export keeps them whole).
pub const MAX_ARRAY_SHOWN: usize = 64;

/// An attribute value as the page shows it: arrays longer than [`MAX_ARRAY_SHOWN`]
/// are cut, saying how long they are.
fn display_value(value: &Value) -> String {
    fn cut<T: std::fmt::Display>(items: &[T]) -> String {
        let shown: Vec<String> = items
            .iter()
            .take(MAX_ARRAY_SHOWN)
            .map(ToString::to_string)
            .collect();
        if items.len() > MAX_ARRAY_SHOWN {
            format!("[{}, … ({} values in all)]", shown.join(","), items.len())
        } else {
            format!("[{}]", shown.join(","))
        }
    }
    match value {
        Value::Array(Array::F64(v)) if v.len() > MAX_ARRAY_SHOWN => cut(v),
        Value::Array(Array::I64(v)) if v.len() > MAX_ARRAY_SHOWN => cut(v),
        other => other.to_string(),
    }
}

fn ms_between(a: SystemTime, b: SystemTime) -> f64 {
    b.duration_since(a)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}
