//! The traced RAG pipeline, and the traced steps it shares with the agent.
//!
//! Span tree of one question:
//! ```text
//! rag_pipeline (CHAIN)
//! ├─ retrieval (RETRIEVER)
//! │  └─ CreateEmbeddings (EMBEDDING)
//! └─ generation (LLM)
//! ```
//! Every run ends its root span with the answer as `output.value`, or with status ERROR
//! and an `exception` event naming what went wrong ([`AskError`]).

use thiserror::Error;

use super::embed::HashEmbedder;
use super::engine::{Cited, Engine, Retrieved};
use super::index::Hit;
use super::index::SearchMode;
use super::offline::{OfflineChat, HASHED_CHAT};
use super::prompt::{self, Passage, ReactParseError};
use super::rerank;
use super::{agent, text};
use crate::model::{
    CallObserver, ChatModel, ChatResponse, Embedder, Message, ModelError, ToolCall, ToolSpec,
};
use crate::telemetry::names::SpanName;
use crate::telemetry::semconv as sc;
use crate::telemetry::span::Traced;
use opentelemetry::trace::TraceId;
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::trace::SdkTracer;

/// Longest question accepted, in characters.
pub const MAX_QUESTION_CHARS: usize = 2_000;

/// RAG (retrieve, then generate) or ReAct agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Rag,
    Agent,
}

impl Mode {
    /// As in `metadata` and `tag.tags`: `rag` or `agent`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Rag => "rag",
            Mode::Agent => "agent",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Mode::Rag => "RAG",
            Mode::Agent => "Agent",
        }
    }
}

/// How a question is answered.
#[derive(Debug, Clone, Copy)]
pub struct AskOptions<'a> {
    pub mode: Mode,
    pub top_k: usize,
    pub search: SearchMode,
    /// The agent's step budget.
    pub max_steps: usize,
    /// Set as `session.id` on the root span, so Phoenix groups a session's questions.
    pub session_id: Option<&'a str>,
    /// Set as `user.id` on the root span: the name the user gave, if any.
    pub user_id: Option<&'a str>,
    /// The revision of the indexed documents, in the root's `metadata`.
    pub corpus_revision: Option<u64>,
}

impl Default for AskOptions<'_> {
    fn default() -> Self {
        AskOptions {
            mode: Mode::Rag,
            top_k: 5,
            search: SearchMode::Hybrid,
            max_steps: 5,
            session_id: None,
            user_id: None,
            corpus_revision: None,
        }
    }
}

/// Why a question got no answer. The messages are shown to the user as they are.
#[derive(Debug, Error, PartialEq)]
pub enum AskError {
    #[error("The question is empty: type a question about the handbook.")]
    EmptyQuestion,
    #[error("The question is too long ({chars} characters): keep it under {max}.")]
    TooLong { chars: usize, max: usize },
    #[error("The model call failed: {0}.")]
    Model(#[from] ModelError),
    #[error("The model's reply could not be read as a ReAct step: {0}")]
    Malformed(#[from] ReactParseError),
    #[error("The agent did not finish within {0} steps.")]
    OutOfSteps(usize),
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub text: String,
    pub cited: Vec<Cited>,
}

/// What a question produced: its trace id (so the page can show its spans) and the
/// answer or the error.
#[derive(Debug)]
pub struct Outcome {
    pub trace_id: TraceId,
    pub result: Result<Answer, AskError>,
}

/// The models a question runs with, and who hears the answer as it streams in.
pub struct Models<'a, C, E> {
    pub chat: &'a C,
    pub embedder: &'a E,
    /// Called with every piece of model output as it arrives.
    pub live: Option<&'a dyn Fn(&str)>,
}

impl Models<'static, OfflineChat, HashEmbedder> {
    /// The models that run in the page with no key and no network, unheard.
    pub fn offline() -> Self {
        Models {
            chat: &HASHED_CHAT,
            embedder: &HashEmbedder,
            live: None,
        }
    }
}

