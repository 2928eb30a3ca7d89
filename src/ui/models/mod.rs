//! The model panel: which models answer (offline, or an OpenAI-compatible server), their
//! settings and key, and the client that the questions use.

use std::rc::Rc;

use leptos::prelude::*;

mod local;

use super::fields::{CheckField, SecretField, TextField};
use crate::browser::fetch::BrowserHttp;
use crate::browser::minilm::{MiniLmWorker, WorkerState};
use crate::browser::storage;
use crate::http;
use crate::model::openai::{EmbeddingCache, ModelSettings, OpenAi, OpenAiConfig};
use crate::model::pricing::PriceTable;
use crate::model::ModelError;
use crate::rag::embed::{LocalEmbedder, MINILM};
use crate::rag::offline::CHAT_MODEL_NAME;
use crate::rag::vectors::Cached;

/// The remote client, kept while the settings stay the same.
pub type Remote = Rc<OpenAi<BrowserHttp>>;
/// MiniLM in its worker, behind the vector cache (the handbook's shipped vectors, and
/// every vector computed since).
pub type Neural = Rc<Cached<MiniLmWorker>>;

/// What the download of the model asset says, in MB.
const MINILM_MB: &str = "23 MB";

/// The model panel's state.
#[derive(Clone, Copy)]
pub struct ModelChoice {
    pub settings: RwSignal<ModelSettings>,
    pub api_key: RwSignal<String>,
    remote: StoredValue<Option<Remote>, LocalStorage>,
    cache: StoredValue<EmbeddingCache, LocalStorage>,
    /// The key `settings.key_origin` was recorded for: a different key is a new one.
    key_seen: StoredValue<String>,
    pub status: RwSignal<Option<String>>,
    /// The embedder the page runs itself.
    pub local: RwSignal<LocalEmbedder>,
    neural: StoredValue<Option<Neural>, LocalStorage>,
    /// Whether the handbook's shipped vectors are in the cache (or could not be had).
    handbook_vectors: RwSignal<bool>,
    /// MiniLM's load, once started.
    pub neural_state: RwSignal<Option<WorkerState>>,
}

impl ModelChoice {
    /// The panel's state; MiniLM, when it was the choice last time, starts loading (from
    /// the browser's cache after the first visit).
    pub fn new() -> Self {
        let choice = ModelChoice {
            settings: RwSignal::new(storage::load(storage::MODEL_SETTINGS)),
            api_key: RwSignal::new(storage::load_key(storage::OPENAI_KEY)),
            remote: StoredValue::new_local(None),
            cache: StoredValue::new_local(EmbeddingCache::default()),
            key_seen: StoredValue::new(storage::load_key(storage::OPENAI_KEY)),
            status: RwSignal::new(None),
            local: RwSignal::new(storage::load(storage::LOCAL_EMBEDDER)),
            neural: StoredValue::new_local(None),
            handbook_vectors: RwSignal::new(false),
            neural_state: RwSignal::new(None),
        };
        if choice.local.get_untracked() == LocalEmbedder::MiniLm {
            if let Err(e) = choice.neural() {
                choice.neural_state.set(Some(WorkerState::Failed(e)));
            }
        }
        choice
    }

    /// Ties the key to the origin it is first sent to (called as a question starts).
    pub fn tie_key(&self) {
        let untied = self.settings.with_untracked(|s| {
            s.key_origin.is_empty() && !self.api_key.get_untracked().trim().is_empty()
        });
        if untied {
            self.settings.update(|s| {
                s.key_origin = http::origin(s.base_url.trim()).unwrap_or_default();
            });
            self.save();
        }
    }

    /// A key goes only to the origin it was first used with: when the base URL moves to
    /// another origin, the user is asked, and without a yes the key is forgotten. A new
    /// key is tied again at its first use. Returns what the user should know.
    fn guard_key(&self) -> Option<String> {
        let key = self.api_key.get_untracked();
        if self.key_seen.get_value() != key {
            self.key_seen.set_value(key);
            self.settings.update(|s| s.key_origin.clear());
            return None;
        }
        let (tied, origin) = self.settings.with_untracked(|s| {
            (
                s.key_origin.clone(),
                http::origin(s.base_url.trim()).unwrap_or_default(),
            )
        });
        if key.trim().is_empty() || tied.is_empty() || tied == origin {
            return None;
        }
        let question =
            format!("Send your OpenAI API key to {origin}? It was used with {tied} so far.");
        let yes = web_sys::window()
            .and_then(|w| w.confirm_with_message(&question).ok())
            .unwrap_or(false);
        if yes {
            self.settings.update(|s| s.key_origin = origin);
            return None;
        }
        self.api_key.set(String::new());
        self.key_seen.set_value(String::new());
        self.settings.update(|s| s.key_origin.clear());
        Some(format!("The API key was forgotten rather than sent to {origin}: enter the key for that server."))
    }

    /// The remote models to use, `None` for offline; a settings error says what to fix.
    pub fn remote(&self) -> Result<Option<Remote>, ModelError> {
        let Some(config) = OpenAiConfig::parse(
            &self.settings.get_untracked(),
            &self.api_key.get_untracked(),
        )?
        else {
            return Ok(None);
        };
        if let Some(r) = self.remote.get_value().filter(|r| r.config == config) {
            return Ok(Some(r));
        }
        let remote = Rc::new(OpenAi::new(
            config,
            BrowserHttp::default(),
            self.cache.get_value(),
        ));
        self.remote.set_value(Some(remote.clone()));
        Ok(Some(remote))
    }

