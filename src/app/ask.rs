//! [`Session`]: one browser tab's questions — asking with the chosen models, the corpus
//! as an embedding model other than the hashed one indexed it (kept by [`IndexKey`]), and the error-path
//! demo. Each use-case returns the spans it finished, redacted, for the page to file.

use std::cell::RefCell;
use std::ops::ControlFlow;
use std::rc::Rc;
use std::sync::Arc;

use opentelemetry::trace::{SpanContext, TraceId};
use opentelemetry_sdk::trace::SpanData;

use crate::http::HttpClient;
use crate::model::openai::{OpenAi, LOCAL_EMBEDDINGS};
use crate::model::{Either, Embedder, Message};
use crate::rag::corpus::Document;
use crate::rag::embed::HashEmbedder;
use crate::rag::engine::{Engine, EngineError, Observer};
use crate::rag::index::Index;
use crate::rag::offline::{OfflineChat, HASHED_CHAT};
use crate::rag::pipeline::{self, Answer, AskOptions, Mode, Models};
use crate::rag::vectors::Cached;
use crate::rag::{demo, replay};
use crate::telemetry::provider::Telemetry;
use crate::telemetry::redact::Redaction;

/// Documents indexed with the local embedder: what questions are answered from.
#[derive(Clone)]
pub struct Indexed {
    pub engine: Arc<Engine>,
    pub documents: Arc<Vec<Document>>,
    /// Counts indexings, so a remote model's index of an older corpus is not reused.
    pub revision: u64,
}

/// Where an embedding model runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexSource {
    /// In the page (MiniLM's worker).
    Page,
    /// At this server (its base URL).
    Server(String),
}

/// Which corpus an embedding model other than the hashed one indexed: another source,
/// model or corpus revision means indexing again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexKey {
    pub source: IndexSource,
    pub embedding_model: String,
    pub revision: u64,
}

/// The embedder the page runs itself: the instant hashed one, or a neural one (MiniLM
/// in the page's worker) behind its vector cache, which holds the handbook's shipped
/// vectors and keeps every vector it computes.
pub enum Local<'a, N> {
    Hashed,
    Neural(&'a Cached<N>),
}

/// One question and how to ask it.
pub struct Ask<'a> {
    pub question: &'a str,
    pub mode: Mode,
    /// Who asks (`user.id`), if the user gave a name.
    pub user: Option<&'a str>,
    /// The "Hide …" switches the spans are stored under.
    pub redaction: Redaction,
    /// Hears the model's output as it streams.
    pub live: Option<&'a dyn Fn(&str)>,
    /// Hears how far indexing the documents for this question has come (when its
    /// embedder has not indexed them yet), and may stop it.
    pub indexing: Option<Observer<'a>>,
}

/// What a use-case produced: its trace (none when it never started), the answer or the
/// message to show, and the spans it finished.
pub struct Asked {
    pub trace_id: Option<TraceId>,
    pub result: Result<Answer, String>,
    pub spans: Vec<SpanData>,
}

/// What a replayed model call produced: its trace, the reply or the message to show,
/// and the finished spans.
pub struct Replayed {
    pub trace_id: TraceId,
    pub reply: Result<String, String>,
    pub spans: Vec<SpanData>,
}

/// One tab's questions.
pub struct Session {
    telemetry: Telemetry,
    /// `session.id` on every root span.
    pub id: String,
    /// The corpus as embedders other than the hashed one indexed it (the current
    /// revision's only: a remote model's and MiniLM's may both be wanted).
    indexes: RefCell<Vec<(IndexKey, Arc<Engine>)>>,
}

impl Session {
    pub fn new(project: &str, id: String) -> Self {
        Session {
            telemetry: Telemetry::new(project),
            id,
            indexes: RefCell::new(Vec::new()),
        }
    }

