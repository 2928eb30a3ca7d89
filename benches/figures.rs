//! Prints speed figures (medians); asserts nothing. Run with `make bench`, which also
//! prints the release wasm size.

use std::time::{Duration, Instant};

#[path = "../tests/common/figures.rs"]
mod figures;
// Shared with the tests, which also read the handbook's vector file; the bench does not.
#[allow(dead_code)]
#[path = "../tests/common/minilm.rs"]
mod minilm_native;

use figures::Runs;

use futures_util::StreamExt;
use opentelemetry::trace::{Span as _, Tracer as _};
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::SpanData;
use pollster::block_on;
use ragtrace::explorer::query::SpanQuery;
use ragtrace::explorer::store::TraceStore;
use ragtrace::http::{HttpClient, HttpError, Request, Response};
use ragtrace::rag::embed::HashEmbedder;
use ragtrace::rag::engine::{Engine, IndexJob};
use ragtrace::rag::index::SearchMode;
use ragtrace::rag::pipeline::{ask, AskOptions, Models};
use ragtrace::rag::text;
use ragtrace::telemetry::delivery::deliver;
use ragtrace::telemetry::export::{ExportSettings, ExportTarget};
use ragtrace::telemetry::import::ImportJob;
use ragtrace::telemetry::otlp;
use ragtrace::telemetry::provider::Telemetry;
use ragtrace::telemetry::redact::Redaction;
use ragtrace::HANDBOOK_MD;

