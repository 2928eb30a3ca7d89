//! [`Index`]: chunks with their vectors and BM25 statistics, searched densely (cosine),
//! lexically (BM25) or both fused by reciprocal rank ([`SearchMode::Hybrid`]).

use std::collections::HashMap;

use super::chunk::Chunk;
use super::embed::cosine;
use super::text;

/// How [`Index::search`] ranks chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SearchMode {
    Dense,
    Bm25,
    #[default]
    Hybrid,
}

impl SearchMode {
    pub const ALL: [SearchMode; 3] = [SearchMode::Dense, SearchMode::Bm25, SearchMode::Hybrid];

    pub fn as_str(self) -> &'static str {
        match self {
            SearchMode::Dense => "dense",
            SearchMode::Bm25 => "bm25",
            SearchMode::Hybrid => "hybrid",
        }
    }
}

/// One retrieved chunk. `score` is the mode's own score (cosine, BM25, or fused RRF
/// normalised to 0..1); `similarity` is always the cosine to the query, so callers can
/// judge confidence the same way in every mode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub chunk: usize,
    pub score: f32,
    pub similarity: f32,
}

const BM25_K1: f32 = 1.2;
const BM25_B: f32 = 0.75;
/// The usual reciprocal-rank-fusion constant.
const RRF_K: f32 = 60.0;
/// How deep each list goes before fusion.
const FUSION_DEPTH: usize = 50;

/// Builds an [`Index`] a chunk at a time, so that indexing can be cut into slices with
/// no long step at the end.
#[derive(Debug, Default)]
pub struct IndexBuilder {
    index: Index,
}

impl IndexBuilder {
    /// Adds a chunk and the embedding of its `indexed_text()`.
    pub fn push(&mut self, chunk: Chunk, vector: Vec<f32>) {
        let ix = &mut self.index;
        let id = ix.chunks.len() as u32;
        let terms = text::terms(&chunk.indexed_text());
        ix.doc_lens.push(terms.len() as f32);
        let mut tf: HashMap<String, u32> = HashMap::new();
        for t in terms {
            *tf.entry(t).or_default() += 1;
        }
        for (t, f) in tf {
            ix.postings.entry(t).or_default().push((id, f));
        }
        if ix.columns.is_empty() {
            ix.columns = vec![Vec::new(); vector.len()];
        }
        assert_eq!(
            vector.len(),
            ix.columns.len(),
            "every vector has the same dimension"
        );
        for (column, x) in ix.columns.iter_mut().zip(vector) {
            column.push(x);
        }
        ix.chunks.push(chunk);
    }

    pub fn build(mut self) -> Index {
        let ix = &mut self.index;
        ix.avg_len = ix.doc_lens.iter().sum::<f32>() / ix.doc_lens.len().max(1) as f32;
        self.index
    }
}

/// A searchable set of chunks.
///
/// Laid out for speed over tens of thousands of chunks: the vectors are stored by
/// dimension, so dense scoring adds up whole columns for the query's non-zero
/// coordinates only (a hashed query has a few hundred of 1,024; a dense one streams
/// through the matrix once), and BM25 reads an inverted index (only the chunks holding
/// a query term are scored). Both keep only the best few results instead of sorting
/// every chunk.
#[derive(Debug, Clone, Default)]
pub struct Index {
    pub chunks: Vec<Chunk>,
    /// One column per dimension: that coordinate of every chunk's vector, in chunk order.
    columns: Vec<Vec<f32>>,
    /// Per term: the chunks that hold it, with its frequency there.
    postings: HashMap<String, Vec<(u32, u32)>>,
    doc_lens: Vec<f32>,
    avg_len: f32,
}

impl Index {
    /// Builds an index; `vectors[i]` is the embedding of `chunks[i].indexed_text()`.
    pub fn new(chunks: Vec<Chunk>, vectors: Vec<Vec<f32>>) -> Self {
        assert_eq!(chunks.len(), vectors.len(), "one vector per chunk");
        let mut builder = IndexBuilder::default();
        for (chunk, vector) in chunks.into_iter().zip(vectors) {
            builder.push(chunk, vector);
        }
        builder.build()
    }

