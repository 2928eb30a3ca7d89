//! The offline models, running in the page with no key and no server of their own:
//! - [`HashEmbedder`] as an [`Embedder`];
//! - [`OfflineChat`], a deterministic stand-in for a chat model. Given a RAG prompt it
//!   answers extractively from the context passages; given a ReAct conversation it
//!   follows a fixed policy: retrieve with the question, retrieve again with the
//!   question's keywords when the best passage is weak, then finish with the
//!   extractive answer over everything it has seen.

use std::collections::HashMap;

use super::answer;
use super::embed::{self, HashEmbedder};
use super::prompt::{self, Passage, ReactAction};
use super::text;
use crate::model::{
    CallObserver, ChatModel, ChatResponse, Embedder, Message, ModelError, ToolSpec, Usage,
};
use crate::telemetry::names::Tool;

/// Name reported as `llm.model_name`.
pub const CHAT_MODEL_NAME: &str = "extractive-answerer (local)";
/// Best-passage similarity under which the agent searches again with keywords.
const WEAK_SIMILARITY: f32 = 0.3;

impl Embedder for HashEmbedder {
    fn model_name(&self) -> &str {
        embed::MODEL_NAME
    }

    fn runs_in_page(&self) -> bool {
        true
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, ModelError> {
        Ok(texts.iter().map(|t| HashEmbedder::embed(self, t)).collect())
    }
}

/// `llm.provider` of the offline models: they run in the page, so their calls cost
/// nothing and are left out of costs.
pub const PROVIDER: &str = "ragtrace";

/// The offline chat model. It answers from the passages it is given with the sentences
/// closest to the question; `sentences` judges "closest" by meaning: the hashed
/// embedder by default, MiniLM (behind a `vectors::Cached`, so the handbook's sentence
/// vectors come shipped and the question's from retrieval) when the user picks it.
#[derive(Debug, Clone, Copy, Default)]
pub struct OfflineChat<E = HashEmbedder> {
    pub sentences: E,
}

/// The offline chat model with hashed sentence similarity.
pub const HASHED_CHAT: OfflineChat = OfflineChat {
    sentences: HashEmbedder,
};

impl<E: Embedder> ChatModel for OfflineChat<E> {
    fn model_name(&self) -> &str {
        CHAT_MODEL_NAME
    }

    fn provider(&self) -> &str {
        PROVIDER
    }

    fn invocation_parameters(&self) -> String {
        serde_json::json!({
            "min_score": answer::MIN_SCORE,
            "weak_similarity": WEAK_SIMILARITY,
            "sentence_embedder": self.sentences.model_name(),
        })
        .to_string()
    }

