//! OTLP round trips: protobuf and OTLP/JSON encode → decode keep every field the page
//! records; batches stay under the size limit; bad files are refused whole.
#![cfg(not(target_arch = "wasm32"))]

use std::time::{Duration, SystemTime};

use opentelemetry::trace::{
    Span as _, Status, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Array, KeyValue, Value};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use opentelemetry_sdk::Resource;
use ragtrace::telemetry::otlp::{self, OtlpError};
use ragtrace::telemetry::redact::{Redaction, REDACTED};

fn resource() -> Resource {
    Resource::builder_empty()
        .with_attributes([
            KeyValue::new("service.name", "ragtrace"),
            KeyValue::new("openinference.project.name", "p"),
        ])
        .build()
}

/// A parent and a child with attributes of every type, an event and an error status,
/// at nanosecond timestamps.
fn sample() -> Vec<SpanData> {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let tracer = provider.tracer("ragtrace");
    let t0 = SystemTime::UNIX_EPOCH + Duration::from_nanos(1_764_000_000_123_456_789);
    let mut parent = tracer
        .span_builder("rag_pipeline")
        .with_start_time(t0)
        .start(&tracer);
    let cx = opentelemetry::Context::new().with_remote_span_context(parent.span_context().clone());
    let mut child = tracer
        .span_builder("retrieval")
        .with_start_time(t0 + Duration::from_nanos(1_001))
        .start_with_context(&tracer, &cx);
    child.set_attributes([
        KeyValue::new("openinference.span.kind", "RETRIEVER"),
        KeyValue::new("s", "text ünïcode"),
        KeyValue::new("b", true),
        KeyValue::new("i", -42i64),
        KeyValue::new("f", 0.125),
        KeyValue::new(
            "as",
            Value::Array(Array::String(vec!["a".into(), "b".into()])),
        ),
        KeyValue::new("ai", Value::Array(Array::I64(vec![1, 2, 3]))),
        KeyValue::new("af", Value::Array(Array::F64(vec![0.5, -1.5]))),
        KeyValue::new("ab", Value::Array(Array::Bool(vec![true, false]))),
    ]);
    child.add_event_with_timestamp(
        "exception",
        t0 + Duration::from_nanos(2_002),
        vec![
            KeyValue::new("exception.type", "E"),
            KeyValue::new("exception.message", "broke"),
        ],
    );
    child.set_status(Status::error("broke"));
    child.end_with_timestamp(t0 + Duration::from_nanos(3_003));
    parent.set_status(Status::Ok);
    parent.end_with_timestamp(t0 + Duration::from_nanos(4_004));
    exporter.get_finished_spans().unwrap()
}

/// Remote-parent flag aside (the sample fakes a parent context), what must survive.
fn comparable(mut spans: Vec<SpanData>) -> Vec<SpanData> {
    spans
        .iter_mut()
        .for_each(|s| s.parent_span_is_remote = false);
    spans.sort_by_key(|s| s.name.to_string());
    spans
}

#[test]
fn protobuf_round_trip_keeps_every_field() {
    let spans = sample();
    let batches = otlp::encode_batches(spans.clone(), &resource(), otlp::MAX_BATCH_BYTES);
    assert_eq!(batches.len(), 1);
    let back = otlp::decode(&batches[0]).unwrap();
    assert_eq!(comparable(back), comparable(spans));
}

