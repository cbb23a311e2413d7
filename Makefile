# Quick start:  make demo   (local broker + worker + sample pages, prints the records)
#               make test   (lint, unit and broker integration tests; starts its own broker)
#               make lint   (ruff check, ruff format --check and mypy on worker/)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: setup demo test lint clean-state

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,scrapy]'
	touch $@

setup: $(VENV)/.installed  ## create .venv with the worker and test dependencies

demo: setup  ## start the local broker, run the worker on the sample pages, print the results
	PATH="$(CURDIR)/$(BIN):$$PATH" deploy/local/demo

test: lint  ## lint, then every test, integration tests against a real broker started for the session
	$(BIN)/pytest

lint: setup  ## ruff (rules, formatting) and mypy (types, see [tool.mypy]) on worker/
	$(BIN)/ruff check worker
	$(BIN)/ruff format --check worker
	$(BIN)/mypy

clean-state:  ## stop the local broker and delete its data and the worker's local state
	deploy/local/kafka reset
	rm -rf .ingest-data
