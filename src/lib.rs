//! ragtrace: a retrieval-augmented question answerer and a ReAct agent that run in the
//! browser, with every step recorded as an OpenTelemetry span carrying OpenInference
//! attributes.
//!
//! The crate is cut into rooms that depend one way:
//! - [`rag`]: the domain — corpus, chunking, embedding, retrieval, answering, the offline
//!   models, the agent
//!   loop and the traced pipelines. Plain Rust, no browser types, tested natively.
//! - [`http`]: the one HTTP seam (request, response with headers, typed errors) that
//!   the model client and the Phoenix export share.
//! - [`model`]: the chat and embedding model traits and the OpenAI-compatible client.
//! - [`telemetry`]: tracer provider, OpenInference keys, span helper, trace store,
//!   OTLP, redaction and delivery to Phoenix.
//! - [`explorer`]: what the trace explorer computes from traces (rows, timing, stats,
//!   flame graphs, comparison, cost, feedback). Plain Rust.
//! - [`phoenix`]: Phoenix's REST API beyond OTLP (feedback as span annotations).
//! - `browser` and `ui` (wasm32 only): thin browser I/O (fetch, storage, files) and the
//!   Leptos page, which only renders and wires signals.

pub mod app;
pub mod explorer;
pub mod http;
pub mod model;
pub mod phoenix;
pub mod rag;
pub mod secret;
pub mod telemetry;

#[cfg(target_arch = "wasm32")]
pub mod browser;
#[cfg(target_arch = "wasm32")]
pub mod ui;

/// The bundled employee handbook (markdown), the default corpus.
pub const HANDBOOK_MD: &str = include_str!("../www/data/handbook.md");
/// The bundled evaluation questions, one JSON object per line.
pub const QUERIES_JSONL: &str = include_str!("../www/data/queries.jsonl");
/// The second question set: questions as people ask them, paraphrased away from the
/// handbook's words (kept apart from [`QUERIES_JSONL`]).
pub const QUESTIONS_JSONL: &str = include_str!("../www/data/questions.jsonl");
