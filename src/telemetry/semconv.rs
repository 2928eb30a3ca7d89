//! Attribute keys: OpenInference's semantic conventions, plus the tracing tutorial's own
//! `retrieval.*`, `generation.*` and `agent.*` keys, which the page keeps so the
//! tutorial's tables can be rebuilt from our spans.

/// The ten OpenInference span kinds (ordered as listed, for sorting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SpanKind {
    Llm,
    /// A prompt template rendered with its variables (`llm.prompt_template.*`).
    Prompt,
    Embedding,
    Chain,
    Retriever,
    Reranker,
    Tool,
    Agent,
    Guardrail,
    Evaluator,
}

impl SpanKind {
    pub const ALL: [SpanKind; 10] = [
        SpanKind::Llm,
        SpanKind::Prompt,
        SpanKind::Embedding,
        SpanKind::Chain,
        SpanKind::Retriever,
        SpanKind::Reranker,
        SpanKind::Tool,
        SpanKind::Agent,
        SpanKind::Guardrail,
        SpanKind::Evaluator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SpanKind::Llm => "LLM",
            SpanKind::Prompt => "PROMPT",
            SpanKind::Embedding => "EMBEDDING",
            SpanKind::Chain => "CHAIN",
            SpanKind::Retriever => "RETRIEVER",
            SpanKind::Reranker => "RERANKER",
            SpanKind::Tool => "TOOL",
            SpanKind::Agent => "AGENT",
            SpanKind::Guardrail => "GUARDRAIL",
            SpanKind::Evaluator => "EVALUATOR",
        }
    }

    /// The kind an `openinference.span.kind` value names (case-insensitively).
    pub fn parse(text: &str) -> Option<SpanKind> {
        SpanKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

/// A span's status code, as OpenTelemetry has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StatusCode {
    Unset,
    Ok,
    Error,
}

impl StatusCode {
    pub const ALL: [StatusCode; 3] = [StatusCode::Unset, StatusCode::Ok, StatusCode::Error];

    pub fn of(status: &opentelemetry::trace::Status) -> StatusCode {
        match status {
            opentelemetry::trace::Status::Unset => StatusCode::Unset,
            opentelemetry::trace::Status::Ok => StatusCode::Ok,
            opentelemetry::trace::Status::Error { .. } => StatusCode::Error,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StatusCode::Unset => "UNSET",
            StatusCode::Ok => "OK",
            StatusCode::Error => "ERROR",
        }
    }

