# Every target has a `## description`; `make` alone lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
ARCHIVE ?= data/sample
OUT ?= reports

.PHONY: help install report build test test-fast lint format clean

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]' 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
	@# Outputs JupyterLab saves into a notebook are stripped before they reach a commit.
	@if git rev-parse --git-dir > /dev/null 2>&1; then $(BIN)/nbstripout --install --attributes .gitattributes; fi
	@touch $(STAMP)

install: $(STAMP) ## create .venv, install the project with its dev tools and the nbstripout git filter

report: $(STAMP) ## run every notebook on the sample (ARCHIVE=..., OUT=...) into an HTML report
	@$(BIN)/weeknotes report $(ARCHIVE) --out $(OUT) --quiet

build: $(STAMP) ## build the tables of ARCHIVE into data/processed
	$(BIN)/weeknotes build $(ARCHIVE) --out data/processed

test: $(STAMP) ## run the whole test suite (real-archive tests need ../shared/corpora)
	$(BIN)/python -m pytest

test-fast: $(STAMP) ## the tests that load no statistical model, run no notebook and start no cluster
	$(BIN)/python -m pytest -m "not slow"

lint: $(STAMP) ## ruff check, ruff format --check and mypy
	$(BIN)/ruff check weeknotes_analysis tests benchmarks
	$(BIN)/ruff format --check weeknotes_analysis tests benchmarks
	$(BIN)/mypy weeknotes_analysis

format: $(STAMP) ## format the code with ruff
	$(BIN)/ruff format weeknotes_analysis tests benchmarks
	$(BIN)/ruff check --fix weeknotes_analysis tests benchmarks

clean: ## remove build output (keeps .venv)
	rm -rf data/processed reports .pytest_cache .mypy_cache .ruff_cache
