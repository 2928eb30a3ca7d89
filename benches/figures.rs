//! Prints speed figures (medians); asserts nothing. Run with `make bench`, which also
//! prints the release wasm size.

use std::time::{Duration, Instant};

use opentelemetry::trace::{Span as _, Tracer as _};
use opentelemetry::KeyValue;
use pollster::block_on;
use ragtrace::rag::embed::HashEmbedder;
use ragtrace::rag::engine::Engine;
use ragtrace::rag::index::SearchMode;
use ragtrace::telemetry::provider::Telemetry;
use ragtrace::telemetry::redact::Redaction;
use ragtrace::HANDBOOK_MD;

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn time<T>(n: usize, mut f: impl FnMut() -> T) -> Duration {
    median(
        (0..n)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(f());
                t.elapsed()
            })
            .collect(),
    )
}

fn main() {
    let build = || {
        block_on(Engine::build(&[("handbook", HANDBOOK_MD)], &HashEmbedder))
            .expect("handbook indexes")
    };
    let engine = build();
    println!(
        "handbook: {} bytes, {} sections, {} chunks",
        HANDBOOK_MD.len(),
        engine.sections.len(),
        engine.index.len()
    );
    println!(
        "chunk+embed+index handbook: {:?} (median of 20)",
        time(20, build)
    );
    let q = "What is the maximum number of days an employee can work internationally?";
    for mode in SearchMode::ALL {
        let d = time(200, || {
            engine.index.search(mode, q, &HashEmbedder.embed(q), 5)
        });
        println!(
            "top-5 retrieval ({}), incl. query embedding: {:?} (median of 200)",
            mode.as_str(),
            d
        );
    }
    let telemetry = Telemetry::new("bench");
    let d = time(10_000, || {
        let mut span = telemetry.tracer.start("bench");
        for i in 0..8 {
            span.set_attribute(KeyValue::new(format!("attr.{i}"), i as i64));
        }
        span.end();
    });
    telemetry.take_finished(&Redaction::default());
    println!(
        "create + end a span with 8 attributes: {:?} (median of 10000)",
        d
    );
}
