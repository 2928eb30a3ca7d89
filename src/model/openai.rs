//! [`OpenAi`]: the OpenAI-compatible chat and embedding client (OpenAI, Ollama, vLLM,
//! llama.cpp, LM Studio …), written against the page's [`HttpClient`] seam so that
//! everything but the bytes on the wire is tested natively.
//!
//! - Chat: `POST {base}/chat/completions` with `stream: true` and
//!   `stream_options.include_usage`; the server-sent events are parsed incrementally
//!   (`eventsource-stream`) and every content delta is handed to the caller's
//!   [`CallObserver`] as it arrives.
//! - Embeddings: `POST {base}/embeddings` in batches, cached per (model, text).
//! - Failures become [`ModelError`]s that say what to do, with any key the server
//!   echoed scrubbed out; 429, 502, 503 and 504 are retried (honouring `Retry-After`),
//!   each retry reported to the observer. A stream that goes silent for
//!   [`IDLE_TIMEOUT`] fails instead of hanging.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::pricing::{Cost, PriceTable};
use super::{
    CallObserver, ChatModel, ChatResponse, Embedder, Message, ModelError, ToolCall, ToolSpec, Usage,
};
use crate::http::{self, Body, HttpClient, Request};
use crate::secret::{scrub, ApiKey};

pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
pub const DEFAULT_CHAT_MODEL: &str = "gpt-4.1-mini";
pub const DEFAULT_EMBEDDING_MODEL: &str = "text-embedding-3-small";
/// The embedding model name that keeps embedding in the page (for servers that serve a
/// chat model but no embeddings).
pub const LOCAL_EMBEDDINGS: &str = "local";
/// Inputs per embeddings request (the API allows 2,048; smaller keeps bodies modest).
const EMBEDDING_BATCH: usize = 256;
/// Retries of a 429, 502, 503 or 504 before giving up.
const MAX_RETRIES: u32 = 3;
/// How long a call may take to start answering.
pub const TIMEOUT: Duration = Duration::from_secs(60);
/// How long a streamed answer may stay silent between two chunks.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Model settings as the user entered them; persisted (without the key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelSettings {
    pub base_url: String,
    pub chat_model: String,
    pub embedding_model: String,
    pub temperature: f64,
    /// Keep the API key in localStorage instead of sessionStorage.
    pub remember_key: bool,
    /// The agent calls its tools through the API's tool calling; off, it prompts the
    /// model in the text ReAct format (for servers without tool calling).
    pub tool_calling: bool,
    /// The origin the key was entered for: the key goes nowhere else until the user
    /// says so (empty: not recorded, by pages from before this setting).
    pub key_origin: String,
    /// The price table as the user edited it ([`PriceTable::parse`] reads it).
    pub prices: String,
}

impl Default for ModelSettings {
    fn default() -> Self {
        ModelSettings {
            base_url: DEFAULT_BASE_URL.into(),
            chat_model: DEFAULT_CHAT_MODEL.into(),
            embedding_model: DEFAULT_EMBEDDING_MODEL.into(),
            temperature: 0.0,
            remember_key: false,
            tool_calling: true,
            key_origin: String::new(),
            prices: PriceTable::bundled_text().into(),
        }
    }
}

/// Validated settings of an OpenAI-compatible server.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenAiConfig {
    /// Without a trailing slash.
    pub base_url: String,
    pub api_key: Option<ApiKey>,
    pub chat_model: String,
    pub embedding_model: String,
    pub temperature: f64,
    pub tool_calling: bool,
    pub prices: PriceTable,
}

impl OpenAiConfig {
    /// `None` when the page should stay offline: no key and the default base URL (a
    /// custom base URL needs no key: local servers often have none).
    pub fn parse(settings: &ModelSettings, api_key: &str) -> Result<Option<Self>, ModelError> {
        let base_url = settings.base_url.trim().trim_end_matches('/');
        let base_url = if base_url.is_empty() {
            DEFAULT_BASE_URL
        } else {
            base_url
        };
        let key = api_key.trim();
        if key.is_empty() && base_url == DEFAULT_BASE_URL {
            return Ok(None);
        }
        if !(base_url.starts_with("http://") || base_url.starts_with("https://"))
            || base_url.contains(char::is_whitespace)
        {
            return Err(ModelError::Settings(format!(
                "the base URL \"{base_url}\" must be a full http(s) URL such as {DEFAULT_BASE_URL}"
            )));
        }
        let non_empty = |v: &str, what: &str| {
            let v = v.trim();
            if v.is_empty() {
                Err(ModelError::Settings(format!("the {what} is empty")))
            } else {
                Ok(v.to_string())
            }
        };
        http::header_value("API key", key).map_err(ModelError::Settings)?;
        let origin = http::origin(base_url).unwrap_or_default();
        if !key.is_empty() && !settings.key_origin.is_empty() && settings.key_origin != origin {
            return Err(ModelError::Settings(format!(
                "the API key was entered for {}, not {origin}: enter the key for {origin}, or confirm the new base URL",
                settings.key_origin
            )));
        }
        if !(0.0..=2.0).contains(&settings.temperature) {
            return Err(ModelError::Settings(
                "the temperature must be between 0 and 2".into(),
            ));
        }
        Ok(Some(OpenAiConfig {
            base_url: base_url.to_string(),
            api_key: (!key.is_empty()).then(|| ApiKey::new(key)),
            chat_model: non_empty(&settings.chat_model, "chat model")?,
            embedding_model: non_empty(&settings.embedding_model, "embedding model")?,
            temperature: settings.temperature,
            tool_calling: settings.tool_calling,
            prices: PriceTable::parse(&settings.prices)
                .map_err(|e| ModelError::Settings(e.to_string()))?,
        }))
    }

