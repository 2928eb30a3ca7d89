//! [`MiniLmWorker`]: the page's side of the MiniLM Web Worker (`crates/minilm-worker`,
//! whose `main.rs` documents the messages). Starting it downloads the worker and, once,
//! the model; it then embeds texts off the main thread, as an [`Embedder`].

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use js_sys::{Array, Float32Array, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{MessageEvent, Worker};

use super::js_error;
use crate::model::{Embedder, ModelError};
use crate::rag::embed::{MINILM, MINILM_UNRELATED_BELOW};
use crate::rag::vectors::Precomputed;

/// The worker's loader, as trunk names it (`index.html`).
const WORKER_SCRIPT: &str = "./minilm-worker_loader.js";
/// The handbook's vectors under MiniLM, computed at build time.
const HANDBOOK_VECTORS: &str = "minilm/handbook.vectors";

/// Where the model stands.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkerState {
    /// Downloading: bytes so far and in all (0 when the server does not say).
    Loading {
        loaded: f64,
        total: f64,
    },
    /// Loaded from the browser's cache or the network, in `ms`.
    Ready {
        cached: bool,
        ms: f64,
    },
    Failed(String),
}

/// The running worker. Dropping it ends the worker.
pub struct MiniLmWorker {
    worker: Worker,
    next_id: Cell<u32>,
    pending: Rc<RefCell<HashMap<u32, Function>>>,
    state: Rc<RefCell<WorkerState>>,
    /// Whether the worker has said it listens: a message posted before its wasm has
    /// started would be lost.
    listening: Rc<Cell<bool>>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::ErrorEvent)>,
}

/// How long a request waits for the worker to start listening.
const START_TIMEOUT_MS: u32 = 60_000;

impl MiniLmWorker {
    /// Starts the worker; `on_state` hears every change of [`WorkerState`].
    pub fn start(on_state: impl Fn(&WorkerState) + 'static) -> Result<Self, String> {
        let worker = Worker::new(WORKER_SCRIPT).map_err(js_error)?;
        let pending: Rc<RefCell<HashMap<u32, Function>>> = Rc::default();
        let state = Rc::new(RefCell::new(WorkerState::Loading {
            loaded: 0.0,
            total: 0.0,
        }));
        let listening = Rc::new(Cell::new(false));
        let on_state = Rc::new(on_state);
        let on_message = {
            let (pending, state, listening) = (pending.clone(), state.clone(), listening.clone());
            let on_state = on_state.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
                listening.set(true);
                let data = e.data();
                let field = |name: &str| Reflect::get(&data, &name.into()).unwrap_or_default();
                let number = |name: &str| field(name).as_f64().unwrap_or(0.0);
                let text = |name: &str| field(name).as_string().unwrap_or_default();
                let next = match text("kind").as_str() {
                    "started" => return,
                    "progress" => WorkerState::Loading {
                        loaded: number("loaded"),
                        total: number("total"),
                    },
                    "ready" => WorkerState::Ready {
                        cached: field("cached").is_truthy(),
                        ms: number("ms"),
                    },
                    // Requests waiting on the model are answered by the worker.
                    "failed" => WorkerState::Failed(text("message")),
                    "vectors" | "error" => {
                        let id = field("id").as_f64().map(|id| id as u32);
                        let resolve = id.and_then(|id| pending.borrow_mut().remove(&id));
                        if let Some(resolve) = resolve {
                            let _ = resolve.call1(&JsValue::NULL, &data);
                        }
                        return;
                    }
                    _ => return,
                };
                (*on_state)(&next);
                *state.borrow_mut() = next;
            })
        };
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        // A worker that dies (its script or wasm missing, a trap) answers nothing more:
        // every waiting request gets the error, and later ones fail at once.
        let on_error = {
            let (pending, state) = (pending.clone(), state.clone());
            Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |e: web_sys::ErrorEvent| {
                let message = match e.message() {
                    m if m.is_empty() => "the MiniLM worker stopped".to_string(),
                    m => format!("the MiniLM worker stopped: {m}"),
                };
                let failed = WorkerState::Failed(message.clone());
                (*on_state)(&failed);
                *state.borrow_mut() = failed;
                let answer = Object::new();
                let _ = Reflect::set(&answer, &"kind".into(), &"error".into());
                let _ = Reflect::set(&answer, &"message".into(), &message.into());
                for (_, resolve) in pending.borrow_mut().drain() {
                    let _ = resolve.call1(&JsValue::NULL, &answer);
                }
            })
        };
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(MiniLmWorker {
            worker,
            next_id: Cell::new(0),
            pending,
            state,
            listening,
            _on_message: on_message,
            _on_error: on_error,
        })
    }

    pub fn state(&self) -> WorkerState {
        self.state.borrow().clone()
    }
}

