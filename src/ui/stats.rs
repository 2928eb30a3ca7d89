//! The statistics view: per span name, over the chosen trace or every trace the list
//! shows (its filters apply) — count, durations, self time and error rate — and what
//! the model calls cost (per session too). Computed only while the view is open.

use leptos::prelude::*;
use opentelemetry::trace::TraceId;

use crate::explorer::cost::Spend;
use crate::explorer::rows::SpanRow;
use crate::explorer::stats::{self, NameStats};
use crate::explorer::store::{TraceFilter, TraceRecord, TraceStore};
use crate::telemetry::semconv;

#[component]
pub fn Statistics(
    store: RwSignal<TraceStore>,
    selected_trace: RwSignal<Option<TraceId>>,
    filter: RwSignal<TraceFilter>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let every_trace = RwSignal::new(false);
    let table: Memo<Vec<NameStats>> = Memo::new(move |_| {
        if !open.get() {
            return Vec::new();
        }
        let id = selected_trace.get();
        let rows: Vec<Vec<SpanRow>> = store.with(|s| {
            if every_trace.get() {
                filter.with(|f| {
                    s.traces
                        .iter()
                        .filter(|t| t.matches(f))
                        .map(|t| t.rows())
                        .collect()
                })
            } else {
                id.and_then(|id| s.get(id))
                    .map(|t| t.rows())
                    .into_iter()
                    .collect()
            }
        });
        stats::by_name(rows.iter().map(Vec::as_slice))
    });
    // What the calls cost: over the scope, then per session over every trace.
    let spent: Memo<Vec<(String, String)>> = Memo::new(move |_| {
        if !open.get() {
            return Vec::new();
        }
        let id = selected_trace.get();
        store.with(|s| {
            if !every_trace.get() {
                let label = id
                    .and_then(|id| s.get(id))
                    .and_then(|t| Spend::of_traces([t]).label());
                return label
                    .map(|l| ("This trace".to_string(), l))
                    .into_iter()
                    .collect();
            }
            let listed: Vec<&TraceRecord> =
                filter.with(|f| s.traces.iter().filter(|t| t.matches(f)).collect());
            let mut lines: Vec<(String, String)> = Spend::of_traces(listed.iter().copied())
                .label()
                .map(|l| ("Every trace".to_string(), l))
                .into_iter()
                .collect();
            let mut sessions: Vec<(String, Vec<&TraceRecord>)> = Vec::new();
            for t in listed {
                let session = t.root_attribute(semconv::SESSION_ID).unwrap_or_default();
                match sessions.iter_mut().find(|(s, _)| *s == session) {
                    Some((_, traces)) => traces.push(t),
                    None => sessions.push((session, vec![t])),
                }
            }
            lines.extend(
                sessions
                    .into_iter()
                    .filter(|(s, _)| !s.is_empty())
                    .filter_map(|(session, traces)| {
                        let label = Spend::of_traces(traces).label()?;
                        Some((
                            format!("Session {}", session.chars().take(8).collect::<String>()),
                            label,
                        ))
                    }),
            );
            lines
        })
    });
    view! {
        <Show when=move || store.with(|s| !s.traces.is_empty())>
            <details
                class="stats"
                id="stats-panel"
                on:toggle=move |ev| {
                    open.set(event_target::<web_sys::HtmlDetailsElement>(&ev).open())
                }
            >
                <summary id="stats-summary">"Statistics"</summary>
                <label for="stats-scope">"Over "</label>
                <select
                    id="stats-scope"
                    on:change=move |ev| every_trace.set(event_target_value(&ev) == "all")
                >
                    <option value="trace">"the chosen trace"</option>
                    <option value="all">"every trace in the list"</option>
                </select>
                <ul id="stats-cost">
                    <For each=move || spent.get() key=|line| line.clone() let((scope, label))>
                        <li>{scope}": model calls cost "<span class="cost">{label}</span></li>
                    </For>
                </ul>
                <div class="table-scroll">
                    <table id="stats-table">
                        <thead>
                            <tr>
                                <th>"Span"</th>
                                <th>"Count"</th>
                                <th>"Total ms"</th>
                                <th>"Mean ms"</th>
                                <th>"p50 ms"</th>
                                <th>"p95 ms"</th>
                                <th>"Self ms"</th>
                                <th>"Errors"</th>
                            </tr>
                        </thead>
                        <tbody>
                            // Keyed by every figure: a row whose figures change is drawn anew.
                            <For each=move || table.get() key=|s| format!("{s:?}") let(s)>
                                <StatsRow s />
                            </For>
                        </tbody>
                    </table>
                </div>
            </details>
        </Show>
    }
}

#[component]
fn StatsRow(s: NameStats) -> impl IntoView {
    let ms = |x: f64| format!("{x:.2}");
    view! {
        <tr data-name=s.name.clone() data-count=s.count.to_string()>
            <td>{s.name.clone()}</td>
            <td class="num">{s.count}</td>
            <td class="num">{ms(s.total_ms)}</td>
            <td class="num">{ms(s.mean_ms)}</td>
            <td class="num">{ms(s.p50_ms)}</td>
            <td class="num">{ms(s.p95_ms)}</td>
            <td class="num">{ms(s.self_ms)}</td>
            <td class="num">{format!("{} ({:.0} %)", s.errors, s.error_rate() * 100.0)}</td>
        </tr>
    }
}
