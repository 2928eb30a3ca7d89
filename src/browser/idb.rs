//! [`TraceDb`]: IndexedDB storage of the page's traces, one record per trace (text,
//! keyed by trace id), so traces survive a reload. Each IndexedDB request is awaited
//! by handing its success and error callbacks to a JavaScript promise.

use js_sys::{Array, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbRequest, IdbTransactionMode};

use super::js_error;

const DB: &str = "ragtrace";
const STORE: &str = "traces";

/// The trace database of this origin.
#[derive(Clone)]
pub struct TraceDb {
    db: IdbDatabase,
}

/// Resolves with the request's result once it succeeds.
async fn done(request: &IdbRequest) -> Result<JsValue, String> {
    let promise = Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    let outcome = JsFuture::from(promise).await;
    request.set_onsuccess(None);
    request.set_onerror(None);
    outcome.map_err(|_| {
        request
            .error()
            .ok()
            .flatten()
            .map_or("IndexedDB refused the request".into(), |e| e.message())
    })?;
    request.result().map_err(js_error)
}

impl TraceDb {
    /// Opens (creating on first use) the database; fails in browsers without IndexedDB
    /// or where it is disabled (some private modes).
    pub async fn open() -> Result<TraceDb, String> {
        let factory = web_sys::window()
            .and_then(|w| w.indexed_db().ok().flatten())
            .ok_or("this browser offers no IndexedDB")?;
        let request = factory.open_with_u32(DB, 1).map_err(js_error)?;
        let upgrade_request = request.clone();
        let on_upgrade = Closure::<dyn FnMut()>::new(move || {
            if let Ok(db) = upgrade_request
                .result()
                .and_then(|r| r.dyn_into::<IdbDatabase>())
            {
                if !db.object_store_names().contains(STORE) {
                    let _ = db.create_object_store(STORE);
                }
            }
        });
        request.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
        let db = done(&request).await?;
        request.set_onupgradeneeded(None);
        Ok(TraceDb {
            db: db.unchecked_into(),
        })
    }

    fn store(&self, mode: IdbTransactionMode) -> Result<web_sys::IdbObjectStore, String> {
        self.db
            .transaction_with_str_and_mode(STORE, mode)
            .and_then(|t| t.object_store(STORE))
            .map_err(js_error)
    }

    /// Writes (or replaces) the record `key`.
    pub async fn put(&self, key: &str, value: &str) -> Result<(), String> {
        let request = self
            .store(IdbTransactionMode::Readwrite)?
            .put_with_key(&value.into(), &key.into())
            .map_err(js_error)?;
        done(&request).await.map(|_| ())
    }

    pub async fn delete(&self, key: &str) -> Result<(), String> {
        let request = self
            .store(IdbTransactionMode::Readwrite)?
            .delete(&key.into())
            .map_err(js_error)?;
        done(&request).await.map(|_| ())
    }

    /// Every record's value.
    pub async fn all(&self) -> Result<Vec<String>, String> {
        let request = self
            .store(IdbTransactionMode::Readonly)?
            .get_all()
            .map_err(js_error)?;
        let values: Array = done(&request).await?.unchecked_into();
        Ok(values.iter().filter_map(|v| v.as_string()).collect())
    }
}