    pub fn len(&self) -> usize {
        self.chunks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// The embedding of chunk `i`.
    pub fn vector(&self, i: usize) -> Vec<f32> {
        self.columns.iter().map(|c| c[i]).collect()
    }

    /// The `top_k` best chunks for a query given as text and as its vector. A query
    /// without words returns nothing.
    pub fn search(
        &self,
        mode: SearchMode,
        query: &str,
        query_vec: &[f32],
        top_k: usize,
    ) -> Vec<Hit> {
        if text::words(query).is_empty() || top_k == 0 {
            return Vec::new();
        }
        let ranked: Vec<(usize, f32)> = match mode {
            SearchMode::Dense => self.dense(query_vec, top_k),
            SearchMode::Bm25 => self.bm25(query, top_k),
            SearchMode::Hybrid => self.fused(query, query_vec, top_k),
        };
        ranked
            .into_iter()
            .map(|(chunk, score)| Hit {
                chunk,
                score,
                similarity: cosine(&self.vector(chunk), query_vec),
            })
            .collect()
    }

    /// The `depth` chunks most similar to `q` (a unit vector).
    fn dense(&self, q: &[f32], depth: usize) -> Vec<(usize, f32)> {
        if q.len() != self.columns.len() {
            return Vec::new();
        }
        let mut scores = vec![0f32; self.len()];
        for (column, &w) in self.columns.iter().zip(q).filter(|(_, w)| **w != 0.0) {
            for (score, x) in scores.iter_mut().zip(column) {
                *score += w * x;
            }
        }
        let positive = scores.into_iter().enumerate().filter(|(_, s)| *s > 0.0);
        best(positive.collect(), depth)
    }

    /// The `depth` best chunks by BM25 (Okapi, k1 1.2, b 0.75).
    fn bm25(&self, query: &str, depth: usize) -> Vec<(usize, f32)> {
        best(
            self.bm25_scores(query)
                .into_iter()
                .filter(|(_, s)| *s > 0.0)
                .collect(),
            depth,
        )
    }

    /// The BM25 score of every chunk holding a query term.
    pub fn bm25_scores(&self, query: &str) -> HashMap<usize, f32> {
        let n = self.len() as f32;
        let terms = text::terms(query);
        let mut scores: HashMap<usize, f32> = HashMap::new();
        for postings in terms.iter().filter_map(|t| self.postings.get(t)) {
            let df = postings.len() as f32;
            let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
            for &(chunk, f) in postings {
                let f = f as f32;
                let norm =
                    1.0 - BM25_B + BM25_B * self.doc_lens[chunk as usize] / self.avg_len.max(1.0);
                *scores.entry(chunk as usize).or_default() +=
                    idf * f * (BM25_K1 + 1.0) / (f + BM25_K1 * norm);
            }
        }
        scores
    }

    fn fused(&self, query: &str, q: &[f32], top_k: usize) -> Vec<(usize, f32)> {
        let depth = FUSION_DEPTH.max(top_k);
        let mut fused: HashMap<usize, f32> = HashMap::new();
        for list in [self.dense(q, depth), self.bm25(query, depth)] {
            for (rank, (chunk, _)) in list.into_iter().enumerate() {
                *fused.entry(chunk).or_default() += 1.0 / (RRF_K + rank as f32 + 1.0);
            }
        }
        let best_possible = 2.0 / (RRF_K + 1.0);
        best(
            fused
                .into_iter()
                .map(|(c, s)| (c, s / best_possible))
                .collect(),
            top_k,
        )
    }
}

/// The `depth` best, best first; ties broken by chunk order so results are
/// deterministic. Only those are sorted, not every candidate.
fn best(mut v: Vec<(usize, f32)>, depth: usize) -> Vec<(usize, f32)> {
    let order = |a: &(usize, f32), b: &(usize, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if v.len() > depth {
        v.select_nth_unstable_by(depth, order);
        v.truncate(depth);
    }
    v.sort_by(order);
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rag::embed::HashEmbedder;

    fn index(texts: &[&str]) -> Index {
        let chunks: Vec<Chunk> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| Chunk {
                id: format!("c:{i}"),
                section_id: format!("s{i}"),
                section_title: String::new(),
                document: String::new(),
                text: t.to_string(),
                chars: 0..t.chars().count(),
                heading: None,
                list_goes_on: false,
            })
            .collect();
        let vectors = chunks
            .iter()
            .map(|c| HashEmbedder.embed(&c.indexed_text()))
            .collect();
        Index::new(chunks, vectors)
    }

    #[test]
    fn every_mode_finds_the_matching_chunk() {
        let idx = index(&[
            "Laptops are replaced every three years.",
            "Work abroad is limited to 30 days.",
            "Expenses need receipts.",
        ]);
        let q = "How long can I work abroad?";
        let qv = HashEmbedder.embed(q);
        for mode in SearchMode::ALL {
            let hits = idx.search(mode, q, &qv, 2);
            assert_eq!(hits[0].chunk, 1, "{mode:?}");
            assert!(hits[0].similarity > 0.0);
        }
    }

    #[test]
    fn empty_query_and_empty_index_return_nothing() {
        let idx = index(&["Something."]);
        for mode in SearchMode::ALL {
            assert!(idx.search(mode, "", &HashEmbedder.embed(""), 5).is_empty());
            assert!(idx
                .search(mode, "  ?! ", &HashEmbedder.embed("  ?! "), 5)
                .is_empty());
        }
        let empty = Index::new(vec![], vec![]);
        assert!(empty
            .search(SearchMode::Hybrid, "work", &HashEmbedder.embed("work"), 5)
            .is_empty());
    }

    #[test]
    fn hybrid_scores_are_normalised() {
        let idx = index(&["Work abroad is limited to 30 days.", "Other text."]);
        let q = "work abroad";
        let hits = idx.search(SearchMode::Hybrid, q, &HashEmbedder.embed(q), 5);
        assert!(hits[0].score <= 1.0 + 1e-6 && hits[0].score > 0.9);
    }
}
