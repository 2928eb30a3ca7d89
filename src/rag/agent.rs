//! The traced agent: its model calls the tools natively (OpenAI tool calling) when it
//! can, else in the text ReAct format.
//!
//! ```text
//! agent_run (AGENT)
//! ├─ agent_step (CHAIN)  agent.step_number, agent.thought, agent.action, …
//! │  ├─ generation (LLM)          the model's Thought / Action / Action Input
//! │  └─ retrieve (TOOL)
//! │     └─ retrieval (RETRIEVER) └─ CreateEmbeddings (EMBEDDING)
//! └─ agent_step … └─ finish (TOOL)
//! ```
//! A native tool call's result goes back as a `tool` message by the call's id, which
//! its TOOL span carries as `tool.id`; a reply that calls no tool is the answer. A
//! reply that is not a ReAct step gets one repair request; a second bad reply fails
//! the step (its raw text kept as the step's `output.value`); running out of steps
//! fails the run.

use super::engine::Engine;
use super::pipeline::{fail, generate, retrieve, Answer, AskError, AskOptions, Models};
use super::prompt::{self, ReactAction};
use crate::model::{ChatModel, Embedder, Message, ModelError};
use crate::telemetry::names::{SpanName, Tool};
use crate::telemetry::semconv as sc;
use crate::telemetry::span::Traced;
use opentelemetry::KeyValue;

/// How a step ended.
enum StepEnd {
    /// A tool's result, for the model to read next (answering `call` when the model
    /// called the tool natively).
    Observed {
        text: String,
        call: Option<String>,
    },
    Finished(String),
}

/// Runs the agent loop under `root` until `finish` or `opts.max_steps`: with native
/// tool calls when the model makes them, else in the text ReAct format.
pub(crate) async fn run<C: ChatModel, E: Embedder>(
    root: &Traced,
    engine: &Engine,
    models: &Models<'_, C, E>,
    question: &str,
    opts: AskOptions<'_>,
) -> Result<Answer, AskError> {
    let mut native = models.chat.calls_tools();
    let mut messages = if native {
        prompt::tool_messages(question)
    } else {
        prompt::react_messages(question)
    };
    for step in 1..=opts.max_steps {
        let span = root.child(SpanName::AgentStep);
        span.set(sc::AGENT_STEP_NUMBER, step as i64);
        let mut outcome =
            run_step(&span, engine, models, question, opts, native, &mut messages).await;
        if native && outcome.as_ref().is_err_and(refuses_tools) {
            // A server without tool calling: the run goes on in the ReAct format.
            span.event("tools_refused", Vec::new());
            native = false;
            messages = prompt::react_messages(question);
            outcome = run_step(&span, engine, models, question, opts, native, &mut messages).await;
        }
        match outcome {
            Ok(StepEnd::Finished(answer)) => {
                return Ok(Answer {
                    cited: engine.cited(&answer),
                    text: answer,
                });
            }
            Ok(StepEnd::Observed { text, call: None }) => messages.push(prompt::observation(&text)),
            Ok(StepEnd::Observed {
                text,
                call: Some(id),
            }) => messages.push(Message::tool(id, text)),
            Err(e) => return Err(fail(&span, e)),
        }
    }
    Err(AskError::OutOfSteps(opts.max_steps))
}

/// Whether a failed call is a server refusing tools (a 400 that names them, as
/// Ollama's "… does not support tools" and vLLM's tool-choice errors do).
fn refuses_tools(e: &AskError) -> bool {
    matches!(e, AskError::Model(ModelError::Rejected { status: 400, message, .. })
        if message.to_lowercase().contains("tool"))
}

