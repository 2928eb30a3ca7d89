//! [`Redaction`]: OpenInference's trace configuration (`OPENINFERENCE_HIDE_*`) applied to
//! finished spans before the page stores them, and again as they leave (export and
//! download), so traces recorded or imported before a switch was ticked obey it too.
//! Hidden values are replaced by `__REDACTED__`, so Phoenix still shows that a value
//! was there.

use std::borrow::Cow;

use opentelemetry::trace::Status;
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::trace::SpanData;
use serde::{Deserialize, Serialize};

use super::semconv;
use crate::secret::{scrub, ApiKey};

/// OpenInference's placeholder for a hidden value.
pub const REDACTED: &str = "__REDACTED__";

/// What to hide. The default hides nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Redaction {
    /// `input.value`, all input messages and embedding texts (and the copies of
    /// the question: `retrieval.query`, `reranker.query`, `generation.question`).
    pub hide_inputs: bool,
    /// `output.value`, all output messages and what the agent's model wrote
    /// (`agent.thought`, `agent.action_input`).
    pub hide_outputs: bool,
    /// All input messages and embedding texts.
    pub hide_input_messages: bool,
    /// All output messages.
    pub hide_output_messages: bool,
    /// Embedding vectors.
    pub hide_embedding_vectors: bool,
}

impl Redaction {
    pub fn is_active(&self) -> bool {
        *self != Redaction::default()
    }

    /// Whether the attribute `key` is hidden.
    pub fn hides(&self, key: &str) -> bool {
        let input_messages = key.starts_with("llm.input_messages.")
            || (key.starts_with("embedding.embeddings.") && key.ends_with(".embedding.text"));
        let output_messages = key.starts_with("llm.output_messages.");
        let outputs = matches!(
            key,
            semconv::OUTPUT_VALUE | semconv::AGENT_THOUGHT | semconv::AGENT_ACTION_INPUT
        );
        let inputs = matches!(
            key,
            semconv::INPUT_VALUE
                | semconv::RETRIEVAL_QUERY
                | semconv::RERANKER_QUERY
                | semconv::GENERATION_QUESTION
        );
        let vectors =
            key.starts_with("embedding.embeddings.") && key.ends_with(".embedding.vector");
        (self.hide_inputs && (inputs || input_messages))
            || (self.hide_outputs && (outputs || output_messages))
            || (self.hide_input_messages && input_messages)
            || (self.hide_output_messages && output_messages)
            || (self.hide_embedding_vectors && vectors)
    }

    /// Replaces the hidden attribute values of `span` and of its events.
    pub fn apply(&self, span: &mut SpanData) {
        if !self.is_active() {
            return;
        }
        let events = span.events.events.iter_mut().map(|e| &mut e.attributes);
        for attributes in std::iter::once(&mut span.attributes).chain(events) {
            for kv in attributes.iter_mut() {
                if self.hides(kv.key.as_str()) {
                    *kv = KeyValue::new(kv.key.clone(), Value::from(REDACTED));
                }
            }
        }
    }
}

/// Takes `key`, and anything shaped like a key, out of `span`'s status message and the
/// text attributes of its events (where server answers end up).
pub fn scrub_secrets(span: &mut SpanData, key: Option<&ApiKey>) {
    if let Status::Error { description } = &mut span.status {
        let clean = scrub(description, key);
        if clean != *description {
            *description = Cow::Owned(clean);
        }
    }
    for event in span.events.events.iter_mut() {
        for kv in event.attributes.iter_mut() {
            if let Value::String(text) = &kv.value {
                let clean = scrub(text.as_str(), key);
                if clean != text.as_str() {
                    *kv = KeyValue::new(kv.key.clone(), Value::from(clean));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_setting_hides_its_keys_only() {
        let all = [
            "input.value",
            "output.value",
            "llm.input_messages.0.message.content",
            "llm.output_messages.0.message.content",
            "embedding.embeddings.0.embedding.text",
            "embedding.embeddings.0.embedding.vector",
            "llm.model_name",
            "retrieval.query",
            "reranker.query",
            "agent.thought",
        ];
        let hidden = |r: Redaction| {
            all.iter()
                .filter(|k| r.hides(k))
                .copied()
                .collect::<Vec<_>>()
        };
        assert!(hidden(Redaction::default()).is_empty());
        assert_eq!(
            hidden(Redaction {
                hide_inputs: true,
                ..Default::default()
            }),
            [
                "input.value",
                "llm.input_messages.0.message.content",
                "embedding.embeddings.0.embedding.text",
                "retrieval.query",
                "reranker.query"
            ]
        );
        assert_eq!(
            hidden(Redaction {
                hide_outputs: true,
                ..Default::default()
            }),
            [
                "output.value",
                "llm.output_messages.0.message.content",
                "agent.thought"
            ]
        );
        assert_eq!(
            hidden(Redaction {
                hide_input_messages: true,
                ..Default::default()
            }),
            [
                "llm.input_messages.0.message.content",
                "embedding.embeddings.0.embedding.text"
            ]
        );
        assert_eq!(
            hidden(Redaction {
                hide_output_messages: true,
                ..Default::default()
            }),
            ["llm.output_messages.0.message.content"]
        );
        assert_eq!(
            hidden(Redaction {
                hide_embedding_vectors: true,
                ..Default::default()
            }),
            ["embedding.embeddings.0.embedding.vector"]
        );
    }
}
