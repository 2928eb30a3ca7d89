//! Working with what users bring: a server that chats but has no embeddings, and trace
//! files written by another producer (Phoenix's own download).

use serde_json::json;

use super::harness::{Page, Site};
use super::models::{use_fixture, FIXTURE_KEY};
use super::openai_fixture::Fixture;
use super::phoenix::Phoenix;
use super::SEED_QUESTION;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_only_server_answers_with_local_embeddings() {
    let fixture = Fixture::start().await;
    let page = Page::open().await;
    use_fixture(&page, &fixture, FIXTURE_KEY, "fixture-chat").await;
    page.fill("#embedding-model", "no-embeddings").await;
    page.ask(SEED_QUESTION, "rag", true).await;
    let error = page.text("#error").await;
    assert!(
        error.contains("does not support embeddings")
            && error.contains("enter \"local\" as the Embedding model"),
        "{error}"
    );

    page.fill("#embedding-model", "local").await;
    let header = page.text("#models-label").await;
    assert!(
        header.contains("fixture-chat") && header.contains("local embedder"),
        "{header}"
    );
    page.ask(SEED_QUESTION, "rag", true).await;
    assert!(
        page.text("#answer")
            .await
            .starts_with("According to the handbook"),
        "{}",
        page.text("body").await
    );
    let rows = page.span_rows().await;
    let names: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert!(
        names.contains(&"retrieval") && names.contains(&"generation"),
        "{rows:?}"
    );
    assert!(
        fixture.seen.lock().unwrap().embedding_inputs.is_empty(),
        "the server was asked for embeddings"
    );
    page.assert_clean_console().await;
    page.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_downloaded_from_phoenix_imports_whole() {
    let site = Site::start().await;
    let phoenix = Phoenix::start(&site.origin()).await;
    let page = Page::open_at(site).await;
    let project = format!("e2e-download-{}", phoenix.port);
    page.fill("#phoenix-endpoint", &phoenix.endpoint()).await;
    page.fill("#phoenix-project", &project).await;
    page.ask(SEED_QUESTION, "agent", true).await;
    let id = page.trace_ids().await[0].clone();
    let mut tree = page.trace_tree(&id).await;
    tree.sort();
    page.click("#export").await;
    phoenix.wait_for_spans(&project, &id, tree.len()).await;

    // What Phoenix's UI offers as "Download → OTLP JSON": its otlpv1 spans, wrapped.
    let url = format!(
        "{}/v1/projects/{project}/spans/otlpv1?limit=1000",
        phoenix.base()
    );
    let spans: serde_json::Value = tokio::task::spawn_blocking(move || {
        ureq::get(&url)
            .call()
            .unwrap()
            .body_mut()
            .read_json()
            .unwrap()
    })
    .await
    .unwrap();
    let file = json!({ "resource_spans": [{ "scope_spans": [{ "spans": spans["data"] }] }] });
    let path = std::env::temp_dir().join(format!("phoenix-download-{}.json", phoenix.port));
    std::fs::write(&path, serde_json::to_string_pretty(&file).unwrap()).unwrap();

    let fresh = Page::open().await;
    fresh.upload("#import", &path).await;
    let expected = format!("Imported {} spans in 1 traces", tree.len());
    fresh
        .wait_for(|p| {
            let expected = expected.clone();
            async move { p.text("#export-status").await.starts_with(&expected) }
        })
        .await;
    let mut imported = fresh.trace_tree(&id).await;
    imported.sort();
    assert_eq!(imported, tree);
    let _ = std::fs::remove_file(&path);
    fresh.close().await;
    page.close().await;
}
