# salesperf: two commands. `make report` renders last month's reports of the demo company; `make test` runs every test.
# Needs only Python 3.11 and pip: the first target creates .venv and installs the pinned dependencies.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PERIOD ?= last-month
LANG_ ?= en
WORKERS ?= 2

.PHONY: report test bench lint env demo clean

report: $(STAMP)
	$(BIN)/salesperf demo --out data/demo
	$(BIN)/salesperf run --period $(PERIOD) --catalog data/demo/catalog.yml --lang $(LANG_) --workers $(WORKERS)

test: $(STAMP)
	$(BIN)/salesperf demo --out data/demo
	$(BIN)/pytest -q tests
	$(BIN)/pytest -q --nbval-lax --nbval-current-env -p no:cacheprovider notebooks

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

lint: $(STAMP)
	$(BIN)/ruff check salesperf tests benchmarks

env: $(STAMP)

# Bytecode is compiled once at install: every report kernel then imports its libraries in ~3 s instead of ~20 s
# where Python may not write bytecode itself (PYTHONDONTWRITEBYTECODE, read-only installs).
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip uv
	$(BIN)/uv pip install --python $(BIN)/python -q --compile-bytecode -c requirements.lock -e '.[dev]'
	$(BIN)/python -m compileall -q salesperf
	touch $(STAMP)

lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -q -o requirements.lock

clean:
	rm -rf reports/20* reports/index.html data/demo
