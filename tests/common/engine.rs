//! The bundled handbook, indexed with the local embedder, as most tests start.

use std::cell::Cell;

use pollster::block_on;
use ragtrace::model::{Embedder, ModelError};
use ragtrace::rag::embed::HashEmbedder;
use ragtrace::rag::engine::Engine;
use ragtrace::HANDBOOK_MD;

/// The handbook's engine.
pub fn handbook() -> Engine {
    block_on(Engine::build(&[("handbook", HANDBOOK_MD)], &HashEmbedder))
        .expect("the handbook indexes")
}

/// The hashed embedder under another `model` name, in the page or "remote", counting the
/// texts it is asked to embed.
pub struct Counting {
    pub model: &'static str,
    pub in_page: bool,
    pub texts: Cell<usize>,
}

impl Counting {
    pub fn new(model: &'static str, in_page: bool) -> Self {
        Counting {
            model,
            in_page,
            texts: Cell::new(0),
        }
    }
}

impl Embedder for Counting {
    fn model_name(&self) -> &str {
        self.model
    }

    fn runs_in_page(&self) -> bool {
        self.in_page
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, ModelError> {
        self.texts.set(self.texts.get() + texts.len());
        Embedder::embed(&HashEmbedder, texts).await
    }
}
