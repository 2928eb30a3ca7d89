//! How often the page's offline answers are right: for both question sets (the bundled
//! `queries.jsonl` and the people-phrased `questions.jsonl`), each local embedder
//! (hashed n-grams, all-MiniLM-L6-v2) and each mode (RAG, Agent), the retrieval's
//! hit@1/3/5 and MRR and the share of answers that contain the expected fact.
//! `cargo test --test answers -- --nocapture` prints the table. Issue 12 aims at the
//! fact in 90 % of MiniLM's answers and every tutorial question right; the floors
//! asserted are what this build reaches, so a change that loses answers fails. Off-topic
//! questions must get "Not found", and every real question must stay above MiniLM's
//! relatedness floor (`MINILM_UNRELATED_BELOW`).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::minilm::{dir, NativeMiniLm, HANDBOOK_VECTORS};
use pollster::block_on;
use ragtrace::model::Embedder;
use ragtrace::rag::embed::{HashEmbedder, MINILM_UNRELATED_BELOW};
use ragtrace::rag::engine::Engine;
use ragtrace::rag::eval::{fact_in, parse_queries, rank_of, Metrics, Query};
use ragtrace::rag::offline::OfflineChat;
use ragtrace::rag::pipeline::{self, AskOptions, Mode, Models};
use ragtrace::rag::vectors::{Cached, Precomputed};
use ragtrace::telemetry::provider::Telemetry;
use ragtrace::telemetry::redact::Redaction;
use ragtrace::{HANDBOOK_MD, QUERIES_JSONL, QUESTIONS_JSONL};

/// The tutorial's questions (its first query and its agent's), and their facts.
const TUTORIAL: [(&str, &str); 4] = [
    ("What is the international work limit?", "30 working days"),
    (
        "What happens if I exceed the international work limit?",
        "Access to company systems is suspended",
    ),
    (
        "What is the policy for working remotely from another country?",
        "international work request",
    ),
    (
        "What are the requirements for a Global Mobility case?",
        "at least 6 weeks before the intended start date",
    ),
];

/// Questions the handbook does not answer: the page must say so, in both modes, rather
/// than finish on an off-topic passage.
const OFF_TOPIC: [&str; 6] = [
    "What colour is the office cat?",
    "Who won the football world cup in 2018?",
    "How do I bake sourdough bread at home?",
    "What is the capital of Australia?",
    "Can you recommend a good science fiction novel?",
    "How many moons does Jupiter have?",
];

struct Row {
    metrics: Metrics,
    facts: f64,
    /// The lowest, over the questions, of the best retrieved chunk's similarity.
    weakest_best: f32,
}

/// Asks every question in `mode`, offline, and grades retrieval and answer.
fn grade<E: Embedder>(engine: &Engine, embedder: &E, queries: &[Query], mode: Mode) -> Row {
    let telemetry = Telemetry::new("answers");
    let mut ranks = Vec::new();
    let mut right = 0;
    let mut weakest_best = f32::MAX;
    for q in queries {
        let query_vec = block_on(embedder.embed(std::slice::from_ref(&q.question))).unwrap();
        let hits =
            block_on(engine.retrieve(embedder, &q.question, &query_vec[0], AskOptions::default()))
                .unwrap();
        ranks.push(rank_of(engine, &hits, &q.section_id));
        let best = hits.iter().map(|h| h.similarity).fold(0.0, f32::max);
        weakest_best = weakest_best.min(best);
        let models = Models {
            chat: &OfflineChat {
                sentences: embedder,
            },
            embedder,
            live: None,
        };
        let opts = AskOptions {
            mode,
            ..Default::default()
        };
        let outcome = block_on(pipeline::ask(
            engine,
            models,
            &telemetry.tracer,
            &q.question,
            opts,
        ));
        let answer = outcome.result.map(|a| a.text).unwrap_or_default();
        if fact_in(&answer, &q.fact) {
            right += 1;
        } else if std::env::var_os("RAGTRACE_SHOW_MISSES").is_some() {
            println!(
                "  miss {} {} {:?} → {answer:.200}",
                embedder.model_name(),
                q.id,
                q.question
            );
        }
        telemetry.take_finished(&Redaction::default());
    }
    Row {
        metrics: Metrics::from_ranks(&ranks),
        facts: right as f64 / queries.len() as f64,
        weakest_best,
    }
}

/// MiniLM behind a cache holding the shipped handbook vectors, as the page has it.
fn cached_minilm() -> Cached<NativeMiniLm> {
    let bytes = std::fs::read(dir().join(HANDBOOK_VECTORS)).expect("setup wrote the vectors");
    Cached::new(Precomputed::decode(&bytes).unwrap(), NativeMiniLm::load())
}

