//! OTLP/JSON files for the [`Exporter`]: downloads (redacted by the switches as they
//! are now, keys scrubbed) and imports (at most 50 MB, validated whole).

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::exporter::Exporter;
use crate::browser;
use crate::telemetry::import::{ImportJob, Imported};
use crate::telemetry::otlp;
use crate::telemetry::provider;

/// Imports larger than this are refused before they are read.
const MAX_IMPORT_BYTES: f64 = 50.0 * 1024.0 * 1024.0;

impl Exporter {
    /// Converts `text` a slice at a time, letting the page paint (and say how far it
    /// got) between slices; all the spans, or why none.
    async fn read_spans(self, text: String, name: &str) -> Result<Imported, String> {
        let mut job = ImportJob::new(text);
        loop {
            browser::yield_to_page().await;
            if job.step().map_err(|e| e.to_string())? {
                return job.finish().map_err(|e| e.to_string());
            }
            self.say(false, format!("Reading {name}: {} …", job.progress()));
        }
    }

    pub(super) fn download_all(self) {
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

    pub(super) fn import(self, file: web_sys::File) {
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
            let parsed = match browser::file::read_text(&file).await {
                Ok(text) => self.read_spans(text, &file.name()).await,
                Err(e) => Err(e),
            };
            match parsed {
                Ok(spans) => {
                    let n = spans.len();
                    let traces = self
                        .store
                        .try_update(|s| s.add_imported(spans))
                        .unwrap_or_default();
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