/// Answers one question in the chosen mode, tracing every step under one root span.
pub async fn ask<C: ChatModel, E: Embedder>(
    engine: &Engine,
    models: Models<'_, C, E>,
    tracer: &SdkTracer,
    question: &str,
    opts: AskOptions<'_>,
) -> Outcome {
    let root = Traced::root(
        tracer,
        match opts.mode {
            Mode::Rag => SpanName::RagPipeline,
            Mode::Agent => SpanName::AgentRun,
        },
    );
    root.set(sc::INPUT_VALUE, question.to_string());
    root.set(
        sc::METADATA,
        serde_json::json!({
            "mode": opts.mode.as_str(),
            "search": opts.search.as_str(),
            "top_k": opts.top_k,
            "corpus_revision": opts.corpus_revision,
        })
        .to_string(),
    );
    root.set(
        sc::TAG_TAGS,
        Value::Array(vec![opentelemetry::StringValue::from(opts.mode.as_str())].into()),
    );
    if let Some(user) = opts.user_id {
        root.set(sc::USER_ID, user.to_string());
    }
    if let Some(session) = opts.session_id {
        root.set(sc::SESSION_ID, session.to_string());
    }
    let result = match validate(question) {
        Err(e) => Err(e),
        Ok(q) => match opts.mode {
            Mode::Rag => rag(&root, engine, &models, q, opts).await,
            Mode::Agent => agent::run(&root, engine, &models, q, opts).await,
        },
    };
    match &result {
        Ok(answer) => root.set(sc::OUTPUT_VALUE, answer.text.clone()),
        Err(e) => root.fail(e),
    }
    Outcome {
        trace_id: root.trace_id(),
        result,
    }
}

fn validate(question: &str) -> Result<&str, AskError> {
    let q = question.trim();
    let chars = q.chars().count();
    if text::words(q).is_empty() {
        Err(AskError::EmptyQuestion)
    } else if chars > MAX_QUESTION_CHARS {
        Err(AskError::TooLong {
            chars,
            max: MAX_QUESTION_CHARS,
        })
    } else {
        Ok(q)
    }
}

async fn rag<C: ChatModel, E: Embedder>(
    root: &Traced,
    engine: &Engine,
    models: &Models<'_, C, E>,
    question: &str,
    opts: AskOptions<'_>,
) -> Result<Answer, AskError> {
    let passages = retrieve(root, engine, models.embedder, question, opts).await?;
    let messages = render_prompt(root, question, &passages);
    let reply = generate(root, models, &messages, &[], question).await?;
    Ok(Answer {
        cited: engine.cited(&reply.content),
        text: reply.content,
    })
}

/// A traced rendering of the RAG prompt: a `prompt` span with the template, its
/// variables and its version; the messages it makes.
fn render_prompt(parent: &Traced, question: &str, passages: &[Passage]) -> Vec<Message> {
    let span = parent.child(SpanName::Prompt);
    let variables: serde_json::Map<String, serde_json::Value> =
        prompt::rag_variables(question, passages)
            .into_iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::String(v)))
            .collect();
    let variables = serde_json::Value::Object(variables).to_string();
    span.set(sc::LLM_PROMPT_TEMPLATE, prompt::RAG_TEMPLATE);
    span.set(sc::LLM_PROMPT_TEMPLATE_VARIABLES, variables.clone());
    span.set(
        sc::LLM_PROMPT_TEMPLATE_VERSION,
        prompt::RAG_TEMPLATE_VERSION,
    );
    span.set(sc::INPUT_VALUE, variables);
    span.set(sc::INPUT_MIME_TYPE, "application/json");
    let messages = prompt::rag_messages(question, passages);
    if let Some(user) = messages.last() {
        span.set(sc::OUTPUT_VALUE, user.content.clone());
    }
    messages
}

