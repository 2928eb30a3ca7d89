//! The "Your documents" panel: the documents with their chunks, the add, remove,
//! re-index and reset actions, and indexing progress. The work is [`Corpus`]'s.

use leptos::prelude::*;
use leptos::task::spawn_local;
use web_sys::HtmlInputElement;

use crate::rag::corpus::Document;
use crate::rag::engine::DocumentOutline;

use super::documents::{plural, Corpus};

/// Chunks listed per document at most.
const MAX_CHUNKS_LISTED: usize = 200;

#[component]
pub fn CorpusPanel(corpus: Corpus) -> impl IntoView {
    let documents = move || {
        let indexed = corpus.indexed.get();
        corpus.documents.with(|docs| {
            docs.iter()
                .map(|d| {
                    // Only an indexing of this very text describes it.
                    let outline = indexed
                        .as_ref()
                        .filter(|i| {
                            i.documents
                                .iter()
                                .any(|x| x.name == d.name && x.text.len() == d.text.len())
                        })
                        .map(|i| i.engine.outline_of(&d.name, MAX_CHUNKS_LISTED));
                    view! { <DocumentItem corpus name=d.name.clone() bytes=d.text.len() outline /> }
                })
                .collect_view()
        })
    };
    let progress = move || {
        corpus.progress.get().map(|(done, total)| {
            let pct = if total == 0 { 100.0 } else { done as f64 / total as f64 * 100.0 };
            view! {
                <div class="index-progress">
                    <progress id="index-progress" max=total.max(1) value=done></progress>
                    <span>{format!("Indexing… {pct:.0}% ({} of {})", size(done), size(total))}</span>
                </div>
            }
        })
    };
    view! {
        <details class="corpus-panel" id="corpus-panel">
            <summary>"Your documents"</summary>
            <p class="hint">"Questions are answered from these documents, chunked and embedded in this page. Add .txt or .md files (UTF-8, up to 20 MB each), then re-index."</p>
            <ul id="documents-list">{documents}</ul>
            <AddDocument corpus />
            {progress}
            {move || corpus.status.get().map(|s| view! { <p id="corpus-status" class="note" role="status">{s}</p> })}
            <Show when=move || corpus.errors.with(|e| !e.is_empty())>
                <ul id="corpus-errors" class="error" role="alert">
                    {move || corpus.errors.get().into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}
                </ul>
            </Show>
        </details>
    }
}

/// One document: its size, sections and chunks (when indexed), and Remove.
#[component]
fn DocumentItem(
    corpus: Corpus,
    name: String,
    bytes: usize,
    outline: Option<DocumentOutline>,
) -> impl IntoView {
    let summary = match &outline {
        None => "not indexed yet".to_string(),
        Some(o) => format!(
            "{} · {}",
            plural(o.sections, "section"),
            plural(o.chunks, "chunk")
        ),
    };
    let more = outline.as_ref().map_or(0, |o| o.chunks - o.listed.len());
    let rows = outline
        .map(|o| o.listed)
        .unwrap_or_default()
        .into_iter()
        .map(|(id, chars)| view! { <tr><td class="chunk-id">{id}</td><td class="num">{chars}</td></tr> })
        .collect_view();
    let (remove, data_name) = (name.clone(), name.clone());
    view! {
        <li class="doc" data-name=data_name>
            <details>
                <summary>
                    <span class="doc-name">{name}</span>
                    <span class="doc-size">{format!(" {} · {summary}", size(bytes))}</span>
                    <button
                        class="remove-doc"
                        type="button"
                        title="Remove this document"
                        on:click=move |ev| {
                            ev.prevent_default();
                            corpus.remove(&remove);
                        }
                    >
                        "✕"
                    </button>
                </summary>
                <table class="chunks">
                    <thead><tr><th>"Chunk"</th><th>"Characters"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
                {(more > 0).then(|| view! { <p class="hint">{format!("… and {more} more chunks")}</p> })}
            </details>
        </li>
    }
}

/// Adding documents: pasted text with a name, or uploaded files; and the re-index and
/// reset actions.
#[component]
fn AddDocument(corpus: Corpus) -> impl IntoView {
    let paste_name = RwSignal::new(String::new());
    let paste_text = RwSignal::new(String::new());
    let add_pasted = move |_| {
        let name = paste_name.get_untracked().trim().to_string();
        let name = if name.is_empty() {
            format!("pasted-{}", corpus.documents.with_untracked(Vec::len) + 1)
        } else {
            name
        };
        match Document::from_text(&name, paste_text.get_untracked()) {
            Ok(doc) => {
                corpus.errors.set(Vec::new());
                corpus.add(vec![doc]);
                paste_name.set(String::new());
                paste_text.set(String::new());
            }
            Err(e) => corpus.errors.set(vec![format!("{e}.")]),
        }
    };
    let on_upload = move |ev: leptos::ev::Event| {
        let input: HtmlInputElement = event_target(&ev);
        let files: Vec<web_sys::File> = input
            .files()
            .map(|list| (0..list.length()).filter_map(|i| list.get(i)).collect())
            .unwrap_or_default();
        // Cleared so that choosing the same file again still fires `change`.
        input.set_value("");
        spawn_local(corpus.upload(files));
    };
    view! {
        <div class="add-doc settings">
            <label for="doc-name">"Name"</label>
            <input id="doc-name" placeholder="notes.md" prop:value=move || paste_name.get() on:input=move |ev| paste_name.set(event_target_value(&ev)) />
            <label for="doc-text">"Text"</label>
            <textarea id="doc-text" rows="4" placeholder="Paste text or markdown" prop:value=move || paste_text.get() on:input=move |ev| paste_text.set(event_target_value(&ev))></textarea>
        </div>
        <div class="actions">
            <button id="add-doc" type="button" on:click=add_pasted>"Add text"</button>
            <label class="button" for="doc-upload">"Upload .txt / .md"</label>
            <input id="doc-upload" class="visually-hidden" type="file" multiple accept=".txt,.md,.markdown,text/plain,text/markdown" on:change=on_upload />
            <button id="reindex" type="button" class:pending=move || corpus.changed.get() on:click=move |_| corpus.reindex()>"Re-index"</button>
            <button id="reset-corpus" type="button" on:click=move |_| corpus.reset()>"Reset to handbook"</button>
        </div>
    }
}

/// `12.3 KB` / `4.5 MB`.
fn size(bytes: usize) -> String {
    if bytes >= 1_048_576 {
        format!("{:.1} MB", bytes as f64 / 1_048_576.0)
    } else {
        format!("{:.1} KB", bytes as f64 / 1024.0)
    }
}
