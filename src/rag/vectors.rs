//! Vectors computed ahead of time: [`Precomputed`] holds them by text, and
//! [`Cached`] is an [`Embedder`] that answers from them, asks its model only for texts
//! it has not seen, and keeps those too.
//!
//! The page ships the handbook's chunk vectors under MiniLM this way: they are computed
//! natively at build time (`examples/handbook_vectors.rs`, the same Rust model the page
//! runs) so that choosing MiniLM embeds only the user's own documents and questions.
//! Texts are keyed by a 64-bit FNV-1a hash, so a changed chunk simply misses.

use std::cell::RefCell;
use std::collections::HashMap;

use thiserror::Error;

use super::embed;
use crate::model::{Embedder, ModelError};

const MAGIC: &[u8; 8] = b"RTVEC1\n\0";

/// Why a vector file could not be read.
#[derive(Debug, Error, PartialEq)]
pub enum VectorFileError {
    #[error("the vector file is not one this page writes")]
    NotAVectorFile,
    #[error("the vector file is cut short")]
    Truncated,
}

/// Vectors by the text they embed, all from one model.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Precomputed {
    pub model: String,
    by_text: HashMap<u64, Vec<f32>>,
}

impl Precomputed {
    pub fn new(model: &str) -> Self {
        Precomputed {
            model: model.to_string(),
            by_text: HashMap::new(),
        }
    }

    pub fn insert(&mut self, text: &str, vector: Vec<f32>) {
        self.by_text.insert(key(text), vector);
    }

    pub fn get(&self, text: &str) -> Option<&[f32]> {
        self.by_text.get(&key(text)).map(Vec::as_slice)
    }

    pub fn len(&self) -> usize {
        self.by_text.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_text.is_empty()
    }

