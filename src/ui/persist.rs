//! Keeps the trace store in IndexedDB: restores it when the page opens, writes each
//! trace that changed (new spans, new delivery state), deletes the ones removed, and
//! keeps at most [`MAX_TRACES`] traces and [`MAX_BYTES`] of them: the oldest exported
//! traces go, with a notice; unexported ones are never dropped (the notice asks to
//! export or download them). A write counts once its transaction commits; a refused one
//! (quota) is said and tried again. When the browser refuses storage altogether
//! (private mode), the page says so and keeps working in memory.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use opentelemetry::trace::TraceId;

use crate::browser::idb::{Db, Store};
use crate::explorer::store::{TraceRecord, TraceStore, Version};

/// Traces kept at most.
pub const MAX_TRACES: usize = 1_000;
/// Bytes of saved traces kept at most.
pub const MAX_BYTES: usize = 50 * 1024 * 1024;

/// What was last written for each trace id: its version and its size in bytes.
type Kept = HashMap<TraceId, (Version, usize)>;
/// How long after a refused write it is tried again.
const RETRY_WRITE: std::time::Duration = std::time::Duration::from_secs(5);

/// Starts keeping `store`; `restored` turns true once earlier traces are back (or
/// storage is known to be unavailable); `notice` says what the user should know.
pub fn keep(
    store: RwSignal<TraceStore>,
    restored: RwSignal<bool>,
    notice: RwSignal<Option<String>>,
) {
    let keeper = Keeper {
        store,
        db: StoredValue::new_local(None),
        kept: StoredValue::new_local(HashMap::new()),
        notice,
        refusing: StoredValue::new(false),
    };
    let Keeper { db, kept, .. } = keeper;
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
                                k.insert(t.trace_id, (t.version(), text.len()));
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
                keeper.sync();
            }
        }
        restored.set(true);
    });
    Effect::new(move |_| {
        store.track();
        keeper.sync();
    });
}

/// The store, its database, what was written, and what to tell the user.
#[derive(Clone, Copy)]
struct Keeper {
    store: RwSignal<TraceStore>,
    db: StoredValue<Option<Db>, LocalStorage>,
    kept: StoredValue<Kept, LocalStorage>,
    notice: RwSignal<Option<String>>,
    /// The last writes were refused (the notice says so until a write succeeds).
    refusing: StoredValue<bool>,
}

impl Keeper {
    fn sync(self) {
        let Keeper {
            store,
            db,
            kept,
            notice,
            refusing,
        } = self;
        let Some(db) = db.get_value() else { return };
        let (changed, removed) = kept.with_value(|kept| {
            store.with_untracked(|s| {
                let changed: Vec<(TraceId, Version, String)> = s
                    .traces
                    .iter()
                    .filter(|t| kept.get(&t.trace_id).map(|k| &k.0) != Some(&t.version()))
                    .map(|t| (t.trace_id, t.version(), t.to_saved()))
                    .collect();
                let removed: Vec<TraceId> = kept
                    .keys()
                    .filter(|id| s.get(**id).is_none())
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
                    .map(|(id, v, text)| (*id, (v.clone(), text.len()))),
            );
        });
        spawn_local(async move {
            let mut refused = None;
            for (id, _, text) in changed {
                if let Err(e) = db.put(Store::Traces, &id.to_string(), &text).await {
                    // Forgotten as written, so the retry below writes it again.
                    kept.update_value(|k| {
                        k.remove(&id);
                    });
                    refused = Some(e);
                }
            }
            for id in removed {
                let _ = db.delete(Store::Traces, &id.to_string()).await;
            }
            match refused {
                Some(e) => {
                    refusing.set_value(true);
                    notice.set(Some(format!(
                    "Traces could not be saved ({e}); they are kept in memory and saving is tried again in {} s. Free some space, or export or download them.",
                    RETRY_WRITE.as_secs()
                )));
                    gloo_timers::future::sleep(RETRY_WRITE).await;
                    self.sync();
                }
                None if refusing.get_value() => {
                    refusing.set_value(false);
                    notice.set(Some("Traces are saved again.".into()));
                }
                None => {}
            }
        });
        let eviction = kept.with_value(|kept| {
            let over =
                kept.len() > MAX_TRACES || kept.values().map(|k| k.1).sum::<usize>() > MAX_BYTES;
            over.then(|| {
                store.try_update(|s| {
                    s.evict(MAX_TRACES, MAX_BYTES, |t| {
                        kept.get(&t.trace_id).map_or(0, |k| k.1)
                    })
                })
            })
        });
        // The store changed: the effect runs again and deletes the evicted traces.
        let Some(Some(eviction)) = eviction else {
            return;
        };
        let bounds = format!(
            "at most {MAX_TRACES} traces and {} MB",
            MAX_BYTES / 1_048_576
        );
        if eviction.over {
            notice.set(Some(format!(
            "This page keeps {bounds}, but the traces over that are not exported yet, so they all stay: export them to Phoenix or download them, and older ones can go."
        )));
        } else if eviction.removed > 0 {
            notice.set(Some(format!(
                "Only the newest traces are kept ({bounds}): {} older exported ones were removed.",
                eviction.removed
            )));
        }
    }
}
