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
    _on_message: Closure<dyn FnMut(MessageEvent)>,
}

impl MiniLmWorker {
    /// Starts the worker; `on_state` hears every change of [`WorkerState`].
    pub fn start(on_state: impl Fn(&WorkerState) + 'static) -> Result<Self, String> {
        let worker = Worker::new(WORKER_SCRIPT).map_err(js_error)?;
        let pending: Rc<RefCell<HashMap<u32, Function>>> = Rc::default();
        let state = Rc::new(RefCell::new(WorkerState::Loading {
            loaded: 0.0,
            total: 0.0,
        }));
        let on_message = {
            let (pending, state) = (pending.clone(), state.clone());
            Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
                let data = e.data();
                let field = |name: &str| Reflect::get(&data, &name.into()).unwrap_or_default();
                let number = |name: &str| field(name).as_f64().unwrap_or(0.0);
                let text = |name: &str| field(name).as_string().unwrap_or_default();
                let next = match text("kind").as_str() {
                    "progress" => WorkerState::Loading {
                        loaded: number("loaded"),
                        total: number("total"),
                    },
                    "ready" => WorkerState::Ready {
                        cached: field("cached").is_truthy(),
                        ms: number("ms"),
                    },
                    "failed" => {
                        let message = text("message");
                        // Requests waiting on the model are answered by the worker.
                        WorkerState::Failed(message)
                    }
                    _ => {
                        let id = number("id") as u32;
                        if let Some(resolve) = pending.borrow_mut().remove(&id) {
                            let _ = resolve.call1(&JsValue::NULL, &data);
                        }
                        return;
                    }
                };
                on_state(&next);
                *state.borrow_mut() = next;
            })
        };
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        Ok(MiniLmWorker {
            worker,
            next_id: Cell::new(0),
            pending,
            state,
            _on_message: on_message,
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

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, ModelError> {
        if let WorkerState::Failed(message) = self.state() {
            return Err(ModelError::Local(message));
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

/// The handbook's shipped MiniLM vectors; empty (so the worker embeds the handbook)
/// when the file cannot be had.
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
