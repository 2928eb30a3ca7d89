//! The trace explorer after real runs: the collapsible waterfall and its keyboard, span
//! details, the spans table across traces, and "your own documents"; plus the
//! explorer's speed figures (ignored as tests; `make bench` prints them).

use fantoccini::key::Key;

use crate::harness::{temp_file, Page};
use crate::SEED_QUESTION;

const AGENT_QUESTION: &str =
    "What happens if an employee works internationally beyond the allowed limit?";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_waterfall_collapses_and_follows_the_keyboard() {
    let page = Page::open().await;
    page.ask(AGENT_QUESTION, "agent", false).await;
    // The waterfall shows the span tree of the table, row for row.
    let table: Vec<(String, u64)> = page
        .span_rows()
        .await
        .into_iter()
        .map(|r| r.0)
        .zip(page.depths("#spans tr.span-row").await)
        .collect();
    let waterfall = page.waterfall().await;
    assert_eq!(waterfall, table);
    assert!(table.len() >= 9, "{table:?}");

    // Down puts the cursor on the root; Left collapses it; Right opens it again.
    page.press("#waterfall", Key::Down).await;
    page.press("#waterfall", Key::Left).await;
    assert_eq!(page.waterfall().await, [("agent_run".to_string(), 0)]);
    page.press("#waterfall", Key::Right).await;
    assert_eq!(page.waterfall().await.len(), table.len());
    // Right again goes to the first child, Enter opens it in the details.
    page.press("#waterfall", Key::Right).await;
    page.press("#waterfall", Key::Enter).await;
    page.wait_for(|p| async move { p.text("#details").await.starts_with("Span: agent_step") })
        .await;
    // Its toggle hides its children, and only them.
    let step_children = table
        .iter()
        .skip(2)
        .take_while(|(_, depth)| *depth >= 2)
        .count();
    page.click("#waterfall .wf-row[aria-level='2'] .wf-toggle")
        .await;
    assert_eq!(page.waterfall().await.len(), table.len() - step_children);
    assert_eq!(
        page.js("return document.querySelector('#waterfall .wf-row[aria-level=\"2\"]').getAttribute('aria-expanded')")
            .await,
        "false"
    );
    // Hovering a bar tells its kind and timing.
    let tooltip = page
        .js("return document.querySelector('#waterfall .wf-row').title")
        .await;
    assert!(
        tooltip
            .as_str()
            .unwrap()
            .starts_with("agent_run · AGENT · OK ·"),
        "{tooltip}"
    );
    assert_eq!(page.count(".wf-axis .wf-tick").await, 5);

    // A search of the tree shows every match under its ancestors (collapsed or not).
    let all_rows = page.count("#waterfall .wf-row").await;
    let embeddings = page
        .span_rows()
        .await
        .iter()
        .filter(|r| r.0 == "CreateEmbeddings")
        .count();
    assert!(embeddings >= 1);
    page.fill("#tree-search", "createembeddings").await;
    page.wait_text("#tree-matches", &format!("{embeddings} match"))
        .await;
    let shown: Vec<(String, u64, bool)> = serde_json::from_value(
        page.js("return [...document.querySelectorAll('#waterfall .wf-row')].map(r => [r.querySelector('.wf-name').textContent, Number(r.getAttribute('aria-level')), r.classList.contains('match')])")
            .await,
    )
    .unwrap();
    assert_eq!(shown.iter().filter(|r| r.2).count(), embeddings);
    assert_eq!(shown[0].0, "agent_run");
    for (row, next) in shown
        .iter()
        .zip(shown.iter().skip(1).map(Some).chain([None]))
    {
        // A row that does not match is there as the ancestor of the next.
        assert!(
            row.2 || next.is_some_and(|n| n.1 == row.1 + 1),
            "{row:?} in {shown:?}"
        );
    }
    page.fill("#tree-search", "").await;
    page.wait_for(|p| async move { p.count("#waterfall .wf-row").await == all_rows })
        .await;

    // An agent trace with its waterfall and the details of its first step.
    page.screenshot("e2e-explorer.png").await;
    page.assert_clean_console().await;
    page.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_waterfall_keeps_the_cursor_in_view() {
    let page = Page::open().await;
    let trace = temp_file("long-trace.json", ragtrace_trace_json(300).as_bytes());
    page.upload("#import", &trace).await;
    page.wait_for(|p| async move { p.count("#trace-list li").await == 1 })
        .await;
    page.click("#trace-list li").await;
    page.wait_for(|p| async move { p.count("#waterfall[data-rows='300'] .wf-row").await > 0 })
        .await;
    // Only the rows in view (and a margin) are in the page.
    let in_dom = page.count("#waterfall .wf-row").await;
    assert!((20..100).contains(&in_dom), "{in_dom} rows in the DOM");

    // Forty-one presses down (every key handled: the first lands on row 0, the last on
    // row 40), the cursor's row is in the page and in view.
    let downs: String = std::iter::repeat_n(char::from(Key::Down), 41).collect();
    page.client
        .find(fantoccini::Locator::Css("#waterfall"))
        .await
        .unwrap()
        .send_keys(&downs)
        .await
        .unwrap();
    page.wait_for(|p| async move {
        p.js("const w = document.querySelector('#waterfall'), c = w.querySelector('.wf-row.cursor'); \
              if (!c) return false; const a = w.getBoundingClientRect(), b = c.getBoundingClientRect(); \
              const row = Math.round((b.top - a.top + w.scrollTop) / 24); \
              return w.scrollTop > 0 && row === 40 && b.top >= a.top && b.bottom <= a.bottom")
            .await
            == true
    })
    .await;
    // Enter opens the span under the cursor. Both are read once the page has settled:
    // a scroll re-lays the window's rows out, so a name read mid-way can be stale.
    page.press("#waterfall", Key::Enter).await;
    page.wait_for(|p| async move {
        let cursor = p.text("#waterfall .wf-row.cursor .wf-name").await;
        !cursor.is_empty() && p.text("#details h2").await == format!("Span: {cursor}")
    })
    .await;
    page.assert_clean_console().await;
    page.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn span_details_show_json_copy_and_stack_traces() {
    let page = Page::open().await;
    page.ask(SEED_QUESTION, "rag", true).await;
    page.select_span("retrieval").await;
    // The ranking is JSON (output.mime_type), shown pretty-printed.
    let output = page.text("#details pre.io.output").await;
    assert!(
        output.starts_with("[\n  {\n    \"id\": \"international-work:"),
        "{output}"
    );
    assert!(page.text("#details").await.contains("from +"));
    page.select_span("CreateEmbeddings").await;
    assert_eq!(page.text("#embedded li").await, SEED_QUESTION);

    page.grant("clipboard-read").await;
    page.click("#copy-attributes").await;
    page.wait_for(|p| async move { !p.text("#copied").await.is_empty() })
        .await;
    let copied = page.text("#copied").await;
    assert!(copied.starts_with("Copied "), "{copied}");
    let clipboard = page
        .client
        .execute_async(
            "const done = arguments[0]; navigator.clipboard.readText().then(done, e => done(String(e)))",
            vec![],
        )
        .await
        .unwrap();
    let attrs: serde_json::Value = serde_json::from_str(clipboard.as_str().unwrap()).unwrap();
    assert_eq!(attrs["openinference.span.kind"], "EMBEDDING");

    // An exception event shows its type, message and stack trace.
    page.click("#error-demo").await;
    page.wait_text("#spans", "retrieval_error_example").await;
    page.select_span("retrieval_error_example").await;
    let stack = page.text("#details .event.exception pre.stacktrace").await;
    assert!(
        stack.contains("IndexUnavailable: Simulated retriever failure"),
        "{stack}"
    );
    page.assert_clean_console().await;
    page.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spans_table_filters_and_sorts_across_traces() {
    let page = Page::open().await;
    page.ask(SEED_QUESTION, "rag", true).await;
    page.ask(AGENT_QUESTION, "agent", false).await;
    page.ask("", "rag", false).await;
    let in_trace = page.count("#spans tr.span-row").await;
    page.select_by_value("#span-scope", "all").await;
    let all = page.count("#spans tr.span-row").await;
    assert!(all > in_trace + 9, "{all} spans in all, {in_trace} in one");
    assert_eq!(page.text("#span-count").await, format!("{all} spans"));
    // Each row says which question it belongs to.
    assert!(page.text("#spans").await.contains(SEED_QUESTION));

    let kinds = || async {
        page.span_rows()
            .await
            .into_iter()
            .map(|r| (r.1, r.2))
            .collect::<Vec<_>>()
    };
    page.select_by_value("#span-kind", "LLM").await;
    let llm = kinds().await;
    assert!(
        llm.len() >= 3 && llm.iter().all(|k| k.0 == "LLM"),
        "{llm:?}"
    );
    page.select_by_value("#span-kind", "").await;
    page.select_by_value("#span-status", "ERROR").await;
    let errors = kinds().await;
    assert!(!errors.is_empty() && errors.iter().all(|k| k.1 == "ERROR"));
    page.select_by_value("#span-status", "").await;
    page.fill("#span-attr", "tool.name=finish").await;
    let finish = page.span_rows().await;
    assert!(finish.len() == 1 && finish[0].0 == "finish", "{finish:?}");
    page.fill("#span-attr", "=finish").await;
    assert!(page.text("#span-query-error").await.contains("needs a key"));
    page.fill("#span-attr", "").await;
    page.fill("#span-name", "Retrieval").await;
    assert!(page.span_rows().await.iter().all(|r| r.0 == "retrieval"));
    page.fill("#span-name", "").await;

    // Duration: ascending, then descending.
    let durations = || async {
        page.span_rows()
            .await
            .into_iter()
            .map(|r| r.3.parse::<f64>().unwrap())
            .collect::<Vec<_>>()
    };
    page.click("#spans th:nth-child(4) button").await;
    let up = durations().await;
    assert!(up.windows(2).all(|w| w[0] <= w[1]), "{up:?}");
    page.click("#spans th:nth-child(4) button").await;
    let down = durations().await;
    assert!(down.windows(2).all(|w| w[0] >= w[1]), "{down:?}");
    assert_eq!(
        page.js(
            "return document.querySelector('#spans th:nth-child(4)').getAttribute('aria-sort')"
        )
        .await,
        "descending"
    );
    // A row of another trace opens that trace and span.
    page.fill("#span-name", "agent_run").await;
    page.click("#spans tr.span-row").await;
    page.wait_for(|p| async move { p.text("#details").await.starts_with("Span: agent_run") })
        .await;
    assert!(page
        .text("#trace-list li.selected")
        .await
        .contains("agent_run"));
    page.assert_clean_console().await;
    page.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn your_own_documents_are_indexed_and_bad_files_refused() {
    let page = Page::open().await;
    page.click("#corpus-panel > summary").await;
    page.wait_text("#documents-list", "chunks").await;
    assert!(page.text("#documents-list").await.contains("handbook"));

    // Files that are not UTF-8 text, empty, or not .txt/.md are refused, with a reason.
    let png = [
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d,
    ];
    page.upload("#doc-upload", &temp_file("scan.txt", &png))
        .await;
    page.wait_for(|p| async move { !p.text("#corpus-errors").await.is_empty() })
        .await;
    assert!(
        page.text("#corpus-errors")
            .await
            .contains("\"scan.txt\" is not UTF-8 text"),
        "{}",
        page.text("#corpus-errors").await
    );
    page.upload("#doc-upload", &temp_file("photo.png", b"not really"))
        .await;
    page.wait_text("#corpus-errors", "neither a .txt nor a .md")
        .await;
    page.upload("#doc-upload", &temp_file("empty.md", b" \n"))
        .await;
    page.wait_text("#corpus-errors", "is empty").await;
    assert_eq!(page.count("#documents-list li.doc").await, 1);

    // An uploaded file and a pasted text are added, then searched after re-indexing.
    let policy = "# Office policy\n## Parking {#parking}\nThe visitor parking code is 4417 \
                  and the bicycle cellar opens at 6:30 every weekday.\n";
    page.upload("#doc-upload", &temp_file("office.md", policy.as_bytes()))
        .await;
    page.wait_text("#documents-list", "office.md").await;
    page.fill("#doc-name", "kitchen.txt").await;
    page.fill(
        "#doc-text",
        "The kitchen dishwasher runs at 14:00. Mugs go on the top rack.",
    )
    .await;
    page.click("#add-doc").await;
    page.wait_for(|p| async move { p.count("#documents-list li.doc").await == 3 })
        .await;
    assert!(page
        .text("#documents-list")
        .await
        .contains("not indexed yet"));
    page.click("#reindex").await;
    page.wait_text("#corpus-status", "Indexed 3 documents")
        .await;
    let office = page
        .text("#documents-list li.doc[data-name='office.md']")
        .await;
    assert!(office.contains("1 section · 1 chunk"), "{office}");
    assert!(office.contains("parking:1"), "{office}");

    page.ask("What is the visitor parking code?", "rag", false)
        .await;
    assert!(
        page.text("#answer").await.contains("4417"),
        "{}",
        page.text("#answer").await
    );
    assert!(page.text("#cited").await.contains("parking:1"));

    // The indexed documents come back after a reload.
    page.reload().await;
    page.click("#corpus-panel > summary").await;
    page.wait_text("#corpus-status", "Indexed 3 documents")
        .await;
    assert!(page.text("#documents-list").await.contains("kitchen.txt"));
    page.click("#documents-list li.doc[data-name='office.md'] summary")
        .await;
    page.screenshot("e2e-documents.png").await;

    // Without the handbook, the benchmark says its hit@k cannot count.
    page.click("#documents-list li.doc[data-name='handbook'] .remove-doc")
        .await;
    page.click("#reindex").await;
    page.wait_text("#corpus-status", "Indexed 2 documents")
        .await;
    page.click("#bench-summary-toggle").await;
    assert!(page
        .text("#bench-no-handbook")
        .await
        .contains("hit@k will be 0"));

    // Back to the handbook alone.
    page.click("#reset-corpus").await;
    page.wait_text("#corpus-status", "Indexed 1 document:")
        .await;
    assert_eq!(page.count("#documents-list li.doc").await, 1);
    assert_eq!(page.count("#bench-no-handbook").await, 0);
    page.ask("What is the visitor parking code?", "rag", false)
        .await;
    assert!(!page.text("#answer").await.contains("4417"));
    page.assert_clean_console().await;
    page.close().await;
}

/// With the keyboard alone: Tab reaches a trace in the list and a span in the table,
/// Enter or Space chooses it; Space on a trace's checkbox only picks it for comparison.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keyboard_chooses_a_trace_and_a_span() {
    let page = Page::open().await;
    page.ask(SEED_QUESTION, "rag", false).await;
    page.ask(AGENT_QUESTION, "agent", false).await;
    let ids = page.trace_ids().await;
    let older = format!("#trace-list li[data-trace-id='{}']", ids[1]);
    page.press(&older, Key::Enter).await;
    page.wait_text("#spans", "rag_pipeline").await;
    assert_eq!(
        page.js(&format!(
            "return document.querySelector(\"{older}\").classList.contains('selected')"
        ))
        .await,
        true
    );
    page.press("#spans tr.span-row:nth-child(2)", Key::Space)
        .await;
    page.wait_for(|p| async move { p.text("#details").await.starts_with("Span: retrieval") })
        .await;
    // The checkbox keeps its Space: the newer trace is picked, not chosen.
    let newer = format!("#trace-list li[data-trace-id='{}'] .compare-pick", ids[0]);
    page.press(&newer, Key::Space).await;
    assert_eq!(
        page.js(&format!(
            "return document.querySelector(\"{newer}\").checked"
        ))
        .await,
        true
    );
    assert!(page.text("#details").await.starts_with("Span: retrieval"));
    page.assert_clean_console().await;
    page.close().await;
}

/// What a person sees at a laptop's width and on a phone: the page never scrolls
/// sideways (with every panel and a comparison open), every trace's buttons are in
/// view, kinds and statuses are whole, the waterfall's axis labels never run into each
/// other, the latency chart's scale is not cut, and at a laptop's width the span table
/// fits without scrolling.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_stays_readable_at_a_laptop_and_a_phone_width() {
    let page = Page::open().await;
    page.ask(SEED_QUESTION, "rag", false).await;
    page.ask(AGENT_QUESTION, "agent", false).await;
    // Everything open: a comparison (long span paths), the generation's details and
    // replay, and every panel (the models' long embedder names, the benchmark's table…).
    page.js("document.querySelectorAll('#trace-list .compare-pick').forEach(b => b.click()); return null")
        .await;
    page.click("#compare").await;
    assert_eq!(page.count("#compare-spans").await, 1);
    page.select_span("generation").await;
    page.js("document.querySelectorAll('details').forEach(d => d.open = true); return null")
        .await;
    page.wait_for(|p| async move { p.count("#stats-table tbody tr").await > 0 })
        .await;
    for (width, laptop) in [(1024, true), (390, false)] {
        page.client.set_window_size(width, 900).await.unwrap();
        // The window takes its new width within a frame or two.
        page.wait_for(
            |p| async move { layout(p).await["width"].as_u64().unwrap() <= u64::from(width) },
        )
        .await;
        let seen = layout(&page).await;
        assert_eq!(seen["page"], true, "{width}: {seen}");
        assert_eq!(seen["traces"], true, "{width}: {seen}");
        assert_eq!(seen["cells"], serde_json::json!([]), "{width}: {seen}");
        assert!(seen["ticks"].as_u64().unwrap() >= 2, "{width}: {seen}");
        assert_eq!(seen["overlaps"], 0, "{width}: {seen}");
        assert!(
            seen["scale_room"].as_f64().unwrap() >= 0.0,
            "{width}: {seen}"
        );
        if laptop {
            assert_eq!(seen["table"], true, "{width}: {seen}");
        }
    }
    page.assert_clean_console().await;
    page.close().await;
}

/// The critical path and self times the waterfall shows, the statistics view's counts
/// and the flame graph's rectangles equal what the same code computes natively from
/// the downloaded traces.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn critical_path_self_time_statistics_and_flame_graph_match_a_native_computation() {
    use ragtrace::explorer::{stats, store::TraceStore, timing::Timing};
    let page = Page::open().await;
    page.ask(SEED_QUESTION, "rag", false).await;
    page.ask(AGENT_QUESTION, "agent", false).await;
    page.click("#download-all").await;
    let mut store = TraceStore::default();
    store.add(
        ragtrace::telemetry::otlp::from_json(&page.downloaded("ragtrace-traces.json").await)
            .unwrap(),
    );
    let agent = page.trace_ids().await[0].clone();
    let record = store
        .traces
        .iter()
        .find(|t| t.trace_id.to_string() == agent)
        .expect("the agent trace was downloaded");
    let rows = record.rows();
    let timing = Timing::of(&rows);
    let native_path: Vec<String> = rows
        .iter()
        .zip(&timing.critical)
        .filter(|(_, on)| **on)
        .map(|(r, _)| r.span_id.to_string())
        .collect();
    // The agent's steps run one after another: the root and its steps are all on it.
    assert!(native_path.len() >= 3, "{native_path:?}");
    page.trace_tree(&agent).await;
    assert_eq!(page.count("#waterfall .wf-row.critical").await, 0);
    page.click("#critical-path").await;
    let shown = page
        .js("return [...document.querySelectorAll('#waterfall .wf-row')].map(r => [r.dataset.spanId, r.classList.contains('critical'), Number(r.querySelector('.wf-self').dataset.selfMs)])")
        .await;
    let shown = shown.as_array().unwrap();
    assert_eq!(shown.len(), rows.len());
    let page_path: Vec<String> = shown
        .iter()
        .filter(|r| r[1] == true)
        .map(|r| r[0].as_str().unwrap().to_string())
        .collect();
    assert_eq!(page_path, native_path);
    for (r, (row, self_ms)) in shown.iter().zip(rows.iter().zip(&timing.self_ms)) {
        assert_eq!(r[0].as_str(), Some(row.span_id.to_string().as_str()));
        assert!(
            (r[2].as_f64().unwrap() - self_ms).abs() < 1e-6,
            "{r:?} vs {self_ms}"
        );
    }
    // The details say the chosen span's self time too (a phone hides the column).
    page.select_span(&rows[0].name).await;
    let meta = page.text("#details .meta").await;
    let said: f64 = meta
        .split("(self ")
        .nth(1)
        .and_then(|rest| rest.split(" ms)").next())
        .and_then(|ms| ms.parse().ok())
        .unwrap_or_else(|| panic!("{meta}"));
    // Printed to 3 decimals.
    assert!((said - timing.self_ms[0]).abs() <= 5e-4, "{meta}");

    // Statistics over the chosen trace count what its span table lists.
    page.click("#stats-summary").await;
    let mut table: Vec<(String, u64)> = Vec::new();
    for (name, ..) in page.span_rows().await {
        match table.iter_mut().find(|(n, _)| *n == name) {
            Some((_, c)) => *c += 1,
            None => table.push((name, 1)),
        }
    }
    table.sort();
    // The view fills on the details' toggle event, a task after the click.
    page.wait_for(|p| {
        let table = table.clone();
        async move { stats_counts(p).await == table }
    })
    .await;
    // Over every trace, as natively over the download.
    page.select_by_value("#stats-scope", "all").await;
    let all_rows: Vec<_> = store.traces.iter().map(|t| t.rows()).collect();
    // The flame graph: a rectangle per span of the chosen trace; over every trace, a
    // rectangle per path, as natively.
    page.click("#flame-summary").await;
    let frames = rows.len() as u64;
    page.wait_for(|p| async move { p.count("#flame-graph .flame-frame").await == frames })
        .await;
    page.select_by_value("#flame-scope", "all").await;
    let merged = ragtrace::explorer::flame::merged(all_rows.iter().map(Vec::as_slice));
    let spans: usize = merged.iter().map(|f| f.count).sum();
    assert_eq!(
        spans,
        store.traces.iter().map(|t| t.spans.len()).sum::<usize>()
    );
    page.wait_for(|p| {
        let n = merged.len() as u64;
        async move { p.count("#flame-graph .flame-frame").await == n }
    })
    .await;
    let mut native: Vec<(String, u64)> = stats::by_name(all_rows.iter().map(Vec::as_slice))
        .into_iter()
        .map(|s| (s.name, s.count as u64))
        .collect();
    native.sort();
    page.wait_for(|p| {
        let native = native.clone();
        async move { stats_counts(p).await == native }
    })
    .await;
    // "Every trace" is every trace the list shows: its filters apply.
    page.select_by_value("#trace-mode", "agent_run").await;
    let mut agent_only: Vec<(String, u64)> = stats::by_name([rows.as_slice()])
        .into_iter()
        .map(|s| (s.name, s.count as u64))
        .collect();
    agent_only.sort();
    page.wait_for(|p| {
        let agent_only = agent_only.clone();
        async move { stats_counts(p).await == agent_only }
    })
    .await;
    page.assert_clean_console().await;
    page.close().await;
}

/// A RAG and an Agent run of one question, compared: the spans matched by path or by
/// name, the spans only one has, and the documents that changed (the agent searched
/// again with the question's keywords) — as the same code finds natively.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rag_and_an_agent_run_of_one_question_compare_side_by_side() {
    use ragtrace::explorer::{compare::Comparison, store::TraceStore};
    const QUESTION: &str = "Can I bring my dog to the office?";
    let page = Page::open().await;
    // With the hashed embedder the agent's first search is weak, so it searches again:
    // the comparison then has steps and documents only one run has.
    page.click("#models-summary").await;
    page.select_by_value("#local-embedder", "hashed").await;
    page.ask(QUESTION, "rag", false).await;
    page.ask(QUESTION, "agent", false).await;
    assert_eq!(
        page.js("return document.querySelector('#compare').disabled")
            .await,
        true
    );
    // Picked in list order: the agent run (newest) is A, the RAG run B.
    page.js("document.querySelectorAll('#trace-list .compare-pick').forEach(b => b.click()); return null")
        .await;
    page.click("#compare").await;
    page.wait_for(|p| async move { p.count("#comparison").await == 1 })
        .await;

    page.click("#download-all").await;
    let mut store = TraceStore::default();
    store.add(
        ragtrace::telemetry::otlp::from_json(&page.downloaded("ragtrace-traces.json").await)
            .unwrap(),
    );
    let ids = page.trace_ids().await;
    let record = |id: &str| {
        store
            .traces
            .iter()
            .find(|t| t.trace_id.to_string() == id)
            .unwrap()
    };
    let native = Comparison::of(record(&ids[0]), record(&ids[1]));
    let shown: Vec<(String, String)> = serde_json::from_value(
        page.js("return [...document.querySelectorAll('#compare-spans tr.pair')].map(r => [r.dataset.path, r.className])")
            .await,
    )
    .unwrap();
    let expected: Vec<(String, String)> = native
        .pairs
        .iter()
        .map(|p| {
            let side = match (p.left, p.right) {
                (Some(_), None) => "only-a",
                (None, Some(_)) => "only-b",
                _ => "both",
            };
            (p.path.clone(), format!("pair {side}"))
        })
        .collect();
    assert_eq!(shown, expected);
    // The roots match across modes, and so do the steps both runs have.
    assert!(shown.iter().any(|(p, c)| p == "root" && c == "pair both"));
    assert!(shown
        .iter()
        .any(|(p, c)| p.ends_with("/generation") && c == "pair both"));
    assert!(shown
        .iter()
        .any(|(p, c)| p.contains("agent_step") && c == "pair only-a"));
    assert!(shown
        .iter()
        .any(|(p, c)| p == "root/prompt" && c == "pair only-b"));
    // A document only the agent's second search found.
    let changed: Vec<String> = serde_json::from_value(
        page.js("return [...document.querySelectorAll('#compare-documents tr.document.changed')].map(r => r.dataset.id)")
            .await,
    )
    .unwrap();
    let native_changed: Vec<String> = native
        .documents
        .iter()
        .filter(|d| d.changed())
        .map(|d| d.id.clone())
        .collect();
    assert!(!native_changed.is_empty());
    assert_eq!(changed, native_changed);
    page.click("#close-comparison").await;
    assert_eq!(page.count("#comparison").await, 0);
    page.assert_clean_console().await;
    page.close().await;
}

