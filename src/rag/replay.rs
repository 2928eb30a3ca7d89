//! Replaying a model call: an LLM span's messages, as the person edited them, sent
//! again to the configured model and filed as a trace of its own, whose `replay` root
//! links to the original span (so the two can be told apart and compared).
//!
//! ```text
//! replay (CHAIN, linked to the original LLM span)
//! └─ generation (LLM)
//! ```

use opentelemetry::trace::{SpanContext, TraceId};
use opentelemetry_sdk::trace::SdkTracer;

use super::pipeline::{fail, generate, AskError, Models};
use super::prompt;
use crate::model::{ChatModel, Message, Role};
use crate::telemetry::names::SpanName;
use crate::telemetry::semconv as sc;
use crate::telemetry::span::Traced;

/// A recorded model call, ready to edit and send again.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmCall {
    pub messages: Vec<Message>,
    /// The model that answered (`llm.model_name`).
    pub model: String,
    /// From `llm.invocation_parameters`; 0 when it names none.
    pub temperature: f64,
}

impl LlmCall {
    /// The call an LLM span recorded, from its attributes; `None` when it recorded no
    /// input messages.
    pub fn from_attributes(attributes: &[(String, String)]) -> Option<LlmCall> {
        let get = |key: &str| {
            attributes
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let messages: Vec<Message> = (0..)
            .map_while(|i| {
                let role = Role::parse(get(&sc::llm_input_message(i, "role"))?)?;
                let content = get(&sc::llm_input_message(i, "content")).unwrap_or_default();
                Some(Message {
                    role,
                    content: content.to_string(),
                    tool_calls: Vec::new(),
                    tool_call_id: get(&sc::llm_input_message(i, "tool_call_id"))
                        .map(str::to_string),
                })
            })
            .collect();
        if messages.is_empty() {
            return None;
        }
        let temperature = get(sc::LLM_INVOCATION_PARAMETERS)
            .and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok())
            .and_then(|p| p["temperature"].as_f64())
            .unwrap_or(0.0);
        Some(LlmCall {
            messages,
            model: get(sc::LLM_MODEL_NAME).unwrap_or_default().to_string(),
            temperature,
        })
    }
}

/// A replay's trace and the model's reply (or why there is none).
pub struct Replayed {
    pub trace_id: TraceId,
    pub result: Result<String, AskError>,
}

/// Sends `messages` to `chat` under a `replay` root linked to `original`.
pub async fn replay<C: ChatModel>(
    tracer: &SdkTracer,
    chat: &C,
    messages: &[Message],
    original: SpanContext,
    session_id: Option<&str>,
) -> Replayed {
    let root = Traced::root_linked(tracer, SpanName::Replay, original.clone());
    let trace_id = root.trace_id();
    let question = prompt::question_of(messages).unwrap_or_default();
    root.set(
        sc::INPUT_VALUE,
        messages
            .iter()
            .rev()
            .find(|m| m.role == Role::User)
            .map(|m| m.content.clone())
            .unwrap_or_default(),
    );
    root.set(
        sc::METADATA,
        serde_json::json!({
            "replays": { "trace_id": original.trace_id().to_string(), "span_id": original.span_id().to_string() }
        })
        .to_string(),
    );
    if let Some(id) = session_id {
        root.set(sc::SESSION_ID, id.to_string());
    }
    let models = Models {
        chat,
        embedder: &(),
        live: None,
    };
    let result = match generate(&root, &models, messages, &[], question).await {
        Ok(reply) => {
            root.set(sc::OUTPUT_VALUE, reply.content.clone());
            Ok(reply.content)
        }
        Err(e) => Err(fail(&root, e)),
    };
    Replayed { trace_id, result }
}
