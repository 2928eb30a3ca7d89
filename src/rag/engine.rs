//! [`Engine`]: a corpus chunked, embedded and indexed, ready to answer.

use std::ops::ControlFlow;

use thiserror::Error;

use super::chunk::{chunk_section, chunk_sections, Chunk, ChunkConfig};
use super::corpus::{parse_corpus, CorpusError, Section};
use super::embed::{self, cosine, HashEmbedder, MODEL_NAME as LOCAL_EMBEDDING_MODEL};
use super::index::{Hit, Index, IndexBuilder};
use super::pipeline::AskOptions;
use super::prompt::{self, Passage};
use super::rerank::{rerank, Ranked, CANDIDATES};
use super::text;
use crate::model::{Embedder, ModelError};
use crate::telemetry::names::SpanName;
use crate::telemetry::semconv as sc;
use crate::telemetry::span::Traced;
use opentelemetry_sdk::trace::SdkTracer;

/// A chunk's sentences, as the answerer and the reranker compare them with a question
/// (and as `examples/handbook_vectors.rs` ships them for the handbook).
fn sentences_of(chunk: &Chunk) -> Vec<String> {
    text::sentences(&chunk.text)
        .into_iter()
        .map(String::from)
        .collect()
}

/// Chunks retrieval may add to finish lists ([`Engine::with_whole_lists`]), over all
/// hits: enough for a list cut twice, without letting the context grow unbounded.
const MAX_CONTINUATIONS: usize = 3;

/// A chunk handed to the model: a ranked hit, or the rest of a list.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retrieved {
    pub hit: Hit,
    /// The chunk whose list this one carries on, when it was added for that.
    pub continues: Option<usize>,
}

/// Why a corpus could not be indexed.
#[derive(Debug, Error, PartialEq)]
pub enum EngineError {
    #[error(transparent)]
    Corpus(#[from] CorpusError),
    #[error("embedding the corpus failed: {0}")]
    Model(#[from] ModelError),
    #[error(
        "{} of {} texts were embedded; asking again goes on from there",
        .0.embedded,
        .0.total
    )]
    Stopped(Progress),
}

/// How far an indexing's embedding has come: texts embedded, of all it embeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub embedded: usize,
    pub total: usize,
}

/// Hears an indexing's [`Progress`] before each call to the embedder, and whether to go
/// on: `Break` stops it with [`EngineError::Stopped`]. It hears the end too (all texts
/// embedded), when its answer no longer matters.
pub type Observer<'a> = &'a dyn Fn(Progress) -> ControlFlow<()>;

/// Texts an indexing's `CreateEmbeddings` span records at most: a 20 MB upload is
/// hundreds of thousands of texts, which no span should carry to storage, the explorer
/// and Phoenix.
pub const MAX_RECORDED_TEXTS: usize = 256;

/// Texts an indexing hands the embedder at once. MiniLM embeds a few dozen texts a
/// second in the page's worker, so a user's large document takes minutes: between
/// calls the page shows how far it has come and can stop it.
pub const EMBED_BATCH: usize = 64;

/// A chunk that an answer cites.
#[derive(Debug, Clone, PartialEq)]
pub struct Cited {
    pub chunk_id: String,
    pub section_title: String,
    pub text: String,
}

/// A document as indexed: see [`Engine::outline_of`].
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentOutline {
    pub sections: usize,
    pub chunks: usize,
    /// The first chunks, as (id, characters).
    pub listed: Vec<(String, usize)>,
}

/// An indexed corpus.
#[derive(Debug, Clone)]
pub struct Engine {
    pub sections: Vec<Section>,
    pub index: Index,
    /// The embedding model the index was built with.
    pub embedding_model: String,
}

impl Engine {
    /// Parses, chunks, embeds and indexes `(name, markdown)` documents.
    ///
    /// An embedder that runs in the page also embeds every chunk's sentences here: the
    /// reranker compares each question with them ([`Engine::closest_sentences`]), and
    /// the page's MiniLM keeps them in its cache (`vectors::Cached`), so no question
    /// waits for them.
    pub async fn build<E: Embedder>(
        documents: &[(&str, &str)],
        embedder: &E,
    ) -> Result<Self, EngineError> {
        Self::build_observed(documents, embedder, &|_| ControlFlow::Continue(())).await
    }