/// An LLM span replayed with an edited system message and another temperature: a new
/// trace whose root links to the original span, carrying the edit, opened beside the
/// original.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_llm_call_replays_as_a_linked_trace_beside_the_original() {
    let page = Page::open().await;
    page.ask(SEED_QUESTION, "rag", false).await;
    let original = page.trace_ids().await[0].clone();
    page.select_span("generation").await;
    page.click("#replay-summary").await;
    page.js("const t = document.querySelector('#replay-message-0'); t.value = 'Answer in one sentence.'; t.dispatchEvent(new Event('input')); return null")
        .await;
    // A temperature out of range is refused in words, and nothing is filed.
    page.fill("#replay-temperature", "5").await;
    page.click("#replay-run").await;
    page.wait_text(
        "#replay-status",
        "The temperature must be a number from 0 to 2.",
    )
    .await;
    assert_eq!(page.trace_ids().await.len(), 1);
    page.fill("#replay-temperature", "0.7").await;
    page.click("#replay-run").await;
    page.wait_text("#replay-status", "Replayed:").await;
    page.wait_for(|p| async move { p.count("#comparison").await == 1 })
        .await;
    let ids = page.trace_ids().await;
    assert_eq!(ids.len(), 2);
    let replayed = ids[0].clone();
    assert_ne!(replayed, original);
    assert!(page.text("#trace-list").await.contains("replay"));
    assert!(page
        .js("return [...document.querySelectorAll('#compare-spans tr.pair.both')].map(r => r.dataset.path)")
        .await
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p == "root/generation"));

    // In the file: the replay's root links to the original generation span, and its
    // generation carries the edited message.
    page.click("#download-all").await;
    let file: serde_json::Value =
        serde_json::from_str(&page.downloaded("ragtrace-traces.json").await).unwrap();
    let spans: Vec<&serde_json::Value> = file["resourceSpans"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["scopeSpans"].as_array().unwrap())
        .flat_map(|s| s["spans"].as_array().unwrap())
        .collect();
    let named = |trace: &str, name: &str| {
        spans
            .iter()
            .find(|s| s["traceId"] == trace && s["name"] == name)
            .copied()
            .unwrap_or_else(|| panic!("no {name} in {trace}"))
    };
    let link = &named(&replayed, "replay")["links"][0];
    assert_eq!(link["traceId"], original.as_str());
    assert_eq!(link["spanId"], named(&original, "generation")["spanId"]);
    let generation = named(&replayed, "generation").to_string();
    assert!(
        generation.contains("Answer in one sentence."),
        "{generation}"
    );
    page.assert_clean_console().await;
    page.close().await;
}

