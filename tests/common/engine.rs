//! The bundled handbook, indexed with the local embedder, as most tests start.

use pollster::block_on;
use ragtrace::rag::embed::HashEmbedder;
use ragtrace::rag::engine::Engine;
use ragtrace::HANDBOOK_MD;

/// The handbook's engine.
pub fn handbook() -> Engine {
    block_on(Engine::build(&[("handbook", HANDBOOK_MD)], &HashEmbedder))
        .expect("the handbook indexes")
}
