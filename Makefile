# The two set-up commands of the README, and the checks CI runs.
# Needs only Python 3.11+ (as `python3`, or PYTHON=...) and make.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint check clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "pmsync needs Python 3.11 or newer; run make with PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## Sync examples/ into the embedded local tracker and print the summary.
demo: $(STAMP)
	$(BIN)/pmsync --config config.example.toml --log-level warning sync

## Run the whole test suite.
test: $(STAMP)
	$(BIN)/pytest

## Linters and type checks, as CI runs them.
lint: $(STAMP)
	$(BIN)/ruff check syncer connectors rules tests bench
	$(BIN)/ruff format --check syncer connectors rules tests bench
	$(BIN)/mypy --strict syncer connectors rules
	$(BIN)/hadolint Dockerfile

check: test lint

clean:
	rm -rf $(VENV) .pmsync .pytest_cache .mypy_cache .ruff_cache
