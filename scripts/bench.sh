#!/usr/bin/env bash
# Speed and size figures, printed (nothing asserted).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo bench --bench figures
trunk build --release >/dev/null
wasm=$(ls dist/*.wasm)
echo "release wasm: $(stat -c %s "$wasm") bytes raw, $(gzip -9 -c "$wasm" | wc -c) bytes gzipped ($wasm)"