    /// Aborts the model call in flight.
    pub fn stop(&self) {
        if let Some(r) = self.remote.get_value() {
            r.transport().stop();
        }
    }

    fn save(&self) {
        let warning = self.guard_key();
        let settings = self.settings.get_untracked();
        let saved = storage::save_with_key(
            storage::MODEL_SETTINGS,
            &settings,
            storage::OPENAI_KEY,
            &self.api_key.get_untracked(),
            settings.remember_key,
        );
        self.status.set(
            saved
                .err()
                .map(|e| format!("Settings apply to this page but were not saved: {e}."))
                .or(warning),
        );
    }

    /// What answers questions, in words.
    pub fn describe(&self) -> String {
        let local = match (self.local.get(), self.neural_state.get()) {
            (LocalEmbedder::Hashed, _) => format!(
                "Local hashed embedder ({})",
                LocalEmbedder::Hashed.model_name()
            ),
            (LocalEmbedder::MiniLm, Some(WorkerState::Loading { loaded, total }))
                if total > 0.0 =>
            {
                format!(
                    "Local MiniLM ({MINILM}, neural; downloading {:.0} of {:.0} MB)",
                    loaded / 1e6,
                    total / 1e6
                )
            }
            (LocalEmbedder::MiniLm, Some(WorkerState::Failed(_))) => {
                format!("Local MiniLM ({MINILM}, which could not load: see Models)")
            }
            (LocalEmbedder::MiniLm, _) => format!("Local MiniLM ({MINILM}, neural)"),
        };
        match OpenAiConfig::parse(&self.settings.get(), &self.api_key.get()) {
            Ok(None) => format!(
                "Offline: {local} and {CHAT_MODEL_NAME}, running in WebAssembly in this page. No API key; nothing leaves the page."
            ),
            Ok(Some(c)) => {
                let mut text = if c.local_embeddings() {
                    format!("Using {} at {} for answers (called from this page with fetch); passages found with the {local} in this page.", c.chat_model, c.base_url)
                } else {
                    format!("Using {} and {} at {} (called from this page with fetch).", c.chat_model, c.embedding_model, c.base_url)
                };
                if http::plaintext_remote(&c.base_url) {
                    text.push_str(" Warning: plain http:// to another machine: the key and your questions can be read on the way; use https://.");
                }
                text
            }
            Err(e) => format!("The model settings are not usable: {e}"),
        }
    }
}

#[component]
pub fn ModelPanel(models: ModelChoice) -> impl IntoView {
    let settings = models.settings;
    let saved = Callback::new(move |()| models.save());
    view! {
        <details class="model-panel">
            <summary id="models-summary">"Models"</summary>
            <local::LocalEmbedderField models />
            <div class="settings">
                <SecretField id="openai-key" label="OpenAI API key" value=models.api_key saved
                    placeholder="sk-… (empty: offline models)" />
                <TextField id="base-url" label="Base URL" settings saved
                    get=|s: &ModelSettings| s.base_url.clone() set=|s, v| s.base_url = v />
                <TextField id="chat-model" label="Chat model" settings saved
                    get=|s: &ModelSettings| s.chat_model.clone() set=|s, v| s.chat_model = v />
                <TextField id="embedding-model" label="Embedding model" settings saved
                    placeholder="text-embedding-3-small, or local (embed in this page)"
                    get=|s: &ModelSettings| s.embedding_model.clone() set=|s, v| s.embedding_model = v />
                <TextField id="temperature" label="Temperature" settings saved kind="number"
                    get=|s: &ModelSettings| s.temperature.to_string()
                    set=|s, v| if let Ok(t) = v.trim().parse() { s.temperature = t } />
            </div>
            <div class="checks">
                <CheckField id="remember-openai-key" label="Remember on this device" settings saved
                    get=|s: &ModelSettings| s.remember_key set=|s, v| s.remember_key = v />
                <CheckField id="tool-calling" label="Agent uses tool calling" settings saved
                    get=|s: &ModelSettings| s.tool_calling set=|s, v| s.tool_calling = v />
                <button
                    id="forget-key"
                    type="button"
                    on:click=move |_| {
                        models.api_key.set(String::new());
                        models.save();
                    }
                >
                    "Forget key"
                </button>
            </div>
            <details class="prices">
                <summary id="prices-summary">"Prices"</summary>
                <p class="help">
                    "LLM spans carry llm.cost.* for the models listed here, one a line: provider, model, then USD per million input and output tokens. A model not listed has no cost (unknown, not zero)."
                </p>
                <TextField id="prices" label="Price table" settings saved kind="textarea"
                    get=|s: &ModelSettings| s.prices.clone() set=|s, v| s.prices = v />
                <button
                    id="bundled-prices"
                    type="button"
                    on:click=move |_| {
                        settings.update(|s| s.prices = PriceTable::bundled_text().into());
                        models.save();
                    }
                >
                    "Bundled prices"
                </button>
            </details>
            {move || models.status.get().map(|m| view! { <p id="models-status" class="error">{m}</p> })}
        </details>
    }
}
