#!/usr/bin/env bash
# Speed and size figures, printed (nothing asserted): native timings, an export of 10,000
# spans to a Phoenix started here (and delivery reports: through a proxy failing 30 % of
# requests, and through the end-to-end fault matrix), OTLP encoding inside headless Chromium, the trace
# explorer in the release page (waterfall rendering, indexing 10 MB), Local MiniLM in the
# page (load, query embedding), and the sizes of the release wasm and the MiniLM assets. Every `vs <tool>` line compares with the tool a user would pick instead,
# measured in the same run (opentelemetry-js in the same headless Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --browser
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
grpc=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
workdir=$(mktemp -d)
PHOENIX_PORT=$port PHOENIX_GRPC_PORT=$grpc PHOENIX_WORKING_DIR=$workdir \
  scripts/phoenix.sh serve >"$workdir/phoenix.log" 2>&1 &
phoenix_pid=$!
stop_phoenix() { kill "$phoenix_pid" 2>/dev/null || true; wait "$phoenix_pid" 2>/dev/null || true; rm -rf "$workdir"; }
trap stop_phoenix EXIT
for _ in $(seq 120); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.5; done

# rank_bm25 and numpy, for the `vs rank_bm25` and `vs numpy` lines, in their own venv.
venv=.state/bench-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check \
  numpy==2.4.6 rank-bm25==0.2.2 threadpoolctl==3.8.0

echo "== native (ratio > 1: ragtrace is faster); one compute thread, as the page's MiniLM worker has"
RAYON_NUM_THREADS=1 RAGTRACE_BENCH_PHOENIX="http://127.0.0.1:$port" RAGTRACE_BENCH_PYTHON="$PWD/$venv/bin/python" \
  cargo bench --quiet --bench figures

echo "== wasm in headless Chromium, beside opentelemetry-js (ratio > 1: ragtrace is faster)"
CHROMEDRIVER=$(command -v chromedriver) \
WASM_BINDGEN_TEST_WEBDRIVER_JSON="$PWD/tests/web/webdriver.json" \
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
WASM_BINDGEN_TEST_TIMEOUT=300 \
  cargo test --release --target wasm32-unknown-unknown --test wasm_bench -- --nocapture 2>&1 | grep -E "^(vs |wasm:)"

echo "== the release page in headless Chromium"
trunk build --release >/dev/null 2>&1
cargo test --quiet --test e2e -- --ignored --nocapture _figures 2>&1 | grep -E "^(explorer|minilm):"
# The fault matrix (413, poisoned 400, 422, 429/503 with Retry-After, 504, a hang, a
# dropped connection, 500, partial success), a closed tab and two tabs, against a real
# Phoenix: each prints its delivery report.
cargo test --quiet --test e2e -- --nocapture delivery:: 2>&1 | grep -o "delivery report.*"

echo "== release sizes"
wasm=$(ls dist/ragtrace-*_bg.wasm)
echo "release wasm: $(stat -c %s "$wasm") bytes raw, $(gzip -9 -c "$wasm" | wc -c) bytes gzipped ($wasm)"
worker=dist/minilm-worker_bg.wasm
echo "MiniLM worker wasm (its own file, not loaded with Local hashed): $(stat -c %s "$worker") bytes raw, $(gzip -9 -c "$worker" | wc -c) bytes gzipped"
for asset in dist/minilm/*; do
  echo "MiniLM asset $(basename "$asset"): $(stat -c %s "$asset") bytes raw, $(gzip -c "$asset" | wc -c) bytes gzipped"
done
