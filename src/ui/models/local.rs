//! The page's own embedder in the model panel: choosing Local MiniLM or Local hashed,
//! MiniLM's worker started, waited for and ended, and its load as it happens.

use std::rc::Rc;

use leptos::prelude::*;

use super::{ModelChoice, Neural, Remote, MINILM_MB};
use crate::browser::minilm::{handbook_vectors, MiniLmWorker, WorkerState};
use crate::browser::storage;
use crate::rag::embed::{LocalEmbedder, MINILM};
use crate::rag::vectors::{Cached, Precomputed};

impl ModelChoice {
    /// Picks the page's own embedder (saved); MiniLM starts loading at once.
    pub fn choose_local(&self, local: LocalEmbedder) {
        self.local.set(local);
        if let Err(e) = storage::save(storage::LOCAL_EMBEDDER, &local) {
            self.status.set(Some(format!(
                "Settings apply to this page but were not saved: {e}."
            )));
        }
        match local {
            LocalEmbedder::MiniLm => {
                if let Err(e) = self.neural() {
                    self.neural_state.set(Some(WorkerState::Failed(e)));
                }
            }
            // The worker (and its 90 MB of weights) goes; choosing MiniLM again loads it
            // from the browser's cache. A question in flight keeps its own handle.
            LocalEmbedder::Hashed => {
                self.neural.set_value(None);
                self.neural_state.set(None);
                self.handbook_vectors.set(false);
            }
        }
    }

    /// MiniLM, started on first use: its worker loads the model while the handbook's
    /// vectors are fetched.
    pub(super) fn neural(&self) -> Result<Neural, String> {
        if let Some(n) = self.neural.get_value() {
            return Ok(n);
        }
        let state = self.neural_state;
        state.set(Some(WorkerState::Loading {
            loaded: 0.0,
            total: 0.0,
        }));
        let worker = MiniLmWorker::start(move |s| state.set(Some(s.clone())))
            .map_err(|e| format!("the MiniLM worker could not start: {e}"))?;
        let neural = Rc::new(Cached::new(Precomputed::new(MINILM), worker));
        self.neural.set_value(Some(neural.clone()));
        let (cache, ready, status) = (neural.clone(), self.handbook_vectors, self.status);
        let slot = self.neural;
        leptos::task::spawn_local(async move {
            match handbook_vectors().await {
                Ok(known) => cache.remember(known),
                // Still right, only slower: the worker embeds the handbook itself.
                Err(e) => status.set(Some(format!(
                    "The handbook's MiniLM vectors could not be loaded ({e}); they are computed in this page instead."
                ))),
            }
            // Only for the worker still chosen (not one dropped meanwhile).
            if slot.with_value(|n| n.as_ref().is_some_and(|n| Rc::ptr_eq(n, &cache))) {
                ready.set(true);
            }
        });
        Ok(neural)
    }

    /// The neural embedder to ask with: `None` for the hashed one, or when `remote`
    /// embeds itself. Waits until the handbook's vectors are in (a moment after MiniLM
    /// starts), for 10 s at most: without them the worker embeds the handbook instead.
    pub async fn neural_ready(&self, remote: Option<&Remote>) -> Result<Option<Neural>, String> {
        let remote_embeds = remote.is_some_and(|r| !r.config.local_embeddings());
        if self.local.get_untracked() != LocalEmbedder::MiniLm || remote_embeds {
            return Ok(None);
        }
        let neural = self.neural()?;
        for _ in 0..500 {
            if self.handbook_vectors.get_untracked() {
                break;
            }
            gloo_timers::future::TimeoutFuture::new(20).await;
        }
        Ok(Some(neural))
    }
}

/// The choice of the page's own embedder, and MiniLM's load as it happens.
#[component]
pub(super) fn LocalEmbedderField(models: ModelChoice) -> impl IntoView {
    let label = |e: LocalEmbedder| match e {
        LocalEmbedder::Hashed => "Local hashed (instant)".to_string(),
        LocalEmbedder::MiniLm => format!("Local MiniLM (neural, downloads {MINILM_MB} once)"),
    };
    let options = LocalEmbedder::ALL
        .into_iter()
        .map(|e| {
            view! {
                <option value=e.as_str() selected=move || models.local.get() == e>{label(e)}</option>
            }
        })
        .collect_view();
    let state = move || {
        if models.local.get() != LocalEmbedder::MiniLm {
            return None;
        }
        models.neural_state.get().map(|s| match s {
            WorkerState::Loading { loaded, total } => {
                let mb = |b: f64| b / 1e6;
                let text = if total > 0.0 {
                    format!("Downloading MiniLM… {:.1} of {:.1} MB", mb(loaded), mb(total))
                } else {
                    "Starting MiniLM…".to_string()
                };
                view! {
                    <div class="index-progress">
                        <progress id="minilm-progress" max=total.max(1.0) value=loaded></progress>
                        <span id="minilm-status" role="status">{text}</span>
                    </div>
                }
                .into_any()
            }
            WorkerState::Ready { cached, ms } => {
                let from = if cached { "from this browser's cache" } else { "downloaded" };
                view! { <p id="minilm-status" class="note" role="status">{format!("MiniLM is ready ({from}, {:.1} s).", ms / 1000.0)}</p> }
                    .into_any()
            }
            WorkerState::Failed(message) => view! {
                <p id="minilm-status" class="error" role="alert">
                    {format!("MiniLM could not load: {message}. Choose Local hashed to go on.")}
                </p>
            }
            .into_any(),
        })
    };
    view! {
        <div class="settings">
            <label for="local-embedder">"Embedder in this page"</label>
            <select
                id="local-embedder"
                on:change=move |ev| {
                    if let Some(e) = LocalEmbedder::parse(&event_target_value(&ev)) {
                        models.choose_local(e);
                    }
                }
            >
                {options}
            </select>
        </div>
        {state}
    }
}
