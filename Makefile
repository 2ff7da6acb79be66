# Set-up and the two everyday commands: `make run` (build the graph, then serve it) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run build test install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

build: $(STAMP)
	$(BIN)/swapgraph build

run: build
	$(BIN)/swapgraph serve

test: $(STAMP)
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) data
