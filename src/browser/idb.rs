//! [`Db`]: the page's IndexedDB database, so that traces and documents survive a reload:
//! one [`Store`] of traces (text keyed by trace id) and one of documents (JSON keyed by
//! position). Each IndexedDB request is awaited by handing its success and error
//! callbacks to a JavaScript promise.

use std::cell::RefCell;

use futures_util::future::{FutureExt, LocalBoxFuture, Shared};
use js_sys::{Array, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbOpenDbRequest, IdbRequest, IdbTransaction, IdbTransactionMode};

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
    settled(request, None).await
}

/// [`done`], also failing when `open` is blocked: another tab still holds an older
/// version of the database open, and waiting for it would leave the page without
/// storage, and its documents unindexed, until that tab closes.
async fn settled(request: &IdbRequest, open: Option<&IdbOpenDbRequest>) -> Result<JsValue, String> {
    let promise = Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
        if let Some(open) = open {
            open.set_onblocked(Some(&reject));
        }
    });
    let outcome = JsFuture::from(promise).await;
    request.set_onsuccess(None);
    request.set_onerror(None);
    if let Some(open) = open {
        open.set_onblocked(None);
    }
    outcome.map_err(|_| match request.error().ok().flatten() {
        Some(e) => e.message(),
        None if open.is_some() => {
            "another tab of this page, opened before an update, holds the storage: close it and reload".into()
        }
        None => "IndexedDB refused the request".into(),
    })?;
    request.result().map_err(js_error)
}

/// Resolves once a write transaction commits (a write is only kept then); fails with
/// the reason, e.g. a `QuotaExceededError`, when it aborts.
async fn committed(tx: &IdbTransaction) -> Result<(), String> {
    let promise = Promise::new(&mut |resolve, reject| {
        tx.set_oncomplete(Some(&resolve));
        tx.set_onerror(Some(&reject));
        tx.set_onabort(Some(&reject));
    });
    let outcome = JsFuture::from(promise).await;
    tx.set_oncomplete(None);
    tx.set_onerror(None);
    tx.set_onabort(None);
    outcome.map(|_| ()).map_err(|_| match tx.error() {
        Some(e) => format!("{}: {}", e.name(), e.message()),
        None => "IndexedDB did not keep the write".into(),
    })
}

type Opening = Shared<LocalBoxFuture<'static, Result<Db, String>>>;

thread_local! {
    /// The page's one opening of the database. IndexedDB queues a second open behind a
    /// first that is blocked, so every user of storage must share one.
    static OPENING: RefCell<Option<Opening>> = const { RefCell::new(None) };
}

impl Db {
    /// The database, opened (and created on first use) once per page; fails in browsers
    /// without IndexedDB or where it is disabled (some private modes), and when another
    /// tab holds an older version open.
    pub async fn open() -> Result<Db, String> {
        let opening = OPENING.with(|o| {
            o.borrow_mut()
                .get_or_insert_with(|| Db::connect().boxed_local().shared())
                .clone()
        });
        opening.await
    }

    async fn connect() -> Result<Db, String> {
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
        let db: IdbDatabase = settled(&request, Some(&request)).await?.unchecked_into();
        request.set_onupgradeneeded(None);
        // A newer page asking for a newer version: let it have the database.
        let closing = db.clone();
        let on_version_change = Closure::<dyn FnMut()>::new(move || closing.close());
        db.set_onversionchange(Some(on_version_change.as_ref().unchecked_ref()));
        on_version_change.forget(); // lives as long as the connection
        Ok(Db { db })
    }

    fn transaction(
        &self,
        store: Store,
        mode: IdbTransactionMode,
    ) -> Result<(IdbTransaction, web_sys::IdbObjectStore), String> {
        let tx = self
            .db
            .transaction_with_str_and_mode(store.name(), mode)
            .map_err(js_error)?;
        let objects = tx.object_store(store.name()).map_err(js_error)?;
        Ok((tx, objects))
    }

    /// Runs one write on `store` and waits for its transaction to commit.
    async fn write(
        &self,
        store: Store,
        op: impl FnOnce(&web_sys::IdbObjectStore) -> Result<IdbRequest, JsValue>,
    ) -> Result<(), String> {
        let (tx, objects) = self.transaction(store, IdbTransactionMode::Readwrite)?;
        op(&objects).map_err(js_error)?;
        committed(&tx).await
    }

    /// Writes (or replaces) the record `key`.
    pub async fn put(&self, store: Store, key: &str, value: &str) -> Result<(), String> {
        self.write(store, |o| o.put_with_key(&value.into(), &key.into()))
            .await
    }

    pub async fn delete(&self, store: Store, key: &str) -> Result<(), String> {
        self.write(store, |o| o.delete(&key.into())).await
    }

    /// Replaces every record of `store` by `records` (key, value), in one transaction:
    /// a failure leaves the old records whole.
    pub async fn replace_all(
        &self,
        store: Store,
        records: &[(String, String)],
    ) -> Result<(), String> {
        self.write(store, |o| {
            let mut last = o.clear()?;
            for (key, value) in records {
                last = o.put_with_key(&value.as_str().into(), &key.as_str().into())?;
            }
            Ok(last)
        })
        .await
    }

    /// Every record's value, in key order.
    pub async fn all(&self, store: Store) -> Result<Vec<String>, String> {
        let request = self
            .transaction(store, IdbTransactionMode::Readonly)?
            .1
            .get_all()
            .map_err(js_error)?;
        let values: Array = done(&request).await?.unchecked_into();
        Ok(values.iter().filter_map(|v| v.as_string()).collect())
    }
}
