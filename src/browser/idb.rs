//! [`Db`]: the page's IndexedDB database, so that traces and documents survive a reload:
//! one [`Store`] of traces (text keyed by trace id) and one of documents (JSON keyed by
//! position). Each IndexedDB request is awaited by handing its success and error
//! callbacks to a JavaScript promise.

use js_sys::{Array, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbRequest, IdbTransactionMode};

use super::js_error;

const DB: &str = "ragtrace";
/// Version 1 had traces only; version 2 adds documents.
const VERSION: u32 = 2;

/// An object store of the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    Traces,
    Documents,
}

impl Store {
    const ALL: [Store; 2] = [Store::Traces, Store::Documents];

    fn name(self) -> &'static str {
        match self {
            Store::Traces => "traces",
            Store::Documents => "documents",
        }
    }
}

/// The page's database on this origin.
#[derive(Clone)]
pub struct Db {
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

impl Db {
    /// Opens (creating on first use) the database; fails in browsers without IndexedDB
    /// or where it is disabled (some private modes).
    pub async fn open() -> Result<Db, String> {
        let factory = web_sys::window()
            .and_then(|w| w.indexed_db().ok().flatten())
            .ok_or("this browser offers no IndexedDB")?;
        let request = factory.open_with_u32(DB, VERSION).map_err(js_error)?;
        let upgrade_request = request.clone();
        let on_upgrade = Closure::<dyn FnMut()>::new(move || {
            if let Ok(db) = upgrade_request
                .result()
                .and_then(|r| r.dyn_into::<IdbDatabase>())
            {
                for store in Store::ALL {
                    if !db.object_store_names().contains(store.name()) {
                        let _ = db.create_object_store(store.name());
                    }
                }
            }
        });
        request.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
        let db = done(&request).await?;
        request.set_onupgradeneeded(None);
        Ok(Db {
            db: db.unchecked_into(),
        })
    }

    fn store(
        &self,
        store: Store,
        mode: IdbTransactionMode,
    ) -> Result<web_sys::IdbObjectStore, String> {
        self.db
            .transaction_with_str_and_mode(store.name(), mode)
            .and_then(|t| t.object_store(store.name()))
            .map_err(js_error)
    }

    /// Writes (or replaces) the record `key`.
    pub async fn put(&self, store: Store, key: &str, value: &str) -> Result<(), String> {
        let request = self
            .store(store, IdbTransactionMode::Readwrite)?
            .put_with_key(&value.into(), &key.into())
            .map_err(js_error)?;
        done(&request).await.map(|_| ())
    }

    pub async fn delete(&self, store: Store, key: &str) -> Result<(), String> {
        let request = self
            .store(store, IdbTransactionMode::Readwrite)?
            .delete(&key.into())
            .map_err(js_error)?;
        done(&request).await.map(|_| ())
    }

    /// Deletes every record of `store`.
    pub async fn clear(&self, store: Store) -> Result<(), String> {
        let request = self
            .store(store, IdbTransactionMode::Readwrite)?
            .clear()
            .map_err(js_error)?;
        done(&request).await.map(|_| ())
    }

    /// Every record's value, in key order.
    pub async fn all(&self, store: Store) -> Result<Vec<String>, String> {
        let request = self
            .store(store, IdbTransactionMode::Readonly)?
            .get_all()
            .map_err(js_error)?;
        let values: Array = done(&request).await?.unchecked_into();
        Ok(values.iter().filter_map(|v| v.as_string()).collect())
    }
}
