//! The page's use-cases, free of Leptos and web-sys and tested natively with fakes
//! (`tests/app.rs`); `ui/` components call them and render.
//!
//! - [`ask`]: [`ask::Session`], asking with the chosen models (the remote index kept by
//!   [`ask::IndexKey`]) and the error-path demo.

pub mod ask;
