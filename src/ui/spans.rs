//! The spans of the chosen trace: a table, a waterfall on a shared time axis, and the
//! details (every attribute and event) of the chosen span.

use leptos::prelude::*;

use crate::telemetry::store::SpanRow;

/// Attribute values longer than this are cut in the details panel (vectors, documents).
const MAX_VALUE_CHARS: usize = 1_500;

fn select_on_click(
    selected_span: RwSignal<Option<String>>,
    id: String,
) -> impl Fn(leptos::ev::MouseEvent) {
    move |_| selected_span.set(Some(id.clone()))
}

fn is_selected(selected_span: RwSignal<Option<String>>, id: String) -> impl Fn() -> bool {
    move || selected_span.get().as_deref() == Some(id.as_str())
}

#[component]
pub fn SpanTable(
    rows: Memo<Vec<SpanRow>>,
    selected_span: RwSignal<Option<String>>,
) -> impl IntoView {
    let body = move || {
        rows.get()
            .into_iter()
            .map(|r| {
                let kind_class = format!("kind kind-{}", r.kind.to_lowercase());
                view! {
                    <tr
                        class="span-row"
                        data-depth=r.depth
                        class:selected=is_selected(selected_span, r.span_id.clone())
                        class:error=r.status == "ERROR"
                        on:click=select_on_click(selected_span, r.span_id.clone())
                    >
                        <td class="name" style=format!("padding-left: {}rem", 0.4 + r.depth as f64 * 1.1)>{r.name}</td>
                        <td class=kind_class>{r.kind}</td>
                        <td class=format!("status {}", r.status.to_lowercase())>{r.status}</td>
                        <td class="duration">{format!("{:.2}", r.duration_ms)}</td>
                        <td class="key-attr">{r.key_attribute}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <Show when=move || !rows.with(Vec::is_empty)>
            <h2>"Spans"</h2>
            <table id="spans" class="spans">
                <thead>
                    <tr><th>"Name"</th><th>"Kind"</th><th>"Status"</th><th>"Duration (ms)"</th><th>"Key attribute"</th></tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        </Show>
    }
}

#[component]
pub fn Waterfall(
    rows: Memo<Vec<SpanRow>>,
    selected_span: RwSignal<Option<String>>,
) -> impl IntoView {
    let bars = move || {
        let rows = rows.get();
        let total = rows
            .iter()
            .map(|r| r.offset_ms + r.duration_ms)
            .fold(0.0, f64::max)
            .max(1e-3);
        rows.into_iter()
            .map(|r| {
                let left = r.offset_ms / total * 100.0;
                let width = (r.duration_ms / total * 100.0).max(0.4);
                let title = format!("{} · {} · {:.3} ms at +{:.3} ms", r.name, r.kind, r.duration_ms, r.offset_ms);
                let bar_class = format!("wf-bar kind-{}", r.kind.to_lowercase());
                view! {
                    <div
                        class="wf-row"
                        class:selected=is_selected(selected_span, r.span_id.clone())
                        on:click=select_on_click(selected_span, r.span_id.clone())
                        title=title
                    >
                        <span class="wf-label" style=format!("padding-left: {}rem", r.depth as f64 * 1.0)>{r.name}</span>
                        <span class="wf-track">
                            <span
                                class=bar_class
                                class:error=r.status == "ERROR"
                                style=format!("left: {left:.3}%; width: {width:.3}%")
                            ></span>
                        </span>
                        <span class="wf-ms">{format!("{:.2} ms", r.duration_ms)}</span>
                    </div>
                }
            })
            .collect_view()
    };
    view! {
        <Show when=move || !rows.with(Vec::is_empty)>
            <h2>"Waterfall"</h2>
            <div id="waterfall" class="waterfall">{bars}</div>
        </Show>
    }
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
    move || {
        chosen().map(|r| {
            let conversation = [("llm.input_messages", "input"), ("llm.output_messages", "output")]
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
            let attributes = r
                .attributes
                .into_iter()
                .map(|(k, v)| view! { <tr><td class="attr-key">{k}</td><td class="attr-value">{shorten(v)}</td></tr> })
                .collect_view();
            let events = r
                .events
                .into_iter()
                .map(|e| {
                    let attrs = e
                        .attributes
                        .into_iter()
                        .map(|(k, v)| view! { <li><span class="attr-key">{k}</span>": "{v}</li> })
                        .collect_view();
                    view! {
                        <li class="event">
                            <strong>{e.name}</strong>{format!(" at +{:.3} ms", e.offset_ms)}
                            <ul>{attrs}</ul>
                        </li>
                    }
                })
                .collect_view();
            let kind_class = format!("kind kind-{}", r.kind.to_lowercase());
            view! {
                <div id="details" class="details">
                    <h2>{format!("Span: {}", r.name)}</h2>
                    <p class="meta">
                        <span class=kind_class>{r.kind}</span>
                        <span class=format!("status {}", r.status.to_lowercase())>{r.status}</span>
                        {format!(" {:.3} ms, starting at +{:.3} ms", r.duration_ms, r.offset_ms)}
                    </p>
                    {(!r.status_message.is_empty()).then(|| view! { <p class="error">{r.status_message}</p> })}
                    {(!conversation.is_empty()).then(|| view! {
                        <h3>"Messages"</h3>
                        <ul id="conversation" class="conversation">{conversation}</ul>
                    })}
                    {(!documents.is_empty()).then(|| view! {
                        <h3>"Retrieved documents"</h3>
                        <ol id="documents" class="documents">{documents}</ol>
                    })}
                    <h3>"Attributes"</h3>
                    <table class="attributes"><tbody>{attributes}</tbody></table>
                    <h3>"Events"</h3>
                    <ul class="events">{events}</ul>
                </div>
            }
        })
    }
}

fn shorten(v: String) -> String {
    match v.char_indices().nth(MAX_VALUE_CHARS) {
        Some((cut, _)) => format!("{}… ({} characters in all)", &v[..cut], v.chars().count()),
        None => v,
    }
}
