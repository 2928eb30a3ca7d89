//! Retrieval quality of the bundled handbook over `queries.jsonl`, for every search mode.
//! The figures are printed (`cargo test -- --nocapture` shows them); hybrid must reach
//! hit@5 ≥ 0.9 and MRR ≥ 0.7.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::cell::Cell;
use std::ops::ControlFlow;

use common::engine::Counting;
use pollster::block_on;
use ragtrace::model::{Embedder, ModelError};
use ragtrace::rag::engine::{Engine, EngineError, IndexJob, Progress, Retrieved, EMBED_BATCH};
use ragtrace::rag::eval::{measure, parse_queries};
use ragtrace::rag::index::Hit;
use ragtrace::rag::{embed::HashEmbedder, index::SearchMode};
use ragtrace::{HANDBOOK_MD, QUERIES_JSONL};

#[test]
fn bundled_data_is_consistent() {
    let engine = common::engine::handbook();
    let queries = parse_queries(QUERIES_JSONL).unwrap();
    assert!(
        HANDBOOK_MD.len() >= 25_000,
        "handbook is {} bytes",
        HANDBOOK_MD.len()
    );
    assert!(engine.sections.len() >= 12);
    assert!(queries.len() >= 30);
    for q in &queries {
        let section = engine.sections.iter().find(|s| s.id == q.section_id);
        let section = section.unwrap_or_else(|| panic!("{}: no section {}", q.id, q.section_id));
        assert!(
            section.text.contains(&q.fact),
            "{}: fact {:?} not in {}",
            q.id,
            q.fact,
            q.section_id
        );
    }
}

#[test]
fn hybrid_retrieval_meets_the_quality_bar() {
    let engine = common::engine::handbook();
    let queries = parse_queries(QUERIES_JSONL).unwrap();
    for mode in SearchMode::ALL {
        let m = measure(&engine, &queries, mode, 5);
        println!(
            "{:>6}: hit@1 {:.3}  hit@3 {:.3}  hit@5 {:.3}  MRR {:.3}  ({} queries)",
            mode.as_str(),
            m.hit_at_1,
            m.hit_at_3,
            m.hit_at_5,
            m.mrr,
            queries.len()
        );
    }
    let hybrid = measure(&engine, &queries, SearchMode::Hybrid, 5);
    assert!(hybrid.hit_at_5 >= 0.9, "hybrid hit@5 {}", hybrid.hit_at_5);
    assert!(hybrid.mrr >= 0.7, "hybrid MRR {}", hybrid.mrr);
}

#[test]
fn a_list_cut_across_chunks_reaches_the_model_whole() {
    let engine = common::engine::handbook();
    let at = |id: &str| engine.index.chunks.iter().position(|c| c.id == id).unwrap();
    let hit = |id: &str| Hit {
        chunk: at(id),
        score: 1.0,
        similarity: 0.5,
    };
    let ids = |retrieved: Vec<Retrieved>| -> Vec<String> {
        retrieved
            .iter()
            .map(|r| engine.index.chunks[r.hit.chunk].id.clone())
            .collect()
    };
    let q = HashEmbedder.embed("What happens if I exceed the limit?");
    // "Exceeding the limit" announces its consequences in :4 and lists them on to :6.
    let whole = engine.with_whole_lists(&[hit("international-work:4"), hit("remote-work:1")], &q);
    assert_eq!(
        ids(whole),
        [
            "international-work:4",
            "international-work:5",
            "international-work:6",
            "remote-work:1"
        ]
    );
    // Each added chunk names the one whose list it carries on; three at most are added.
    let whole = engine.with_whole_lists(
        &[
            hit("international-work:4"),
            hit("global-mobility:2"),
            hit("travel:1"),
        ],
        &q,
    );
    let continues: Vec<Option<String>> = whole
        .iter()
        .map(|r| r.continues.map(|c| engine.index.chunks[c].id.clone()))
        .collect();
    assert_eq!(
        ids(whole),
        [
            "international-work:4",
            "international-work:5",
            "international-work:6",
            "global-mobility:2",
            "global-mobility:3",
            "travel:1"
        ]
    );
    assert_eq!(
        continues,
        [
            None,
            Some("international-work:4".to_string()),
            Some("international-work:5".to_string()),
            None,
            Some("global-mobility:2".to_string()),
            None
        ]
    );
    // A continuation that retrieval found itself comes once, where it was found.
    let whole = engine.with_whole_lists(
        &[hit("international-work:5"), hit("international-work:4")],
        &q,
    );
    assert_eq!(
        ids(whole),
        [
            "international-work:5",
            "international-work:6",
            "international-work:4"
        ]
    );
}

