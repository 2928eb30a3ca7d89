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
use ragtrace::rag::chunk::{chunk_sections, ChunkConfig};
use ragtrace::rag::corpus::parse_corpus;
use ragtrace::rag::embed::{cosine, HashEmbedder, MINILM_UNRELATED_BELOW};
use ragtrace::rag::engine::Engine;
use ragtrace::rag::eval::{fact_in, parse_queries, rank_of, Metrics, Query};
use ragtrace::rag::offline::OfflineChat;
use ragtrace::rag::pipeline::{self, AskOptions, Mode, Models};
use ragtrace::rag::text;
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

/// The tutorial's questions said other ways, as a new user tries them (issue 12's "ask the
/// tutorial's questions and paraphrases of them"): (question, fact, section). Written
/// before the answerer was tuned on them, like `questions.jsonl`.
const PARAPHRASES: [(&str, &str, &str); 16] = [
    (
        "How many days a year can I work abroad?",
        "30 working days",
        IW,
    ),
    (
        "How long am I allowed to work from another country each year?",
        "30 working days",
        IW,
    ),
    (
        "What's the maximum time I can spend working outside my home country?",
        "30 working days",
        IW,
    ),
    (
        "Is there a cap on working from abroad?",
        "30 working days",
        IW,
    ),
    (
        "What if I go over my days abroad?",
        "Access to company systems is suspended",
        IW,
    ),
    (
        "What are the consequences of working abroad too long?",
        "Access to company systems is suspended",
        IW,
    ),
    (
        "I stayed abroad longer than allowed, what happens now?",
        "Access to company systems is suspended",
        IW,
    ),
    (
        "What happens when I pass the limit for working from another country?",
        "Access to company systems is suspended",
        IW,
    ),
    (
        "How do I get approval to work from abroad for a few weeks?",
        "international work request",
        IW,
    ),
    (
        "What's the process for working remotely from another country?",
        "international work request",
        IW,
    ),
    (
        "What are the rules for working from abroad?",
        "international work request",
        IW,
    ),
    (
        "What do I have to do before working from another country?",
        "international work request",
        IW,
    ),
    (
        "What do I need for a Global Mobility case?",
        "at least 6 weeks before the intended start date",
        GM,
    ),
    (
        "Who can apply to relocate permanently through Global Mobility?",
        "at least 6 weeks before the intended start date",
        GM,
    ),
    (
        "What conditions must be met to move to another country with my job?",
        "at least 6 weeks before the intended start date",
        GM,
    ),
    (
        "Which criteria does a Global Mobility request have to meet?",
        "at least 6 weeks before the intended start date",
        GM,
    ),
];
const IW: &str = "international-work";
const GM: &str = "global-mobility";

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

fn paraphrases() -> Vec<Query> {
    PARAPHRASES
        .iter()
        .enumerate()
        .map(|(i, (question, fact, section))| Query {
            id: format!("tp{}", i + 1),
            question: question.to_string(),
            section_id: section.to_string(),
            fact: fact.to_string(),
        })
        .collect()
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

/// Every question's fact is in the handbook; printed, how far MiniLM's meaning alone
/// carries: where the question's cosine ranks the fact's sentence among all the
/// handbook's sentences. The answerer starts from these cosines and adds retrieval's judgement of
/// whole passages, shared words, numbers and whole lists; a fact whose sentence this
/// ranking puts far down is one the words or the structure must find instead.
#[test]
fn every_fact_is_in_the_handbook() {
    let minilm = cached_minilm();
    let sections = parse_corpus(&[("handbook", HANDBOOK_MD)]).unwrap();
    let sentences: Vec<String> = chunk_sections(&sections, ChunkConfig::default())
        .iter()
        .flat_map(|c| text::sentences(&c.text).into_iter().map(String::from))
        .collect();
    let vectors = block_on(minilm.embed(&sentences)).unwrap();
    let sets = [
        ("queries.jsonl", parse_queries(QUERIES_JSONL).unwrap()),
        ("questions.jsonl", parse_queries(QUESTIONS_JSONL).unwrap()),
        ("paraphrases", paraphrases()),
    ];
    println!(
        "set              fact sentence ranked by MiniLM among {} sentences: top 1 / 3 / 5 / 10",
        sentences.len()
    );
    for (set, queries) in &sets {
        let mut ranks = Vec::new();
        for q in queries {
            let holding: Vec<usize> = (0..sentences.len())
                .filter(|&i| fact_in(&sentences[i], &q.fact))
                .collect();
            assert!(
                !holding.is_empty(),
                "{set} {}: no handbook sentence holds {:?}",
                q.id,
                q.fact
            );
            let query_vec = block_on(minilm.embed(std::slice::from_ref(&q.question))).unwrap();
            let cosines: Vec<f32> = vectors.iter().map(|v| cosine(&query_vec[0], v)).collect();
            let best = holding.iter().map(|&i| cosines[i]).fold(f32::MIN, f32::max);
            ranks.push(1 + cosines.iter().filter(|&&c| c > best).count());
        }
        let within = |k: usize| ranks.iter().filter(|&&r| r <= k).count();
        println!(
            "{set:<16} {} / {} / {} / {} of {}",
            within(1),
            within(3),
            within(5),
            within(10),
            ranks.len()
        );
    }
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
        ("paraphrases", paraphrases()),
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
    // Issue 12's goal is 90 % with MiniLM on both sets, every tutorial question and
    // its paraphrases; the floors below are what this build reaches, so a change that
    // loses answers fails.
    for (set, mode, facts) in minilm_facts {
        let floor = match set {
            "queries.jsonl" => 0.93,
            "questions.jsonl" => 0.80,
            "paraphrases" => 0.68,
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
