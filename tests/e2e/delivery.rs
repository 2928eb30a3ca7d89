//! Delivery under faults: the release page exports through a fault-injecting proxy to a
//! real Phoenix; every span arrives or is listed with its reason, nothing is retried
//! that the OTLP/HTTP specification says not to, a closed tab loses nothing, and two
//! tabs neither send twice nor disagree.

use std::time::Duration;

use fantoccini::wd::WindowHandle;

use super::fault_proxy::{Fault, FaultProxy};
use super::harness::{Page, Site};
use super::phoenix::Phoenix;
use super::SEED_QUESTION;

/// The span id of the selected trace's span `name` (from the deep link it sets).
async fn span_id(page: &Page, name: &str) -> String {
    page.select_span(name).await;
    let hash = page.js("return location.hash").await;
    let hash = hash.as_str().unwrap().to_string();
    hash.rsplit('/').next().unwrap().to_string()
}

/// Spans the page holds, over every trace.
async fn spans_made(page: &Page) -> usize {
    let mut n = 0;
    for id in page.trace_ids().await {
        n += page.trace_tree(&id).await.len();
    }
    n
}

/// Points the page's export at `endpoint`, project `project`, with a short timeout.
async fn export_to(page: &Page, endpoint: &str, project: &str, timeout_s: &str) {
    page.fill("#phoenix-endpoint", endpoint).await;
    page.fill("#phoenix-project", project).await;
    page.fill("#export-timeout", timeout_s).await;
}

/// A real Phoenix behind a fault-injecting proxy, and the page exporting to the proxy
/// under a project of its own called `name-<port>`.
async fn page_behind_proxy(name: &str, timeout_s: &str) -> (Phoenix, FaultProxy, Page, String) {
    let site = Site::start().await;
    let phoenix = Phoenix::start(&site.origin()).await;
    let proxy = FaultProxy::start(&phoenix.base()).await;
    let page = Page::open_at(site).await;
    let project = format!("{name}-{}", phoenix.port);
    export_to(&page, &proxy.endpoint(), &project, timeout_s).await;
    (phoenix, proxy, page, project)
}

async fn wait_for_counts(page: &Page, limit: Duration, expected: &'static str) {
    page.wait_up_to(limit, |p| async move {
        p.text("#export-counts").await.contains(expected)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_span_arrives_or_is_listed_under_the_whole_fault_matrix() {
    let (phoenix, proxy, page, project) = page_behind_proxy("e2e-faults", "2").await;

    page.ask(SEED_QUESTION, "rag", true).await;
    let poisoned = span_id(&page, "rag_pipeline").await;
    page.ask(
        "How many days of annual leave do employees get?",
        "agent",
        false,
    )
    .await;
    page.ask("How much is the yearly learning budget?", "rag", true)
        .await;

    // Phase 1: a proxy that takes small bodies only, a poisoned span, a one-off 422,
    // then 429 and 503 with Retry-After (seconds, then a date) and a 504.
    proxy.limit_body(Some(30_000));
    proxy.poison(vec![poisoned.clone()]);
    let soon = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(1));
    proxy.script(vec![
        Fault::Status {
            status: 422,
            retry_after: None,
        },
        Fault::Status {
            status: 429,
            retry_after: Some("1".into()),
        },
        Fault::Status {
            status: 503,
            retry_after: Some(soon),
        },
        Fault::Status {
            status: 504,
            retry_after: None,
        },
    ]);
    page.click("#export").await;
    wait_for_counts(
        &page,
        Duration::from_secs(60),
        "0 pending · 3 exported · 0 failed · 1 spans set aside",
    )
    .await;
    let listed = page.text("#set-aside").await;
    assert!(
        listed.contains(&poisoned) && listed.contains("HTTP 400"),
        "{listed}"
    );

    // Phase 2: a hang past the timeout, a dropped connection, then a 500, which is not
    // retried until the user presses Retry; then a partial success.
    page.ask("What is the policy on remote work?", "rag", true)
        .await;
    proxy.script(vec![
        Fault::Hang,
        Fault::Drop,
        Fault::Status {
            status: 500,
            retry_after: None,
        },
    ]);
    page.click("#export").await;
    page.wait_up_to(Duration::from_secs(60), |p| async move {
        p.text("#export-status").await.contains("HTTP 500")
    })
    .await;
    let after_500 = proxy.log().len();
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        proxy.log().len(),
        after_500,
        "a 500 was retried: {:?}",
        proxy.log()
    );
    assert!(page.text("#export-counts").await.contains("1 failed"));
    proxy.script(vec![Fault::PartialSuccess]);
    page.click("#retry").await;
    wait_for_counts(
        &page,
        Duration::from_secs(30),
        "0 pending · 4 exported · 0 failed",
    )
    .await;
    assert!(
        page.text("#export-status")
            .await
            .contains("Phoenix rejected 1 spans of a batch: the test proxy dropped one span"),
        "{}",
        page.text("#export-status").await
    );

    let log = proxy.log();
    let outcome = |o: &str| log.iter().filter(|s| s.outcome == o).count();
    for once in [
        "fault-422",
        "fault-429",
        "fault-503",
        "fault-504",
        "hang",
        "drop",
        "fault-500",
        "partial",
    ] {
        assert_eq!(outcome(once), 1, "{once} in {log:?}");
    }
    assert!(outcome("413") > 0 && outcome("400-poison") > 0, "{log:?}");

    // What Phoenix holds: every span made, less the poisoned one and the one the
    // proxy's partial success dropped.
    let made = spans_made(&page).await;
    let dropped = proxy.dropped();
    assert_eq!(dropped.len(), 1);
    let expected = made - 2;
    phoenix.wait_for_project(&project, expected).await;
    // A moment more, so that anything beyond the expected would have arrived too.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut ids = phoenix.span_ids(&project).await;
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), expected, "made {made}");
    assert!(!ids.contains(&poisoned) && !ids.contains(&dropped[0]));
    println!(
        "delivery report (fault matrix): spans made {made}, read back {}, set aside 1 (poisoned, HTTP 400), rejected by partial success 1, requests {}, lost {}",
        ids.len(),
        log.len(),
        made - 2 - ids.len()
    );
    page.assert_clean_console().await;
    page.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tab_closed_right_after_a_question_loses_no_span() {
    let (phoenix, proxy, page, project) = page_behind_proxy("e2e-close", "30").await;
    page.click("#auto-export").await;

    // The auto-export's request hangs, so the spans are still unsent when the page goes.
    proxy.script(vec![Fault::Hang]);
    page.ask(SEED_QUESTION, "rag", true).await;
    let made = spans_made(&page).await;
    let origin = page.site.origin();
    page.client.goto("about:blank").await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let keepalive = proxy
        .log()
        .iter()
        .filter(|s| s.outcome.starts_with("forwarded-2"))
        .count();

    // Whatever the keepalive flush did not deliver goes when the page opens again.
    page.client.goto(&format!("{origin}/")).await.unwrap();
    let ids = phoenix.wait_for_project(&project, made).await;
    assert_eq!(ids.len(), made);
    page.wait_text("#export-counts", "1 exported").await;
    println!(
        "delivery report (tab closed): spans made {made}, read back {}, delivered by the keepalive flush in {keepalive} requests, lost {}",
        ids.len(),
        made - ids.len()
    );
    page.close().await;
}