    /// Whether documents and questions are embedded in the page, not by the server.
    pub fn local_embeddings(&self) -> bool {
        self.embedding_model.eq_ignore_ascii_case(LOCAL_EMBEDDINGS)
    }

    fn headers(&self) -> Vec<(&'static str, String)> {
        let mut h = vec![("content-type", "application/json".to_string())];
        if let Some(key) = &self.api_key {
            h.push(("authorization", format!("Bearer {}", key.expose())));
        }
        h
    }
}

/// Embeddings already fetched, by (model, text); shared by the clients of one page so a
/// change of chat model does not re-embed the corpus.
pub type EmbeddingCache = Rc<RefCell<HashMap<(String, String), Vec<f32>>>>;

/// An OpenAI-compatible client.
pub struct OpenAi<T> {
    pub config: OpenAiConfig,
    transport: T,
    cache: EmbeddingCache,
}

impl<T: HttpClient> OpenAi<T> {
    pub fn new(config: OpenAiConfig, transport: T, cache: EmbeddingCache) -> Self {
        OpenAi {
            config,
            transport,
            cache,
        }
    }

    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// POSTs with retries of 429, 502, 503 and 504; returns the successful answer's
    /// body.
    async fn post(
        &self,
        path: &str,
        body: String,
        observer: &mut dyn CallObserver,
    ) -> Result<Body, ModelError> {
        let mut request = Request::post(
            format!("{}{path}", self.config.base_url),
            body.into_bytes(),
            TIMEOUT,
        );
        request.headers = self.config.headers();
        request.idle_timeout = Some(IDLE_TIMEOUT);
        let mut attempt = 0;
        loop {
            let response = self.transport.send(request.clone()).await?;
            if (200..300).contains(&response.status) {
                return Ok(response.body);
            }
            let status = response.status;
            let wait = response
                .header("retry-after")
                .and_then(|v| http::retry_after(v, self.transport.now(), http::MAX_BACKOFF));
            let text = response.text().await.unwrap_or_default();
            let text = scrub(&text, self.config.api_key.as_ref());
            let error = error_for(status, &text, &self.config.base_url);
            if !http::retryable(status) || attempt >= MAX_RETRIES {
                return Err(error);
            }
            attempt += 1;
            let wait = wait.unwrap_or_else(|| http::backoff(attempt, self.transport.now()));
            observer.on_retry(attempt, status, wait.as_secs_f64());
            self.transport.sleep(wait).await;
        }
    }
}

async fn collect(mut body: Body) -> Result<Vec<u8>, ModelError> {
    let mut out = Vec::new();
    while let Some(chunk) = body.next().await {
        out.extend(chunk?);
    }
    Ok(out)
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    message: String,
}

/// Maps a failed answer to what the user should do about it (`body` already scrubbed).
pub fn error_for(status: u16, body: &str, base_url: &str) -> ModelError {
    let message = serde_json::from_str::<ErrorBody>(body)
        .map(|b| b.error.message)
        .unwrap_or_else(|_| body.chars().take(200).collect());
    match status {
        401 | 403 => ModelError::Unauthorized { message },
        404 => ModelError::NotFound { message },
        429 => ModelError::RateLimited { message },
        500..=599 => ModelError::Server { status, message },
        status => ModelError::Rejected {
            status,
            message,
            base_url: base_url.to_string(),
        },
    }
}

#[derive(Deserialize)]
struct ChatChunk {
    #[serde(default)]
    choices: Vec<ChunkChoice>,
    usage: Option<ApiUsage>,
    /// The model that answered (OpenAI names the dated snapshot).
    model: Option<String>,
}

