//! Thin browser I/O (wasm32 only), no logic of its own:
//! - [`fetch`]: [`fetch::BrowserHttp`], the page's [`crate::http::HttpClient`].
//! - [`lifecycle`]: one exporting tab at a time, news between tabs, page hide.
//! - [`storage`]: settings in localStorage, the API key in session or local storage.
//! - [`file`]: downloading text as a file and reading an uploaded file.
//! - [`minilm`]: [`minilm::MiniLmWorker`], the MiniLM Web Worker as an embedder.
//! - [`idb`]: traces and documents kept in IndexedDB across reloads.

pub mod fetch;
pub mod file;
pub mod idb;
pub mod lifecycle;
pub mod minilm;
pub mod storage;

use wasm_bindgen::{JsCast, JsValue};

/// The page's origin, e.g. `http://127.0.0.1:8080`.
pub fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// Puts `text` on the clipboard.
pub async fn copy_to_clipboard(text: &str) -> Result<(), String> {
    let clipboard = web_sys::window()
        .ok_or("no window")?
        .navigator()
        .clipboard();
    wasm_bindgen_futures::JsFuture::from(clipboard.write_text(text))
        .await
        .map(|_| ())
        .map_err(js_error)
}

/// Lets the page handle input and paint, then resumes. The wake-up is a message posted
/// through a `MessageChannel`, which, unlike a repeated `setTimeout(0)`, is not held
/// back 4 ms each time.
pub async fn yield_to_page() {
    let Ok(channel) = web_sys::MessageChannel::new() else {
        return;
    };
    let woken = js_sys::Promise::new(&mut |resolve, _| {
        channel.port1().set_onmessage(Some(&resolve));
    });
    if channel.port2().post_message(&JsValue::NULL).is_ok() {
        let _ = wasm_bindgen_futures::JsFuture::from(woken).await;
    }
    channel.port1().set_onmessage(None);
}

/// Records a User Timing mark: the page's milestones (`ragtrace:ready`,
/// `ragtrace:restored`) show in the browser's performance tools, and `make bench`
/// reads them.
pub fn mark(name: &str) {
    if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
        let _ = p.mark(name);
    }
}

/// A JavaScript error as text.
pub(crate) fn js_error(e: JsValue) -> String {
    match e.dyn_ref::<js_sys::Error>() {
        Some(err) => String::from(err.message()),
        None => e.as_string().unwrap_or_else(|| format!("{e:?}")),
    }
}
