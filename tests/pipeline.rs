//! The traced pipeline and agent, run natively against the SDK's in-memory exporter:
//! the span tree, its OpenInference attributes, answers, and error spans.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use opentelemetry::trace::{SpanId, Status, TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use pollster::block_on;
use ragtrace::rag::engine::Engine;
use ragtrace::rag::eval::parse_queries;
use ragtrace::rag::pipeline::{ask, AskError, AskOptions, Mode, Models, Outcome};
use ragtrace::telemetry::names::SpanName;
use ragtrace::telemetry::semconv::{SpanKind, StatusCode};
use ragtrace::QUERIES_JSONL;

struct Run {
    outcome: Outcome,
    spans: Vec<SpanData>,
}

fn run(engine: &Engine, question: &str, mode: Mode) -> Run {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let tracer = provider.tracer("test");
    let models = Models::offline();
    let opts = AskOptions {
        mode,
        ..Default::default()
    };
    let outcome = block_on(ask(engine, models, &tracer, question, opts));
    Run {
        outcome,
        spans: exporter.get_finished_spans().unwrap(),
    }
}

const SEED: &str = "What is the maximum number of days an employee can work internationally?";

use common::engine::handbook as engine;

fn attr(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

fn named<'a>(spans: &'a [SpanData], name: &str) -> Vec<&'a SpanData> {
    spans.iter().filter(|s| s.name == name).collect()
}

fn parent_of<'a>(spans: &'a [SpanData], s: &SpanData) -> Option<&'a SpanData> {
    spans
        .iter()
        .find(|p| p.span_context.span_id() == s.parent_span_id)
}

