//! Replaying the chosen LLM span: its messages and temperature in an editor, sent again
//! to the model chosen in the Models panel (offline or remote); the replay is filed as
//! a trace linked to the original, and the two open side by side.

use leptos::prelude::*;
use leptos::task::spawn_local;
use opentelemetry::trace::{SpanId, TraceId};

use super::runner::Runner;
use crate::explorer::rows::SpanRow;
use crate::model::Message;
use crate::rag::replay::LlmCall;
use crate::telemetry::semconv::SpanKind;

#[component]
pub fn ReplayPanel(
    runner: Runner,
    rows: Memo<Vec<SpanRow>>,
    selected_trace: RwSignal<Option<TraceId>>,
    selected_span: RwSignal<Option<SpanId>>,
    comparing: RwSignal<Option<(TraceId, TraceId)>>,
) -> impl IntoView {
    // The chosen span's call, when it is an LLM span that recorded its messages.
    let call: Memo<Option<(SpanId, LlmCall)>> = Memo::new(move |_| {
        let id = selected_span.get()?;
        rows.with(|rows| {
            let row = rows.iter().find(|r| r.span_id == id)?;
            (row.kind == Some(SpanKind::Llm))
                .then(|| LlmCall::from_attributes(&row.attributes))
                .flatten()
                .map(|call| (id, call))
        })
    });
    view! {
        {move || call.get().map(|(span_id, call)| view! {
            <Editor runner span_id call selected_trace comparing />
        })}
    }
}

#[component]
fn Editor(
    runner: Runner,
    span_id: SpanId,
    call: LlmCall,
    selected_trace: RwSignal<Option<TraceId>>,
    comparing: RwSignal<Option<(TraceId, TraceId)>>,
) -> impl IntoView {
    let messages: Vec<(Message, RwSignal<String>)> = call
        .messages
        .into_iter()
        .map(|m| {
            let content = RwSignal::new(m.content.clone());
            (m, content)
        })
        .collect();
    let temperature = RwSignal::new(call.temperature.to_string());
    let status: RwSignal<Option<(bool, String)>> = RwSignal::new(None);
    let running = RwSignal::new(false);
    let edited = messages.clone();
    let run = move |_| {
        let Some(original_trace) = selected_trace.get_untracked() else {
            return;
        };
        let temperature = match temperature.get_untracked().trim().parse::<f64>() {
            Ok(t) if (0.0..=2.0).contains(&t) => t,
            _ => {
                return status.set(Some((
                    true,
                    "The temperature must be a number from 0 to 2.".into(),
                )))
            }
        };
        let original = runner.store.with_untracked(|s| {
            s.get(original_trace)?
                .spans
                .iter()
                .find(|sp| sp.span_context.span_id() == span_id)
                .map(|sp| sp.span_context.clone())
        });
        let Some(original) = original else { return };
        let messages: Vec<Message> = edited
            .iter()
            .map(|(m, content)| Message {
                content: content.get_untracked(),
                ..m.clone()
            })
            .collect();
        running.set(true);
        status.set(Some((false, "Replaying…".into())));
        spawn_local(async move {
            match runner.replay(messages, temperature, original).await {
                Err(message) => status.set(Some((true, message))),
                Ok((trace_id, reply)) => {
                    status.set(Some(match reply {
                        Ok(text) => (false, format!("Replayed: {text}")),
                        Err(message) => (true, format!("The replay failed: {message}")),
                    }));
                    comparing.set(Some((original_trace, trace_id)));
                }
            }
            running.set(false);
        });
    };
    let fields = messages
        .into_iter()
        .enumerate()
        .map(|(i, (m, content))| {
            let id = format!("replay-message-{i}");
            view! {
                <label for=id.clone()>{m.role.as_str()}</label>
                <textarea
                    id=id
                    rows="3"
                    prop:value=move || content.get()
                    on:input=move |ev| content.set(event_target_value(&ev))
                ></textarea>
            }
        })
        .collect_view();
    view! {
        <details class="replay" id="replay-panel">
            <summary id="replay-summary">"Replay this model call"</summary>
            <p class="hint">
                {format!("Recorded with {}. Edit the messages or the temperature; the replay runs with the model chosen in the Models panel and opens beside the original.", call.model)}
            </p>
            <div class="replay-fields">{fields}</div>
            <label for="replay-temperature">"Temperature"</label>
            <input
                id="replay-temperature"
                type="number"
                step="0.1"
                min="0"
                max="2"
                prop:value=move || temperature.get()
                // On change, not input: a number field reads "" while "0." is typed.
                on:change=move |ev| temperature.set(event_target_value(&ev))
            />
            <button id="replay-run" type="button" disabled=move || running.get() on:click=run>
                "Run replay"
            </button>
            {move || status.get().map(|(error, message)| view! {
                <p id="replay-status" class:error=error>{message}</p>
            })}
        </details>
    }
}
