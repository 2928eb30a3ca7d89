//! The list of traces asked so far, newest first; choosing one shows its spans.

use leptos::prelude::*;

use crate::telemetry::semconv;
use crate::telemetry::store::TraceStore;

#[component]
pub fn TraceList(
    store: RwSignal<TraceStore>,
    selected_trace: RwSignal<Option<String>>,
    selected_span: RwSignal<Option<String>>,
) -> impl IntoView {
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
                    let summary = format!("{} spans · {:.1} ms", t.spans.len(), t.duration_ms());
                    let select_id = id.clone();
                    view! {
                        <li
                            class="trace-item"
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