impl Drop for MiniLmWorker {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

impl Embedder for MiniLmWorker {
    fn model_name(&self) -> &str {
        MINILM
    }

    fn unrelated_below(&self) -> f32 {
        MINILM_UNRELATED_BELOW
    }

    fn runs_in_page(&self) -> bool {
        true
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, ModelError> {
        let mut waited = 0;
        while !self.listening.get() && waited < START_TIMEOUT_MS {
            if let WorkerState::Failed(message) = self.state() {
                return Err(ModelError::Local(message));
            }
            gloo_timers::future::TimeoutFuture::new(20).await;
            waited += 20;
        }
        if let WorkerState::Failed(message) = self.state() {
            return Err(ModelError::Local(message));
        }
        if !self.listening.get() {
            return Err(ModelError::Local(
                "the MiniLM worker did not start within a minute".into(),
            ));
        }
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        let answered = Promise::new(&mut |resolve, _| {
            self.pending.borrow_mut().insert(id, resolve);
        });
        let request = Object::new();
        let texts_js: Array = texts.iter().map(|t| JsValue::from_str(t)).collect();
        let _ = Reflect::set(&request, &"id".into(), &id.into());
        let _ = Reflect::set(&request, &"texts".into(), &texts_js);
        if let Err(e) = self.worker.post_message(&request) {
            self.pending.borrow_mut().remove(&id);
            return Err(ModelError::Local(js_error(e)));
        }
        let data = JsFuture::from(answered)
            .await
            .map_err(|e| ModelError::Local(js_error(e)))?;
        let field = |name: &str| Reflect::get(&data, &name.into()).unwrap_or_default();
        if field("kind").as_string().as_deref() != Some("vectors") {
            let message = field("message").as_string().unwrap_or_default();
            return Err(ModelError::Local(message));
        }
        let dim = field("dim").as_f64().unwrap_or(0.0) as usize;
        let flat = field("vectors")
            .dyn_into::<Float32Array>()
            .map_err(|_| ModelError::Malformed("the worker sent no vectors".into()))?
            .to_vec();
        if dim == 0 || flat.len() != dim * texts.len() {
            return Err(ModelError::Malformed(format!(
                "the worker sent {} numbers for {} texts of {dim}",
                flat.len(),
                texts.len()
            )));
        }
        Ok(flat.chunks_exact(dim).map(<[f32]>::to_vec).collect())
    }
}

/// The handbook's shipped MiniLM vectors, or why they cannot be had (the worker then
/// embeds the handbook itself).
pub async fn handbook_vectors() -> Result<Precomputed, String> {
    let window = web_sys::window().ok_or("no window")?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str(HANDBOOK_VECTORS))
        .await
        .map_err(js_error)?
        .unchecked_into();
    if !response.ok() {
        return Err(format!(
            "{HANDBOOK_VECTORS} answered HTTP {}",
            response.status()
        ));
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(js_error)?)
        .await
        .map_err(js_error)?;
    Precomputed::decode(&js_sys::Uint8Array::new(&buffer).to_vec()).map_err(|e| e.to_string())
}