    /// The file: magic, model name, dimension, count, then (key, f32 × dimension) each,
    /// little-endian, sorted by key so the same vectors give the same bytes.
    pub fn encode(&self) -> Vec<u8> {
        let dim = self.by_text.values().next().map_or(0, Vec::len);
        let mut out = MAGIC.to_vec();
        for n in [self.model.len(), dim, self.by_text.len()] {
            out.extend((n as u32).to_le_bytes());
        }
        out.extend(self.model.as_bytes());
        let mut entries: Vec<_> = self.by_text.iter().collect();
        entries.sort_by_key(|(k, _)| **k);
        for (k, v) in entries {
            out.extend(k.to_le_bytes());
            v.iter().for_each(|x| out.extend(x.to_le_bytes()));
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, VectorFileError> {
        let rest = bytes
            .strip_prefix(MAGIC.as_slice())
            .ok_or(VectorFileError::NotAVectorFile)?;
        let mut reader = Reader(rest);
        let (name_len, dim, count) = (reader.u32()?, reader.u32()?, reader.u32()?);
        let model = String::from_utf8(reader.take(name_len)?.to_vec())
            .map_err(|_| VectorFileError::NotAVectorFile)?;
        // The header is checked against the bytes before anything is allocated for it.
        let entry = dim
            .checked_mul(4)
            .and_then(|v| v.checked_add(8))
            .ok_or(VectorFileError::Truncated)?;
        if count.checked_mul(entry) != Some(reader.0.len()) {
            return Err(VectorFileError::Truncated);
        }
        let mut by_text = HashMap::with_capacity(count);
        for _ in 0..count {
            let k = u64::from_le_bytes(reader.take(8)?.try_into().expect("8 bytes"));
            let v = reader
                .take(dim * 4)?
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            by_text.insert(k, v);
        }
        Ok(Precomputed { model, by_text })
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], VectorFileError> {
        if self.0.len() < n {
            return Err(VectorFileError::Truncated);
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }
    fn u32(&mut self) -> Result<usize, VectorFileError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")) as usize)
    }
}

fn key(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `embedder` behind a cache of vectors by text: it answers from the cache first (when
/// the cache holds that embedder's vectors), asks `embedder` for the rest, and keeps
/// what it computed. Retrieval's question vector is then at hand when the answerer
/// scores sentences by meaning, and a corpus indexed again costs nothing.
pub struct Cached<E> {
    known: RefCell<Precomputed>,
    pub embedder: E,
}

impl<E: Embedder> Cached<E> {
    /// Starts from `known` (e.g. the shipped handbook vectors); vectors of another model
    /// are dropped.
    pub fn new(known: Precomputed, embedder: E) -> Self {
        let known = if known.model == embedder.model_name() {
            known
        } else {
            Precomputed::new(embedder.model_name())
        };
        Cached {
            known: RefCell::new(known),
            embedder,
        }
    }

    /// Adds `known` vectors (of the same model) to the cache.
    pub fn remember(&self, known: Precomputed) {
        if known.model == self.embedder.model_name() {
            self.known.borrow_mut().by_text.extend(known.by_text);
        }
    }

    /// Whether every one of `texts` has its vector here already.
    pub fn knows_all(&self, texts: &[String]) -> bool {
        let known = self.known.borrow();
        texts.iter().all(|t| known.get(t).is_some())
    }

    /// How many vectors the cache holds.
    pub fn len(&self) -> usize {
        self.known.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<E: Embedder> Embedder for Cached<E> {
    fn model_name(&self) -> &str {
        self.embedder.model_name()
    }

    fn unrelated_below(&self) -> f32 {
        self.embedder.unrelated_below()
    }

    fn runs_in_page(&self) -> bool {
        self.embedder.runs_in_page()
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, ModelError> {
        let missing: Vec<String> = {
            let known = self.known.borrow();
            let mut missing: Vec<String> = texts
                .iter()
                .filter(|t| known.get(t).is_none())
                .cloned()
                .collect();
            missing.sort();
            missing.dedup();
            missing
        };
        if !missing.is_empty() {
            let computed = embed::embed_exactly(&self.embedder, &missing).await?;
            let mut known = self.known.borrow_mut();
            for (t, v) in missing.iter().zip(computed) {
                known.insert(t, v);
            }
        }
        let known = self.known.borrow();
        Ok(texts
            .iter()
            .map(|t| known.get(t).expect("cached above").to_vec())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rag::embed::HashEmbedder;
    use pollster::block_on;

    /// Embeds with the hashed embedder under another name, recording what it was asked.
    struct Recording(RefCell<Vec<String>>);

    impl Embedder for Recording {
        fn model_name(&self) -> &str {
            "recording"
        }
        async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, ModelError> {
            self.0.borrow_mut().extend(texts.iter().cloned());
            Ok(texts.iter().map(|t| HashEmbedder.embed(t)).collect())
        }
    }

    #[test]
    fn a_file_round_trips_and_a_short_one_is_refused() {
        let mut p = Precomputed::new("recording");
        p.insert("one", vec![1.0, 0.0]);
        p.insert("two", vec![0.0, -1.5]);
        let bytes = p.encode();
        assert_eq!(Precomputed::decode(&bytes), Ok(p));
        assert_eq!(
            Precomputed::decode(&bytes[..bytes.len() - 1]),
            Err(VectorFileError::Truncated)
        );
        assert_eq!(
            Precomputed::decode(b"<html>"),
            Err(VectorFileError::NotAVectorFile)
        );
    }

    #[test]
    fn only_unknown_texts_reach_the_model_once_and_order_is_kept() {
        let mut known = Precomputed::new("recording");
        known.insert("b", vec![9.0]);
        let cached = Cached::new(known.clone(), Recording(RefCell::new(Vec::new())));
        let texts = ["a", "b", "c", "a"].map(String::from);
        let out = block_on(cached.embed(&texts)).unwrap();
        assert_eq!(*cached.embedder.0.borrow(), ["a", "c"]);
        assert_eq!(out[1], vec![9.0]);
        assert_eq!(out[0], HashEmbedder.embed("a"));
        assert_eq!(out[2], HashEmbedder.embed("c"));
        assert_eq!(out[3], out[0]);
        block_on(cached.embed(&texts)).unwrap();
        assert_eq!(cached.embedder.0.borrow().len(), 2, "kept, not asked again");
        // Vectors of another model are never mixed in.
        let other = Precomputed {
            model: "other".into(),
            ..known
        };
        let cached = Cached::new(other, Recording(RefCell::new(Vec::new())));
        assert_eq!(
            block_on(cached.embed(&texts)).unwrap()[1],
            HashEmbedder.embed("b")
        );
    }
}
