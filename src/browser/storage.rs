//! Web storage: settings as JSON in localStorage; API keys in sessionStorage, or in
//! localStorage when the user asks to be remembered (never both).

use serde::de::DeserializeOwned;
use serde::Serialize;
use web_sys::Storage;

/// Export settings (JSON).
pub const EXPORT_SETTINGS: &str = "ragtrace.export-settings";
/// Model settings (JSON).
pub const MODEL_SETTINGS: &str = "ragtrace.model-settings";
/// The embedder the page runs itself (JSON: "hashed" or "minilm").
pub const LOCAL_EMBEDDER: &str = "ragtrace.local-embedder";
/// The Phoenix API key.
pub const PHOENIX_KEY: &str = "ragtrace.phoenix-api-key";
/// The OpenAI API key.
pub const OPENAI_KEY: &str = "ragtrace.openai-api-key";

fn local() -> Option<Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn session() -> Option<Storage> {
    web_sys::window()?.session_storage().ok()?
}

/// Saved settings, or the defaults when there are none (or they are unreadable).
pub fn load<T: DeserializeOwned + Default>(name: &str) -> T {
    local()
        .and_then(|s| s.get_item(name).ok().flatten())
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default()
}

/// Saves settings; says why when the browser refuses (private mode, quota).
pub fn save<T: Serialize>(name: &str, settings: &T) -> Result<(), String> {
    let json = serde_json::to_string(settings).map_err(|e| e.to_string())?;
    local()
        .ok_or("this browser offers no local storage")?
        .set_item(name, &json)
        .map_err(|_| {
            "the browser refused to save the settings (private mode or storage full)".to_string()
        })
}

/// A saved key, from whichever storage holds it.
pub fn load_key(name: &str) -> String {
    [session(), local()]
        .into_iter()
        .flatten()
        .find_map(|s| s.get_item(name).ok().flatten())
        .unwrap_or_default()
}

/// Keeps a key for this tab only, or on this device when `remember`; an empty key is
/// forgotten everywhere.
pub fn save_key(name: &str, key: &str, remember: bool) -> Result<(), String> {
    let (keep, drop) = if remember {
        (local(), session())
    } else {
        (session(), local())
    };
    if let Some(s) = drop {
        let _ = s.remove_item(name);
    }
    let keep = keep.ok_or("this browser offers no web storage")?;
    let saved = if key.is_empty() {
        keep.remove_item(name)
    } else {
        keep.set_item(name, key)
    };
    saved.map_err(|_| "the browser refused to store the API key".to_string())
}

/// This tab's session id (`session.id` on root spans): kept in sessionStorage so a
/// reload stays in the same session; a new tab starts a new one.
pub fn session_id() -> String {
    const NAME: &str = "ragtrace.session-id";
    if let Some(id) = session().and_then(|s| s.get_item(NAME).ok().flatten()) {
        return id;
    }
    let random = || (js_sys::Math::random() * f64::from(u32::MAX)) as u32;
    let id = format!(
        "{:08x}{:08x}{:08x}{:08x}",
        random(),
        random(),
        random(),
        random()
    );
    if let Some(s) = session() {
        let _ = s.set_item(NAME, &id);
    }
    id
}

/// Saves a panel's settings and its key (kept apart: the settings go to localStorage,
/// the key where `remember` says); the first failure, in words.
pub fn save_with_key<T: Serialize>(
    settings_name: &str,
    settings: &T,
    key_name: &str,
    key: &str,
    remember: bool,
) -> Result<(), String> {
    save(settings_name, settings).and_then(|()| save_key(key_name, key, remember))
}
