//! [`TraceStore`]: finished spans grouped by trace, with what became of each span on its
//! way to Phoenix ([`Delivery`]), kept between visits ([`TraceRecord::to_saved`]),
//! bounded without dropping unexported work ([`TraceStore::evict`]) and kept in step
//! across tabs ([`StoreChange`]).

use std::collections::{HashMap, HashSet};
use std::time::SystemTime;

use opentelemetry::trace::{SpanId, Status, TraceId};
use opentelemetry::Value;
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_sdk::Resource;
use serde::{Deserialize, Serialize};

use super::cost::Spend;
use super::feedback::Feedback;
use super::rows::ms_between;
use crate::telemetry::delivery::{Outcome, SpanKey};
use crate::telemetry::export::DEFAULT_PROJECT;
use crate::telemetry::import::{ImportJob, Imported};
use crate::telemetry::names::SpanName;
use crate::telemetry::otlp::{self, OtlpError};
use crate::telemetry::semconv::StatusCode;
use crate::telemetry::{provider, semconv};

/// The attribute `key` of a finished span.
pub fn attribute<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

/// A number attribute (integer or float) as `f64`; `None` for any other value.
pub fn number(value: &Value) -> Option<f64> {
    match value {
        Value::F64(f) => Some(*f),
        Value::I64(i) => Some(*i as f64),
        _ => None,
    }
}

/// Where a trace stands with Phoenix, derived from its [`Delivery`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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
    pub trace_id: TraceId,
    pub spans: Vec<SpanData>,
    pub delivery: Delivery,
    /// The resource an imported trace was recorded under: it is exported under it, to
    /// the project it names. `None`: the page's own trace.
    pub resource: Option<Resource>,
    /// A person's verdict on the answer.
    pub feedback: Option<Feedback>,
}

impl TraceRecord {
    /// A trace not sent yet.
    pub fn new(trace_id: TraceId, spans: Vec<SpanData>) -> Self {
        TraceRecord {
            trace_id,
            spans,
            delivery: Delivery::default(),
            resource: None,
            feedback: None,
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
    pub fn time_in(&self, name: SpanName) -> f64 {
        self.spans
            .iter()
            .filter(|s| name.is(&s.name))
            .map(|s| ms_between(s.start_time, s.end_time))
            .sum()
    }

    /// The root span's attribute `key`, as text.
    pub fn root_attribute(&self, key: &str) -> Option<String> {
        attribute(self.root()?, key).map(Value::to_string)
    }

    /// Whether any span failed.
    pub fn has_error(&self) -> bool {
        self.spans
            .iter()
            .any(|s| matches!(s.status, Status::Error { .. }))
    }
}

/// A trace's spans, delivered and set-aside counts, state and feedback: when any
/// changes, the copy kept in storage is stale.
pub type Version = (usize, usize, usize, ExportState, Option<Feedback>);

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
    /// Recorded elsewhere and imported: the OTLP carries the trace's own resource.
    #[serde(default)]
    imported: bool,
    #[serde(default)]
    feedback: Option<Feedback>,
}

impl TraceRecord {
    /// The text kept for this trace.
    pub fn to_saved(&self) -> String {
        let d = &self.delivery;
        let saved = Saved {
            otlp: otlp::to_json(
                self.spans.clone(),
                self.resource
                    .as_ref()
                    .unwrap_or(&provider::resource(DEFAULT_PROJECT)),
            ),
            exported: false,
            failure: d.failure.clone(),
            sent: d.sent.iter().map(SpanId::to_string).collect(),
            set_aside: d
                .set_aside
                .iter()
                .map(|(s, why)| (s.to_string(), why.clone()))
                .collect(),
            imported: self.resource.is_some(),
            feedback: self.feedback.clone(),
        };
        serde_json::to_string(&saved).expect("saved traces serialise")
    }

    /// A trace back from [`TraceRecord::to_saved`]'s text.
    pub fn from_saved(text: &str) -> Result<TraceRecord, OtlpError> {
        let saved: Saved = serde_json::from_str(text)?;
        let read = ImportJob::new(saved.otlp).finish()?;
        let resource = read
            .first()
            .and_then(|(r, _)| r.clone())
            .filter(|_| saved.imported);
        let spans: Vec<SpanData> = read.into_iter().map(|(_, s)| s).collect();
        let trace_id = spans[0].span_context.trace_id();
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
            resource,
            feedback: saved.feedback,
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
            self.feedback.clone(),
        )
    }
}

/// One trace as the trace list shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceSummary {
    pub trace_id: TraceId,
    /// The root span's name (`rag_pipeline`, …).
    pub name: String,
    /// The root's `input.value`.
    pub question: String,
    pub status: StatusCode,
    pub export: ExportState,
    pub start: Option<SystemTime>,
    pub span_count: usize,
    pub duration_ms: f64,
    /// What its model calls cost, in words ([`Spend::label`]).
    pub cost: Option<String>,
    /// `good` or `bad`, when a person said.
    pub feedback: Option<&'static str>,
}

impl TraceRecord {
    pub fn summary(&self) -> TraceSummary {
        let root = self.root();
        TraceSummary {
            trace_id: self.trace_id,
            name: root.map(|r| r.name.to_string()).unwrap_or_default(),
            question: self
                .root_attribute(semconv::INPUT_VALUE)
                .unwrap_or_default(),
            status: if self.has_error() {
                StatusCode::Error
            } else {
                StatusCode::Ok
            },
            export: self.export(),
            start: root.map(|r| r.start_time),
            span_count: self.spans.len(),
            duration_ms: self.duration_ms(),
            cost: Spend::of_spans(&self.spans).label(),
            feedback: self.feedback.as_ref().map(Feedback::label),
        }
    }
}

