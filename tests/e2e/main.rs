//! End-to-end tests: the release page in headless Chromium, driven like a person would.
#![cfg(not(target_arch = "wasm32"))]

mod ask;
mod delivery;
// The handbook's engine as the native tests build it; not every helper there is used.
#[allow(dead_code)]
#[path = "../common/engine.rs"]
mod engine;
mod explorer;
mod export;
mod fault_proxy;
#[path = "../common/figures.rs"]
mod figures;
mod harness;
mod interop;
mod minilm;
mod models;
mod openai_fixture;
mod phoenix;
mod traces;

pub(crate) const SEED_QUESTION: &str =
    "What is the maximum number of days an employee can work internationally?";
