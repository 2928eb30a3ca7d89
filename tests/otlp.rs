//! OTLP round trips: protobuf and OTLP/JSON encode → decode keep every field the page
//! records; batches stay under the size limit; bad files are refused whole.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::spans::sample;
use opentelemetry::trace::Status;
use opentelemetry::{KeyValue, Value};
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

/// A file in the shape of opentelemetry-proto's `examples/trace.json`: upper-case hex
/// ids, int64 as strings, scope attributes.
const PROTO_EXAMPLE: &str = r#"{
  "resourceSpans": [{
    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "my.service"}}]},
    "scopeSpans": [{
      "scope": {"name": "my.library", "version": "1.0.0",
                "attributes": [{"key": "my.scope.attribute", "value": {"stringValue": "some scope attribute"}}]},
      "spans": [{
        "traceId": "5B8EFFF798038103D269B633813FC60C",
        "spanId": "EEE19B7EC3C1B174",
        "parentSpanId": "EEE19B7EC3C1B173",
        "name": "I'm a server span",
        "startTimeUnixNano": "1544712660000000000",
        "endTimeUnixNano": "1544712661000000000",
        "kind": 2,
        "attributes": [{"key": "my.span.attr", "value": {"stringValue": "some value"}}]
      }]
    }]
  }]
}"#;

/// Two lines as the Collector's file exporter writes them: one request per line,
/// empty parent ids, an empty status, a schema URL.
const COLLECTOR_LINES: &str = concat!(
    r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},"scopeSpans":[{"scope":{},"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","parentSpanId":"","flags":1,"name":"GET /","kind":2,"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000500000000","attributes":[{"key":"http.response.status_code","value":{"intValue":"200"}}],"status":{}}]}],"schemaUrl":"https://opentelemetry.io/schemas/1.26.0"}]}"#,
    "\n",
    r#"{"resourceSpans":[{"resource":{},"scopeSpans":[{"scope":{"name":"db"},"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"00f067aa0ba902b7","parentSpanId":"b7ad6b7169203331","name":"SELECT","kind":3,"startTimeUnixNano":"1700000000100000000","endTimeUnixNano":"1700000000200000000","status":{"code":2,"message":"timeout"}}]}]}]}"#,
    "\n"
);

/// What Phoenix's "Download → OTLP JSON" writes: original field names, nulls, enum
/// names, numbers for int64 — and a producer that wrote its ids in base64.
const PHOENIX_DOWNLOAD: &str = r#"{"resource_spans":[{"resource":null,"scope_spans":[{"scope":null,"spans":[
  {"trace_id":"Cvdl>GRbNQ92ESOshHIAxnA==","span_id":"t61rcWkgMzE=","parent_span_id":null,"name":"agent_run",
   "kind":"SPAN_KIND_INTERNAL","start_time_unix_nano":1700000000000000000,"end_time_unix_nano":1700000000900000000,
   "attributes":[{"key":"openinference.span.kind","value":{"string_value":"AGENT"}},
                 {"key":"llm.token_count.total","value":{"int_value":42}}],
   "events":null,"status":{"code":"STATUS_CODE_OK","message":null},"dropped_attributes_count":null}
]}]}]}"#;

