//! [`Corpus`]: the documents questions are answered from — add (paste or upload:
//! .txt/.md, UTF-8, at most 20 MB), remove, re-index, reset to the bundled handbook.
//! Indexing runs in slices of [`SLICE_MS`] between which the page handles input and
//! paints the progress bar; what was indexed is kept in IndexedDB for the next visit.

use std::sync::Arc;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::app::ask::Indexed;
use crate::browser::idb::{Db, Store};
use crate::browser::{self, file};
use crate::rag::corpus::Document;
use crate::rag::engine::{Engine, IndexJob};
use crate::telemetry::clock;
use crate::HANDBOOK_MD;

/// Indexing work done between two yields to the page, in milliseconds.
const SLICE_MS: f64 = 30.0;
/// Text chunked and embedded between two looks at the clock, in bytes.
const STEP_BYTES: usize = 4 * 1024;

/// The page's documents and their index.
#[derive(Clone, Copy)]
pub struct Corpus {
    /// The documents as the user has them: what the next indexing uses.
    pub documents: RwSignal<Vec<Document>>,
    /// The index questions use (`None` until the first indexing ends).
    pub indexed: RwSignal<Option<Indexed>>,
    /// Documents added or removed since the last indexing.
    pub changed: RwSignal<bool>,
    /// (bytes done, bytes in all) while indexing.
    pub progress: RwSignal<Option<(usize, usize)>>,
    /// What the last action did.
    pub status: RwSignal<Option<String>>,
    /// Why documents were refused or indexing failed.
    pub errors: RwSignal<Vec<String>>,
    /// The indexing in flight; starting another one abandons it.
    run: StoredValue<u64>,
    /// Where indexed documents are kept across reloads (`None`: not available).
    db: StoredValue<Option<Db>, LocalStorage>,
}

fn handbook() -> Vec<Document> {
    vec![Document {
        name: "handbook".into(),
        text: HANDBOOK_MD.into(),
    }]
}

