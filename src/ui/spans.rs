//! The spans: a table over the chosen trace or every trace (filters, sortable columns),
//! a collapsible waterfall on a shared time axis with keyboard navigation, and the
//! details (input and output, conversation, documents, attributes, events) of the
//! chosen span.

use leptos::ev::KeyboardEvent;
use leptos::prelude::*;
use leptos::tachys::html::attribute::custom::custom_attribute;
use leptos::task::spawn_local;

use crate::browser;
use crate::explorer::query::{FoundSpan, SortKey, SpanQuery};
use crate::explorer::rows::SpanRow;
use crate::explorer::store::TraceStore;
use crate::explorer::tree::{Key, Outline};
use crate::telemetry::semconv::{self, SpanKind, StatusCode};

/// Attribute values longer than this are cut in the details panel (vectors, documents).
const MAX_VALUE_CHARS: usize = 1_500;
/// Rows the spans table shows at most (the filters narrow the rest down).
const MAX_TABLE_ROWS: usize = 500;

fn is_selected(selected_span: RwSignal<Option<String>>, id: String) -> impl Fn() -> bool {
    move || selected_span.get().as_deref() == Some(id.as_str())
}

/// The table's sortable columns: (key, heading).
const COLUMNS: [(SortKey, &str); 5] = [
    (SortKey::Name, "Name"),
    (SortKey::Kind, "Kind"),
    (SortKey::Status, "Status"),
    (SortKey::Duration, "Duration (ms)"),
    (SortKey::Detail, "Query or model"),
];

#[component]
pub fn SpanTable(
    store: RwSignal<TraceStore>,
    selected_trace: RwSignal<Option<String>>,
    selected_span: RwSignal<Option<String>>,
) -> impl IntoView {
    let query = RwSignal::new(SpanQuery::default());
    let every_trace = RwSignal::new(false);
    let found: Memo<Result<Vec<FoundSpan>, String>> = Memo::new(move |_| {
        let mut q = query.get();
        q.trace_id = if every_trace.get() {
            None
        } else {
            Some(selected_trace.get().unwrap_or_default())
        };
        store.with(|s| s.find_spans(&q).map_err(|e| e.to_string()))
    });
    // Click a heading: ascending, again: descending, a third time: back to tree order.
    let sort_by = move |key: SortKey| {
        query.update(|q| match (q.sort == key, q.descending) {
            (false, _) => (q.sort, q.descending) = (key, false),
            (true, false) => q.descending = true,
            (true, true) => (q.sort, q.descending) = (SortKey::Tree, false),
        })
    };
    let headings = move || {
        let (sort, descending) = query.with(|q| (q.sort, q.descending));
        COLUMNS
            .iter()
            .map(|&(key, label)| {
                let aria = match (sort == key, descending) {
                    (false, _) => "none",
                    (true, false) => "ascending",
                    (true, true) => "descending",
                };
                let arrow = match aria {
                    "ascending" => " ▲",
                    "descending" => " ▼",
                    _ => "",
                };
                view! {
                    <th aria-sort=aria>
                        <button type="button" class="sort" on:click=move |_| sort_by(key)>{label}{arrow}</button>
                    </th>
                }
            })
            .collect_view()
    };
    let body = move || {
        let tree = query.with(|q| q.sort == SortKey::Tree);
        let all = every_trace.get();
        found.get().unwrap_or_default().into_iter().take(MAX_TABLE_ROWS).map(|f| {
            let r = f.row;
            let kind = r.kind_label();
            let kind_class = format!("kind kind-{}", kind.to_lowercase());
            let indent = if tree { r.depth as f64 * 1.1 } else { 0.0 };
            let (trace_id, span_id) = (f.trace_id.clone(), r.span_id.clone());
            let trace_label = if f.question.is_empty() { f.trace_id[..8].to_string() } else { f.question };
            view! {
                <tr
                    class="span-row"
                    data-depth=r.depth
                    data-trace-id=f.trace_id
                    class:selected=is_selected(selected_span, r.span_id.clone())
                    class:error=r.status == StatusCode::Error
                    on:click=move |_| {
                        if selected_trace.get_untracked().as_deref() != Some(trace_id.as_str()) {
                            selected_trace.set(Some(trace_id.clone()));
                        }
                        selected_span.set(Some(span_id.clone()));
                    }
                >
                    <td class="name" style=format!("padding-left: {}rem", 0.4 + indent)>{r.name}</td>
                    <td class=kind_class>{kind}</td>
                    <td class=format!("status {}", r.status.as_str().to_lowercase())>{r.status.as_str()}</td>
                    <td class="duration">{format!("{:.2}", r.duration_ms)}</td>
                    <td class="key-attr">{r.key_attribute}</td>
                    {all.then(|| view! { <td class="trace-of">{trace_label}</td> })}
                </tr>
            }
        }).collect_view()
    };
    let count = move || {
        match found.get() {
        Err(e) => view! { <p id="span-query-error" class="error" role="alert">{e}</p> }.into_any(),
        Ok(f) if f.len() > MAX_TABLE_ROWS => view! {
            <p id="span-count" class="hint">{format!("The first {MAX_TABLE_ROWS} of {} spans; filter to narrow them down.", f.len())}</p>
        }.into_any(),
        Ok(f) => view! { <p id="span-count" class="hint">{format!("{} spans", f.len())}</p> }.into_any(),
    }
    };
    let text_filter =
        move |id: &'static str, placeholder: &'static str, set: fn(&mut SpanQuery, String)| {
            view! {
                <input
                    id=id
                    type="search"
                    placeholder=placeholder
                    aria-label=placeholder
                    on:input=move |ev| query.update(|q| set(q, event_target_value(&ev)))
                />
            }
        };
    view! {
        <Show when=move || store.with(|s| !s.traces.is_empty())>
            <h2>"Spans"</h2>
            <div class="trace-filters span-filters">
                <select id="span-scope" aria-label="Which traces" on:change=move |ev| every_trace.set(event_target_value(&ev) == "all")>
                    <option value="trace">"This trace"</option>
                    <option value="all">"Every trace"</option>
                </select>
                {text_filter("span-name", "Span name", |q, v| q.name = v)}
                <select id="span-kind" aria-label="Kind" on:change=move |ev| query.update(|q| q.kind = SpanKind::parse(&event_target_value(&ev)))>
                    <option value="">"Any kind"</option>
                    {SpanKind::ALL.iter().map(|k| view! { <option value=k.as_str()>{k.as_str()}</option> }).collect_view()}
                </select>
                <select id="span-status" aria-label="Status" on:change=move |ev| query.update(|q| q.status = StatusCode::parse(&event_target_value(&ev)))>
                    <option value="">"Any status"</option>
                    {StatusCode::ALL.map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> })}
                </select>
                {text_filter("span-attr", "attribute=value", |q, v| q.attribute = v)}
            </div>
            {count}
            <table id="spans" class="spans">
                <thead>
                    <tr>
                        {headings}
                        {move || every_trace.get().then(|| view! { <th>"Trace"</th> })}
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        </Show>
    }
}

