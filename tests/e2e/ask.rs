//! Asking: a RAG question and an agent question with their answers and spans, an empty
//! question, markup in a question.

use super::harness::Page;
use super::SEED_QUESTION;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rag_question_shows_its_answer_and_spans() {
    let page = Page::open().await;
    assert!(page
        .text("#models-label")
        .await
        .contains("No API key; nothing leaves the page"));
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
            ("rerank", "RERANKER", "OK"),
            ("prompt", "PROMPT", "OK"),
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
    assert_eq!(bars, 6);

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
    // The retriever span lists its documents with scores: the reranker's 5, and the
    // rest of a list one of them starts ("Each employee may…" goes on to the next chunk).
    let listed = page.count("#documents li").await;
    let continued = page.count("#documents li .continues").await;
    assert!(
        continued >= 1 && listed == 5 + continued,
        "{listed} {continued}"
    );
    let scores = page
        .js("return [...document.querySelectorAll('#documents li .score')].map(s => s.textContent)")
        .await;
    let scores = scores.as_array().unwrap();
    assert_eq!(scores.len(), listed as usize);
    for score in scores {
        let figure = score.as_str().unwrap().strip_prefix("score ").unwrap();
        assert!(
            figure.parse::<f64>().is_ok() && figure.split('.').nth(1).map(str::len) == Some(3),
            "{score}"
        );
    }
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
