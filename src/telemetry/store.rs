//! [`TraceStore`]: finished spans grouped by trace, and [`SpanRow`]s — the flattened,
//! display-ready span tree (depth-first, children by start time) that the span table,
//! waterfall and details panel render.

use std::collections::{HashMap, HashSet};
use std::time::SystemTime;

use opentelemetry::trace::{SpanId, Status};
use opentelemetry::{Array, Value};
use opentelemetry_sdk::trace::SpanData;

use serde::{Deserialize, Serialize};

use super::otlp::{self, OtlpError};
use super::{provider, semconv};

/// Where a trace stands with Phoenix.
#[derive(Debug, Clone, PartialEq)]
pub enum ExportState {
    Pending,
    Sending,
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

/// The spans of one trace and its export state.
#[derive(Debug, Clone)]
pub struct TraceRecord {
    /// 32 hex digits.
    pub trace_id: String,
    pub spans: Vec<SpanData>,
    pub export: ExportState,
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

/// A trace as the page keeps it between visits: its OTLP/JSON and its export state.
#[derive(Serialize, Deserialize)]
struct Saved {
    otlp: String,
    exported: bool,
    failure: Option<String>,
}

impl TraceRecord {
    /// The text kept for this trace (a trace being sent is kept as pending).
    pub fn to_saved(&self) -> String {
        let saved = Saved {
            otlp: otlp::to_json(self.spans.clone(), &provider::resource("ragtrace")),
            exported: self.export == ExportState::Exported,
            failure: match &self.export {
                ExportState::Failed(reason) => Some(reason.clone()),
                _ => None,
            },
        };
        serde_json::to_string(&saved).expect("saved traces serialise")
    }

    /// A trace back from [`TraceRecord::to_saved`]'s text.
    pub fn from_saved(text: &str) -> Result<TraceRecord, OtlpError> {
        let saved: Saved = serde_json::from_str(text)?;
        let spans = otlp::from_json(&saved.otlp)?;
        let trace_id = spans[0].span_context.trace_id().to_string();
        let export = match (saved.exported, saved.failure) {
            (true, _) => ExportState::Exported,
            (false, Some(reason)) => ExportState::Failed(reason),
            (false, None) => ExportState::Pending,
        };
        Ok(TraceRecord {
            trace_id,
            spans,
            export,
        })
    }

    /// What decides whether the kept copy is stale: span count and export state.
    pub fn version(&self) -> (usize, ExportState) {
        (self.spans.len(), self.export.clone())
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

/// Every trace the page has seen, oldest first.
#[derive(Debug, Clone, Default)]
pub struct TraceStore {
    pub traces: Vec<TraceRecord>,
}

impl TraceStore {
    /// Files finished spans under their traces (a trace may arrive in several parts;
    /// a span already held, by id, is not added twice). Touched traces become pending.
    /// Returns the ids of the traces touched.
    pub fn add(&mut self, spans: Vec<SpanData>) -> Vec<String> {
        let mut touched: Vec<String> = Vec::new();
        for span in spans {
            let id = span.span_context.trace_id().to_string();
            let trace = match self.traces.iter().position(|t| t.trace_id == id) {
                Some(i) => &mut self.traces[i],
                None => {
                    self.traces.push(TraceRecord {
                        trace_id: id.clone(),
                        spans: Vec::new(),
                        export: ExportState::Pending,
                    });
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
                trace.export = ExportState::Pending;
            }
            if !touched.contains(&id) {
                touched.push(id);
            }
        }
        touched
    }

    /// Ids of the traces not exported and not being sent.
    pub fn unexported(&self) -> Vec<String> {
        self.traces
            .iter()
            .filter(|t| !matches!(t.export, ExportState::Exported | ExportState::Sending))
            .map(|t| t.trace_id.clone())
            .collect()
    }

    /// Every span of the traces `ids`.
    pub fn spans_of(&self, ids: &[String]) -> Vec<SpanData> {
        self.traces
            .iter()
            .filter(|t| ids.contains(&t.trace_id))
            .flat_map(|t| t.spans.iter().cloned())
            .collect()
    }

    /// Sets the export state of the traces `ids`.
    pub fn set_export(&mut self, ids: &[String], state: ExportState) {
        for t in self.traces.iter_mut().filter(|t| ids.contains(&t.trace_id)) {
            t.export = state.clone();
        }
    }

    /// Puts back traces kept from an earlier visit, oldest first.
    pub fn restore(&mut self, traces: Vec<TraceRecord>) {
        self.traces.extend(traces);
        self.traces
            .sort_by_key(|t| t.spans.iter().map(|s| s.start_time).min());
    }

    /// Forgets the oldest traces until at most `max_traces` remain and their sizes
    /// (`size_of`, e.g. bytes kept in storage) add up to at most `max_bytes`; the newest
    /// trace always stays. Returns how many went.
    pub fn evict(
        &mut self,
        max_traces: usize,
        max_bytes: usize,
        size_of: impl Fn(&TraceRecord) -> usize,
    ) -> usize {
        let mut gone = self.traces.len().saturating_sub(max_traces);
        let mut total: usize = self.traces[gone..].iter().map(&size_of).sum();
        while total > max_bytes && gone + 1 < self.traces.len() {
            total -= size_of(&self.traces[gone]);
            gone += 1;
        }
        self.traces.drain(..gone);
        gone
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
        let kind = get(semconv::SPAN_KIND).unwrap_or_default();
        let key_attribute = match kind.as_str() {
            "RETRIEVER" => get(semconv::RETRIEVAL_QUERY),
            "EMBEDDING" => get(semconv::EMBEDDING_MODEL_NAME),
            "LLM" => get(semconv::LLM_MODEL_NAME),
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
    /// in order, as (role, content).
    pub fn messages(&self, prefix: &str) -> Vec<(String, String)> {
        (0..)
            .map_while(|i| {
                let field = |f: &str| {
                    self.attribute(&format!("{prefix}.{i}.message.{f}"))
                        .map(str::to_string)
                };
                let (role, content) = (field("role"), field("content"));
                (role.is_some() || content.is_some())
                    .then(|| (role.unwrap_or_default(), content.unwrap_or_default()))
            })
            .collect()
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
