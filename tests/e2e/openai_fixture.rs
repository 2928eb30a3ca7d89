//! A local stand-in for the OpenAI API, faithful to its wire format: chat completions
//! (JSON, and server-sent events with `stream_options.include_usage`), embeddings, and
//! its error bodies. CORS is open, as a browser-facing server must be. Behaviour is
//! chosen by the model name, the way a test picks a failure:
//! `missing-model` → 404, `rate-limited-once` → one 429 with `Retry-After`, then
//! answers, `server-error` → 500, `broken-stream` → a stream cut mid-JSON,
//! `sloppy-agent` → one reply out of ReAct format, then well-formed ones,
//! `slow-model` → streams at one piece every 700 ms (time to press Stop). A request
//! that offers `tools` gets tool calls, streamed as OpenAI streams them (`parallel-tools`
//! makes two at once, and sends its usage as proxies do) — except for `no-tools`, which
//! refuses them as Ollama does for a model without tool support. The embedding
//! model `no-embeddings` gets llama.cpp's 501 for a server started without embeddings.
//! The key `sk-bad` gets a 401.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use futures_util::StreamExt;
use ragtrace::rag::embed::HashEmbedder;
use ragtrace::rag::prompt;
use serde_json::{json, Value};
use tower_http::cors::CorsLayer;

#[derive(Default)]
pub struct Seen {
    /// Requests per model.
    pub calls: HashMap<String, u32>,
    /// Number of inputs of every embeddings request.
    pub embedding_inputs: Vec<usize>,
    /// Every Authorization header received.
    pub authorizations: Vec<String>,
}

