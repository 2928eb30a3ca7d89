//! The page's use-cases against a scripted OpenAI-compatible server: offline, remote,
//! a chat-only server with local embeddings, the remote index kept per corpus, and an
//! embeddings failure that says what to do.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::cell::{Cell, RefCell};
use std::ops::ControlFlow;
use std::rc::Rc;
use std::sync::Arc;

use common::engine::Counting;
use common::http::{Answer, Script};
use opentelemetry::trace::Status;
use opentelemetry_sdk::trace::SpanData;
use pollster::block_on;
use ragtrace::app::ask::{Ask, Indexed, Local, Session};
use ragtrace::http::Request;
use ragtrace::model::openai::{EmbeddingCache, ModelSettings, OpenAi, OpenAiConfig};
use ragtrace::model::Embedder;
use ragtrace::rag::corpus::Document;
use ragtrace::rag::embed::{HashEmbedder, MINILM};
use ragtrace::rag::engine::{Engine, Observer, Progress, EMBED_BATCH, MAX_RECORDED_TEXTS};
use ragtrace::rag::pipeline::Mode;
use ragtrace::rag::vectors::{Cached, Precomputed};
use ragtrace::telemetry::redact::Redaction;
use ragtrace::HANDBOOK_MD;

const QUESTION: &str = "What is the maximum number of days an employee can work internationally?";

/// What an OpenAI-compatible server answers: embeddings of the inputs (the local
/// embedder's, so retrieval works), a streamed answer, or 501 for `no-embeddings`.
fn server(request: &Request) -> Answer {
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    if request.url.ends_with("/embeddings") {
        if body["model"] == "no-embeddings" {
            return Answer::status(
                501,
                r#"{"error":{"message":"This server does not support embeddings. Start it with `--embeddings`","type":"not_supported_error"}}"#,
            );
        }
        let data: Vec<serde_json::Value> = body["input"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, t)| serde_json::json!({"index": i, "embedding": HashEmbedder.embed(t.as_str().unwrap())}))
            .collect();
        return Answer::status(200, &serde_json::json!({ "data": data }).to_string());
    }
    // As OpenAI streams: the dated snapshot that answered, the finish reason, usage last.
    Answer::chunks(
        200,
        &[
            "data: {\"model\":\"gpt-4.1-mini-2025-04-14\",\"choices\":[{\"delta\":{\"content\":\"Thirty days [international-work:1].\"},\"finish_reason\":null}]}\n\n",
            "data: {\"model\":\"gpt-4.1-mini-2025-04-14\",\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
            "data: {\"model\":\"gpt-4.1-mini-2025-04-14\",\"choices\":[],\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":100,\"total_tokens\":1100}}\n\n",
            "data: [DONE]\n\n",
        ],
    )
}

fn client(embedding_model: &str, script: Script) -> Rc<OpenAi<Script>> {
    client_of("chat", embedding_model, script)
}

fn client_of(chat_model: &str, embedding_model: &str, script: Script) -> Rc<OpenAi<Script>> {
    let settings = ModelSettings {
        base_url: "http://127.0.0.1:9/v1".into(),
        chat_model: chat_model.into(),
        embedding_model: embedding_model.into(),
        ..Default::default()
    };
    let config = OpenAiConfig::parse(&settings, "sk-test").unwrap().unwrap();
    Rc::new(OpenAi::new(config, script, EmbeddingCache::default()))
}

fn indexed(revision: u64) -> Indexed {
    let documents = vec![Document {
        name: "handbook.md".into(),
        text: HANDBOOK_MD.into(),
    }];
    let engine = common::engine::handbook();
    Indexed {
        engine: Arc::new(engine),
        documents: Arc::new(documents),
        revision,
    }
}

fn ask(
    session: &Session,
    indexed: &Indexed,
    remote: Option<&Rc<OpenAi<Script>>>,
) -> ragtrace::app::ask::Asked {
    ask_with(session, indexed, remote, Local::<HashEmbedder>::Hashed)
}

