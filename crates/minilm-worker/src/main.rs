//! The MiniLM Web Worker. The page starts it (`minilm-worker_loader.js`, built by trunk
//! from `index.html`) when Local MiniLM is the choice (the default); with Local hashed
//! chosen, neither its code nor the model is downloaded.
//!
//! On start it loads the model asset (from the browser's Cache API when an earlier
//! visit stored it, else by fetch, reporting progress) and then answers requests. Every
//! message is a plain object with a `kind`:
//!
//! - worker → page: `started` (it listens now), `progress {loaded, total}`, `ready {cached, ms}`, `failed {message}`,
//!   `vectors {id, dim, vectors: Float32Array (flat), ms}`, `error {id, message}`.
//! - page → worker: `{id, texts: [string]}`, once `started` came; requests sent while
//!   the model loads wait for it.
//!
//! `src/browser/minilm.rs` is the page's side of this protocol.

#[cfg(target_arch = "wasm32")]
mod worker;

fn main() {
    #[cfg(target_arch = "wasm32")]
    worker::start();
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("minilm-worker runs in a browser: trunk builds it for the page (index.html)");
}
