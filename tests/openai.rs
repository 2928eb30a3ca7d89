//! The OpenAI-compatible client against a scripted HTTP client: streaming, usage, error
//! mapping, retries, scrubbed keys, stalled streams and embeddings (batched, cached,
//! checked).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::time::Duration;

use common::http::{Answer, Script};
use pollster::block_on;
use ragtrace::http::HttpError;
use ragtrace::model::openai::{EmbeddingCache, ModelSettings, OpenAi, OpenAiConfig, IDLE_TIMEOUT};
use ragtrace::model::{CallObserver, ChatModel, Embedder, Message, ModelError};

/// What a test expects of an error.
type Check = fn(&ModelError) -> bool;

#[derive(Default)]
struct Heard {
    deltas: Vec<String>,
    retries: Vec<(u32, u16, f64)>,
}

impl CallObserver for Heard {
    fn on_delta(&mut self, delta: &str) {
        self.deltas.push(delta.into());
    }
    fn on_retry(&mut self, attempt: u32, status: u16, wait_s: f64) {
        self.retries.push((attempt, status, wait_s));
    }
}

fn config() -> OpenAiConfig {
    let settings = ModelSettings {
        base_url: "http://127.0.0.1:9/v1/".into(),
        chat_model: "m".into(),
        ..Default::default()
    };
    OpenAiConfig::parse(&settings, "sk-test").unwrap().unwrap()
}

const STREAM: [&str; 4] = [
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Thirty \"}}]}\n\ndata: {\"choices\":[{\"index\":0,\"del",
    "ta\":{\"content\":\"days.\"}}]}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,\"total_tokens\":15}}\n\n",
    "data: [DONE]\n\n",
];

#[test]
fn streams_deltas_across_chunk_boundaries_and_reads_usage() {
    let script = Script::answers(vec![Answer::chunks(200, &STREAM)]);
    let client = OpenAi::new(config(), &script, EmbeddingCache::default());
    let mut heard = Heard::default();
    let reply = block_on(client.chat(&[Message::system("s"), Message::user("q")], &[], &mut heard))
        .unwrap();
    assert_eq!(reply.content, "Thirty days.");
    assert_eq!(heard.deltas, ["Thirty ", "days."]);
    assert_eq!(
        (reply.usage.prompt_tokens, reply.usage.completion_tokens),
        (12, 3)
    );

    let requests = script.requests.borrow();
    let request = &requests[0];
    assert_eq!(request.url, "http://127.0.0.1:9/v1/chat/completions");
    assert!(request
        .headers
        .contains(&("authorization", "Bearer sk-test".into())));
    assert_eq!(request.idle_timeout, Some(IDLE_TIMEOUT));
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"]["include_usage"], true);
    assert_eq!(body["messages"][1]["role"], "user");
}

#[test]
fn broken_streams_are_malformed_not_panics() {
    for chunks in [vec!["data: {not json}\n\n"], vec![STREAM[0], STREAM[1]]] {
        let err = chat(Script::answers(vec![Answer::chunks(200, &chunks)])).unwrap_err();
        assert!(matches!(err, ModelError::Malformed(_)), "{err:?}");
    }
}

/// One chat call of a client over `script`.
fn chat(script: Script) -> Result<ragtrace::model::ChatResponse, ModelError> {
    block_on(
        OpenAi::new(config(), &script, EmbeddingCache::default()).chat(
            &[Message::user("q")],
            &[],
            &mut (),
        ),
    )
}

#[test]
fn a_stream_that_goes_silent_fails_with_a_clear_message() {
    let stalled = HttpError::Stalled {
        url: "http://127.0.0.1:9/v1/chat/completions".into(),
        after: IDLE_TIMEOUT,
    };
    let script = Script::answers(vec![Answer::Cut(
        vec![STREAM[0].as_bytes().to_vec()],
        stalled.clone(),
    )]);
    let err = chat(script).unwrap_err();
    assert_eq!(err, ModelError::Http(stalled));
    assert!(
        err.to_string()
            .contains("stopped sending mid-answer for 30 s"),
        "{err}"
    );
}

