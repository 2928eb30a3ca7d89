//! all-MiniLM-L6-v2 sentence embeddings in plain Rust on candle, for the page (in a Web
//! Worker, `crates/minilm-worker`) and natively (the handbook's vectors at build time,
//! and the retrieval tests).
//!
//! - [`tokenizer`]: WordPiece over the model's `tokenizer.json`, ids equal to Hugging Face's.
//! - [`bert`]: the 6-layer encoder and the mean-pooled, normalised sentence vector.
//! - [`weights`]: the original f32 file, or the page's int8 asset made by [`quantize`].
//! - [`int8`]: the asset's linear layers, multiplied in integers.
//!
//! [`MiniLm`] ties them together: text in, 384 floats out, equal to sentence-transformers'
//! vectors to a cosine of 0.99 or better (`tests/reference.rs`).

pub mod bert;
pub mod int8;
pub mod tokenizer;
pub mod weights;

use thiserror::Error;

pub use weights::quantize;

/// Reported as `embedding.model_name`: the model these vectors come from.
pub const MODEL_NAME: &str = "sentence-transformers/all-MiniLM-L6-v2";
/// Vector length.
pub const DIM: usize = bert::HIDDEN;
/// The page's model asset, as [`quantize`] writes it and the worker fetches it.
pub const ASSET_FILE: &str = "all-MiniLM-L6-v2.int8.safetensors";
/// sentence-transformers' `max_seq_length` for this model: longer texts are cut.
pub const MAX_TOKENS: usize = 256;

/// Why the model could not load or run.
#[derive(Debug, Error)]
pub enum MiniLmError {
    #[error("the model file is not readable: {0}")]
    Weights(String),
    #[error("the tokenizer is not readable: {0}")]
    Tokenizer(String),
    #[error("the model failed to run: {0}")]
    Tensor(#[from] candle_core::Error),
}

impl From<safetensors::SafeTensorError> for MiniLmError {
    fn from(e: safetensors::SafeTensorError) -> Self {
        MiniLmError::Weights(e.to_string())
    }
}

/// The tokenizer and the encoder, ready to embed.
pub struct MiniLm {
    tokenizer: tokenizer::WordPiece,
    bert: bert::Bert,
}

impl MiniLm {
    /// From the page's asset ([`quantize`]'s output), which carries its tokenizer.
    pub fn from_asset(bytes: &[u8]) -> Result<Self, MiniLmError> {
        let (tensors, tokenizer) = weights::load(bytes)?;
        let tokenizer = tokenizer
            .ok_or_else(|| MiniLmError::Tokenizer("the model file carries no tokenizer".into()))?;
        Ok(MiniLm {
            tokenizer: tokenizer::WordPiece::from_json(&tokenizer)?,
            bert: bert::Bert::new(tensors)?,
        })
    }

    /// From the published files: `model.safetensors` (f32) and `tokenizer.json`.
    pub fn from_files(model_safetensors: &[u8], tokenizer_json: &str) -> Result<Self, MiniLmError> {
        let (tensors, _) = weights::load(model_safetensors)?;
        Ok(MiniLm {
            tokenizer: tokenizer::WordPiece::from_json(tokenizer_json)?,
            bert: bert::Bert::new(tensors)?,
        })
    }

    /// The token ids the encoder reads for `text`.
    pub fn tokens(&self, text: &str) -> Vec<u32> {
        self.tokenizer.encode(text, MAX_TOKENS)
    }

    /// The unit vector of `text`.
    pub fn embed(&self, text: &str) -> Result<Vec<f32>, MiniLmError> {
        self.bert.embed(&self.tokens(text))
    }
}
