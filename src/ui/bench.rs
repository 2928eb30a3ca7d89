//! Benchmark mode: run the first N questions of a set (the bundled one, or the one
//! phrased as people ask), traced like any other, with progress and Stop (which also
//! stops the question in flight); a table per question and a summary (hit@1/3/5,
//! MRR, fact in answer, p50/p95 latency) read back from the traces.

use leptos::prelude::*;
use leptos::task::spawn_local;
use opentelemetry::trace::TraceId;

use super::runner::Runner;
use crate::explorer::bench::{BenchRow, BenchSummary};
use crate::rag::eval::{parse_queries, Query};
use crate::rag::pipeline::Mode;
use crate::{QUERIES_JSONL, QUESTIONS_JSONL};

#[component]
pub fn BenchPanel(
    runner: Runner,
    busy: RwSignal<bool>,
    show: impl Fn(Option<TraceId>) + Copy + 'static,
) -> impl IntoView {
    // The bundled files are checked by the tests, so an error here is a build defect.
    let sets: StoredValue<[Vec<Query>; 2]> = StoredValue::new(
        [QUERIES_JSONL, QUESTIONS_JSONL].map(|f| parse_queries(f).unwrap_or_default()),
    );
    let set = RwSignal::new(0usize);
    let total = move || sets.with_value(|s| s[set.get()].len());
    let count = RwSignal::new(5usize);
    let mode = RwSignal::new(Mode::Rag);
    let done = RwSignal::new(0usize);
    let planned = RwSignal::new(0usize);
    let stop = RwSignal::new(false);
    let rows: RwSignal<Vec<BenchRow>> = RwSignal::new(Vec::new());

    let run = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        stop.set(false);
        rows.set(Vec::new());
        done.set(0);
        let chosen: Vec<Query> = sets.with_value(|s| {
            s[set.get_untracked()]
                .iter()
                .take(count.get_untracked())
                .cloned()
                .collect()
        });
        planned.set(chosen.len());
        let m = mode.get_untracked();
        spawn_local(async move {
            for q in chosen {
                if stop.get_untracked() {
                    break;
                }
                let asked = runner.ask(&q.question, m).await;
                show(asked.trace_id);
                if stop.get_untracked() {
                    break; // stopped mid-question: no measure of it, only of those before
                }
                if let Some(id) = asked.trace_id {
                    if let Some(row) = runner
                        .store
                        .with_untracked(|s| s.get(id).map(|t| BenchRow::from_trace(&q, t)))
                    {
                        rows.update(|r| r.push(row));
                    }
                }
                done.update(|d| *d += 1);
                // Let the page paint the progress between questions.
                gloo_timers::future::sleep(std::time::Duration::ZERO).await;
            }
            busy.set(false);
        });
    };

    view! {
        <details class="bench-panel">
            <summary id="bench-summary-toggle">"Benchmark"</summary>
            <Show when=move || !runner.corpus.has_handbook()>
                <p id="bench-no-handbook" class="error">"The bundled questions expect answers from the handbook, which is not among the indexed documents: hit@k will be 0. Reset to the handbook, or add it back, to benchmark retrieval."</p>
            </Show>
            <div class="settings">
                <label for="bench-set">"Question set"</label>
                <select id="bench-set" on:change=move |ev| set.set(usize::from(event_target_value(&ev) == "people"))>
                    <option value="bundled">{move || format!("Bundled ({} questions)", sets.with_value(|s| s[0].len()))}</option>
                    <option value="people">{move || format!("As people ask ({} questions)", sets.with_value(|s| s[1].len()))}</option>
                </select>
                <label for="bench-count">"Questions"</label>
                <input
                    id="bench-count"
                    type="number"
                    min="1"
                    max=total
                    prop:value=move || count.get().min(total()).to_string()
                    on:change=move |ev| count.set(event_target_value(&ev).parse::<usize>().unwrap_or(5).clamp(1, total()))
                />
                <label for="bench-mode">"Benchmark mode"</label>
                <select id="bench-mode" on:change=move |ev| mode.set(if event_target_value(&ev) == "agent" { Mode::Agent } else { Mode::Rag })>
                    <option value="rag">"RAG"</option>
                    <option value="agent">"Agent"</option>
                </select>
            </div>
            <div class="actions">
                <button id="bench-run" type="button" disabled=move || busy.get() on:click=run>"Run benchmark"</button>
                <button id="bench-stop" type="button" disabled=move || !busy.get() on:click=move |_| { stop.set(true); runner.stop(); }>"Stop"</button>
                <progress id="bench-progress" max=move || planned.get().max(1) value=move || done.get()></progress>
                <span class="hint">{move || format!("{} / {}", done.get(), planned.get())}</span>
            </div>
            <Show when=move || !rows.with(Vec::is_empty)>
                <BenchResults rows />
            </Show>
        </details>
    }
}

/// The run's table, one row per question, and its summary.
#[component]
fn BenchResults(rows: RwSignal<Vec<BenchRow>>) -> impl IntoView {
    let summary = move || {
        rows.with(|r| {
            let s = BenchSummary::of(r);
            let facts = s
                .fact_in_answer
                .map_or("n/a (outputs hidden)".to_string(), |f| format!("{:.0} %", f * 100.0));
            let cost = s.cost.label().map(|c| format!(" · cost {c}")).unwrap_or_default();
            format!(
                "{} questions · hit@1 {:.2} · hit@3 {:.2} · hit@5 {:.2} · MRR {:.2} · fact in answer {} · p50 {:.2} ms · p95 {:.2} ms{cost}",
                r.len(), s.metrics.hit_at_1, s.metrics.hit_at_3, s.metrics.hit_at_5, s.metrics.mrr, facts, s.p50_ms, s.p95_ms
            )
        })
    };
    view! {
        <div class="table-scroll">
            <table id="bench-results" class="bench">
                <thead>
                    <tr><th>"Query"</th><th>"Top score"</th><th>"Results"</th><th>"Answer words"</th><th>"Retrieval ms"</th><th>"Generation ms"</th><th>"Total ms"</th><th>"Rank"</th><th>"Fact in answer"</th></tr>
                </thead>
                <tbody>
                    {move || rows.get().into_iter().map(|row| view! { <BenchRowView row /> }).collect_view()}
                </tbody>
            </table>
        </div>
        <p id="bench-summary" class="note">{summary}</p>
    }
}

/// One question of the run.
#[component]
fn BenchRowView(row: BenchRow) -> impl IntoView {
    let rank = row.rank.map_or("–".to_string(), |k| k.to_string());
    view! {
        <tr class:error=!row.ok>
            <td title=row.question.clone()>{row.query_id}</td>
            <td class="num">{format!("{:.3}", row.top_score)}</td>
            <td class="num">{row.result_count}</td>
            <td class="num">{row.answer_words}</td>
            <td class="num">{format!("{:.2}", row.retrieval_ms)}</td>
            <td class="num">{format!("{:.2}", row.generation_ms)}</td>
            <td class="num">{format!("{:.2}", row.total_ms)}</td>
            <td class="num">{rank}</td>
            <td class="fact" title="n/a: the answer is hidden (Hide outputs) or was not recorded">
                {match row.fact_in_answer { Some(true) => "yes", Some(false) => "no", None => "n/a" }}
            </td>
        </tr>
    }
}