/// [`ask`] with the page's embedder chosen.
fn ask_with<N: Embedder>(
    session: &Session,
    indexed: &Indexed,
    remote: Option<&Rc<OpenAi<Script>>>,
    local: Local<'_, N>,
) -> ragtrace::app::ask::Asked {
    ask_observed(session, indexed, remote, local, None)
}

/// [`ask_with`], `indexing` hearing any indexing the question waits for.
fn ask_observed<N: Embedder>(
    session: &Session,
    indexed: &Indexed,
    remote: Option<&Rc<OpenAi<Script>>>,
    local: Local<'_, N>,
    indexing: Option<Observer<'_>>,
) -> ragtrace::app::ask::Asked {
    block_on(session.ask(
        indexed,
        remote,
        local,
        Ask {
            question: QUESTION,
            mode: Mode::Rag,
            user: None,
            redaction: Redaction::default(),
            live: None,
            indexing,
        },
    ))
}

fn embedding_requests(client: &OpenAi<Script>) -> usize {
    client
        .transport()
        .requests
        .borrow()
        .iter()
        .filter(|r| r.url.ends_with("/embeddings"))
        .count()
}

#[test]
fn offline_questions_carry_the_session_and_return_their_spans() {
    let session = Session::new("p", "tab-1".into());
    let asked = block_on(session.ask::<Script, HashEmbedder>(
        &indexed(3),
        None,
        Local::Hashed,
        Ask {
            question: QUESTION,
            mode: Mode::Rag,
            user: Some("ana"),
            redaction: Redaction::default(),
            live: None,
            indexing: None,
        },
    ));
    assert!(asked.result.is_ok());
    let root = asked
        .spans
        .iter()
        .find(|s| s.name == "rag_pipeline")
        .unwrap();
    assert!(root
        .attributes
        .iter()
        .any(|kv| kv.key.as_str() == "session.id" && kv.value.as_str() == "tab-1"));
    assert_eq!(attr(root, "user.id").as_deref(), Some("ana"));
    assert!(attr(root, "metadata")
        .unwrap()
        .contains(r#""corpus_revision":3"#));
    assert_eq!(Some(root.span_context.trace_id()), asked.trace_id);
}

#[test]
fn the_remote_index_is_built_once_per_corpus_revision() {
    let session = Session::new("p", "tab".into());
    let remote = client("embed", Script::new(server));
    let corpus = indexed(1);
    let first = ask(&session, &corpus, Some(&remote));
    assert_eq!(
        first.result.unwrap().text,
        "Thirty days [international-work:1]."
    );
    assert!(first.spans.iter().any(|s| s.name == "index_corpus"));
    let corpus_requests = embedding_requests(&remote);
    assert!(corpus_requests >= 2, "corpus and question embedded");

    let second = ask(&session, &corpus, Some(&remote));
    assert!(second.result.is_ok());
    assert!(!second.spans.iter().any(|s| s.name == "index_corpus"));
    // Nothing went to the embeddings endpoint: the corpus index was kept, and the
    // question's vector is cached.
    assert_eq!(embedding_requests(&remote), corpus_requests);

    let reindexed = ask(&session, &indexed(2), Some(&remote));
    assert!(reindexed.spans.iter().any(|s| s.name == "index_corpus"));
}

#[test]
fn with_remote_embeddings_the_page_embedder_stays_idle() {
    let session = Session::new("p", "tab".into());
    let remote = client("embed", Script::new(server));
    let neural = Cached::new(Precomputed::new(MINILM), Counting::new(MINILM, true));
    let corpus = indexed(1);
    let mut indexings = 0;
    for _ in 0..2 {
        let asked = ask_with(&session, &corpus, Some(&remote), Local::Neural(&neural));
        assert!(asked.result.is_ok());
        indexings += asked
            .spans
            .iter()
            .filter(|s| s.name == "index_corpus")
            .count();
    }
    assert_eq!(indexings, 1, "the server's index, once");
    assert_eq!(
        neural.embedder.texts.get(),
        0,
        "the page's embedder was not asked"
    );
}

#[test]
fn indexing_for_a_question_reports_progress_and_stops_without_losing_work() {
    let session = Session::new("p", "tab".into());
    let neural = Cached::new(Precomputed::new(MINILM), Counting::new(MINILM, true));
    let corpus = indexed(1);
    let heard = RefCell::new(Vec::new());
    // Two batches: past the handbook's chunks, into their sentences.
    let stopped_at = 2 * EMBED_BATCH;
    let stop_at = Cell::new(Some(stopped_at));
    let observe = |p: Progress| {
        heard.borrow_mut().push(p);
        if stop_at.get().is_some_and(|at| p.embedded >= at) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let ask = || {
        ask_observed(
            &session,
            &corpus,
            None,
            Local::Neural(&neural),
            Some(&observe),
        )
    };
    let asked = ask();
    let total = heard.borrow()[0].total;
    assert!(corpus.engine.index.len() < stopped_at && stopped_at < total);
    assert_eq!(
        *heard.borrow(),
        [0, EMBED_BATCH, stopped_at].map(|embedded| Progress { embedded, total })
    );
    assert_eq!(
        asked.result.unwrap_err(),
        format!("You stopped indexing the documents for {MINILM}: {stopped_at} of {total} texts were embedded; asking again goes on from there.")
    );
    let indexing = asked
        .spans
        .iter()
        .find(|s| s.name == "index_corpus")
        .expect("the stopped indexing is traced");
    assert!(matches!(indexing.status, Status::Error { .. }));
    let embedded_before = neural.embedder.texts.get();
    assert!(
        embedded_before > EMBED_BATCH && embedded_before <= stopped_at,
        "{embedded_before}"
    );

    // Asked again, the indexing goes on from what the cache kept, to its end.
    heard.borrow_mut().clear();
    stop_at.set(None);
    let asked = ask();
    assert!(asked.result.is_ok(), "{:?}", asked.result);
    let heard = heard.borrow();
    assert_eq!(heard.len(), total.div_ceil(EMBED_BATCH) + 1);
    assert_eq!(
        heard.last(),
        Some(&Progress {
            embedded: total,
            total
        })
    );
    let embedded = neural.embedder.texts.get() - embedded_before;
    assert!(
        embedded <= total - stopped_at + 1,
        "{embedded} texts embedded again, for the {} left and the question",
        total - stopped_at
    );
    // Its span records the first texts only, and says so.
    let indexing = asked
        .spans
        .iter()
        .find(|s| s.name == "index_corpus")
        .unwrap();
    assert_eq!(
        attr(indexing, "output.value").unwrap(),
        format!(
            "{} chunks indexed, {total} texts embedded; the span records the first {MAX_RECORDED_TEXTS}",
            corpus.engine.index.len()
        )
    );
    let embedding = asked
        .spans
        .iter()
        .find(|s| s.parent_span_id == indexing.span_context.span_id())
        .unwrap();
    let texts = embedding
        .attributes
        .iter()
        .filter(|kv| kv.key.as_str().ends_with(".embedding.text"))
        .count();
    assert_eq!(texts, MAX_RECORDED_TEXTS);
}

#[test]
fn a_chat_only_server_answers_while_the_page_embeds() {
    let session = Session::new("p", "tab".into());
    let failing = client("no-embeddings", Script::new(server));
    let asked = ask(&session, &indexed(1), Some(&failing));
    let message = asked.result.unwrap_err();
    assert!(
        message.contains("does not support embeddings") && message.contains("\"local\""),
        "{message}"
    );
    assert!(asked.trace_id.is_none());
    assert!(
        asked.spans.iter().any(|s| s.name == "index_corpus"),
        "the failed indexing is traced"
    );

    let local = client("local", Script::new(server));
    let asked = ask(&session, &indexed(1), Some(&local));
    assert!(asked.result.is_ok());
    assert_eq!(embedding_requests(&local), 0);
    let generation = asked.spans.iter().find(|s| s.name == "generation").unwrap();
    assert!(generation
        .attributes
        .iter()
        .any(|kv| kv.key.as_str() == "llm.model_name" && kv.value.as_str() == "chat"));
}

/// An attribute of `span` as text.
fn attr(span: &opentelemetry_sdk::trace::SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

#[test]
fn llm_spans_name_both_models_the_finish_and_the_cost_when_it_is_known() {
    let session = Session::new("p", "tab".into());
    let priced = client_of("gpt-4.1-mini", "local", Script::new(server));
    let asked = ask(&session, &indexed(1), Some(&priced));
    let llm = asked.spans.iter().find(|s| s.name == "generation").unwrap();
    assert_eq!(
        attr(llm, "llm.request.model_name").as_deref(),
        Some("gpt-4.1-mini")
    );
    assert_eq!(
        attr(llm, "llm.response.model_name").as_deref(),
        Some("gpt-4.1-mini-2025-04-14")
    );
    assert_eq!(attr(llm, "llm.finish_reason").as_deref(), Some("stop"));
    // 1,000 prompt tokens at $0.40/M and 100 completion tokens at $1.60/M.
    let cost = |k| attr(llm, k).unwrap().parse::<f64>().unwrap();
    assert!((cost("llm.cost.prompt") - 0.0004).abs() < 1e-12);
    assert!((cost("llm.cost.completion") - 0.00016).abs() < 1e-12);
    assert!((cost("llm.cost.total") - 0.00056).abs() < 1e-12);

    // A model with no known price: unknown, not zero.
    let unpriced = Script::new(|r| {
        let answer = server(r);
        match answer {
            Answer::Http(s, h, chunks) => Answer::Http(
                s,
                h,
                chunks
                    .into_iter()
                    .map(|c| {
                        String::from_utf8(c)
                            .unwrap()
                            .replace("gpt-4.1-mini-2025-04-14", "my-llama")
                            .into_bytes()
                    })
                    .collect(),
            ),
            other => other,
        }
    });
    let asked = ask(
        &session,
        &indexed(1),
        Some(&client_of("my-llama", "local", unpriced)),
    );
    let llm = asked.spans.iter().find(|s| s.name == "generation").unwrap();
    assert!(attr(llm, "llm.cost.total").is_none());
    assert_eq!(attr(llm, "llm.token_count.total").as_deref(), Some("1100"));
}

/// A server whose model calls tools: `retrieve` with the question first, then `finish`.
fn tool_server(request: &Request) -> Answer {
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    if request.url.ends_with("/embeddings") || body["tools"].is_null() {
        return server(request);
    }
    let answered = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["role"] == "tool");
    let (id, name, args) = if answered {
        (
            "call_2",
            "finish",
            r#"{\"answer\":\"Thirty days [international-work:1].\"}"#,
        )
    } else {
        (
            "call_1",
            "retrieve",
            r#"{\"query\":\"international work limit\"}"#,
        )
    };
    let first = format!(
        "data: {{\"choices\":[{{\"delta\":{{\"tool_calls\":[{{\"index\":0,\"id\":\"{id}\",\"function\":{{\"name\":\"{name}\",\"arguments\":\"{args}\"}}}}]}}}}]}}\n\n"
    );
    Answer::chunks(200, &[&first, "data: [DONE]\n\n"])
}

#[test]
fn the_agent_calls_its_tools_through_the_api_and_answers_each_call_by_its_id() {
    let session = Session::new("p", "tab".into());
    let remote = client("local", Script::new(tool_server));
    let asked = block_on(session.ask(
        &indexed(1),
        Some(&remote),
        Local::<HashEmbedder>::Hashed,
        Ask {
            question: QUESTION,
            mode: Mode::Agent,
            user: None,
            redaction: Redaction::default(),
            live: None,
            indexing: None,
        },
    ));
    assert_eq!(
        asked.result.unwrap().text,
        "Thirty days [international-work:1]."
    );
    let named = |n: &str| {
        asked
            .spans
            .iter()
            .filter(|s| s.name == n)
            .collect::<Vec<_>>()
    };
    assert_eq!(named("agent_step").len(), 2);
    assert_eq!(
        attr(named("retrieve")[0], "tool.id").as_deref(),
        Some("call_1")
    );
    assert_eq!(
        attr(named("finish")[0], "tool.id").as_deref(),
        Some("call_2")
    );
    let first_llm = named("generation")
        .into_iter()
        .min_by_key(|s| s.start_time)
        .unwrap();
    assert!(attr(first_llm, "llm.tools.0.tool.json_schema")
        .unwrap()
        .contains("\"retrieve\""));
    assert_eq!(
        attr(
            first_llm,
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.name"
        )
        .as_deref(),
        Some("retrieve")
    );
    // The second call read the first's result, sent back as a tool message by its id.
    let requests = remote.transport().requests.borrow();
    let chats: Vec<serde_json::Value> = requests
        .iter()
        .filter(|r| r.url.ends_with("/chat/completions"))
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    let last = chats[1]["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (last["role"].as_str(), last["tool_call_id"].as_str()),
        (Some("tool"), Some("call_1"))
    );
}

#[test]
fn offline_with_minilm_answers_by_meaning_and_traces_only_real_indexing() {
    let known = std::fs::read(common::minilm::dir().join(common::minilm::HANDBOOK_VECTORS))
        .expect("setup wrote the handbook vectors");
    let cached = Cached::new(
        Precomputed::decode(&known).unwrap(),
        common::minilm::NativeMiniLm::load(),
    );
    let shipped = cached.len();
    let session = Session::new("p", "tab".into());
    let ask = |indexed: &Indexed, question: &'static str| {
        block_on(session.ask::<Script, _>(
            indexed,
            None,
            Local::Neural(&cached),
            Ask {
                question,
                mode: Mode::Rag,
                user: None,
                redaction: Redaction::default(),
                live: None,
                indexing: None,
            },
        ))
    };
    let value = |spans: &[SpanData], name: &str, key: &str| -> Vec<String> {
        spans
            .iter()
            .filter(|s| s.name == name)
            .flat_map(|s| s.attributes.iter())
            .filter(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.to_string())
            .collect()
    };
    // The handbook's vectors ship with the page: nothing to index, nothing traced.
    let first = ask(&indexed(1), "What is the international work limit?");
    let answer = first.result.expect("answered");
    assert!(answer.text.contains("30 working days"), "{}", answer.text);
    assert!(first.spans.iter().all(|s| s.name != "index_corpus"));
    assert_eq!(
        value(&first.spans, "CreateEmbeddings", "embedding.model_name"),
        [MINILM]
    );
    assert!(value(&first.spans, "generation", "llm.invocation_parameters")[0].contains(MINILM));
    // Only the question and the sentences the answerer read that were new were embedded.
    assert!(
        cached.len() - shipped < 5,
        "{} new vectors",
        cached.len() - shipped
    );

    // A document of the user's own is embedded by the model: that indexing is a trace.
    let notes = "# Team notes\n## Parking {#parking}\nThe bicycle cellar opens at 6:30 and the \
                 visitor parking code is 4417.\n";
    let documents = vec![
        Document {
            name: "handbook.md".into(),
            text: HANDBOOK_MD.into(),
        },
        Document {
            name: "notes.md".into(),
            text: notes.into(),
        },
    ];
    let pairs: Vec<(&str, &str)> = documents
        .iter()
        .map(|d| (d.name.as_str(), d.text.as_str()))
        .collect();
    let with_notes = Indexed {
        engine: Arc::new(block_on(Engine::build(&pairs, &HashEmbedder)).unwrap()),
        documents: Arc::new(documents.clone()),
        revision: 2,
    };
    let asked = ask(&with_notes, "What is the code for visitor parking?");
    assert!(asked.result.unwrap().text.contains("4417"));
    let roots: Vec<&str> = asked
        .spans
        .iter()
        .filter(|s| s.parent_span_id == opentelemetry::trace::SpanId::INVALID)
        .map(|s| s.name.as_ref())
        .collect();
    assert_eq!(roots, ["index_corpus", "rag_pipeline"]);
    assert_eq!(
        value(&asked.spans, "CreateEmbeddings", "embedding.model_name"),
        [MINILM, MINILM],
        "the corpus and the question"
    );
    let again = ask(&with_notes, "How far ahead must I request working abroad?");
    assert!(again.spans.iter().all(|s| s.name != "index_corpus"));
}
