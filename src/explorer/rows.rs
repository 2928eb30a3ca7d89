//! [`SpanRow`]s: a trace's span tree flattened depth-first (children by start time) and
//! made ready to display — what the span table, waterfall and details panel render.

use std::collections::{HashMap, HashSet};
use std::time::SystemTime;

use opentelemetry::trace::{SpanId, Status};
use opentelemetry::{Array, Value};
use opentelemetry_sdk::trace::SpanData;

use super::genai;
use super::store::TraceRecord;
use crate::telemetry::semconv::{self, SpanKind, StatusCode};

/// A document as a retriever span records it.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub id: String,
    /// The retriever's score, when the span records one that reads as a finite number
    /// (producers that write attributes as text write it as "0.9").
    pub score: Option<f64>,
    pub content: String,
    /// The document whose list this one carries on, when retrieval added it for that
    /// (`continues` in its metadata) rather than ranking it.
    pub continues: Option<String>,
}

impl TraceRecord {
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

/// One span, ready to display.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanRow {
    pub span_id: SpanId,
    pub name: String,
    /// OpenInference kind (`openinference.span.kind`, or read from `gen_ai.*`); `None`
    /// for spans that carry none a page knows.
    pub kind: Option<SpanKind>,
    pub status: StatusCode,
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

#[cfg(test)]
impl SpanRow {
    /// A CHAIN row, OK, without attributes: what the explorer's unit tests build trees of.
    pub(crate) fn for_test(
        span_id: SpanId,
        name: &str,
        depth: usize,
        offset_ms: f64,
        duration_ms: f64,
    ) -> SpanRow {
        SpanRow {
            span_id,
            name: name.into(),
            kind: Some(SpanKind::Chain),
            status: StatusCode::Ok,
            status_message: String::new(),
            depth,
            has_children: false,
            offset_ms,
            duration_ms,
            key_attribute: String::new(),
            attributes: Vec::new(),
            events: Vec::new(),
        }
    }
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
        let kind = match lookup(semconv::SPAN_KIND) {
            Some(k) => SpanKind::parse(k),
            None => genai::kind(lookup),
        };
        let key_attribute = match kind {
            Some(SpanKind::Retriever) => get(semconv::RETRIEVAL_QUERY),
            Some(SpanKind::Embedding) => get(semconv::EMBEDDING_MODEL_NAME),
            Some(SpanKind::Llm) => {
                get(semconv::LLM_MODEL_NAME).or_else(|| genai::model(lookup).map(str::to_string))
            }
            Some(SpanKind::Tool) => get(semconv::TOOL_NAME)
                .map(|t| format!("{t}: {}", get(semconv::INPUT_VALUE).unwrap_or_default())),
            _ => get(semconv::AGENT_ACTION).or_else(|| get(semconv::INPUT_VALUE)),
        }
        .unwrap_or_default();
        let status_message = match &span.status {
            Status::Error { description } => description.to_string(),
            _ => String::new(),
        };
        let status = StatusCode::of(&span.status);
        SpanRow {
            span_id: span.span_context.span_id(),
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

    /// The retrieved documents, in rank order.
    pub fn documents(&self) -> Vec<Document> {
        (0..)
            .map_while(|i| {
                let field = |f: &str| {
                    self.attribute(&semconv::retrieval_document(i, f))
                        .map(str::to_string)
                };
                let continues = field("metadata")
                    .and_then(|m| serde_json::from_str::<serde_json::Value>(&m).ok())
                    .and_then(|m| m[semconv::DOCUMENT_CONTINUES].as_str().map(str::to_string));
                Some(Document {
                    id: field("id")?,
                    score: field("score")
                        .and_then(|s| s.parse::<f64>().ok())
                        .filter(|s| s.is_finite()),
                    content: field("content").unwrap_or_default(),
                    continues,
                })
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

    /// The kind as the page shows it (empty when unknown).
    pub fn kind_label(&self) -> &'static str {
        self.kind.map_or("", SpanKind::as_str)
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

/// Milliseconds from `a` to `b` (0 when `b` is earlier).
pub(super) fn ms_between(a: SystemTime, b: SystemTime) -> f64 {
    b.duration_since(a)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}