#[test]
fn errors_say_what_to_do_without_the_key_the_server_echoed() {
    let cases: [(u16, &str, Check); 4] = [
        (401, "Incorrect API key provided", |e| {
            matches!(e, ModelError::Unauthorized { .. })
                && e.to_string().contains("check your API key")
        }),
        (404, "The model `x` does not exist", |e| {
            matches!(e, ModelError::NotFound { .. })
        }),
        (400, "bad request", |e| {
            matches!(e, ModelError::Rejected { status: 400, .. })
        }),
        (500, "oops", |e| {
            matches!(e, ModelError::Server { status: 500, .. })
        }),
    ];
    for (status, message, check) in cases {
        let body = format!(
            r#"{{"error":{{"message":"{message}: sk-tes*****est, you sent sk-test","type":"invalid_request_error"}}}}"#
        );
        let script = Script::answers(vec![Answer::status(status, &body)]);
        let err = chat(script).unwrap_err();
        assert!(check(&err), "{status}: {err}");
        let text = err.to_string();
        assert!(text.contains(message), "{text}");
        assert!(!text.contains("sk-tes"), "a key shape leaked: {text}");
    }
}

#[test]
fn only_429_502_503_504_are_retried_after_their_delay() {
    let script = Script::answers(vec![
        Answer::status(429, r#"{"error":{"message":"Rate limit reached"}}"#)
            .with_header("retry-after", "2"),
        Answer::status(503, "busy").with_header("Retry-After", "nan"),
        Answer::status(502, "gateway").with_header(
            "retry-after",
            "Tue, 14 Nov 2023 22:13:25 GMT", // 5 s after the script's clock
        ),
        Answer::chunks(200, &STREAM),
    ]);
    let mut heard = Heard::default();
    let reply = block_on(
        OpenAi::new(config(), &script, EmbeddingCache::default()).chat(
            &[Message::user("q")],
            &[],
            &mut heard,
        ),
    )
    .unwrap();
    assert_eq!(reply.content, "Thirty days.");
    let statuses: Vec<u16> = heard.retries.iter().map(|r| r.1).collect();
    assert_eq!(statuses, [429, 503, 502]);
    let slept = script.slept.borrow();
    assert_eq!(slept[0], Duration::from_secs(2));
    // `nan` is no delay: the backoff (2 s ± 20 % at attempt 2) applies.
    assert!(
        (1.6..=2.4).contains(&slept[1].as_secs_f64()),
        "{:?}",
        slept[1]
    );
    assert_eq!(slept[2], Duration::from_secs(5));

    let script = Script::new(|_| Answer::status(429, "{}").with_header("retry-after", "0"));
    let err = chat(script).unwrap_err();
    assert!(matches!(err, ModelError::RateLimited { .. }));
}

#[test]
fn embeddings_are_batched_unit_length_and_cached() {
    let script = Script::answers(vec![Answer::status(
        200,
        r#"{"object":"list","data":[{"object":"embedding","index":1,"embedding":[0,2]},{"object":"embedding","index":0,"embedding":[3,4]}],"model":"e","usage":{"prompt_tokens":2,"total_tokens":2}}"#,
    )]);
    let client = OpenAi::new(config(), &script, EmbeddingCache::default());
    let texts = vec!["a".to_string(), "b".to_string()];
    let v = block_on(client.embed(&texts)).unwrap();
    assert_eq!(v, vec![vec![0.6, 0.8], vec![0.0, 1.0]]);
    // Cached: no second request (the script has no answer left to give).
    assert_eq!(
        block_on(client.embed(&texts[1..])).unwrap(),
        vec![vec![0.0, 1.0]]
    );
    assert_eq!(script.requests.borrow().len(), 1);
}

#[test]
fn malformed_embedding_answers_are_errors_not_panics() {
    let item = |i: &str| format!(r#"{{"object":"embedding","index":{i},"embedding":[1,0]}}"#);
    for (items, says) in [
        (vec![item("0"), item("0")], "repeats index 0"),
        (vec![item("0"), item("7")], "index 7, out of range"),
        (vec![item("0")], "1 vectors for 2 texts"),
        (
            vec![item("0"), r#"{"embedding":[1,0]}"#.into()],
            "not what the API returns",
        ),
        (vec![item("0"), item("-1")], "not what the API returns"),
    ] {
        let body = format!(r#"{{"object":"list","data":[{}]}}"#, items.join(","));
        let script = Script::answers(vec![Answer::status(200, &body)]);
        let client = OpenAi::new(config(), &script, EmbeddingCache::default());
        let err = block_on(client.embed(&["a".into(), "b".into()])).unwrap_err();
        assert!(matches!(err, ModelError::Malformed(_)), "{err:?}");
        assert!(err.to_string().contains(says), "{err}");
    }
}

#[test]
fn settings_choose_offline_or_say_what_is_wrong() {
    assert_eq!(
        OpenAiConfig::parse(&ModelSettings::default(), "  "),
        Ok(None)
    );
    let local = ModelSettings {
        base_url: "http://127.0.0.1:11434/v1".into(),
        ..Default::default()
    };
    assert!(OpenAiConfig::parse(&local, "")
        .unwrap()
        .unwrap()
        .api_key
        .is_none());
    let bad = ModelSettings {
        base_url: "api.openai.com".into(),
        ..Default::default()
    };
    assert!(matches!(
        OpenAiConfig::parse(&bad, "sk"),
        Err(ModelError::Settings(_))
    ));
    let cfg = OpenAiConfig::parse(&ModelSettings::default(), "sk-secret")
        .unwrap()
        .unwrap();
    assert!(!format!("{cfg:?}").contains("sk-secret"));
    let moved = ModelSettings {
        base_url: "http://10.1.2.3:8000/v1".into(),
        key_origin: "https://api.openai.com".into(),
        ..Default::default()
    };
    let err = OpenAiConfig::parse(&moved, "sk-secret").unwrap_err();
    assert!(
        err.to_string()
            .contains("entered for https://api.openai.com, not http://10.1.2.3:8000"),
        "{err}"
    );
    let err = OpenAiConfig::parse(&ModelSettings::default(), "sk-\u{00e9}t\u{00e9}").unwrap_err();
    assert!(err.to_string().contains("API key"), "{err}");
}

#[test]
fn tool_calls_stream_in_pieces_and_tool_results_go_back_by_id() {
    let stream = [
        "data: {\"model\":\"gpt-4.1-mini-2025-04-14\",\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":\"call_abc\",\"type\":\"function\",\"function\":{\"name\":\"retrieve\",\"arguments\":\"\"}}]}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"query\\\":\\\"leave\"}}]}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\" days\\\"}\"}}]},\"finish_reason\":\"tool_calls\"}]}\n\n",
        "data: [DONE]\n\n",
    ];
    let script = Script::answers(vec![Answer::chunks(200, &stream)]);
    let client = OpenAi::new(config(), &script, EmbeddingCache::default());
    let tools = ragtrace::rag::prompt::agent_tools();
    let history = [
        Message::user("Question: leave?"),
        Message::calling(
            "",
            vec![ragtrace::model::ToolCall {
                id: "call_0".into(),
                name: "retrieve".into(),
                arguments: "{\"query\":\"leave\"}".into(),
            }],
        ),
        Message::tool("call_0", "[leave:1] (similarity 0.500) 25 days."),
    ];
    let reply = block_on(client.chat(&history, &tools, &mut ())).unwrap();
    assert_eq!(reply.tool_calls.len(), 1);
    let call = &reply.tool_calls[0];
    assert_eq!(
        (
            call.id.as_str(),
            call.name.as_str(),
            call.arguments.as_str()
        ),
        ("call_abc", "retrieve", "{\"query\":\"leave days\"}")
    );
    assert_eq!(reply.finish_reason.as_deref(), Some("tool_calls"));

    let requests = script.requests.borrow();
    let body: serde_json::Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(body["tools"][1]["function"]["name"], "finish");
    assert_eq!(body["messages"][1]["tool_calls"][0]["id"], "call_0");
    assert_eq!(body["messages"][2]["role"], "tool");
    assert_eq!(body["messages"][2]["tool_call_id"], "call_0");
}

#[test]
fn a_replay_runs_at_its_own_temperature() {
    let stream = [
        "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"},\"finish_reason\":\"stop\"}]}\n\n",
        "data: [DONE]\n\n",
    ];
    let script = Script::answers(vec![Answer::chunks(200, &stream)]);
    let client = OpenAi::new(config(), &script, EmbeddingCache::default());
    let tuned = client.at_temperature(0.7);
    assert!(tuned
        .invocation_parameters()
        .contains("\"temperature\":0.7"));
    let reply = block_on(tuned.chat(&[Message::user("Question: hi")], &[], &mut ())).unwrap();
    assert_eq!(reply.content, "Hi");
    let body: serde_json::Value =
        serde_json::from_slice(&script.requests.borrow()[0].body).unwrap();
    assert!((body["temperature"].as_f64().unwrap() - 0.7).abs() < 1e-6);
    assert_eq!(body["model"], "m");
}
