//! The Phoenix panel: export settings, "Export to Phoenix", auto-export, automatic
//! retries as [`crate::telemetry::delivery`] asks, the spans set aside, the flush when
//! the page is hidden, OTLP/JSON download and import, and redaction switches. One tab
//! of the origin exports at a time (a Web Lock), and tabs tell each other what they
//! delivered, deleted or cleared.

use std::collections::HashSet;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::fields::{CheckField, SecretField, TextField};
use crate::browser::fetch::BrowserHttp;
use crate::browser::lifecycle::{self, Tabs};
use crate::browser::{self, storage};
use crate::explorer::store::{ExportState, StoreChange, TraceStore};
use crate::http::{self, HttpClient};
use crate::telemetry::delivery::{self, deliver, Outcome, SpanKey, Stopped};
use crate::telemetry::export::{ExportSettings, ExportTarget};
use crate::telemetry::otlp;
use crate::telemetry::provider;
use crate::telemetry::redact::Redaction;

/// Automatic retries after a retryable failure before waiting for the user.
const MAX_AUTO_RETRIES: u32 = 5;
/// Imports larger than this are refused before they are read.
const MAX_IMPORT_BYTES: f64 = 50.0 * 1024.0 * 1024.0;
/// The Web Lock held while a tab exports.
const EXPORT_LOCK: &str = "ragtrace-export";

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
    /// A run is under way in this tab.
    running: StoredValue<bool>,
    /// Spans arrived or the user asked during a run: run again when it ends.
    again: StoredValue<bool>,
    client: StoredValue<Rc<BrowserHttp>, LocalStorage>,
    tabs: StoredValue<Tabs, LocalStorage>,
    /// Spans in a keepalive request now: hiding and closing both flush, and a span
    /// need not go twice.
    flushing: StoredValue<HashSet<SpanKey>>,
}

impl Exporter {
    pub fn new(store: RwSignal<TraceStore>) -> Self {
        let tabs = Tabs::open("ragtrace", move |change: StoreChange| {
            store.update(|s| s.apply(&change));
        });
        let exporter = Exporter {
            store,
            settings: RwSignal::new(storage::load(storage::EXPORT_SETTINGS)),
            api_key: RwSignal::new(storage::load_key(storage::PHOENIX_KEY)),
            status: RwSignal::new(None),
            attempts: RwSignal::new(0),
            generation: RwSignal::new(0),
            running: StoredValue::new(false),
            again: StoredValue::new(false),
            client: StoredValue::new_local(Rc::new(BrowserHttp::default())),
            tabs: StoredValue::new_local(tabs),
            flushing: StoredValue::new(HashSet::new()),
        };
        lifecycle::on_hide(move || exporter.flush());
        exporter
    }

    pub fn redaction(&self) -> Redaction {
        self.settings.with_untracked(|s| s.redaction)
    }

    pub fn auto_export(&self) -> bool {
        self.settings.with_untracked(|s| s.auto_export)
    }

    /// Tells the other tabs of this origin.
    pub fn tell_tabs(&self, change: &StoreChange) {
        self.tabs.with_value(|t| t.post(change));
    }

    fn say(&self, error: bool, message: impl Into<String>) {
        self.status.set(Some((error, message.into())));
    }

    fn target(&self) -> Result<ExportTarget, String> {
        ExportTarget::parse(
            &self.settings.get_untracked(),
            &self.api_key.get_untracked(),
            &browser::origin(),
        )
        .map_err(|e| e.to_string())
    }

    /// Sends every pending span, now (a user action: resets the backoff).
    pub fn export_now(self) {
        self.generation.update(|g| *g += 1);
        self.attempts.set(0);
        self.send_pending();
    }

    fn send_pending(self) {
        if self.running.get_value() {
            self.again.set_value(true);
            return;
        }
        let target = match self.target() {
            Ok(t) => t,
            Err(e) => return self.say(true, e),
        };
        if self.store.with_untracked(TraceStore::pending_count).0 == 0 {
            return self.say(false, "Every trace is already exported.");
        }
        self.running.set_value(true);
        self.again.set_value(false);
        spawn_local(async move {
            let outcome = lifecycle::with_lock(EXPORT_LOCK, self.run(&target)).await;
            self.running.set_value(false);
            self.after(outcome, &target).await;
        });
    }

    /// One delivery run, holding the export lock. Spans delivered meanwhile by another
    /// tab were marked through the channel, so they are not pending here any more.
    async fn run(self, target: &ExportTarget) -> Outcome {
        let spans = self
            .store
            .try_update(TraceStore::begin_export)
            .unwrap_or_default();
        if spans.is_empty() {
            return Outcome::default();
        }
        self.say(
            false,
            format!("Sending {} spans to {} …", spans.len(), target.url),
        );
        let client = self.client.get_value();
        let outcome = deliver(&*client, target, spans).await;
        self.store.update(|s| s.finish_export(&outcome));
        self.tell_tabs(&StoreChange::delivered(&outcome.delivered));
        outcome
    }