#[test]
fn files_written_by_other_producers_import() {
    let spans = otlp::from_json(PROTO_EXAMPLE).unwrap();
    assert_eq!(spans.len(), 1);
    assert_eq!(
        spans[0].span_context.trace_id().to_string(),
        "5b8efff798038103d269b633813fc60c"
    );
    assert_eq!(spans[0].span_kind, opentelemetry::trace::SpanKind::Server);
    assert_eq!(spans[0].instrumentation_scope.name(), "my.library");

    let spans = otlp::from_json(COLLECTOR_LINES).unwrap();
    assert_eq!(spans.len(), 2);
    assert_eq!(spans[1].parent_span_id, spans[0].span_context.span_id());
    assert_eq!(
        attr(&spans[0], "http.response.status_code"),
        Some(Value::I64(200))
    );
    assert!(matches!(&spans[1].status, Status::Error { description } if description == "timeout"));

    // The trace id above is not valid base64 (">"): the file is refused with a reason.
    let err = otlp::from_json(PHOENIX_DOWNLOAD).unwrap_err();
    assert!(
        err.to_string().contains("agent_run") || matches!(err, OtlpError::Json(_)),
        "{err}"
    );
    let good = PHOENIX_DOWNLOAD.replace("Cvdl>GRbNQ92ESOshHIAxnA==", "CvdlGRbNQ92ESOshHIAxnA==");
    let spans = otlp::from_json(&good).unwrap();
    assert_eq!(
        spans[0].span_context.trace_id().to_string(),
        "0af7651916cd43dd8448eb211c80319c"
    );
    assert_eq!(
        spans[0].span_context.span_id().to_string(),
        "b7ad6b7169203331"
    );
    assert_eq!(
        spans[0].parent_span_id,
        opentelemetry::trace::SpanId::INVALID
    );
    assert_eq!(spans[0].status, Status::Ok);
    assert_eq!(
        attr(&spans[0], "llm.token_count.total"),
        Some(Value::I64(42))
    );
    assert_eq!(
        spans[0]
            .end_time
            .duration_since(spans[0].start_time)
            .unwrap()
            .as_millis(),
        900
    );
}

/// Runs the opentelemetry-js fixture script and reads what its `JsonTraceSerializer`
/// wrote, with the page's import.
#[test]
fn files_written_by_opentelemetry_js_import() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = std::process::Command::new("node")
        .arg("tests/fixtures/otel-js-trace.js")
        .env("NODE_PATH", format!("{root}/.state/tools/node_modules"))
        .current_dir(root)
        .output()
        .expect("node runs (scripts/setup.sh installs it)");
    assert!(
        out.status.success(),
        "the fixture failed (scripts/setup.sh installs opentelemetry-js): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let spans = otlp::from_json(&String::from_utf8(out.stdout).unwrap()).unwrap();
    assert_eq!(spans.len(), 2);
    let child = spans.iter().find(|s| s.name == "retrieval").unwrap();
    let root_span = spans.iter().find(|s| s.name == "rag_pipeline").unwrap();
    assert_eq!(child.parent_span_id, root_span.span_context.span_id());
    assert_eq!(root_span.span_kind, opentelemetry::trace::SpanKind::Server);
    assert_eq!(attr(child, "i"), Some(Value::I64(-42)));
    assert_eq!(attr(child, "f"), Some(Value::F64(0.125)));
    assert_eq!(attr(child, "s"), Some(Value::from("text ünïcode")));
    assert_eq!(
        attr(child, "ai"),
        Some(Value::Array(opentelemetry::Array::I64(vec![1, 2, 3])))
    );
    assert!(matches!(&child.status, Status::Error { description } if description == "broke"));
    assert_eq!(child.events.len(), 1);
    assert_eq!(
        child
            .start_time
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
        1_764_000_000_123_457_789
    );
}

fn attr(span: &SpanData, key: &str) -> Option<Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.clone())
}

#[test]
fn genai_spans_from_other_producers_show_as_llm_spans() {
    let file = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{
      "traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"chat gpt-4o",
      "kind":3,"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000001000000000",
      "attributes":[
        {"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},
        {"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o"}},
        {"key":"gen_ai.usage.input_tokens","value":{"intValue":"12"}},
        {"key":"gen_ai.input.messages","value":{"stringValue":"[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"Hi\"}]}]"}}
      ]}]}]}]}"#;
    let mut store = ragtrace::explorer::store::TraceStore::default();
    store.add(otlp::from_json(file).unwrap());
    let rows = store.traces[0].rows();
    assert_eq!(
        rows[0].kind,
        Some(ragtrace::telemetry::semconv::SpanKind::Llm)
    );
    assert_eq!(rows[0].key_attribute, "gpt-4o");
    assert_eq!(
        rows[0].messages("llm.input_messages"),
        [("user".to_string(), "Hi".to_string())]
    );
    // The original attributes stay.
    assert_eq!(rows[0].attribute("gen_ai.usage.input_tokens"), Some("12"));
}