#[test]
fn only_an_embedder_in_the_page_is_given_every_sentence() {
    for in_page in [true, false] {
        let embedder = Counting::new("counting", in_page);
        let engine = block_on(Engine::build(&[("handbook", HANDBOOK_MD)], &embedder)).unwrap();
        let chunks = engine.index.len();
        // Indexing: the chunks, and in the page every chunk's sentences too, once.
        assert_eq!(embedder.texts.get() > chunks, in_page);
        assert!(in_page || embedder.texts.get() == chunks);
        let q = HashEmbedder.embed("What is the international work limit?");
        let candidates = engine.candidates("international work limit", &q, Default::default());
        let closest = block_on(engine.closest_sentences(&embedder, &q, &candidates)).unwrap();
        assert_eq!(
            closest.map(|c| c.len()),
            in_page.then_some(candidates.len())
        );
    }
}

/// A remote embedder whose second call fails: aborted by a Stop when `stop_pressed`
/// (as `Runner::stop` aborts the call in flight), else the model's own failure.
struct FailsSecond {
    calls: Cell<usize>,
    stop_pressed: bool,
    stopped: Cell<bool>,
}

impl Embedder for FailsSecond {
    fn model_name(&self) -> &str {
        "remote"
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, ModelError> {
        self.calls.set(self.calls.get() + 1);
        if self.calls.get() == 2 {
            self.stopped.set(self.stop_pressed);
            return Err(ModelError::Malformed("no answer".into()));
        }
        Embedder::embed(&HashEmbedder, texts).await
    }
}

#[test]
fn a_call_aborted_by_stop_ends_the_indexing_as_stopped_and_a_failure_as_failed() {
    for stop_pressed in [true, false] {
        let embedder = FailsSecond {
            calls: Cell::new(0),
            stop_pressed,
            stopped: Cell::new(false),
        };
        let observe = |_: Progress| {
            if embedder.stopped.get() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        };
        let built = block_on(Engine::build_observed(
            &[("handbook", HANDBOOK_MD)],
            &embedder,
            &observe,
        ));
        match built {
            Err(EngineError::Stopped(p)) if stop_pressed => assert_eq!(p.embedded, EMBED_BATCH),
            Err(EngineError::Model(_)) if !stop_pressed => {}
            other => panic!(
                "stop pressed {stop_pressed}: {:?}",
                other.map(|e| e.index.len())
            ),
        }
    }
}

#[test]
fn indexing_in_slices_gives_the_same_engine_and_finds_added_documents() {
    let notes = "# Team notes\n## Parking {#parking}\nThe bicycle cellar opens at 6:30 and the \
                 visitor parking code is 4417.\n";
    let docs = [("handbook", HANDBOOK_MD), ("notes.md", notes)];
    let whole = block_on(Engine::build(&docs, &HashEmbedder)).unwrap();
    let mut job = IndexJob::new(&docs).unwrap();
    let mut slices = 1;
    while !job.step(4_000) {
        let (done, total) = job.progress();
        assert!(done < total);
        slices += 1;
    }
    assert_eq!(job.progress().0, job.progress().1);
    let sliced = job.finish();
    assert!(slices > 5, "{slices} slices");
    assert_eq!(sliced.index.chunks, whole.index.chunks);
    assert_eq!(sliced.embedding_model, whole.embedding_model);
    let hits = sliced.index.search(
        SearchMode::Hybrid,
        "visitor parking code",
        &HashEmbedder.embed("visitor parking code"),
        3,
    );
    assert_eq!(sliced.index.chunks[hits[0].chunk].document, "notes.md");
    assert_eq!(sliced.chunks_of("notes.md").count(), 1);
}
