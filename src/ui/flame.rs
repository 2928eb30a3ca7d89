//! The flame graph: the chosen trace as an icicle on its time axis (a click on a span
//! opens it), or every trace the list shows merged by path. Computed only while open.

use leptos::prelude::*;
use opentelemetry::trace::SpanId;

use crate::explorer::flame::{self, Frame};
use crate::explorer::rows::SpanRow;
use crate::explorer::store::{TraceFilter, TraceStore};

/// Height of a frame in pixels (`.flame-frame` in the CSS agrees).
const FRAME_PX: usize = 20;

#[component]
pub fn FlameGraph(
    store: RwSignal<TraceStore>,
    rows: Memo<Vec<SpanRow>>,
    selected_span: RwSignal<Option<SpanId>>,
    filter: RwSignal<TraceFilter>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let every_trace = RwSignal::new(false);
    let frames: Memo<Vec<Frame>> = Memo::new(move |_| {
        if !open.get() {
            return Vec::new();
        }
        if every_trace.get() {
            store.with(|s| {
                let all: Vec<Vec<SpanRow>> = filter.with(|f| {
                    s.traces
                        .iter()
                        .filter(|t| t.matches(f))
                        .map(|t| t.rows())
                        .collect()
                });
                flame::merged(all.iter().map(Vec::as_slice))
            })
        } else {
            rows.with(|r| flame::icicle(r))
        }
    });
    let height = move || {
        let depth = frames.with(|f| f.iter().map(|f| f.depth + 1).max().unwrap_or(0));
        format!("height: {}px", depth * FRAME_PX)
    };
    let frame = move |f: Frame| {
        let style = format!(
            "left: {:.4}%; width: {:.4}%; top: {}px",
            f.x * 100.0,
            f.width * 100.0,
            f.depth * FRAME_PX
        );
        let kind = f.kind.map_or("other", |k| k.as_str()).to_lowercase();
        let title = format!(
            "{} · {:.3} ms · {} span{}",
            f.name,
            f.ms,
            f.count,
            if f.count == 1 { "" } else { "s" }
        );
        let row = f.row;
        view! {
            <div
                class=format!("flame-frame kind-{kind}")
                style=style
                title=title
                data-count=f.count.to_string()
                on:click=move |_| {
                    if let Some(i) = row {
                        selected_span.set(rows.with_untracked(|r| r.get(i).map(|r| r.span_id)));
                    }
                }
            >
                {f.name}
            </div>
        }
    };
    view! {
        <Show when=move || store.with(|s| !s.traces.is_empty())>
            <details
                class="flame"
                id="flame-panel"
                on:toggle=move |ev| {
                    open.set(event_target::<web_sys::HtmlDetailsElement>(&ev).open())
                }
            >
                <summary id="flame-summary">"Flame graph"</summary>
                <label for="flame-scope">"Of "</label>
                <select
                    id="flame-scope"
                    on:change=move |ev| every_trace.set(event_target_value(&ev) == "all")
                >
                    <option value="trace">"the chosen trace, on its time axis"</option>
                    <option value="all">"every trace in the list, merged by path"</option>
                </select>
                <div id="flame-graph" class="flame-graph" style=height>
                    {move || frames.get().into_iter().map(frame).collect_view()}
                </div>
            </details>
        </Show>
    }
}
