//! Computes the handbook's chunk and sentence vectors under all-MiniLM-L6-v2 natively and writes
//! them to `.state/minilm/handbook.vectors`, which the page ships (`index.html`), so
//! choosing MiniLM in the page embeds only what is new. Called by `scripts/setup.sh`;
//! does nothing when the file already holds every chunk of the current handbook.

#[path = "../tests/common/minilm.rs"]
mod minilm_native;

use minilm_native::{dir, NativeMiniLm, HANDBOOK_VECTORS};
use ragtrace::model::Embedder;
use ragtrace::rag::chunk::{chunk_sections, ChunkConfig};
use ragtrace::rag::corpus::parse_corpus;
use ragtrace::rag::text;
use ragtrace::rag::vectors::Precomputed;
use ragtrace::HANDBOOK_MD;

fn main() {
    let sections = parse_corpus(&[("handbook", HANDBOOK_MD)]).expect("the handbook parses");
    // What the page embeds for the handbook: each chunk as indexed, and each sentence
    // of it (the offline answerer scores sentences).
    let mut texts: Vec<String> = Vec::new();
    for chunk in chunk_sections(&sections, ChunkConfig::default()) {
        texts.push(chunk.indexed_text());
        texts.extend(text::sentences(&chunk.text).into_iter().map(String::from));
    }
    texts.sort();
    texts.dedup();
    let path = dir().join(HANDBOOK_VECTORS);
    // Made from the asset: a newer asset (converted again) means computing them again.
    let modified = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let asset_is_newer = modified(&dir().join(minilm::ASSET_FILE)) > modified(&path);
    let current = std::fs::read(&path)
        .ok()
        .filter(|_| !asset_is_newer)
        .and_then(|b| Precomputed::decode(&b).ok())
        .filter(|p| p.model == minilm::MODEL_NAME && p.len() == texts.len())
        .is_some_and(|p| texts.iter().all(|t| p.get(t).is_some()));
    if current {
        return;
    }
    let started = std::time::Instant::now();
    let model = NativeMiniLm::load();
    let vectors = pollster::block_on(model.embed(&texts)).expect("the model embeds");
    let mut file = Precomputed::new(minilm::MODEL_NAME);
    for (t, v) in texts.iter().zip(vectors) {
        file.insert(t, v);
    }
    std::fs::write(&path, file.encode()).expect("the vector file is written");
    println!(
        "handbook_vectors: {} texts embedded in {:.1} s → {}",
        texts.len(),
        started.elapsed().as_secs_f64(),
        path.display()
    );
}
