//! The trace list and the page around it: benchmark, error demo, chart and sessions;
//! search, filters, delete and clear; reload and deep links; storage held by an older
//! tab.

use std::time::Duration;

use super::harness::{Page, Site};
use super::SEED_QUESTION;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn benchmark_error_demo_chart_and_sessions() {
    let page = Page::open().await;
    page.click("#bench-summary-toggle").await;
    page.fill("#bench-count", "5").await;
    page.click("#bench-run").await;
    page.wait_for(|p| async move {
        p.js("return document.querySelectorAll('#bench-results tbody tr').length")
            .await
            == 5
            && p.js("return document.querySelector('#bench-run').disabled")
                .await
                == false
    })
    .await;
    let summary = page.text("#bench-summary").await;
    assert!(summary.starts_with("5 questions · hit@1"), "{summary}");
    assert!(
        summary.contains("MRR") && summary.contains("p95"),
        "{summary}"
    );
    assert_eq!(
        page.js("return document.querySelector('#bench-progress').value")
            .await,
        5.0
    );
    assert_eq!(page.trace_ids().await.len(), 5, "each question is traced");
    // The first seed question finds its section first, and its answer states the fact.
    let first_row = page.text("#bench-results tbody tr").await;
    assert!(first_row.ends_with("1yes"), "{first_row}");
    assert!(summary.contains("fact in answer"), "{summary}");

    // One chart group per question, with the shares.
    assert_eq!(
        page.js("return document.querySelectorAll('#latency-chart g.query').length")
            .await,
        5
    );
    let shares = page.text("#latency-summary").await;
    assert!(
        shares.contains("retrieval") && shares.contains("%"),
        "{shares}"
    );
    page.screenshot("e2e-benchmark.png").await;

    // Every question of the tab shares one session id.
    let ids = page.trace_ids().await;
    let mut sessions = Vec::new();
    for id in &ids[..2] {
        page.trace_tree(id).await;
        page.select_span("rag_pipeline").await;
        let details = page.text("#details").await;
        let at = details
            .find("session.id")
            .expect("session.id on the root span")
            + "session.id".len();
        sessions.push(details[at..at + 32].to_string());
    }
    assert_eq!(sessions[0], sessions[1]);

    // Stop ends a long run early and keeps what was measured; the second question set
    // (as people ask) runs the same way.
    page.select_by_value("#bench-set", "people").await;
    page.select_by_value("#bench-mode", "agent").await;
    page.fill("#bench-count", "58").await;
    // Stop once a question is measured (a WebDriver click lands too late to be sure of
    // an early stop); the question in flight then is stopped too, and not counted.
    page.js("document.querySelector('#bench-run').click(); const t = setInterval(() => { if (document.querySelector('#bench-progress').value >= 1) { clearInterval(t); document.querySelector('#bench-stop').click(); } }, 5); return null;").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    page.wait_for(|p| async move {
        p.js("return document.querySelector('#bench-run').disabled")
            .await
            == false
    })
    .await;
    let done = page
        .js("return document.querySelector('#bench-progress').value")
        .await
        .as_f64()
        .unwrap();
    let rows = page
        .js("return document.querySelectorAll('#bench-results tbody tr').length")
        .await
        .as_f64()
        .unwrap();
    assert!(
        (1.0..58.0).contains(&done) && rows == done,
        "done {done}, rows {rows}"
    );

    // The error-path demo: an empty query that is fine, a retriever that fails.
    page.click("#error-demo").await;
    page.wait_text("#spans", "retrieval_error_example").await;
    let rows = page.span_rows().await;
    let status = |name: &str| {
        rows.iter()
            .find(|r| r.0 == name)
            .map(|r| r.2.clone())
            .unwrap()
    };
    assert_eq!(status("retrieval"), "OK");
    assert_eq!(status("retrieval_error_example"), "ERROR");
    page.select_span("retrieval_error_example").await;
    let details = page.text("#details").await;
    assert!(
        details.contains("exception.message") && details.contains("index unavailable"),
        "{details}"
    );
    page.assert_clean_console().await;
    page.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trace_list_searches_filters_deletes_and_clears() {
    let page = Page::open().await;
    page.ask(SEED_QUESTION, "rag", true).await;
    page.ask("", "rag", false).await;
    page.ask(
        "What are the requirements for a Global Mobility case?",
        "agent",
        false,
    )
    .await;
    assert_eq!(page.count("#trace-list li").await, 3);
    page.fill("#trace-search", "global mobility").await;
    assert_eq!(page.count("#trace-list li").await, 1);
    page.fill("#trace-search", "").await;
    page.select_by_value("#trace-status", "error").await;
    assert_eq!(page.count("#trace-list li").await, 1);
    page.select_by_value("#trace-status", "all").await;
    page.select_by_value("#trace-mode", "agent_run").await;
    assert_eq!(page.count("#trace-list li").await, 1);
    page.select_by_value("#trace-mode", "all").await;

    page.click("#trace-list li .delete-trace").await;
    assert_eq!(page.count("#trace-list li").await, 2);
    page.click("#clear-traces").await;
    page.client.accept_alert().await.unwrap();
    page.wait_text(".traces", "Ask a question to record its first trace")
        .await;
    page.assert_clean_console().await;
    page.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traces_survive_a_reload_and_deep_links_open_the_span() {
    let page = Page::open().await;
    page.ask(SEED_QUESTION, "rag", true).await;
    page.ask(
        "What are the requirements for a Global Mobility case?",
        "agent",
        false,
    )
    .await;
    let ids = page.trace_ids().await;
    page.trace_tree(&ids[1]).await;
    page.select_span("generation").await;
    let url = page.client.current_url().await.unwrap().to_string();
    assert!(url.contains(&format!("#/trace/{}/span/", ids[1])), "{url}");

    page.reload().await;
    page.wait_for(|p| async move { p.count("#trace-list li").await == 2 })
        .await;
    assert_eq!(page.trace_ids().await, ids, "the same traces, newest first");
    page.wait_for(|p| async move { p.text("#details").await.starts_with("Span: generation") })
        .await;
    assert!(page.text("#details").await.contains(SEED_QUESTION));

    // A link to the agent's first step, opened fresh.
    page.trace_tree(&ids[0]).await;
    page.select_span("agent_step").await;
    let link = page.client.current_url().await.unwrap().to_string();
    page.client.goto("about:blank").await.unwrap();
    page.client.goto(&link).await.unwrap();
    page.wait_for(|p| async move { p.text("#details").await.starts_with("Span: agent_step") })
        .await;
    assert!(page.text("#details").await.contains("agent.step_number"));
    page.assert_clean_console().await;
    page.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tab_holding_older_storage_leaves_the_page_working_in_memory() {
    let page = Page::open().await;
    // Another origin, whose database a tab opened before an update still holds at
    // version 1 (it does not close when asked to).
    let other = Site::start().await;
    // Any document of that origin but the page (its style sheet) will do.
    let css = page
        .js("return new URL(document.querySelector('link[rel=stylesheet]').href).pathname")
        .await;
    page.client
        .goto(&format!("{}{}", other.origin(), css.as_str().unwrap()))
        .await
        .unwrap();
    let held = page
        .client
        .execute_async(
            "const done = arguments[0]; window.held = indexedDB.open('ragtrace', 1); \
             window.held.onsuccess = () => done(true); window.held.onerror = () => done(false);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(held, true);
    let tab = page.client.new_window(true).await.unwrap();
    page.client.switch_to_window(tab.handle).await.unwrap();
    page.client
        .goto(&format!("{}/", other.origin()))
        .await
        .unwrap();
    page.wait_text("#storage-notice", "close it and reload")
        .await;
    // Storage is refused, not waited for: the handbook is indexed and questions work.
    page.wait_for(|p| async move { p.text("#ask").await == "Ask" })
        .await;
    page.ask(SEED_QUESTION, "rag", true).await;
    assert!(page.text("#answer").await.contains("30 working days"));
    page.assert_clean_console().await;
    page.close().await;
}