/// Makes `handle` the window WebDriver talks to.
async fn switch(page: &Page, handle: &WindowHandle) {
    page.client.switch_to_window(handle.clone()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tabs_send_each_span_once_and_clear_together() {
    let (phoenix, proxy, page, project) = page_behind_proxy("e2e-tabs", "10").await;
    page.ask(SEED_QUESTION, "rag", true).await;
    page.ask(
        "How many days of annual leave do employees get?",
        "agent",
        false,
    )
    .await;
    let made = spans_made(&page).await;

    // A second tab of the same origin restores the same pending traces.
    let first = page.client.window().await.unwrap();
    let second = page.client.new_window(true).await.unwrap().handle;
    switch(&page, &second).await;
    page.client
        .goto(&format!("{}/", page.site.origin()))
        .await
        .unwrap();
    page.wait_for(|p| async move { p.count("#trace-list li").await == 2 })
        .await;

    // Both export at once.
    page.js("document.querySelector('#export').click()").await;
    switch(&page, &first).await;
    page.js("document.querySelector('#export').click()").await;
    wait_for_counts(&page, Duration::from_secs(30), "0 pending · 2 exported").await;
    switch(&page, &second).await;
    wait_for_counts(&page, Duration::from_secs(30), "0 pending · 2 exported").await;

    let mut sent: Vec<String> = proxy.log().into_iter().flat_map(|s| s.span_ids).collect();
    let total = sent.len();
    sent.sort();
    sent.dedup();
    assert_eq!(sent.len(), made);
    assert_eq!(total, made, "a span was sent twice: {:?}", proxy.log());
    phoenix.wait_for_project(&project, made).await;

    // "Clear all" in the second tab empties the first.
    page.click("#clear-traces").await;
    page.client.accept_alert().await.unwrap();
    switch(&page, &first).await;
    page.wait_text(".traces", "Ask a question to record its first trace")
        .await;
    page.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_save_is_said_and_tried_again() {
    let page = Page::open().await;
    // IndexedDB refuses every write, as it does when the origin's quota is used up.
    page.js("window.realPut = IDBObjectStore.prototype.put; \
         IDBObjectStore.prototype.put = function () { \
           throw new DOMException('The quota has been exceeded.', 'QuotaExceededError'); }")
        .await;
    page.ask(SEED_QUESTION, "rag", true).await;
    page.wait_text(
        "#storage-notice",
        "could not be saved (The quota has been exceeded.)",
    )
    .await;
    // Space is freed: the next try saves the trace, and it survives a reload.
    page.js("IDBObjectStore.prototype.put = window.realPut")
        .await;
    page.wait_text("#storage-notice", "saved again").await;
    page.reload().await;
    page.wait_for(|p| async move { p.count("#trace-list li").await == 1 })
        .await;
    page.close().await;
}