    /// [`Engine::build`], embedding [`EMBED_BATCH`] texts at a time and asking `observe`
    /// before each batch whether to go on.
    pub async fn build_observed<E: Embedder>(
        documents: &[(&str, &str)],
        embedder: &E,
        observe: Observer<'_>,
    ) -> Result<Self, EngineError> {
        let sections = parse_corpus(documents)?;
        let chunks = chunk_sections(&sections, ChunkConfig::default());
        let texts = Self::embedded_texts(&chunks, embedder);
        let mut vectors = Vec::with_capacity(texts.len());
        for batch in texts.chunks(EMBED_BATCH) {
            let progress = Progress {
                embedded: vectors.len(),
                total: texts.len(),
            };
            if observe(progress).is_break() {
                return Err(EngineError::Stopped(progress));
            }
            match embed::embed_exactly(embedder, batch).await {
                Ok(batch) => vectors.extend(batch),
                // A Stop also aborts a remote call in flight: that is a stop, not a
                // failure of the model.
                Err(_) if observe(progress).is_break() => {
                    return Err(EngineError::Stopped(progress))
                }
                Err(e) => return Err(e.into()),
            }
        }
        let _ = observe(Progress {
            embedded: texts.len(),
            total: texts.len(),
        });
        vectors.truncate(chunks.len());
        Ok(Engine {
            sections,
            index: Index::new(chunks, vectors),
            embedding_model: embedder.model_name().to_string(),
        })
    }

    /// What [`Engine::build`] embeds: each chunk as indexed, then, for an embedder that
    /// runs in the page, every chunk's sentences.
    pub fn embedded_texts<E: Embedder>(chunks: &[Chunk], embedder: &E) -> Vec<String> {
        let indexed = chunks.iter().map(Chunk::indexed_text);
        if !embedder.runs_in_page() {
            return indexed.collect();
        }
        indexed
            .chain(chunks.iter().flat_map(sentences_of))
            .collect()
    }

    /// [`Engine::build_observed`] traced as its own `index_corpus` (CHAIN) trace with one
    /// `CreateEmbeddings` (EMBEDDING) child: worth a trace when embeddings come from a
    /// remote model or the page's worker, whose calls take time and can fail or be
    /// stopped.
    pub async fn build_traced<E: Embedder>(
        documents: &[(&str, &str)],
        embedder: &E,
        tracer: &SdkTracer,
        observe: Observer<'_>,
    ) -> Result<Self, EngineError> {
        let root = Traced::root(tracer, SpanName::IndexCorpus);
        root.set(
            sc::INPUT_VALUE,
            documents
                .iter()
                .map(|(name, _)| *name)
                .collect::<Vec<_>>()
                .join(", "),
        );
        let emb = root.child(SpanName::CreateEmbeddings);
        emb.set(sc::EMBEDDING_MODEL_NAME, embedder.model_name().to_string());
        let result = Engine::build_observed(documents, embedder, observe).await;
        match &result {
            Ok(engine) => {
                let texts = Self::embedded_texts(&engine.index.chunks, embedder);
                let total = texts.len();
                for (i, text) in texts.into_iter().take(MAX_RECORDED_TEXTS).enumerate() {
                    emb.set(sc::embedding(i, "text"), text);
                }
                let recorded = if total > MAX_RECORDED_TEXTS {
                    format!("; the span records the first {MAX_RECORDED_TEXTS}")
                } else {
                    String::new()
                };
                root.set(
                    sc::OUTPUT_VALUE,
                    format!(
                        "{} chunks indexed, {total} texts embedded{recorded}",
                        engine.index.len()
                    ),
                );
            }
            Err(e) => {
                emb.fail(e);
                root.fail(e);
            }
        }
        result
    }

