//! The waterfall's time axis and its rows: each span's bar on the shared axis, its
//! duration and self time, the critical-path and search highlights.

use leptos::prelude::*;
use leptos::tachys::html::attribute::custom::custom_attribute;
use opentelemetry::trace::SpanId;

use crate::explorer::rows::SpanRow;
use crate::explorer::tree::Outline;
use crate::telemetry::semconv::StatusCode;

use super::is_selected;

/// Tick labels of the waterfall's time axis, as fractions of the trace.
const TICKS: [f64; 5] = [0.0, 0.25, 0.5, 0.75, 1.0];

/// The time axis: ticks at fractions of the trace, in milliseconds.
#[component]
pub(super) fn WaterfallAxis(total: Memo<f64>) -> impl IntoView {
    let ticks = move || {
        let total = total.get();
        TICKS
            .iter()
            .map(|f| {
                let style = format!("left: {}%", f * 100.0);
                view! { <span class="wf-tick" style=style>{format!("{:.1} ms", f * total)}</span> }
            })
            .collect_view()
    };
    view! {
        <div class="wf-axis">
            <span></span>
            <span class="wf-track wf-ticks">{ticks}</span>
            <span class="wf-ms">"duration"</span>
            <span class="wf-ms wf-self">"self"</span>
        </div>
    }
}

/// A row's self time, and whether it is highlighted: on the critical path, or as a
/// match of the search.
pub(super) struct Timed {
    pub self_ms: f64,
    pub critical: bool,
    pub matched: bool,
}

pub(super) fn waterfall_row(
    r: &SpanRow,
    timed: Timed,
    total: f64,
    outline: RwSignal<Outline>,
    cursor: RwSignal<Option<SpanId>>,
    selected_span: RwSignal<Option<SpanId>>,
) -> impl IntoView {
    let left = r.offset_ms / total * 100.0;
    let width = (r.duration_ms / total * 100.0).max(0.4);
    let title = format!(
        "{} · {} · {} · {:.3} ms at +{:.3} ms, self {:.3} ms{}",
        r.name,
        r.kind_label(),
        r.status.as_str(),
        r.duration_ms,
        r.offset_ms,
        timed.self_ms,
        if r.key_attribute.is_empty() {
            String::new()
        } else {
            format!("\n{}", r.key_attribute)
        }
    );
    let bar_class = format!("wf-bar kind-{}", r.kind_label().to_lowercase());
    let id = r.span_id;
    let collapsed = outline.with_untracked(|o| o.is_collapsed(id));
    let toggle = if !r.has_children {
        // Keeps leaf names in line with their siblings' names.
        view! { <span class="wf-toggle" aria-hidden="true"></span> }.into_any()
    } else {
        view! {
            <button
                class="wf-toggle"
                type="button"
                tabindex="-1"
                aria-label=if collapsed { "Expand" } else { "Collapse" }
                on:click=move |ev| {
                    ev.stop_propagation();
                    outline.update(|o| o.toggle(id));
                }
            >
                {if collapsed { "▸" } else { "▾" }}
            </button>
        }
        .into_any()
    };
    view! {
        <div
            class="wf-row"
            role="treeitem"
            data-span-id=id.to_string()
            aria-expanded=r.has_children.then_some(if collapsed { "false" } else { "true" })
            aria-selected=move || is_selected(selected_span, id)().to_string()
            class:selected=is_selected(selected_span, id)
            class:cursor=move || cursor.get() == Some(id)
            class:critical=timed.critical
            class:match=timed.matched
            on:click=move |_| {
                cursor.set(Some(id));
                selected_span.set(Some(id));
            }
            title=title
        >
            <span class="wf-label" style=format!("padding-left: {}rem", r.depth as f64)>
                {toggle}
                <span class="wf-name">{r.name.clone()}</span>
            </span>
            <span class="wf-track">
                <span
                    class=bar_class
                    class:error=r.status == StatusCode::Error
                    style=format!("left: {left:.3}%; width: {width:.3}%")
                ></span>
            </span>
            <span class="wf-ms">{format!("{:.2} ms", r.duration_ms)}</span>
            <span class="wf-ms wf-self" data-self-ms=timed.self_ms.to_string()>
                {format!("{:.2}", timed.self_ms)}
            </span>
        </div>
    }
    .add_any_attr(custom_attribute("aria-level", (r.depth + 1).to_string()))
}
