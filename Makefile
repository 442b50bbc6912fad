# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TESTSTAMP := $(VENV)/.installed-test
export JAX_PLATFORMS ?= cpu
export XLA_FLAGS ?= --xla_force_host_platform_device_count=1

.PHONY: demo demo-quick test lint clean venv

# The suite runs as a few pytest sessions, each with two fresh workers: a worker that lived through the whole
# suite (thousands of XLA compilations in one process) crashed inside XLA's CPU compiler late in several CI runs.
# A crashed worker fails its test at once and is not replaced (--max-worker-restart=0): pytest-xdist can hang
# forever redistributing a crashed worker's files under --dist loadfile. The sessions share one fresh on-disk XLA
# compilation cache (tests/conftest.py says why).
PYTEST := $(BIN)/python -m pytest -n 2 --dist loadfile --max-worker-restart=0 --durations=15
TEST_GROUPS := tests/pinn,tests/contracts tests/generative \
	tests,--ignore=tests/pinn,--ignore=tests/contracts,--ignore=tests/generative

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(TESTSTAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@ $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/pinngen run burgers --out runs/demo

demo-quick: $(STAMP)
	$(BIN)/pinngen run burgers --out runs/demo-quick --set train.max_train_seconds=120

test: $(TESTSTAMP)
	$(BIN)/ruff check src tests bench
	ulimit -s 65536 2>/dev/null || true; rc=0; \
	export JAX_COMPILATION_CACHE_DIR=$$(mktemp -d); \
	for group in $(TEST_GROUPS); do \
	  echo "== pytest $$group" | tr , ' '; \
	  $(PYTEST) $$(echo $$group | tr , ' ') || rc=1; \
	done; rm -rf "$$JAX_COMPILATION_CACHE_DIR"; exit $$rc

lint: $(TESTSTAMP)
	$(BIN)/ruff check src tests bench

clean:
	rm -rf $(VENV) runs
