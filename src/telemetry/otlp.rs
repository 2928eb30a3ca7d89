//! OTLP encoding with `opentelemetry-proto`: finished [`SpanData`] to an
//! `ExportTraceServiceRequest` (protobuf for Phoenix, or the standard OTLP/JSON mapping
//! for files), and back again for imports.
//!
//! Contract: `decode(encode(spans))` gives back the same ids, parent ids, kinds, names,
//! nanosecond timestamps, attributes of every type, events and status.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{Array, InstrumentationScope, KeyValue, StringValue, Value};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue};
use opentelemetry_proto::tonic::trace::v1::{span, status, ResourceSpans, Span};
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};
use opentelemetry_sdk::Resource;
use prost::Message;
use thiserror::Error;

use super::import::ImportJob;
use super::{otlp_json, semconv};

/// Phoenix (like most collectors) refuses bodies over 4 MB.
pub const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;

/// Why OTLP bytes or JSON could not be read.
#[derive(Debug, Error)]
pub enum OtlpError {
    #[error("not an OTLP protobuf trace request: {0}")]
    Protobuf(#[from] prost::DecodeError),
    #[error("not an OTLP/JSON trace file: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the file holds no spans")]
    NoSpans,
    #[error("span \"{name}\" has an invalid {field}")]
    InvalidId { name: String, field: &'static str },
}

/// The request carrying `spans` under `resource`, grouped by instrumentation scope.
pub fn request(spans: Vec<SpanData>, resource: &Resource) -> ExportTraceServiceRequest {
    let resource = ResourceAttributesWithSchema::from(resource);
    ExportTraceServiceRequest {
        resource_spans: group_spans_by_resource_and_scope(spans, &resource),
    }
}

/// `spans` cut into batches whose protobuf requests stay under `max_bytes` (a single
/// larger span goes alone), in order.
pub fn batches(spans: Vec<SpanData>, resource: &Resource, max_bytes: usize) -> Vec<Vec<SpanData>> {
    // Room for the resource and scope wrappers around the spans.
    let overhead = request(Vec::new(), resource).encoded_len() + 1024;
    let mut batches: Vec<Vec<SpanData>> = Vec::new();
    let mut current: Vec<SpanData> = Vec::new();
    let mut size = overhead;
    for s in spans {
        let span_len = Span::from(s.clone()).encoded_len() + 8;
        if !current.is_empty() && size + span_len > max_bytes {
            batches.push(std::mem::take(&mut current));
            size = overhead;
        }
        size += span_len;
        current.push(s);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

/// The protobuf `ExportTraceServiceRequest` of `spans` under `resource`.
pub fn encode(spans: Vec<SpanData>, resource: &Resource) -> Vec<u8> {
    request(spans, resource).encode_to_vec()
}

/// Reads a protobuf `ExportTraceServiceRequest`.
pub fn decode(bytes: &[u8]) -> Result<Vec<SpanData>, OtlpError> {
    spans_of(ExportTraceServiceRequest::decode(bytes)?)
}

/// The OTLP/JSON file of `spans` (hex ids, int64 nanoseconds as strings), compact as
/// opentelemetry-js and the Collector write it: smaller to store and faster to write.
pub fn to_json(spans: Vec<SpanData>, resource: &Resource) -> String {
    serde_json::to_string(&request(spans, resource)).expect("OTLP messages serialise")
}

/// Reads an OTLP/JSON file as producers write it (see [`super::otlp_json`]): one
/// request or one per line, either field spelling. Every span is validated before any
/// is returned. The page reads big files a slice at a time with
/// [`super::import::ImportJob`]; this is the same, at once.
pub fn from_json(json: &str) -> Result<Vec<SpanData>, OtlpError> {
    Ok(ImportJob::new(json.to_string())
        .finish()?
        .into_iter()
        .map(|(_, span)| span)
        .collect())
}

/// The spans of every request in `json`, normalised first, each with the resource it
/// was recorded under (`None` when the file gives none).
pub(super) fn spans_of_json(json: &str) -> Result<Vec<(Option<Resource>, SpanData)>, OtlpError> {
    let mut spans = Vec::new();
    for request in otlp_json::requests(json)? {
        let request: ExportTraceServiceRequest = serde_json::from_value(request)?;
        for mut rs in request.resource_spans {
            let resource = rs.resource.take().map(|r| {
                Resource::builder_empty()
                    .with_attributes(key_values(r.attributes))
                    .build()
            });
            let request = ExportTraceServiceRequest {
                resource_spans: vec![rs],
            };
            spans.extend(
                spans_of(request)?
                    .into_iter()
                    .map(|s| (resource.clone(), s)),
            );
        }
    }
    Ok(spans)
}

/// The Phoenix project `resource` names (`openinference.project.name`), if any.
pub fn project_of(resource: &Resource) -> Option<String> {
    resource
        .get(&opentelemetry::Key::from_static_str(semconv::PROJECT_NAME))
        .map(|v| v.to_string())
}

fn spans_of(req: ExportTraceServiceRequest) -> Result<Vec<SpanData>, OtlpError> {
    let mut out = Vec::new();
    for ResourceSpans { scope_spans, .. } in req.resource_spans {
        for ss in scope_spans {
            let scope = ss.scope.map_or_else(
                || InstrumentationScope::builder("").build(),
                |s| {
                    let mut b = InstrumentationScope::builder(s.name);
                    if !s.version.is_empty() {
                        b = b.with_version(s.version);
                    }
                    b.build()
                },
            );
            for span in ss.spans {
                out.push(span_data(span, scope.clone())?);
            }
        }
    }
    Ok(out)
}

fn span_data(s: Span, scope: InstrumentationScope) -> Result<SpanData, OtlpError> {
    let invalid = |field| OtlpError::InvalidId {
        name: s.name.clone(),
        field,
    };
    let trace_id: [u8; 16] = s
        .trace_id
        .as_slice()
        .try_into()
        .map_err(|_| invalid("trace id"))?;
    let span_id: [u8; 8] = s
        .span_id
        .as_slice()
        .try_into()
        .map_err(|_| invalid("span id"))?;
    let parent_span_id = match s.parent_span_id.len() {
        0 => SpanId::INVALID,
        8 => SpanId::from_bytes(s.parent_span_id.as_slice().try_into().expect("8 bytes")),
        _ => return Err(invalid("parent span id")),
    };
    let status = match s.status {
        Some(st) if st.code == status::StatusCode::Error as i32 => Status::error(st.message),
        Some(st) if st.code == status::StatusCode::Ok as i32 => Status::Ok,
        _ => Status::Unset,
    };
    let span_context = SpanContext::new(
        TraceId::from_bytes(trace_id),
        SpanId::from_bytes(span_id),
        TraceFlags::new((s.flags & 0xff) as u8),
        false,
        TraceState::default(),
    );
    let events = s
        .events
        .into_iter()
        .map(|e| {
            opentelemetry::trace::Event::new(
                e.name,
                time(e.time_unix_nano),
                key_values(e.attributes),
                e.dropped_attributes_count,
            )
        })
        .collect();
    let mut span_events = SpanEvents::default();
    span_events.events = events;
    span_events.dropped_count = s.dropped_events_count;
    Ok(SpanData {
        span_context,
        parent_span_id,
        parent_span_is_remote: s.flags & 0x200 != 0,
        span_kind: span_kind(s.kind),
        name: Cow::Owned(s.name),
        start_time: time(s.start_time_unix_nano),
        end_time: time(s.end_time_unix_nano),
        attributes: key_values(s.attributes),
        dropped_attributes_count: s.dropped_attributes_count,
        events: span_events,
        links: SpanLinks::default(),
        status,
        instrumentation_scope: scope,
    })
}

fn time(nanos: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_nanos(nanos)
}

fn span_kind(kind: i32) -> SpanKind {
    match span::SpanKind::try_from(kind) {
        Ok(span::SpanKind::Server) => SpanKind::Server,
        Ok(span::SpanKind::Client) => SpanKind::Client,
        Ok(span::SpanKind::Producer) => SpanKind::Producer,
        Ok(span::SpanKind::Consumer) => SpanKind::Consumer,
        _ => SpanKind::Internal,
    }
}

fn key_values(kvs: Vec<opentelemetry_proto::tonic::common::v1::KeyValue>) -> Vec<KeyValue> {
    kvs.into_iter()
        .filter_map(|kv| Some(KeyValue::new(kv.key, value(kv.value?)?)))
        .collect()
}

/// OTLP values to OpenTelemetry values; what OpenTelemetry cannot hold (maps, bytes,
/// mixed arrays) is kept as text rather than dropped.
fn value(v: AnyValue) -> Option<Value> {
    use any_value::Value as V;
    Some(match v.value? {
        V::StringValue(s) => Value::String(s.into()),
        V::BoolValue(b) => Value::Bool(b),
        V::IntValue(i) => Value::I64(i),
        V::DoubleValue(d) => Value::F64(d),
        V::ArrayValue(a) => {
            let items: Vec<V> = a.values.into_iter().filter_map(|x| x.value).collect();
            let array = if let Some(b) = all(&items, |x| {
                if let V::BoolValue(b) = x {
                    Some(*b)
                } else {
                    None
                }
            }) {
                Array::Bool(b)
            } else if let Some(i) = all(&items, |x| {
                if let V::IntValue(i) = x {
                    Some(*i)
                } else {
                    None
                }
            }) {
                Array::I64(i)
            } else if let Some(d) = all(&items, |x| {
                if let V::DoubleValue(d) = x {
                    Some(*d)
                } else {
                    None
                }
            }) {
                Array::F64(d)
            } else {
                Array::String(
                    items
                        .into_iter()
                        .map(|x| match x {
                            V::StringValue(s) => StringValue::from(s),
                            other => StringValue::from(format!("{other:?}")),
                        })
                        .collect(),
                )
            };
            Value::Array(array)
        }
        other => Value::String(format!("{other:?}").into()),
    })
}

/// Every item through `pick`, when it accepts them all.
fn all<T>(
    items: &[any_value::Value],
    pick: impl Fn(&any_value::Value) -> Option<T>,
) -> Option<Vec<T>> {
    items.iter().map(pick).collect()
}
