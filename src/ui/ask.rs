//! The question form and the answer panel.

use leptos::prelude::*;

use super::LastAnswer;
use crate::rag::pipeline::Mode;

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
pub fn AnswerView(last: RwSignal<Option<LastAnswer>>) -> impl IntoView {
    move || {
        last.get().map(|l| {
            let body = match l.result {
                Ok(answer) => {
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
