//! Export to a real Phoenix: traces read back whole, waiting while Phoenix is down,
//! download and import, redaction before storage.

use std::time::Duration;

use serde_json::Value;

use super::harness::{free_port, Page, Site};
use super::phoenix::Phoenix;
use super::SEED_QUESTION;

/// Seconds since the Unix epoch of Phoenix's `2026-11-24T10:33:32.927554+00:00`.
fn unix_seconds(iso: &str) -> f64 {
    let num = |r: std::ops::Range<usize>| iso[r].parse::<i64>().unwrap();
    let (y, m, d) = (num(0..4), num(5..7), num(8..10));
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    let secs: f64 = iso[17..iso.find('+').unwrap()].parse().unwrap();
    (days * 86_400 + num(11..13) * 3600 + num(14..16) * 60) as f64 + secs
}

fn attr<'a>(span: &'a Value, key: &str) -> &'a Value {
    &span["attributes"][key]
}

/// (name, kind, depth) of Phoenix's spans, depth from their `parent_id`s.
fn phoenix_tree(spans: &[Value]) -> Vec<(String, String, usize)> {
    let parent = |s: &Value| s["parent_id"].as_str().map(str::to_string);
    let by_id = |id: &str| spans.iter().find(|s| s["context"]["span_id"] == id);
    let mut tree: Vec<(String, String, usize)> = spans
        .iter()
        .map(|s| {
            let mut depth = 0;
            let mut p = parent(s);
            while let Some(id) = p {
                let up = by_id(&id)
                    .unwrap_or_else(|| panic!("parent {id} of {} was not exported", s["name"]));
                depth += 1;
                p = parent(up);
            }
            (
                s["name"].as_str().unwrap().into(),
                s["span_kind"].as_str().unwrap().into(),
                depth,
            )
        })
        .collect();
    tree.sort();
    tree
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traces_exported_to_phoenix_read_back_whole() {
    let site = Site::start().await;
    let phoenix = Phoenix::start(&site.origin()).await;
    let page = Page::open_at(site).await;
    let project = format!("e2e-{}", phoenix.port);
    let secret = "sk-e2e-never-in-a-span";
    page.fill("#phoenix-endpoint", &phoenix.endpoint()).await;
    page.fill("#phoenix-project", &project).await;
    page.fill("#phoenix-key", secret).await;

    page.ask(SEED_QUESTION, "rag", true).await;
    page.ask(
        "What are the requirements for a Global Mobility case?",
        "agent",
        false,
    )
    .await;
    page.ask("", "rag", false).await;
    page.click("#export").await;
    page.wait_for(|p| async move {
        p.text("#export-status")
            .await
            .starts_with("Exported 3 traces")
    })
    .await;
    assert!(page.text("#export-counts").await.contains("3 exported"));

    let ids = page.trace_ids().await;
    assert_eq!(ids.len(), 3);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let mut starts = Vec::new();
    for id in &ids {
        let mut expected = page.trace_tree(id).await;
        expected.sort();
        let spans = phoenix.wait_for_spans(&project, id, expected.len()).await;
        assert_eq!(phoenix_tree(&spans), expected, "trace {id}");
        starts.extend(spans.iter().map(|s| s["start_time"].to_string()));
        for s in &spans {
            let start = s["start_time"].as_str().unwrap();
            assert!((unix_seconds(start) - now).abs() < 600.0, "{start}");
            assert!(
                !s.to_string().contains(secret),
                "the API key leaked into {s}"
            );
        }
    }
    // Microsecond timestamps survive the trip (not whole milliseconds). Over every span
    // of the three traces: one span alone may start on a whole millisecond by chance.
    assert!(starts.iter().any(|s| !s.contains("000+")), "{starts:?}");

    let all: Vec<Value> = {
        let mut v = Vec::new();
        for id in &ids {
            v.extend(phoenix.spans(&project, id).await);
        }
        v
    };
    let named = |name: &str| all.iter().filter(|s| s["name"] == name).collect::<Vec<_>>();
    let rag_root = named("rag_pipeline")
        .into_iter()
        .find(|s| s["status_code"] == "OK")
        .unwrap();
    assert_eq!(attr(rag_root, "input.value"), SEED_QUESTION);
    assert_eq!(rag_root["span_kind"], "CHAIN");
    assert!(attr(
        named("retrieval")[0],
        "retrieval.documents.0.document.score"
    )
    .is_f64());
    assert!(named("retrieval")[0]["span_kind"] == "RETRIEVER");
    assert!(
        attr(named("generation")[0], "llm.token_count.prompt")
            .as_u64()
            .unwrap()
            > 0
    );
    assert_eq!(named("agent_run")[0]["span_kind"], "AGENT");
    assert_eq!(named("finish")[0]["span_kind"], "TOOL");
    let failed = named("rag_pipeline")
        .into_iter()
        .find(|s| s["status_code"] == "ERROR")
        .unwrap();
    let event = &failed["events"][0];
    assert_eq!(event["name"], "exception");
    assert!(event["attributes"]["exception.message"]
        .as_str()
        .unwrap()
        .contains("empty"));

    // Auto-export sends the next trace by itself, gzipped this time.
    page.click("#gzip").await;
    page.click("#auto-export").await;
    page.ask("How much is the yearly learning budget?", "rag", true)
        .await;
    page.wait_text("#export-counts", "4 exported").await;
    let newest = page.trace_ids().await[0].clone();
    let expected = page.trace_tree(&newest).await.len();
    phoenix.wait_for_spans(&project, &newest, expected).await;

    // The same Phoenix, asked from an origin it does not allow: the CORS advice.
    let other = Page::open().await;
    other.fill("#phoenix-endpoint", &phoenix.endpoint()).await;
    other.ask(SEED_QUESTION, "rag", true).await;
    other.click("#export").await;
    let advice = format!("PHOENIX_ALLOWED_ORIGINS={}", other.site.origin());
    other
        .wait_for(|p| {
            let advice = advice.clone();
            async move { p.text("#export-status").await.contains(&advice) }
        })
        .await;
    // A retry of the unanswered export may be under way: it fails again.
    other.wait_text("#trace-list", "failed").await;
    other.close().await;
    page.assert_clean_console().await;
    page.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traces_wait_while_phoenix_is_down_and_export_once_it_is_up() {
    let page = Page::open().await;
    let port = free_port();
    let project = format!("e2e-down-{port}");
    page.fill(
        "#phoenix-endpoint",
        &format!("http://127.0.0.1:{port}/v1/traces"),
    )
    .await;
    page.fill("#phoenix-project", &project).await;
    page.ask(SEED_QUESTION, "rag", true).await;
    page.ask(
        "How many days of annual leave do employees get?",
        "agent",
        false,
    )
    .await;
    page.click("#export").await;
    page.wait_text("#export-status", "Could not reach Phoenix")
        .await;
    assert!(
        page.text("#export-counts").await.contains("0 exported"),
        "{}",
        page.text("#export-counts").await
    );

    let phoenix = Phoenix::start_on(port, &page.site.origin()).await;
    // Automatic retries may already have delivered; otherwise the Retry button does.
    if let Ok(retry) = page.client.find(fantoccini::Locator::Css("#retry")).await {
        let _ = retry.click().await;
    }
    page.wait_up_to(Duration::from_secs(60), |p| async move {
        p.text("#export-counts").await.contains("2 exported")
    })
    .await;
    for id in page.trace_ids().await {
        let expected = page.trace_tree(&id).await.len();
        let spans = phoenix.wait_for_spans(&project, &id, expected).await;
        assert_eq!(spans.len(), expected);
    }
    page.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloaded_traces_import_identically_and_bad_files_are_refused() {
    let page = Page::open().await;
    page.ask(SEED_QUESTION, "rag", true).await;
    page.ask(
        "What happens if an employee works internationally beyond the allowed limit?",
        "agent",
        false,
    )
    .await;
    page.click("#download-all").await;
    let json = page.downloaded("ragtrace-traces.json").await;
    let ids = page.trace_ids().await;
    let mut trees = Vec::new();
    for id in &ids {
        trees.push(page.trace_tree(id).await);
    }
    let file = std::env::temp_dir().join(format!("ragtrace-import-{}.json", free_port()));
    std::fs::write(&file, &json).unwrap();

    let fresh = Page::open().await;
    // A broken file first: refused with a reason, nothing imported.
    let broken = file.with_extension("broken.json");
    std::fs::write(&broken, &json[..json.len() / 2]).unwrap();
    fresh.upload("#import", &broken).await;
    fresh
        .wait_for(|p| async move {
            p.text("#export-status")
                .await
                .starts_with("Nothing was imported")
        })
        .await;
    assert!(fresh.trace_ids().await.is_empty());

    fresh.upload("#import", &file).await;
    fresh
        .wait_for(|p| async move { p.text("#export-status").await.starts_with("Imported") })
        .await;
    let mut imported_ids = fresh.trace_ids().await;
    let mut expected_ids = ids.clone();
    imported_ids.sort();
    expected_ids.sort();
    assert_eq!(imported_ids, expected_ids);
    for (id, tree) in ids.iter().zip(&trees) {
        assert_eq!(&fresh.trace_tree(id).await, tree, "trace {id}");
    }
    // Identical down to the attributes: the same file comes out again.
    fresh.click("#download-all").await;
    let again = fresh.downloaded("ragtrace-traces.json").await;
    let spans = |j: &str| {
        let v: Value = serde_json::from_str(j).unwrap();
        let mut spans: Vec<String> = v["resourceSpans"][0]["scopeSpans"][0]["spans"]
            .as_array()
            .unwrap()
            .iter()
            .map(Value::to_string)
            .collect();
        spans.sort();
        spans
    };
    assert_eq!(spans(&again), spans(&json));
    std::fs::remove_file(file).ok();
    std::fs::remove_file(broken).ok();
    fresh.assert_clean_console().await;
    fresh.close().await;
    page.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hidden_inputs_are_redacted_before_they_are_stored() {
    let page = Page::open().await;
    page.click("#hide-inputs").await;
    page.click("#hide-embedding-vectors").await;
    page.ask(SEED_QUESTION, "rag", true).await;
    page.select_span("rag_pipeline").await;
    let details = page.text("#details").await;
    assert!(
        details.contains("__REDACTED__") && !details.contains(SEED_QUESTION),
        "{details}"
    );
    page.select_span("CreateEmbeddings").await;
    let details = page.text("#details").await;
    assert!(
        details.contains("embedding.embeddings.0.embedding.vector__REDACTED__"),
        "{details}"
    );
    // The answer itself is still shown to the person who asked.
    assert!(page.text("#answer").await.contains("30 working days"));
    // Settings survive a reload.
    page.fill("#phoenix-project", "kept-project").await;
    page.reload().await;
    let checked = page
        .js("return document.querySelector('#hide-inputs').checked")
        .await;
    assert_eq!(checked, true);
    let project = page
        .js("return document.querySelector('#phoenix-project').value")
        .await;
    assert_eq!(project, "kept-project");
    page.close().await;
}

/// "Bad answer" with a note, given before the export, reaches Phoenix with it as an
/// annotation of the trace's root span; changed after the export, it goes at once; and
/// it stays with the trace across a reload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedback_on_an_answer_reaches_phoenix_as_a_root_span_annotation() {
    let site = Site::start().await;
    let phoenix = Phoenix::start(&site.origin()).await;
    let page = Page::open_at(site).await;
    page.ask(SEED_QUESTION, "rag", false).await;
    page.fill("#feedback-note", "does not say how many days")
        .await;
    page.click("#feedback-bad").await;
    page.wait_text(
        "#feedback-status",
        "goes to Phoenix with the trace's export",
    )
    .await;
    assert_eq!(page.count("#trace-list .feedback-mark.bad").await, 1);
    assert_eq!(
        page.text("#span-feedback").await,
        "Answer marked bad: does not say how many days"
    );

    page.fill("#phoenix-endpoint", &phoenix.endpoint()).await;
    page.click("#export").await;
    page.wait_text("#feedback-status", "Marked bad · in Phoenix")
        .await;
    let trace_id = page.trace_ids().await[0].clone();
    let spans = phoenix.wait_for_spans("ragtrace", &trace_id, 5).await;
    let root = spans
        .iter()
        .find(|s| s["parent_id"].is_null())
        .and_then(|s| s["context"]["span_id"].as_str())
        .expect("the root span in Phoenix")
        .to_string();
    let feedback = |annotations: Vec<Value>| {
        annotations
            .into_iter()
            .find(|a| a["name"] == "user feedback")
            .unwrap_or_else(|| panic!("no feedback on {root}"))
    };
    let annotation = feedback(phoenix.span_annotations("ragtrace", &root).await);
    assert_eq!(annotation["annotator_kind"], "HUMAN");
    assert_eq!(annotation["result"]["label"], "bad");
    assert_eq!(annotation["result"]["score"], 0.0);
    assert_eq!(
        annotation["result"]["explanation"],
        "does not say how many days"
    );

    // Changed after the export: straight to Phoenix.
    page.fill("#feedback-note", "").await;
    page.click("#feedback-good").await;
    page.wait_text("#feedback-status", "Marked good · in Phoenix")
        .await;
    let annotation = feedback(phoenix.span_annotations("ragtrace", &root).await);
    assert_eq!(annotation["result"]["label"], "good");

    // Kept with the trace.
    page.reload().await;
    page.wait_for(|p| async move { p.count("#trace-list .feedback-mark.good").await == 1 })
        .await;
    page.assert_clean_console().await;
    page.close().await;
}
