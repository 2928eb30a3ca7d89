//! The RAG domain, free of browser types.
//!
//! - [`corpus`]: markdown documents → [`corpus::Section`]s with stable ids.
//! - [`text`]: sentence splitting and tokenising shared by everything below.
//! - [`embed`]: the local embedders' names and calibration ([`embed::LocalEmbedder`]),
//!   and [`embed::HashEmbedder`], the deterministic hashed one.
//! - [`chunk`]: semantic chunking into [`chunk::Chunk`]s.
//! - [`index`]: dense, BM25 and hybrid retrieval over an [`index::Index`].
//! - [`rerank`]: the reranker: retrieval's 20 candidates → the best 5, with reasons.
//! - [`answer`]: the extractive answerer behind the offline model.
//! - [`offline`]: the models that run in the page with no key and no network.
//! - [`prompt`]: the RAG and ReAct prompt formats and their parsers.
//! - [`engine`]: [`engine::Engine`], a corpus indexed and ready to answer.
//! - [`pipeline`] and [`agent`]: the traced RAG pipeline and ReAct agent.
//! - [`replay`]: a recorded model call sent again, as a trace linked to the original.
//! - [`eval`]: the question sets' format, retrieval metrics (hit@k, MRR) and whether
//!   an answer states a fact.
//! - [`vectors`]: vectors computed ahead of time (the handbook under MiniLM), by text.
//! - [`demo`]: the error-path demo (an empty query and a failing retriever).

pub mod agent;
pub mod answer;
pub mod chunk;
pub mod corpus;
pub mod demo;
pub mod embed;
pub mod engine;
pub mod eval;
pub mod index;
pub mod offline;
pub mod pipeline;
pub mod prompt;
pub mod replay;
pub mod rerank;
pub mod text;
pub mod vectors;
