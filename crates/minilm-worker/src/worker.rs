//! The worker's event loop: load once, then embed on request (see `main.rs`).

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Float32Array, Object, Reflect, Uint8Array};
use minilm::MiniLm;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    Cache, DedicatedWorkerGlobalScope, MessageEvent, ReadableStreamDefaultReader, Response,
};

/// Named after the asset's layout (`minilm::weights::FORMAT`), so a page reading a new
/// layout never takes an old copy from the cache.
const CACHE_NAME: &str = minilm::weights::FORMAT;
/// Progress is reported about this often while downloading.
const PROGRESS_STEP: f64 = 512.0 * 1024.0;

enum State {
    /// Requests that arrived while the model loads.
    Loading(Vec<JsValue>),
    Ready(MiniLm),
    Failed(String),
}

pub fn start() {
    console_error_panic_hook::set_once();
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let state = Rc::new(RefCell::new(State::Loading(Vec::new())));
    let on_message = {
        let (scope, state) = (scope.clone(), state.clone());
        Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            match &mut *state.borrow_mut() {
                State::Loading(waiting) => waiting.push(e.data()),
                State::Ready(model) => answer(&scope, model, &e.data()),
                State::Failed(message) => refuse(&scope, &e.data(), message),
            }
        })
    };
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    // Messages the page posted before this point were lost: it waits for this one.
    post(&scope, "started", &[]);
    spawn_local(async move {
        let started = now(&scope);
        let loaded = load(&scope).await;
        let waiting = match std::mem::replace(&mut *state.borrow_mut(), State::Loading(Vec::new()))
        {
            State::Loading(w) => w,
            _ => Vec::new(),
        };
        let next = match loaded {
            Ok((model, cached)) => {
                warm_up(&model);
                post(
                    &scope,
                    "ready",
                    &[
                        ("cached", cached.into()),
                        ("ms", (now(&scope) - started).into()),
                    ],
                );
                for request in &waiting {
                    answer(&scope, &model, request);
                }
                State::Ready(model)
            }
            Err(message) => {
                post(&scope, "failed", &[("message", message.as_str().into())]);
                for request in &waiting {
                    refuse(&scope, request, &message);
                }
                State::Failed(message)
            }
        };
        *state.borrow_mut() = next;
    });
}

/// The model, and whether it came from the cache.
async fn load(scope: &DedicatedWorkerGlobalScope) -> Result<(MiniLm, bool), String> {
    let url = format!("minilm/{}", minilm::ASSET_FILE);
    // The Cache API is missing outside secure contexts: the model then loads each visit.
    let cache = open_cache(scope).await.ok();
    if let Some(cache) = &cache {
        if let Ok(hit) = JsFuture::from(cache.match_with_str(&url)).await {
            if let Ok(response) = hit.dyn_into::<Response>() {
                match bytes_of(&response).await.map(|b| MiniLm::from_asset(&b)) {
                    Ok(Ok(model)) => return Ok((model, true)),
                    // A damaged copy: dropped, and downloaded again below.
                    _ => {
                        let _ = JsFuture::from(cache.delete_with_str(&url)).await;
                    }
                }
            }
        }
    }
    let response: Response = JsFuture::from(scope.fetch_with_str(&url))
        .await
        .map_err(|e| format!("the model could not be downloaded ({})", describe(&e)))?
        .unchecked_into();
    if !response.ok() {
        return Err(format!(
            "the model file {url} answered HTTP {} {}",
            response.status(),
            response.status_text()
        ));
    }
    let total = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|l| l.parse::<f64>().ok())
        .unwrap_or(0.0);
    let body = response.body().ok_or("the model file came with no body")?;
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut bytes = Vec::with_capacity(total as usize);
    let mut reported = 0.0;
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|e| format!("the model download broke off ({})", describe(&e)))?;
        if Reflect::get(&chunk, &"done".into()).is_ok_and(|d| d.is_truthy()) {
            break;
        }
        let value: Uint8Array = Reflect::get(&chunk, &"value".into())
            .map_err(|e| describe(&e))?
            .unchecked_into();
        bytes.extend_from_slice(&value.to_vec());
        let loaded = bytes.len() as f64;
        if loaded - reported >= PROGRESS_STEP || loaded == total {
            reported = loaded;
            post(
                scope,
                "progress",
                &[("loaded", loaded.into()), ("total", total.into())],
            );
        }
    }
    let model = MiniLm::from_asset(&bytes).map_err(|e| e.to_string())?;
    if let Some(cache) = &cache {
        // Storing may fail (quota): the model still works, it just loads again next time.
        if let Ok(copy) = Response::new_with_opt_u8_array(Some(&mut bytes)) {
            let _ = JsFuture::from(cache.put_with_str(&url, &copy)).await;
        }
    }
    Ok((model, false))
}

