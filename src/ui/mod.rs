//! The Leptos page. Components only render and wire signals; the work is done by
//! [`crate::rag`] and recorded by [`crate::telemetry`].
//!
//! - [`runner`]: asks a question with the chosen models and files its spans.
//! - [`ask`]: the question form and the answer with its cited chunks.
//! - [`bench`]: the benchmark over the bundled query set.
//! - [`chart`]: the per-query latency chart.
//! - [`documents`]: the documents questions are answered from, and their indexing;
//!   [`corpus`] is their panel.
//! - [`files`]: OTLP/JSON download and import.
//! - [`fields`]: settings inputs shared by the panels.
//! - [`models`]: the model panel (offline, or an OpenAI-compatible server).
//! - [`exporter`]: export, retries, flush on hide, download and import;
//!   [`export`] is the Phoenix panel.
//! - [`persist`]: traces kept in IndexedDB across reloads.
//! - [`traces`]: the list of traces asked so far.
//! - [`spans`]: the span table, the waterfall and the details of one span.

mod ask;
mod bench;
mod chart;
mod compare;
mod corpus;
mod documents;
mod export;
mod exporter;
mod fields;
mod files;
mod flame;
mod models;
mod persist;
mod replay;
mod runner;
mod spans;
mod stats;
mod traces;

use std::rc::Rc;

use leptos::prelude::*;
use opentelemetry::trace::{SpanId, TraceId};

use crate::app::ask::Session;
use crate::browser::storage;
use crate::explorer::rows::SpanRow;
use crate::explorer::store::{TraceFilter, TraceStore};
use crate::explorer::timing::Timing;
use crate::rag::pipeline::{self, Mode};

/// Mounts the page on `<body>`.
pub fn mount() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

/// The last question's result, as the answer panel shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LastAnswer {
    /// The trace it made (feedback goes on its root span).
    pub trace_id: Option<TraceId>,
    pub question: String,
    pub mode: Mode,
    pub result: Result<pipeline::Answer, String>,
}

#[component]
fn App() -> impl IntoView {
    let corpus = documents::Corpus::new();

    let busy = RwSignal::new(false);
    let store = RwSignal::new(TraceStore::default());
    let exporter = exporter::Exporter::new(store);
    let models = models::ModelChoice::new();
    let live = RwSignal::new(String::new());
    let selected_trace: RwSignal<Option<TraceId>> = RwSignal::new(None);
    let selected_span: RwSignal<Option<SpanId>> = RwSignal::new(None);
    let restored = RwSignal::new(false);
    let comparing: RwSignal<Option<(TraceId, TraceId)>> = RwSignal::new(None);
    let trace_filter = RwSignal::new(TraceFilter::default());
    let storage_notice: RwSignal<Option<String>> = RwSignal::new(None);
    persist::keep(store, restored, storage_notice);
    exporter.resume_when(restored);
    deep_link(restored, selected_trace, selected_span);

    let runner = runner::Runner {
        // One session per browser tab; spans name the project chosen when it opened
        // (each export names the project chosen then).
        session: StoredValue::new_local(Rc::new(Session::new(
            &exporter.settings.with_untracked(|s| s.project.clone()),
            storage::session_id(),
        ))),
        corpus,
        models,
        exporter,
        store,
        live,
        stopped: StoredValue::new(false),
    };
    milestones(corpus, restored);
    let show = move |trace_id: Option<TraceId>| {
        if trace_id.is_some() {
            selected_trace.set(trace_id);
            selected_span.set(None);
        }
    };
    let rows: Memo<Vec<SpanRow>> = Memo::new(move |_| {
        let id = selected_trace.get();
        store.with(|s| {
            id.and_then(|id| s.get(id).map(|t| t.rows()))
                .unwrap_or_default()
        })
    });
    // Self times and the critical path: the waterfall draws them, the details say them.
    let timing: Memo<Timing> = Memo::new(move |_| rows.with(|r| Timing::of(r)));

    view! {
        <header>
            <h1>"ragtrace"</h1>
            <p class="tagline">"Ask the employee handbook. Every step of the answer is an OpenTelemetry span with OpenInference attributes."</p>
            <p class="models-label" id="models-label">{move || models.describe()}</p>
        </header>
        <main>
            <section class="ask-panel">
                <ask::Asking runner busy show />
                <bench::BenchPanel runner busy show />
                <corpus::CorpusPanel corpus />
                <models::ModelPanel models />
                <export::ExportPanel exporter />
            </section>
            <section class="trace-panel" id="trace-panel">
                {move || storage_notice.get().map(|n| view! { <p id="storage-notice" class="note">{n}</p> })}
                <traces::TraceList exporter selected_trace selected_span comparing filter=trace_filter />
                <compare::CompareView store comparing />
                <spans::SpanTable store selected_trace selected_span />
                <spans::Waterfall rows timing selected_span />
                <spans::SpanDetails rows timing selected_span />
                <replay::ReplayPanel runner rows selected_trace selected_span comparing />
                <stats::Statistics store selected_trace filter=trace_filter />
                <flame::FlameGraph store rows selected_span filter=trace_filter />
                <chart::LatencyChart store />
            </section>
        </main>
    }
}

