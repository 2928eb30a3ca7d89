//! all-MiniLM-L6-v2 natively, as an [`Embedder`]: the same Rust model the page's worker
//! runs, from the same int8 asset (`scripts/setup.sh` makes it in `.state/minilm`).
//! `examples/handbook_vectors.rs` includes this file too.

use std::path::PathBuf;

use minilm::MiniLm;
use ragtrace::model::{Embedder, ModelError};

/// Where setup put the model, its asset and the handbook's vectors.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".state/minilm")
}

/// The handbook's shipped vector file.
pub const HANDBOOK_VECTORS: &str = "handbook.vectors";

pub struct NativeMiniLm(pub MiniLm);

impl NativeMiniLm {
    /// Loads the page's asset.
    pub fn load() -> NativeMiniLm {
        let path = dir().join(minilm::ASSET_FILE);
        let bytes = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run scripts/setup.sh)", path.display()));
        NativeMiniLm(MiniLm::from_asset(&bytes).expect("the asset loads"))
    }
}

impl Embedder for NativeMiniLm {
    fn model_name(&self) -> &str {
        minilm::MODEL_NAME
    }

    fn unrelated_below(&self) -> f32 {
        ragtrace::rag::embed::MINILM_UNRELATED_BELOW
    }

    fn runs_in_page(&self) -> bool {
        true // as the page's worker does
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, ModelError> {
        texts
            .iter()
            .map(|t| {
                self.0
                    .embed(t)
                    .map_err(|e| ModelError::Malformed(e.to_string()))
            })
            .collect()
    }
}
