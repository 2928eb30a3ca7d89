//! The model traits the pipelines are written against, and their messages.
//!
//! - [`ChatModel`]: chat completion over [`Message`]s, answering a [`ChatResponse`].
//! - [`Embedder`]: texts to vectors.
//! - [`openai`]: the OpenAI-compatible client.
//! - [`pricing`]: what a call cost, for the models whose prices are known.
//! - [`CallObserver`]: hears a call's streamed deltas and retries as they happen.
//!
//! The traits are `async` because remote models answer over fetch; the offline models
//! (`rag::offline`) answer at once. This room depends on nothing else in the crate but
//! the HTTP seam.

pub mod openai;
pub mod pricing;

use thiserror::Error;

/// Who says a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    System,
    User,
    Assistant,
    /// A tool's result, answering a tool call by its id.
    Tool,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::System, Role::User, Role::Assistant, Role::Tool];

    /// The role named `name` (as `as_str` writes it).
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }
}

/// One chat message.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub role: Role,
    pub content: String,
    /// The tools an assistant message calls.
    pub tool_calls: Vec<ToolCall>,
    /// The call a tool message answers.
    pub tool_call_id: Option<String>,
}

impl Message {
    fn of(role: Role, content: impl Into<String>) -> Self {
        Message {
            role,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }
    pub fn system(content: impl Into<String>) -> Self {
        Message::of(Role::System, content)
    }
    pub fn user(content: impl Into<String>) -> Self {
        Message::of(Role::User, content)
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        Message::of(Role::Assistant, content)
    }
    /// An assistant turn that calls tools.
    pub fn calling(content: impl Into<String>, calls: Vec<ToolCall>) -> Self {
        Message {
            tool_calls: calls,
            ..Message::of(Role::Assistant, content)
        }
    }
    /// The result of the tool call `id`.
    pub fn tool(id: impl Into<String>, content: impl Into<String>) -> Self {
        Message {
            tool_call_id: Some(id.into()),
            ..Message::of(Role::Tool, content)
        }
    }
}

/// A tool a model may call: its name, what it does, and its arguments' JSON Schema.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub parameters: serde_json::Value,
}

impl ToolSpec {
    /// The tool in OpenAI's function-tool form (also OpenInference's `tool.json_schema`).
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "type": "function",
            "function": { "name": self.name, "description": self.description, "parameters": self.parameters },
        })
    }
}

/// A model's call of a tool.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// The arguments, as the JSON text the model wrote.
    pub arguments: String,
}

/// Token counts of one call, as the model reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

impl Usage {
    pub fn total(self) -> u64 {
        self.prompt_tokens + self.completion_tokens
    }
}

/// A model's reply.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatResponse {
    pub content: String,
    pub usage: Usage,
    /// The model that answered, when the server says (it may differ from the one asked).
    pub model: Option<String>,
    /// Why the model stopped (`stop`, `length`, …), when the server says.
    pub finish_reason: Option<String>,
    /// The tools it called (models that call tools natively).
    pub tool_calls: Vec<ToolCall>,
}

/// Why a model call failed, in words the user can act on.
#[derive(Debug, Error, PartialEq)]
pub enum ModelError {
    /// The prompt is not one this model can work with.
    #[error("the model cannot handle this prompt: {0}")]
    UnsupportedPrompt(String),
    #[error("the model settings are not usable: {0}")]
    Settings(String),
    #[error("the API refused the key (HTTP 401): check your API key. The server said: {message}")]
    Unauthorized { message: String },
    #[error("the model or endpoint does not exist (HTTP 404): check the model name and base URL. The server said: {message}")]
    NotFound { message: String },
    #[error("rate limited (HTTP 429), still after retrying: wait a minute or check your quota. The server said: {message}")]
    RateLimited { message: String },
    #[error("the model server failed (HTTP {status}): {message}")]
    Server { status: u16, message: String },
    #[error("the server at {base_url} answered HTTP {status}: {message}")]
    Rejected {
        status: u16,
        message: String,
        base_url: String,
    },
    /// No (whole) answer: network, CORS, timeout, a stalled stream, or Stop.
    #[error("{0}")]
    Http(#[from] crate::http::HttpError),
    /// A model running in the page (MiniLM in its worker) failed to load or run.
    #[error("the local model failed: {0}. Choose Local hashed in Models to go on")]
    Local(String),
    #[error("the model's answer is malformed: {0}")]
    Malformed(String),
}

/// Hears what happens during one model call, as it happens.
pub trait CallObserver {
    /// A piece of the answer arrived.
    fn on_delta(&mut self, _delta: &str) {}
    /// The server asked to wait (429) or failed (5xx); retry `attempt` after `wait_s`.
    fn on_retry(&mut self, _attempt: u32, _status: u16, _wait_s: f64) {}
}

/// No one is listening.
impl CallObserver for () {}

/// A chat-completion model.
#[allow(async_fn_in_trait)] // the page is single-threaded: no `Send` bound wanted
pub trait ChatModel {
    /// Reported as `llm.model_name`.
    fn model_name(&self) -> &str;
    /// Reported as `llm.provider`.
    fn provider(&self) -> &str;
    /// Reported as `llm.invocation_parameters` (a JSON object).
    fn invocation_parameters(&self) -> String;
    /// Whether the model calls `tools` natively; models that do not are driven by the
    /// text ReAct format instead.
    fn calls_tools(&self) -> bool {
        false
    }
    /// What `usage` cost when `answered_by` (the model the response names) answered;
    /// `None` when the price is unknown, as for models that cost nothing to know of.
    fn cost(&self, _answered_by: &str, _usage: Usage) -> Option<pricing::Cost> {
        None
    }
    /// Answers `messages`, offering `tools` (ignored by models that do not call tools);
    /// streamed pieces and retries go to `observer` as they happen.
    async fn chat(
        &self,
        messages: &[Message],
        tools: &[ToolSpec],
        observer: &mut dyn CallObserver,
    ) -> Result<ChatResponse, ModelError>;
}

/// An embedding model.
#[allow(async_fn_in_trait)]
pub trait Embedder {
    /// Reported as `embedding.model_name`.
    fn model_name(&self) -> &str;
    /// One unit vector per text, in order.
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, ModelError>;
    /// The cosine under which a passage is unrelated to a question, as measured for this
    /// model (0 when it is not known: the answerer then judges by words alone).
    fn unrelated_below(&self) -> f32 {
        0.0
    }
    /// Whether it runs in the page, where a call costs nothing but time, so a caller may
    /// embed many short texts per question; a remote model (billed per call) is sent
    /// only what it must embed.
    fn runs_in_page(&self) -> bool {
        false
    }
}

/// One of two models, chosen at run time (offline or remote), as one type.
pub enum Either<L, R> {
    Left(L),
    Right(R),
}

impl<L: ChatModel, R: ChatModel> ChatModel for Either<L, R> {
    fn model_name(&self) -> &str {
        match self {
            Either::Left(m) => m.model_name(),
            Either::Right(m) => m.model_name(),
        }
    }

