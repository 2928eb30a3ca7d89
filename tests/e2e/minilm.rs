//! Local MiniLM, tried as a new user would, offline: pick it in Models, watch it load
//! once with a progress bar, ask the tutorial's question and a paraphrase and get the
//! fact, see the EMBEDDING and RERANKER spans that show why each chunk won, then reload
//! and find the model loaded from the browser's cache instead of downloaded again.

use std::time::Duration;

use super::harness::{temp_file, Page, Site};

const PARAPHRASE: &str = "I'd love to spend a couple of weeks working from my parents' place in Spain. How many days a year am I actually allowed to do that?";

async fn open_models(page: &Page) {
    if page
        .js("return document.querySelector('.model-panel').open")
        .await
        != true
    {
        page.click("#models-summary").await;
    }
}

async fn wait_until_ready(page: &Page) -> String {
    page.wait_up_to(Duration::from_secs(90), |p| async move {
        let status = p.text("#minilm-status").await;
        status.contains("ready") || status.contains("could not load")
    })
    .await;
    page.text("#minilm-status").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_minilm_loads_once_answers_by_meaning_and_is_cached_for_the_next_visit() {
    // MiniLM is the default: a new visitor's page starts loading it at once.
    let page = Page::open().await;
    open_models(&page).await;
    assert_eq!(
        page.js("return document.querySelector('#local-embedder').value")
            .await,
        "minilm"
    );
    let status = wait_until_ready(&page).await;
    assert!(status.contains("downloaded"), "{status}");
    assert!(
        page.text("#models-label").await.contains("Local MiniLM"),
        "{}",
        page.text("#models-label").await
    );
    println!("figure: MiniLM first load here: {status}");
    let mut query_ms = Vec::new();
    for (question, mode, fact) in [
        (
            "What is the international work limit?",
            "rag",
            "30 working days",
        ),
        (PARAPHRASE, "rag", "30 working days"),
        (PARAPHRASE, "agent", "30 working days"),
    ] {
        page.ask(question, mode, false).await;
        let answer = page.text("#answer").await;
        assert!(answer.contains(fact), "{mode} {question:?}: {answer}");
        let rows = page.span_rows().await;
        query_ms.extend(
            rows.iter()
                .find(|r| r.0 == "CreateEmbeddings")
                .map(|r| r.3.parse::<f64>().unwrap()),
        );
    }
    // The third asks a question already embedded: the cache answers it.
    println!("figure: MiniLM query embedding in the page (worker round trip, ms): {query_ms:?}");
    let rows = page.span_rows().await;
    assert!(
        rows.iter()
            .any(|r| r.0 == "rerank" && r.1 == "RERANKER" && r.2 == "OK"),
        "{rows:?}"
    );
    page.select_span("CreateEmbeddings").await;
    let attributes = page.detail_attributes().await;
    let value = |key: &str| {
        attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(
        value("embedding.model_name"),
        "sentence-transformers/all-MiniLM-L6-v2"
    );
    page.select_span("rerank").await;
    let details = page.text("#details").await;
    for key in [
        "reranker.model_name",
        "reranker.input_documents.19.document.id",
        "reranker.output_documents.0.document.metadata",
    ] {
        assert!(details.contains(key), "{key} missing from {details}");
    }
    assert!(details.contains("similarity") && details.contains("heading"));

    // Hashed and back: the worker goes with Hashed, and comes back from the browser's
    // cache; the header says which is in use.
    page.select_by_value("#local-embedder", "hashed").await;
    page.wait_text("#models-label", "Local hashed").await;
    page.ask("What is the international work limit?", "rag", false)
        .await;
    page.select_span("CreateEmbeddings").await;
    assert!(page
        .text("#details")
        .await
        .contains("ragtrace-hash-ngram-1024"));
    page.select_by_value("#local-embedder", "minilm").await;
    page.wait_text("#models-label", "Local MiniLM").await;
    let status = wait_until_ready(&page).await;
    assert!(status.contains("from this browser's cache"), "{status}");

    // The next visit: the choice is remembered and the model comes from the cache.
    page.client
        .goto(&format!("{}/", page.site.origin()))
        .await
        .unwrap();
    page.wait_for(|p| async move { p.text("#ask").await == "Ask" })
        .await;
    open_models(&page).await;
    let status = wait_until_ready(&page).await;
    assert!(status.contains("from this browser's cache"), "{status}");
    println!("figure: MiniLM load on the next visit: {status}");
    page.ask("What is the international work limit?", "rag", false)
        .await;
    assert!(page.text("#answer").await.contains("30 working days"));
    page.assert_clean_console().await;
    page.close().await;
}

/// A deployment without the model file: MiniLM says it could not load and why, a
/// question asked with it ends in a message and an ERROR span (never a hang), and
/// Local hashed still answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_model_is_said_and_local_hashed_still_answers() {
    let site = Site::without(&["minilm/all-MiniLM-L6-v2.int8.safetensors"]).await;
    let page = Page::open_at(site).await;
    open_models(&page).await;
    let status = wait_until_ready(&page).await;
    assert!(
        status.contains("could not load") && status.contains("404"),
        "{status}"
    );
    page.ask("What is the international work limit?", "rag", false)
        .await;
    let error = page.text("#error").await;
    assert!(
        error.contains("the local model failed") && error.contains("Choose Local hashed"),
        "{error}"
    );
    let rows = page.span_rows().await;
    assert!(
        rows.iter()
            .any(|r| r.0 == "CreateEmbeddings" && r.2 == "ERROR"),
        "{rows:?}"
    );
    page.select_by_value("#local-embedder", "hashed").await;
    page.ask(super::SEED_QUESTION, "rag", false).await;
    assert!(page.text("#answer").await.contains("30 working days"));
    page.close().await;
}

/// A user's document under MiniLM is embedded in the worker when a question first needs
/// it: the page says how far that has come, Stop stops it (a message and an ERROR
/// span), and asking again goes on from what was embedded and answers from the document.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indexing_a_document_with_minilm_shows_progress_and_can_be_stopped() {
    let page = Page::open().await;
    open_models(&page).await;
    assert!(wait_until_ready(&page).await.contains("ready"));
    // About a thousand texts (sentences and chunks): seconds in the worker, time to
    // see the progress and press Stop.
    let mut rooms = String::from("# Meeting rooms\n");
    for floor in 1..=30 {
        rooms.push_str(&format!("## Floor {floor} {{#floor-{floor}}}\n"));
        for room in 1..=30 {
            rooms.push_str(&format!(
                "Room {floor}{room:02} seats {} people and is booked in the {} app. ",
                4 + room % 9,
                ["Atlas", "Ledger", "Desk"][room % 3]
            ));
        }
        rooms.push('\n');
    }
    rooms.push_str("## Rooftop {#rooftop}\nThe rooftop terrace code is 5590.\n");
    page.click("#corpus-panel > summary").await;
    page.upload("#doc-upload", &temp_file("rooms.md", rooms.as_bytes()))
        .await;
    page.wait_text("#documents-list", "rooms.md").await;
    page.click("#reindex").await;
    page.wait_text("#corpus-status", "Indexed 2 documents")
        .await;

    let traces = page.trace_ids().await;
    page.fill("#question", "What is the rooftop terrace code?")
        .await;
    page.click("#ask").await;
    page.wait_text("#live-answer", "Embedding the documents for search:")
        .await;
    page.click("#stop").await;
    page.wait_text("#error", "You stopped indexing the documents")
        .await;
    page.wait_for(|p| async move { p.text("#ask").await == "Ask" })
        .await;
    let ids = page.trace_ids().await;
    let new: Vec<&String> = ids.iter().filter(|id| !traces.contains(id)).collect();
    assert_eq!(new.len(), 1, "the indexing's trace alone: {ids:?}");
    page.trace_tree(new[0]).await;
    let rows = page.span_rows().await;
    assert!(
        rows.iter().any(|r| r.0 == "index_corpus" && r.2 == "ERROR"),
        "{rows:?}"
    );

    // Asked again, the indexing goes on from what was embedded, and the document
    // answers.
    page.click("#ask").await;
    page.wait_up_to(Duration::from_secs(90), |p| async move {
        p.text("#ask").await == "Ask" && p.count("#answer").await == 1
    })
    .await;
    assert!(
        page.text("#answer").await.contains("5590"),
        "{}",
        page.text("#answer").await
    );
    page.assert_clean_console().await;
    page.close().await;
}