#[test]
fn json_round_trip_keeps_every_field_and_uses_the_standard_mapping() {
    let spans = sample();
    let json = otlp::to_json(spans.clone(), &resource());
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let span = &v["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
    let trace_id = span["traceId"].as_str().unwrap();
    assert_eq!(
        trace_id,
        spans[0].span_context.trace_id().to_string(),
        "hex trace id"
    );
    assert!(
        span["startTimeUnixNano"].is_string(),
        "int64 as string: {}",
        span["startTimeUnixNano"]
    );
    assert!(json.contains("1764000000123456789") || json.contains("1764000000123457790"));
    let project = &v["resourceSpans"][0]["resource"]["attributes"];
    assert!(project.to_string().contains("openinference.project.name"));
    assert_eq!(
        comparable(otlp::from_json(&json).unwrap()),
        comparable(spans)
    );
}

#[test]
fn bad_files_are_refused_with_a_reason() {
    assert!(matches!(
        otlp::from_json("not json"),
        Err(OtlpError::Json(_))
    ));
    assert!(matches!(
        otlp::from_json(r#"{"resourceSpans": []}"#),
        Err(OtlpError::NoSpans)
    ));
    let bad_id = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"abcd","spanId":"0102030405060708","name":"x","kind":1,"startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]}"#;
    match otlp::from_json(bad_id) {
        Err(e) => assert!(
            e.to_string().contains("trace id") || matches!(e, OtlpError::Json(_)),
            "{e}"
        ),
        Ok(s) => panic!("accepted a 2-byte trace id: {s:?}"),
    }
    assert!(otlp::decode(&[0xff, 0xff, 0xff]).is_err());
}

#[test]
fn batches_stay_under_the_limit_and_keep_every_span() {
    let one = sample();
    let many: Vec<SpanData> = (0..400).flat_map(|_| one.clone()).collect();
    let limit = 20_000;
    let batches = otlp::encode_batches(many.clone(), &resource(), limit);
    assert!(batches.len() > 5, "{} batches", batches.len());
    assert!(
        batches.iter().all(|b| b.len() <= limit),
        "{:?}",
        batches.iter().map(Vec::len).max()
    );
    let decoded: usize = batches.iter().map(|b| otlp::decode(b).unwrap().len()).sum();
    assert_eq!(decoded, many.len());
}

#[test]
fn redaction_replaces_values_before_encoding() {
    let mut spans = sample();
    spans.iter_mut().for_each(|s| {
        s.attributes
            .push(KeyValue::new("input.value", "secret question"))
    });
    let r = Redaction {
        hide_inputs: true,
        ..Default::default()
    };
    spans.iter_mut().for_each(|s| r.apply(s));
    let json = otlp::to_json(spans, &resource());
    assert!(!json.contains("secret question"));
    assert!(json.contains(REDACTED));
}

#[test]
fn traces_kept_between_visits_come_back_whole() {
    use ragtrace::telemetry::store::{ExportState, TraceRecord, TraceStore};
    let mut store = TraceStore::default();
    store.add(sample());
    let id = store.traces[0].trace_id.clone();
    store.set_export(
        std::slice::from_ref(&id),
        ExportState::Failed("Phoenix down".into()),
    );
    let text = store.traces[0].to_saved();
    let back = TraceRecord::from_saved(&text).unwrap();
    assert_eq!(back.trace_id, id);
    assert_eq!(back.export, ExportState::Failed("Phoenix down".into()));
    assert_eq!(
        comparable(back.spans.clone()),
        comparable(store.traces[0].spans.clone())
    );
    assert!(TraceRecord::from_saved("{broken").is_err());

    let mut fresh = TraceStore::default();
    fresh.restore(vec![back]);
    assert_eq!(fresh.traces.len(), 1);
    assert_eq!(fresh.traces.len(), 1);
}

#[test]
fn storage_keeps_the_newest_traces_within_count_and_size() {
    use ragtrace::telemetry::store::TraceStore;
    let mut store = TraceStore::default();
    for _ in 0..3 {
        store.add(sample());
    }
    let newest = store.traces[2].trace_id.clone();
    let bytes = |t: &ragtrace::telemetry::store::TraceRecord| t.to_saved().len();
    assert_eq!(store.evict(2, usize::MAX, bytes), 1, "count bound");
    let one = bytes(&store.traces[0]);
    assert_eq!(store.evict(10, one + one / 2, bytes), 1, "size bound");
    assert_eq!(store.evict(10, 0, bytes), 0, "the newest trace stays");
    assert_eq!(store.traces[0].trace_id, newest);
}
