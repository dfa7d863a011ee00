# dlparity: `make test` and `make report` set up .venv on first use, then run.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export KERAS_BACKEND := tensorflow
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONHASHSEED := 0

.PHONY: help setup test test-slow report bench lint clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstall only when pyproject.toml changes; the stamp makes repeated runs instant.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[frameworks,reports,dev,matrix]'
	@touch $(STAMP)

setup: $(STAMP)  ## create .venv and install (idempotent)

test: $(STAMP)  ## run the test suite (slow runs excluded: full MNIST trainings, whole-network numerical gradients)
	$(PY) -m pytest -m "not slow" -q

test-slow: $(STAMP)  ## run only the slow tests
	$(PY) -m pytest -m slow -q

report: $(STAMP)  ## every comparison into reports/ (keeps the full MNIST runs on disk; FULL=1 reruns them)
	$(PY) -m comparisons report $(if $(FULL),--full)

bench: $(STAMP)  ## speed and memory benchmarks into reports/benchmarks.*
	$(PY) -m comparisons bench --out reports

lint: $(STAMP)  ## ruff
	$(PY) -m ruff check scratch reference comparisons tests dlparity examples

clean:  ## remove .venv and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache
