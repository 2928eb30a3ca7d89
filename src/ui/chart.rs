//! The per-query latency chart, drawn as SVG: for each question,
//! bars for time in retrieval, in generation, and in the rest (agent steps, tools,
//! overhead), with the averages and each part's share of the total.

use leptos::prelude::*;

use crate::explorer::chart::latency_series;
use crate::explorer::store::TraceStore;

/// Questions shown at most (the newest).
const MAX_QUERIES: usize = 12;
const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 180.0;
/// Room on the left for the millisecond scale: "60000.0 ms" (a remote model's time-out)
/// fits; at 48 a label of 100 ms or more was cut at the edge.
const AXIS: f64 = 72.0;
const SERIES: [(&str, &str); 3] = [
    ("retrieval", "retrieval"),
    ("generation", "generation"),
    ("other", "other"),
];

#[component]
pub fn LatencyChart(store: RwSignal<TraceStore>) -> impl IntoView {
    let data = move || store.with(|s| latency_series(s, MAX_QUERIES));
    let chart = move || {
        let data = data();
        if data.is_empty() {
            return None;
        }
        let max = data
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .fold(1e-3, f64::max);
        let group = (WIDTH - AXIS) / data.len() as f64;
        // Gridlines with their values, so bar heights read as milliseconds.
        let grid = [0.0, 0.5, 1.0]
            .iter()
            .map(|f| {
                let y = HEIGHT - f * (HEIGHT - 20.0);
                view! {
                    <line class="grid" x1=AXIS x2=WIDTH y1=y y2=y></line>
                    <text class="tick" x=AXIS - 4.0 y=y + 3.0 text-anchor="end">{format!("{:.1} ms", f * max)}</text>
                }
            })
            .collect_view();
        let bar = (group * 0.8 / 3.0).min(28.0);
        let groups = data
            .iter()
            .enumerate()
            .map(|(i, (question, values))| {
                let x0 = AXIS + i as f64 * group + (group - 3.0 * bar) / 2.0;
                let bars = values
                    .iter()
                    .zip(SERIES)
                    .enumerate()
                    .map(|(j, (v, (name, class)))| {
                        let h = v / max * (HEIGHT - 20.0);
                        view! {
                            <rect class=format!("bar {class}") x=x0 + j as f64 * bar y=HEIGHT - h width=bar - 1.0 height=h>
                                <title>{format!("Q{}: {name} {v:.2} ms", i + 1)}</title>
                            </rect>
                        }
                    })
                    .collect_view();
                view! {
                    <g class="query">
                        <title>{question.clone()}</title>
                        {bars}
                        <text x=x0 + 1.5 * bar y=HEIGHT + 14.0 text-anchor="middle">{format!("Q{}", i + 1)}</text>
                    </g>
                }
            })
            .collect_view();
        let n = data.len() as f64;
        let totals: Vec<f64> = (0..3)
            .map(|j| data.iter().map(|(_, v)| v[j]).sum())
            .collect();
        let all: f64 = totals.iter().sum::<f64>().max(1e-9);
        let summary = SERIES
            .iter()
            .zip(&totals)
            .map(|((name, _), t)| format!("{name} {:.2} ms avg ({:.0}%)", t / n, 100.0 * t / all))
            .collect::<Vec<_>>()
            .join(" · ");
        Some(view! {
            <h2>"Latency per question"</h2>
            <svg id="latency-chart" class="chart" viewBox=format!("0 0 {WIDTH} {}", HEIGHT + 20.0) role="img">
                <title>"Time in retrieval, generation and the rest, per question"</title>
                {grid}
                {groups}
            </svg>
            <p class="legend">
                <span class="swatch retrieval"></span>"retrieval "
                <span class="swatch generation"></span>"generation "
                <span class="swatch other"></span>"other (agent steps, tools, overhead)"
            </p>
            <p id="latency-summary" class="hint">{summary}</p>
        })
    };
    view! { <div class="latency">{chart}</div> }
}