    /// The chunks of the document `name`, in order.
    pub fn chunks_of<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Chunk> + 'a {
        self.index.chunks.iter().filter(move |c| c.document == name)
    }

    /// What the document `name` became: its section count, chunk count, and the first
    /// `listed` chunks as (id, characters).
    pub fn outline_of(&self, name: &str, listed: usize) -> DocumentOutline {
        DocumentOutline {
            sections: self.sections.iter().filter(|s| s.document == name).count(),
            chunks: self.chunks_of(name).count(),
            listed: self
                .chunks_of(name)
                .take(listed)
                .map(|c| (c.id.clone(), c.text.chars().count()))
                .collect(),
        }
    }

    /// The reranked top `opts.top_k` for a query given as text and as its vector (by
    /// `embedder`): what retrieval ranks, and what hit@k measures.
    /// Untraced: `pipeline::retrieve` runs the same steps, [`Engine::candidates`] and
    /// [`Engine::rank`], in its spans, then hands the model the lists those chunks leave
    /// unfinished too ([`Engine::with_whole_lists`]).
    pub async fn retrieve<E: Embedder>(
        &self,
        embedder: &E,
        query: &str,
        query_vec: &[f32],
        opts: AskOptions<'_>,
    ) -> Result<Vec<Hit>, ModelError> {
        let candidates = self.candidates(query, query_vec, opts);
        let ranked = self
            .rank(embedder, query, query_vec, &candidates, opts.top_k)
            .await?;
        Ok(ranked.into_iter().map(|r| r.hit).collect())
    }

    /// The reranker's best `top_k` of `candidates`, after comparing the query with their
    /// sentences ([`Engine::closest_sentences`]).
    pub async fn rank<E: Embedder>(
        &self,
        embedder: &E,
        query: &str,
        query_vec: &[f32],
        candidates: &[Hit],
        top_k: usize,
    ) -> Result<Vec<Ranked>, ModelError> {
        let closest = self
            .closest_sentences(embedder, query_vec, candidates)
            .await?;
        Ok(rerank(
            &self.index,
            query,
            candidates,
            closest.as_deref(),
            top_k,
        ))
    }

    /// For each candidate, the query's cosine to the closest of its sentences, when
    /// `embedder` runs in the page (`None` for a remote one: each question would send it
    /// every candidate's sentences). The sentences go to `embedder` in one call; the
    /// page's MiniLM answers the handbook's from its shipped vectors.
    pub async fn closest_sentences<E: Embedder>(
        &self,
        embedder: &E,
        query_vec: &[f32],
        candidates: &[Hit],
    ) -> Result<Option<Vec<f32>>, ModelError> {
        if !embedder.runs_in_page() {
            return Ok(None);
        }
        let per_chunk: Vec<Vec<String>> = candidates
            .iter()
            .map(|h| sentences_of(&self.index.chunks[h.chunk]))
            .collect();
        let cosines = embed::cosines_to(embedder, query_vec, &per_chunk.concat()).await?;
        let mut cosines = cosines.into_iter();
        Ok(Some(
            per_chunk
                .iter()
                .zip(candidates)
                .map(|(sentences, hit)| {
                    // A chunk without sentences is its own closest text.
                    cosines
                        .by_ref()
                        .take(sentences.len())
                        .reduce(f32::max)
                        .unwrap_or(hit.similarity)
                })
                .collect(),
        ))
    }

    /// `hits` with, after each one that ends inside a list (`Chunk::list_goes_on`), the
    /// section's chunks that carry the list on, unless they are among `hits` already:
    /// a model given "the following consequences apply" needs the consequences. They
    /// keep the score of the hit they continue and their own cosine to `query_vec`;
    /// at most [`MAX_CONTINUATIONS`] are added, the best hits' first.
    pub fn with_whole_lists(&self, hits: &[Hit], query_vec: &[f32]) -> Vec<Retrieved> {
        let chunks = &self.index.chunks;
        let mut out: Vec<Retrieved> = Vec::with_capacity(hits.len());
        let known = |out: &[Retrieved], chunk: usize| {
            hits.iter().any(|h| h.chunk == chunk) || out.iter().any(|r| r.hit.chunk == chunk)
        };
        let mut added = 0;
        for hit in hits {
            if out.iter().any(|r| r.hit.chunk == hit.chunk) {
                continue;
            }
            out.push(Retrieved {
                hit: *hit,
                continues: None,
            });
            let mut at = hit.chunk;
            while added < MAX_CONTINUATIONS
                && chunks[at].list_goes_on
                && chunks
                    .get(at + 1)
                    .is_some_and(|next| next.section_id == chunks[at].section_id)
                && !known(&out, at + 1)
            {
                out.push(Retrieved {
                    hit: Hit {
                        chunk: at + 1,
                        score: hit.score,
                        similarity: cosine(query_vec, &self.index.vector(at + 1)),
                    },
                    continues: Some(at),
                });
                at += 1;
                added += 1;
            }
        }
        out
    }

    /// What retrieval hands the reranker: the best [`CANDIDATES`] (or `top_k`, if more).
    pub fn candidates(&self, query: &str, query_vec: &[f32], opts: AskOptions<'_>) -> Vec<Hit> {
        let depth = CANDIDATES.max(opts.top_k);
        self.index.search(opts.search, query, query_vec, depth)
    }

    /// A hit as the passage a model reads.
    pub fn passage(&self, hit: &Hit) -> Passage {
        let c = &self.index.chunks[hit.chunk];
        Passage {
            id: c.id.clone(),
            similarity: hit.similarity,
            text: c.text.clone(),
        }
    }

    /// The chunks an answer cites with `[id]`, ignoring ids that are not chunks.
    pub fn cited(&self, answer: &str) -> Vec<Cited> {
        prompt::citations(answer)
            .into_iter()
            .filter_map(|id| {
                let c = self.index.chunks.iter().find(|c| c.id == id)?;
                Some(Cited {
                    chunk_id: c.id.clone(),
                    section_title: c.section_title.clone(),
                    text: c.text.clone(),
                })
            })
            .collect()
    }
}

