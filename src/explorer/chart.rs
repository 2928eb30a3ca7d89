//! The latency chart's series: for each question trace (a RAG or agent root), time in
//! retrieval, in generation, and in the rest (agent steps, tools, overhead).

use super::store::TraceStore;
use crate::telemetry::names::SpanName;
use crate::telemetry::semconv;

/// One question: its text and milliseconds in [retrieval, generation, other].
pub type LatencyBar = (String, [f64; 3]);

/// The newest `max` question traces, oldest first.
pub fn latency_series(store: &TraceStore, max: usize) -> Vec<LatencyBar> {
    let questions: Vec<_> = store
        .traces
        .iter()
        .filter(|t| {
            t.root().is_some_and(|r| {
                SpanName::RagPipeline.is(&r.name) || SpanName::AgentRun.is(&r.name)
            })
        })
        .collect();
    let skip = questions.len().saturating_sub(max);
    questions
        .into_iter()
        .skip(skip)
        .map(|t| {
            let r = t.time_in(SpanName::Retrieval);
            let g = t.time_in(SpanName::Generation);
            (
                t.root_attribute(semconv::INPUT_VALUE).unwrap_or_default(),
                [r, g, (t.duration_ms() - r - g).max(0.0)],
            )
        })
        .collect()
}