#[derive(Deserialize)]
struct ChunkChoice {
    delta: Option<Delta>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Delta {
    content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<ToolCallDelta>,
}

/// A piece of a streamed tool call: the first piece of each `index` names the call,
/// the rest add to its arguments.
#[derive(Deserialize)]
struct ToolCallDelta {
    index: usize,
    id: Option<String>,
    function: Option<FunctionDelta>,
}

#[derive(Deserialize)]
struct FunctionDelta {
    name: Option<String>,
    arguments: Option<String>,
}

/// A message as the chat-completions API takes it.
fn message_json(m: &Message) -> serde_json::Value {
    let mut json = json!({ "role": m.role.as_str(), "content": m.content });
    if !m.tool_calls.is_empty() {
        json["tool_calls"] = m
            .tool_calls
            .iter()
            .map(|c| json!({ "id": c.id, "type": "function", "function": { "name": c.name, "arguments": c.arguments } }))
            .collect();
    }
    if let Some(id) = &m.tool_call_id {
        json["tool_call_id"] = json!(id);
    }
    json
}

#[derive(Deserialize)]
struct ApiUsage {
    prompt_tokens: u64,
    completion_tokens: u64,
}

/// Reads a chat-completions event stream to its end: the content deltas go to the
/// observer as they arrive; the usage comes from the final chunk.
pub async fn read_chat_stream(
    body: Body,
    observer: &mut dyn CallObserver,
) -> Result<ChatResponse, ModelError> {
    let mut events = body.eventsource();
    let mut content = String::new();
    let mut usage = None;
    let (mut model, mut finish_reason) = (None, None);
    let mut tool_calls: Vec<ToolCall> = Vec::new();
    let mut done = false;
    while let Some(event) = events.next().await {
        let event = event.map_err(|e| match e {
            eventsource_stream::EventStreamError::Transport(e) => ModelError::Http(e),
            other => ModelError::Malformed(format!("the event stream is broken: {other}")),
        })?;
        if event.data == "[DONE]" {
            done = true;
            break;
        }
        let chunk: ChatChunk = serde_json::from_str(&event.data).map_err(|e| {
            ModelError::Malformed(format!(
                "a streamed chunk is not valid JSON ({e}): {}",
                event.data.chars().take(120).collect::<String>()
            ))
        })?;
        if let Some(delta) = chunk
            .choices
            .first()
            .and_then(|c| c.delta.as_ref())
            .and_then(|d| d.content.as_deref())
        {
            if !delta.is_empty() {
                content.push_str(delta);
                observer.on_delta(delta);
            }
        }
        for call in chunk
            .choices
            .first()
            .and_then(|c| c.delta.as_ref())
            .map_or(&[][..], |d| d.tool_calls.as_slice())
        {
            if tool_calls.len() <= call.index {
                tool_calls.resize_with(call.index + 1, || ToolCall {
                    id: String::new(),
                    name: String::new(),
                    arguments: String::new(),
                });
            }
            let into = &mut tool_calls[call.index];
            if let Some(id) = &call.id {
                into.id.clone_from(id);
            }
            if let Some(f) = &call.function {
                if let Some(name) = &f.name {
                    into.name.push_str(name);
                }
                if let Some(args) = &f.arguments {
                    into.arguments.push_str(args);
                }
            }
        }
        model = chunk.model.or(model);
        finish_reason = chunk
            .choices
            .first()
            .and_then(|c| c.finish_reason.clone())
            .or(finish_reason);
        if let Some(u) = chunk.usage {
            usage = Some(Usage {
                prompt_tokens: u.prompt_tokens,
                completion_tokens: u.completion_tokens,
            });
        }
    }
    if !done {
        return Err(ModelError::Malformed(
            "the event stream ended before [DONE]".into(),
        ));
    }
    Ok(ChatResponse {
        content,
        usage: usage.unwrap_or_default(),
        model,
        finish_reason,
        tool_calls,
    })
}

impl<T: HttpClient> ChatModel for OpenAi<T> {
    fn model_name(&self) -> &str {
        &self.config.chat_model
    }

    fn provider(&self) -> &str {
        "openai"
    }

    fn invocation_parameters(&self) -> String {
        self.parameters_at(self.config.temperature)
    }

    fn calls_tools(&self) -> bool {
        self.config.tool_calling
    }

    fn cost(&self, answered_by: &str, usage: Usage) -> Option<Cost> {
        self.config.prices.cost(self.provider(), answered_by, usage)
    }

    async fn chat(
        &self,
        messages: &[Message],
        tools: &[ToolSpec],
        observer: &mut dyn CallObserver,
    ) -> Result<ChatResponse, ModelError> {
        self.chat_at(self.config.temperature, messages, tools, observer)
            .await
    }
}

impl<T: HttpClient> OpenAi<T> {
    /// This client at another temperature, for one replayed call.
    pub fn at_temperature(&self, temperature: f64) -> AtTemperature<'_, T> {
        AtTemperature {
            client: self,
            temperature,
        }
    }

