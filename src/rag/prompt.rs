//! The prompt formats: the contract between the pipelines and any chat model.
//!
//! - RAG: a system prompt, then one user message with the context [`Passage`]s (one
//!   per line, `[id] (similarity 0.431) text`) and the question.
//! - ReAct: a system prompt listing the tools and the Thought / Action / Action Input
//!   format; the model's turns are parsed by [`parse_react`] into a [`ReactAction`];
//!   tool results come back as `Observation:` user messages.
//!
//! Answers cite passages as `[id]`; [`citations`] reads them back.

use thiserror::Error;

use crate::model::{Message, Role, ToolCall, ToolSpec};
use crate::telemetry::names::Tool;

/// A retrieved passage as a model sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Passage {
    pub id: String,
    pub similarity: f32,
    pub text: String,
}

pub const RAG_SYSTEM: &str = "You answer questions about the employee handbook using only the context passages. \
Answer with the sentences that state the facts, and cite the passage ids in square brackets, like [travel:2]. \
If the passages do not answer the question, say that it is not found in the handbook.";

const QUESTION: &str = "Question: ";
const OBSERVATION: &str = "Observation: ";

/// The RAG user message, with `{context}` and `{question}` to fill in.
pub const RAG_TEMPLATE: &str = "Context:\n{context}\n\nQuestion: {question}";
/// Changes whenever [`RAG_TEMPLATE`] or [`RAG_SYSTEM`] does.
pub const RAG_TEMPLATE_VERSION: &str = "rag-1";

/// The variables of [`RAG_TEMPLATE`] for `question` over `passages`, as (name, value).
pub fn rag_variables(question: &str, passages: &[Passage]) -> [(&'static str, String); 2] {
    [
        ("context", format_passages(passages)),
        ("question", question.to_string()),
    ]
}

/// The messages of a RAG generation call: the system prompt and [`RAG_TEMPLATE`] filled.
pub fn rag_messages(question: &str, passages: &[Passage]) -> Vec<Message> {
    let user = render(RAG_TEMPLATE, &rag_variables(question, passages));
    vec![Message::system(RAG_SYSTEM), Message::user(user)]
}

/// `template` with each `{name}` replaced by its value, in one pass (a value that holds
/// `{…}` stays as it is).
pub fn render(template: &str, variables: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            variables
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (v, close))
        });
        match value {
            Some((v, close)) => {
                out.push_str(v);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Passages, one per line.
pub fn format_passages(passages: &[Passage]) -> String {
    passages
        .iter()
        .map(|p| format!("[{}] (similarity {:.3}) {}", p.id, p.similarity, p.text))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads back the passages written by [`format_passages`]; other lines are skipped.
pub fn parse_passages(text: &str) -> Vec<Passage> {
    text.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix('[')?;
            let (id, rest) = rest.split_once("] (similarity ")?;
            let (sim, text) = rest.split_once(") ")?;
            Some(Passage {
                id: id.to_string(),
                similarity: sim.parse().ok()?,
                text: text.to_string(),
            })
        })
        .collect()
}

/// The question of a RAG or ReAct conversation: the text after `Question: ` in the
/// first user message that has one.
pub fn question_of(messages: &[Message]) -> Option<&str> {
    messages
        .iter()
        .filter(|m| m.role == Role::User)
        .find_map(|m| m.content.rsplit_once(QUESTION).map(|(_, q)| q.trim()))
}

pub const REACT_SYSTEM: &str = "You are an agent that answers questions about the employee handbook. \
You can use these tools:\n\
- retrieve: searches the handbook; the input is a search query; returns passages with their ids and similarity.\n\
- finish: ends the run; the input is the final answer, citing passage ids in square brackets.\n\n\
Answer each turn in exactly this format:\n\
Thought: <your reasoning>\n\
Action: <retrieve or finish>\n\
Action Input: <the tool input>\n\n\
After a retrieve you will get an Observation with the passages. Finish as soon as they answer the question; \
if the handbook does not cover it, finish saying it is not found in the handbook.";

/// The system prompt of an agent run with a model that calls tools natively.
pub const TOOLS_SYSTEM: &str = "You are an agent that answers questions about the employee handbook. \
Call retrieve to search the handbook; it returns passages with their ids and similarity. \
Call finish with the final answer as soon as the passages answer the question, citing passage ids in \
square brackets; if the handbook does not cover it, finish saying it is not found in the handbook.";

/// The agent's tools as a model that calls tools sees them.
pub fn agent_tools() -> [ToolSpec; 2] {
    [
        ToolSpec {
            name: Tool::Retrieve.as_str(),
            description: "Searches the handbook; returns passages with their ids and similarity.",
            parameters: serde_json::json!({
                "type": "object",
                "properties": { "query": { "type": "string", "description": "What to search for" } },
                "required": ["query"],
            }),
        },
        ToolSpec {
            name: Tool::Finish.as_str(),
            description:
                "Ends the run with the final answer, citing passage ids in square brackets.",
            parameters: serde_json::json!({
                "type": "object",
                "properties": { "answer": { "type": "string", "description": "The final answer" } },
                "required": ["answer"],
            }),
        },
    ]
}

/// A tool call as the step it stands for: the tool's input is its one argument
/// (`query` or `answer`), or the raw arguments when they are not that.
pub fn action_of(thought: &str, call: &ToolCall) -> ReactAction {
    let input = serde_json::from_str::<serde_json::Value>(&call.arguments)
        .ok()
        .and_then(|args| {
            ["query", "answer"]
                .iter()
                .find_map(|k| args[k].as_str().map(str::to_string))
        })
        .unwrap_or_else(|| call.arguments.clone());
    ReactAction {
        thought: thought.to_string(),
        action: call.name.clone(),
        input,
    }
}

/// The opening messages of an agent run with a model that calls tools natively.
pub fn tool_messages(question: &str) -> Vec<Message> {
    vec![
        Message::system(TOOLS_SYSTEM),
        Message::user(format!("{QUESTION}{question}")),
    ]
}

/// The opening messages of a ReAct run.
pub fn react_messages(question: &str) -> Vec<Message> {
    vec![
        Message::system(REACT_SYSTEM),
        Message::user(format!("{QUESTION}{question}")),
    ]
}

/// Whether a conversation is a ReAct one.
pub fn is_react(messages: &[Message]) -> bool {
    messages.first().is_some_and(|m| m.content == REACT_SYSTEM)
}

/// A tool's result, as the message the model reads next.
pub fn observation(text: &str) -> Message {
    Message::user(format!("{OBSERVATION}{text}"))
}

/// The text of an observation message, if it is one.
pub fn observation_text(message: &Message) -> Option<&str> {
    (message.role == Role::User)
        .then(|| message.content.strip_prefix(OBSERVATION))
        .flatten()
}

/// The message asking a model to redo a turn it did not format as a ReAct step.
pub fn repair_request(error: &ReactParseError) -> Message {
    Message::user(format!(
        "Your reply could not be used: {error}. Reply again in exactly this format:\nThought: <your reasoning>\nAction: <retrieve or finish>\nAction Input: <the tool input>"
    ))
}

/// One parsed ReAct turn.
#[derive(Debug, Clone, PartialEq)]
pub struct ReactAction {
    pub thought: String,
    pub action: String,
    pub input: String,
}

impl ReactAction {
    /// The turn as the model writes it.
    pub fn to_text(&self) -> String {
        format!(
            "Thought: {}\nAction: {}\nAction Input: {}",
            self.thought, self.action, self.input
        )
    }
}

/// Why a model's turn could not be read as a ReAct action.
#[derive(Debug, Error, PartialEq)]
pub enum ReactParseError {
    #[error("the model's reply has no \"Action:\" line")]
    MissingAction,
    #[error("the model's reply has no \"Action Input:\"")]
    MissingInput,
}

/// Parses `Thought: … Action: … Action Input: …`. Labels are matched case-insensitively
/// at line starts; the input runs to the end (or to a hallucinated `Observation:`).
pub fn parse_react(text: &str) -> Result<ReactAction, ReactParseError> {
    let mut thought = String::new();
    let mut action = None;
    let mut input: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        let lower = trimmed.to_lowercase();
        if let Some(buf) = input.as_mut() {
            if lower.starts_with("observation:") {
                break;
            }
            buf.push('\n');
            buf.push_str(line);
        } else if lower.starts_with("thought:") {
            thought = trimmed["thought:".len()..].trim().to_string();
        } else if lower.starts_with("action input:") {
            input = Some(trimmed["action input:".len()..].trim().to_string());
        } else if lower.starts_with("action:") {
            action = Some(trimmed["action:".len()..].trim().to_lowercase());
        }
    }
    let action = action
        .filter(|a| !a.is_empty())
        .ok_or(ReactParseError::MissingAction)?;
    let input = input
        .map(|i| i.trim().to_string())
        .ok_or(ReactParseError::MissingInput)?;
    Ok(ReactAction {
        thought,
        action,
        input,
    })
}

