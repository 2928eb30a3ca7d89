//! OTLP round trips: protobuf and OTLP/JSON encode → decode keep every field the page
//! records; batches stay under the size limit; bad files are refused whole.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::spans::sample;
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::SpanData;
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
    assert_eq!(
        otlp::batches(spans.clone(), &resource(), otlp::MAX_BATCH_BYTES).len(),
        1
    );
    let back = otlp::decode(&otlp::encode(spans.clone(), &resource())).unwrap();
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
    let batches: Vec<Vec<u8>> = otlp::batches(many.clone(), &resource(), limit)
        .into_iter()
        .map(|b| otlp::encode(b, &resource()))
        .collect();
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
