//! The page among its tabs and through its life:
//! - [`with_lock`]: runs work while holding a Web Lock, so one tab of this origin at a
//!   time exports;
//! - [`Tabs`]: a `BroadcastChannel` that tells the other tabs what this one delivered,
//!   deleted or cleared;
//! - [`on_hide`]: calls back when the page is hidden or closed (`visibilitychange` to
//!   hidden, `pagehide`), the last moment to flush pending spans.

use std::future::Future;

use js_sys::{Function, Promise, Reflect};
use serde::{de::DeserializeOwned, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{BroadcastChannel, MessageEvent};

/// Runs `work` holding the Web Lock `name` (waiting for it while another tab holds
/// it). Browsers without Web Locks run `work` at once.
pub async fn with_lock<F: Future>(name: &str, work: F) -> F::Output {
    let locks = web_sys::window()
        .and_then(|w| Reflect::get(&w.navigator(), &"locks".into()).ok())
        .filter(|l| !l.is_undefined());
    let request = locks
        .as_ref()
        .and_then(|l| Reflect::get(l, &"request".into()).ok())
        .and_then(|f| f.dyn_into::<Function>().ok());
    let (Some(locks), Some(request)) = (locks, request) else {
        return work.await;
    };
    let mut release: Option<Function> = None;
    let held = Promise::new(&mut |resolve, _| release = Some(resolve));
    let mut granted_resolve: Option<Function> = None;
    let granted = Promise::new(&mut |resolve, _| granted_resolve = Some(resolve));
    let on_grant = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
        if let Some(g) = granted_resolve {
            let _ = g.call0(&JsValue::NULL);
        }
        held.into()
    });
    if request.call2(&locks, &name.into(), &on_grant).is_err() {
        return work.await;
    }
    let _ = JsFuture::from(granted).await;
    let out = work.await;
    if let Some(r) = release {
        let _ = r.call0(&JsValue::NULL);
    }
    out
}

/// The channel between this origin's tabs. Messages are JSON.
#[derive(Clone)]
pub struct Tabs {
    channel: Option<BroadcastChannel>,
}

impl Tabs {
    /// Opens the channel `name`; `on_message` hears what the other tabs post.
    pub fn open<M: DeserializeOwned + 'static>(
        name: &str,
        on_message: impl Fn(M) + 'static,
    ) -> Tabs {
        let channel = BroadcastChannel::new(name).ok();
        if let Some(c) = &channel {
            let heard = Closure::<dyn Fn(MessageEvent)>::new(move |e: MessageEvent| {
                if let Some(message) = e
                    .data()
                    .as_string()
                    .and_then(|text| serde_json::from_str(&text).ok())
                {
                    on_message(message);
                }
            });
            c.set_onmessage(Some(heard.as_ref().unchecked_ref()));
            heard.forget(); // lives as long as the page
        }
        Tabs { channel }
    }

    /// Tells the other tabs.
    pub fn post<M: Serialize>(&self, message: &M) {
        if let (Some(c), Ok(text)) = (&self.channel, serde_json::to_string(message)) {
            let _ = c.post_message(&text.into());
        }
    }
}

/// Calls `hidden` whenever the page is hidden or being closed.
pub fn on_hide(hidden: impl Fn() + 'static) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let hidden = std::rc::Rc::new(hidden);
    let on_pagehide = {
        let hidden = hidden.clone();
        Closure::<dyn Fn()>::new(move || hidden())
    };
    let document = window.document();
    let on_visibility = Closure::<dyn Fn()>::new(move || {
        let is_hidden = web_sys::window()
            .and_then(|w| w.document())
            .is_some_and(|d| d.hidden());
        if is_hidden {
            hidden();
        }
    });
    let _ =
        window.add_event_listener_with_callback("pagehide", on_pagehide.as_ref().unchecked_ref());
    if let Some(d) = document {
        let _ = d.add_event_listener_with_callback(
            "visibilitychange",
            on_visibility.as_ref().unchecked_ref(),
        );
    }
    // Both live as long as the page.
    on_pagehide.forget();
    on_visibility.forget();
}