/// MiniLM's figures for `make bench` (printed, never asserted: machines are noisy): the
/// first load, the query embedding of fresh questions as the page's EMBEDDING spans time
/// it (the worker's round trip), and the load from the browser's cache on a reload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: make bench runs it"]
async fn minilm_figures() {
    let page = Page::open().await;
    let started = std::time::Instant::now();
    open_models(&page).await;
    let status = wait_until_ready(&page).await;
    println!(
        "minilm: first load (23 MB from this machine's server, parsed) within {:.0} ms of the page being ready to ask; the page says: {status}",
        started.elapsed().as_secs_f64() * 1000.0
    );
    let questions = ragtrace::rag::eval::parse_queries(ragtrace::QUESTIONS_JSONL).unwrap();
    let mut query_ms = Vec::new();
    for q in questions.iter().take(15) {
        page.ask(&q.question, "rag", false).await;
        let rows = page.span_rows().await;
        query_ms.extend(
            rows.iter()
                .find(|r| r.0 == "CreateEmbeddings")
                .map(|r| r.3.parse::<f64>().unwrap()),
        );
    }
    println!(
        "minilm: query embedding in the page, 15 fresh questions, {}",
        super::figures::Runs::new(query_ms).spread("ms")
    );
    page.client
        .goto(&format!("{}/", page.site.origin()))
        .await
        .unwrap();
    page.wait_for(|p| async move { p.text("#ask").await == "Ask" })
        .await;
    open_models(&page).await;
    println!(
        "minilm: next visit, the page says: {}",
        wait_until_ready(&page).await
    );
    page.close().await;
}