/// What the layout looks like at the window's width (see
/// `the_page_stays_readable_at_a_laptop_and_a_phone_width`).
async fn layout(page: &Page) -> serde_json::Value {
    page.js(r#"
        const fits = e => e.scrollWidth <= e.clientWidth;
        const ticks = [...document.querySelectorAll('.wf-tick')]
            .filter(t => t.getClientRects().length)
            .map(t => t.getBoundingClientRect());
        return {
            width: document.documentElement.clientWidth,
            page: fits(document.documentElement),
            traces: fits(document.querySelector('#trace-list')),
            cells: [...document.querySelectorAll('#spans td.kind, #spans td.status')]
                .filter(td => !fits(td)).map(td => td.textContent),
            ticks: ticks.length,
            overlaps: ticks.slice(1).filter((r, i) => r.left < ticks[i].right).length,
            table: fits(document.querySelector('#spans').parentElement),
            // The chart's scale has room for its longest label (a remote model's
            // 60 s time-out), whatever this run's latencies were.
            scale_room: (() => {
                const tick = document.querySelector('#latency-chart text.tick');
                const probe = tick.cloneNode();
                probe.textContent = '60000.0 ms';
                tick.parentNode.appendChild(probe);
                const left = probe.getBBox().x;
                probe.remove();
                return left;
            })(),
        };
    "#)
        .await
}

/// The statistics table's (span name, count) rows, sorted.
async fn stats_counts(page: &Page) -> Vec<(String, u64)> {
    let v = page
        .js("return [...document.querySelectorAll('#stats-table tbody tr')].map(r => [r.dataset.name, Number(r.dataset.count)])")
        .await;
    let mut counts: Vec<(String, u64)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r[0].as_str().unwrap().to_string(), r[1].as_u64().unwrap()))
        .collect();
    counts.sort();
    counts
}

