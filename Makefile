# kubelantern — `make run` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 4477
ARGS ?=

.PHONY: install frontend system-deps run test soak lint typecheck pytest bench bench-quick bench-ui50k clean

# The venv with kubelantern (editable) and the dev tools; re-made when pyproject changes.
$(BIN)/kubelantern: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

frontend/node_modules/.package-lock.json: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

# The SPA, built into the package's static folder.
src/kubelantern/web/static/index.html: frontend/node_modules/.package-lock.json $(shell find frontend/src frontend/index.html frontend/vite.config.ts frontend/tsconfig.json 2>/dev/null)
	cd frontend && npm run build

frontend: src/kubelantern/web/static/index.html

install: $(BIN)/kubelantern frontend

# Debian packages the tests drive: headless Chromium for the UI tests.
system-deps:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; fi; }
	@command -v kubectl >/dev/null || echo "warning: kubectl not found; the kubectl tests will fail and say so"

run: install
	$(BIN)/kubelantern serve --host $(HOST) --port $(PORT) $(ARGS)

lint: $(BIN)/kubelantern
	$(BIN)/ruff check src tests bench hatch_build.py
	$(BIN)/ruff format --check src tests bench hatch_build.py

typecheck: $(BIN)/kubelantern
	$(BIN)/mypy

pytest: install system-deps
	$(BIN)/pytest -q -ra

test: install system-deps lint typecheck pytest

# The long fault-injection and load runs (pytest -m soak: thousands of streams and idle
# WebSockets through one process, full upstream timeouts); figures are printed (-s).
soak: install system-deps
	$(BIN)/pytest -q -ra -s -m soak tests

# The proxy benchmark (artifacts/bench/proxy.json + proxy.txt, ~15 min) and the log viewer's.
bench: install
	$(BIN)/python -m bench

# The proxy benchmark with fewer rounds and megabytes (~4 min).
bench-quick: install
	$(BIN)/python -m bench.proxy --quick

# The pod list with 50,000 pods in Chromium, paged vs unpaged (artifacts/bench/ui50k.json + .txt).
bench-ui50k: install system-deps
	$(BIN)/python -m bench.ui50k

clean:
	rm -rf $(VENV) frontend/node_modules src/kubelantern/web/static/assets src/kubelantern/web/static/index.html
