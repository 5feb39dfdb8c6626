# The README names these targets. Each creates/updates the virtualenv it needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
GOAL ?= Find 20 coffee shops in Manchester

.PHONY: install serve run test lint typecheck unit bench import demo clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## The main job on the embedded default: import the open data once, then serve the app on :8000.
serve: $(STAMP)
	$(BIN)/wyshbone db import --if-missing
	$(BIN)/wyshbone serve

## The same job from the command line: plan and run one goal with live progress.
run: $(STAMP)
	$(BIN)/wyshbone db import --if-missing
	$(BIN)/wyshbone run "$(GOAL)" --yes

import: $(STAMP)
	$(BIN)/wyshbone db import

demo: $(STAMP)
	$(BIN)/wyshbone demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest tests/unit -q

## Everything CI checks: lint, types, the whole test suite.
test: lint typecheck
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
