//! Web storage: export settings in localStorage; the Phoenix API key in sessionStorage,
//! or in localStorage when the user asks to be remembered (never both).

use web_sys::Storage;

use crate::telemetry::export::ExportSettings;

const SETTINGS: &str = "ragtrace.export-settings";
const PHOENIX_KEY: &str = "ragtrace.phoenix-api-key";

fn local() -> Option<Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn session() -> Option<Storage> {
    web_sys::window()?.session_storage().ok()?
}

/// Saved settings, or the defaults when there are none (or they are unreadable).
pub fn load_settings() -> ExportSettings {
    local()
        .and_then(|s| s.get_item(SETTINGS).ok().flatten())
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default()
}

/// Saves the settings; says why when the browser refuses (private mode, quota).
pub fn save_settings(settings: &ExportSettings) -> Result<(), String> {
    let json = serde_json::to_string(settings).map_err(|e| e.to_string())?;
    local()
        .ok_or("this browser offers no local storage")?
        .set_item(SETTINGS, &json)
        .map_err(|_| {
            "the browser refused to save the settings (private mode or storage full)".to_string()
        })
}

/// The saved API key, from whichever storage holds it.
pub fn load_key() -> String {
    [session(), local()]
        .into_iter()
        .flatten()
        .find_map(|s| s.get_item(PHOENIX_KEY).ok().flatten())
        .unwrap_or_default()
}

/// Keeps the key for this tab only, or on this device when `remember`.
pub fn save_key(key: &str, remember: bool) -> Result<(), String> {
    let (keep, drop) = if remember {
        (local(), session())
    } else {
        (session(), local())
    };
    if let Some(s) = drop {
        let _ = s.remove_item(PHOENIX_KEY);
    }
    let keep = keep.ok_or("this browser offers no web storage")?;
    let saved = if key.is_empty() {
        keep.remove_item(PHOENIX_KEY)
    } else {
        keep.set_item(PHOENIX_KEY, key)
    };
    saved.map_err(|_| "the browser refused to store the API key".to_string())
}
