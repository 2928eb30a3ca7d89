//! The list of traces asked so far, newest first, with search, status and kind filters,
//! delete and "Clear all"; choosing one shows its spans.

use leptos::prelude::*;

use super::exporter::Exporter;
use crate::explorer::store::{ExportState, StoreChange, TraceFilter};
use crate::telemetry::names::SpanName;
use crate::telemetry::semconv;

#[component]
pub fn TraceList(
    exporter: Exporter,
    selected_trace: RwSignal<Option<String>>,
    selected_span: RwSignal<Option<String>>,
) -> impl IntoView {
    let store = exporter.store;
    let filter = RwSignal::new(TraceFilter::default());
    let forget = move |id: &str| {
        store.update(|s| s.remove(id));
        exporter.tell_tabs(&StoreChange::Removed(id.to_string()));
        if selected_trace.get_untracked().as_deref() == Some(id) {
            selected_trace.set(None);
        }
    };
    let clear_all = move |_| {
        let sure = web_sys::window()
            .and_then(|w| {
                w.confirm_with_message("Delete every trace from this page?")
                    .ok()
            })
            .unwrap_or(false);
        if sure {
            store.update(|s| s.traces.clear());
            exporter.tell_tabs(&StoreChange::Cleared);
            selected_trace.set(None);
        }
    };
    let items = move || {
        let filter = filter.get();
        store.with(|s| {
            s.traces
                .iter()
                .rev()
                .filter(|t| t.matches(&filter))
                .map(|t| {
                    let id = t.trace_id.clone();
                    let (name, question) = t.root().map_or((String::new(), String::new()), |r| {
                        let q = r.attributes.iter().find(|kv| kv.key.as_str() == semconv::INPUT_VALUE);
                        (r.name.to_string(), q.map(|kv| kv.value.to_string()).unwrap_or_default())
                    });
                    let status = if t.has_error() { "ERROR" } else { "OK" };
                    let export = t.export();
                    let export_class = format!("export-state {}", export.label());
                    let export_label = export.label();
                    let export_reason = match &export {
                        ExportState::Failed(reason) => reason.clone(),
                        _ => String::new(),
                    };
                    let download_id = id.clone();
                    let delete_id = id.clone();
                    let started = t.root().map(|r| local_time(r.start_time)).unwrap_or_default();
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
                            <span class="trace-summary">{started}" · "{summary}</span>
                            <span class=export_class title=export_reason>{export_label}</span>
                            <button
                                class="download-trace"
                                type="button"
                                title="Download this trace as OTLP JSON"
                                on:click=move |ev| {
                                    ev.stop_propagation();
                                    let spans = store.with_untracked(|s| s.get(&download_id).map(|t| t.spans.clone()).unwrap_or_default());
                                    exporter.download(spans, &format!("trace-{download_id}.json"));
                                }
                            >
                                "⬇"
                            </button>
                            <button
                                class="delete-trace"
                                type="button"
                                title="Delete this trace"
                                on:click=move |ev| {
                                    ev.stop_propagation();
                                    forget(&delete_id);
                                }
                            >
                                "✕"
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
                <div class="trace-filters">
                    <input
                        id="trace-search"
                        type="search"
                        placeholder="Search questions"
                        aria-label="Search traces"
                        prop:value=move || filter.with(|f| f.text.clone())
                        on:input=move |ev| filter.update(|f| f.text = event_target_value(&ev))
                    />
                    <select id="trace-status" aria-label="Status" on:change=move |ev| filter.update(|f| f.errors = match event_target_value(&ev).as_str() {
                        "error" => Some(true),
                        "ok" => Some(false),
                        _ => None,
                    })>
                        <option value="all">"Any status"</option>
                        <option value="ok">"OK"</option>
                        <option value="error">"ERROR"</option>
                    </select>
                    <select id="trace-mode" aria-label="Kind" on:change=move |ev| filter.update(|f| {
                        let value = event_target_value(&ev);
                        f.root = SpanName::ROOTS.into_iter().find(|r| r.as_str() == value);
                    })>
                        <option value="all">"Any kind"</option>
                        {SpanName::ROOTS.map(|r| view! { <option value=r.as_str()>{r.label()}</option> })}
                    </select>
                    <button id="clear-traces" type="button" on:click=clear_all>"Clear all"</button>
                </div>
                <ul id="trace-list">{items}</ul>
            </Show>
        </div>
    }
}

/// `HH:MM:SS` in the viewer's time zone.
fn local_time(t: std::time::SystemTime) -> String {
    let ms = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms));
    format!(
        "{:02}:{:02}:{:02}",
        date.get_hours(),
        date.get_minutes(),
        date.get_seconds()
    )
}
