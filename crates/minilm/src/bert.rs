//! [`Bert`]: the MiniLM-L6 encoder (a 6-layer, 384-wide BERT) over candle tensors, and
//! the sentence embedding sentence-transformers defines for it: the mean of the last
//! layer's token vectors, L2-normalised.
//!
//! One text is encoded at a time, so there is no padding and no attention mask: every
//! token attends to every other, exactly as in an unpadded batch of one.

use candle_core::{DType, Module, Tensor};
use candle_nn::{Embedding, LayerNorm};

use crate::int8::Int8Linear;
use crate::weights::{Tensors, Weight};
use crate::MiniLmError;

/// all-MiniLM-L6-v2's shape (its `config.json`).
pub const HIDDEN: usize = 384;
const HEADS: usize = 12;
const HEAD_DIM: usize = HIDDEN / HEADS;
const LAYERS: usize = 6;
const LAYER_NORM_EPS: f64 = 1e-12;

struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attention_out: Linear,
    attention_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    output_norm: LayerNorm,
}

/// The encoder with its weights.
pub struct Bert {
    words: Embedding,
    positions: Embedding,
    token_types: Embedding,
    embedding_norm: LayerNorm,
    layers: Vec<Layer>,
}

/// A linear layer over the published file's f32 weights or the asset's int8 rows.
enum Linear {
    F32(candle_nn::Linear),
    Int8(Int8Linear),
}

impl Module for Linear {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Linear::F32(l) => l.forward(x),
            Linear::Int8(l) => l.forward(x),
        }
    }
}

/// Takes the tensors of a BERT checkpoint by their Hugging Face names, each once.
struct Names(Tensors);

impl Names {
    fn take(&mut self, name: &str) -> Result<Weight, MiniLmError> {
        self.0
            .remove(name)
            .ok_or_else(|| MiniLmError::Weights(format!("the model file has no {name}")))
    }
    fn get(&mut self, name: &str) -> Result<Tensor, MiniLmError> {
        self.take(name)?.to_f32()
    }
    fn linear(&mut self, prefix: &str) -> Result<Linear, MiniLmError> {
        let bias = self.get(&format!("{prefix}.bias"))?;
        Ok(match self.take(&format!("{prefix}.weight"))? {
            Weight::F32(w) => Linear::F32(candle_nn::Linear::new(w, Some(bias))),
            Weight::Int8(rows) => Linear::Int8(Int8Linear::new(rows, bias.to_vec1()?)),
        })
    }
    fn norm(&mut self, prefix: &str) -> Result<LayerNorm, MiniLmError> {
        Ok(LayerNorm::new(
            self.get(&format!("{prefix}.weight"))?,
            self.get(&format!("{prefix}.bias"))?,
            LAYER_NORM_EPS,
        ))
    }
    fn embedding(&mut self, name: &str) -> Result<Embedding, MiniLmError> {
        Ok(Embedding::new(self.get(name)?, HIDDEN))
    }
}

impl Bert {
    pub fn new(tensors: Tensors) -> Result<Self, MiniLmError> {
        let mut w = Names(tensors);
        let layers = (0..LAYERS)
            .map(|i| {
                let p = format!("encoder.layer.{i}");
                Ok(Layer {
                    query: w.linear(&format!("{p}.attention.self.query"))?,
                    key: w.linear(&format!("{p}.attention.self.key"))?,
                    value: w.linear(&format!("{p}.attention.self.value"))?,
                    attention_out: w.linear(&format!("{p}.attention.output.dense"))?,
                    attention_norm: w.norm(&format!("{p}.attention.output.LayerNorm"))?,
                    intermediate: w.linear(&format!("{p}.intermediate.dense"))?,
                    output: w.linear(&format!("{p}.output.dense"))?,
                    output_norm: w.norm(&format!("{p}.output.LayerNorm"))?,
                })
            })
            .collect::<Result<_, MiniLmError>>()?;
        Ok(Bert {
            words: w.embedding("embeddings.word_embeddings.weight")?,
            positions: w.embedding("embeddings.position_embeddings.weight")?,
            token_types: w.embedding("embeddings.token_type_embeddings.weight")?,
            embedding_norm: w.norm("embeddings.LayerNorm")?,
            layers,
        })
    }

    /// The unit sentence vector of `ids` (`[CLS] … [SEP]`, at most 512 of them).
    pub fn embed(&self, ids: &[u32]) -> Result<Vec<f32>, MiniLmError> {
        let device = candle_core::Device::Cpu;
        let n = ids.len();
        let ids = Tensor::from_slice(ids, (1, n), &device)?;
        let positions = Tensor::arange(0u32, n as u32, &device)?.unsqueeze(0)?;
        let types = Tensor::zeros((1, n), DType::U32, &device)?;
        let mut x = (self.words.forward(&ids)?
            + self.positions.forward(&positions)?
            + self.token_types.forward(&types)?)?;
        x = self.embedding_norm.forward(&x)?;
        for layer in &self.layers {
            x = layer.forward(&x, n)?;
        }
        let mean = x.mean(1)?.squeeze(0)?;
        let norm = mean.sqr()?.sum_all()?.sqrt()?;
        Ok(mean.broadcast_div(&norm)?.to_vec1()?)
    }
}

impl Layer {
    fn forward(&self, x: &Tensor, n: usize) -> Result<Tensor, MiniLmError> {
        let heads = |t: Tensor| -> candle_core::Result<Tensor> {
            t.reshape((1, n, HEADS, HEAD_DIM))?
                .transpose(1, 2)?
                .contiguous()
        };
        let q = heads(self.query.forward(x)?)?;
        let k = heads(self.key.forward(x)?)?;
        let v = heads(self.value.forward(x)?)?;
        let scores = (q.matmul(&k.t()?)? / (HEAD_DIM as f64).sqrt())?;
        let attention = candle_nn::ops::softmax_last_dim(&scores)?;
        let context = attention
            .matmul(&v)?
            .transpose(1, 2)?
            .reshape((1, n, HIDDEN))?;
        let x = self
            .attention_norm
            .forward(&(self.attention_out.forward(&context)? + x)?)?;
        let hidden = self.intermediate.forward(&x)?.gelu_erf()?;
        Ok(self
            .output_norm
            .forward(&(self.output.forward(&hidden)? + &x)?)?)
    }
}