/// The model's next step and, for a native tool call, the call's id: a tool call, or
/// a ReAct turn (with one repair of a reply out of format). A native reply that calls
/// no tool is the model finishing with it.
async fn next_action<C: ChatModel, E>(
    span: &Traced,
    models: &Models<'_, C, E>,
    question: &str,
    native: bool,
    messages: &mut Vec<Message>,
) -> Result<(ReactAction, Option<String>), AskError> {
    if native {
        let reply = generate(span, models, messages, &prompt::agent_tools(), question).await?;
        let Some(call) = reply.tool_calls.first().cloned() else {
            messages.push(Message::assistant(reply.content.clone()));
            return Ok((finish_with(&reply.content), None));
        };
        // One call a step: the others would need answers the run does not give.
        messages.push(Message::calling(reply.content.clone(), vec![call.clone()]));
        return Ok((prompt::action_of(&reply.content, &call), Some(call.id)));
    }
    let reply = generate(span, models, messages, &[], question).await?;
    let action = match prompt::parse_react(&reply.content) {
        Ok(action) => {
            messages.push(Message::assistant(reply.content));
            action
        }
        Err(first) => {
            // One repair: show the model its reply and the format it must follow.
            span.event(
                "react_repair",
                vec![KeyValue::new("react.parse_error", first.to_string())],
            );
            messages.push(Message::assistant(reply.content));
            messages.push(prompt::repair_request(&first));
            let retry = generate(span, models, messages, &[], question).await?;
            let action = prompt::parse_react(&retry.content).inspect_err(|_| {
                span.set(sc::OUTPUT_VALUE, retry.content.clone());
            })?;
            messages.push(Message::assistant(retry.content));
            action
        }
    };
    Ok((action, None))
}

/// A reply with no tool call, taken as the model finishing with it.
fn finish_with(answer: &str) -> ReactAction {
    ReactAction {
        thought: String::new(),
        action: Tool::Finish.as_str().into(),
        input: answer.to_string(),
    }
}

async fn run_step<C: ChatModel, E: Embedder>(
    span: &Traced,
    engine: &Engine,
    models: &Models<'_, C, E>,
    question: &str,
    opts: AskOptions<'_>,
    native: bool,
    messages: &mut Vec<Message>,
) -> Result<StepEnd, AskError> {
    span.set(
        sc::INPUT_VALUE,
        messages
            .last()
            .map(|m| m.content.clone())
            .unwrap_or_default(),
    );
    let (action, call) = next_action(span, models, question, native, messages).await?;
    span.set(sc::AGENT_THOUGHT, action.thought.clone());
    span.set(sc::AGENT_ACTION, action.action.clone());
    span.set(sc::AGENT_ACTION_INPUT, action.input.clone());
    let Some(name) = Tool::parse(&action.action) else {
        // No such tool: no tool span; the model is told, and the run goes on.
        let observation = format!(
            "There is no tool \"{}\". Use {} or {}.",
            action.action,
            Tool::Retrieve.as_str(),
            Tool::Finish.as_str()
        );
        span.set(sc::OUTPUT_VALUE, observation.clone());
        span.set(
            sc::AGENT_OBSERVATION_LENGTH,
            observation.chars().count() as i64,
        );
        return Ok(StepEnd::Observed {
            text: observation,
            call,
        });
    };
    let tool = span.child(SpanName::Tool(name));
    tool.set(sc::TOOL_NAME, name.as_str());
    tool.set(sc::INPUT_VALUE, action.input.clone());
    if let Some(id) = &call {
        tool.set(sc::TOOL_ID, id.clone());
    }
    let end = match name {
        Tool::Retrieve => {
            tool.set(
                sc::TOOL_DESCRIPTION,
                "Searches the handbook and returns passages with ids and similarity.",
            );
            let passages = retrieve(&tool, engine, models.embedder, &action.input, opts)
                .await
                .map_err(|e| fail(&tool, e))?;
            StepEnd::Observed {
                text: if passages.is_empty() {
                    "No passage matched the query.".to_string()
                } else {
                    prompt::format_passages(&passages)
                },
                call,
            }
        }
        Tool::Finish => {
            tool.set(sc::TOOL_DESCRIPTION, "Ends the run with the final answer.");
            StepEnd::Finished(action.input.clone())
        }
    };
    let output = match &end {
        StepEnd::Observed { text, .. } | StepEnd::Finished(text) => text.clone(),
    };
    tool.set(sc::OUTPUT_VALUE, output.clone());
    span.set(sc::OUTPUT_VALUE, output.clone());
    let observation_length = if matches!(end, StepEnd::Observed { .. }) {
        output.chars().count()
    } else {
        0
    };
    span.set(sc::AGENT_OBSERVATION_LENGTH, observation_length as i64);
    Ok(end)
}
