//! The spans table over the chosen trace or every trace, with filters and sortable
//! columns.

use leptos::prelude::*;
use opentelemetry::trace::{SpanId, TraceId};

use crate::explorer::query::{FoundSpan, SortKey, SpanQuery};
use crate::explorer::store::TraceStore;
use crate::telemetry::semconv::{SpanKind, StatusCode};

use super::is_selected;

/// Rows the spans table shows at most (the filters narrow the rest down).
const MAX_TABLE_ROWS: usize = 500;

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
    selected_trace: RwSignal<Option<TraceId>>,
    selected_span: RwSignal<Option<SpanId>>,
) -> impl IntoView {
    let query = RwSignal::new(SpanQuery::default());
    let every_trace = RwSignal::new(false);
    let found: Memo<Result<Vec<FoundSpan>, String>> = Memo::new(move |_| {
        let mut q = query.get();
        q.trace_id = if every_trace.get() {
            None
        } else {
            // No trace chosen: an id no trace has, so the table is empty.
            Some(selected_trace.get().unwrap_or(TraceId::INVALID))
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
        found
            .get()
            .unwrap_or_default()
            .into_iter()
            .take(MAX_TABLE_ROWS)
            .map(|found| view! { <SpanTableRow found tree all selected_trace selected_span /> })
            .collect_view()
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
    // What a person said of the chosen trace's answer.
    let feedback = move || {
        if every_trace.get() {
            return None;
        }
        let id = selected_trace.get()?;
        let f = store.with(|s| s.get(id)?.feedback.clone())?;
        let note = if f.note.is_empty() {
            String::new()
        } else {
            format!(": {}", f.note)
        };
        Some(view! {
            <p id="span-feedback" class=format!("hint feedback-{}", f.label())>
                {format!("Answer marked {}{note}", f.label())}
            </p>
        })
    };
    view! {
        <Show when=move || store.with(|s| !s.traces.is_empty())>
            <h2>"Spans"</h2>
            <SpanFilters query every_trace />
            {count}
            {feedback}
            <div class="table-scroll">
                <table id="spans" class="spans">
                    <thead>
                        <tr>
                            {headings}
                            {move || every_trace.get().then(|| view! { <th>"Trace"</th> })}
                        </tr>
                    </thead>
                    <tbody>{body}</tbody>
                </table>
            </div>
        </Show>
    }
}

/// The table's filters: which traces, name, kind, status, attribute.
#[component]
fn SpanFilters(query: RwSignal<SpanQuery>, every_trace: RwSignal<bool>) -> impl IntoView {
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
    }
}

/// One span of the table; in tree order it is indented by depth, and over every trace
/// it names its trace. Choosing it chooses its trace too.
#[component]
fn SpanTableRow(
    found: FoundSpan,
    tree: bool,
    all: bool,
    selected_trace: RwSignal<Option<TraceId>>,
    selected_span: RwSignal<Option<SpanId>>,
) -> impl IntoView {
    let FoundSpan {
        trace_id,
        question,
        row: r,
        ..
    } = found;
    let kind = r.kind_label();
    let indent = if tree { r.depth as f64 * 1.1 } else { 0.0 };
    let span_id = r.span_id;
    let trace_label = if question.is_empty() {
        trace_id.to_string()[..8].to_string()
    } else {
        question
    };
    let choose = move || {
        if selected_trace.get_untracked() != Some(trace_id) {
            selected_trace.set(Some(trace_id));
        }
        selected_span.set(Some(span_id));
    };
    view! {
        <tr
            class="span-row"
            data-depth=r.depth
            data-trace-id=trace_id.to_string()
            tabindex="0"
            class:selected=is_selected(selected_span, r.span_id)
            class:error=r.status == StatusCode::Error
            on:click=move |_| choose()
            on:keydown=crate::ui::choosing_keys(choose)
        >
            <td class="name" style=format!("padding-left: {}rem", 0.4 + indent)>{r.name}</td>
            <td class=format!("kind kind-{}", kind.to_lowercase())>{kind}</td>
            <td class=format!("status {}", r.status.as_str().to_lowercase())>{r.status.as_str()}</td>
            <td class="duration">{format!("{:.2}", r.duration_ms)}</td>
            <td class="key-attr">{r.key_attribute}</td>
            {all.then(|| view! { <td class="trace-of">{trace_label}</td> })}
        </tr>
    }
}