/// The `[id]` citations in an answer, in order, without repeats.
pub fn citations(answer: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = answer;
    while let Some(open) = rest.find('[') {
        rest = &rest[open + 1..];
        let Some(close) = rest.find(']') else { break };
        let id = rest[..close].trim();
        if !id.is_empty() && !id.contains(char::is_whitespace) && !out.iter().any(|o| o == id) {
            out.push(id.to_string());
        }
        rest = &rest[close + 1..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passages_round_trip() {
        let p = vec![Passage {
            id: "travel:2".into(),
            similarity: 0.5,
            text: "Fly economy. Or not.".into(),
        }];
        let msgs = rag_messages("How do I fly?", &p);
        assert_eq!(parse_passages(&msgs[1].content), p);
        assert_eq!(question_of(&msgs), Some("How do I fly?"));
    }

    #[test]
    fn templates_fill_in_one_pass() {
        let vars = [("a", "{b}".to_string()), ("b", "x".to_string())];
        assert_eq!(render("{a} and {b} {c}", &vars), "{b} and x {c}");
        let messages = rag_messages("Why?", &[]);
        assert_eq!(messages[1].content, "Context:\n\n\nQuestion: Why?");
    }

    #[test]
    fn parses_react_turns() {
        let a = parse_react(
            "Thought: look it up\nAction: Retrieve\nAction Input: day limit\nObservation: made up",
        )
        .unwrap();
        assert_eq!(
            a,
            ReactAction {
                thought: "look it up".into(),
                action: "retrieve".into(),
                input: "day limit".into()
            }
        );
        let multi =
            parse_react("thought: done\naction: finish\naction input: Line one.\nLine two. [a:1]")
                .unwrap();
        assert_eq!(multi.input, "Line one.\nLine two. [a:1]");
        assert_eq!(parse_react(&a.to_text()).unwrap(), a);
    }

    #[test]
    fn malformed_turns_are_errors() {
        assert_eq!(
            parse_react("I think the answer is 42."),
            Err(ReactParseError::MissingAction)
        );
        assert_eq!(
            parse_react("Action: retrieve"),
            Err(ReactParseError::MissingInput)
        );
        assert_eq!(parse_react(""), Err(ReactParseError::MissingAction));
    }

    #[test]
    fn reads_citations() {
        assert_eq!(
            citations("A [x:1] b [y:2][x:1] [not an id] [ ]"),
            vec!["x:1", "y:2"]
        );
    }
}
