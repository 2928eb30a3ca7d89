//! A benchmark, not a test: the page's telemetry against opentelemetry-js in the same
//! headless Chromium, on the same workload (opentelemetry-js's own span benchmark: spans
//! with 8 attributes, 10,000 of them encoded). Run by `make bench`, which prints the
//! `vs opentelemetry-js` lines; it asserts nothing about speed.
#![cfg(target_arch = "wasm32")]

#[path = "../common/figures.rs"]
mod figures;

use opentelemetry_sdk::trace::SpanData;
use ragtrace::rag::embed::HashEmbedder;
use ragtrace::rag::engine::{Engine, IndexJob};
use ragtrace::rag::index::SearchMode;
use ragtrace::rag::pipeline::{ask, AskOptions, Mode, Models};
use ragtrace::telemetry::names::SpanName;
use ragtrace::telemetry::span::Traced;
use ragtrace::telemetry::{clock, otlp, provider::Telemetry, redact::Redaction};
use ragtrace::HANDBOOK_MD;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

// scripts/setup.sh bundles benches/otel-js/bench.mjs with opentelemetry-js into this file.
#[wasm_bindgen(module = "/.state/tools/otel-js-bench.js")]
extern "C" {
    #[wasm_bindgen(js_name = createSpans)]
    fn otel_create_spans(n: u32) -> f64;
    #[wasm_bindgen(js_name = encodeProtobuf)]
    fn otel_encode_protobuf() -> f64;
    #[wasm_bindgen(js_name = encodeJson)]
    fn otel_encode_json() -> f64;
    #[wasm_bindgen(js_name = jsonFile)]
    fn otel_json_file() -> String;
    #[wasm_bindgen(js_name = decodeJson)]
    fn otel_decode_json(text: &str) -> f64;
}

/// Spans per round, as in opentelemetry-js's benchmark.
const SPANS: usize = 10_000;
const ROUNDS: usize = 7;

fn ms_since(start: std::time::SystemTime) -> f64 {
    clock::now().duration_since(start).unwrap().as_secs_f64() * 1e3
}

/// `SPANS` spans through the page's own path ([`Traced`]), with the workload's 8
/// attributes: 4 strings, 3 ints, 1 float. The milliseconds it took.
fn create_spans(telemetry: &Telemetry) -> f64 {
    const TEXT: &str = "aaaaaaaaaaaaaaaaaaaa";
    let start = clock::now();
    for i in 0..SPANS as i64 {
        let span = Traced::root(&telemetry.tracer, SpanName::Generation);
        span.set("aaaaaaaaaaaaaaaaaaaa", TEXT);
        span.set("bbbbbbbbbbbbbbbbbbbb", TEXT);
        span.set("cccccccccccccccccccc", TEXT);
        span.set("dddddddddddddddddddd", TEXT);
        span.set("eeeeeeeeeeeeeeeeeeee", i);
        span.set("ffffffffffffffffffff", 2 * i);
        span.set("gggggggggggggggggggg", 3 * i);
        span.set("hhhhhhhhhhhhhhhhhhhh", i as f64 / 7.0);
    }
    ms_since(start)
}

fn time<T>(f: impl FnOnce() -> T) -> f64 {
    let start = clock::now();
    std::hint::black_box(f());
    ms_since(start)
}

#[wasm_bindgen_test]
async fn versus_opentelemetry_js() {
    let telemetry = Telemetry::new("bench");
    let per_span = |ms: f64| ms * 1e3 / SPANS as f64;
    let [mut span, mut protobuf, mut json, mut decode] = [(); 4].map(|()| (Vec::new(), Vec::new()));
    let mut spans: Vec<SpanData> = Vec::new();
    // Rounds alternate the two sides, so a slow moment of the machine hits both.
    for _ in 0..ROUNDS {
        span.0.push(per_span(create_spans(&telemetry)));
        span.1.push(per_span(otel_create_spans(SPANS as u32)));
        spans = telemetry.take_finished(&Redaction::default());
        let copy = spans.clone();
        protobuf
            .0
            .push(time(|| otlp::encode(copy, &telemetry.resource)));
        protobuf.1.push(otel_encode_protobuf());
        let copy = spans.clone();
        json.0
            .push(time(|| otlp::to_json(copy, &telemetry.resource)));
        json.1.push(otel_encode_json());
    }
    assert_eq!(spans.len(), SPANS);
    // Both read the same file: the one opentelemetry-js wrote.
    let file = otel_json_file();
    for _ in 0..ROUNDS {
        decode
            .0
            .push(time(|| otlp::from_json(&file).expect("the file reads")));
        decode.1.push(otel_decode_json(&file));
    }
    let lines = [
        ("span", "µs", span),
        ("protobuf encode", "ms", protobuf),
        ("JSON encode", "ms", json),
        ("JSON decode", "ms", decode),
    ];
    for (what, unit, (ours, theirs)) in lines {
        console_log!(
            "{}",
            figures::versus("opentelemetry-js", what, unit, &ours, &theirs)
        );
    }
    console_log!(
        "wasm: the JSON file decoded: {} spans, {} bytes (written by opentelemetry-js)",
        SPANS,
        file.len()
    );
}

#[wasm_bindgen_test]
async fn offline_questions_in_wasm() {
    let telemetry = Telemetry::new("bench");
    let engine = Engine::build(&[("handbook", HANDBOOK_MD)], &HashEmbedder)
        .await
        .unwrap();
    let opts = AskOptions {
        mode: Mode::Agent,
        ..Default::default()
    };
    let mut runs = Vec::new();
    for _ in 0..ROUNDS {
        let start = clock::now();
        for _ in 0..20 {
            ask(
                &engine,
                Models::offline(),
                &telemetry.tracer,
                "How much is the learning budget?",
                opts,
            )
            .await;
        }
        runs.push(ms_since(start) / 20.0);
        telemetry.take_finished(&Redaction::default());
    }
    console_log!(
        "wasm: one offline agent question: {}",
        figures::Runs::new(runs).spread("ms")
    );
}

#[wasm_bindgen_test]
async fn retrieval_over_ten_megabytes_in_wasm() {
    let big = figures::ten_megabyte_corpus();
    let start = clock::now();
    let mut job = IndexJob::new(&[("big.md", &big)]).expect("indexes");
    let parse = ms_since(start);
    let mut slices = Vec::new();
    loop {
        let slice = clock::now();
        let done = job.step(64 * 1024);
        slices.push(ms_since(slice));
        if done {
            break;
        }
    }
    let engine = job.finish();
    console_log!(
        "wasm: index 10 MB: {:.0} ms in all; parse {parse:.1} ms, then {} slices of 64 KB: {}",
        ms_since(start),
        slices.len(),
        figures::Runs::new(slices).spread("ms")
    );
    let q = "What is the maximum number of days an employee can work internationally?";
    for mode in SearchMode::ALL {
        let runs: Vec<f64> = (0..20)
            .map(|_| time(|| engine.index.search(mode, q, &HashEmbedder.embed(q), 5)))
            .collect();
        console_log!(
            "wasm: top-5 retrieval over the 10 MB corpus ({} chunks, {}), incl. query embedding: {}",
            engine.index.len(),
            mode.as_str(),
            figures::Runs::new(runs).spread("ms")
        );
    }
}
