//! The Leptos page. Components only render and wire signals; the work is done by
//! [`crate::rag`] and recorded by [`crate::telemetry`].
//!
//! - [`ask`]: the question form and the answer with its cited chunks.
//! - [`fields`]: settings inputs shared by the panels.
//! - [`models`]: the model panel (offline, or an OpenAI-compatible server).
//! - [`export`]: the Phoenix panel (settings, export, retry, download, import).
//! - [`traces`]: the list of traces asked so far.
//! - [`spans`]: the span table, the waterfall and the details of one span.

mod ask;
mod export;
mod fields;
mod models;
mod spans;
mod traces;

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::model::offline::OfflineChat;
use crate::model::Either;
use crate::rag::embed::HashEmbedder;
use crate::rag::engine::Engine;
use crate::rag::pipeline::{self, AskOptions, Mode, Models};
use crate::telemetry::provider::Telemetry;
use crate::telemetry::store::{SpanRow, TraceStore};
use crate::HANDBOOK_MD;

/// The Phoenix project the page's spans belong to.
const PROJECT: &str = "ragtrace";

/// Mounts the page on `<body>`.
pub fn mount() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

/// The last question's result, as the answer panel shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LastAnswer {
    pub question: String,
    pub mode: Mode,
    pub result: Result<pipeline::Answer, String>,
}

#[component]
fn App() -> impl IntoView {
    let telemetry = Arc::new(Telemetry::new(PROJECT));
    let engine: RwSignal<Option<Arc<Engine>>> = RwSignal::new(None);
    let index_error: RwSignal<Option<String>> = RwSignal::new(None);
    spawn_local(async move {
        match Engine::build(&[("handbook", HANDBOOK_MD)], &HashEmbedder).await {
            Ok(e) => engine.set(Some(Arc::new(e))),
            Err(e) => index_error.set(Some(format!("The handbook could not be indexed: {e}"))),
        }
    });

    let question = RwSignal::new(String::new());
    let mode = RwSignal::new(Mode::Rag);
    let busy = RwSignal::new(false);
    let store = RwSignal::new(TraceStore::default());
    let exporter = export::Exporter::new(store);
    let models = models::ModelChoice::new();
    let live = RwSignal::new(String::new());
    let last: RwSignal<Option<LastAnswer>> = RwSignal::new(None);
    let selected_trace: RwSignal<Option<String>> = RwSignal::new(None);
    let selected_span: RwSignal<Option<String>> = RwSignal::new(None);

    let on_ask = Callback::new(move |()| {
        let Some(offline_engine) = engine.get_untracked() else {
            return;
        };
        if busy.get_untracked() {
            return;
        }
        let (q, m) = (question.get_untracked(), mode.get_untracked());
        let remote = match models.remote() {
            Ok(r) => r,
            Err(e) => {
                last.set(Some(LastAnswer {
                    question: q,
                    mode: m,
                    result: Err(format!("{e}.")),
                }));
                return;
            }
        };
        busy.set(true);
        live.set(String::new());
        let telemetry = telemetry.clone();
        spawn_local(async move {
            let on_delta = move |delta: &str| live.update(|s| s.push_str(delta));
            let (chat, embedder, engine) = match &remote {
                None => (
                    Either::Left(OfflineChat),
                    Either::Left(HashEmbedder),
                    offline_engine,
                ),
                Some(r) => {
                    let engine = match models.indexed(&r.client) {
                        Some(e) => e,
                        None => match Engine::build_traced(
                            &[("handbook", HANDBOOK_MD)],
                            &r.client,
                            &telemetry.tracer,
                        )
                        .await
                        {
                            Ok(e) => {
                                let e = Arc::new(e);
                                models.keep_index(&r.client, e.clone());
                                e
                            }
                            Err(e) => {
                                store.update(|s| {
                                    s.add(telemetry.take_finished(&exporter.redaction()));
                                });
                                let message = format!(
                                    "The handbook could not be indexed with {}: {e}.",
                                    r.client.config.embedding_model
                                );
                                last.set(Some(LastAnswer {
                                    question: q,
                                    mode: m,
                                    result: Err(message),
                                }));
                                busy.set(false);
                                return;
                            }
                        },
                    };
                    (
                        Either::Right(r.client.clone()),
                        Either::Right(r.client.clone()),
                        engine,
                    )
                }
            };
            let models = Models {
                chat: &chat,
                embedder: &embedder,
                live: Some(&on_delta),
            };
            let opts = AskOptions {
                mode: m,
                ..Default::default()
            };
            let outcome = pipeline::ask(&engine, models, &telemetry.tracer, &q, opts).await;
            let spans = telemetry.take_finished(&exporter.redaction());
            store.update(|s| {
                s.add(spans);
            });
            selected_trace.set(Some(outcome.trace_id));
            selected_span.set(None);
            last.set(Some(LastAnswer {
                question: q,
                mode: m,
                result: outcome.result.map_err(|e| e.to_string()),
            }));
            busy.set(false);
            if exporter.settings.with_untracked(|s| s.auto_export) {
                exporter.export_now();
            }
        });
    });

    let rows: Memo<Vec<SpanRow>> = Memo::new(move |_| {
        let id = selected_trace.get();
        store.with(|s| {
            id.and_then(|id| s.get(&id).map(|t| t.rows()))
                .unwrap_or_default()
        })
    });

    view! {
        <header>
            <h1>"ragtrace"</h1>
            <p class="tagline">"Ask the employee handbook. Every step of the answer is an OpenTelemetry span with OpenInference attributes."</p>
            <p class="models-label" id="models-label">{move || models.describe()}</p>
        </header>
        <main>
            <section class="ask-panel">
                <ask::AskForm question mode busy ready=Signal::derive(move || engine.with(Option::is_some)) on_ask />
                {move || index_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <Show when=move || busy.get()>
                    <div class="live">
                        <button id="stop" type="button" on:click=move |_| models.stop()>"Stop"</button>
                        <p id="live-answer">{move || live.get()}</p>
                    </div>
                </Show>
                <ask::AnswerView last />
                <models::ModelPanel models />
                <export::ExportPanel exporter />
            </section>
            <section class="trace-panel" id="trace-panel">
                <traces::TraceList exporter selected_trace selected_span />
                <spans::SpanTable rows selected_span />
                <spans::Waterfall rows selected_span />
                <spans::SpanDetails rows selected_span />
            </section>
        </main>
    }
}