/// Speed figures of the explorer in the release page (printed, nothing asserted about
/// speed): rendering the waterfall of a 2,000-span trace, and indexing 10 MB of
/// documents with the longest pause of the page's main thread meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: make bench runs it"]
async fn explorer_figures() {
    let page = Page::open().await;
    // A 2,000-span trace, imported as OTLP JSON like any downloaded trace.
    let trace = temp_file("big-trace.json", ragtrace_trace_json(2_000).as_bytes());
    page.upload("#import", &trace).await;
    page.wait_for(|p| async move { p.count("#trace-list li").await == 1 })
        .await;
    let mut renders = Vec::new();
    for _ in 0..5 {
        let ms = page
            .client
            .execute_async(
                r#"const done = arguments[0];
                   // A freshly imported trace: its waterfall is built from scratch.
                   const li = document.querySelector('#trace-list li');
                   const t0 = performance.now();
                   li.click();
                   const check = () => {
                     if (document.querySelector('#waterfall[data-rows="2000"] .wf-row')) {
                       document.body.offsetHeight; // layout included
                       done(performance.now() - t0);
                     } else { setTimeout(check, 0); }
                   };
                   setTimeout(check, 0);"#,
                vec![],
            )
            .await
            .unwrap()
            .as_f64()
            .unwrap();
        renders.push(ms);
        page.click("#trace-list li .delete-trace").await;
        page.upload("#import", &trace).await;
        page.wait_for(|p| async move { p.count("#trace-list li").await == 1 })
            .await;
    }
    println!(
        "explorer: waterfall of a 2,000-span trace rendered in {}",
        super::figures::Runs::new(renders).spread("ms")
    );
    // Its flame graph: a rectangle per span, drawn from scratch each time it opens.
    page.click("#trace-list li").await;
    let flames = time_in_page(
        &page,
        "document.querySelector('#flame-panel').open = false;",
        "document.querySelector('#flame-panel').open = true;",
        "document.querySelectorAll('#flame-graph .flame-frame').length === 2000",
    )
    .await;
    println!(
        "explorer: flame graph of a 2,000-span trace drawn in {}",
        flames.spread("ms")
    );
    // Two 2,000-span traces compared: from the click to the table of 2,000 pairs.
    let other = temp_file("other-trace.json", ragtrace_trace_json(2_000).as_bytes());
    page.upload("#import", &other).await;
    page.wait_for(|p| async move { p.count("#trace-list li").await == 2 })
        .await;
    page.js("document.querySelectorAll('#trace-list .compare-pick').forEach(b => b.click()); return null")
        .await;
    let compares = time_in_page(
        &page,
        "const close = document.querySelector('#close-comparison'); if (close) close.click();",
        "document.querySelector('#compare').click();",
        "document.querySelectorAll('#compare-spans tr.pair').length === 2000",
    )
    .await;
    println!(
        "explorer: two 2,000-span traces compared and shown in {}",
        compares.spread("ms")
    );

    let big = super::figures::ten_megabyte_corpus();
    let file = temp_file("ten-mb.md", big.as_bytes());
    page.click("#corpus-panel > summary").await;
    page.upload("#doc-upload", &file).await;
    page.wait_text("#documents-list", "ten-mb.md").await;
    let figures = page
        .client
        .execute_async(
            r#"const done = arguments[0];
               let last = performance.now(), longest = 0;
               const tick = setInterval(() => {
                 const now = performance.now();
                 longest = Math.max(longest, now - last);
                 last = now;
               }, 5);
               const t0 = performance.now();
               document.querySelector('#reindex').click();
               const check = () => {
                 const s = document.querySelector('#corpus-status');
                 if (s && s.textContent.startsWith('Indexed')) {
                   clearInterval(tick);
                   done([performance.now() - t0, longest, s.textContent]);
                 } else { setTimeout(check, 20); }
               };
               setTimeout(check, 20);"#,
            vec![],
        )
        .await
        .unwrap();
    println!(
        "explorer: indexed {:.1} MB of documents in {:.0} ms; longest main-thread pause meanwhile {:.0} ms ({})",
        big.len() as f64 / 1_048_576.0,
        figures[0].as_f64().unwrap(),
        figures[1].as_f64().unwrap(),
        figures[2].as_str().unwrap()
    );
    page.close().await;
    page_ready_figures().await;
}

