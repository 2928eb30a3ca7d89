//! An OpenAI-compatible server (the local fixture): streaming answers in both modes,
//! and every failure ending in a clear message and an ERROR span.

use super::engine::handbook;
use super::harness::{free_port, Page, Site};
use super::openai_fixture::Fixture;
use super::phoenix::Phoenix;
use super::SEED_QUESTION;
use serde_json::Value;

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
    // First the server's embedding model indexes the handbook, saying how far it is.
    let (indexing, states): (Vec<String>, Vec<String>) = states
        .into_iter()
        .partition(|s| s.starts_with("Embedding the documents for search:"));
    assert!(
        indexing
            .iter()
            .any(|s| s.contains(&format!(" of {} texts…", handbook().index.len()))),
        "{indexing:?}"
    );
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
            "rerank",
            "prompt",
            "generation"
        ]
    );
    page.select_span("generation").await;
    let attributes = page.detail_attributes().await;
    let value = |key: &str| {
        attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    for (key, expected) in [
        ("llm.provider", Some("openai")),
        ("llm.model_name", Some("fixture-chat")),
        ("llm.input_messages.0.message.role", Some("system")),
        ("llm.input_messages.1.message.role", Some("user")),
        ("llm.output_messages.0.message.role", Some("assistant")),
    ] {
        assert_eq!(value(key), expected, "{key} in {attributes:?}");
    }
    for key in [
        "llm.token_count.prompt",
        "llm.token_count.completion",
        "llm.invocation_parameters",
    ] {
        assert!(value(key).is_some(), "{key} missing from {attributes:?}");
    }
    assert!(page.text("#details").await.contains("first_token"));
    // The corpus was embedded once, traced as its own trace.
    assert!(page.text("#trace-list").await.contains("index_corpus"));

    // The agent's model calls two tools at once, as OpenAI models do, through a proxy
    // that sends the usage with the last choice.
    page.fill("#chat-model", "parallel-tools").await;
    page.click("#prices-summary").await;
    page.fill("#prices", "openai parallel-tools 0.40 1.60")
        .await;
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
    assert_eq!(
        names.iter().filter(|n| **n == "retrieve").count(),
        2,
        "both calls of the first step ran: {names:?}"
    );
    assert!(names.contains(&"finish"), "{names:?}");
    assert!(rows.iter().all(|r| r.2 == "OK"));
    assert!(!page.text("#answer").await.is_empty());
    // The agent called its tools through the API: the model was offered them, and each
    // TOOL span answers a call by its id.
    page.select_span("retrieve").await;
    let tool_id = page
        .detail_attributes()
        .await
        .into_iter()
        .find(|(k, _)| k == "tool.id")
        .map(|(_, v)| v);
    assert!(
        tool_id
            .as_deref()
            .is_some_and(|id| id.starts_with("call_retrieve_")),
        "{tool_id:?}"
    );
    page.select_span("generation").await;
    let attributes = page.detail_attributes().await;
    let has = |key: &str, value: &str| {
        attributes
            .iter()
            .any(|(k, v)| k == key && v.contains(value))
    };
    assert!(
        has("llm.tools.0.tool.json_schema", "retrieve")
            && has(
                "llm.output_messages.0.message.tool_calls.0.tool_call.function.name",
                "retrieve"
            ),
        "{attributes:?}"
    );
    {
        let seen = fixture.seen.lock().unwrap();
        // Questions are embedded alone; the corpus's chunks in batches, once.
        let corpus: usize = seen.embedding_inputs.iter().filter(|n| **n > 1).sum();
        assert_eq!(
            corpus,
            handbook().index.len(),
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
    let (mut tool_ids, mut llm_texts) = (Vec::new(), Vec::new());
    let (mut parallel_calls, mut answered_calls) = (Vec::new(), Vec::new());
    for id in page.trace_ids().await {
        let expected = page.trace_tree(&id).await.len();
        for span in phoenix.wait_for_spans("ragtrace", &id, expected).await {
            assert!(
                !span.to_string().contains(FIXTURE_KEY),
                "the key reached Phoenix: {span}"
            );
            llm_spans += usize::from(span["attributes"]["llm.provider"] == "openai");
            if let Some(tool_id) = span["attributes"]["tool.id"].as_str() {
                tool_ids.push(tool_id.to_string());
            }
            if span["span_kind"] == "LLM" {
                llm_texts.push(span.to_string());
                let attributes = span["attributes"].as_object().unwrap();
                let call = |i: usize| {
                    attributes
                        .get(&format!(
                            "llm.output_messages.0.message.tool_calls.{i}.tool_call.id"
                        ))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                };
                if let (Some(a), Some(b)) = (call(0), call(1)) {
                    parallel_calls.extend([a, b]);
                    // Its tokens (sent with the last choice) and its cost arrived.
                    assert!(attributes.contains_key("llm.token_count.prompt"));
                    let cost = attributes.get("llm.cost.total").and_then(Value::as_f64);
                    assert!(cost.is_some_and(|c| c > 0.0), "{cost:?}");
                }
                answered_calls.extend(
                    attributes
                        .iter()
                        .filter(|(k, _)| k.ends_with(".message.tool_call_id"))
                        .filter_map(|(_, v)| v.as_str().map(str::to_string)),
                );
            }
        }
    }
    assert!(
        llm_spans >= 3,
        "{llm_spans} LLM spans from the fixture model"
    );
    // In Phoenix too, each TOOL span's id is the id of a call an LLM span made; the
    // two calls made at once each have their TOOL span, and both results went back.
    assert!(tool_ids.len() >= 3, "{tool_ids:?}");
    assert_eq!(parallel_calls.len(), 2, "{parallel_calls:?}");
    for id in &parallel_calls {
        assert!(tool_ids.contains(id), "{id} has no TOOL span: {tool_ids:?}");
        assert!(answered_calls.contains(id), "{id} was never answered");
    }
    for tool_id in &tool_ids {
        assert!(
            llm_texts.iter().any(|t| t.contains(tool_id.as_str())),
            "no LLM span in Phoenix made the call {tool_id}"
        );
    }
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
    page.wait_text("#models-status", "forgotten").await;
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
    // With tool calling off, the agent prompts in the text ReAct format (servers
    // without tool calling): a reply out of format gets one repair request.
    use_fixture(&page, &fixture, FIXTURE_KEY, "sloppy-agent").await;
    page.click("#tool-calling").await;
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