async fn open_cache(scope: &DedicatedWorkerGlobalScope) -> Result<Cache, JsValue> {
    let caches = scope.caches()?;
    Ok(JsFuture::from(caches.open(CACHE_NAME))
        .await?
        .unchecked_into())
}

async fn bytes_of(response: &Response) -> Result<Vec<u8>, JsValue> {
    let buffer = JsFuture::from(response.array_buffer()?).await?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// A question of a typical length, embedded a few times before the worker says it is
/// ready: the browser compiles the encoder's hot loops fully only once they have run,
/// and until then the first questions would wait on its quicker-to-compile first tier
/// (about 80 ms instead of 25).
const WARM_UP: &str =
    "How many working days may I work from another country each year, and who has to approve it?";
const WARM_UPS: usize = 3;

fn warm_up(model: &MiniLm) {
    for _ in 0..WARM_UPS {
        // Only the running counts: a model that fails here fails on every request too,
        // and says so there.
        let _ = model.embed(WARM_UP);
    }
}

/// Embeds a request's texts and posts the vectors (or what went wrong).
fn answer(scope: &DedicatedWorkerGlobalScope, model: &MiniLm, request: &JsValue) {
    let id = Reflect::get(request, &"id".into()).unwrap_or(JsValue::NULL);
    let started = now(scope);
    let texts = Reflect::get(request, &"texts".into())
        .ok()
        .filter(Array::is_array)
        .map(|t| Array::from(&t));
    let Some(texts) = texts else {
        post(
            scope,
            "error",
            &[("id", id), ("message", "the request has no texts".into())],
        );
        return;
    };
    let mut flat = Vec::with_capacity(texts.length() as usize * minilm::DIM);
    for text in texts.iter() {
        match model.embed(&text.as_string().unwrap_or_default()) {
            Ok(v) => flat.extend(v),
            Err(e) => {
                post(
                    scope,
                    "error",
                    &[("id", id), ("message", e.to_string().into())],
                );
                return;
            }
        }
    }
    let vectors = Float32Array::from(flat.as_slice());
    post(
        scope,
        "vectors",
        &[
            ("id", id),
            ("dim", (minilm::DIM as f64).into()),
            ("vectors", vectors.into()),
            ("ms", (now(scope) - started).into()),
        ],
    );
}

fn refuse(scope: &DedicatedWorkerGlobalScope, request: &JsValue, message: &str) {
    let id = Reflect::get(request, &"id".into()).unwrap_or(JsValue::NULL);
    post(scope, "error", &[("id", id), ("message", message.into())]);
}

fn post(scope: &DedicatedWorkerGlobalScope, kind: &str, fields: &[(&str, JsValue)]) {
    let message = Object::new();
    let _ = Reflect::set(&message, &"kind".into(), &kind.into());
    for (name, value) in fields {
        let _ = Reflect::set(&message, &(*name).into(), value);
    }
    let _ = scope.post_message(&message);
}

fn now(scope: &DedicatedWorkerGlobalScope) -> f64 {
    scope.performance().map(|p| p.now()).unwrap_or(0.0)
}

fn describe(e: &JsValue) -> String {
    match e.dyn_ref::<js_sys::Error>() {
        Some(err) => String::from(err.message()),
        None => e.as_string().unwrap_or_else(|| format!("{e:?}")),
    }
}
