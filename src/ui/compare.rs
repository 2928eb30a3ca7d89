//! Two traces side by side (picked in the trace list): every span with its match and
//! the change in duration, the spans only one has, the documents whose rank or score
//! changed, and the answers, tokens and cost of each.

use leptos::prelude::*;
use opentelemetry::trace::TraceId;

use crate::explorer::compare::{Comparison, DocumentChange, Matched, Pair};
use crate::explorer::store::TraceStore;

#[component]
pub fn CompareView(
    store: RwSignal<TraceStore>,
    comparing: RwSignal<Option<(TraceId, TraceId)>>,
) -> impl IntoView {
    let comparison: Memo<Option<(String, String, Comparison)>> = Memo::new(move |_| {
        let (a, b) = comparing.get()?;
        store.with(|s| {
            let (left, right) = (s.get(a)?, s.get(b)?);
            let title = |t: &crate::explorer::store::TraceRecord| {
                let summary = t.summary();
                format!("{} · {}", summary.name, summary.question)
            };
            Some((title(left), title(right), Comparison::of(left, right)))
        })
    });
    view! {
        {move || comparison.get().map(|(left, right, c)| view! {
            <section id="comparison" class="comparison">
                <h2>
                    "Comparison "
                    <button id="close-comparison" type="button" on:click=move |_| comparing.set(None)>"Close"</button>
                </h2>
                <table class="compare-sides">
                    <thead><tr><th></th><th>"A"</th><th>"B"</th></tr></thead>
                    <tbody>
                        <tr><th>"Trace"</th><td>{left}</td><td>{right}</td></tr>
                        <tr><th>"Duration"</th><td>{format!("{:.2} ms", c.duration_ms.0)}</td><td>{format!("{:.2} ms", c.duration_ms.1)}</td></tr>
                        <tr id="compare-answers" class:changed=c.answers.0 != c.answers.1><th>"Answer"</th><td>{c.answers.0.clone()}</td><td>{c.answers.1.clone()}</td></tr>
                        <tr id="compare-tokens" class:changed=c.tokens.0 != c.tokens.1><th>"Tokens"</th><td>{c.tokens.0}</td><td>{c.tokens.1}</td></tr>
                        <tr id="compare-cost"><th>"Cost"</th>
                            <td>{c.cost.0.label().unwrap_or_else(|| "—".into())}</td>
                            <td>{c.cost.1.label().unwrap_or_else(|| "—".into())}</td>
                        </tr>
                    </tbody>
                </table>
                <h3>"Spans"</h3>
                <div class="table-scroll">
                    <table id="compare-spans">
                        <thead><tr><th>"Path"</th><th>"A ms"</th><th>"B ms"</th><th>"Δ ms"</th><th>"Matched"</th></tr></thead>
                        <tbody>{c.pairs.into_iter().map(pair_row).collect_view()}</tbody>
                    </table>
                </div>
                <h3>"Retrieved documents"</h3>
                <div class="table-scroll">
                    <table id="compare-documents">
                        <thead><tr><th>"Retrieval"</th><th>"Document"</th><th>"A rank · score"</th><th>"B rank · score"</th></tr></thead>
                        <tbody>{c.documents.into_iter().map(document_row).collect_view()}</tbody>
                    </table>
                </div>
            </section>
        })}
    }
}

fn pair_row(p: Pair) -> impl IntoView {
    let ms = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.2}"));
    let only = match (p.left, p.right) {
        (Some(_), None) => "only-a",
        (None, Some(_)) => "only-b",
        _ => "both",
    };
    let matched = match p.matched {
        Some(Matched::Path) => "by path",
        Some(Matched::Name) => "by name",
        None if only == "only-a" => "only in A",
        None => "only in B",
    };
    let delta = p.delta_ms().map_or(String::new(), |d| format!("{d:+.2}"));
    view! {
        <tr class=format!("pair {only}") data-path=p.path.clone()>
            <td>{p.path.clone()}</td>
            <td class="num">{ms(p.left_ms)}</td>
            <td class="num">{ms(p.right_ms)}</td>
            <td class="num">{delta}</td>
            <td>{matched}</td>
        </tr>
    }
}

fn document_row(d: DocumentChange) -> impl IntoView {
    let side = |s: &Option<(usize, Option<f64>)>| match s {
        None => "—".to_string(),
        Some((rank, Some(score))) => format!("#{rank} · {score:.3}"),
        Some((rank, None)) => format!("#{rank}"),
    };
    view! {
        <tr class="document" class:changed=d.changed() data-id=d.id.clone()>
            <td>{d.path.clone()}</td>
            <td>{d.id.clone()}</td>
            <td>{side(&d.left)}</td>
            <td>{side(&d.right)}</td>
        </tr>
    }
}
