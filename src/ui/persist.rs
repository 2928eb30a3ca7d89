//! Keeps the trace store in IndexedDB: restores it when the page opens, writes each
//! trace that changed (new spans, new export state), deletes the ones removed, and
//! keeps at most [`MAX_TRACES`] (the oldest go, with a notice). When the browser
//! refuses storage (private mode, quota), the page says so and keeps working in memory.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::browser::idb::TraceDb;
use crate::telemetry::store::{ExportState, TraceRecord, TraceStore};

/// Traces kept at most.
pub const MAX_TRACES: usize = 1_000;

/// What was last written for each trace id.
type Kept = HashMap<String, (usize, ExportState)>;

/// Starts keeping `store`; `restored` turns true once earlier traces are back (or
/// storage is known to be unavailable); `notice` says what the user should know.
pub fn keep(
    store: RwSignal<TraceStore>,
    restored: RwSignal<bool>,
    notice: RwSignal<Option<String>>,
) {
    let db: StoredValue<Option<TraceDb>, LocalStorage> = StoredValue::new_local(None);
    let kept: StoredValue<Kept, LocalStorage> = StoredValue::new_local(HashMap::new());
    spawn_local(async move {
        match TraceDb::open().await {
            Err(e) => notice.set(Some(format!(
                "Traces are kept in memory only, and a reload forgets them: {e}."
            ))),
            Ok(opened) => {
                let texts = opened.all().await.unwrap_or_default();
                let (good, bad): (Vec<_>, Vec<_>) = texts
                    .iter()
                    .map(|t| TraceRecord::from_saved(t))
                    .partition(Result::is_ok);
                let traces: Vec<TraceRecord> = good.into_iter().flatten().collect();
                kept.update_value(|k| {
                    k.extend(traces.iter().map(|t| (t.trace_id.clone(), t.version())))
                });
                store.update(|s| s.restore(traces));
                if !bad.is_empty() {
                    notice.set(Some(format!(
                        "{} saved traces could not be read and were skipped.",
                        bad.len()
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
    db: StoredValue<Option<TraceDb>, LocalStorage>,
    kept: StoredValue<Kept, LocalStorage>,
    notice: RwSignal<Option<String>>,
) {
    let Some(db) = db.get_value() else { return };
    if store.with_untracked(|s| s.traces.len() > MAX_TRACES) {
        let gone = store
            .try_update(|s| s.evict_beyond(MAX_TRACES))
            .unwrap_or(0);
        notice.set(Some(format!(
            "Only the newest {MAX_TRACES} traces are kept: {gone} older ones were removed."
        )));
        return; // the store changed: the effect runs again and writes the rest
    }
    let (changed, removed) = kept.with_value(|kept| {
        store.with_untracked(|s| {
            let changed: Vec<(String, (usize, ExportState), String)> = s
                .traces
                .iter()
                .filter(|t| kept.get(&t.trace_id) != Some(&t.version()))
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
        k.extend(changed.iter().map(|(id, v, _)| (id.clone(), v.clone())));
    });
    spawn_local(async move {
        for (id, _, text) in changed {
            if let Err(e) = db.put(&id, &text).await {
                notice.set(Some(format!(
                    "A trace could not be saved ({e}); it is kept in memory only."
                )));
            }
        }
        for id in removed {
            let _ = db.delete(&id).await;
        }
    });
}
