//! A benchmark, not a test: OTLP protobuf encoding speed inside headless Chromium.
//! Run by `make bench` (it prints figures and asserts nothing about speed).
#![cfg(target_arch = "wasm32")]

use ragtrace::rag::embed::HashEmbedder;
use ragtrace::rag::engine::Engine;
use ragtrace::rag::pipeline::{ask, AskOptions, Mode, Models};
use ragtrace::telemetry::{clock, otlp, provider::Telemetry, redact::Redaction};
use ragtrace::HANDBOOK_MD;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn otlp_encoding_speed_in_wasm() {
    let telemetry = Telemetry::new("bench");
    let engine = Engine::build(&[("handbook", HANDBOOK_MD)], &HashEmbedder)
        .await
        .unwrap();
    let models = || Models::offline();
    let opts = AskOptions {
        mode: Mode::Agent,
        ..Default::default()
    };
    let t = clock::now();
    for _ in 0..100 {
        ask(
            &engine,
            models(),
            &telemetry.tracer,
            "How much is the learning budget?",
            opts,
        )
        .await;
    }
    let ask_ms = clock::now().duration_since(t).unwrap().as_secs_f64() * 1e3;
    let spans = telemetry.take_finished(&Redaction::default());
    let n = spans.len();
    let t = clock::now();
    let bytes: usize = otlp::batches(spans, &telemetry.resource, otlp::MAX_BATCH_BYTES)
        .into_iter()
        .map(|b| otlp::encode(b, &telemetry.resource).len())
        .sum();
    let secs = clock::now().duration_since(t).unwrap().as_secs_f64();
    console_log!("wasm: 100 offline agent questions in {ask_ms:.1} ms ({n} spans)");
    console_log!(
        "wasm: encoded {n} spans to {bytes} bytes of OTLP protobuf in {:.1} ms = {:.0} spans/s",
        secs * 1e3,
        n as f64 / secs
    );
    assert!(bytes > 0);
}
