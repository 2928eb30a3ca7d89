# The two commands a newcomer needs: `make run` serves the page, `make test` runs every
# test. Both install what is missing first (scripts/setup.sh).
SHELL := bash
export PATH := $(CURDIR)/.state/tools/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

.PHONY: run test bench setup phoenix

## Build the page and serve it at http://127.0.0.1:8080 (rebuilds on change).
run:
	scripts/setup.sh
	@echo "ragtrace: open http://127.0.0.1:8080"
	trunk serve

## Lint, then native tests, wasm tests in headless Chromium, and end-to-end tests of the release build.
test:
	scripts/test.sh

## Install (once) and start Arize Phoenix on http://127.0.0.1:6006, accepting the page's spans.
phoenix:
	scripts/phoenix.sh serve

## Print speed figures and the release wasm size.
bench:
	scripts/bench.sh

## Install the tools only.
setup:
	scripts/setup.sh --browser