/// When the page can first answer (its `ragtrace:ready` mark) on an empty profile, and
/// again with 1,000 traces stored, with when they are back (`ragtrace:restored`), over
/// five loads each.
async fn page_ready_figures() {
    let page = Page::open().await;
    let mut empty = Vec::new();
    for _ in 0..5 {
        page.reload().await;
        empty.push(marks(&page).await.0);
    }
    let file = temp_file("many-traces.json", many_traces_json(1_000).as_bytes());
    page.upload("#import", &file).await;
    // Every trace is in IndexedDB before the reloads.
    page.wait_for(|p| async move {
        p.client
            .execute_async(
                r#"const done = arguments[0];
                   const open = indexedDB.open('ragtrace');
                   open.onsuccess = () => {
                     const count = open.result.transaction('traces').objectStore('traces').count();
                     count.onsuccess = () => { done(count.result); open.result.close(); };
                   };"#,
                vec![],
            )
            .await
            .unwrap()
            == 1_000
    })
    .await;
    let (mut ready, mut restored) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        page.reload().await;
        page.wait_for(|p| async move { p.count("#trace-list li").await > 0 })
            .await;
        let (r, back) = marks(&page).await;
        ready.push(r);
        restored.push(back);
    }
    let spread = |runs| super::figures::Runs::new(runs).spread("ms");
    println!(
        "explorer: page ready to ask, empty profile: {}",
        spread(empty)
    );
    println!(
        "explorer: page ready to ask with 1,000 traces stored: {}; traces restored at {}",
        spread(ready),
        spread(restored)
    );
    page.close().await;
}

