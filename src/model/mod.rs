//! The model traits the pipelines are written against, and their messages.
//!
//! - [`ChatModel`]: chat completion over [`Message`]s, answering a [`ChatResponse`].
//! - [`Embedder`]: texts to vectors.
//! - [`offline`]: the models that run in the page with no key and no network.
//!
//! The traits are `async` because remote models answer over fetch; the offline models
//! answer at once.

pub mod offline;

use thiserror::Error;

/// Who says a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    System,
    User,
    Assistant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One chat message.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

impl Message {
    pub fn system(content: impl Into<String>) -> Self {
        Message {
            role: Role::System,
            content: content.into(),
        }
    }
    pub fn user(content: impl Into<String>) -> Self {
        Message {
            role: Role::User,
            content: content.into(),
        }
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        Message {
            role: Role::Assistant,
            content: content.into(),
        }
    }
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
}

/// Why a model call failed.
#[derive(Debug, Error, PartialEq)]
pub enum ModelError {
    /// The prompt is not one this model can work with.
    #[error("the model cannot handle this prompt: {0}")]
    UnsupportedPrompt(String),
}

/// A chat-completion model.
#[allow(async_fn_in_trait)] // the page is single-threaded: no `Send` bound wanted
pub trait ChatModel {
    /// Reported as `llm.model_name`.
    fn model_name(&self) -> &str;
    /// Reported as `llm.provider`.
    fn provider(&self) -> &str;
    /// Reported as `llm.invocation_parameters` (a JSON object).
    fn invocation_parameters(&self) -> String;
    async fn chat(&self, messages: &[Message]) -> Result<ChatResponse, ModelError>;
}

/// An embedding model.
#[allow(async_fn_in_trait)]
pub trait Embedder {
    /// Reported as `embedding.model_name`.
    fn model_name(&self) -> &str;
    /// One unit vector per text, in order.
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, ModelError>;
}
