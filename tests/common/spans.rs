//! Spans to test with, made by a real `opentelemetry_sdk` provider.

use std::time::{Duration, SystemTime};

use opentelemetry::trace::{
    Span as _, Status, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Array, KeyValue, Value};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};

/// One ended span named `name` with `attributes`, as another producer might record it.
pub fn one(name: &'static str, attributes: Vec<KeyValue>) -> Vec<SpanData> {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let tracer = provider.tracer("elsewhere");
    let mut span = tracer.span_builder(name).start(&tracer);
    span.set_attributes(attributes);
    span.end();
    exporter.get_finished_spans().unwrap()
}

/// A parent and a child with attributes of every type, an event and an error status,
/// at nanosecond timestamps.
pub fn sample() -> Vec<SpanData> {
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
        // The last float is one serde_json's default parser reads an ulp off.
        KeyValue::new(
            "af",
            Value::Array(Array::F64(vec![0.5, -1.5, 1.185710957934368e-33])),
        ),
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
