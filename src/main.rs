//! Entry point: mounts the page in the browser. Natively there is nothing to run; the
//! domain is exercised by `cargo test` and `cargo bench`.

#[cfg(target_arch = "wasm32")]
fn main() {
    ragtrace::ui::mount();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("ragtrace runs in the browser: `make run` serves it at http://127.0.0.1:8080");
}
