//! Helpers shared by the native test files (each file includes this module with
//! `mod common;`).

#![allow(dead_code)] // each test file uses its own part of the helpers

pub mod engine;
pub mod http;
pub mod minilm;
pub mod spans;
