//! Keeps the trace store in IndexedDB: restores it when the page opens, writes each
//! trace that changed (new spans, new export state), deletes the ones removed, and
//! keeps at most [`MAX_TRACES`] traces and [`MAX_BYTES`] of them (the oldest go, with a
//! notice). When the browser
//! refuses storage (private mode, quota), the page says so and keeps working in memory.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::browser::idb::{Db, Store};
use crate::telemetry::store::{ExportState, TraceRecord, TraceStore};

/// Traces kept at most.
pub const MAX_TRACES: usize = 1_000;
/// Bytes of saved traces kept at most.
pub const MAX_BYTES: usize = 50 * 1024 * 1024;

/// What was last written for each trace id: its version and its size in bytes.
type Kept = HashMap<String, ((usize, ExportState), usize)>;

/// Starts keeping `store`; `restored` turns true once earlier traces are back (or
/// storage is known to be unavailable); `notice` says what the user should know.
pub fn keep(
    store: RwSignal<TraceStore>,
    restored: RwSignal<bool>,
    notice: RwSignal<Option<String>>,
) {
    let db: StoredValue<Option<Db>, LocalStorage> = StoredValue::new_local(None);
    let kept: StoredValue<Kept, LocalStorage> = StoredValue::new_local(HashMap::new());
    spawn_local(async move {
        match Db::open().await {
            Err(e) => notice.set(Some(format!(
                "Traces are kept in memory only, and a reload forgets them: {e}."
            ))),
            Ok(opened) => {
                let texts = opened.all(Store::Traces).await.unwrap_or_default();
                let mut traces = Vec::new();
                let mut bad = 0;
                for text in &texts {
                    match TraceRecord::from_saved(text) {
                        Ok(t) => {
                            kept.update_value(|k| {
                                k.insert(t.trace_id.clone(), (t.version(), text.len()));
                            });
                            traces.push(t);
                        }
                        Err(_) => bad += 1,
                    }
                }
                store.update(|s| s.restore(traces));
                if bad > 0 {
                    notice.set(Some(format!(
                        "{bad} saved traces could not be read and were skipped."
                    )));
                }
                db.set_value(Some(opened));
                sync(store, db, kept, notice);
            }
        }
        restored.set(true);
    });
    Effect::new(move |_| {
        store.track();
        sync(store, db, kept, notice);
    });
}

fn sync(
    store: RwSignal<TraceStore>,
    db: StoredValue<Option<Db>, LocalStorage>,
    kept: StoredValue<Kept, LocalStorage>,
    notice: RwSignal<Option<String>>,
) {
    let Some(db) = db.get_value() else { return };
    let (changed, removed) = kept.with_value(|kept| {
        store.with_untracked(|s| {
            let changed: Vec<(String, (usize, ExportState), String)> = s
                .traces
                .iter()
                .filter(|t| kept.get(&t.trace_id).map(|k| &k.0) != Some(&t.version()))
                .map(|t| (t.trace_id.clone(), t.version(), t.to_saved()))
                .collect();
            let removed: Vec<String> = kept
                .keys()
                .filter(|id| s.get(id).is_none())
                .cloned()
                .collect();
            (changed, removed)
        })
    });
    if changed.is_empty() && removed.is_empty() {
        return;
    }
    kept.update_value(|k| {
        removed.iter().for_each(|id| {
            k.remove(id);
        });
        k.extend(
            changed
                .iter()
                .map(|(id, v, text)| (id.clone(), (v.clone(), text.len()))),
        );
    });
    spawn_local(async move {
        for (id, _, text) in changed {
            if let Err(e) = db.put(Store::Traces, &id, &text).await {
                notice.set(Some(format!(
                    "A trace could not be saved ({e}); it is kept in memory only."
                )));
            }
        }
        for id in removed {
            let _ = db.delete(Store::Traces, &id).await;
        }
    });
    let gone = kept.with_value(|kept| {
        let over = kept.len() > MAX_TRACES || kept.values().map(|k| k.1).sum::<usize>() > MAX_BYTES;
        over.then(|| {
            store
                .try_update(|s| {
                    s.evict(MAX_TRACES, MAX_BYTES, |t| {
                        kept.get(&t.trace_id).map_or(0, |k| k.1)
                    })
                })
                .unwrap_or(0)
        })
    });
    // The store changed: the effect runs again and deletes the evicted traces.
    if let Some(gone) = gone.filter(|&g| g > 0) {
        notice.set(Some(format!(
            "Only the newest traces are kept (at most {MAX_TRACES} traces and {} MB): {gone} older ones were removed.",
            MAX_BYTES / 1_048_576
        )));
    }
}
