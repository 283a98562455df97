# The whole set-up on a fresh machine with only Python: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3.13 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint format services-start services-stop services-status browser-deps doc-deps bench clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt ".[dev]"
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)  ## migrate, load demo data once, run web + worker + beat; Ctrl-C stops everything
	$(BIN)/python scripts/run.py

test: $(STAMP) browser-deps doc-deps  ## ruff + the whole pytest suite against real PostgreSQL and Redis
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python scripts/pytest_run.py $(PYTEST_ARGS)

test-fast: $(STAMP)  ## skip browser and slow tests (local iterations)
	$(BIN)/python scripts/pytest_run.py -m "not browser and not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

browser-deps:  ## Debian's chromium and a CJK font for screenshots (never `playwright install`)
	@sh scripts/browser_deps.sh

doc-deps:  ## Pango, Noto CJK fonts and poppler-utils for official documents as PDF (WeasyPrint)
	@sh scripts/doc_deps.sh

services-start: $(STAMP)
	$(BIN)/python scripts/devservices.py start
services-stop: $(STAMP)
	$(BIN)/python scripts/devservices.py stop
services-status: $(STAMP)
	$(BIN)/python scripts/devservices.py status

bench: $(STAMP)  ## the benchmark at a million tips (BENCH_ARGS="--quick" for a smoke run)
	@command -v wrk >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null 2>&1 \
	  || { echo "bench needs wrk (apt-get install wrk)"; exit 1; }
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var/static var/test-media
