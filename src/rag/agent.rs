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
    /// The tools' results, for the model to read next, each answering its call when
    /// the model called the tool natively.
    Observed(Vec<Observation>),
    Finished(String),
}

/// One tool's result.
struct Observation {
    text: String,
    call: Option<String>,
}

/// One action of a step: a ReAct turn, or one of the tool calls of a native reply.
struct Action {
    react: ReactAction,
    call: Option<String>,
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
            Ok(StepEnd::Observed(observations)) => {
                messages.extend(observations.into_iter().map(|o| match o.call {
                    Some(id) => Message::tool(id, o.text),
                    None => prompt::observation(&o.text),
                }));
            }
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

/// The model's next actions: every tool call of a native reply (models call several
/// tools at once), or a ReAct turn (with one repair of a reply out of format). A
/// native reply that calls no tool is the model finishing with it.
async fn next_actions<C: ChatModel, E>(
    span: &Traced,
    models: &Models<'_, C, E>,
    question: &str,
    native: bool,
    messages: &mut Vec<Message>,
) -> Result<Vec<Action>, AskError> {
    if native {
        let reply = generate(span, models, messages, &prompt::agent_tools(), question).await?;
        if reply.tool_calls.is_empty() {
            messages.push(Message::assistant(reply.content.clone()));
            return Ok(vec![Action {
                react: finish_with(&reply.content),
                call: None,
            }]);
        }
        let actions = reply
            .tool_calls
            .iter()
            .map(|call| Action {
                react: prompt::action_of(&reply.content, call),
                call: Some(call.id.clone()),
            })
            .collect();
        messages.push(Message::calling(reply.content, reply.tool_calls));
        return Ok(actions);
    }
    let reply = generate(span, models, messages, &[], question).await?;
    let react = match prompt::parse_react(&reply.content) {
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
    Ok(vec![Action { react, call: None }])
}

/// A reply with no tool call, taken as the model finishing with it.
fn finish_with(answer: &str) -> ReactAction {
    ReactAction {
        thought: String::new(),
        action: Tool::Finish.as_str().into(),
        input: answer.to_string(),
    }
}

/// One step: the model's reply and a TOOL span per action, in the order the model
/// gave them. A `finish` among them ends the run with its answer.
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
    let actions = next_actions(span, models, question, native, messages).await?;
    // The step's attributes list every action, one per line when the model made several.
    let joined = |f: fn(&ReactAction) -> &str| {
        actions
            .iter()
            .map(|a| f(&a.react))
            .collect::<Vec<_>>()
            .join("\n")
    };
    span.set(sc::AGENT_THOUGHT, actions[0].react.thought.clone());
    span.set(sc::AGENT_ACTION, joined(|a| &a.action));
    span.set(sc::AGENT_ACTION_INPUT, joined(|a| &a.input));
    let mut observations = Vec::with_capacity(actions.len());
    for action in actions {
        match run_action(span, engine, models, opts, &action).await? {
            ActionEnd::Observed(text) => observations.push(Observation {
                text,
                call: action.call,
            }),
            ActionEnd::Finished(answer) => {
                span.set(sc::OUTPUT_VALUE, answer.clone());
                span.set(sc::AGENT_OBSERVATION_LENGTH, 0);
                return Ok(StepEnd::Finished(answer));
            }
        }
    }
    let output = observations
        .iter()
        .map(|o| o.text.as_str())
        .collect::<Vec<_>>()
        .join("\n\n");
    span.set(sc::AGENT_OBSERVATION_LENGTH, output.chars().count() as i64);
    span.set(sc::OUTPUT_VALUE, output);
    Ok(StepEnd::Observed(observations))
}

/// How one action ended.
enum ActionEnd {
    Observed(String),
    Finished(String),
}

/// Runs one action as a TOOL span (whose `tool.id` is the call it answers). An unknown
/// tool gets no span: the model is told, and the run goes on.
async fn run_action<C: ChatModel, E: Embedder>(
    span: &Traced,
    engine: &Engine,
    models: &Models<'_, C, E>,
    opts: AskOptions<'_>,
    action: &Action,
) -> Result<ActionEnd, AskError> {
    let react = &action.react;
    let Some(name) = Tool::parse(&react.action) else {
        return Ok(ActionEnd::Observed(format!(
            "There is no tool \"{}\". Use {} or {}.",
            react.action,
            Tool::Retrieve.as_str(),
            Tool::Finish.as_str()
        )));
    };
    let tool = span.child(SpanName::Tool(name));
    tool.set(sc::TOOL_NAME, name.as_str());
    tool.set(sc::INPUT_VALUE, react.input.clone());
    if let Some(id) = &action.call {
        tool.set(sc::TOOL_ID, id.clone());
    }
    let end = match name {
        Tool::Retrieve => {
            tool.set(
                sc::TOOL_DESCRIPTION,
                "Searches the handbook and returns passages with ids and similarity.",
            );
            let passages = retrieve(&tool, engine, models.embedder, &react.input, opts)
                .await
                .map_err(|e| fail(&tool, e))?;
            ActionEnd::Observed(if passages.is_empty() {
                "No passage matched the query.".to_string()
            } else {
                prompt::format_passages(&passages)
            })
        }
        Tool::Finish => {
            tool.set(sc::TOOL_DESCRIPTION, "Ends the run with the final answer.");
            ActionEnd::Finished(react.input.clone())
        }
    };
    let (ActionEnd::Observed(output) | ActionEnd::Finished(output)) = &end;
    tool.set(sc::OUTPUT_VALUE, output.clone());
    Ok(end)
}
