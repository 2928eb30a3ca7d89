//! The OpenAI-compatible client against a scripted transport: streaming, usage, error
//! mapping, retries and the embedding cache.
#![cfg(not(target_arch = "wasm32"))]

use std::cell::RefCell;
use std::collections::VecDeque;
use std::time::Duration;

use futures_util::StreamExt;
use pollster::block_on;
use ragtrace::model::openai::{
    Body, EmbeddingCache, HttpHead, ModelSettings, ModelTransport, OpenAi, OpenAiConfig,
};
use ragtrace::model::{CallObserver, ChatModel, Embedder, Message, ModelError};

/// A scripted answer: status, `Retry-After`, body chunks.
type Answer = (u16, Option<f64>, Vec<&'static str>);
/// A request seen: URL, headers, body.
type Request = (String, Vec<(&'static str, String)>, String);
/// What a test expects of an error.
type Check = fn(&ModelError) -> bool;

/// Answers with the scripted answers in order; records requests.
#[derive(Default)]
struct Script {
    answers: RefCell<VecDeque<Answer>>,
    requests: RefCell<Vec<Request>>,
    slept: RefCell<Vec<Duration>>,
}

impl ModelTransport for &Script {
    async fn post(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        body: String,
    ) -> Result<(HttpHead, Body), ModelError> {
        self.requests
            .borrow_mut()
            .push((url.into(), headers.to_vec(), body));
        let (status, retry_after, chunks) = self
            .answers
            .borrow_mut()
            .pop_front()
            .expect("a scripted answer");
        let stream =
            futures_util::stream::iter(chunks.into_iter().map(|c| Ok(c.as_bytes().to_vec())))
                .boxed_local();
        Ok((
            HttpHead {
                status,
                retry_after,
            },
            stream,
        ))
    }

    async fn sleep(&self, duration: Duration) {
        self.slept.borrow_mut().push(duration);
    }
}

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
    let script = Script::default();
    script
        .answers
        .borrow_mut()
        .push_back((200, None, STREAM.to_vec()));
    let client = OpenAi::new(config(), &script, EmbeddingCache::default());
    let mut heard = Heard::default();
    let reply =
        block_on(client.chat(&[Message::system("s"), Message::user("q")], &mut heard)).unwrap();
    assert_eq!(reply.content, "Thirty days.");
    assert_eq!(heard.deltas, ["Thirty ", "days."]);
    assert_eq!(
        (reply.usage.prompt_tokens, reply.usage.completion_tokens),
        (12, 3)
    );

    let requests = script.requests.borrow();
    let (url, headers, body) = &requests[0];
    assert_eq!(url, "http://127.0.0.1:9/v1/chat/completions");
    assert!(headers.contains(&("authorization", "Bearer sk-test".into())));
    let body: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"]["include_usage"], true);
    assert_eq!(body["messages"][1]["role"], "user");
}

#[test]
fn broken_streams_are_malformed_not_panics() {
    for chunks in [vec!["data: {not json}\n\n"], vec![STREAM[0], STREAM[1]]] {
        let script = Script::default();
        script.answers.borrow_mut().push_back((200, None, chunks));
        let err = block_on(
            OpenAi::new(config(), &script, EmbeddingCache::default())
                .chat(&[Message::user("q")], &mut ()),
        )
        .unwrap_err();
        assert!(matches!(err, ModelError::Malformed(_)), "{err:?}");
    }
}

#[test]
fn errors_say_what_to_do_and_429_is_retried_after_its_delay() {
    let cases: [(u16, &str, Check); 3] = [
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
    ];
    for (status, message, check) in cases {
        let script = Script::default();
        let body: &'static str = Box::leak(
            format!(r#"{{"error":{{"message":"{message}","type":"invalid_request_error"}}}}"#)
                .into_boxed_str(),
        );
        script
            .answers
            .borrow_mut()
            .push_back((status, None, vec![body]));
        let err = block_on(
            OpenAi::new(config(), &script, EmbeddingCache::default())
                .chat(&[Message::user("q")], &mut ()),
        )
        .unwrap_err();
        assert!(check(&err), "{status}: {err}");
        assert!(err.to_string().contains(message));
    }

    let script = Script::default();
    script.answers.borrow_mut().push_back((
        429,
        Some(2.0),
        vec![r#"{"error":{"message":"Rate limit reached"}}"#],
    ));
    script
        .answers
        .borrow_mut()
        .push_back((500, None, vec!["oops"]));
    script
        .answers
        .borrow_mut()
        .push_back((200, None, STREAM.to_vec()));
    let mut heard = Heard::default();
    let reply = block_on(
        OpenAi::new(config(), &script, EmbeddingCache::default())
            .chat(&[Message::user("q")], &mut heard),
    )
    .unwrap();
    assert_eq!(reply.content, "Thirty days.");
    assert_eq!(heard.retries, [(1, 429, 2.0), (2, 500, 2.0)]);
    assert_eq!(
        *script.slept.borrow(),
        [Duration::from_secs(2), Duration::from_secs(2)]
    );

    let script = Script::default();
    for _ in 0..4 {
        script
            .answers
            .borrow_mut()
            .push_back((429, Some(0.0), vec!["{}"]));
    }
    let err = block_on(
        OpenAi::new(config(), &script, EmbeddingCache::default())
            .chat(&[Message::user("q")], &mut ()),
    )
    .unwrap_err();
    assert!(matches!(err, ModelError::RateLimited { .. }));
}

#[test]
fn embeddings_are_batched_unit_length_and_cached() {
    let script = Script::default();
    script.answers.borrow_mut().push_back((
        200,
        None,
        vec![r#"{"object":"list","data":[{"object":"embedding","index":1,"embedding":[0,2]},{"object":"embedding","index":0,"embedding":[3,4]}],"model":"e","usage":{"prompt_tokens":2,"total_tokens":2}}"#],
    ));
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
}