/// The keydown handler of a focusable list row (a trace, a span): Enter or Space on the
/// row itself does what a click does; a checkbox or button inside it keeps its own keys.
fn choosing_keys(choose: impl Fn() + 'static) -> impl Fn(leptos::ev::KeyboardEvent) + 'static {
    move |ev| {
        if ev.target() == ev.current_target() && matches!(ev.key().as_str(), "Enter" | " ") {
            ev.prevent_default(); // Space would scroll the page
            choose();
        }
    }
}

/// Marks, once each, when the page can first answer (`ragtrace:ready`) and when the
/// stored traces are back (`ragtrace:restored`).
fn milestones(corpus: documents::Corpus, restored: RwSignal<bool>) {
    let marked = StoredValue::new((false, false));
    Effect::new(move |_| {
        let (ready, back) = (corpus.indexed.with(Option::is_some), restored.get());
        let (was_ready, was_back) = marked.get_value();
        if ready && !was_ready {
            crate::browser::mark("ragtrace:ready");
        }
        if back && !was_back {
            crate::browser::mark("ragtrace:restored");
        }
        marked.set_value((ready || was_ready, back || was_back));
    });
}

/// Deep links: the URL fragment `#/trace/<trace id>/span/<span id>` follows the chosen
/// trace and span, and chooses them when the page opens (once earlier traces are back).
fn deep_link(
    restored: RwSignal<bool>,
    selected_trace: RwSignal<Option<TraceId>>,
    selected_span: RwSignal<Option<SpanId>>,
) {
    let opened = StoredValue::new(false);
    Effect::new(move |_| {
        if !restored.get() || opened.get_value() {
            return;
        }
        opened.set_value(true);
        let hash = web_sys::window()
            .and_then(|w| w.location().hash().ok())
            .unwrap_or_default();
        let parts: Vec<&str> = hash
            .trim_start_matches('#')
            .split('/')
            .filter(|p| !p.is_empty())
            .collect();
        if let ["trace", trace, rest @ ..] = parts.as_slice() {
            selected_trace.set(TraceId::from_hex(trace).ok());
            selected_span.set(match rest {
                ["span", span] => SpanId::from_hex(span).ok(),
                _ => None,
            });
        }
    });
    Effect::new(move |_| {
        let (trace, span) = (selected_trace.get(), selected_span.get());
        if !opened.get_value() {
            return;
        }
        let fragment = match (trace, span) {
            (Some(t), Some(s)) => format!("#/trace/{t}/span/{s}"),
            (Some(t), None) => format!("#/trace/{t}"),
            _ => String::new(),
        };
        if let Some(w) = web_sys::window() {
            let path = w.location().pathname().unwrap_or_default();
            // replaceState: following the selection must not flood the history.
            let _ = w.history().and_then(|h| {
                h.replace_state_with_url(
                    &wasm_bindgen::JsValue::NULL,
                    "",
                    Some(&format!("{path}{fragment}")),
                )
            });
        }
    });
}