/// A traced retrieval: a `retrieval` span with the query's `CreateEmbeddings` child.
pub(crate) async fn retrieve<E: Embedder>(
    parent: &Traced,
    engine: &Engine,
    embedder: &E,
    query: &str,
    opts: AskOptions<'_>,
) -> Result<Vec<Passage>, AskError> {
    let span = parent.child(SpanName::Retrieval);
    span.set(sc::INPUT_VALUE, query.to_string());
    span.set(sc::INPUT_MIME_TYPE, "text/plain");
    span.set(sc::RETRIEVAL_QUERY, query.to_string());
    span.set(sc::RETRIEVAL_TOP_K, opts.top_k as i64);
    span.set(sc::RETRIEVAL_METHOD, opts.search.as_str());
    let query_vec = {
        let emb = span.child(SpanName::CreateEmbeddings);
        emb.set(sc::EMBEDDING_MODEL_NAME, embedder.model_name().to_string());
        emb.set(sc::embedding(0, "text"), query.to_string());
        match embedder.embed(&[query.to_string()]).await {
            Ok(mut v) if !v.is_empty() => {
                let vec = v.swap_remove(0);
                emb.set(
                    sc::embedding(0, "vector"),
                    Value::Array(vec.iter().map(|x| f64::from(*x)).collect::<Vec<_>>().into()),
                );
                vec
            }
            Ok(_) => {
                return Err(fail(
                    &emb,
                    AskError::Model(ModelError::Malformed(
                        "the embedder returned no vector".into(),
                    )),
                ))
            }
            Err(e) => return Err(fail(&emb, AskError::Model(e))),
        }
    };
    let candidates = engine.candidates(query, &query_vec, opts);
    let hits = rerank_traced(
        &span,
        engine,
        embedder,
        query,
        &query_vec,
        &candidates,
        opts.top_k,
    )
    .await?;
    let retrieved = engine.with_whole_lists(&hits, &query_vec);
    span.set(sc::RETRIEVAL_RESULT_COUNT, retrieved.len() as i64);
    span.set(
        sc::RETRIEVAL_TOP_SCORE,
        hits.first().map_or(0.0, |h| f64::from(h.score)),
    );
    let passages: Vec<Passage> = retrieved.iter().map(|r| engine.passage(&r.hit)).collect();
    for (i, (Retrieved { hit, continues }, p)) in retrieved.iter().zip(&passages).enumerate() {
        span.set(sc::retrieval_document(i, "id"), p.id.clone());
        span.set(sc::retrieval_document(i, "content"), p.text.clone());
        span.set(sc::retrieval_document(i, "score"), f64::from(hit.score));
        let chunk = &engine.index.chunks[hit.chunk];
        let mut metadata = serde_json::json!({
            "document": chunk.document,
            "section": chunk.section_title,
            "section_id": chunk.section_id,
            "start_char": chunk.chars.start,
            "end_char": chunk.chars.end,
        });
        if let Some(of) = continues {
            metadata[sc::DOCUMENT_CONTINUES] = engine.index.chunks[*of].id.clone().into();
        }
        span.set(sc::retrieval_document(i, "metadata"), metadata.to_string());
    }
    // The ranking as JSON, which viewers (Phoenix, the page) pretty-print.
    let ranking: Vec<serde_json::Value> = retrieved
        .iter()
        .zip(&passages)
        .map(|(r, p)| serde_json::json!({ "id": p.id, "score": r.hit.score }))
        .collect();
    span.set(
        sc::OUTPUT_VALUE,
        serde_json::Value::Array(ranking).to_string(),
    );
    span.set(sc::OUTPUT_MIME_TYPE, "application/json");
    Ok(passages)
}

