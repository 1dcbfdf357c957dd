# Two entry points: `make demo` and `make test`. Both create .venv when missing and install pinned
# dependencies; CPU torch is installed first so pip never pulls a multi-GB CUDA build.
# Override the torch spec for a GPU machine, e.g.: make demo TORCH_SPEC="torch==2.13.0 --index-url ..."

PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
DEMO_OUT ?= demo_out
BIN := $(VENV)/bin

.PHONY: demo test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.core-installed: $(BIN)/python pyproject.toml requirements.lock
	$(BIN)/python -m pip install --quiet $(TORCH_SPEC)
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.core-installed requirements-test.lock
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-test.lock
	touch $@

demo: $(VENV)/.core-installed
	$(BIN)/synthtrust demo --out $(DEMO_OUT)

test: $(VENV)/.test-installed
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q
