#!/usr/bin/env bash
# Arize Phoenix for the page to export to — the one way the project starts it
# (`make phoenix`, `make bench` and the end-to-end tests all come here).
#   scripts/phoenix.sh install   installs arize-phoenix into a venv if missing; prints
#                                the path of its `phoenix` command
#   scripts/phoenix.sh serve     installs if needed, then serves Phoenix; PHOENIX_HOST,
#                                PHOENIX_PORT, PHOENIX_GRPC_PORT, PHOENIX_WORKING_DIR and
#                                PHOENIX_ALLOWED_ORIGINS from the environment win
# The venv lives in the user's cache so every checkout (and CI's fresh clones) share it;
# Phoenix's data lives in the project's git-ignored .state/phoenix.
set -euo pipefail
cd "$(dirname "$0")/.."

PHOENIX_VERSION=20.26.1
VENV="${RAGTRACE_CACHE:-$HOME/.cache/ragtrace}/phoenix-$PHOENIX_VERSION"

# Written once the install is whole, so a later check costs nothing (importing phoenix
# takes seconds, and the tests start many).
MARKER="$VENV/.installed"

install() {
  if [ ! -f "$MARKER" ]; then
    if ! "$VENV/bin/python" -c "import phoenix" 2>/dev/null; then
      echo "phoenix: installing arize-phoenix $PHOENIX_VERSION into $VENV (a few minutes)" >&2
      rm -rf "$VENV"
      python3 -m venv "$VENV"
      "$VENV/bin/pip" install --quiet --disable-pip-version-check "arize-phoenix==$PHOENIX_VERSION" >&2
    fi
    touch "$MARKER"
  fi
  echo "$VENV/bin/phoenix"
}

case "${1:-serve}" in
  install) install ;;
  serve)
    phoenix=$(install)
    export PHOENIX_HOST="${PHOENIX_HOST:-127.0.0.1}"
    export PHOENIX_PORT="${PHOENIX_PORT:-6006}"
    export PHOENIX_WORKING_DIR="${PHOENIX_WORKING_DIR:-$PWD/.state/phoenix}"
    export PHOENIX_TELEMETRY_ENABLED="${PHOENIX_TELEMETRY_ENABLED:-false}"
    # The page served by `make run` sends spans from this origin (or through trunk's proxy).
    export PHOENIX_ALLOWED_ORIGINS="${PHOENIX_ALLOWED_ORIGINS:-http://127.0.0.1:8080,http://localhost:8080}"
    mkdir -p "$PHOENIX_WORKING_DIR"
    echo "phoenix: UI at http://$PHOENIX_HOST:$PHOENIX_PORT (project: ragtrace); allowed origins: $PHOENIX_ALLOWED_ORIGINS"
    exec "$phoenix" serve
    ;;
  *) echo "usage: scripts/phoenix.sh [install|serve]" >&2; exit 2 ;;
esac