/// Height of a waterfall row in pixels (`.wf-row` in the CSS agrees).
const ROW_PX: i32 = 24;
/// Waterfall rows in view at once, and rows kept in the page beyond each edge.
const VIEW_ROWS: usize = 24;
const OVERSCAN: i32 = 12;

/// Tick labels of the waterfall's time axis, as fractions of the trace.
const TICKS: [f64; 5] = [0.0, 0.25, 0.5, 0.75, 1.0];

#[component]
pub fn Waterfall(
    rows: Memo<Vec<SpanRow>>,
    selected_span: RwSignal<Option<String>>,
) -> impl IntoView {
    let outline = RwSignal::new(Outline::default());
    // The row the arrow keys move; Enter (or a click) selects it.
    let cursor: RwSignal<Option<String>> = RwSignal::new(None);
    let shown: Memo<Vec<usize>> = Memo::new(move |_| outline.with(|o| rows.with(|r| o.visible(r))));
    let view_port = NodeRef::<leptos::html::Div>::new();
    // Only the rows in view (and a margin) are in the page, so a trace of thousands of
    // spans renders as fast as a small one.
    let scroll_top = RwSignal::new(0);
    let first =
        Memo::new(move |_| (scroll_top.get() / ROW_PX).saturating_sub(OVERSCAN).max(0) as usize);
    // Another trace starts at its top.
    Effect::new(move |_| {
        rows.track();
        scroll_top.set(0);
        if let Some(el) = view_port.get_untracked() {
            el.set_scroll_top(0);
        }
    });
    Effect::new(move |_| {
        if let Some(id) = selected_span.get() {
            rows.with_untracked(|rows| outline.update(|o| o.reveal(rows, &id)));
            cursor.set(Some(id));
        }
    });
    // Keeps the cursor's row in view, once the rows are laid out.
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
            outline
                .try_update(|o| o.press(rows, at.as_deref(), key))
                .flatten()
        });
        if moved.is_some() {
            cursor.set(moved);
        }
    };
    let axis = move || {
        let total = total.get();
        TICKS
            .iter()
            .map(|f| {
                let style = format!("left: {}%", f * 100.0);
                view! { <span class="wf-tick" style=style>{format!("{:.1} ms", f * total)}</span> }
            })
            .collect_view()
    };
    let bars = move || {
        let total = total.get();
        let first = first.get();
        shown.with(|shown| {
            let first = first.min(shown.len().saturating_sub(VIEW_ROWS));
            let last = (first + VIEW_ROWS + 2 * OVERSCAN as usize).min(shown.len());
            let above = format!("height: {}px", first as i32 * ROW_PX);
            let below = format!("height: {}px", (shown.len() - last) as i32 * ROW_PX);
            let visible = rows.with(|rows| {
                shown[first..last]
                    .iter()
                    .map(|&i| waterfall_row(&rows[i], total, outline, cursor, selected_span))
                    .collect_view()
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
            <p class="hint">"Arrow keys move, ← and → collapse and expand, Enter opens a span."</p>
            <div class="wf-axis"><span></span><span class="wf-track wf-ticks">{axis}</span><span></span></div>
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

fn waterfall_row(
    r: &SpanRow,
    total: f64,
    outline: RwSignal<Outline>,
    cursor: RwSignal<Option<String>>,
    selected_span: RwSignal<Option<String>>,
) -> impl IntoView {
    let left = r.offset_ms / total * 100.0;
    let width = (r.duration_ms / total * 100.0).max(0.4);
    let title = format!(
        "{} · {} · {} · {:.3} ms at +{:.3} ms{}",
        r.name,
        r.kind_label(),
        r.status.as_str(),
        r.duration_ms,
        r.offset_ms,
        if r.key_attribute.is_empty() {
            String::new()
        } else {
            format!("\n{}", r.key_attribute)
        }
    );
    let bar_class = format!("wf-bar kind-{}", r.kind_label().to_lowercase());
    let id = r.span_id.clone();
    let collapsed = outline.with_untracked(|o| o.is_collapsed(&id));
    let toggle = if !r.has_children {
        // Keeps leaf names in line with their siblings' names.
        view! { <span class="wf-toggle" aria-hidden="true"></span> }.into_any()
    } else {
        let id = id.clone();
        view! {
            <button
                class="wf-toggle"
                type="button"
                tabindex="-1"
                aria-label=if collapsed { "Expand" } else { "Collapse" }
                on:click=move |ev| {
                    ev.stop_propagation();
                    outline.update(|o| o.toggle(&id));
                }
            >
                {if collapsed { "▸" } else { "▾" }}
            </button>
        }
        .into_any()
    };
    let (on_cursor, click_id) = (id.clone(), id.clone());
    view! {
        <div
            class="wf-row"
            role="treeitem"
            data-span-id=id.clone()
            aria-expanded=r.has_children.then_some(if collapsed { "false" } else { "true" })
            aria-selected=move || is_selected(selected_span, id.clone())().to_string()
            class:selected=is_selected(selected_span, r.span_id.clone())
            class:cursor=move || cursor.get().as_deref() == Some(on_cursor.as_str())
            on:click=move |_| {
                cursor.set(Some(click_id.clone()));
                selected_span.set(Some(click_id.clone()));
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
        </div>
    }
    .add_any_attr(custom_attribute("aria-level", (r.depth + 1).to_string()))
}

#[component]
pub fn SpanDetails(
    rows: Memo<Vec<SpanRow>>,
    selected_span: RwSignal<Option<String>>,
) -> impl IntoView {
    let chosen = move || {
        let id = selected_span.get()?;
        rows.with(|rows| rows.iter().find(|r| r.span_id == id).cloned())
    };
    move || chosen().map(details)
}

fn details(r: SpanRow) -> impl IntoView {
    let io = ["input", "output"]
        .into_iter()
        .filter_map(|side| {
            let value = r.io_value(side)?;
            let heading = if side == "input" { "Input" } else { "Output" };
            Some(view! {
                <h3>{heading}</h3>
                <pre class=format!("io {side}")>{value}</pre>
            })
        })
        .collect_view();
    let conversation = [
        ("llm.input_messages", "input"),
        ("llm.output_messages", "output"),
    ]
    .into_iter()
    .flat_map(|(prefix, side)| r.messages(prefix).into_iter().map(move |m| (side, m)))
    .map(|(side, (role, content))| {
        let class = format!("message {side} role-{role}");
        view! {
            <li class=class>
                <span class="role">{role}</span>
                <p>{content}</p>
            </li>
        }
    })
    .collect::<Vec<_>>();
    let documents = r
        .documents()
        .into_iter()
        .map(|(id, score, content)| {
            view! {
                <li class="document">
                    <span class="chunk-id">{id}</span>
                    <span class="score">{format!("score {score}")}</span>
                    <p class="chunk-text">{content}</p>
                </li>
            }
        })
        .collect::<Vec<_>>();
    let embedded = r
        .embedding_texts()
        .into_iter()
        .map(|t| view! { <li>{shorten(t)}</li> })
        .collect::<Vec<_>>();
    let copied: RwSignal<Option<String>> = RwSignal::new(None);
    let (json, n) = (r.attributes_json(), r.attributes.len());
    let copy = move |_| {
        let json = json.clone();
        spawn_local(async move {
            copied.set(Some(match browser::copy_to_clipboard(&json).await {
                Ok(()) => format!("Copied {n} attributes as JSON (as shown: long vectors are cut; downloads keep them whole)."),
                Err(e) => format!("The browser did not allow copying: {e}"),
            }));
        });
    };
    let attributes = r
        .attributes
        .iter()
        .map(|(k, v)| {
            view! { <tr><td class="attr-key">{k.clone()}</td><td class="attr-value">{shorten(v.clone())}</td></tr> }
        })
        .collect_view();
    let events = r.events.iter().map(event).collect_view();
    let kind_class = format!("kind kind-{}", r.kind_label().to_lowercase());
    view! {
        <div id="details" class="details">
            <h2>{format!("Span: {}", r.name)}</h2>
            <p class="meta">
                <span class=kind_class>{r.kind_label()}</span>
                <span class=format!("status {}", r.status.as_str().to_lowercase())>{r.status.as_str()}</span>
                {format!(
                    " {:.3} ms, from +{:.3} ms to +{:.3} ms",
                    r.duration_ms,
                    r.offset_ms,
                    r.offset_ms + r.duration_ms
                )}
            </p>
            {(!r.status_message.is_empty()).then(|| view! { <p class="error">{r.status_message.clone()}</p> })}
            {io}
            {(!conversation.is_empty()).then(|| view! {
                <h3>"Messages"</h3>
                <ul id="conversation" class="conversation">{conversation}</ul>
            })}
            {(!documents.is_empty()).then(|| view! {
                <h3>"Retrieved documents"</h3>
                <ol id="documents" class="documents">{documents}</ol>
            })}
            {(!embedded.is_empty()).then(|| view! {
                <h3>"Embedded texts"</h3>
                <ol id="embedded" class="embedded">{embedded}</ol>
            })}
            <h3>
                "Attributes "
                <button id="copy-attributes" class="copy" type="button" on:click=copy>"Copy as JSON"</button>
            </h3>
            {move || copied.get().map(|c| view! { <p id="copied" class="hint" role="status">{c}</p> })}
            <table class="attributes"><tbody>{attributes}</tbody></table>
            <h3>"Events"</h3>
            {(r.events.is_empty()).then(|| view! { <p class="hint">"No events."</p> })}
            <ul class="events">{events}</ul>
        </div>
    }
}

fn event(e: &crate::explorer::rows::EventRow) -> impl IntoView {
    let stack = e
        .attributes
        .iter()
        .find(|(k, _)| k == semconv::EXCEPTION_STACKTRACE)
        .map(|(_, v)| view! { <pre class="stacktrace">{v.clone()}</pre> });
    let attrs = e
        .attributes
        .iter()
        .filter(|(k, _)| k != semconv::EXCEPTION_STACKTRACE)
        .map(|(k, v)| view! { <li><span class="attr-key">{k.clone()}</span>": "{v.clone()}</li> })
        .collect_view();
    view! {
        <li class="event" class:exception=e.name == semconv::EXCEPTION_EVENT>
            <strong>{e.name.clone()}</strong>{format!(" at +{:.3} ms", e.offset_ms)}
            <ul>{attrs}</ul>
            {stack}
        </li>
    }
}

fn shorten(v: String) -> String {
    match v.char_indices().nth(MAX_VALUE_CHARS) {
        Some((cut, _)) => format!("{}… ({} characters in all)", &v[..cut], v.chars().count()),
        None => v,
    }
}