impl Corpus {
    /// The documents kept from an earlier visit (else the handbook), indexing.
    pub fn new() -> Corpus {
        let corpus = Corpus {
            documents: RwSignal::new(handbook()),
            indexed: RwSignal::new(None),
            changed: RwSignal::new(false),
            progress: RwSignal::new(None),
            status: RwSignal::new(None),
            errors: RwSignal::new(Vec::new()),
            run: StoredValue::new(0),
            db: StoredValue::new_local(None),
        };
        spawn_local(async move {
            if let Ok(db) = Db::open().await {
                let kept: Vec<Document> = db
                    .all(Store::Documents)
                    .await
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|text| serde_json::from_str(text).ok())
                    .collect();
                if !kept.is_empty() {
                    corpus.documents.set(kept);
                }
                corpus.db.set_value(Some(db));
            }
            corpus.reindex();
        });
        corpus
    }

    /// Keeps `documents` (what was just indexed) for the next visit.
    async fn save(self, documents: &[Document]) {
        let Some(db) = self.db.get_value() else {
            return;
        };
        let records: Vec<(String, String)> = documents
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let text = serde_json::to_string(d).expect("documents serialise");
                (format!("{i:06}"), text)
            })
            .collect();
        if let Err(e) = db.replace_all(Store::Documents, &records).await {
            self.errors.update(|errors| {
                errors.push(format!(
                    "Your documents could not be kept for the next visit ({e}); they stay until this page closes."
                ))
            });
        }
    }

    /// Whether the bundled handbook, unchanged, is among the indexed documents (the
    /// benchmark's expected sections are in it).
    pub fn has_handbook(&self) -> bool {
        self.indexed.with(|i| {
            i.as_ref().is_none_or(|i| {
                i.documents
                    .iter()
                    .any(|d| d.name == "handbook" && d.text == HANDBOOK_MD)
            })
        })
    }

    pub fn engine(&self) -> Option<Arc<Engine>> {
        self.indexed
            .with_untracked(|i| i.as_ref().map(|i| i.engine.clone()))
    }

    /// Adds documents, replacing any of the same name.
    pub fn add(&self, added: Vec<Document>) {
        if added.is_empty() {
            return;
        }
        let names: Vec<String> = added.iter().map(|d| d.name.clone()).collect();
        self.documents.update(|docs| {
            docs.retain(|d| !names.contains(&d.name));
            docs.extend(added);
        });
        self.changed.set(true);
        self.status.set(Some(format!(
            "Added {}. Re-index to search {}.",
            names.join(", "),
            if names.len() == 1 { "it" } else { "them" }
        )));
    }

    pub fn remove(&self, name: &str) {
        self.documents
            .update(|docs| docs.retain(|d| d.name != name));
        self.changed.set(true);
        self.status.set(Some(format!(
            "Removed {name}. Re-index to stop searching it."
        )));
    }

    /// Back to the bundled handbook alone, indexed.
    pub fn reset(&self) {
        self.documents.set(handbook());
        self.errors.set(Vec::new());
        self.reindex();
    }

    /// Indexes the documents in slices; questions keep using the old index meanwhile.
    pub fn reindex(self) {
        let documents = Arc::new(self.documents.get_untracked());
        let run = self.run.get_value() + 1;
        self.run.set_value(run);
        self.changed.set(false);
        self.errors.set(Vec::new());
        self.status.set(None);
        spawn_local(async move {
            let pairs: Vec<(&str, &str)> = documents
                .iter()
                .map(|d| (d.name.as_str(), d.text.as_str()))
                .collect();
            let started = clock::now();
            // The parse (tens of ms for 10 MB) gets a pause of its own, apart from the
            // click's rendering.
            browser::yield_to_page().await;
            let mut job = match IndexJob::new(&pairs) {
                Ok(job) => job,
                Err(e) => {
                    self.errors
                        .set(vec![format!("The documents could not be indexed: {e}.")]);
                    self.changed.set(true);
                    return;
                }
            };
            self.progress.set(Some(job.progress()));
            loop {
                let slice = clock::now();
                let mut done = false;
                while !done && elapsed_ms(slice) < SLICE_MS {
                    done = job.step(STEP_BYTES);
                }
                self.progress.set(Some(job.progress()));
                browser::yield_to_page().await;
                if self.run.get_value() != run {
                    return; // a newer indexing took over
                }
                if done {
                    break;
                }
            }
            let engine = Arc::new(job.finish());
            let ms = elapsed_ms(started);
            self.save(&documents).await;
            if self.run.get_value() != run {
                return;
            }
            let (n_docs, n_chunks) = (documents.len(), engine.index.len());
            self.indexed.set(Some(Indexed {
                engine,
                documents,
                revision: run,
            }));
            self.progress.set(None);
            self.status.set(Some(format!(
                "Indexed {}: {} in {ms:.0} ms.",
                plural(n_docs, "document"),
                plural(n_chunks, "chunk")
            )));
        });
    }

    /// Reads uploaded files; the good ones are added, the others are said why not.
    pub async fn upload(self, files: Vec<web_sys::File>) {
        let mut added = Vec::new();
        let mut refused = Vec::new();
        for f in files {
            let name = f.name();
            let read = match Document::check_file(&name, f.size() as u64) {
                Err(e) => Err(e.to_string()),
                Ok(()) => match file::read_bytes(&f).await {
                    Err(e) => Err(format!("\"{name}\" could not be read: {e}")),
                    Ok(bytes) => Document::from_bytes(&name, bytes).map_err(|e| e.to_string()),
                },
            };
            match read {
                Ok(doc) => added.push(doc),
                Err(e) => refused.push(format!("{e}.")),
            }
        }
        self.errors.set(refused);
        self.add(added);
    }
}

fn elapsed_ms(since: std::time::SystemTime) -> f64 {
    clock::now()
        .duration_since(since)
        .unwrap_or(Duration::ZERO)
        .as_secs_f64()
        * 1e3
}

/// `1 chunk`, `2 chunks`.
pub(super) fn plural(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}
