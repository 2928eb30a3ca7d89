//! The Phoenix panel: export settings, "Export to Phoenix", auto-export, retry with
//! backoff, OTLP/JSON download and import, and redaction switches. The work itself is
//! [`crate::telemetry::export`] and [`crate::telemetry::otlp`]; this file wires it.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::fields::{CheckField, SecretField, TextField};
use crate::browser::{self, fetch::BrowserHttp, storage};
use crate::telemetry::export::{backoff, export, ExportSettings, ExportTarget};
use crate::telemetry::otlp;
use crate::telemetry::provider;
use crate::telemetry::redact::Redaction;
use crate::telemetry::store::{ExportState, TraceStore};

/// Automatic retries after a retryable failure before waiting for the user.
const MAX_AUTO_RETRIES: u32 = 5;

/// The export panel's state.
#[derive(Clone, Copy)]
pub struct Exporter {
    pub store: RwSignal<TraceStore>,
    pub settings: RwSignal<ExportSettings>,
    pub api_key: RwSignal<String>,
    /// The last outcome, in words: (is_error, message).
    pub status: RwSignal<Option<(bool, String)>>,
    /// Failed attempts in a row (drives the backoff).
    attempts: RwSignal<u32>,
    /// Bumped by every user action, so a scheduled retry from before it stands down.
    generation: RwSignal<u64>,
}

impl Exporter {
    pub fn new(store: RwSignal<TraceStore>) -> Self {
        Exporter {
            store,
            settings: RwSignal::new(storage::load(storage::EXPORT_SETTINGS)),
            api_key: RwSignal::new(storage::load_key(storage::PHOENIX_KEY)),
            status: RwSignal::new(None),
            attempts: RwSignal::new(0),
            generation: RwSignal::new(0),
        }
    }

    pub fn redaction(&self) -> Redaction {
        self.settings.with_untracked(|s| s.redaction)
    }

    fn say(&self, error: bool, message: impl Into<String>) {
        self.status.set(Some((error, message.into())));
    }

    /// Sends every trace not yet exported, now (a user action: resets the backoff).
    pub fn export_now(self) {
        self.generation.update(|g| *g += 1);
        self.attempts.set(0);
        self.send_pending();
    }

    fn send_pending(self) {
        let target = match ExportTarget::parse(
            &self.settings.get_untracked(),
            &self.api_key.get_untracked(),
            &browser::origin(),
        ) {
            Ok(t) => t,
            Err(e) => return self.say(true, e.to_string()),
        };
        let ids = self.store.with_untracked(TraceStore::unexported);
        if ids.is_empty() {
            return self.say(false, "Every trace is already exported.");
        }
        let spans = self.store.with_untracked(|s| s.spans_of(&ids));
        let span_count = spans.len();
        self.store
            .update(|s| s.set_export(&ids, ExportState::Sending));
        self.say(
            false,
            format!("Sending {} traces to {} …", ids.len(), target.url),
        );
        spawn_local(async move {
            match export(&BrowserHttp, &target, spans).await {
                Ok(()) => {
                    self.attempts.set(0);
                    self.store
                        .update(|s| s.set_export(&ids, ExportState::Exported));
                    self.say(
                        false,
                        format!(
                            "Exported {} traces ({span_count} spans) to project \"{}\".",
                            ids.len(),
                            target.project
                        ),
                    );
                }
                Err(e) => {
                    let message = e.to_string();
                    self.store
                        .update(|s| s.set_export(&ids, ExportState::Failed(message.clone())));
                    let attempt = self.attempts.get_untracked() + 1;
                    self.attempts.set(attempt);
                    if e.retryable() && attempt <= MAX_AUTO_RETRIES {
                        let wait = backoff(attempt);
                        self.say(true, format!("{message} Retrying in {} s (attempt {attempt} of {MAX_AUTO_RETRIES}).", wait.as_secs()));
                        let generation = self.generation.get_untracked();
                        gloo_timers::future::sleep(wait).await;
                        if self.generation.get_untracked() == generation {
                            self.send_pending();
                        }
                    } else {
                        self.say(true, message);
                    }
                }
            }
        });
    }