pub struct Fixture {
    addr: SocketAddr,
    pub seen: Arc<Mutex<Seen>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Fixture {
    pub async fn start() -> Fixture {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let app = Router::new()
            .route("/v1/chat/completions", post(chat))
            .route("/v1/embeddings", post(embeddings))
            .layer(CorsLayer::permissive())
            .with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Fixture { addr, seen, server }
    }

    /// The base URL to put in the page.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }
}

fn error(status: StatusCode, message: &str, kind: &str, code: Value) -> Response {
    (
        status,
        Json(json!({ "error": { "message": message, "type": kind, "param": null, "code": code } })),
    )
        .into_response()
}

/// Checks the key the way OpenAI does; records it so tests can see where it went.
fn unauthorized(seen: &Mutex<Seen>, headers: &HeaderMap) -> Option<Response> {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    seen.lock().unwrap().authorizations.push(auth.clone());
    let key = auth.strip_prefix("Bearer ").unwrap_or_default();
    (key.is_empty() || key == "sk-bad").then(|| {
        error(
            StatusCode::UNAUTHORIZED,
            &format!("Incorrect API key provided: {key}. You can find your API key at https://platform.openai.com/account/api-keys."),
            "invalid_request_error",
            json!("invalid_api_key"),
        )
    })
}

async fn chat(
    State(seen): State<Arc<Mutex<Seen>>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(r) = unauthorized(&seen, &headers) {
        return r;
    }
    let model = body["model"].as_str().unwrap_or_default().to_string();
    let call = {
        let mut s = seen.lock().unwrap();
        let n = s.calls.entry(model.clone()).or_default();
        *n += 1;
        *n
    };
    match model.as_str() {
        "missing-model" => {
            return error(
                StatusCode::NOT_FOUND,
                "The model `missing-model` does not exist or you do not have access to it.",
                "invalid_request_error",
                json!("model_not_found"),
            )
        }
        "rate-limited-once" if call == 1 => {
            let mut r = error(
                StatusCode::TOO_MANY_REQUESTS,
                "Rate limit reached for gpt-4.1-mini on requests per min (RPM): Limit 3, Used 3, Requested 1.",
                "requests",
                json!("rate_limit_exceeded"),
            );
            r.headers_mut().insert("retry-after", "1".parse().unwrap());
            return r;
        }
        "server-error" => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The server had an error while processing your request. Sorry about that!",
                "server_error",
                Value::Null,
            )
        }
        _ => {}
    }
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    if body["tools"].as_array().is_some_and(|t| !t.is_empty()) {
        if model == "no-tools" {
            // What Ollama answers for a model without tool support.
            return error(
                StatusCode::BAD_REQUEST,
                "registry.ollama.ai/library/no-tools:latest does not support tools",
                "api_error",
                Value::Null,
            );
        }
        return tool_call(&model, call, &messages);
    }
    let text = reply(&model, call, &messages);
    let id = format!("chatcmpl-fixture{call}");
    let usage = json!({ "prompt_tokens": words(&messages), "completion_tokens": text.split_whitespace().count(), "total_tokens": words(&messages) + text.split_whitespace().count() });
    if body["stream"] != true {
        return Json(json!({
            "id": id, "object": "chat.completion", "created": 1_764_000_000, "model": model,
            "choices": [{ "index": 0, "message": { "role": "assistant", "content": text }, "finish_reason": "stop" }],
            "usage": usage,
        }))
        .into_response();
    }
    let chunk = |delta: Value, finish: Value| {
        format!(
            "data: {}\n\n",
            json!({ "id": id, "object": "chat.completion.chunk", "created": 1_764_000_000, "model": model,
                    "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }] })
        )
    };
    let mut events = vec![chunk(
        json!({ "role": "assistant", "content": "" }),
        Value::Null,
    )];
    let pieces: Vec<String> = text.split_inclusive(' ').map(str::to_string).collect();
    for piece in pieces.chunks(3) {
        events.push(chunk(json!({ "content": piece.concat() }), Value::Null));
    }
    if model == "broken-stream" {
        events.push(
            "data: {\"id\": \"chatcmpl-fixture\", \"choices\": [{\"delta\": {\"content\": \"cut"
                .into(),
        );
    } else {
        events.push(chunk(json!({}), json!("stop")));
        if body["stream_options"]["include_usage"] == true {
            events.push(format!(
                "data: {}\n\n",
                json!({ "id": id, "object": "chat.completion.chunk", "created": 1_764_000_000, "model": model, "choices": [], "usage": usage })
            ));
        }
        events.push("data: [DONE]\n\n".into());
    }
    // Paced like a model typing, so the page can be seen streaming.
    let pace = Duration::from_millis(if model == "slow-model" { 700 } else { 40 });
    let stream = futures_util::stream::iter(events).then(move |e| async move {
        tokio::time::sleep(pace).await;
        Ok::<_, std::convert::Infallible>(e)
    });
    Response::builder()
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(Body::from_stream(stream))
        .unwrap()
}

fn words(messages: &[Value]) -> usize {
    messages
        .iter()
        .map(|m| {
            m["content"]
                .as_str()
                .unwrap_or_default()
                .split_whitespace()
                .count()
        })
        .sum()
}

/// The scripted answer: ReAct turns for the agent prompt, an extract for RAG.
fn reply(model: &str, call: u32, messages: &[Value]) -> String {
    let content = |m: &Value| m["content"].as_str().unwrap_or_default().to_string();
    let system = messages.first().map(content).unwrap_or_default();
    let question = messages
        .iter()
        .filter(|m| m["role"] == "user")
        .find_map(|m| content(m).strip_prefix("Question: ").map(str::to_string));
    let passages: Vec<prompt::Passage> = messages
        .iter()
        .flat_map(|m| prompt::parse_passages(&content(m)))
        .collect();
    let first = passages.first().map(|p| {
        let sentence = p
            .text
            .split_inclusive(". ")
            .next()
            .unwrap_or(&p.text)
            .trim()
            .to_string();
        format!("{sentence} [{}]", p.id)
    });
    if system == prompt::REACT_SYSTEM {
        if model == "sloppy-agent" && call == 1 {
            return "I think I should look this up in the handbook first.".into();
        }
        let observed = messages
            .iter()
            .any(|m| content(m).starts_with("Observation:"));
        return match (observed, first) {
            (true, Some(answer)) => format!("Thought: The passages answer the question.\nAction: finish\nAction Input: {answer}"),
            _ => format!("Thought: I should search the handbook.\nAction: retrieve\nAction Input: {}", question.unwrap_or_default()),
        };
    }
    match first {
        Some(answer) => format!("According to the handbook: {answer}"),
        None => "It is not found in the handbook.".into(),
    }
}

/// What OpenAI streams when the model calls a tool: with no tool result yet it calls
/// `retrieve` with the question; after one, `finish` with the first passage's sentence.
/// Each call's name comes first, its arguments in pieces, then `finish_reason`
/// `tool_calls` and the usage in a chunk with empty `choices`.
///
/// `parallel-tools` makes two `retrieve` calls at once (the question, and its last
/// words), their deltas interleaved and two in one chunk, and sends the usage with
/// the `finish_reason` chunk, whose `choices` is not empty, as LiteLLM and Azure do.
fn tool_call(model: &str, call: u32, messages: &[Value]) -> Response {
    let content = |m: &Value| m["content"].as_str().unwrap_or_default().to_string();
    let answered = messages.iter().any(|m| m["role"] == "tool");
    let calls: Vec<(&str, String)> = if answered {
        let text = reply(
            "fixture-chat",
            call,
            &[json!({ "role": "user", "content": "" })]
                .into_iter()
                .chain(messages.iter().filter(|m| m["role"] == "tool").cloned())
                .collect::<Vec<_>>(),
        );
        vec![("finish", json!({ "answer": text }).to_string())]
    } else {
        let question = messages
            .iter()
            .find_map(|m| content(m).strip_prefix("Question: ").map(str::to_string))
            .unwrap_or_default();
        let mut calls = vec![("retrieve", json!({ "query": question }).to_string())];
        if model == "parallel-tools" {
            let words: Vec<&str> = question.split_whitespace().collect();
            let tail = words[words.len().saturating_sub(3)..].join(" ");
            calls.push(("retrieve", json!({ "query": tail }).to_string()));
        }
        calls
    };
    let id = format!("chatcmpl-fixture{call}");
    let usage = json!({ "prompt_tokens": words(messages), "completion_tokens": 12, "total_tokens": words(messages) + 12 });
    let event = |choices: Value, usage: Option<&Value>| {
        let mut chunk = json!({ "id": id, "object": "chat.completion.chunk", "created": 1_764_000_000, "model": model, "choices": choices });
        if let Some(usage) = usage {
            chunk["usage"] = usage.clone();
        }
        format!("data: {chunk}\n\n")
    };
    let delta = |calls: Value| json!([{ "index": 0, "delta": { "tool_calls": calls }, "finish_reason": null }]);
    let mut events: Vec<String> = calls
        .iter()
        .enumerate()
        .map(|(i, (name, _))| {
            let mut delta = json!({ "tool_calls": [{ "index": i, "id": format!("call_{name}_{call}_{i}"), "type": "function", "function": { "name": name, "arguments": "" } }] });
            if i == 0 {
                // The role comes once, in the stream's first chunk.
                delta["role"] = json!("assistant");
                delta["content"] = Value::Null;
            }
            event(json!([{ "index": 0, "delta": delta, "finish_reason": null }]), None)
        })
        .collect();
    let halves: Vec<(&str, &str)> = calls
        .iter()
        .map(|(_, args)| args.split_at(args.len() / 2))
        .collect();
    for (i, (head, _)) in halves.iter().enumerate() {
        events.push(event(
            delta(json!([{ "index": i, "function": { "arguments": head } }])),
            None,
        ));
    }
    // Every call's second half in one chunk.
    let tails: Vec<Value> = halves
        .iter()
        .enumerate()
        .map(|(i, (_, tail))| json!({ "index": i, "function": { "arguments": tail } }))
        .collect();
    events.push(event(delta(Value::Array(tails)), None));
    let finish = json!([{ "index": 0, "delta": {}, "finish_reason": "tool_calls" }]);
    if model == "parallel-tools" {
        events.push(event(finish, Some(&usage)));
    } else {
        events.push(event(finish, None));
        events.push(event(json!([]), Some(&usage)));
    }
    events.push("data: [DONE]\n\n".to_string());
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(futures_util::stream::iter(
            events.into_iter().map(Ok::<_, std::convert::Infallible>),
        )))
        .unwrap()
}

async fn embeddings(
    State(seen): State<Arc<Mutex<Seen>>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(r) = unauthorized(&seen, &headers) {
        return r;
    }
    let inputs: Vec<String> = match &body["input"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "'input' is a required property",
                "invalid_request_error",
                Value::Null,
            )
        }
    };
    if body["model"] == "no-embeddings" {
        // What llama.cpp's server answers when started without --embeddings.
        return error(
            StatusCode::NOT_IMPLEMENTED,
            "This server does not support embeddings. Start it with `--embeddings`",
            "not_supported_error",
            json!(501),
        );
    }
    seen.lock().unwrap().embedding_inputs.push(inputs.len());
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, t)| json!({ "object": "embedding", "index": i, "embedding": HashEmbedder.embed(t) }))
        .collect();
    Json(json!({ "object": "list", "data": data, "model": body["model"], "usage": { "prompt_tokens": inputs.len(), "total_tokens": inputs.len() } }))
        .into_response()
}
