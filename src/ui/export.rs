//! The Phoenix panel: export settings and redaction switches, the export actions, the
//! counts, the spans set aside, and the last outcome. The work is [`Exporter`]'s.

use leptos::prelude::*;

use super::fields::{CheckField, SecretField, TextField};
use crate::explorer::store::{ExportState, TraceStore};
use crate::telemetry::export::ExportSettings;

use super::exporter::Exporter;

#[component]
pub fn ExportPanel(exporter: Exporter) -> impl IntoView {
    let settings = exporter.settings;
    let saved = Callback::new(move |()| exporter.save());
    let counts = move || {
        exporter.store.with(|s| {
            let n = |state: fn(&ExportState) -> bool| {
                s.traces.iter().filter(|t| state(&t.export())).count()
            };
            let aside: usize = s.traces.iter().map(|t| t.delivery.set_aside.len()).sum();
            let mut text = format!(
                "{} pending · {} exported · {} failed",
                n(|e| matches!(e, ExportState::Pending | ExportState::Sending)),
                n(|e| *e == ExportState::Exported),
                n(|e| matches!(e, ExportState::Failed(_)))
            );
            if aside > 0 {
                text.push_str(&format!(" · {aside} spans set aside"));
            }
            text
        })
    };
    let any_failed = move || {
        exporter.store.with(|s| {
            s.traces
                .iter()
                .any(|t| matches!(t.export(), ExportState::Failed(_)))
        })
    };
    let on_import = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            exporter.import(file);
        }
        input.set_value("");
    };
    view! {
        <details class="export-panel" open>
            <summary>"Phoenix export"</summary>
            <div class="settings">
                <TextField id="phoenix-endpoint" label="Phoenix endpoint" settings saved placeholder="/v1/traces"
                    get=|s: &ExportSettings| s.endpoint.clone() set=|s, v| s.endpoint = v />
                <TextField id="phoenix-project" label="Project" settings saved
                    get=|s: &ExportSettings| s.project.clone() set=|s, v| s.project = v />
                <SecretField id="phoenix-key" label="Phoenix API key" value=exporter.api_key saved
                    placeholder="only if Phoenix has auth enabled" />
                <TextField id="user-id" label="Your name" settings saved placeholder="recorded as user.id (optional)"
                    get=|s: &ExportSettings| s.user.clone() set=|s, v| s.user = v />
            </div>
            <div class="checks">
                <CheckField id="remember-key" label="Remember the key on this device" settings saved
                    get=|s: &ExportSettings| s.remember_key set=|s, v| s.remember_key = v />
                <CheckField id="gzip" label="gzip" settings saved get=|s: &ExportSettings| s.gzip set=|s, v| s.gzip = v />
                <CheckField id="auto-export" label="Auto-export" settings saved
                    get=|s: &ExportSettings| s.auto_export set=|s, v| s.auto_export = v />
            </div>
            <div class="settings">
                <TextField id="export-timeout" label="Timeout (s)" settings saved kind="number"
                    get=|s: &ExportSettings| s.timeout_s.to_string()
                    set=|s, v| if let Ok(t) = v.trim().parse() { s.timeout_s = t } />
            </div>
            <RedactionSwitches settings saved />
            <div class="actions">
                <button id="export" type="button" on:click=move |_| exporter.export_now()>"Export to Phoenix"</button>
                <Show when=any_failed>
                    <button id="retry" type="button" on:click=move |_| exporter.export_now()>"Retry"</button>
                </Show>
                <button id="download-all" type="button" on:click=move |_| exporter.download_all()>"Download all (OTLP JSON)"</button>
                <label class="button" for="import">"Import OTLP JSON"</label>
                <input id="import" class="visually-hidden" type="file" accept=".json,.jsonl,.ndjson,application/json" on:change=on_import />
            </div>
            <p id="export-counts" class="hint">{counts}</p>
            <SetAside store=exporter.store />
            {move || exporter.status.get().map(|(error, message)| {
                view! { <p id="export-status" class:error=error class:note=!error role="status">{message}</p> }
            })}
        </details>
    }
}

/// OpenInference's "Hide …" switches.
#[component]
fn RedactionSwitches(settings: RwSignal<ExportSettings>, saved: Callback<()>) -> impl IntoView {
    view! {
            <div class="checks redaction" title="OpenInference's OPENINFERENCE_HIDE_* settings: applied before a span is stored, and again as it is exported or downloaded">
            <CheckField id="hide-inputs" label="Hide inputs" settings saved
                get=|s: &ExportSettings| s.redaction.hide_inputs set=|s, v| s.redaction.hide_inputs = v />
            <CheckField id="hide-outputs" label="Hide outputs" settings saved
                get=|s: &ExportSettings| s.redaction.hide_outputs set=|s, v| s.redaction.hide_outputs = v />
            <CheckField id="hide-input-messages" label="Hide input messages" settings saved
                get=|s: &ExportSettings| s.redaction.hide_input_messages set=|s, v| s.redaction.hide_input_messages = v />
            <CheckField id="hide-output-messages" label="Hide output messages" settings saved
                get=|s: &ExportSettings| s.redaction.hide_output_messages set=|s, v| s.redaction.hide_output_messages = v />
            <CheckField id="hide-embedding-vectors" label="Hide embedding vectors" settings saved
                get=|s: &ExportSettings| s.redaction.hide_embedding_vectors set=|s, v| s.redaction.hide_embedding_vectors = v />
        </div>
    }
}

/// The spans Phoenix will not take, each with its trace, name and reason.
#[component]
fn SetAside(store: RwSignal<TraceStore>) -> impl IntoView {
    let items = move || {
        store.with(|s| {
            s.traces
                .iter()
                .flat_map(|t| {
                    t.delivery.set_aside.iter().map(move |(id, why)| {
                        let name = t
                            .spans
                            .iter()
                            .find(|s| s.span_context.span_id() == *id)
                            .map(|s| s.name.to_string())
                            .unwrap_or_default();
                        (t.trace_id.to_string(), id.to_string(), name, why.clone())
                    })
                })
                .collect::<Vec<_>>()
        })
    };
    view! {
        <Show when=move || !items().is_empty()>
            <ul id="set-aside" class="error">
                <For each=items key=|(t, s, _, _)| (t.clone(), s.clone()) let((trace, span, name, why))>
                    <li data-span-id=span.clone()>{format!("{name} ({span}) of trace {}: {why}", &trace[..8])}</li>
                </For>
            </ul>
        </Show>
    }
}