    fn provider(&self) -> &str {
        match self {
            Either::Left(m) => m.provider(),
            Either::Right(m) => m.provider(),
        }
    }

    fn invocation_parameters(&self) -> String {
        match self {
            Either::Left(m) => m.invocation_parameters(),
            Either::Right(m) => m.invocation_parameters(),
        }
    }

    fn calls_tools(&self) -> bool {
        match self {
            Either::Left(m) => m.calls_tools(),
            Either::Right(m) => m.calls_tools(),
        }
    }

    fn cost(&self, answered_by: &str, usage: Usage) -> Option<pricing::Cost> {
        match self {
            Either::Left(m) => m.cost(answered_by, usage),
            Either::Right(m) => m.cost(answered_by, usage),
        }
    }

    async fn chat(
        &self,
        messages: &[Message],
        tools: &[ToolSpec],
        observer: &mut dyn CallObserver,
    ) -> Result<ChatResponse, ModelError> {
        match self {
            Either::Left(m) => m.chat(messages, tools, observer).await,
            Either::Right(m) => m.chat(messages, tools, observer).await,
        }
    }
}

impl<L: Embedder, R: Embedder> Embedder for Either<L, R> {
    fn model_name(&self) -> &str {
        match self {
            Either::Left(m) => m.model_name(),
            Either::Right(m) => m.model_name(),
        }
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, ModelError> {
        match self {
            Either::Left(m) => m.embed(texts).await,
            Either::Right(m) => m.embed(texts).await,
        }
    }

    fn unrelated_below(&self) -> f32 {
        match self {
            Either::Left(m) => m.unrelated_below(),
            Either::Right(m) => m.unrelated_below(),
        }
    }

    fn runs_in_page(&self) -> bool {
        match self {
            Either::Left(m) => m.runs_in_page(),
            Either::Right(m) => m.runs_in_page(),
        }
    }
}

impl<M: ChatModel> ChatModel for std::rc::Rc<M> {
    fn model_name(&self) -> &str {
        (**self).model_name()
    }

    fn provider(&self) -> &str {
        (**self).provider()
    }

    fn invocation_parameters(&self) -> String {
        (**self).invocation_parameters()
    }

    fn calls_tools(&self) -> bool {
        (**self).calls_tools()
    }

    fn cost(&self, answered_by: &str, usage: Usage) -> Option<pricing::Cost> {
        (**self).cost(answered_by, usage)
    }

    async fn chat(
        &self,
        messages: &[Message],
        tools: &[ToolSpec],
        observer: &mut dyn CallObserver,
    ) -> Result<ChatResponse, ModelError> {
        (**self).chat(messages, tools, observer).await
    }
}

impl<M: Embedder> Embedder for &M {
    fn model_name(&self) -> &str {
        (**self).model_name()
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, ModelError> {
        (**self).embed(texts).await
    }

    fn unrelated_below(&self) -> f32 {
        (**self).unrelated_below()
    }

    fn runs_in_page(&self) -> bool {
        (**self).runs_in_page()
    }
}

impl<M: Embedder> Embedder for std::rc::Rc<M> {
    fn model_name(&self) -> &str {
        (**self).model_name()
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, ModelError> {
        (**self).embed(texts).await
    }

    fn unrelated_below(&self) -> f32 {
        (**self).unrelated_below()
    }

    fn runs_in_page(&self) -> bool {
        (**self).runs_in_page()
    }
}
