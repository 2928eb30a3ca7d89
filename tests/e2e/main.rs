//! End-to-end tests: the release page in headless Chromium, driven like a person would.
#![cfg(not(target_arch = "wasm32"))]

mod delivery;
mod explorer;
mod fault_proxy;
mod harness;
mod interop;
mod openai_fixture;
mod phoenix;

use std::time::Duration;

use harness::{free_port, Page, Site};
use openai_fixture::Fixture;
use phoenix::Phoenix;
use serde_json::Value;

pub(crate) const SEED_QUESTION: &str =
    "What is the maximum number of days an employee can work internationally?";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rag_question_shows_its_answer_and_spans() {
    let page = Page::open().await;
    assert!(page
        .text("#models-label")
        .await
        .contains("No API key, no network"));
    page.ask(SEED_QUESTION, "rag", true).await;

    assert!(
        page.text("#answer").await.contains("30 working days"),
        "{}",
        page.text("#answer").await
    );
    assert!(page.text("#cited").await.contains("international-work:"));
    let rows = page.span_rows().await;
    let names: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| (r.0.as_str(), r.1.as_str(), r.2.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("rag_pipeline", "CHAIN", "OK"),
            ("retrieval", "RETRIEVER", "OK"),
            ("CreateEmbeddings", "EMBEDDING", "OK"),
            ("generation", "LLM", "OK"),
        ]
    );
    // Durations come from the high-resolution clock: sub-millisecond steps are not 0.
    assert!(
        rows.iter().all(|r| r.3.parse::<f64>().unwrap() > 0.0),
        "{rows:?}"
    );
    let bars = page
        .js("return document.querySelectorAll('#waterfall .wf-row').length")
        .await;
    assert_eq!(bars, 4);

    page.select_span("generation").await;
    let details = page.text("#details").await;
    for key in [
        "llm.model_name",
        "llm.input_messages.0.message.role",
        "llm.output_messages.0.message.content",
        "llm.token_count.total",
        "generation.answer_word_count",
    ] {
        assert!(details.contains(key), "{key} missing from {details}");
    }
    // The LLM span reads as a conversation by role.
    assert_eq!(page.count("#conversation li").await, 3);
    assert!(page
        .text("#conversation li.role-assistant")
        .await
        .contains("30 working days"));
    page.select_span("retrieval").await;
    assert!(page
        .text("#details")
        .await
        .contains("retrieval.documents.0.document.score"));
    // The retriever span lists its documents with scores.
    assert_eq!(page.count("#documents li").await, 5);
    assert!(page.text("#documents li").await.contains("score"));
    page.assert_clean_console().await;
    page.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_question_shows_its_steps() {
    let page = Page::open().await;
    page.ask(
        "What happens if an employee works internationally beyond the allowed limit?",
        "agent",
        false,
    )
    .await;

    assert!(!page.text("#answer").await.is_empty());
    let rows = page.span_rows().await;
    let has = |name: &str, kind: &str| rows.iter().filter(|r| r.0 == name && r.1 == kind).count();
    assert_eq!(rows[0].0, "agent_run");
    assert_eq!(has("agent_run", "AGENT"), 1);
    assert!(has("agent_step", "CHAIN") >= 2, "{rows:?}");
    assert!(
        has("retrieve", "TOOL") >= 1 && has("finish", "TOOL") == 1,
        "{rows:?}"
    );
    assert!(
        has("retrieval", "RETRIEVER") >= 1 && has("generation", "LLM") >= 2,
        "{rows:?}"
    );
    assert!(rows.iter().all(|r| r.2 == "OK"));

    page.select_span("agent_step").await;
    let details = page.text("#details").await;
    for key in [
        "agent.step_number",
        "agent.thought",
        "agent.action",
        "agent.action_input",
        "agent.observation_length",
    ] {
        assert!(details.contains(key), "{key} missing from {details}");
    }
    page.assert_clean_console().await;
    page.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_question_shows_an_error_and_the_page_keeps_working() {
    let page = Page::open().await;
    page.ask("", "rag", false).await;
    assert!(
        page.text("#error").await.contains("The question is empty"),
        "{}",
        page.text("body").await
    );
    let rows = page.span_rows().await;
    assert_eq!(
        (rows[0].0.as_str(), rows[0].2.as_str()),
        ("rag_pipeline", "ERROR")
    );
    page.select_span("rag_pipeline").await;
    let details = page.text("#details").await;
    assert!(
        details.contains("exception") && details.contains("exception.message"),
        "{details}"
    );

    page.ask(SEED_QUESTION, "rag", true).await;
    assert!(page.text("#answer").await.contains("30 working days"));
    assert_eq!(
        page.js("return document.querySelectorAll('#trace-list li').length")
            .await,
        2
    );
    page.assert_clean_console().await;
    page.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markup_in_a_question_is_shown_as_text() {
    let page = Page::open().await;
    let evil = "<img src=x onerror=alert(1)>";
    page.ask(evil, "rag", true).await;
    assert_eq!(page.text("#asked-question").await, evil);
    assert_eq!(
        page.js("return document.querySelectorAll('img').length")
            .await,
        0
    );
    assert!(
        page.client.get_alert_text().await.is_err(),
        "no alert may open"
    );
    page.select_span("rag_pipeline").await;
    assert!(page.text("#details").await.contains(evil));
    page.assert_clean_console().await;
    // The console check above is only worth something if it sees errors at all.
    page.js("console.error('console probe'); return null").await;
    assert!(page
        .console()
        .await
        .iter()
        .any(|l| l.contains("console probe")));
    page.close().await;
}

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
    for id in &ids {
        let mut expected = page.trace_tree(id).await;
        expected.sort();
        let spans = phoenix.wait_for_spans(&project, id, expected.len()).await;
        assert_eq!(phoenix_tree(&spans), expected, "trace {id}");
        for s in &spans {
            let start = s["start_time"].as_str().unwrap();
            assert!((unix_seconds(start) - now).abs() < 600.0, "{start}");
            assert!(
                !s.to_string().contains(secret),
                "the API key leaked into {s}"
            );
        }
        // Microsecond timestamps survive the trip (not whole milliseconds).
        assert!(spans
            .iter()
            .any(|s| !s["start_time"].as_str().unwrap().contains("000+")));
    }

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
    page.wait_for(|p| async move { p.text("#export-counts").await.contains("4 exported") })
        .await;
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
    assert!(other.text("#trace-list").await.contains("failed"));
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
    page.wait_for(|p| async move {
        p.text("#export-status")
            .await
            .contains("Could not reach Phoenix")
    })
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
    page.client.refresh().await.unwrap();
    page.wait_for(|p| async move { p.text("#ask").await == "Ask" })
        .await;
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

pub(crate) const FIXTURE_KEY: &str = "sk-fixture-secret-e2e-123";

/// Points the page's model settings at the fixture, as a user pasting them would.
pub(crate) async fn use_fixture(page: &Page, fixture: &Fixture, key: &str, chat_model: &str) {
    if page
        .js("return document.querySelector('.model-panel').open")
        .await
        != true
    {
        page.click("#models-summary").await;
    }
    page.fill("#openai-key", key).await;
    page.fill("#base-url", &fixture.base_url()).await;
    page.fill("#chat-model", chat_model).await;
    page.fill("#embedding-model", "fixture-embed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_openai_compatible_server_answers_streaming_in_rag_and_agent_mode() {
    let fixture = Fixture::start().await;
    let site = Site::start().await;
    let phoenix = Phoenix::start(&site.origin()).await;
    let page = Page::open_at(site).await;
    use_fixture(&page, &fixture, FIXTURE_KEY, "fixture-chat").await;
    assert!(
        page.text("#models-label").await.contains("fixture-chat"),
        "{}",
        page.text("#models-label").await
    );

    // Record every state of the live answer while it streams.
    page.js("window.__live = []; new MutationObserver(() => { const e = document.querySelector('#live-answer'); if (e) window.__live.push(e.textContent); }).observe(document.body, { subtree: true, childList: true, characterData: true }); return null;").await;
    page.ask(SEED_QUESTION, "rag", true).await;
    let states: Vec<String> = serde_json::from_value(
        page.js("return [...new Set(window.__live)].filter(s => s.length > 0)")
            .await,
    )
    .unwrap();
    assert!(
        states.len() >= 3,
        "the answer arrived in {} pieces: {states:?}",
        states.len()
    );
    assert!(
        states
            .windows(2)
            .all(|w| w[1].starts_with(&w[0]) || w[0].starts_with(&w[1])),
        "{states:?}"
    );
    let answer = page.text("#answer").await;
    assert!(answer.starts_with("According to the handbook:"), "{answer}");
    assert!(!page.text("#cited").await.is_empty());

    let rows = page.span_rows().await;
    assert_eq!(
        rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
        [
            "rag_pipeline",
            "retrieval",
            "CreateEmbeddings",
            "generation"
        ]
    );
    page.select_span("generation").await;
    let details = page.text("#details").await;
    for needle in [
        "llm.provideropenai",
        "llm.model_namefixture-chat",
        "llm.input_messages.0.message.rolesystem",
        "llm.input_messages.1.message.roleuser",
        "llm.output_messages.0.message.roleassistant",
        "llm.token_count.prompt",
        "llm.token_count.completion",
        "first_token",
        "llm.invocation_parameters",
    ] {
        assert!(details.contains(needle), "{needle} missing from {details}");
    }
    // The corpus was embedded once, traced as its own trace.
    assert!(page.text("#trace-list").await.contains("index_corpus"));

    page.ask(
        "What are the requirements for a Global Mobility case?",
        "agent",
        false,
    )
    .await;
    let rows = page.span_rows().await;
    let names: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        names.iter().filter(|n| **n == "agent_step").count(),
        2,
        "{names:?}"
    );
    assert!(
        names.contains(&"retrieve") && names.contains(&"finish"),
        "{names:?}"
    );
    assert!(rows.iter().all(|r| r.2 == "OK"));
    assert!(!page.text("#answer").await.is_empty());
    {
        let seen = fixture.seen.lock().unwrap();
        let big = seen.embedding_inputs.iter().filter(|n| **n > 10).count();
        assert_eq!(
            big, 1,
            "the corpus is embedded once: {:?}",
            seen.embedding_inputs
        );
        assert!(seen
            .authorizations
            .iter()
            .all(|a| a == &format!("Bearer {FIXTURE_KEY}")));
    }

    // The key is in no trace, no export file, no URL.
    page.click("#download-all").await;
    let json = page.downloaded("ragtrace-traces.json").await;
    assert!(json.contains("fixture-chat") && !json.contains(FIXTURE_KEY));
    assert!(!page
        .client
        .current_url()
        .await
        .unwrap()
        .as_str()
        .contains(FIXTURE_KEY));
    assert!(!page.text("#trace-panel").await.contains(FIXTURE_KEY));
    // Nor in what Phoenix received.
    page.fill("#phoenix-endpoint", &phoenix.endpoint()).await;
    page.click("#export").await;
    page.wait_for(|p| async move { p.text("#export-status").await.starts_with("Exported") })
        .await;
    let mut llm_spans = 0;
    for id in page.trace_ids().await {
        let expected = page.trace_tree(&id).await.len();
        for span in phoenix.wait_for_spans("ragtrace", &id, expected).await {
            assert!(
                !span.to_string().contains(FIXTURE_KEY),
                "the key reached Phoenix: {span}"
            );
            llm_spans += usize::from(span["attributes"]["llm.provider"] == "openai");
        }
    }
    assert!(
        llm_spans >= 3,
        "{llm_spans} LLM spans from the fixture model"
    );
    page.assert_clean_console().await;
    page.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn model_failures_end_in_clear_messages_and_error_spans() {
    let fixture = Fixture::start().await;
    let page = Page::open().await;

    use_fixture(&page, &fixture, "sk-bad", "fixture-chat").await;
    page.ask(SEED_QUESTION, "rag", true).await;
    let error = page.text("#error").await;
    assert!(error.contains("check your API key"), "{error}");
    assert!(page.text("#trace-list").await.contains("ERROR"));
    // The server echoed the whole key in its 401: it reaches neither the page, nor a
    // span, nor a downloaded file.
    assert!(!page.text("body").await.contains("sk-bad"));
    page.click("#download-all").await;
    let file = page.downloaded("ragtrace-traces.json").await;
    assert!(file.contains("Incorrect API key provided") && !file.contains("sk-bad"));

    use_fixture(&page, &fixture, FIXTURE_KEY, "rate-limited-once").await;
    page.ask(SEED_QUESTION, "rag", true).await;
    assert!(
        page.text("#answer")
            .await
            .starts_with("According to the handbook"),
        "{}",
        page.text("body").await
    );
    page.select_span("generation").await;
    let details = page.text("#details").await;
    assert!(
        details.contains("retry") && details.contains("http.response.status_code: 429"),
        "{details}"
    );

    for (model, expected) in [
        ("missing-model", "does not exist"),
        ("server-error", "HTTP 500"),
        ("broken-stream", "malformed"),
    ] {
        use_fixture(&page, &fixture, FIXTURE_KEY, model).await;
        page.ask(SEED_QUESTION, "rag", true).await;
        let error = page.text("#error").await;
        assert!(error.contains(expected), "{model}: {error}");
        let rows = page.span_rows().await;
        assert!(
            rows.iter().any(|r| r.0 == "generation" && r.2 == "ERROR"),
            "{model}: {rows:?}"
        );
        page.select_span("generation").await;
        assert!(page.text("#details").await.contains("exception.message"));
    }

    // Stop aborts a streaming answer.
    use_fixture(&page, &fixture, FIXTURE_KEY, "slow-model").await;
    let traces = page.trace_ids().await.len();
    page.fill("#question", SEED_QUESTION).await;
    page.click("#ask").await;
    page.wait_for(|p| async move { !p.text("#live-answer").await.is_empty() })
        .await;
    page.click("#stop").await;
    page.wait_for(|p| async move { p.trace_ids().await.len() > traces })
        .await;
    assert!(
        page.text("#error").await.contains("stopped"),
        "{}",
        page.text("#error").await
    );
    let rows = page.span_rows().await;
    assert!(
        rows.iter().any(|r| r.0 == "generation" && r.2 == "ERROR"),
        "{rows:?}"
    );

    // A server that is not there — on another origin than the key was used with: the
    // page asks before sending the key there, and forgets it when told no.
    page.fill("#base-url", &format!("http://127.0.0.1:{}/v1", free_port()))
        .await;
    page.client.dismiss_alert().await.unwrap();
    page.wait_for(|p| async move { p.text("#models-status").await.contains("forgotten") })
        .await;
    assert_eq!(
        page.js("return document.querySelector('#openai-key').value")
            .await,
        ""
    );
    page.ask(SEED_QUESTION, "rag", true).await;
    assert!(
        page.text("#error").await.contains("could not reach"),
        "{}",
        page.text("#error").await
    );

    // A reply out of ReAct format gets one repair request, then the run goes on.
    use_fixture(&page, &fixture, FIXTURE_KEY, "sloppy-agent").await;
    page.ask(SEED_QUESTION, "agent", false).await;
    assert!(
        !page.text("#answer").await.is_empty(),
        "{}",
        page.text("body").await
    );
    page.select_span("agent_step").await;
    assert!(page.text("#details").await.contains("react_repair"));

    // And the page still answers.
    use_fixture(&page, &fixture, FIXTURE_KEY, "fixture-chat").await;
    page.ask(SEED_QUESTION, "rag", true).await;
    assert!(page
        .text("#answer")
        .await
        .starts_with("According to the handbook"));
    page.assert_clean_console().await;
    page.close().await;
}

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
    // The first seed question finds its section first.
    assert!(page.text("#bench-results tbody tr").await.ends_with('1'));

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

    // Stop ends a long run early and keeps what was measured.
    page.select_by_value("#bench-mode", "agent").await;
    page.fill("#bench-count", "58").await;
    // Stop 30 ms into the run (a WebDriver click lands too late to be sure of that).
    page.js("document.querySelector('#bench-run').click(); setTimeout(() => document.querySelector('#bench-stop').click(), 30); return null;").await;
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
    page.wait_for(|p| async move { p.text("#spans").await.contains("retrieval_error_example") })
        .await;
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
    page.wait_for(|p| async move {
        p.text(".traces")
            .await
            .contains("Ask a question to record its first trace")
    })
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

    page.client.refresh().await.unwrap();
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
    page.wait_for(|p| async move {
        p.text("#storage-notice")
            .await
            .contains("close it and reload")
    })
    .await;
    // Storage is refused, not waited for: the handbook is indexed and questions work.
    page.wait_for(|p| async move { p.text("#ask").await == "Ask" })
        .await;
    page.ask(SEED_QUESTION, "rag", true).await;
    assert!(page.text("#answer").await.contains("30 working days"));
    page.assert_clean_console().await;
    page.close().await;
}
