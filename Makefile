# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TESTSTAMP := $(VENV)/.installed-test
export JAX_PLATFORMS ?= cpu
export XLA_FLAGS ?= --xla_force_host_platform_device_count=1

.PHONY: demo test lint clean venv

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

test: $(TESTSTAMP)
	$(BIN)/ruff check src tests bench
	ulimit -s 65536 2>/dev/null || true; $(BIN)/python -m pytest -n 2 --dist loadfile

lint: $(TESTSTAMP)
	$(BIN)/ruff check src tests bench

clean:
	rm -rf $(VENV) runs
