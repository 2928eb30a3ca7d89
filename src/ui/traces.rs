//! The list of traces asked so far, newest first; choosing one shows its spans.

use leptos::prelude::*;

use super::export::Exporter;
use crate::telemetry::semconv;
use crate::telemetry::store::ExportState;

#[component]
pub fn TraceList(
    exporter: Exporter,
    selected_trace: RwSignal<Option<String>>,
    selected_span: RwSignal<Option<String>>,
) -> impl IntoView {
    let store = exporter.store;
    let items = move || {
        store.with(|s| {
            s.traces
                .iter()
                .rev()
                .map(|t| {
                    let id = t.trace_id.clone();
                    let (name, question) = t.root().map_or((String::new(), String::new()), |r| {
                        let q = r.attributes.iter().find(|kv| kv.key.as_str() == semconv::INPUT_VALUE);
                        (r.name.to_string(), q.map(|kv| kv.value.to_string()).unwrap_or_default())
                    });
                    let status = if t.has_error() { "ERROR" } else { "OK" };
                    let export_class = format!("export-state {}", t.export.label());
                    let export_label = t.export.label();
                    let export_reason = match &t.export {
                        ExportState::Failed(reason) => reason.clone(),
                        _ => String::new(),
                    };
                    let download_id = id.clone();
                    let data_id = id.clone();
                    let summary = format!("{} spans · {:.1} ms", t.spans.len(), t.duration_ms());
                    let select_id = id.clone();
                    view! {
                        <li
                            class="trace-item"
                            data-trace-id=data_id
                            class:selected=move || selected_trace.get().as_deref() == Some(id.as_str())
                            on:click=move |_| {
                                selected_trace.set(Some(select_id.clone()));
                                selected_span.set(None);
                            }
                        >
                            <span class="trace-name">{name}</span>
                            <span class=format!("status {}", status.to_lowercase())>{status}</span>
                            <span class="trace-question">{question}</span>
                            <span class="trace-summary">{summary}</span>
                            <span class=export_class title=export_reason>{export_label}</span>
                            <button
                                class="download-trace"
                                type="button"
                                title="Download this trace as OTLP JSON"
                                on:click=move |ev| {
                                    ev.stop_propagation();
                                    let spans = store.with_untracked(|s| s.spans_of(std::slice::from_ref(&download_id)));
                                    exporter.download(spans, &format!("trace-{download_id}.json"));
                                }
                            >
                                "⬇"
                            </button>
                        </li>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <div class="traces">
            <h2>"Traces"</h2>
            <Show when=move || store.with(|s| !s.traces.is_empty()) fallback=|| view! { <p class="hint">"Ask a question to record its first trace."</p> }>
                <ul id="trace-list">{items}</ul>
            </Show>
        </div>
    }
}
