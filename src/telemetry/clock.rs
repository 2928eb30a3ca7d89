//! The wall clock for span timestamps.
//!
//! In the browser, `SystemTime::now()` panics and `Date.now()` only has milliseconds, so
//! fast steps would last 0 ms. `performance.timeOrigin + performance.now()` keeps
//! sub-millisecond resolution. Natively the system clock is used.

use std::time::SystemTime;

/// Now, as a `SystemTime` with sub-millisecond resolution on every target.
#[cfg(target_arch = "wasm32")]
pub fn now() -> SystemTime {
    // The page's `Performance` and its time origin are looked up once: every span
    // reads the clock twice, and each call into JavaScript costs.
    thread_local! {
        static PERFORMANCE: Option<(web_sys::Performance, f64)> = web_sys::window()
            .and_then(|w| w.performance())
            .map(|p| {
                let origin = p.time_origin();
                (p, origin)
            });
    }
    let ms = PERFORMANCE.with(|p| match p {
        Some((performance, origin)) => origin + performance.now(),
        None => js_sys::Date::now(),
    });
    SystemTime::UNIX_EPOCH + std::time::Duration::from_nanos((ms * 1e6) as u64)
}

/// Now, as a `SystemTime` with sub-millisecond resolution on every target.
#[cfg(not(target_arch = "wasm32"))]
pub fn now() -> SystemTime {
    SystemTime::now()
}

/// Nanoseconds since the Unix epoch (what OTLP carries).
pub fn unix_nanos(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}
