//! Thin browser I/O (wasm32 only), no logic of its own:
//! - [`fetch`]: [`fetch::BrowserHttp`], the page's [`crate::telemetry::export::Transport`].
//! - [`storage`]: settings in localStorage, the API key in session or local storage.
//! - [`file`]: downloading text as a file and reading an uploaded file.
//! - [`idb`]: traces kept in IndexedDB across reloads.

pub mod fetch;
pub mod file;
pub mod idb;
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

/// A JavaScript error as text.
pub(crate) fn js_error(e: JsValue) -> String {
    match e.dyn_ref::<js_sys::Error>() {
        Some(err) => String::from(err.message()),
        None => e.as_string().unwrap_or_else(|| format!("{e:?}")),
    }
}
