//! The evaluation query set (`queries.jsonl`) and retrieval metrics: hit@k (the
//! expected section among the first k chunks) and MRR (mean reciprocal rank of the
//! first chunk from the expected section). `explorer::bench` reads the same figures,
//! plus latencies, back from benchmark traces.

use serde::Deserialize;
use thiserror::Error;

use super::engine::Engine;
use super::index::SearchMode;
use crate::rag::embed::HashEmbedder;

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

/// Whether `answer` states `fact`: the fact's words in order, ignoring case, spacing
/// and punctuation between them (an answer may wrap or quote it).
pub fn fact_in(answer: &str, fact: &str) -> bool {
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let (answer, fact) = (words(answer), words(fact));
    !fact.is_empty() && answer.windows(fact.len()).any(|w| w == fact.as_slice())
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
