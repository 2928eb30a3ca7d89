//! [`rerank`]: a second, closer look at retrieval's candidates. Retrieval gathers
//! [`CANDIDATES`] chunks cheaply (hybrid search); the reranker scores each of them on
//! three normalised parts and keeps the best `top_k`:
//!
//! - **similarity**: the cosine of the query and chunk vectors (the embedder's judgement
//!   of meaning), averaged with the query's cosine to the chunk's closest sentence when
//!   the embedder runs in the page (a chunk is several things at once; the sentence that
//!   answers is one of them), scaled so the best candidate has 1 and the worst 0;
//! - **bm25**: the chunk's BM25 score for the query over the best candidate's;
//! - **heading**: the share of the query's terms found in the chunk's section title and
//!   sub-heading (a question about "exceeding the limit" belongs under that heading).
//!
//! Unlike reciprocal-rank fusion, the parts keep their margins: a chunk far more similar
//! than the rest is not pulled level by a keyword match. The `rerank` span records the
//! parts of every chunk it outputs, so a trace shows why each chunk won.

use super::index::{Hit, Index};
use super::text;

/// Reported as `reranker.model_name`.
pub const MODEL_NAME: &str = "ragtrace-hybrid-reranker (local)";
/// How many chunks retrieval hands the reranker.
pub const CANDIDATES: usize = 20;

const SIMILARITY_WEIGHT: f32 = 0.6;
const BM25_WEIGHT: f32 = 0.25;
const HEADING_WEIGHT: f32 = 0.15;

/// Why a chunk ranks where it does: its parts, each in 0..=1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Parts {
    pub similarity: f32,
    pub bm25: f32,
    pub heading: f32,
}

impl Parts {
    pub fn score(self) -> f32 {
        SIMILARITY_WEIGHT * self.similarity
            + BM25_WEIGHT * self.bm25
            + HEADING_WEIGHT * self.heading
    }
}

/// A candidate after reranking: its hit (with `score` now the reranker's), its
/// retrieval rank (1-based), its parts, and the query's cosine to its closest sentence
/// when that was measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ranked {
    pub hit: Hit,
    pub candidate_rank: usize,
    pub parts: Parts,
    pub closest_sentence: Option<f32>,
}

/// The best `top_k` of `candidates` for `query`, best first; ties keep retrieval order.
/// `closest_sentence`, when given, holds each candidate's closest-sentence cosine
/// ([`crate::rag::engine::Engine::closest_sentences`]), in the candidates' order.
pub fn rerank(
    index: &Index,
    query: &str,
    candidates: &[Hit],
    closest_sentence: Option<&[f32]>,
    top_k: usize,
) -> Vec<Ranked> {
    let bm25 = index.bm25_scores(query);
    let bm25_of = |h: &Hit| bm25.get(&h.chunk).copied().unwrap_or(0.0);
    let best_bm25 = candidates.iter().map(bm25_of).fold(0.0, f32::max);
    let closest = |i: usize| closest_sentence.and_then(|c| c.get(i).copied());
    let meaning: Vec<f32> = candidates
        .iter()
        .enumerate()
        .map(|(i, h)| closest(i).map_or(h.similarity, |s| (h.similarity + s) / 2.0))
        .collect();
    let (low, high) = meaning
        .iter()
        .fold((f32::MAX, f32::MIN), |(lo, hi), m| (lo.min(*m), hi.max(*m)));
    let query_terms = text::terms(query);
    let mut ranked: Vec<Ranked> = candidates
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let chunk = &index.chunks[h.chunk];
            let heading_terms = text::terms(&format!(
                "{} {}",
                chunk.section_title,
                chunk.heading.as_deref().unwrap_or_default()
            ));
            let parts = Parts {
                similarity: if high > low {
                    (meaning[i] - low) / (high - low)
                } else {
                    1.0
                },
                bm25: if best_bm25 > 0.0 {
                    bm25_of(h) / best_bm25
                } else {
                    0.0
                },
                heading: query_terms
                    .iter()
                    .filter(|t| heading_terms.contains(t))
                    .count() as f32
                    / query_terms.len().max(1) as f32,
            };
            Ranked {
                hit: Hit {
                    score: parts.score(),
                    ..*h
                },
                candidate_rank: i + 1,
                parts,
                closest_sentence: closest(i),
            }
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.hit
            .score
            .total_cmp(&a.hit.score)
            .then(a.candidate_rank.cmp(&b.candidate_rank))
    });
    ranked.truncate(top_k);
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rag::chunk::Chunk;

    #[test]
    fn a_chunk_whose_sentence_answers_overtakes_a_closer_chunk() {
        let chunk = |id: &str, text: &str| Chunk {
            id: id.into(),
            section_id: "s".into(),
            section_title: "Policies".into(),
            document: "d".into(),
            text: text.into(),
            chars: 0..text.len(),
            heading: None,
            list_goes_on: false,
        };
        let index = Index::new(
            vec![
                chunk("s:1", "General words about the office."),
                chunk("s:2", "Other words, and the one rule that answers."),
            ],
            vec![vec![1.0, 0.0], vec![0.0, 1.0]],
        );
        let hits = [
            Hit {
                chunk: 0,
                score: 0.9,
                similarity: 0.6,
            },
            Hit {
                chunk: 1,
                score: 0.8,
                similarity: 0.5,
            },
        ];
        let order = |closest: Option<&[f32]>| -> Vec<usize> {
            rerank(&index, "zebra", &hits, closest, 2)
                .iter()
                .map(|r| r.hit.chunk)
                .collect()
        };
        assert_eq!(order(None), [0, 1]);
        // (0.6 + 0.4) / 2 against (0.5 + 0.9) / 2.
        let ranked = rerank(&index, "zebra", &hits, Some(&[0.4, 0.9]), 2);
        assert_eq!(order(Some(&[0.4, 0.9])), [1, 0]);
        assert_eq!(ranked[0].closest_sentence, Some(0.9));
        assert_eq!(
            (ranked[0].parts.similarity, ranked[1].parts.similarity),
            (1.0, 0.0)
        );
    }
}