    fn save(self) {
        let settings = self.settings.get_untracked();
        let saved = storage::save(storage::EXPORT_SETTINGS, &settings).and_then(|()| {
            storage::save_key(
                storage::PHOENIX_KEY,
                &self.api_key.get_untracked(),
                settings.remember_key,
            )
        });
        if let Err(e) = saved {
            self.say(
                true,
                format!("Settings apply to this page but were not saved: {e}."),
            );
        }
    }

    fn download_all(self) {
        let spans = self.store.with_untracked(|s| {
            s.traces
                .iter()
                .flat_map(|t| t.spans.clone())
                .collect::<Vec<_>>()
        });
        if spans.is_empty() {
            return self.say(
                true,
                "There are no traces to download yet: ask a question first.",
            );
        }
        self.download(spans, "ragtrace-traces.json");
    }

    /// Offers `spans` as an OTLP/JSON file.
    pub fn download(self, spans: Vec<opentelemetry_sdk::trace::SpanData>, name: &str) {
        let project = self.settings.with_untracked(|s| s.project.clone());
        let json = otlp::to_json(spans, &provider::resource(&project));
        if let Err(e) = browser::file::download(name, &json, "application/json") {
            self.say(true, format!("The download failed: {e}"));
        }
    }

    fn import(self, file: web_sys::File) {
        spawn_local(async move {
            let parsed = browser::file::read_text(&file)
                .await
                .and_then(|text| otlp::from_json(&text).map_err(|e| e.to_string()));
            match parsed {
                Ok(spans) => {
                    let n = spans.len();
                    let traces = self.store.try_update(|s| s.add(spans)).unwrap_or_default();
                    self.say(
                        false,
                        format!(
                            "Imported {n} spans in {} traces from {}.",
                            traces.len(),
                            file.name()
                        ),
                    );
                }
                Err(e) => self.say(
                    true,
                    format!("Nothing was imported from {}: {e}", file.name()),
                ),
            }
        });
    }
}

#[component]
pub fn ExportPanel(exporter: Exporter) -> impl IntoView {
    let settings = exporter.settings;
    let saved = Callback::new(move |()| exporter.save());
    let counts = move || {
        exporter.store.with(|s| {
            let n = |label: &str| {
                s.traces
                    .iter()
                    .filter(|t| t.export.label() == label)
                    .count()
            };
            format!(
                "{} pending · {} exported · {} failed",
                n("pending") + n("sending"),
                n("exported"),
                n("failed")
            )
        })
    };
    let any_failed = move || {
        exporter.store.with(|s| {
            s.traces
                .iter()
                .any(|t| matches!(t.export, ExportState::Failed(_)))
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
            </div>
            <div class="checks">
                <CheckField id="remember-key" label="Remember the key on this device" settings saved
                    get=|s: &ExportSettings| s.remember_key set=|s, v| s.remember_key = v />
                <CheckField id="gzip" label="gzip" settings saved get=|s: &ExportSettings| s.gzip set=|s, v| s.gzip = v />
                <CheckField id="auto-export" label="Auto-export" settings saved
                    get=|s: &ExportSettings| s.auto_export set=|s, v| s.auto_export = v />
            </div>
            <div class="checks redaction" title="OpenInference's OPENINFERENCE_HIDE_* settings: applied before a span is stored or exported">
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
            <div class="actions">
                <button id="export" type="button" on:click=move |_| exporter.export_now()>"Export to Phoenix"</button>
                <Show when=any_failed>
                    <button id="retry" type="button" on:click=move |_| exporter.export_now()>"Retry"</button>
                </Show>
                <button id="download-all" type="button" on:click=move |_| exporter.download_all()>"Download all (OTLP JSON)"</button>
                <label class="button" for="import">"Import OTLP JSON"</label>
                <input id="import" class="visually-hidden" type="file" accept=".json,application/json" on:change=on_import />
            </div>
            <p id="export-counts" class="hint">{counts}</p>
            {move || exporter.status.get().map(|(error, message)| {
                view! { <p id="export-status" class:error=error class:note=!error role="status">{message}</p> }
            })}
        </details>
    }
}