/// Local indexing (the [`HashEmbedder`]) cut into slices, so that a page can show
/// progress and stay responsive in between: each [`IndexJob::step`] chunks and embeds
/// whole sections until about `budget` bytes of text are done. Gives the same engine
/// as [`Engine::build`] with the local embedder.
pub struct IndexJob {
    sections: Vec<Section>,
    next: usize,
    index: IndexBuilder,
    done_bytes: usize,
    total_bytes: usize,
}

impl IndexJob {
    /// Parses the documents; nothing is chunked or embedded yet.
    pub fn new(documents: &[(&str, &str)]) -> Result<IndexJob, EngineError> {
        let sections = parse_corpus(documents)?;
        let total_bytes = sections.iter().map(|s| s.text.len()).sum();
        Ok(IndexJob {
            sections,
            next: 0,
            index: IndexBuilder::default(),
            done_bytes: 0,
            total_bytes,
        })
    }

    /// Chunks and embeds the next sections, about `budget` bytes of them (at least one
    /// section); returns true once every section is done.
    pub fn step(&mut self, budget: usize) -> bool {
        let stop_at = self.done_bytes + budget;
        while self.next < self.sections.len() && self.done_bytes < stop_at {
            let section = &self.sections[self.next];
            for chunk in chunk_section(section, ChunkConfig::default()) {
                let vector = HashEmbedder.embed(&chunk.indexed_text());
                self.index.push(chunk, vector);
            }
            self.done_bytes += section.text.len();
            self.next += 1;
        }
        self.next == self.sections.len()
    }

    /// (bytes done, bytes in all).
    pub fn progress(&self) -> (usize, usize) {
        (self.done_bytes, self.total_bytes)
    }

    /// The engine over what [`IndexJob::step`] produced.
    pub fn finish(self) -> Engine {
        Engine {
            sections: self.sections,
            index: self.index.build(),
            embedding_model: LOCAL_EMBEDDING_MODEL.to_string(),
        }
    }
}