    pub fn parse(text: &str) -> Option<StatusCode> {
        StatusCode::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

// OpenInference: every span.
pub const SPAN_KIND: &str = "openinference.span.kind";
pub const INPUT_VALUE: &str = "input.value";
pub const INPUT_MIME_TYPE: &str = "input.mime_type";
pub const OUTPUT_VALUE: &str = "output.value";
pub const OUTPUT_MIME_TYPE: &str = "output.mime_type";
pub const PROJECT_NAME: &str = "openinference.project.name";
pub const SERVICE_NAME: &str = "service.name";
pub const SESSION_ID: &str = "session.id";
pub const USER_ID: &str = "user.id";
/// A JSON object of what the run was asked to do.
pub const METADATA: &str = "metadata";
/// Labels to filter runs by (a list of strings).
pub const TAG_TAGS: &str = "tag.tags";

// OpenInference: LLM spans.
pub const LLM_MODEL_NAME: &str = "llm.model_name";
pub const LLM_PROVIDER: &str = "llm.provider";
pub const LLM_SYSTEM: &str = "llm.system";
pub const LLM_INVOCATION_PARAMETERS: &str = "llm.invocation_parameters";
pub const LLM_TOKEN_COUNT_PROMPT: &str = "llm.token_count.prompt";
pub const LLM_TOKEN_COUNT_COMPLETION: &str = "llm.token_count.completion";
pub const LLM_TOKEN_COUNT_TOTAL: &str = "llm.token_count.total";
/// The model asked for, and the one that answered (a provider may route elsewhere).
pub const LLM_REQUEST_MODEL_NAME: &str = "llm.request.model_name";
pub const LLM_RESPONSE_MODEL_NAME: &str = "llm.response.model_name";
pub const LLM_FINISH_REASON: &str = "llm.finish_reason";
/// USD, from the page's price table; absent when the price is not known.
pub const LLM_COST_PROMPT: &str = "llm.cost.prompt";
pub const LLM_COST_COMPLETION: &str = "llm.cost.completion";
pub const LLM_COST_TOTAL: &str = "llm.cost.total";
pub const LLM_PROMPT_TEMPLATE: &str = "llm.prompt_template.template";
pub const LLM_PROMPT_TEMPLATE_VARIABLES: &str = "llm.prompt_template.variables";
pub const LLM_PROMPT_TEMPLATE_VERSION: &str = "llm.prompt_template.version";

/// `llm.input_messages.{i}.message.{field}` (field: `role` or `content`).
pub fn llm_input_message(i: usize, field: &str) -> String {
    format!("llm.input_messages.{i}.message.{field}")
}

/// `llm.output_messages.{i}.message.{field}`.
pub fn llm_output_message(i: usize, field: &str) -> String {
    format!("llm.output_messages.{i}.message.{field}")
}

// OpenInference: retriever and embedding spans.
/// `retrieval.documents.{i}.document.{field}` (field: `id`, `content`, `score`).
pub fn retrieval_document(i: usize, field: &str) -> String {
    format!("retrieval.documents.{i}.document.{field}")
}
pub const EMBEDDING_MODEL_NAME: &str = "embedding.model_name";

// OpenInference: reranker spans.
pub const RERANKER_QUERY: &str = "reranker.query";
pub const RERANKER_MODEL_NAME: &str = "reranker.model_name";
pub const RERANKER_TOP_K: &str = "reranker.top_k";
/// `reranker.input_documents.{i}.document.{field}`: what the reranker was handed.
pub fn reranker_input_document(i: usize, field: &str) -> String {
    format!("reranker.input_documents.{i}.document.{field}")
}
/// `reranker.output_documents.{i}.document.{field}`: what it kept, best first.
pub fn reranker_output_document(i: usize, field: &str) -> String {
    format!("reranker.output_documents.{i}.document.{field}")
}
/// `embedding.embeddings.{i}.embedding.{field}` (field: `text` or `vector`).
pub fn embedding(i: usize, field: &str) -> String {
    format!("embedding.embeddings.{i}.embedding.{field}")
}

// OpenInference: tool spans.
pub const TOOL_NAME: &str = "tool.name";
/// On a TOOL span: the id of the tool call it answers.
pub const TOOL_ID: &str = "tool.id";

/// `llm.tools.{i}.tool.json_schema`: a tool the model was offered.
pub fn llm_tool(i: usize) -> String {
    format!("llm.tools.{i}.tool.json_schema")
}

/// `{message}.tool_calls.{j}.tool_call.{field}` (`id`, `function.name`,
/// `function.arguments`) of a message key such as `llm.output_messages.0.message`.
pub fn tool_call(message: &str, j: usize, field: &str) -> String {
    format!("{message}.tool_calls.{j}.tool_call.{field}")
}
pub const TOOL_DESCRIPTION: &str = "tool.description";

// The tracing tutorial's own keys (retrieval, generation and agent tables).
pub const RETRIEVAL_QUERY: &str = "retrieval.query";
pub const RETRIEVAL_TOP_K: &str = "retrieval.top_k";
pub const RETRIEVAL_RESULT_COUNT: &str = "retrieval.result_count";
pub const RETRIEVAL_TOP_SCORE: &str = "retrieval.top_score";
/// ragtrace's key in a retrieved document's `document.metadata`: the id of the document
/// whose list it carries on, when retrieval added it for that rather than ranked it.
pub const DOCUMENT_CONTINUES: &str = "continues";
pub const RETRIEVAL_METHOD: &str = "retrieval.method";
pub const GENERATION_QUESTION: &str = "generation.question";
pub const GENERATION_MODEL: &str = "generation.model";
pub const GENERATION_CONTEXT_CHUNK_COUNT: &str = "generation.context_chunk_count";
pub const GENERATION_ANSWER_WORD_COUNT: &str = "generation.answer_word_count";
pub const AGENT_STEP_NUMBER: &str = "agent.step_number";
pub const AGENT_THOUGHT: &str = "agent.thought";
pub const AGENT_ACTION: &str = "agent.action";
pub const AGENT_ACTION_INPUT: &str = "agent.action_input";
pub const AGENT_OBSERVATION_LENGTH: &str = "agent.observation_length";

// OpenTelemetry: exceptions.
pub const EXCEPTION_EVENT: &str = "exception";
pub const EXCEPTION_TYPE: &str = "exception.type";
pub const EXCEPTION_MESSAGE: &str = "exception.message";
pub const EXCEPTION_STACKTRACE: &str = "exception.stacktrace";