#[test]
fn rag_question_builds_the_documented_span_tree() {
    let engine = engine();
    let q = "What is the maximum number of days an employee can work internationally?";
    let Run { outcome, spans } = run(&engine, q, Mode::Rag);
    let answer = outcome.result.expect("answered");
    assert!(answer.text.contains("30 working days"), "{}", answer.text);
    assert!(!answer.cited.is_empty());

    let names: Vec<&str> = spans.iter().map(|s| s.name.as_ref()).collect();
    assert_eq!(spans.len(), 6, "{names:?}");
    let root = named(&spans, "rag_pipeline")[0];
    let retrieval = named(&spans, "retrieval")[0];
    let embedding = named(&spans, "CreateEmbeddings")[0];
    let rerank = named(&spans, "rerank")[0];
    let prompt = named(&spans, "prompt")[0];
    let generation = named(&spans, "generation")[0];
    assert_eq!(root.parent_span_id, SpanId::INVALID);
    assert_eq!(parent_of(&spans, retrieval).unwrap().name, "rag_pipeline");
    assert_eq!(parent_of(&spans, embedding).unwrap().name, "retrieval");
    assert_eq!(parent_of(&spans, rerank).unwrap().name, "retrieval");
    assert_eq!(parent_of(&spans, prompt).unwrap().name, "rag_pipeline");
    assert_eq!(parent_of(&spans, generation).unwrap().name, "rag_pipeline");
    assert!(spans
        .iter()
        .all(|s| s.span_context.trace_id() == outcome.trace_id));
    assert!(spans
        .iter()
        .all(|s| s.status == Status::Ok && s.end_time >= s.start_time));

    for (span, kind) in [
        (root, "CHAIN"),
        (retrieval, "RETRIEVER"),
        (embedding, "EMBEDDING"),
        (rerank, "RERANKER"),
        (prompt, "PROMPT"),
        (generation, "LLM"),
    ] {
        assert_eq!(attr(span, "openinference.span.kind").as_deref(), Some(kind));
    }
    assert_eq!(attr(root, "input.value").as_deref(), Some(q));
    assert_eq!(
        attr(root, "metadata").as_deref(),
        Some(r#"{"corpus_revision":null,"mode":"rag","search":"hybrid","top_k":5}"#)
    );
    assert_eq!(attr(root, "tag.tags").as_deref(), Some(r#"["rag"]"#));

    // The prompt: the template, its variables, and what they render to.
    assert_eq!(
        attr(prompt, "llm.prompt_template.template").as_deref(),
        Some("Context:\n{context}\n\nQuestion: {question}")
    );
    let variables: serde_json::Value =
        serde_json::from_str(&attr(prompt, "llm.prompt_template.variables").unwrap()).unwrap();
    assert_eq!(variables["question"], q);
    assert!(variables["context"]
        .as_str()
        .unwrap()
        .contains("[international-work:"));
    assert_eq!(
        attr(prompt, "llm.prompt_template.version").as_deref(),
        Some("rag-1")
    );
    assert!(attr(prompt, "output.value")
        .unwrap()
        .ends_with(&format!("Question: {q}")));
    assert_eq!(attr(root, "output.value"), Some(answer.text.clone()));

    assert_eq!(attr(retrieval, "retrieval.query").as_deref(), Some(q));
    assert_eq!(attr(retrieval, "retrieval.top_k").as_deref(), Some("5"));
    // The reranker's 5, and the rest of the list one of them starts (the seed
    // question's "annual limit" goes on into the next chunk).
    let count: usize = attr(retrieval, "retrieval.result_count")
        .unwrap()
        .parse()
        .unwrap();
    assert!(count > 5);
    let doc = |i: usize, f: &str| attr(retrieval, &format!("retrieval.documents.{i}.document.{f}"));
    assert!(doc(count - 1, "id").is_some() && doc(count, "id").is_none());
    let top: f64 = attr(retrieval, "retrieval.top_score")
        .unwrap()
        .parse()
        .unwrap();
    assert!(top > 0.0);
    assert!(attr(retrieval, "retrieval.documents.0.document.id")
        .unwrap()
        .starts_with("international-work:"));
    assert!(attr(retrieval, "retrieval.documents.4.document.content").is_some());
    let metadata: serde_json::Value =
        serde_json::from_str(&attr(retrieval, "retrieval.documents.0.document.metadata").unwrap())
            .unwrap();
    assert_eq!(metadata["document"], "handbook");
    assert!(metadata["section"].as_str().is_some_and(|s| !s.is_empty()));
    // The offsets cut the chunk's sentences out of its section of the handbook.
    let sections =
        ragtrace::rag::corpus::parse_markdown("handbook", ragtrace::HANDBOOK_MD).unwrap();
    let section = sections
        .iter()
        .find(|s| s.id == metadata["section_id"])
        .expect("the section named in the metadata");
    let start = metadata["start_char"].as_u64().unwrap() as usize;
    let end = metadata["end_char"].as_u64().unwrap() as usize;
    let original: String = section.text.chars().skip(start).take(end - start).collect();
    let content = attr(retrieval, "retrieval.documents.0.document.content").unwrap();
    let last_sentence = content.rsplit(". ").next().unwrap();
    assert!(
        original.ends_with(last_sentence),
        "{original:?} vs {content:?}"
    );
    assert_eq!(
        original.split_whitespace().next(),
        content.split_whitespace().next()
    );
    assert_eq!(
        attr(retrieval, "retrieval.documents.0.document.score"),
        Some(top.to_string())
    );
    // The ranking is also the span's JSON output, which viewers pretty-print.
    assert_eq!(
        attr(retrieval, "output.mime_type").as_deref(),
        Some("application/json")
    );
    let ranking: serde_json::Value =
        serde_json::from_str(&attr(retrieval, "output.value").unwrap()).unwrap();
    assert_eq!(ranking.as_array().unwrap().len(), count);
    assert_eq!(
        ranking[0]["id"].as_str(),
        attr(retrieval, "retrieval.documents.0.document.id").as_deref()
    );

    // The reranker: 20 candidates in, the retrieval's 5 out, each with why it won.
    assert_eq!(attr(rerank, "reranker.query").as_deref(), Some(q));
    assert_eq!(attr(rerank, "reranker.top_k").as_deref(), Some("5"));
    assert_eq!(
        attr(rerank, "reranker.model_name").as_deref(),
        Some("ragtrace-hybrid-reranker (local)")
    );
    assert!(attr(rerank, "reranker.input_documents.19.document.id").is_some());
    assert!(attr(rerank, "reranker.input_documents.20.document.id").is_none());
    // The reranker's output, in order, among the retrieval's documents; what was added
    // says which chunk's list it carries on.
    let mut kept_at = 0;
    for i in 0..count {
        let metadata: serde_json::Value =
            serde_json::from_str(&doc(i, "metadata").unwrap()).unwrap();
        let out = |f: &str| {
            attr(
                rerank,
                &format!("reranker.output_documents.{kept_at}.document.{f}"),
            )
        };
        if out("id") != doc(i, "id") {
            let continued = metadata["continues"].as_str().unwrap();
            assert_eq!(doc(i - 1, "id").as_deref(), Some(continued));
            continue;
        }
        assert_eq!(out("score"), doc(i, "score"));
        assert!(metadata.get("continues").is_none());
        let why: serde_json::Value = serde_json::from_str(&out("metadata").unwrap()).unwrap();
        for part in ["similarity", "bm25", "heading"] {
            assert!((0.0..=1.0).contains(&why[part].as_f64().unwrap()), "{why}");
        }
        // The offline embedder runs in the page: the query met every sentence.
        assert!((-1.0..=1.0).contains(&why["closest_sentence_cosine"].as_f64().unwrap()));
        assert!(why["candidate_rank"]
            .as_u64()
            .is_some_and(|r| (1..=20).contains(&r)));
        kept_at += 1;
    }
    assert_eq!(kept_at, 5);
    assert!(attr(rerank, "reranker.output_documents.5.document.id").is_none());

    assert_eq!(
        attr(embedding, "embedding.model_name").as_deref(),
        Some("ragtrace-hash-ngram-1024 (local)")
    );
    assert_eq!(
        attr(embedding, "embedding.embeddings.0.embedding.text").as_deref(),
        Some(q)
    );

    assert_eq!(
        attr(generation, "llm.model_name").as_deref(),
        Some("extractive-answerer (local)")
    );
    assert_eq!(attr(generation, "generation.question").as_deref(), Some(q));
    assert_eq!(
        attr(generation, "generation.model").as_deref(),
        Some("extractive-answerer (local)")
    );
    assert_eq!(
        attr(generation, "generation.context_chunk_count"),
        Some(count.to_string())
    );
    let words: usize = attr(generation, "generation.answer_word_count")
        .unwrap()
        .parse()
        .unwrap();
    assert!(words > 3);
    assert_eq!(
        attr(generation, "llm.input_messages.0.message.role").as_deref(),
        Some("system")
    );
    assert_eq!(
        attr(generation, "llm.input_messages.1.message.role").as_deref(),
        Some("user")
    );
    assert!(attr(generation, "llm.input_messages.1.message.content")
        .unwrap()
        .contains(q));
    assert_eq!(
        attr(generation, "llm.output_messages.0.message.role").as_deref(),
        Some("assistant")
    );
    assert_eq!(
        attr(generation, "llm.output_messages.0.message.content"),
        Some(answer.text)
    );
    let count = |k: &str| attr(generation, k).unwrap().parse::<u64>().unwrap();
    assert_eq!(
        count("llm.token_count.total"),
        count("llm.token_count.prompt") + count("llm.token_count.completion")
    );
    assert!(count("llm.token_count.completion") > 0);
}

#[test]
fn agent_question_records_steps_with_tool_children() {
    let engine = engine();
    let q = "What happens if an employee works internationally beyond the allowed limit?";
    let Run { outcome, spans } = run(&engine, q, Mode::Agent);
    let answer = outcome.result.expect("answered");
    assert!(!answer.cited.is_empty(), "{}", answer.text);

    let root = named(&spans, "agent_run")[0];
    assert_eq!(
        attr(root, "openinference.span.kind").as_deref(),
        Some("AGENT")
    );
    let steps = named(&spans, "agent_step");
    assert!(steps.len() >= 2, "retrieve then finish");
    for (i, step) in steps.iter().enumerate() {
        assert_eq!(
            attr(step, "openinference.span.kind").as_deref(),
            Some("CHAIN")
        );
        assert_eq!(parent_of(&spans, step).unwrap().name, "agent_run");
        assert_eq!(attr(step, "agent.step_number"), Some((i + 1).to_string()));
        assert!(!attr(step, "agent.thought").unwrap().is_empty());
        let action = attr(step, "agent.action").unwrap();
        assert!(
            attr(step, "agent.action_input").is_some()
                && attr(step, "agent.observation_length").is_some()
        );
        let children: Vec<&SpanData> = spans
            .iter()
            .filter(|s| s.parent_span_id == step.span_context.span_id())
            .collect();
        let tool = children
            .iter()
            .find(|c| attr(c, "openinference.span.kind").as_deref() == Some("TOOL"))
            .unwrap();
        assert_eq!(attr(tool, "tool.name"), Some(action.clone()));
        assert!(children.iter().any(|c| c.name == "generation"));
        if action == "retrieve" {
            let r = spans
                .iter()
                .find(|s| s.parent_span_id == tool.span_context.span_id())
                .unwrap();
            assert_eq!(r.name, "retrieval");
        }
    }
    assert_eq!(
        attr(steps.last().unwrap(), "agent.action").as_deref(),
        Some("finish")
    );
    assert_eq!(attr(steps[0], "agent.action").as_deref(), Some("retrieve"));
}

#[test]
fn empty_and_huge_questions_end_in_error_spans() {
    let engine = engine();
    for (q, expected) in [
        ("   ", AskError::EmptyQuestion),
        (
            &*"why ".repeat(600),
            AskError::TooLong {
                chars: 2399,
                max: 2000,
            },
        ),
    ] {
        for mode in [Mode::Rag, Mode::Agent] {
            let Run { outcome, spans } = run(&engine, q, mode);
            assert_eq!(outcome.result.unwrap_err(), expected);
            assert_eq!(spans.len(), 1);
            let root = &spans[0];
            assert!(
                matches!(&root.status, Status::Error { description } if description.contains("question"))
            );
            let event = root
                .events
                .iter()
                .find(|e| e.name == "exception")
                .expect("exception event");
            let ev = |k: &str| {
                event
                    .attributes
                    .iter()
                    .find(|kv| kv.key.as_str() == k)
                    .map(|kv| kv.value.to_string())
            };
            assert!(ev("exception.type").unwrap().ends_with("AskError"));
            assert_eq!(ev("exception.message"), Some(expected.to_string()));
            assert!(ev("exception.stacktrace")
                .unwrap()
                .contains(&expected.to_string()));
        }
    }
}

#[test]
fn extractive_answers_state_the_expected_fact() {
    let engine = engine();
    let queries = parse_queries(QUERIES_JSONL).unwrap();
    let mut correct = 0;
    for q in &queries {
        let text = run(&engine, &q.question, Mode::Rag)
            .outcome
            .result
            .unwrap()
            .text;
        if text.contains(&q.fact) {
            correct += 1;
        }
    }
    let share = correct as f64 / queries.len() as f64;
    println!(
        "extractive answers containing the expected fact: {correct}/{} ({share:.2})",
        queries.len()
    );
    assert!(share >= 0.6, "{share}");
}

#[test]
fn off_topic_question_is_not_found() {
    let engine = engine();
    let text = run(
        &engine,
        "Who won the football world cup in 1966?",
        Mode::Rag,
    )
    .outcome
    .result
    .unwrap()
    .text;
    assert!(text.starts_with("Not found in the handbook"), "{text}");
}

#[test]
fn benchmark_rows_and_summary_come_from_the_traces() {
    use ragtrace::explorer::bench::{BenchRow, BenchSummary};
    use ragtrace::explorer::store::TraceStore;
    let engine = engine();
    let queries = parse_queries(QUERIES_JSONL).unwrap();
    let mut rows = Vec::new();
    for q in &queries[..5] {
        let Run { outcome, spans } = run(&engine, &q.question, Mode::Rag);
        let mut store = TraceStore::default();
        store.add(spans);
        rows.push(BenchRow::from_trace(
            q,
            store.get(outcome.trace_id).unwrap(),
        ));
    }
    for r in &rows {
        assert!(
            r.ok && r.result_count >= 5 && r.top_score > 0.0 && r.answer_words > 0,
            "{r:?}"
        );
        assert!(
            r.retrieval_ms > 0.0
                && r.generation_ms > 0.0
                && r.total_ms >= r.retrieval_ms + r.generation_ms
        );
    }
    assert_eq!(rows[0].rank, Some(1), "{:?}", rows[0]);
    let s = BenchSummary::of(&rows);
    assert!(s.metrics.hit_at_5 >= 0.8 && s.metrics.mrr > 0.5, "{s:?}");
    assert!(s.p50_ms > 0.0 && s.p95_ms >= s.p50_ms);
    // The offline model costs nothing to know of; priced and unpriced calls add up.
    assert_eq!(s.cost.label(), None);
    use ragtrace::explorer::cost::Spend;
    rows[0].cost = Spend {
        usd: 0.5,
        priced: 1,
        unpriced: 0,
    };
    rows[1].cost = Spend {
        usd: 0.25,
        priced: 1,
        unpriced: 1,
    };
    assert_eq!(
        BenchSummary::of(&rows).cost.label().as_deref(),
        Some("$0.7500 + 1 call without a price")
    );
}

#[test]
fn error_path_demo_records_an_ok_empty_query_and_a_failing_retriever() {
    let engine = engine();
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    block_on(ragtrace::rag::demo::error_paths(
        &engine,
        &provider.tracer("t"),
    ));
    let spans = exporter.get_finished_spans().unwrap();
    let empty = named(&spans, "retrieval")[0];
    assert_eq!(empty.status, Status::Ok);
    assert_eq!(attr(empty, "retrieval.result_count").as_deref(), Some("0"));
    let failed = named(&spans, "retrieval_error_example")[0];
    assert!(
        matches!(&failed.status, Status::Error { description } if description.contains("index unavailable"))
    );
    assert_eq!(
        failed
            .events
            .iter()
            .filter(|e| e.name == "exception")
            .count(),
        1
    );
}

#[test]
fn trace_filters_pick_by_text_status_and_kind() {
    use ragtrace::explorer::store::{TraceFilter, TraceStore};
    let engine = engine();
    let mut store = TraceStore::default();
    for (q, mode) in [
        (SEED, Mode::Rag),
        ("", Mode::Rag),
        (
            "What are the requirements for a Global Mobility case?",
            Mode::Agent,
        ),
    ] {
        store.add(run(&engine, q, mode).spans);
    }
    let shown = |f: TraceFilter| store.traces.iter().filter(|t| t.matches(&f)).count();
    assert_eq!(shown(TraceFilter::default()), 3);
    assert_eq!(
        shown(TraceFilter {
            text: "global MOBILITY".into(),
            ..Default::default()
        }),
        1
    );
    assert_eq!(
        shown(TraceFilter {
            errors: Some(true),
            ..Default::default()
        }),
        1
    );
    assert_eq!(
        shown(TraceFilter {
            errors: Some(false),
            root: Some(SpanName::RagPipeline),
            ..Default::default()
        }),
        1
    );
    assert_eq!(
        shown(TraceFilter {
            root: Some(SpanName::AgentRun),
            ..Default::default()
        }),
        1
    );
    let id = store.traces[0].trace_id;
    store.remove(id);
    assert!(store.get(id).is_none() && store.traces.len() == 2);
}

#[test]
fn span_rows_read_conversations_and_documents() {
    use ragtrace::explorer::store::TraceStore;
    let engine = engine();
    let Run { outcome, spans } = run(&engine, SEED, Mode::Rag);
    let mut store = TraceStore::default();
    store.add(spans);
    let rows = store.get(outcome.trace_id).unwrap().rows();
    let generation = rows.iter().find(|r| r.name == "generation").unwrap();
    let input = generation.messages("llm.input_messages");
    assert_eq!(
        input.iter().map(|(r, _)| r.as_str()).collect::<Vec<_>>(),
        ["system", "user"]
    );
    assert!(input[1].1.contains(SEED));
    assert_eq!(generation.messages("llm.output_messages")[0].0, "assistant");
    let retrieval = rows.iter().find(|r| r.name == "retrieval").unwrap();
    let docs = retrieval.documents();
    assert!(docs.len() >= 5);
    assert!(docs[0].id.starts_with("international-work:") && !docs[0].content.is_empty());
    assert!(docs[0].score.unwrap() >= docs[4].score.unwrap());
    // What retrieval added to carry a list on says whose list, and follows it.
    for (before, d) in docs.iter().zip(&docs[1..]) {
        if let Some(of) = &d.continues {
            assert_eq!(before.id, *of, "{docs:?}");
        }
    }
}

/// A score another producer wrote as text still reads as a number; one that is not a
/// finite number, or is missing, leaves the document without a score (the details and
/// the comparison then show none) rather than showing its text.
#[test]
fn a_document_score_is_a_finite_number_or_none() {
    use opentelemetry::KeyValue;
    use ragtrace::explorer::store::TraceStore;
    use ragtrace::telemetry::semconv::retrieval_document;
    let doc = |i: usize, field: &str, value: opentelemetry::Value| {
        KeyValue::new(retrieval_document(i, field), value)
    };
    let mut store = TraceStore::default();
    store.add(common::spans::one(
        "retrieval",
        vec![
            KeyValue::new("openinference.span.kind", "RETRIEVER"),
            doc(0, "id", "a".into()),
            doc(0, "score", 0.75.into()),
            doc(1, "id", "b".into()),
            doc(1, "score", "0.5".into()),
            doc(2, "id", "c".into()),
            doc(2, "score", 3i64.into()),
            doc(3, "id", "d".into()),
            doc(3, "score", "NaN".into()),
            doc(4, "id", "e".into()),
            doc(4, "score", "high".into()),
            doc(5, "id", "f".into()),
        ],
    ));
    let docs = store.traces[0].rows()[0].documents();
    let scores: Vec<(&str, Option<f64>)> = docs.iter().map(|d| (d.id.as_str(), d.score)).collect();
    assert_eq!(
        scores,
        [
            ("a", Some(0.75)),
            ("b", Some(0.5)),
            ("c", Some(3.0)),
            ("d", None),
            ("e", None),
            ("f", None)
        ]
    );
}

#[test]
fn the_spans_table_filters_and_sorts_across_traces() {
    use ragtrace::explorer::query::{SortKey, SpanQuery};
    use ragtrace::explorer::store::TraceStore;
    let engine = engine();
    let mut store = TraceStore::default();
    let rag = run(&engine, "How much is the learning budget?", Mode::Rag);
    let agent = run(&engine, "How much is the learning budget?", Mode::Agent);
    let total = rag.spans.len() + agent.spans.len();
    store.add(rag.spans);
    store.add(agent.spans);
    let find = |q: SpanQuery| store.find_spans(&q).unwrap();

    let all = find(SpanQuery::default());
    assert_eq!(all.len(), total);
    assert_eq!(
        all[0].trace_id, agent.outcome.trace_id,
        "newest trace first"
    );
    assert_eq!(all[0].row.name, "agent_run");
    let one = find(SpanQuery {
        trace_id: Some(rag.outcome.trace_id),
        ..Default::default()
    });
    let names: Vec<&str> = one.iter().map(|f| f.row.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "rag_pipeline",
            "retrieval",
            "CreateEmbeddings",
            "rerank",
            "prompt",
            "generation"
        ]
    );

    let llm = find(SpanQuery {
        kind: Some(SpanKind::Llm),
        ..Default::default()
    });
    assert!(llm.len() >= 2 && llm.iter().all(|f| f.row.kind == Some(SpanKind::Llm)));
    let tools = find(SpanQuery {
        attribute: "openinference.span.kind = TOOL".into(),
        ..Default::default()
    });
    assert!(!tools.is_empty() && tools.iter().all(|f| f.row.kind == Some(SpanKind::Tool)));
    let named = find(SpanQuery {
        name: "RETRIEVAL".into(),
        ..Default::default()
    });
    assert!(named.len() >= 2 && named.iter().all(|f| f.row.name == "retrieval"));
    assert!(find(SpanQuery {
        status: Some(StatusCode::Error),
        ..Default::default()
    })
    .is_empty());

    let slowest = find(SpanQuery {
        sort: SortKey::Duration,
        descending: true,
        ..Default::default()
    });
    assert!(slowest
        .windows(2)
        .all(|w| w[0].row.duration_ms >= w[1].row.duration_ms));
    assert!(store
        .find_spans(&SpanQuery {
            attribute: "=LLM".into(),
            ..Default::default()
        })
        .unwrap_err()
        .to_string()
        .contains("needs a key"));
}
