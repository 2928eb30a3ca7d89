//! [`Runner`]: asks one question with the chosen models (indexing the corpus with a
//! remote embedder first when needed), files the spans in the store and auto-exports.
//! The question form, the benchmark and the error-path demo all go through it.

use std::sync::Arc;

use leptos::prelude::*;

use super::corpus::Corpus;
use super::export::Exporter;
use super::models::ModelChoice;
use crate::explorer::store::TraceStore;
use crate::model::openai::LOCAL_EMBEDDINGS;
use crate::model::Either;
use crate::rag::demo;
use crate::rag::embed::HashEmbedder;
use crate::rag::engine::Engine;
use crate::rag::offline::OfflineChat;
use crate::rag::pipeline::{self, Answer, AskOptions, Mode, Models};
use crate::telemetry::provider::Telemetry;

/// What a question produced: its trace (none when it never started) and the answer
/// or the message to show.
pub struct Asked {
    pub trace_id: Option<String>,
    pub result: Result<Answer, String>,
}

#[derive(Clone, Copy)]
pub struct Runner {
    pub telemetry: StoredValue<Arc<Telemetry>>,
    /// The documents, indexed with the local embedder.
    pub corpus: Corpus,
    pub models: ModelChoice,
    pub exporter: Exporter,
    pub store: RwSignal<TraceStore>,
    /// The model output of the call in flight, as it streams in.
    pub live: RwSignal<String>,
    pub session_id: &'static str,
}

impl Runner {
    /// Answers `question` in `mode`.
    pub async fn ask(self, question: &str, mode: Mode) -> Asked {
        let not_started = |message: String| Asked {
            trace_id: None,
            result: Err(message),
        };
        let Some(indexed) = self.corpus.indexed.get_untracked() else {
            return not_started(
                "The documents are still being indexed; try again in a moment.".into(),
            );
        };
        let remote = match self.models.remote() {
            Ok(r) => r,
            Err(e) => return not_started(format!("{e}.")),
        };
        if remote.is_some() {
            self.models.tie_key();
        }
        self.live.set(String::new());
        let telemetry = self.telemetry.get_value();
        let (chat, embedder, engine) = match &remote {
            None => (
                Either::Left(OfflineChat),
                Either::Left(HashEmbedder),
                indexed.engine,
            ),
            // A server that only chats: the page's own index and embedder find the
            // passages, the server answers.
            Some(r) if r.client.config.local_embeddings() => (
                Either::Right(r.client.clone()),
                Either::Left(HashEmbedder),
                indexed.engine,
            ),
            Some(r) => {
                let generation = indexed.generation;
                let documents: Vec<(&str, &str)> = indexed
                    .documents
                    .iter()
                    .map(|d| (d.name.as_str(), d.text.as_str()))
                    .collect();
                let engine = match self.models.indexed(&r.client, generation) {
                    Some(e) => e,
                    None => {
                        match Engine::build_traced(&documents, &r.client, &telemetry.tracer).await {
                            Ok(e) => {
                                let e = Arc::new(e);
                                self.models.keep_index(&r.client, generation, e.clone());
                                e
                            }
                            Err(e) => {
                                self.collect(&telemetry);
                                let model = &r.client.config.embedding_model;
                                return not_started(format!(
                                    "The documents could not be indexed with {model}: {e}. If this server has no embedding model, enter \"{LOCAL_EMBEDDINGS}\" as the Embedding model: the page then embeds in WebAssembly while {} answers.",
                                    r.client.config.chat_model
                                ));
                            }
                        }
                    }
                };
                (
                    Either::Right(r.client.clone()),
                    Either::Right(r.client.clone()),
                    engine,
                )
            }
        };
        let live = self.live;
        let on_delta = move |delta: &str| live.update(|s| s.push_str(delta));
        let models = Models {
            chat: &chat,
            embedder: &embedder,
            live: Some(&on_delta),
        };
        let opts = AskOptions {
            mode,
            session_id: Some(self.session_id),
            ..Default::default()
        };
        let outcome = pipeline::ask(&engine, models, &telemetry.tracer, question, opts).await;
        self.collect(&telemetry);
        Asked {
            trace_id: Some(outcome.trace_id),
            result: outcome.result.map_err(|e| e.to_string()),
        }
    }

    /// Records the error-path demo; returns its trace id.
    pub async fn error_demo(self) -> Option<String> {
        let engine = self.corpus.engine()?;
        let telemetry = self.telemetry.get_value();
        let trace_id = demo::error_paths(&engine, &telemetry.tracer).await;
        self.collect(&telemetry);
        Some(trace_id)
    }

    /// Files the finished spans (redacted) and sends them on when auto-export is on.
    fn collect(self, telemetry: &Telemetry) {
        let spans = telemetry.take_finished(&self.exporter.redaction());
        self.store.update(|s| {
            s.add(spans);
        });
        if self.exporter.auto_export() {
            self.exporter.export_now();
        }
    }
}
