//! The details of the chosen span: input and output, conversation, documents,
//! attributes (copyable), events with stack traces, timing.

use leptos::prelude::*;
use leptos::task::spawn_local;
use opentelemetry::trace::SpanId;

use crate::browser;
use crate::explorer::rows::SpanRow;
use crate::explorer::timing::Timing;
use crate::telemetry::semconv;

/// Attribute values longer than this are cut in the details panel (vectors, documents).
const MAX_VALUE_CHARS: usize = 1_500;

#[component]
pub fn SpanDetails(
    rows: Memo<Vec<SpanRow>>,
    timing: Memo<Timing>,
    selected_span: RwSignal<Option<SpanId>>,
) -> impl IntoView {
    let chosen = move || {
        let id = selected_span.get()?;
        let (i, row) = rows.with(|rows| {
            let i = rows.iter().position(|r| r.span_id == id)?;
            Some((i, rows[i].clone()))
        })?;
        Some((row, timing.with(|t| t.self_ms[i])))
    };
    move || chosen().map(|(r, self_ms)| details(r, self_ms))
}

/// `self_ms`: the time the span spent outside its children.
fn details(r: SpanRow, self_ms: f64) -> impl IntoView {
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
        .map(|d| {
            let continues = d.continues.map(
                |of| view! { <span class="continues">{format!("the rest of {of}'s list")}</span> },
            );
            view! {
                <li class="document">
                    <span class="chunk-id">{d.id}</span>
                    {d.score.map(|s| view! { <span class="score">{format!("score {s:.3}")}</span> })}
                    {continues}
                    <p class="chunk-text">{d.content}</p>
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
                    " {:.3} ms (self {self_ms:.3} ms), from +{:.3} ms to +{:.3} ms",
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
