//! The evaluation query set (`queries.jsonl`) and retrieval metrics: hit@k (the
//! expected section among the first k chunks) and MRR (mean reciprocal rank of the
//! first chunk from the expected section); [`BenchRow`] and [`BenchSummary`] read the
//! same figures, plus latencies, back from benchmark traces.

use serde::Deserialize;
use thiserror::Error;

use super::engine::Engine;
use super::index::SearchMode;
use crate::explorer::store::TraceRecord;
use crate::rag::embed::HashEmbedder;
use crate::telemetry::names::SpanName;
use crate::telemetry::semconv;
use opentelemetry::Value;
use opentelemetry_sdk::trace::SpanData;

/// One evaluation question.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Query {
    pub id: String,
    pub question: String,
    /// The section that answers it.
    pub section_id: String,
    /// A literal piece of that section holding the answer.
    pub fact: String,
}

/// A line of the query file that is not a query.
#[derive(Debug, Error)]
#[error("line {line} of the query file is not a query: {source}")]
pub struct QueryFileError {
    line: usize,
    source: serde_json::Error,
}

/// Parses JSON lines; blank lines are skipped.
pub fn parse_queries(jsonl: &str) -> Result<Vec<Query>, QueryFileError> {
    jsonl
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|source| QueryFileError {
                line: i + 1,
                source,
            })
        })
        .collect()
}

/// Retrieval quality over a query set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metrics {
    pub hit_at_1: f64,
    pub hit_at_3: f64,
    pub hit_at_5: f64,
    pub mrr: f64,
}

/// The 1-based rank of the first retrieved chunk from `section_id`, if any.
pub fn rank_of(engine: &Engine, hits: &[super::index::Hit], section_id: &str) -> Option<usize> {
    hits.iter()
        .position(|h| engine.index.chunks[h.chunk].section_id == section_id)
        .map(|p| p + 1)
}

impl Metrics {
    /// hit@k and MRR from the 1-based rank of each question's expected section.
    pub fn from_ranks(ranks: &[Option<usize>]) -> Metrics {
        let n = ranks.len().max(1) as f64;
        let hit_at =
            |k: usize| ranks.iter().filter(|r| r.is_some_and(|r| r <= k)).count() as f64 / n;
        Metrics {
            hit_at_1: hit_at(1),
            hit_at_3: hit_at(3),
            hit_at_5: hit_at(5),
            mrr: ranks
                .iter()
                .map(|r| r.map_or(0.0, |r| 1.0 / r as f64))
                .sum::<f64>()
                / n,
        }
    }
}

/// Measures `mode` with the local embedder, looking `depth` chunks deep.
pub fn measure(engine: &Engine, queries: &[Query], mode: SearchMode, depth: usize) -> Metrics {
    let ranks: Vec<Option<usize>> = queries
        .iter()
        .map(|q| {
            let hits =
                engine
                    .index
                    .search(mode, &q.question, &HashEmbedder.embed(&q.question), depth);
            rank_of(engine, &hits, &q.section_id)
        })
        .collect();
    Metrics::from_ranks(&ranks)
}

/// One benchmark question, read back from its trace (the seed's Part 6 table).
#[derive(Debug, Clone, PartialEq)]
pub struct BenchRow {
    pub query_id: String,
    pub question: String,
    pub ok: bool,
    pub top_score: f64,
    pub result_count: i64,
    pub answer_words: i64,
    pub total_ms: f64,
    pub retrieval_ms: f64,
    pub generation_ms: f64,
    /// Rank of the expected section among the first retrieval's documents.
    pub rank: Option<usize>,
}

impl BenchRow {
    pub fn from_trace(query: &Query, trace: &TraceRecord) -> BenchRow {
        let first_retrieval = trace
            .spans
            .iter()
            .filter(|s| SpanName::Retrieval.is(&s.name))
            .min_by_key(|s| s.start_time);
        let attr = |span: Option<&SpanData>, key: &str| {
            span.and_then(|s| s.attributes.iter().find(|kv| kv.key.as_str() == key))
                .map(|kv| kv.value.clone())
        };
        let number = |v: Option<Value>| match v {
            Some(Value::F64(f)) => f,
            Some(Value::I64(i)) => i as f64,
            _ => 0.0,
        };
        let sections: Vec<String> = (0..)
            .map_while(|i| attr(first_retrieval, &semconv::retrieval_document(i, "id")))
            .map(|id| {
                id.to_string()
                    .split(':')
                    .next()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        let last_generation = trace
            .spans
            .iter()
            .filter(|s| SpanName::Generation.is(&s.name))
            .max_by_key(|s| s.end_time);
        BenchRow {
            query_id: query.id.clone(),
            question: query.question.clone(),
            ok: !trace.has_error(),
            top_score: number(attr(first_retrieval, semconv::RETRIEVAL_TOP_SCORE)),
            result_count: number(attr(first_retrieval, semconv::RETRIEVAL_RESULT_COUNT)) as i64,
            answer_words: number(attr(last_generation, semconv::GENERATION_ANSWER_WORD_COUNT))
                as i64,
            total_ms: trace.duration_ms(),
            retrieval_ms: trace.time_in(SpanName::Retrieval),
            generation_ms: trace.time_in(SpanName::Generation),
            rank: sections
                .iter()
                .position(|s| *s == query.section_id)
                .map(|p| p + 1),
        }
    }
}

/// A benchmark run's summary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BenchSummary {
    pub metrics: Metrics,
    pub p50_ms: f64,
    pub p95_ms: f64,
}

impl BenchSummary {
    pub fn of(rows: &[BenchRow]) -> BenchSummary {
        let ranks: Vec<Option<usize>> = rows.iter().map(|r| r.rank).collect();
        let mut ms: Vec<f64> = rows.iter().map(|r| r.total_ms).collect();
        ms.sort_by(f64::total_cmp);
        // Nearest-rank percentile.
        let pct = |p: f64| {
            ms.get(((p * ms.len() as f64).ceil() as usize).saturating_sub(1))
                .copied()
                .unwrap_or(0.0)
        };
        BenchSummary {
            metrics: Metrics::from_ranks(&ranks),
            p50_ms: pct(0.5),
            p95_ms: pct(0.95),
        }
    }
}
