//! Asking: the question form, the answer as it streams (with Stop), the answer panel,
//! and the error-path demo.

use leptos::prelude::*;
use leptos::task::spawn_local;
use opentelemetry::trace::TraceId;

use super::exporter::Exporter;
use super::runner::Runner;
use super::LastAnswer;
use crate::explorer::feedback::Feedback;
use crate::rag::pipeline::Mode;

/// The asking part of the page; `show` opens the trace a question made.
#[component]
pub fn Asking(
    runner: Runner,
    busy: RwSignal<bool>,
    show: impl Fn(Option<TraceId>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let question = RwSignal::new(String::new());
    let mode = RwSignal::new(Mode::Rag);
    let last: RwSignal<Option<LastAnswer>> = RwSignal::new(None);
    let on_ask = Callback::new(move |()| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let (q, m) = (question.get_untracked(), mode.get_untracked());
        spawn_local(async move {
            let asked = runner.ask(&q, m).await;
            show(asked.trace_id);
            last.set(Some(LastAnswer {
                trace_id: asked.trace_id,
                question: q,
                mode: m,
                result: asked.result,
            }));
            busy.set(false);
        });
    });
    let on_demo = move |_| {
        spawn_local(async move { show(runner.error_demo().await) });
    };
    let ready = Signal::derive(move || runner.corpus.indexed.with(Option::is_some));
    view! {
        <AskForm question mode busy ready on_ask />
        <Show when=move || busy.get()>
            <div class="live">
                <button id="stop" type="button" on:click=move |_| runner.stop()>"Stop"</button>
                <p id="live-answer">{move || runner.live.get()}</p>
            </div>
        </Show>
        <AnswerView last exporter=runner.exporter />
        <p class="demo">
            <button id="error-demo" type="button" on:click=on_demo>"Run error-path demo"</button>
            " an empty query and a failing retriever, traced"
        </p>
    }
}

#[component]
pub fn AskForm(
    question: RwSignal<String>,
    mode: RwSignal<Mode>,
    busy: RwSignal<bool>,
    #[prop(into)] ready: Signal<bool>,
    on_ask: Callback<()>,
) -> impl IntoView {
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        on_ask.run(());
    };
    view! {
        <form class="ask" on:submit=submit>
            <label for="question">"Question"</label>
            <input
                id="question"
                type="text"
                autocomplete="off"
                placeholder="What is the maximum number of days an employee can work internationally?"
                prop:value=move || question.get()
                on:input=move |ev| question.set(event_target_value(&ev))
            />
            <label for="mode">"Mode"</label>
            <select
                id="mode"
                on:change=move |ev| mode.set(if event_target_value(&ev) == "agent" { Mode::Agent } else { Mode::Rag })
            >
                <option value="rag" selected=move || mode.get() == Mode::Rag>"RAG"</option>
                <option value="agent" selected=move || mode.get() == Mode::Agent>"Agent"</option>
            </select>
            <button id="ask" type="submit" disabled=move || busy.get() || !ready.get()>
                {move || if !ready.get() { "Indexing…" } else if busy.get() { "Asking…" } else { "Ask" }}
            </button>
        </form>
    }
}

#[component]
pub fn AnswerView(last: RwSignal<Option<LastAnswer>>, exporter: Exporter) -> impl IntoView {
    move || {
        last.get().map(|l| {
            let body = match l.result {
                Ok(answer) => {
                    let feedback = l
                        .trace_id
                        .map(|trace_id| view! { <FeedbackForm trace_id exporter /> });
                    let cited = answer.cited.into_iter().map(|c| {
                        view! {
                            <li>
                                <span class="chunk-id">{c.chunk_id}</span>
                                <span class="chunk-section">{c.section_title}</span>
                                <p class="chunk-text">{c.text}</p>
                            </li>
                        }
                    });
                    view! {
                        <p id="answer" class="answer">{answer.text}</p>
                        <h3>"Cited chunks"</h3>
                        {feedback}
                        <ul id="cited" class="cited">{cited.collect_view()}</ul>
                    }
                    .into_any()
                }
                Err(message) => {
                    view! { <p id="error" class="error" role="alert">{message}</p> }.into_any()
                }
            };
            view! {
                <article class="answer-card">
                    <p class="asked">
                        <span class="mode-badge">{l.mode.label()}</span>
                        <span id="asked-question">{l.question}</span>
                    </p>
                    {body}
                </article>
            }
        })
    }
}

/// "Good answer" / "Bad answer" with an optional note: kept with the answer's trace and
/// sent to Phoenix as an annotation of its root span.
#[component]
fn FeedbackForm(trace_id: TraceId, exporter: Exporter) -> impl IntoView {
    let store = exporter.store;
    let note = RwSignal::new(String::new());
    let given =
        Memo::new(move |_| store.with(|s| s.get(trace_id).and_then(|t| t.feedback.clone())));
    let give = move |good: bool| {
        store.update(|s| s.set_feedback(trace_id, Feedback::new(good, &note.get_untracked())));
        exporter.send_feedback();
    };
    let chosen = move |good: bool| given.with(|f| f.as_ref().is_some_and(|f| f.good == good));
    view! {
        <div class="feedback">
            <button id="feedback-good" type="button" class:chosen=move || chosen(true) on:click=move |_| give(true)>
                "Good answer"
            </button>
            <button id="feedback-bad" type="button" class:chosen=move || chosen(false) on:click=move |_| give(false)>
                "Bad answer"
            </button>
            <input
                id="feedback-note"
                type="text"
                placeholder="Note (optional): what was right or wrong"
                aria-label="Feedback note"
                prop:value=move || note.get()
                on:input=move |ev| note.set(event_target_value(&ev))
            />
            {move || given.get().map(|f| view! { <p id="feedback-status" class="hint">{f.status()}</p> })}
        </div>
    }
}