/// [`rerank`] as a `rerank` (RERANKER) span: the candidates in, the kept chunks out,
/// each with the parts of its score in its metadata (why it won). Comparing the query
/// with the candidates' sentences ([`Engine::closest_sentences`]) is part of its work.
async fn rerank_traced<E: Embedder>(
    parent: &Traced,
    engine: &Engine,
    embedder: &E,
    query: &str,
    query_vec: &[f32],
    candidates: &[Hit],
    top_k: usize,
) -> Result<Vec<Hit>, AskError> {
    let span = parent.child(SpanName::Rerank);
    span.set(sc::RERANKER_QUERY, query.to_string());
    span.set(sc::RERANKER_MODEL_NAME, rerank::MODEL_NAME);
    span.set(sc::RERANKER_TOP_K, top_k as i64);
    span.set(sc::INPUT_VALUE, query.to_string());
    // A document as both lists record it: id, content and score under `key`.
    let document = |key: fn(usize, &str) -> String, i: usize, hit: &Hit| {
        let chunk = &engine.index.chunks[hit.chunk];
        span.set(key(i, "id"), chunk.id.clone());
        span.set(key(i, "content"), chunk.text.clone());
        span.set(key(i, "score"), f64::from(hit.score));
    };
    for (i, hit) in candidates.iter().enumerate() {
        document(sc::reranker_input_document, i, hit);
    }
    let ranked = match engine
        .rank(embedder, query, query_vec, candidates, top_k)
        .await
    {
        Ok(ranked) => ranked,
        Err(e) => return Err(fail(&span, AskError::Model(e))),
    };
    for (i, r) in ranked.iter().enumerate() {
        document(sc::reranker_output_document, i, &r.hit);
        span.set(
            sc::reranker_output_document(i, "metadata"),
            serde_json::json!({
                "candidate_rank": r.candidate_rank,
                "similarity": r.parts.similarity,
                "chunk_cosine": r.hit.similarity,
                "closest_sentence_cosine": r.closest_sentence,
                "bm25": r.parts.bm25,
                "heading": r.parts.heading,
            })
            .to_string(),
        );
    }
    span.set(
        sc::OUTPUT_VALUE,
        ranked
            .iter()
            .map(|r| {
                format!(
                    "{} {:.3} (similarity {:.2}, bm25 {:.2}, heading {:.2}; was #{})",
                    engine.index.chunks[r.hit.chunk].id,
                    r.hit.score,
                    r.parts.similarity,
                    r.parts.bm25,
                    r.parts.heading,
                    r.candidate_rank
                )
            })
            .collect::<Vec<_>>()
            .join("\n"),
    );
    Ok(ranked.into_iter().map(|r| r.hit).collect())
}

/// Turns what happens during a chat call into span events (`first_token`, `retry`)
/// and passes the streamed pieces on.
struct SpanObserver<'a> {
    span: &'a Traced,
    live: Option<&'a dyn Fn(&str)>,
    started: bool,
}

impl CallObserver for SpanObserver<'_> {
    fn on_delta(&mut self, delta: &str) {
        if !self.started {
            self.started = true;
            self.span.event("first_token", Vec::new());
        }
        if let Some(live) = self.live {
            live(delta);
        }
    }

    fn on_retry(&mut self, attempt: u32, status: u16, wait_s: f64) {
        self.span.event(
            "retry",
            vec![
                KeyValue::new("retry.attempt", i64::from(attempt)),
                KeyValue::new("http.response.status_code", i64::from(status)),
                KeyValue::new("retry.wait_seconds", wait_s),
            ],
        );
    }
}

/// The tool calls of a message, under its key (`….message.`).
fn record_calls(span: &Traced, message: &str, calls: &[ToolCall]) {
    let message = message.trim_end_matches('.');
    for (j, call) in calls.iter().enumerate() {
        span.set(sc::tool_call(message, j, "id"), call.id.clone());
        span.set(
            sc::tool_call(message, j, "function.name"),
            call.name.clone(),
        );
        span.set(
            sc::tool_call(message, j, "function.arguments"),
            call.arguments.clone(),
        );
    }
}

