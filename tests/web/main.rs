//! Browser-side checks in headless Chromium (wasm-bindgen-test): the SDK provider and
//! its buffering exporter, the clock's resolution, and the trace store.
#![cfg(target_arch = "wasm32")]

use ragtrace::explorer::store::TraceStore;
use ragtrace::rag::embed::HashEmbedder;
use ragtrace::rag::engine::Engine;
use ragtrace::rag::pipeline::{ask, AskOptions, Mode, Models};
use ragtrace::telemetry::clock;
use ragtrace::telemetry::provider::Telemetry;
use ragtrace::telemetry::redact::Redaction;
use ragtrace::HANDBOOK_MD;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn clock_resolves_below_a_millisecond() {
    // `Date.now()` would give whole milliseconds: look for a sub-millisecond part.
    let fractional = (0..50).any(|_| clock::unix_nanos(clock::now()) % 1_000_000 != 0);
    assert!(fractional, "clock has millisecond resolution only");
    let a = clock::unix_nanos(clock::now());
    let b = clock::unix_nanos(clock::now());
    assert!(b >= a);
    let now_ms = js_sys::Date::now();
    assert!(
        (a as f64 / 1e6 - now_ms).abs() < 5_000.0,
        "clock agrees with Date.now()"
    );
}

#[wasm_bindgen_test]
async fn provider_buffers_spans_and_the_store_builds_the_tree() {
    let telemetry = Telemetry::new("web-test");
    let engine = Engine::build(&[("handbook", HANDBOOK_MD)], &HashEmbedder)
        .await
        .unwrap();
    let models = Models::offline();
    let opts = AskOptions {
        mode: Mode::Agent,
        ..Default::default()
    };
    let outcome = ask(
        &engine,
        models,
        &telemetry.tracer,
        "How much is the learning budget?",
        opts,
    )
    .await;
    assert!(outcome.result.is_ok());

    let spans = telemetry.take_finished(&Redaction::default());
    assert!(spans.len() >= 6, "{} spans", spans.len());
    assert!(
        telemetry.take_finished(&Redaction::default()).is_empty(),
        "take drains the buffer"
    );
    let mut store = TraceStore::default();
    store.add(spans);
    assert_eq!(store.traces.len(), 1);
    let trace = store.get(outcome.trace_id).unwrap();
    let rows = trace.rows();
    assert_eq!(rows[0].name, "agent_run");
    assert_eq!(rows[0].depth, 0);
    assert!(
        rows.iter()
            .any(|r| r.name == "CreateEmbeddings" && r.depth == 4),
        "agent_run > step > retrieve > retrieval > embeddings"
    );
    assert!(rows
        .iter()
        .all(|r| r.status == ragtrace::telemetry::semconv::StatusCode::Ok));
    assert!(trace.duration_ms() > 0.0);
    // Timestamps are real wall-clock times, not the SDK's millisecond fallback.
    let start = trace
        .spans
        .iter()
        .map(|s| clock::unix_nanos(s.start_time))
        .min()
        .unwrap();
    assert!((start as f64 / 1e6 - js_sys::Date::now()).abs() < 60_000.0);
}
