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
        header.contains("fixture-chat") && header.contains("Local MiniLM"),
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collector_lines_and_genai_spans_import_as_what_they_are() {
    // Two requests, one per line, as the Collector's file exporter writes them; the
    // second from a producer that follows OpenTelemetry's GenAI conventions.
    let lines = concat!(
        r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},"scopeSpans":[{"scope":{},"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","parentSpanId":"","name":"GET /","kind":2,"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000500000000","status":{}}]}]}]}"#,
        "\n",
        r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"openinference.project.name","value":{"stringValue":"genai-app"}}]},"scopeSpans":[{"scope":{"name":"genai"},"spans":[{"traceId":"1af7651916cd43dd8448eb211c80319c","spanId":"c7ad6b7169203331","name":"chat gpt-4o","kind":3,"startTimeUnixNano":"1700000001000000000","endTimeUnixNano":"1700000002000000000","attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},{"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o"}},{"key":"gen_ai.usage.input_tokens","value":{"intValue":"12"}},{"key":"gen_ai.input.messages","value":{"stringValue":"[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"Hello from another producer\"}]}]"}}]}]}]}]}"#,
        "\n"
    );
    let path = std::env::temp_dir().join(format!("collector-{}.jsonl", std::process::id()));
    std::fs::write(&path, lines).unwrap();
    let page = Page::open().await;
    page.upload("#import", &path).await;
    page.wait_text("#export-status", "Imported 2 spans in 2 traces")
        .await;
    page.click("#trace-list li[data-trace-id='1af7651916cd43dd8448eb211c80319c']")
        .await;
    let rows = page.span_rows().await;
    assert_eq!(rows[0].0, "chat gpt-4o");
    assert_eq!(rows[0].1, "LLM", "{rows:?}");
    page.select_span("chat gpt-4o").await;
    let details = page.text("#details").await;
    assert!(
        details.contains("Hello from another producer")
            && details.contains("gen_ai.usage.input_tokens"),
        "{details}"
    );
    assert!(page.text("#spans").await.contains("gpt-4o"));
    let _ = std::fs::remove_file(&path);
    page.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_tools_gets_react_and_priced_models_get_a_cost() {
    let fixture = Fixture::start().await;
    let page = Page::open().await;
    // A model that refuses tools: the agent goes on in the ReAct format.
    use_fixture(&page, &fixture, FIXTURE_KEY, "no-tools").await;
    page.ask(SEED_QUESTION, "agent", false).await;
    assert!(
        page.text("#answer").await.contains("[international-work:"),
        "{}",
        page.text("body").await
    );
    let names: Vec<String> = page.span_rows().await.into_iter().map(|r| r.0).collect();
    assert!(
        names.contains(&"retrieve".to_string()) && names.contains(&"finish".to_string()),
        "{names:?}"
    );
    page.select_span("agent_step").await;
    assert!(page.text("#details").await.contains("tools_refused"));

    // Cost: present for a model with a known price, absent (not zero) otherwise.
    let cost_of = |model: &'static str| {
        let (page, fixture) = (&page, &fixture);
        async move {
            use_fixture(page, fixture, FIXTURE_KEY, model).await;
            page.ask(SEED_QUESTION, "rag", true).await;
            page.select_span("generation").await;
            page.detail_attributes()
                .await
                .into_iter()
                .find(|(k, _)| k == "llm.cost.total")
                .and_then(|(_, v)| v.parse::<f64>().ok())
        }
    };
    let priced = cost_of("gpt-4.1-mini").await;
    assert!(priced.is_some_and(|c| c > 0.0), "{priced:?}");
    assert_eq!(cost_of("fixture-chat").await, None);

    // The price table is the user's to edit: a line it cannot read is named, and a
    // model added to it is priced.
    page.click("#prices-summary").await;
    page.fill("#prices", "openai fixture-chat ten 20").await;
    let label = page.text("#models-label").await;
    assert!(label.contains("price table's line 1"), "{label}");
    page.fill("#prices", "# mine\nopenai fixture-chat 100 200")
        .await;
    let priced = cost_of("fixture-chat").await;
    assert!(priced.is_some_and(|c| c > 0.0), "{priced:?}");
    // Costs add up per trace in the list, and over every trace and per session in the
    // statistics; calls without a price are counted, never priced at zero.
    let costs: Vec<String> = serde_json::from_value(
        page.js("return [...document.querySelectorAll('#trace-list .trace-cost')].map(e => e.textContent)")
            .await,
    )
    .unwrap();
    assert!(
        costs
            .iter()
            .any(|c| c.starts_with('$') && !c.contains("without")),
        "{costs:?}"
    );
    assert!(
        costs.iter().any(|c| c.starts_with("cost unknown (")),
        "{costs:?}"
    );
    page.click("#stats-summary").await;
    page.select_by_value("#stats-scope", "all").await;
    page.wait_text("#stats-cost", "Every trace: model calls cost $")
        .await;
    let spent = page.text("#stats-cost").await;
    assert!(
        spent.contains("calls without a price") && spent.contains("Session "),
        "{spent}"
    );
    page.click("#bundled-prices").await;
    let table = page
        .js("return document.querySelector('#prices').value")
        .await;
    assert!(
        table
            .as_str()
            .is_some_and(|t| t.contains("openai gpt-4.1-mini 0.40 1.60")),
        "{table}"
    );
    page.close().await;
}