    /// Answers the question in its mode from `indexed`: offline when `remote` is `None`;
    /// with the remote chat model and the page's own embedder (`local`) when its
    /// embedding model is `local`; else with the remote models. A corpus embedded by a
    /// model other than the hashed one is indexed first (once per [`IndexKey`]; that
    /// indexing is a trace of its own). Offline, `local` also judges which sentences
    /// answer.
    pub async fn ask<C: HttpClient, N: Embedder>(
        &self,
        indexed: &Indexed,
        remote: Option<&Rc<OpenAi<C>>>,
        local: Local<'_, N>,
        ask: Ask<'_>,
    ) -> Asked {
        let Ask {
            question,
            mode,
            user,
            redaction,
            live,
            indexing,
        } = ask;
        let observe: Observer<'_> = indexing.unwrap_or(&|_| ControlFlow::Continue(()));
        let redaction = &redaction;
        let tracer = &self.telemetry.tracer;
        let failed = |message: String| Asked {
            trace_id: None,
            result: Err(message),
            spans: self.telemetry.take_finished(redaction),
        };
        let chat = match (remote, &local) {
            (None, Local::Hashed) => Either::Left(Either::Left(HASHED_CHAT)),
            (None, Local::Neural(cached)) => {
                Either::Left(Either::Right(OfflineChat { sentences: *cached }))
            }
            (Some(client), _) => Either::Right(client.clone()),
        };
        let (embedder, engine) = match (remote, &local) {
            (Some(client), _) if !client.config.local_embeddings() => {
                let source = IndexSource::Server(client.config.base_url.clone());
                let engine = self
                    .engine_for(indexed, source, client.as_ref(), observe)
                    .await
                    .map_err(|e| {
                        let config = &client.config;
                        let said = not_indexed(&config.embedding_model, &e);
                        if !matches!(e, EngineError::Model(_)) {
                            return said;
                        }
                        format!(
                            "{said} If this server has no embedding model, enter \"{LOCAL_EMBEDDINGS}\" as the Embedding model: the page then embeds in WebAssembly while {} answers.",
                            config.chat_model
                        )
                    });
                (Either::Right(client.clone()), engine)
            }
            // Offline, or a server that only chats: the page's own index finds the passages.
            (_, Local::Hashed) => (
                Either::Left(Either::Left(HashEmbedder)),
                Ok(indexed.engine.clone()),
            ),
            (_, Local::Neural(cached)) => (
                Either::Left(Either::Right(*cached)),
                self.neural_engine(indexed, cached, observe)
                    .await
                    .map_err(|e| not_indexed(cached.model_name(), &e)),
            ),
        };
        let engine = match engine {
            Ok(engine) => engine,
            Err(message) => return failed(message),
        };
        let models = Models {
            chat: &chat,
            embedder: &embedder,
            live,
        };
        let opts = AskOptions {
            mode,
            session_id: Some(&self.id),
            user_id: user,
            corpus_revision: Some(indexed.revision),
            ..Default::default()
        };
        let outcome = pipeline::ask(&engine, models, tracer, question, opts).await;
        Asked {
            trace_id: Some(outcome.trace_id),
            result: outcome.result.map_err(|e| e.to_string()),
            spans: self.telemetry.take_finished(redaction),
        }
    }

    /// The corpus as the neural embedder indexes it. When the cache holds every text
    /// an indexing embeds (the handbook's vectors ship with the page) nothing runs and
    /// nothing is traced; documents of the user's own are embedded in the worker,
    /// traced as an indexing, which goes on from the cache after a Stop.
    async fn neural_engine<N: Embedder>(
        &self,
        indexed: &Indexed,
        cached: &Cached<N>,
        observe: Observer<'_>,
    ) -> Result<Arc<Engine>, EngineError> {
        let key = IndexKey {
            source: IndexSource::Page,
            embedding_model: cached.model_name().to_string(),
            revision: indexed.revision,
        };
        if let Some(engine) = self.kept(&key) {
            return Ok(engine);
        }
        let chunks = &indexed.engine.index.chunks;
        // Sentences too: a Stop after the chunks leaves them to embed.
        if !cached.knows_all(&Engine::embedded_texts(chunks, cached)) {
            return self
                .engine_for(indexed, IndexSource::Page, cached, observe)
                .await;
        }
        let texts: Vec<String> = chunks.iter().map(|c| c.indexed_text()).collect();
        let vectors = cached.embed(&texts).await?;
        let engine = Arc::new(Engine {
            sections: indexed.engine.sections.clone(),
            index: Index::new(chunks.clone(), vectors),
            embedding_model: cached.model_name().to_string(),
        });
        Ok(self.keep(key, engine))
    }

