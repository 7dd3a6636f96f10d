# The front door: `make run` starts the worker on the embedded default configuration, `make test` runs
# every test. Each sets up what is missing first: the virtual environment in $(VENV), and onequeue
# installed into it again whenever pyproject.toml has changed since the last install.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: run test quick install clean-venv

run: $(VENV)/.installed
	$(BIN)/onequeue run

test: $(VENV)/.installed-test
	$(BIN)/pytest $(PYTEST_ARGS)

# The quick loop while developing: everything but the end-to-end tests marked slow.
quick: $(VENV)/.installed-test
	$(BIN)/pytest -m "not slow" $(PYTEST_ARGS)

install: $(VENV)/.installed-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

clean-venv:
	rm -rf $(VENV)