/// `n` runs of `f`, in microseconds.
fn time<T>(n: usize, mut f: impl FnMut() -> T) -> Runs {
    Runs::new(
        (0..n)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(f());
                t.elapsed().as_secs_f64() * 1e6
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
        "chunk+embed+index handbook: {}",
        time(20, build).spread("µs")
    );
    minilm_versus_candle_f32();
    let big = ten_megabytes_in_slices();
    match std::env::var("RAGTRACE_BENCH_PYTHON") {
        Ok(python) => versus_python(&big, &python),
        Err(_) => println!("(set RAGTRACE_BENCH_PYTHON to a Python with rank_bm25 and numpy to compare retrieval; `make bench` does)"),
    }
    drop(big);
    let q = "What is the maximum number of days an employee can work internationally?";
    for mode in SearchMode::ALL {
        let d = time(200, || {
            engine.index.search(mode, q, &HashEmbedder.embed(q), 5)
        });
        println!(
            "top-5 retrieval over the handbook ({}), incl. query embedding: {}",
            mode.as_str(),
            d.spread("µs")
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
        "create + end a span with 8 attributes (SDK, natively): {}",
        d.spread("µs")
    );

    let spans = spans_of_questions(&engine, &telemetry, 2_500);
    import_in_slices(&spans, &telemetry.resource);
    let n = spans.len();
    let d = time(5, || {
        otlp::batches(spans.clone(), &telemetry.resource, otlp::MAX_BATCH_BYTES)
            .into_iter()
            .map(|b| otlp::encode(b, &telemetry.resource))
            .collect::<Vec<_>>()
    });
    println!(
        "encode {n} spans to OTLP protobuf: {} = {:.0} spans/s",
        d.spread("µs"),
        n as f64 / (d.median() / 1e6)
    );
    let mut store = TraceStore::default();
    store.add(spans.iter().take(4_000).cloned().collect());
    let query = SpanQuery {
        name: "generation".into(),
        ..Default::default()
    };
    let d = time(5, || store.find_spans(&query).map(|f| f.len()));
    println!(
        "spans table over {} traces ({} spans), filtered by name: {}",
        store.traces.len(),
        4_000,
        d.spread("µs")
    );
    match std::env::var("RAGTRACE_BENCH_PHOENIX") {
        Ok(base) => {
            export_to_phoenix(&base, spans);
            deliver_through_flaky_proxy(&base, spans_of_questions(&engine, &telemetry, 2_500));
        }
        Err(_) => println!("(set RAGTRACE_BENCH_PHOENIX=http://127.0.0.1:PORT to time an export to Phoenix; `make bench` does)"),
    }
}

/// Importing a 50 MB OTLP/JSON file the way the page does (sliced), natively: the scan,
/// the longest slice, the whole.
fn import_in_slices(spans: &[SpanData], resource: &opentelemetry_sdk::Resource) {
    let per_span = otlp::to_json(spans[..100].to_vec(), resource).len() / 100;
    let many: Vec<SpanData> = spans
        .iter()
        .cycle()
        .take(50 * 1_048_576 / per_span)
        .cloned()
        .collect();
    let json = otlp::to_json(many.clone(), resource);
    let t = Instant::now();
    let mut job = ImportJob::new(json.clone());
    let (mut steps, mut longest) = (0, Duration::ZERO);
    loop {
        let s = Instant::now();
        let done = job.step().expect("the file imports");
        longest = longest.max(s.elapsed());
        steps += 1;
        if done {
            break;
        }
    }
    println!(
        "import {} MB of OTLP/JSON ({} spans) in {steps} slices: longest slice {longest:?}, all {:?}",
        json.len() / 1_048_576,
        many.len(),
        t.elapsed()
    );
}

/// Indexing 10 MB the way the page does (sliced), natively: parsing, the slices, the end.
fn ten_megabytes_in_slices() -> Engine {
    let big = figures::ten_megabyte_corpus();
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
    engine
}

/// BM25 and dense top-5 over the 10 MB corpus against rank_bm25 and numpy, on the same
/// chunks (as ragtrace tokenised and embedded them) and queries (the bundled query set),
/// in rounds of every query: benches/python/retrieval.py measures the Python side.
/// MiniLM's query embedding as the page's worker runs it (int8 rows, integer dot
/// products) beside candle's f32 linear layers over the published weights (what the
/// worker ran until then), on the same people-phrased questions, round by round.
/// `make bench` runs this with one thread, as the worker has.
fn minilm_versus_candle_f32() {
    let dir = minilm_native::dir();
    let read = |name: &str| std::fs::read(dir.join(name)).expect("setup fetched MiniLM");
    let tokenizer = String::from_utf8(read("tokenizer.json")).expect("UTF-8 tokenizer");
    let f32_model = minilm::MiniLm::from_files(&read("model.safetensors"), &tokenizer)
        .expect("the published weights load");
    let int8_model = minilm_native::NativeMiniLm::load().0;
    let questions = ragtrace::rag::eval::parse_queries(ragtrace::QUESTIONS_JSONL).unwrap();
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for q in questions.iter().take(15) {
        let ms = |model: &minilm::MiniLm| {
            let t = Instant::now();
            std::hint::black_box(model.embed(&q.question).expect("embeds"));
            t.elapsed().as_secs_f64() * 1e3
        };
        ours.push(ms(&int8_model));
        theirs.push(ms(&f32_model));
    }
    println!(
        "{}",
        figures::versus(
            "candle f32",
            "MiniLM query embedding natively, 15 people-phrased questions",
            "ms",
            &ours,
            &theirs
        )
    );
}

fn versus_python(engine: &Engine, python: &str) {
    const ROUNDS: usize = 7;
    let queries: Vec<String> = ragtrace::rag::eval::parse_queries(ragtrace::QUERIES_JSONL)
        .expect("the bundled queries parse")
        .into_iter()
        .map(|q| q.question)
        .collect();
    let vectors: Vec<Vec<f32>> = queries.iter().map(|q| HashEmbedder.embed(q)).collect();
    let index = &engine.index;
    let dir = std::env::temp_dir().join(format!("ragtrace-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let jsonl = |values: Vec<serde_json::Value>| {
        values
            .into_iter()
            .map(|v| v.to_string() + "\n")
            .collect::<String>()
    };
    let terms = (0..index.len())
        .map(|i| serde_json::json!(text::terms(&index.chunks[i].indexed_text())))
        .collect();
    let query_lines = queries
        .iter()
        .zip(&vectors)
        .map(|(q, v)| serde_json::json!({ "terms": text::terms(q), "vector": v }))
        .collect();
    let matrix: Vec<u8> = (0..index.len())
        .flat_map(|i| index.vector(i).into_iter().flat_map(f32::to_le_bytes))
        .collect();
    let written = std::fs::write(dir.join("terms.jsonl"), jsonl(terms))
        .and_then(|()| std::fs::write(dir.join("queries.jsonl"), jsonl(query_lines)))
        .and_then(|()| std::fs::write(dir.join("vectors.f32"), matrix));
    written.expect("the corpus is written for Python");
    // OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are set on this machine for old OpenBLAS
    // builds; they slow a current numpy, so this command alone goes without them.
    let output = std::process::Command::new(python)
        .arg("benches/python/retrieval.py")
        .arg(&dir)
        .arg(ROUNDS.to_string())
        .env_remove("OPENBLAS_CORETYPE")
        .env_remove("OPENBLAS_L2_SIZE")
        .output()
        .expect("the bench Python runs");
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        output.status.success(),
        "benches/python/retrieval.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let theirs: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("the Python side prints JSON");
    let figures = |key: &str| -> Vec<f64> {
        serde_json::from_value(theirs[key].clone()).expect("one figure per round")
    };
    let tops = |key: &str| -> Vec<Vec<usize>> {
        serde_json::from_value(theirs[key].clone()).expect("five chunks per query")
    };
    for (mode, tool, what, key) in [
        (SearchMode::Bm25, "rank_bm25", "BM25 top-5", "bm25"),
        (SearchMode::Dense, "numpy", "dense top-5", "dense"),
    ] {
        let ours: Vec<f64> = (0..ROUNDS)
            .map(|_| {
                let t = Instant::now();
                for (q, v) in queries.iter().zip(&vectors) {
                    std::hint::black_box(index.search(mode, q, v, 5));
                }
                t.elapsed().as_secs_f64() * 1e3 / queries.len() as f64
            })
            .collect();
        // By text: the corpus repeats the handbook, so equal chunks tie.
        let text_of = |c: usize| index.chunks[c].indexed_text();
        let same = queries
            .iter()
            .zip(&vectors)
            .zip(tops(&format!("{key}_top")))
            .filter(|((q, v), top)| {
                let theirs: Vec<String> = top.iter().map(|&c| text_of(c)).collect();
                index
                    .search(mode, q, v, 5)
                    .iter()
                    .all(|h| theirs.contains(&text_of(h.chunk)))
            })
            .count();
        println!(
            "{}; {} chunks, {} queries, the same top-5 set for {same} of them",
            figures::versus(tool, what, "ms", &ours, &figures(key)),
            index.len(),
            queries.len()
        );
    }
    println!(
        "numpy's BLAS: {}",
        theirs["blas"].as_str().unwrap_or("unknown")
    );
}

/// The spans of `questions` offline RAG questions (four spans each).
fn spans_of_questions(engine: &Engine, telemetry: &Telemetry, questions: usize) -> Vec<SpanData> {
    let models = || Models::offline();
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
    let target = bench_target(base, "bench");
    let t = Instant::now();
    let outcome = block_on(deliver(&Ureq, &target, spans));
    assert_eq!(outcome.stopped, None, "Phoenix accepts the spans");
    let sent = t.elapsed();
    let count = read_back(base, "bench", n);
    println!(
        "export {n} spans to Phoenix: sent in {:.2} s, {count} read back after {:.2} s",
        sent.as_secs_f64(),
        t.elapsed().as_secs_f64()
    );
}

fn bench_target(base: &str, project: &str) -> ExportTarget {
    let settings = ExportSettings {
        endpoint: format!("{base}/v1/traces"),
        project: project.into(),
        ..Default::default()
    };
    ExportTarget::parse(&settings, "", "http://bench").expect("valid endpoint")
}

/// Polls Phoenix until it holds `n` spans in `project` (or 15 minutes pass); the count.
fn read_back(base: &str, project: &str, n: usize) -> usize {
    let t = Instant::now();
    let mut count = 0;
    // Phoenix ingests asynchronously (and slowly for spans carrying vectors): poll
    // gently, since every count reads all spans back.
    while t.elapsed() < Duration::from_secs(900) {
        count = count_spans(base, project);
        if count >= n {
            break;
        }
        std::thread::sleep(Duration::from_secs(5));
    }
    count
}

/// Delivers `spans` the way the page does — runs until nothing is pending, each run
/// retrying what the last left — through [`Flaky`], and prints the delivery report.
fn deliver_through_flaky_proxy(base: &str, spans: Vec<SpanData>) {
    let n = spans.len();
    let target = bench_target(base, "bench-flaky");
    let flaky = Flaky::new(42);
    let mut store = TraceStore::default();
    store.add(spans);
    let (mut runs, mut set_aside) = (0, 0);
    while store.pending_count().0 > 0 && runs < 1_000 {
        runs += 1;
        let batch = store.begin_export();
        let outcome = block_on(deliver(&flaky, &target, batch));
        set_aside += outcome.set_aside.len();
        store.finish_export(&outcome);
    }
    let count = read_back(base, "bench-flaky", n - set_aside);
    let (requests, failed, forwarded_spans) = flaky.counts();
    println!(
        "delivery report (proxy failing 30 % of requests at random, seed 42, bodies over 1 MiB refused): spans made {n}, read back {count}, set aside {set_aside}, duplicates Phoenix ignored {}, lost {}; {requests} requests ({failed} failed) in {runs} runs",
        forwarded_spans.saturating_sub(count),
        n - set_aside - count.min(n - set_aside)
    );
}

/// A proxy in front of Phoenix that refuses bodies over 1 MiB (413) and fails 30 % of
/// requests at random (seeded): 503 or 502 before forwarding, a dropped connection, or
/// a 504 after Phoenix took the spans (so the retry sends duplicates).
struct Flaky {
    seed: std::cell::Cell<u64>,
    /// Requests, failed requests, spans that reached Phoenix.
    counts: std::cell::Cell<(usize, usize, usize)>,
}

impl Flaky {
    fn new(seed: u64) -> Self {
        Flaky {
            seed: std::cell::Cell::new(seed),
            counts: std::cell::Cell::new((0, 0, 0)),
        }
    }

    /// A number in [0, 1) from a 64-bit linear congruential generator.
    fn next(&self) -> f64 {
        let s = self
            .seed
            .get()
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.seed.set(s);
        (s >> 11) as f64 / (1u64 << 53) as f64
    }

    fn counts(&self) -> (usize, usize, usize) {
        self.counts.get()
    }

    fn count(&self, failed: bool, forwarded: usize) {
        let (r, f, s) = self.counts.get();
        self.counts
            .set((r + 1, f + usize::from(failed), s + forwarded));
    }
}

impl HttpClient for Flaky {
    async fn send(&self, request: Request) -> Result<Response, HttpError> {
        let answer = |status: u16| Response {
            status,
            headers: Vec::new(),
            body: futures_util::stream::empty().boxed_local(),
        };
        if request.body.len() > 1_048_576 {
            self.count(true, 0);
            return Ok(answer(413));
        }
        let roll = self.next();
        let spans = otlp::decode(&request.body).map_or(0, |s| s.len());
        if roll < 0.1 {
            self.count(true, 0);
            return Ok(answer(if roll < 0.05 { 503 } else { 502 }));
        }
        if roll < 0.2 {
            self.count(true, 0);
            return Err(HttpError::Network {
                url: request.url,
                server_answers: true,
            });
        }
        let forwarded = Ureq.send(request).await?;
        if roll < 0.3 {
            self.count(true, spans);
            return Ok(answer(504));
        }
        self.count(false, spans);
        Ok(forwarded)
    }

    async fn sleep(&self, _duration: Duration) {}

    fn now(&self) -> std::time::SystemTime {
        std::time::SystemTime::now()
    }
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
