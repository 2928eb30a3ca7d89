//! [`HashEmbedder`]: the local embedder. Deterministic hashed features — word stems, stem
//! bigrams and character trigrams — folded into a fixed-size, L2-normalised vector.
//! Nothing is downloaded and the same text always gives the same vector.

use super::text;
use crate::model::{Embedder, ModelError};

/// Dimension of the hashed vectors.
pub const DIM: usize = 1024;
/// Name reported as `embedding.model_name`.
pub const MODEL_NAME: &str = "ragtrace-hash-ngram-1024 (local)";

/// `embedding.model_name` of the neural local embedder, all-MiniLM-L6-v2 (the
/// `minilm` crate, run by the page's worker; a native test checks the two agree).
pub const MINILM: &str = "sentence-transformers/all-MiniLM-L6-v2";
/// MiniLM's cosine under which the best passage is unrelated to a question: off-topic
/// questions ("What colour is the office cat?") reach 0.22 at most over the handbook,
/// the 129 questions of the two sets 0.24 at least (`tests/answers.rs` checks both).
pub const MINILM_UNRELATED_BELOW: f32 = 0.23;

/// Which embedder the page runs itself (offline, and beside servers that only chat).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LocalEmbedder {
    /// [`HashEmbedder`]: instant, nothing to download.
    Hashed,
    /// all-MiniLM-L6-v2 in a Web Worker, downloaded once. The default: its first load
    /// from this machine's server takes about 0.4 s (`make bench`), under the 3 s that
    /// would keep the hashed one first, and its answers are right far more often
    /// (`tests/answers.rs`).
    #[default]
    MiniLm,
}

impl LocalEmbedder {
    pub const ALL: [LocalEmbedder; 2] = [LocalEmbedder::Hashed, LocalEmbedder::MiniLm];

    /// As the settings store it.
    pub fn as_str(self) -> &'static str {
        match self {
            LocalEmbedder::Hashed => "hashed",
            LocalEmbedder::MiniLm => "minilm",
        }
    }

    pub fn parse(s: &str) -> Option<LocalEmbedder> {
        LocalEmbedder::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// `embedding.model_name` of its vectors.
    pub fn model_name(self) -> &'static str {
        match self {
            LocalEmbedder::Hashed => MODEL_NAME,
            LocalEmbedder::MiniLm => MINILM,
        }
    }
}

/// The local embedder. Stateless, so it is `Copy`.
#[derive(Debug, Clone, Copy, Default)]
pub struct HashEmbedder;

impl HashEmbedder {
    /// The unit vector of `text`, or all zeros when it has no words.
    pub fn embed(&self, text: &str) -> Vec<f32> {
        let mut v = vec![0f32; DIM];
        let terms = text::terms(text);
        for t in &terms {
            add(&mut v, &[t.as_bytes()], 1.0);
        }
        for pair in terms.windows(2) {
            add(&mut v, &[pair[0].as_bytes(), b" ", pair[1].as_bytes()], 0.6);
        }
        // Character trigrams of each word padded as `^word$`, hashed from the UTF-8 of
        // each character in place (no string per trigram: indexing hashes millions).
        let mut window = [([0u8; 4], 0usize); 3];
        for w in text::words(text).iter().filter(|w| !text::is_stopword(w)) {
            let padded = std::iter::once('^')
                .chain(w.chars())
                .chain(std::iter::once('$'));
            for (i, c) in padded.enumerate() {
                window.rotate_left(1);
                let (bytes, len) = &mut window[2];
                *len = c.encode_utf8(bytes).len();
                if i >= 2 {
                    let [a, b, c] = &window;
                    add(&mut v, &[&a.0[..a.1], &b.0[..b.1], &c.0[..c.1]], 0.25);
                }
            }
        }
        normalise(&mut v);
        v
    }
}

/// Adds `weight` to the signed bucket of the feature made of `parts`, in order.
fn add(v: &mut [f32], parts: &[&[u8]], weight: f32) {
    let h = parts
        .iter()
        .flat_map(|p| p.iter())
        .fold(FNV_OFFSET, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(FNV_PRIME)
        });
    let sign = if h >> 63 == 1 { -1.0 } else { 1.0 };
    v[(h % DIM as u64) as usize] += sign * weight;
}

/// FNV-1a, 64 bits.
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

fn normalise(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// One vector per text from `embedder`, or why not: a model that answers with another
/// count is malformed. Nothing is asked for no texts.
pub async fn embed_exactly<E: Embedder>(
    embedder: &E,
    texts: &[String],
) -> Result<Vec<Vec<f32>>, ModelError> {
    if texts.is_empty() {
        return Ok(Vec::new());
    }
    let vectors = embedder.embed(texts).await?;
    if vectors.len() != texts.len() {
        return Err(ModelError::Malformed(format!(
            "the embedder returned {} vectors for {} texts",
            vectors.len(),
            texts.len()
        )));
    }
    Ok(vectors)
}

/// The cosine of `query_vec` to each of `texts`, embedded by `embedder` in one call.
pub async fn cosines_to<E: Embedder>(
    embedder: &E,
    query_vec: &[f32],
    texts: &[String],
) -> Result<Vec<f32>, ModelError> {
    let vectors = embed_exactly(embedder, texts).await?;
    Ok(vectors.iter().map(|v| cosine(query_vec, v)).collect())
}

/// Dot product; the cosine similarity of two unit vectors. Summed in eight lanes so
/// the compiler can vectorise it (one running sum must add a float at a time, in order):
/// retrieval scans every chunk's vector with it.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a8
        .remainder()
        .iter()
        .zip(b8.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a8.zip(b8) {
        for i in 0..8 {
            lanes[i] += x[i] * y[i];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_unit_vectors() {
        let e = HashEmbedder;
        let a = e.embed("International work limit");
        assert_eq!(a, e.embed("International work limit"));
        assert!((cosine(&a, &a) - 1.0).abs() < 1e-5);
        assert!(e.embed("  the of ").iter().all(|x| *x == 0.0));
    }

    /// The features spelled out with a string each, as the embedder once built them:
    /// the in-place hashing must give the very same vectors.
    fn plain(text: &str) -> Vec<f32> {
        let mut v = vec![0f32; DIM];
        let terms = text::terms(text);
        for t in &terms {
            add(&mut v, &[t.as_bytes()], 1.0);
        }
        for pair in terms.windows(2) {
            add(
                &mut v,
                &[format!("{} {}", pair[0], pair[1]).as_bytes()],
                0.6,
            );
        }
        for w in text::words(text).iter().filter(|w| !text::is_stopword(w)) {
            let padded: Vec<char> = format!("^{w}$").chars().collect();
            for tri in padded.windows(3) {
                add(&mut v, &[tri.iter().collect::<String>().as_bytes()], 0.25);
            }
        }
        normalise(&mut v);
        v
    }

    #[test]
    fn in_place_hashing_gives_the_plain_features() {
        for text in [
            "International work limit: 30 working days.",
            "Über die Grenze, ça va très bien; 海外勤務は三十日まで。 a",
            "",
        ] {
            assert_eq!(HashEmbedder.embed(text), plain(text), "{text}");
        }
    }

    #[test]
    fn related_texts_are_closer() {
        let e = HashEmbedder;
        let q = e.embed("How many days can I work internationally?");
        let near = e.embed("Employees may work internationally for up to 30 days.");
        let far = e.embed("Laptops are refreshed every three years.");
        assert!(cosine(&q, &near) > cosine(&q, &far) + 0.1);
    }
}