    /// Reports a run and schedules what comes next: another run for spans that
    /// arrived meanwhile, or an automatic retry.
    async fn after(self, outcome: Outcome, target: &ExportTarget) {
        let traces: std::collections::HashSet<_> =
            outcome.delivered.iter().map(|(t, _)| *t).collect();
        let mut message = format!(
            "Exported {} traces ({} spans) to project \"{}\".",
            traces.len(),
            outcome.delivered.len(),
            target.project
        );
        if !outcome.set_aside.is_empty() {
            message.push_str(&format!(
                " {} spans were set aside: Phoenix will not take them (listed below).",
                outcome.set_aside.len()
            ));
        }
        for warning in &outcome.warnings {
            message.push(' ');
            message.push_str(warning);
        }
        let Some(stopped) = outcome.stopped else {
            self.attempts.set(0);
            if outcome.requests == 0 {
                // Another tab delivered them while this one waited for its turn.
                message = "Every trace is already exported.".into();
            }
            self.say(!outcome.set_aside.is_empty(), message);
            if self.again.get_value() {
                self.send_pending();
            }
            return;
        };
        let error = stopped.error().to_string();
        let attempt = self.attempts.get_untracked() + 1;
        match stopped {
            Stopped::Retry { after, .. } if attempt <= MAX_AUTO_RETRIES => {
                self.attempts.set(attempt);
                let client = self.client.get_value();
                let wait = after.unwrap_or_else(|| http::backoff(attempt, client.now()));
                self.say(
                    true,
                    format!(
                        "{error} Retrying in {:.0} s (attempt {attempt} of {MAX_AUTO_RETRIES}).",
                        wait.as_secs_f64().ceil()
                    ),
                );
                let generation = self.generation.get_untracked();
                client.sleep(wait).await;
                if self.generation.get_untracked() == generation {
                    self.send_pending();
                }
            }
            Stopped::Retry { .. } => self.say(
                true,
                format!("{error} Gave up after {MAX_AUTO_RETRIES} retries: press Retry."),
            ),
            Stopped::Refused(_) => self.say(true, format!("{error} Press Retry once it is fixed.")),
        }
    }

    /// The page is being hidden or closed: with auto-export on, sends what is not yet
    /// delivered with keepalive requests, which outlive the page, as far as the
    /// browser's budget allows. The rest stays pending in storage for the next visit.
    fn flush(self) {
        if !self.auto_export() {
            return;
        }
        let Ok(target) = self.target() else { return };
        let spans: Vec<_> = self.flushing.with_value(|flushing| {
            self.store
                .with_untracked(TraceStore::unsent_spans)
                .into_iter()
                .filter(|s| !flushing.contains(&delivery::key(s)))
                .collect()
        });
        if spans.is_empty() {
            return;
        }
        let client = self.client.get_value();
        for (request, keys) in
            delivery::keepalive_requests(&target, spans, delivery::KEEPALIVE_BUDGET)
        {
            let client = client.clone();
            self.flushing
                .update_value(|f| f.extend(keys.iter().copied()));
            spawn_local(async move {
                let answer = client.send(request).await;
                self.flushing.update_value(|f| {
                    keys.iter().for_each(|k| {
                        f.remove(k);
                    })
                });
                if answer.is_ok_and(|r| (200..300).contains(&r.status)) {
                    self.store.update(|s| s.mark_delivered(&keys));
                    self.tell_tabs(&StoreChange::delivered(&keys));
                }
            });
        }
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

    /// Offers `spans` as an OTLP/JSON file, redacted by the switches as they are now.
    pub fn download(self, mut spans: Vec<opentelemetry_sdk::trace::SpanData>, name: &str) {
        let (project, redaction) = self
            .settings
            .with_untracked(|s| (s.project.clone(), s.redaction));
        for span in &mut spans {
            redaction.apply(span);
            crate::telemetry::redact::scrub_secrets(span, None);
        }
        let json = otlp::to_json(spans, &provider::resource(&project));
        if let Err(e) = browser::file::download(name, &json, "application/json") {
            self.say(true, format!("The download failed: {e}"));
        }
    }

    fn import(self, file: web_sys::File) {
        if file.size() > MAX_IMPORT_BYTES {
            return self.say(
                true,
                format!(
                    "Nothing was imported from {}: it has {:.0} MB, and imports are limited to {:.0} MB.",
                    file.name(),
                    file.size() / 1_048_576.0,
                    MAX_IMPORT_BYTES / 1_048_576.0
                ),
            );
        }
        self.say(false, format!("Reading {} …", file.name()));
        spawn_local(async move {
            // Let the message paint before the parse takes the main thread.
            browser::yield_to_page().await;
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
            <SetAside store=exporter.store />
            {move || exporter.status.get().map(|(error, message)| {
                view! { <p id="export-status" class:error=error class:note=!error role="status">{message}</p> }
            })}
        </details>
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
                        (t.trace_id.clone(), id.to_string(), name, why.clone())
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