/// Which traces the trace list shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TraceFilter {
    /// Case-insensitive text looked for in the question, root name and trace id.
    pub text: String,
    /// `None`: any status; `Some(true)`: only traces with an error span.
    pub errors: Option<bool>,
    /// The root span's name; `None`: any.
    pub root: Option<SpanName>,
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
                self.trace_id.to_string(),
            ]
            .iter()
            .any(|h| h.to_lowercase().contains(&needle));
        text_ok
            && filter.errors.is_none_or(|e| e == self.has_error())
            && filter.root.is_none_or(|r| r.is(&root))
    }
}

/// A change one tab tells the others, so their stores agree: what was delivered (so
/// no other tab sends it again), deleted or cleared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum StoreChange {
    /// (trace id, span id) in hex.
    Delivered(Vec<(String, String)>),
    /// A trace id in hex.
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
    pub fn add(&mut self, spans: Vec<SpanData>) -> Vec<TraceId> {
        let mut touched: Vec<TraceId> = Vec::new();
        for span in spans {
            let id = span.span_context.trace_id();
            let trace = match self.traces.iter().position(|t| t.trace_id == id) {
                Some(i) => &mut self.traces[i],
                None => {
                    self.traces.push(TraceRecord::new(id, Vec::new()));
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

    /// Files imported spans as [`TraceStore::add`] does, and keeps the resource each
    /// new trace was recorded under.
    pub fn add_imported(&mut self, imported: Imported) -> Vec<TraceId> {
        let known: HashSet<TraceId> = self.traces.iter().map(|t| t.trace_id).collect();
        let resources: HashMap<TraceId, Resource> = imported
            .iter()
            .filter_map(|(r, s)| Some((s.span_context.trace_id(), r.clone()?)))
            .collect();
        let touched = self.add(imported.into_iter().map(|(_, s)| s).collect());
        // A trace the page already had stays the page's.
        for t in self
            .traces
            .iter_mut()
            .filter(|t| !known.contains(&t.trace_id))
        {
            t.resource = resources.get(&t.trace_id).cloned();
        }
        touched
    }

    /// `spans` of this store grouped by the resource their trace goes under (`None`: the
    /// page's), in order of first appearance.
    pub fn by_resource(&self, spans: Vec<SpanData>) -> Vec<(Option<Resource>, Vec<SpanData>)> {
        let resource: HashMap<TraceId, Option<Resource>> = self
            .traces
            .iter()
            .map(|t| (t.trace_id, t.resource.clone()))
            .collect();
        let mut groups: Vec<(Option<Resource>, Vec<SpanData>)> = Vec::new();
        for span in spans {
            let r = resource
                .get(&span.span_context.trace_id())
                .cloned()
                .flatten();
            match groups.iter_mut().find(|(g, _)| *g == r) {
                Some((_, g)) => g.push(span),
                None => groups.push((r, vec![span])),
            }
        }
        groups
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
            StoreChange::Removed(id) => {
                if let Ok(id) = TraceId::from_hex(id) {
                    self.remove(id);
                }
            }
            StoreChange::Cleared => self.traces.clear(),
        }
    }

    /// Forgets the trace `trace_id`.
    pub fn remove(&mut self, trace_id: TraceId) {
        self.traces.retain(|t| t.trace_id != trace_id);
    }

    pub fn get(&self, trace_id: TraceId) -> Option<&TraceRecord> {
        self.traces.iter().find(|t| t.trace_id == trace_id)
    }

    /// Records a person's verdict on the answer of `trace_id` (replacing an earlier one).
    pub fn set_feedback(&mut self, trace_id: TraceId, feedback: Feedback) {
        if let Some(t) = self.traces.iter_mut().find(|t| t.trace_id == trace_id) {
            t.feedback = Some(feedback);
        }
    }

    /// Feedback Phoenix does not have yet on traces whose root span it has: (trace,
    /// root span, the trace's own resource, the feedback).
    pub fn feedback_to_send(&self) -> Vec<(TraceId, SpanId, Option<Resource>, Feedback)> {
        self.traces
            .iter()
            .filter_map(|t| {
                let feedback = t.feedback.as_ref().filter(|f| !f.sent)?;
                let root = t.root()?.span_context.span_id();
                t.delivery
                    .sent
                    .contains(&root)
                    .then(|| (t.trace_id, root, t.resource.clone(), feedback.clone()))
            })
            .collect()
    }

    /// What became of sending `sent`'s feedback: delivered, or why not. Feedback the
    /// person changed meanwhile stays to be sent.
    pub fn feedback_sent(
        &mut self,
        trace_id: TraceId,
        sent: &Feedback,
        outcome: Result<(), String>,
    ) {
        let Some(t) = self.traces.iter_mut().find(|t| t.trace_id == trace_id) else {
            return;
        };
        if let Some(f) = t
            .feedback
            .as_mut()
            .filter(|f| f.good == sent.good && f.note == sent.note)
        {
            match outcome {
                Ok(()) => {
                    f.sent = true;
                    f.failure = None;
                }
                Err(why) => f.failure = Some(why),
            }
        }
    }
}
