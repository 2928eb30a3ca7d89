//! Prints speed figures (medians); asserts nothing. Run with `make bench`, which also
//! prints the release wasm size.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use opentelemetry::trace::{Span as _, Tracer as _};
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::SpanData;
use pollster::block_on;
use ragtrace::http::{HttpClient, HttpError, Request, Response};
use ragtrace::model::offline::OfflineChat;
use ragtrace::rag::embed::HashEmbedder;
use ragtrace::rag::engine::{Engine, IndexJob};
use ragtrace::rag::index::SearchMode;
use ragtrace::rag::pipeline::{ask, AskOptions, Models};
use ragtrace::telemetry::delivery::deliver;
use ragtrace::telemetry::export::{ExportSettings, ExportTarget};
use ragtrace::telemetry::otlp;
use ragtrace::telemetry::provider::Telemetry;
use ragtrace::telemetry::query::SpanQuery;
use ragtrace::telemetry::redact::Redaction;
use ragtrace::telemetry::store::TraceStore;
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
    ten_megabytes_in_slices();
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
    println!("create + end a span with 8 attributes: {d:?} (median of 10000)");

    let spans = spans_of_questions(&engine, &telemetry, 2_500);
    let n = spans.len();
    let d = time(5, || {
        otlp::batches(spans.clone(), &telemetry.resource, otlp::MAX_BATCH_BYTES)
            .into_iter()
            .map(|b| otlp::encode(b, &telemetry.resource))
            .collect::<Vec<_>>()
    });
    println!(
        "encode {n} spans to OTLP protobuf: {d:?} = {:.0} spans/s (median of 5)",
        n as f64 / d.as_secs_f64()
    );
    let mut store = TraceStore::default();
    store.add(spans.iter().take(4_000).cloned().collect());
    let query = SpanQuery {
        name: "generation".into(),
        ..Default::default()
    };
    let d = time(5, || store.find_spans(&query).map(|f| f.len()));
    println!(
        "spans table over {} traces ({} spans), filtered by name: {d:?} (median of 5)",
        store.traces.len(),
        4_000
    );
    match std::env::var("RAGTRACE_BENCH_PHOENIX") {
        Ok(base) => export_to_phoenix(&base, spans),
        Err(_) => println!("(set RAGTRACE_BENCH_PHOENIX=http://127.0.0.1:PORT to time an export to Phoenix; `make bench` does)"),
    }
}

/// Indexing 10 MB the way the page does (sliced), natively: parsing, the slices, the end.
fn ten_megabytes_in_slices() {
    let mut big = String::new();
    let mut copy = 0;
    while big.len() < 10 * 1_048_576 {
        copy += 1;
        big.push_str(&format!("# Handbook copy {copy}\n"));
        big.push_str(&HANDBOOK_MD.replace("{#", &format!("{{#c{copy}-")));
    }
    let t = Instant::now();
    let mut job = IndexJob::new(&[("big.md", &big)]).expect("indexes");
    let parsed = t.elapsed();
    let (mut slices, mut longest) = (0, Duration::ZERO);
    loop {
        let s = Instant::now();
        let done = job.step(64 * 1024);
        longest = longest.max(s.elapsed());
        slices += 1;
        if done {
            break;
        }
    }
    let s = Instant::now();
    let engine = job.finish();
    println!(
        "index 10 MB in 64 KB slices: {:?} in all ({} chunks); parse {parsed:?}, {slices} slices (longest {longest:?}), finish {:?}",
        t.elapsed(),
        engine.index.len(),
        s.elapsed()
    );
}

/// The spans of `questions` offline RAG questions (four spans each).
fn spans_of_questions(engine: &Engine, telemetry: &Telemetry, questions: usize) -> Vec<SpanData> {
    let models = || Models {
        chat: &OfflineChat,
        embedder: &HashEmbedder,
        live: None,
    };
    for i in 0..questions {
        let q = format!("How many days can I work abroad? ({i})");
        block_on(ask(
            engine,
            models(),
            &telemetry.tracer,
            &q,
            AskOptions::default(),
        ));
    }
    telemetry.take_finished(&Redaction::default())
}

/// Exports `spans` to the Phoenix at `base` and counts them back through its REST API.
fn export_to_phoenix(base: &str, spans: Vec<SpanData>) {
    let n = spans.len();
    let settings = ExportSettings {
        endpoint: format!("{base}/v1/traces"),
        project: "bench".into(),
        ..Default::default()
    };
    let target = ExportTarget::parse(&settings, "", "http://bench").expect("valid endpoint");
    let t = Instant::now();
    let outcome = block_on(deliver(&Ureq, &target, spans));
    assert_eq!(outcome.stopped, None, "Phoenix accepts the spans");
    let sent = t.elapsed();
    let mut count = 0;
    // Phoenix ingests asynchronously (and slowly for spans carrying vectors): poll
    // gently, since every count reads all spans back.
    while t.elapsed() < Duration::from_secs(900) {
        count = count_spans(base, "bench");
        if count >= n {
            break;
        }
        std::thread::sleep(Duration::from_secs(5));
    }
    println!(
        "export {n} spans to Phoenix: sent in {:.2} s, {count} read back after {:.2} s",
        sent.as_secs_f64(),
        t.elapsed().as_secs_f64()
    );
}

fn count_spans(base: &str, project: &str) -> usize {
    let mut count = 0;
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{base}/v1/projects/{project}/spans?limit=1000");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let Ok(mut resp) = ureq::get(&url).call() else {
            return count;
        };
        let page: serde_json::Value = resp.body_mut().read_json().unwrap_or_default();
        count += page["data"].as_array().map_or(0, Vec::len);
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return count,
        }
    }
}

/// Blocking HTTP for the benchmark (the page uses fetch).
struct Ureq;

impl HttpClient for Ureq {
    async fn send(&self, request: Request) -> Result<Response, HttpError> {
        let mut call = ureq::post(&request.url)
            .config()
            .http_status_as_error(false)
            .timeout_global(Some(request.timeout))
            .build();
        for (name, value) in &request.headers {
            call = call.header(*name, value);
        }
        let mut answer = call
            .send(&request.body[..])
            .map_err(|e| HttpError::Broken(e.to_string()))?;
        let body = answer.body_mut().read_to_vec().unwrap_or_default();
        Ok(Response {
            status: answer.status().as_u16(),
            headers: Vec::new(),
            body: futures_util::stream::iter([Ok(body)]).boxed_local(),
        })
    }

    async fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }

    fn now(&self) -> std::time::SystemTime {
        std::time::SystemTime::now()
    }
}