/// A traced chat call: a `generation` LLM span with OpenInference messages and token
/// counts, plus the tracing tutorial's `generation.*` keys.
pub(crate) async fn generate<C: ChatModel, E>(
    parent: &Traced,
    models: &Models<'_, C, E>,
    messages: &[Message],
    tools: &[ToolSpec],
    question: &str,
) -> Result<ChatResponse, AskError> {
    let chat = models.chat;
    let span = parent.child(SpanName::Generation);
    span.set(sc::LLM_MODEL_NAME, chat.model_name().to_string());
    span.set(sc::LLM_REQUEST_MODEL_NAME, chat.model_name().to_string());
    span.set(sc::LLM_PROVIDER, chat.provider().to_string());
    span.set(sc::LLM_SYSTEM, chat.provider().to_string());
    span.set(sc::LLM_INVOCATION_PARAMETERS, chat.invocation_parameters());
    span.set(sc::GENERATION_QUESTION, question.to_string());
    span.set(sc::GENERATION_MODEL, chat.model_name().to_string());
    let context_chunks: usize = messages
        .iter()
        .map(|m| prompt::parse_passages(&m.content).len())
        .sum();
    span.set(sc::GENERATION_CONTEXT_CHUNK_COUNT, context_chunks as i64);
    for (i, m) in messages.iter().enumerate() {
        span.set(sc::llm_input_message(i, "role"), m.role.as_str());
        span.set(sc::llm_input_message(i, "content"), m.content.clone());
        if let Some(id) = &m.tool_call_id {
            span.set(sc::llm_input_message(i, "tool_call_id"), id.clone());
        }
        record_calls(&span, &sc::llm_input_message(i, ""), &m.tool_calls);
    }
    for (i, tool) in tools.iter().enumerate() {
        span.set(sc::llm_tool(i), tool.json().to_string());
    }
    if let Some(last) = messages.last() {
        span.set(sc::INPUT_VALUE, last.content.clone());
    }
    let mut observer = SpanObserver {
        span: &span,
        live: models.live,
        started: false,
    };
    let reply = chat
        .chat(messages, tools, &mut observer)
        .await
        .map_err(|e| fail(&span, AskError::Model(e)))?;
    span.set(sc::OUTPUT_VALUE, reply.content.clone());
    span.set(sc::llm_output_message(0, "role"), "assistant");
    span.set(sc::llm_output_message(0, "content"), reply.content.clone());
    record_calls(&span, &sc::llm_output_message(0, ""), &reply.tool_calls);
    span.set(sc::LLM_TOKEN_COUNT_PROMPT, reply.usage.prompt_tokens as i64);
    span.set(
        sc::LLM_TOKEN_COUNT_COMPLETION,
        reply.usage.completion_tokens as i64,
    );
    span.set(sc::LLM_TOKEN_COUNT_TOTAL, reply.usage.total() as i64);
    if let Some(model) = &reply.model {
        span.set(sc::LLM_RESPONSE_MODEL_NAME, model.clone());
    }
    if let Some(reason) = &reply.finish_reason {
        span.set(sc::LLM_FINISH_REASON, reason.clone());
    }
    let priced = reply.model.as_deref().unwrap_or(chat.model_name());
    if let Some(cost) = chat.cost(priced, reply.usage) {
        span.set(sc::LLM_COST_PROMPT, cost.prompt);
        span.set(sc::LLM_COST_COMPLETION, cost.completion);
        span.set(sc::LLM_COST_TOTAL, cost.total());
    }
    span.set(
        sc::GENERATION_ANSWER_WORD_COUNT,
        text::words(&reply.content).len() as i64,
    );
    Ok(reply)
}

/// Records `err` on `span` and hands it back, for `map_err` and early returns.
pub(crate) fn fail(span: &Traced, err: AskError) -> AskError {
    span.fail(&err);
    err
}