    /// The corpus indexed with `embedder` (running at `source`), as its own traced
    /// indexing, reused while the [`IndexKey`] holds.
    async fn engine_for<E: Embedder>(
        &self,
        indexed: &Indexed,
        source: IndexSource,
        embedder: &E,
        observe: Observer<'_>,
    ) -> Result<Arc<Engine>, EngineError> {
        let key = IndexKey {
            source,
            embedding_model: embedder.model_name().to_string(),
            revision: indexed.revision,
        };
        if let Some(engine) = self.kept(&key) {
            return Ok(engine);
        }
        let documents: Vec<(&str, &str)> = indexed
            .documents
            .iter()
            .map(|d| (d.name.as_str(), d.text.as_str()))
            .collect();
        let engine =
            Engine::build_traced(&documents, embedder, &self.telemetry.tracer, observe).await?;
        Ok(self.keep(key, Arc::new(engine)))
    }

    fn kept(&self, key: &IndexKey) -> Option<Arc<Engine>> {
        let indexes = self.indexes.borrow();
        indexes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, e)| e.clone())
    }

    /// Keeps `engine` for `key`, dropping the indexes of other corpus revisions.
    fn keep(&self, key: IndexKey, engine: Arc<Engine>) -> Arc<Engine> {
        let mut indexes = self.indexes.borrow_mut();
        indexes.retain(|(k, _)| k.revision == key.revision && k != &key);
        indexes.push((key, engine.clone()));
        engine
    }

    /// Sends an edited model call again: to the offline model (judging sentences with
    /// `local`) when `remote` is `None`, else to the remote chat model at `temperature`.
    /// Its trace links to `original`.
    pub async fn replay<C: HttpClient, N: Embedder>(
        &self,
        remote: Option<&Rc<OpenAi<C>>>,
        local: Local<'_, N>,
        messages: &[Message],
        temperature: f64,
        original: SpanContext,
        redaction: &Redaction,
    ) -> Replayed {
        let tracer = &self.telemetry.tracer;
        let session = Some(self.id.as_str());
        let replayed = match (remote, local) {
            (None, Local::Hashed) => {
                replay::replay(tracer, &HASHED_CHAT, messages, original, session).await
            }
            (None, Local::Neural(cached)) => {
                let chat = OfflineChat { sentences: cached };
                replay::replay(tracer, &chat, messages, original, session).await
            }
            (Some(client), _) => {
                let chat = client.at_temperature(temperature);
                replay::replay(tracer, &chat, messages, original, session).await
            }
        };
        Replayed {
            trace_id: replayed.trace_id,
            reply: replayed.result.map_err(|e| e.to_string()),
            spans: self.telemetry.take_finished(redaction),
        }
    }

    /// Records the error-path demo over `engine`; its trace id and spans.
    pub async fn error_demo(
        &self,
        engine: &Engine,
        redaction: &Redaction,
    ) -> (TraceId, Vec<SpanData>) {
        let trace_id = demo::error_paths(engine, &self.telemetry.tracer).await;
        (trace_id, self.telemetry.take_finished(redaction))
    }
}

/// What the page says when indexing the documents with `model` for a question did not
/// finish: stopped by the user, or failed.
fn not_indexed(model: &str, e: &EngineError) -> String {
    match e {
        EngineError::Stopped(_) => format!("You stopped indexing the documents for {model}: {e}."),
        _ => format!("The documents could not be indexed with {model}: {e}."),
    }
}
