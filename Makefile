# The two commands of the README, and what they need. Everything lives in .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOG ?= tests/fixtures/cases/plain-maven-surefire-failure/log.txt

.PHONY: install run test lint services

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Analyze a log with the embedded defaults (LOG=path/to/build.log; - reads stdin).
run: $(STAMP)
	$(BIN)/recoverops analyze $(LOG)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

services:
	bash scripts/services.sh

test: $(STAMP) services lint
	$(BIN)/pytest -p no:cacheprovider
