//! The list of traces asked so far, newest first, with search, status and kind filters,
//! delete and "Clear all"; choosing one shows its spans; picking two and "Compare"
//! shows them side by side.

use leptos::prelude::*;
use opentelemetry::trace::{SpanId, TraceId};

use super::exporter::Exporter;
use crate::explorer::store::{ExportState, StoreChange, TraceFilter, TraceRecord, TraceSummary};
use crate::telemetry::names::SpanName;

#[component]
pub fn TraceList(
    exporter: Exporter,
    selected_trace: RwSignal<Option<TraceId>>,
    selected_span: RwSignal<Option<SpanId>>,
    comparing: RwSignal<Option<(TraceId, TraceId)>>,
    /// Which traces the list shows (the statistics and flame graph of "every trace"
    /// follow it).
    filter: RwSignal<TraceFilter>,
) -> impl IntoView {
    let store = exporter.store;
    // The traces picked for comparison, the latest two.
    let picked: RwSignal<Vec<TraceId>> = RwSignal::new(Vec::new());
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
                .map(TraceRecord::summary)
                .collect::<Vec<_>>()
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
                    <button
                        id="compare"
                        type="button"
                        title="Pick two traces with their boxes, then compare them"
                        disabled=move || picked.with(|p| p.len() != 2)
                        on:click=move |_| comparing.set(picked.with(|p| Some((*p.first()?, *p.get(1)?))))
                    >
                        "Compare"
                    </button>
                    <button id="clear-traces" type="button" on:click=clear_all>"Clear all"</button>
                </div>
                <ul id="trace-list">
                    <For each=items key=|t| (t.trace_id, t.span_count, t.export.clone(), t.feedback) let(trace)>
                        <TraceItem trace exporter selected_trace selected_span picked />
                    </For>
                </ul>
            </Show>
        </div>
    }
}

/// One trace of the list: root, status, question, time, size, export state, and its
/// download and delete buttons.
#[component]
fn TraceItem(
    trace: TraceSummary,
    exporter: Exporter,
    selected_trace: RwSignal<Option<TraceId>>,
    selected_span: RwSignal<Option<SpanId>>,
    picked: RwSignal<Vec<TraceId>>,
) -> impl IntoView {
    let id = trace.trace_id;
    let pick = move |ev: leptos::ev::Event| {
        let on = event_target_checked(&ev);
        picked.update(|p| {
            p.retain(|x| *x != id);
            if on {
                p.push(id);
                if p.len() > 2 {
                    p.remove(0);
                }
            }
        });
    };
    let store = exporter.store;
    let status = trace.status.as_str();
    let reason = match &trace.export {
        ExportState::Failed(reason) => reason.clone(),
        _ => String::new(),
    };
    let download = move |ev: leptos::ev::MouseEvent| {
        ev.stop_propagation();
        let spans =
            store.with_untracked(|s| s.get(id).map(|t| t.spans.clone()).unwrap_or_default());
        exporter.download(spans, &format!("trace-{id}.json"));
    };
    let delete = move |ev: leptos::ev::MouseEvent| {
        ev.stop_propagation();
        store.update(|s| s.remove(id));
        exporter.tell_tabs(&StoreChange::Removed(id.to_string()));
        if selected_trace.get_untracked() == Some(id) {
            selected_trace.set(None);
        }
    };
    let choose = move || {
        selected_trace.set(Some(id));
        selected_span.set(None);
    };
    view! {
        <li
            class="trace-item"
            data-trace-id=id.to_string()
            tabindex="0"
            class:selected=move || selected_trace.get() == Some(id)
            on:click=move |_| choose()
            on:keydown=crate::ui::choosing_keys(choose)
        >
            <span class="trace-name">
                <input
                    type="checkbox"
                    class="compare-pick"
                    aria-label="Pick for comparison"
                    title="Pick two traces, then Compare"
                    prop:checked=move || picked.with(|p| p.contains(&id))
                    on:click=|ev| ev.stop_propagation()
                    on:change=pick
                />
                {trace.name}
            </span>
            <span class=format!("status {}", status.to_lowercase())>{status}</span>
            <span class="trace-question">{trace.question}</span>
            <span class="trace-summary">
                {trace.start.map(local_time).unwrap_or_default()}" · "
                {format!("{} spans · {:.1} ms", trace.span_count, trace.duration_ms)}
                {trace.cost.map(|c| view! { " · "<span class="trace-cost">{c}</span> })}
                {trace.feedback.map(|f| {
                    let mark = if f == "good" { "👍" } else { "👎" };
                    view! { " · "<span class=format!("feedback-mark {f}") title=format!("Marked {f}")>{mark}</span> }
                })}
            </span>
            <span class=format!("export-state {}", trace.export.label()) title=reason>{trace.export.label()}</span>
            <button class="download-trace" type="button" title="Download this trace as OTLP JSON" on:click=download>"⬇"</button>
            <button class="delete-trace" type="button" title="Delete this trace" on:click=delete>"✕"</button>
        </li>
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