    async fn chat(
        &self,
        messages: &[Message],
        _tools: &[ToolSpec],
        observer: &mut dyn CallObserver,
    ) -> Result<ChatResponse, ModelError> {
        let question = prompt::question_of(messages).ok_or_else(|| {
            ModelError::UnsupportedPrompt("no \"Question:\" in any user message".into())
        })?;
        let react = prompt::is_react(messages);
        let passages = if react {
            seen_passages(messages)
        } else {
            messages
                .iter()
                .flat_map(|m| prompt::parse_passages(&m.content))
                .collect()
        };
        let similarity = self.similarities(question, &passages).await?;
        let similarity = |s: &str| similarity.get(s).copied().unwrap_or(0.0);
        let content = if react {
            react_turn(
                question,
                messages,
                &passages,
                &similarity,
                self.sentences.unrelated_below(),
            )
            .to_text()
        } else {
            answer::extract(
                question,
                &passages,
                &similarity,
                self.sentences.unrelated_below(),
            )
            .text
        };
        observer.on_delta(&content);
        let prompt_tokens = messages.iter().map(|m| count_tokens(&m.content)).sum();
        let usage = Usage {
            prompt_tokens,
            completion_tokens: count_tokens(&content),
        };
        Ok(ChatResponse {
            content,
            usage,
            model: None,
            finish_reason: Some("stop".into()),
            tool_calls: Vec::new(),
        })
    }
}

impl<E: Embedder> OfflineChat<E> {
    /// The cosine of each sentence of `passages` to `question`, by sentence, from the
    /// sentence embedder (the page's MiniLM knows the question's vector from retrieval).
    async fn similarities(
        &self,
        question: &str,
        passages: &[Passage],
    ) -> Result<HashMap<String, f32>, ModelError> {
        let mut texts: Vec<String> = Vec::new();
        for p in passages {
            for s in text::sentences(&p.text) {
                if !texts.iter().any(|t| t == s) {
                    texts.push(s.to_string());
                }
            }
        }
        let question = self.sentences.embed(&[question.to_string()]).await?;
        let question = question
            .first()
            .ok_or_else(|| ModelError::Malformed("the embedder returned no vector".into()))?;
        let cosines = embed::cosines_to(&self.sentences, question, &texts).await?;
        Ok(texts.into_iter().zip(cosines).collect())
    }
}

/// Every passage the agent's observations returned, each once, in order of arrival.
fn seen_passages(messages: &[Message]) -> Vec<Passage> {
    let mut seen: Vec<Passage> = Vec::new();
    for p in messages
        .iter()
        .filter_map(prompt::observation_text)
        .flat_map(prompt::parse_passages)
    {
        if !seen.iter().any(|s| s.id == p.id) {
            seen.push(p);
        }
    }
    seen
}

/// The policy's next ReAct turn, given the passages seen so far.
fn react_turn(
    question: &str,
    messages: &[Message],
    seen: &[Passage],
    similarity: &dyn Fn(&str) -> f32,
    unrelated_below: f32,
) -> ReactAction {
    let observations: Vec<Vec<Passage>> = messages
        .iter()
        .filter_map(prompt::observation_text)
        .map(prompt::parse_passages)
        .collect();
    let keywords = keywords(question);
    let Some(last) = observations.last() else {
        return ReactAction {
            thought: "I need to find the part of the handbook that covers this question.".into(),
            action: Tool::Retrieve.as_str().into(),
            input: question.into(),
        };
    };
    let best = last.iter().map(|p| p.similarity).fold(0.0, f32::max);
    if best < WEAK_SIMILARITY
        && observations.len() < 2
        && !keywords.is_empty()
        && keywords != question
    {
        return ReactAction {
            thought: format!("The best passage is only {best:.2} similar to the question; I will search again with its keywords."),
            action: Tool::Retrieve.as_str().into(),
            input: keywords,
        };
    }
    let extract = answer::extract(question, seen, similarity, unrelated_below);
    let thought = if extract.found {
        "The passages answer the question; I can finish with the sentences that state it."
    } else {
        "None of the passages answers the question; the handbook does not seem to cover it."
    };
    ReactAction {
        thought: thought.into(),
        action: Tool::Finish.as_str().into(),
        input: extract.text,
    }
}

/// The question's content words, in order, without repeats.
fn keywords(question: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    for w in text::words(question) {
        if !text::is_stopword(&w) && !out.contains(&w) {
            out.push(w);
        }
    }
    out.join(" ")
}

/// Word and punctuation tokens: the offline model's own token count.
pub fn count_tokens(s: &str) -> u64 {
    let words = text::words(s).len();
    let punct = s.chars().filter(|c| c.is_ascii_punctuation()).count();
    (words + punct) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use pollster::block_on;

    #[test]
    fn first_react_turn_retrieves_the_question() {
        let turn = block_on(HASHED_CHAT.chat(
            &prompt::react_messages("What is the leave policy?"),
            &[],
            &mut (),
        ))
        .unwrap();
        let a = prompt::parse_react(&turn.content).unwrap();
        assert_eq!(
            (a.action.as_str(), a.input.as_str()),
            ("retrieve", "What is the leave policy?")
        );
        assert!(turn.usage.prompt_tokens > 0 && turn.usage.completion_tokens > 0);
    }

    #[test]
    fn weak_observation_reformulates_then_finishes() {
        let mut msgs = prompt::react_messages("What is the leave policy?");
        msgs.push(Message::assistant(
            "Thought: x\nAction: retrieve\nAction Input: What is the leave policy?",
        ));
        msgs.push(prompt::observation(
            "[a:1] (similarity 0.100) Unrelated words about parking spaces.",
        ));
        let a = prompt::parse_react(
            &block_on(HASHED_CHAT.chat(&msgs, &[], &mut ()))
                .unwrap()
                .content,
        )
        .unwrap();
        assert_eq!(
            (a.action.as_str(), a.input.as_str()),
            ("retrieve", "leave policy")
        );
        msgs.push(Message::assistant(a.to_text()));
        msgs.push(prompt::observation(
            "[b:1] (similarity 0.600) The leave policy gives every employee 28 days of paid leave.",
        ));
        let done = prompt::parse_react(
            &block_on(HASHED_CHAT.chat(&msgs, &[], &mut ()))
                .unwrap()
                .content,
        )
        .unwrap();
        assert_eq!(done.action, "finish");
        assert!(
            done.input.contains("28 days") && done.input.contains("[b:1]"),
            "{}",
            done.input
        );
    }

    #[test]
    fn a_prompt_without_question_is_an_error() {
        let err = block_on(HASHED_CHAT.chat(&[Message::user("hello")], &[], &mut ())).unwrap_err();
        assert!(matches!(err, ModelError::UnsupportedPrompt(_)));
    }
}