/// Five timings in the page, in ms: after `reset` and a pause, from running `start`
/// until `ready` holds, layout included.
async fn time_in_page(page: &Page, reset: &str, start: &str, ready: &str) -> super::figures::Runs {
    let script = format!(
        r#"const done = arguments[0];
           {reset}
           setTimeout(() => {{
             const t0 = performance.now();
             {start}
             const check = () => {{
               if ({ready}) {{
                 document.body.offsetHeight; // layout included
                 done(performance.now() - t0);
               }} else {{ setTimeout(check, 0); }}
             }};
             setTimeout(check, 0);
           }}, 50);"#
    );
    let mut runs = Vec::new();
    for _ in 0..5 {
        let ms = page.client.execute_async(&script, vec![]).await.unwrap();
        runs.push(ms.as_f64().unwrap());
    }
    super::figures::Runs::new(runs)
}

/// When this load of the page was ready to ask and had its traces back, in ms since it
/// began loading.
async fn marks(page: &Page) -> (f64, f64) {
    page.wait_for(|p| async move {
        p.js("return performance.getEntriesByName('ragtrace:restored').length")
            .await
            == 1
    })
    .await;
    let mut at = [0.0; 2];
    for (mark, name) in at.iter_mut().zip(["ragtrace:ready", "ragtrace:restored"]) {
        let script = format!("return performance.getEntriesByName('{name}')[0].startTime");
        *mark = page.js(&script).await.as_f64().unwrap();
    }
    (at[0], at[1])
}