fn tutorial() -> Vec<Query> {
    TUTORIAL
        .iter()
        .enumerate()
        .map(|(i, (question, fact))| Query {
            id: format!("t{}", i + 1),
            question: question.to_string(),
            section_id: if i == 3 {
                "global-mobility"
            } else {
                "international-work"
            }
            .into(),
            fact: fact.to_string(),
        })
        .collect()
}

#[test]
fn off_topic_questions_are_not_answered() {
    let minilm = cached_minilm();
    let hashed_engine = common::engine::handbook();
    let minilm_engine = block_on(Engine::build(&[("handbook", HANDBOOK_MD)], &minilm)).unwrap();
    let telemetry = Telemetry::new("off-topic");
    let mut wrong = Vec::new();
    for question in OFF_TOPIC {
        for mode in [Mode::Rag, Mode::Agent] {
            let opts = AskOptions {
                mode,
                ..Default::default()
            };
            let hashed = Models {
                chat: &OfflineChat {
                    sentences: HashEmbedder,
                },
                embedder: &HashEmbedder,
                live: None,
            };
            let neural = Models {
                chat: &OfflineChat { sentences: &minilm },
                embedder: &minilm,
                live: None,
            };
            let tracer = &telemetry.tracer;
            let answers = [
                block_on(pipeline::ask(
                    &hashed_engine,
                    hashed,
                    tracer,
                    question,
                    opts,
                )),
                block_on(pipeline::ask(
                    &minilm_engine,
                    neural,
                    tracer,
                    question,
                    opts,
                )),
            ];
            for (embedder, outcome) in ["hashed", "MiniLM"].iter().zip(answers) {
                let text = outcome.result.map(|a| a.text).unwrap_or_default();
                if !text.starts_with("Not found in the handbook") {
                    wrong.push(format!("{embedder} {} {question:?}: {text}", mode.label()));
                }
            }
        }
        telemetry.take_finished(&Redaction::default());
    }
    assert!(
        wrong.is_empty(),
        "answered off-topic:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_page_names_the_model_the_worker_runs() {
    assert_eq!(ragtrace::rag::embed::MINILM, minilm::MODEL_NAME);
}

#[test]
fn answers_hold_the_fact() {
    let minilm = cached_minilm();
    let hashed_engine = common::engine::handbook();
    let minilm_engine = block_on(Engine::build(&[("handbook", HANDBOOK_MD)], &minilm)).unwrap();
    let sets = [
        ("queries.jsonl", parse_queries(QUERIES_JSONL).unwrap()),
        ("questions.jsonl", parse_queries(QUESTIONS_JSONL).unwrap()),
        ("tutorial", tutorial()),
    ];
    println!("set              embedder  mode   hit@1  hit@3  hit@5  MRR    fact in answer");
    let mut minilm_facts = Vec::new();
    for (set, queries) in &sets {
        for mode in [Mode::Rag, Mode::Agent] {
            let rows = [
                (
                    "hashed",
                    grade(&hashed_engine, &HashEmbedder, queries, mode),
                ),
                ("MiniLM", grade(&minilm_engine, &minilm, queries, mode)),
            ];
            for (embedder, row) in rows {
                let m = row.metrics;
                println!(
                    "{set:<16} {embedder:<9} {:<6} {:.3}  {:.3}  {:.3}  {:.3}  {:.1} % of {}",
                    mode.label(),
                    m.hit_at_1,
                    m.hit_at_3,
                    m.hit_at_5,
                    m.mrr,
                    row.facts * 100.0,
                    queries.len()
                );
                if embedder == "MiniLM" {
                    minilm_facts.push((*set, mode, row.facts));
                    assert!(
                        row.weakest_best >= MINILM_UNRELATED_BELOW,
                        "a question of {set} looks off-topic to MiniLM: best similarity {}",
                        row.weakest_best
                    );
                }
            }
        }
    }
    // Issue 12's goal is 90 % with MiniLM on both sets and every tutorial question; the
    // floors below are what this build reaches, so a change that loses answers fails.
    for (set, mode, facts) in minilm_facts {
        let floor = match set {
            "queries.jsonl" => 0.93,
            "questions.jsonl" => 0.80,
            _ => 1.0, // the tutorial's questions, every one
        };
        assert!(
            facts >= floor,
            "MiniLM {} on {set}: the fact in {:.1} % of answers (floor {:.0} %)",
            mode.label(),
            facts * 100.0,
            floor * 100.0
        );
    }
}
