//! [`Exporter`]: the page's side of delivery — "Export to Phoenix", auto-export,
//! automatic retries as [`crate::telemetry::delivery`] asks (files are `ui::files`).
//! One tab of the origin exports at a time (a Web Lock), and tabs tell each other what
//! they delivered, deleted or cleared. Also here: [`flush`], the keepalive flush when
//! the page is hidden, and [`feedback`], feedback sent to Phoenix.

mod feedback;
mod flush;

use std::collections::HashSet;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::browser::fetch::BrowserHttp;
use crate::browser::lifecycle::{self, Tabs};
use crate::browser::{self, storage};
use crate::explorer::store::{StoreChange, TraceStore};
use crate::http::{self, HttpClient};
use crate::telemetry::delivery::{deliver, Outcome, SpanKey, Stopped};
use crate::telemetry::export::{ExportSettings, ExportTarget};
use crate::telemetry::redact::Redaction;

/// Automatic retries after a retryable failure before waiting for the user.
const MAX_AUTO_RETRIES: u32 = 5;
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
    retry_epoch: RwSignal<u64>,
    /// A run is under way in this tab.
    running: StoredValue<bool>,
    /// Spans arrived or the user asked during a run: run again when it ends.
    again: StoredValue<bool>,
    client: StoredValue<Rc<BrowserHttp>, LocalStorage>,
    tabs: StoredValue<Tabs, LocalStorage>,
    /// Spans in a keepalive request now: hiding and closing both flush, and a span
    /// need not go twice.
    flushing: StoredValue<HashSet<SpanKey>>,
    /// Feedback is being sent to Phoenix now; and more was given meanwhile.
    annotating: StoredValue<(bool, bool)>,
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
            retry_epoch: RwSignal::new(0),
            running: StoredValue::new(false),
            again: StoredValue::new(false),
            client: StoredValue::new_local(Rc::new(BrowserHttp::default())),
            tabs: StoredValue::new_local(tabs),
            flushing: StoredValue::new(HashSet::new()),
            annotating: StoredValue::new((false, false)),
        };
        lifecycle::on_hide(move || exporter.flush());
        exporter
    }

    pub fn redaction(&self) -> Redaction {
        self.settings.with_untracked(|s| s.redaction)
    }

    /// The name the user gave for `user.id`, if any.
    pub fn user(&self) -> Option<String> {
        self.settings
            .with_untracked(|s| Some(s.user.trim().to_string()).filter(|u| !u.is_empty()))
    }

    pub fn auto_export(&self) -> bool {
        self.settings.with_untracked(|s| s.auto_export)
    }

    /// Tells the other tabs of this origin.
    pub fn tell_tabs(&self, change: &StoreChange) {
        self.tabs.with_value(|t| t.post(change));
    }

    pub(super) fn say(&self, error: bool, message: impl Into<String>) {
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

    /// With auto-export on, sends what an earlier visit left pending as soon as
    /// `restored` turns true (once).
    pub fn resume_when(self, restored: RwSignal<bool>) {
        Effect::new(move |done: Option<bool>| {
            if done == Some(true) || !restored.get() {
                return done.unwrap_or(false);
            }
            if self.auto_export() && self.store.with_untracked(|s| s.pending_count().0 > 0) {
                self.export_now();
            }
            true
        });
    }

    /// Sends every pending span, now (a user action: resets the backoff).
    pub fn export_now(self) {
        self.retry_epoch.update(|e| *e += 1);
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
        // Imported traces go under their own resource, to the project it names.
        let groups = self.store.with_untracked(|s| s.by_resource(spans));
        let mut outcome = Outcome::default();
        for (resource, spans) in groups {
            if outcome.stopped.is_some() {
                break; // the rest stays pending, as after any stop
            }
            let target = target.for_resource(resource.as_ref());
            outcome.merge(deliver(&*client, &target, spans).await);
        }
        self.store.update(|s| s.finish_export(&outcome));
        self.tell_tabs(&StoreChange::delivered(&outcome.delivered));
        outcome
    }

    /// Reports a run and schedules what comes next: another run for spans that
    /// arrived meanwhile, or an automatic retry.
    async fn after(self, outcome: Outcome, target: &ExportTarget) {
        let Some(stopped) = outcome.stopped.clone() else {
            self.attempts.set(0);
            self.say(
                !outcome.set_aside.is_empty(),
                outcome.summary(&target.project),
            );
            if self.again.get_value() {
                self.send_pending();
            }
            self.send_feedback();
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
                let epoch = self.retry_epoch.get_untracked();
                client.sleep(wait).await;
                if self.retry_epoch.get_untracked() == epoch {
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

    pub(super) fn save(self) {
        let settings = self.settings.get_untracked();
        let saved = storage::save_with_key(
            storage::EXPORT_SETTINGS,
            &settings,
            storage::PHOENIX_KEY,
            &self.api_key.get_untracked(),
            settings.remember_key,
        );
        if let Err(e) = saved {
            self.say(
                true,
                format!("Settings apply to this page but were not saved: {e}."),
            );
        }
    }
}
