# Spoorhound — the two commands of the Quick start, and their parts.
# `make run`  : virtualenv + install + SQLite data dir + demo set + `spoorhound serve`
# `make test` : virtualenv + install + ruff + mypy + pytest (SQLite and PostgreSQL)

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DATA   ?= ./data
HOST   ?= 127.0.0.1
PORT   ?= 8000
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test install lint typecheck pytest bench bench-api clean

$(STAMP): pyproject.toml setup.py src/spoorhound/core/_extract_c.c
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# a C compiler builds the extractor's optional accelerator (the tests expect it)
	command -v cc >/dev/null || command -v gcc >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq gcc; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/spoorhound --data-dir $(DATA) init
	$(BIN)/spoorhound --data-dir $(DATA) ingest examples/demo-iocs.csv --source spoorhound-demo --enclave demo
	$(BIN)/spoorhound --data-dir $(DATA) serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/python -m pytest -n 2 -q

test: lint typecheck pytest

bench: install
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/ingest.py

# REST API benchmark (docs/benchmarks.md, "REST API"): needs wrk, installed from Debian
# when missing. BENCH_API_ARGS e.g. "--rows 1000000 --duration 5 --conns 1,8 --workers 2".
BENCH_API_ARGS ?= --rows 1000000 --duration 5 --conns 1,8
bench-api: install
	command -v wrk >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq wrk; }
	$(BIN)/python bench/api.py $(BENCH_API_ARGS)

clean:
	rm -rf $(VENV) $(DATA) .pytest_cache .mypy_cache .ruff_cache
