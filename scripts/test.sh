#!/usr/bin/env bash
# Every test, in the order a failure is cheapest to find. Called by `make test` (which
# puts the project's tools on PATH) and so by CI.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --browser
# The end-to-end tests start their own Phoenix servers with scripts/phoenix.sh serve.
scripts/phoenix.sh install >/dev/null
step() { echo; echo "== $*"; }

step "format"
cargo fmt --all --check
step "clippy (native)"
cargo clippy --workspace --all-targets --quiet -- -D warnings
step "clippy (wasm32)"
# Benches are native-only (they time things with std::time and talk HTTP with ureq).
cargo clippy -p ragtrace --lib --bins --tests --target wasm32-unknown-unknown --quiet -- -D warnings
cargo clippy -p minilm-worker -p minilm --target wasm32-unknown-unknown --quiet -- -D warnings
step "release build of the page (dist/)"
trunk build --release
step "native tests and end-to-end tests of dist/ in headless Chromium"
cargo test --workspace
step "wasm tests in headless Chromium"
CHROMEDRIVER=$(command -v chromedriver) \
WASM_BINDGEN_TEST_WEBDRIVER_JSON="$PWD/tests/web/webdriver.json" \
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test --target wasm32-unknown-unknown --test web
