//! The error-path demo, as one trace: an empty query
//! (the retriever returns nothing, and that is not an error) and a simulated retriever
//! failure (status ERROR with an `exception` event).

use thiserror::Error;

use super::engine::Engine;
use super::pipeline::{retrieve, AskOptions};
use crate::rag::embed::HashEmbedder;
use crate::telemetry::names::SpanName;
use crate::telemetry::semconv as sc;
use crate::telemetry::span::Traced;
use opentelemetry::trace::TraceId;
use opentelemetry_sdk::trace::SdkTracer;

/// The failure the demo simulates.
#[derive(Debug, Error)]
#[error("Simulated retriever failure: index unavailable")]
pub struct IndexUnavailable;

/// Records the demo trace; returns its trace id.
pub async fn error_paths(engine: &Engine, tracer: &SdkTracer) -> TraceId {
    let root = Traced::root(tracer, SpanName::ErrorPathDemo);
    root.set(
        sc::INPUT_VALUE,
        "an empty query, then a retriever that fails",
    );
    // The empty query: a retrieval span with no results, status OK.
    let empty = retrieve(
        &root,
        engine,
        &HashEmbedder,
        "",
        AskOptions {
            top_k: 3,
            ..Default::default()
        },
    )
    .await;
    let failure = root.child(SpanName::RetrievalErrorExample);
    failure.set(sc::RETRIEVAL_QUERY, "What is the international work limit?");
    failure.fail(&IndexUnavailable);
    failure.end();
    root.set(
        sc::OUTPUT_VALUE,
        format!(
            "empty query: {} results; simulated failure: recorded as ERROR",
            empty.map_or(0, |p| p.len())
        ),
    );
    root.trace_id()
}