    fn parameters_at(&self, temperature: f64) -> String {
        json!({ "model": self.config.chat_model, "temperature": temperature, "stream": true })
            .to_string()
    }

    async fn chat_at(
        &self,
        temperature: f64,
        messages: &[Message],
        tools: &[ToolSpec],
        observer: &mut dyn CallObserver,
    ) -> Result<ChatResponse, ModelError> {
        let mut body = json!({
            "model": self.config.chat_model,
            "temperature": temperature,
            "stream": true,
            "stream_options": { "include_usage": true },
            "messages": messages.iter().map(message_json).collect::<Vec<_>>(),
        });
        if !tools.is_empty() {
            body["tools"] = tools.iter().map(ToolSpec::json).collect();
            body["tool_choice"] = json!("auto");
        }
        let stream = self
            .post("/chat/completions", body.to_string(), observer)
            .await?;
        read_chat_stream(stream, observer).await
    }
}

/// [`OpenAi`] at another temperature than its settings' (replaying a call).
pub struct AtTemperature<'a, T> {
    client: &'a OpenAi<T>,
    temperature: f64,
}

impl<T: HttpClient> ChatModel for AtTemperature<'_, T> {
    fn model_name(&self) -> &str {
        ChatModel::model_name(self.client)
    }

    fn provider(&self) -> &str {
        self.client.provider()
    }

    fn invocation_parameters(&self) -> String {
        self.client.parameters_at(self.temperature)
    }

    fn cost(&self, answered_by: &str, usage: Usage) -> Option<Cost> {
        self.client.cost(answered_by, usage)
    }

    async fn chat(
        &self,
        messages: &[Message],
        tools: &[ToolSpec],
        observer: &mut dyn CallObserver,
    ) -> Result<ChatResponse, ModelError> {
        self.client
            .chat_at(self.temperature, messages, tools, observer)
            .await
    }
}

#[derive(Deserialize)]
struct EmbeddingsBody {
    data: Vec<EmbeddingItem>,
}

#[derive(Deserialize)]
struct EmbeddingItem {
    index: usize,
    embedding: Vec<f32>,
}

impl<T: HttpClient> Embedder for OpenAi<T> {
    fn model_name(&self) -> &str {
        &self.config.embedding_model
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, ModelError> {
        let model = self.config.embedding_model.clone();
        let missing: Vec<String> = {
            let cache = self.cache.borrow();
            let mut m: Vec<String> = texts
                .iter()
                .filter(|t| !cache.contains_key(&(model.clone(), (*t).clone())))
                .cloned()
                .collect();
            m.dedup();
            m
        };
        for batch in missing.chunks(EMBEDDING_BATCH) {
            let body = json!({ "model": model, "input": batch }).to_string();
            let bytes = collect(self.post("/embeddings", body, &mut ()).await?).await?;
            let parsed: EmbeddingsBody = serde_json::from_slice(&bytes).map_err(|e| {
                ModelError::Malformed(format!(
                    "the embeddings answer is not what the API returns ({e})"
                ))
            })?;
            let vectors = in_order(parsed.data, batch.len())?;
            let mut cache = self.cache.borrow_mut();
            for (text, vector) in batch.iter().zip(vectors) {
                cache.insert((model.clone(), text.clone()), unit(vector));
            }
        }
        let cache = self.cache.borrow();
        texts
            .iter()
            .map(|t| {
                cache
                    .get(&(model.clone(), t.clone()))
                    .cloned()
                    .ok_or_else(|| {
                        ModelError::Malformed("an embedding went missing from the cache".into())
                    })
            })
            .collect()
    }
}

/// The vectors of an embeddings answer in input order, checking what a server may get
/// wrong: the count, and every `index` present once and in range.
fn in_order(items: Vec<EmbeddingItem>, expected: usize) -> Result<Vec<Vec<f32>>, ModelError> {
    let malformed = |what: String| {
        Err(ModelError::Malformed(format!(
            "the embeddings answer {what}"
        )))
    };
    if items.len() != expected {
        return malformed(format!(
            "holds {} vectors for {expected} texts",
            items.len()
        ));
    }
    let mut slots: Vec<Option<Vec<f32>>> = vec![None; expected];
    for item in items {
        match slots.get_mut(item.index) {
            None => return malformed(format!("has index {}, out of range", item.index)),
            Some(Some(_)) => return malformed(format!("repeats index {}", item.index)),
            Some(slot) => *slot = Some(item.embedding),
        }
    }
    Ok(slots.into_iter().flatten().collect())
}

/// Scales to unit length, so cosine is a dot product as with the local embedder.
fn unit(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}
