//! [`Runner`]: the question form, the benchmark and the error-path demo ask through it.
//! It hands the use-case to [`crate::app::ask::Session`] with the models chosen in the
//! panel, files the spans it returns and auto-exports.

use std::ops::ControlFlow;
use std::rc::Rc;

use leptos::prelude::*;
use opentelemetry::trace::{SpanContext, TraceId};
use opentelemetry_sdk::trace::SpanData;

use super::documents::Corpus;
use super::exporter::Exporter;
use super::models::ModelChoice;
use crate::app::ask::{Ask, Local, Session};
use crate::explorer::store::TraceStore;
use crate::model::Message;
use crate::rag::engine::Progress;
use crate::rag::pipeline::{Answer, Mode};

/// What a question produced: its trace (none when it never started) and the answer
/// or the message to show.
pub struct Asked {
    pub trace_id: Option<TraceId>,
    pub result: Result<Answer, String>,
}

#[derive(Clone, Copy)]
pub struct Runner {
    pub session: StoredValue<Rc<Session>, LocalStorage>,
    /// The documents, indexed with the local embedder.
    pub corpus: Corpus,
    pub models: ModelChoice,
    pub exporter: Exporter,
    pub store: RwSignal<TraceStore>,
    /// The model output of the call in flight, as it streams in (or how far indexing
    /// for the question has come).
    pub live: RwSignal<String>,
    /// Stop was pressed during the question in flight.
    pub stopped: StoredValue<bool>,
}

impl Runner {
    /// Answers `question` in `mode`.
    pub async fn ask(self, question: &str, mode: Mode) -> Asked {
        // Before any wait: a Stop pressed from here on is this question's.
        self.stopped.set_value(false);
        let not_started = |message: String| Asked {
            trace_id: None,
            result: Err(message),
        };
        let Some(indexed) = self.corpus.indexed.get_untracked() else {
            return not_started(
                "The documents are still being indexed; try again in a moment.".into(),
            );
        };
        let remote = match self.models.remote() {
            Ok(r) => r,
            Err(e) => return not_started(format!("{e}.")),
        };
        if remote.is_some() {
            self.models.tie_key();
        }
        let neural = match self.models.neural_ready(remote.as_ref()).await {
            Ok(n) => n,
            Err(e) => return not_started(format!("{e}: choose Local hashed in Models to go on.")),
        };
        self.live.set(String::new());
        let live = self.live;
        let on_delta = move |delta: &str| live.update(|s| s.push_str(delta));
        let stopped = self.stopped;
        let on_indexing = move |p: Progress| {
            // Done, the line is the answer's again.
            live.set(if p.embedded == p.total {
                String::new()
            } else {
                format!(
                    "Embedding the documents for search: {} of {} texts…",
                    p.embedded, p.total
                )
            });
            if stopped.get_value() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        };
        let session = self.session.get_value();
        let user = self.exporter.user();
        let ask = Ask {
            question,
            mode,
            user: user.as_deref(),
            redaction: self.exporter.redaction(),
            live: Some(&on_delta),
            indexing: Some(&on_indexing),
        };
        let local = match &neural {
            None => Local::Hashed,
            Some(n) => Local::Neural(n.as_ref()),
        };
        let asked = session.ask(&indexed, remote.as_ref(), local, ask).await;
        self.file(asked.spans);
        Asked {
            trace_id: asked.trace_id,
            result: asked.result,
        }
    }

    /// Stops the question in flight: its model call, or the indexing it waits for.
    pub fn stop(self) {
        self.stopped.set_value(true);
        self.models.stop();
    }

    /// Sends an edited model call again with the models chosen in the panel, filed as
    /// a trace linked to `original`: its id and the reply, or why it could not start.
    pub async fn replay(
        self,
        messages: Vec<Message>,
        temperature: f64,
        original: SpanContext,
    ) -> Result<(TraceId, Result<String, String>), String> {
        let remote = self.models.remote().map_err(|e| format!("{e}."))?;
        if remote.is_some() {
            self.models.tie_key();
        }
        let neural = self
            .models
            .neural_ready(remote.as_ref())
            .await
            .map_err(|e| format!("{e}: choose Local hashed in Models to go on."))?;
        let local = match &neural {
            None => Local::Hashed,
            Some(n) => Local::Neural(n.as_ref()),
        };
        let session = self.session.get_value();
        let replayed = session
            .replay(
                remote.as_ref(),
                local,
                &messages,
                temperature,
                original,
                &self.exporter.redaction(),
            )
            .await;
        self.file(replayed.spans);
        Ok((replayed.trace_id, replayed.reply))
    }

    /// Records the error-path demo; returns its trace id.
    pub async fn error_demo(self) -> Option<TraceId> {
        let engine = self.corpus.engine()?;
        let session = self.session.get_value();
        let (trace_id, spans) = session
            .error_demo(&engine, &self.exporter.redaction())
            .await;
        self.file(spans);
        Some(trace_id)
    }

    /// Files finished spans and sends them on when auto-export is on.
    fn file(self, spans: Vec<SpanData>) {
        self.store.update(|s| {
            s.add(spans);
        });
        if self.exporter.auto_export() {
            self.exporter.export_now();
        }
    }
}
