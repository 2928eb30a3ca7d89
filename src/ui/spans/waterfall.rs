//! The waterfall: the span tree on a shared time axis, collapsible, windowed to the
//! rows in view, driven by the keyboard, searchable (a match shows with its
//! ancestors), with self times and the critical path.

use leptos::ev::KeyboardEvent;
use leptos::prelude::*;
use opentelemetry::trace::SpanId;

use super::waterfall_row::{waterfall_row, Timed, WaterfallAxis};
use crate::explorer::rows::SpanRow;
use crate::explorer::timing::Timing;
use crate::explorer::tree::{self, Key, Outline, Window};

/// Height of a waterfall row in pixels (`.wf-row` in the CSS agrees).
const ROW_PX: i32 = 24;
/// Waterfall rows in view at once, and rows kept in the page beyond each edge.
const VIEW_ROWS: usize = 24;
const OVERSCAN: usize = 12;

#[component]
pub fn Waterfall(
    rows: Memo<Vec<SpanRow>>,
    timing: Memo<Timing>,
    selected_span: RwSignal<Option<SpanId>>,
) -> impl IntoView {
    let outline = RwSignal::new(Outline::default());
    // The row the arrow keys move; Enter (or a click) selects it.
    let cursor: RwSignal<Option<SpanId>> = RwSignal::new(None);
    let query = RwSignal::new(String::new());
    let found: Memo<Option<tree::Found>> = Memo::new(move |_| {
        query.with(|q| (!q.trim().is_empty()).then(|| rows.with(|r| tree::search(r, q))))
    });
    // A search shows its matches and their ancestors; otherwise the outline decides.
    let shown: Memo<Vec<usize>> = Memo::new(move |_| {
        found.with(|f| match f {
            Some(f) => f.shown.clone(),
            None => outline.with(|o| rows.with(|r| o.visible(r))),
        })
    });
    // Whether the critical path is highlighted.
    let critical = RwSignal::new(false);
    let view_port = NodeRef::<leptos::html::Div>::new();
    let scroll_top = RwSignal::new(0);
    // Another trace starts at its top.
    Effect::new(move |_| {
        rows.track();
        scroll_top.set(0);
        if let Some(el) = view_port.get_untracked() {
            el.set_scroll_top(0);
        }
    });
    follow_cursor(rows, shown, outline, cursor, selected_span, view_port);
    let total = Memo::new(move |_| {
        rows.with(|rows| {
            rows.iter()
                .map(|r| r.offset_ms + r.duration_ms)
                .fold(0.0, f64::max)
                .max(1e-3)
        })
    });
    let on_key = move |ev: KeyboardEvent| {
        if ev.key() == "Enter" {
            if let Some(id) = cursor.get_untracked() {
                selected_span.set(Some(id));
            }
            return;
        }
        let Some(key) = Key::from_dom(&ev.key()) else {
            return;
        };
        ev.prevent_default(); // the arrows move the cursor, not the page
        let moved = rows.with_untracked(|rows| {
            let at = cursor.get_untracked();
            outline.try_update(|o| o.press(rows, at, key)).flatten()
        });
        if moved.is_some() {
            cursor.set(moved);
        }
    };
    let bars = move || {
        let total = total.get();
        shown.with(|shown| {
            let Window { first, end } =
                Window::at(scroll_top.get(), ROW_PX, shown.len(), VIEW_ROWS, OVERSCAN);
            let above = format!("height: {}px", first as i32 * ROW_PX);
            let below = format!("height: {}px", (shown.len() - end) as i32 * ROW_PX);
            let on_path = critical.get();
            let visible = rows.with(|rows| {
                timing.with(|timing| {
                    shown[first..end]
                        .iter()
                        .map(|&i| {
                            let timed = Timed {
                                self_ms: timing.self_ms[i],
                                critical: on_path && timing.critical[i],
                                matched: found
                                    .with(|f| f.as_ref().is_some_and(|f| f.matches.contains(&i))),
                            };
                            waterfall_row(&rows[i], timed, total, outline, cursor, selected_span)
                        })
                        .collect_view()
                })
            });
            view! {
                <div class="wf-spacer" style=above></div>
                {visible}
                <div class="wf-spacer" style=below></div>
            }
        })
    };
    view! {
        <Show when=move || !rows.with(Vec::is_empty)>
            <h2>"Waterfall"</h2>
            <p class="hint">
                "Arrow keys move, ← and → collapse and expand, Enter opens a span. "
                <label class="check">
                    <input
                        id="critical-path"
                        type="checkbox"
                        prop:checked=move || critical.get()
                        on:change=move |ev| critical.set(event_target_checked(&ev))
                    />
                    "Critical path"
                </label>
                " (the spans the trace's end waited on); self: time a span spent outside its children."
            </p>
            <div class="wf-search">
                <input
                    id="tree-search"
                    type="search"
                    placeholder="Search the tree: span name, kind or attribute"
                    aria-label="Search the span tree"
                    prop:value=move || query.get()
                    on:input=move |ev| query.set(event_target_value(&ev))
                />
                {move || found.with(|f| f.as_ref().map(|f| {
                    let n = f.matches.len();
                    view! { <span id="tree-matches">{format!("{n} match{}", if n == 1 { "" } else { "es" })}</span> }
                }))}
            </div>
            <WaterfallAxis total />
            <div
                id="waterfall"
                class="waterfall"
                role="tree"
                aria-label="Span waterfall"
                tabindex="0"
                data-rows=move || shown.with(Vec::len)
                style=format!("max-height: {}px", VIEW_ROWS as i32 * ROW_PX)
                node_ref=view_port
                on:keydown=on_key
                on:scroll=move |_| {
                    if let Some(el) = view_port.get_untracked() {
                        scroll_top.set(el.scroll_top());
                    }
                }
            >
                {bars}
            </div>
        </Show>
    }
}

/// Choosing a span elsewhere (table, deep link) expands its ancestors and puts the
/// cursor on it; the cursor's row is scrolled into view once the rows are laid out.
fn follow_cursor(
    rows: Memo<Vec<SpanRow>>,
    shown: Memo<Vec<usize>>,
    outline: RwSignal<Outline>,
    cursor: RwSignal<Option<SpanId>>,
    selected_span: RwSignal<Option<SpanId>>,
    view_port: NodeRef<leptos::html::Div>,
) {
    Effect::new(move |_| {
        if let Some(id) = selected_span.get() {
            rows.with_untracked(|rows| outline.update(|o| o.reveal(rows, id)));
            cursor.set(Some(id));
        }
    });
    Effect::new(move |_| {
        let Some(id) = cursor.get() else { return };
        let at = shown.with(|shown| {
            rows.with_untracked(|rows| shown.iter().position(|&i| rows[i].span_id == id))
        });
        if let Some(at) = at {
            request_animation_frame(move || {
                if let Some(el) = view_port.get_untracked() {
                    let (top, height) = (at as i32 * ROW_PX, el.client_height());
                    if top < el.scroll_top() {
                        el.set_scroll_top(top);
                    } else if top + ROW_PX > el.scroll_top() + height {
                        el.set_scroll_top(top + ROW_PX - height);
                    }
                }
            });
        }
    });
}
