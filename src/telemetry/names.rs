//! The span contract: every span the page makes, by name, with its OpenInference kind.
//! Code that makes spans names them with [`SpanName`]; code that reads traces compares
//! with it, so a name is written in one place.

use super::semconv::SpanKind;

/// The agent's tools (`TOOL` spans are named after them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// Searches the documents.
    Retrieve,
    /// Ends the run with the final answer.
    Finish,
}

impl Tool {
    pub const ALL: [Tool; 2] = [Tool::Retrieve, Tool::Finish];

    pub fn as_str(self) -> &'static str {
        match self {
            Tool::Retrieve => "retrieve",
            Tool::Finish => "finish",
        }
    }

    /// The tool a model named, if it is one.
    pub fn parse(name: &str) -> Option<Tool> {
        Tool::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// The spans the page makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanName {
    /// Root of a RAG question.
    RagPipeline,
    /// Root of an agent question.
    AgentRun,
    AgentStep,
    Retrieval,
    /// Retrieval's candidates ordered again, keeping the best (`rag::rerank`).
    Rerank,
    CreateEmbeddings,
    /// The RAG prompt template rendered with its variables.
    Prompt,
    Generation,
    Tool(Tool),
    /// Root of the corpus embedded by a remote model.
    IndexCorpus,
    /// Root of the error-path demo, and its simulated failing retriever.
    ErrorPathDemo,
    RetrievalErrorExample,
    /// Root of a replayed model call (linked to the LLM span it replays).
    Replay,
}

impl SpanName {
    /// The roots, in the order the trace list offers them as filters.
    pub const ROOTS: [SpanName; 5] = [
        SpanName::RagPipeline,
        SpanName::AgentRun,
        SpanName::IndexCorpus,
        SpanName::ErrorPathDemo,
        SpanName::Replay,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SpanName::RagPipeline => "rag_pipeline",
            SpanName::AgentRun => "agent_run",
            SpanName::AgentStep => "agent_step",
            SpanName::Retrieval => "retrieval",
            SpanName::Rerank => "rerank",
            SpanName::CreateEmbeddings => "CreateEmbeddings",
            SpanName::Prompt => "prompt",
            SpanName::Generation => "generation",
            SpanName::Tool(t) => t.as_str(),
            SpanName::IndexCorpus => "index_corpus",
            SpanName::ErrorPathDemo => "error_path_demo",
            SpanName::RetrievalErrorExample => "retrieval_error_example",
            SpanName::Replay => "replay",
        }
    }

    pub fn kind(self) -> SpanKind {
        match self {
            SpanName::RagPipeline
            | SpanName::AgentStep
            | SpanName::IndexCorpus
            | SpanName::ErrorPathDemo
            | SpanName::Replay => SpanKind::Chain,
            SpanName::AgentRun => SpanKind::Agent,
            SpanName::Retrieval | SpanName::RetrievalErrorExample => SpanKind::Retriever,
            SpanName::CreateEmbeddings => SpanKind::Embedding,
            SpanName::Rerank => SpanKind::Reranker,
            SpanName::Prompt => SpanKind::Prompt,
            SpanName::Generation => SpanKind::Llm,
            SpanName::Tool(_) => SpanKind::Tool,
        }
    }

    /// What the trace list calls a trace with this root.
    pub fn label(self) -> &'static str {
        match self {
            SpanName::RagPipeline => "RAG",
            SpanName::AgentRun => "Agent",
            SpanName::IndexCorpus => "Indexing",
            SpanName::ErrorPathDemo => "Error demo",
            SpanName::Replay => "Replay",
            other => other.as_str(),
        }
    }

    /// Whether a span called `name` is this one.
    pub fn is(self, name: &str) -> bool {
        self.as_str() == name
    }
}
