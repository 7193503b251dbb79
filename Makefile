# The two commands of the README, and what they need. Everything lives in .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOG ?= tests/fixtures/cases/plain-maven-surefire-failure/log.txt

.PHONY: install run analyze test lint services

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## The whole system with its embedded defaults: local Ray, the API on :8000, the workers, the
## dashboard on :8501. Ctrl-C stops it.
run: $(STAMP)
	$(BIN)/recoverops up

## Analyze one log offline (LOG=path/to/build.log; - reads stdin).
analyze: $(STAMP)
	$(BIN)/recoverops analyze $(LOG)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

services:
	bash scripts/services.sh

test: $(STAMP) services lint
	$(BIN)/pytest -p no:cacheprovider