/// `n` small traces (a root and four children each) as one OTLP JSON file.
fn many_traces_json(n: usize) -> String {
    use ragtrace::telemetry::names::SpanName;
    use ragtrace::telemetry::provider::Telemetry;
    use ragtrace::telemetry::redact::Redaction;
    use ragtrace::telemetry::semconv as sc;
    use ragtrace::telemetry::span::Traced;
    let telemetry = Telemetry::new("bench");
    for i in 0..n {
        let root = Traced::root(&telemetry.tracer, SpanName::RagPipeline);
        root.set(sc::INPUT_VALUE, format!("question {i}"));
        for name in [
            SpanName::Retrieval,
            SpanName::CreateEmbeddings,
            SpanName::Prompt,
            SpanName::Generation,
        ] {
            root.child(name)
                .set(sc::OUTPUT_VALUE, format!("output {i}"));
        }
    }
    let spans = telemetry.take_finished(&Redaction::default());
    ragtrace::telemetry::otlp::to_json(spans, &telemetry.resource)
}

/// One trace of `n` spans as OTLP JSON: a root with agent steps, each with a few
/// children, recorded by the crate's own telemetry.
fn ragtrace_trace_json(n: usize) -> String {
    use ragtrace::telemetry::names::{SpanName, Tool};
    use ragtrace::telemetry::provider::Telemetry;
    use ragtrace::telemetry::redact::Redaction;
    use ragtrace::telemetry::semconv as sc;
    use ragtrace::telemetry::span::Traced;
    let telemetry = Telemetry::new("bench");
    {
        let root = Traced::root(&telemetry.tracer, SpanName::AgentRun);
        root.set(sc::INPUT_VALUE, "a very long agent run");
        let mut made = 1;
        while made < n {
            let step = root.child(SpanName::AgentStep);
            made += 1;
            for name in [
                SpanName::Retrieval,
                SpanName::Generation,
                SpanName::Tool(Tool::Retrieve),
            ] {
                if made < n {
                    let child = step.child(name);
                    child.set(sc::RETRIEVAL_QUERY, format!("query {made}"));
                    made += 1;
                }
            }
        }
    }
    let spans = telemetry.take_finished(&Redaction::default());
    assert_eq!(spans.len(), n);
    ragtrace::telemetry::otlp::to_json(spans, &telemetry.resource)
}
