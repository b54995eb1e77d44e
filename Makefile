# Two commands on a fresh machine:
#   make build   set up .venv, generate demo data when data/raw is empty, build the warehouse
#   make test    lint (ruff, sqlfluff), pytest (incl. an end-to-end dbt build), dbt tests
# Everything the project needs is installed by this file from requirements.lock.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

export DBT_PROFILES_DIR := $(CURDIR)/profiles
export LIFECYCLE_RAW_DIR ?= $(CURDIR)/data/raw
export LIFECYCLE_DB ?= $(CURDIR)/warehouse/lifecycle.duckdb
export LIFECYCLE_SERVING_DB ?= $(CURDIR)/warehouse/serving.duckdb
export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := False

SCALE ?= demo
SEED ?= 42
DBT_ARGS ?=
SCALES ?= demo s m l
BENCH_DATA ?= $(CURDIR)/bench-data

.PHONY: help setup data check-raw build validate rollback dashboard test lint pytest bench bench-publish lock docs clean sources

help:
	@echo "make build    set up .venv, generate demo data if $(LIFECYCLE_RAW_DIR) is empty, build, validate, publish"
	@echo "make validate run the Great Expectations suites on the working warehouse"
	@echo "             (validation.json, validation.html (opens offline) and Data Docs in <warehouse dir>/<warehouse name>/reports)"
	@echo "make rollback put the previously published serving file back"
	@echo "make docs     dbt docs of the working warehouse, with the single-file site static_index.html"
	@echo "make dashboard start the dashboard on the serving copy (PORT=8501; http://127.0.0.1:PORT)"
	@echo "make test     ruff + sqlfluff + pytest (unit, generator, importer, end-to-end dbt build)"
	@echo "make bench    full-build time and memory at SCALES='demo s m l' vs the floor script (and CLV, exports)"
	@echo "make bench-publish  publish time and memory of LIFECYCLE_DB to DuckDB and to PostgreSQL (a throwaway cluster)"
	@echo "variables: SCALE=demo|s|m|l SEED=42 LIFECYCLE_RAW_DIR=... LIFECYCLE_DB=... DBT_ARGS='--vars ...'"

$(STAMP): requirements.lock pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 is required (python3.11 not found)"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required, found " + sys.version)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

setup: $(STAMP)

# Demo data only when the raw directory holds no Parquet: never overwrite a user's own data.
data: $(STAMP)
	@if [ -z "$$(find "$(LIFECYCLE_RAW_DIR)" -name '*.parquet' -print -quit 2>/dev/null)" ]; then \
		echo "No raw data in $(LIFECYCLE_RAW_DIR): generating the $(SCALE) data set (seed $(SEED))"; \
		$(BIN)/lifecycle generate --scale $(SCALE) --seed $(SEED) --out "$(LIFECYCLE_RAW_DIR)"; \
	else echo "Using the raw data in $(LIFECYCLE_RAW_DIR)"; fi

check-raw: data
	$(BIN)/lifecycle check-raw --raw-dir "$(LIFECYCLE_RAW_DIR)"

# Write-audit-publish: build into the working warehouse (dbt models, contracts, data and unit
# tests), audit the marts with the Great Expectations suites, and only then publish them to the
# serving file BI tools open. Any failure stops here and leaves the serving copy untouched.
# `lifecycle dbt` runs dbt with the warehouse's own target and log paths, and validate/publish read
# and write the artefacts of the --db they are given (lifecycle/paths.py: artefacts), so two
# warehouses never overwrite each other's run results or validation reports.
build: check-raw
	$(BIN)/lifecycle dbt build $(DBT_ARGS)
	$(BIN)/lifecycle validate --db "$(LIFECYCLE_DB)"
	$(BIN)/lifecycle publish --db "$(LIFECYCLE_DB)" --serving "$(LIFECYCLE_SERVING_DB)"
	@echo "Working warehouse: $(LIFECYCLE_DB); published for BI: $(LIFECYCLE_SERVING_DB) (schema 'marts')"
	@echo "Its dbt target, logs and validation reports:" && $(BIN)/lifecycle artefacts --db "$(LIFECYCLE_DB)"

validate: $(STAMP)
	$(BIN)/lifecycle validate --db "$(LIFECYCLE_DB)"

rollback: $(STAMP)
	$(BIN)/lifecycle publish --db "$(LIFECYCLE_DB)" --serving "$(LIFECYCLE_SERVING_DB)" --rollback

PORT ?= 8501
dashboard: $(STAMP)
	$(BIN)/lifecycle dashboard --serving "$(LIFECYCLE_SERVING_DB)" --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check lifecycle tests scripts
	tmp=$$(mktemp -d) && LIFECYCLE_DB=$$tmp/lint.duckdb DBT_TARGET_PATH=$$tmp/target DBT_LOG_PATH=$$tmp/logs \
		$(BIN)/sqlfluff lint models analyses --processes 2 --disable-progress-bar

pytest: $(STAMP)
	$(BIN)/pytest -q

test: lint pytest

# Full build (and validate, publish) at each of SCALES against the floor script: reports/bench.json.
bench: $(STAMP)
	$(BIN)/python scripts/bench_build.py --scales "$(SCALES)" --data-root "$(BENCH_DATA)"
	$(BIN)/python scripts/bench_clv.py
	$(BIN)/python scripts/bench_exports.py

# Publish of the built warehouse LIFECYCLE_DB to the serving file and to PostgreSQL: reports/bench_publish.json.
bench-publish: $(STAMP)
	$(BIN)/python scripts/bench_publish.py --db "$(LIFECYCLE_DB)"

# Re-resolve and pin every dependency (run after changing pyproject.toml).
lock:
	rm -rf /tmp/lifecycle-lock && $(PYTHON) -m venv /tmp/lifecycle-lock
	/tmp/lifecycle-lock/bin/pip install --quiet -e ".[dev]"
	{ echo "# Pinned versions tested with this project (Python 3.11). Regenerate with: make lock"; \
	  /tmp/lifecycle-lock/bin/pip freeze --all --exclude-editable | grep -v -E '^(pip|lifecycle)==' | sort -f; } > requirements.lock

sources: $(STAMP)
	$(BIN)/python scripts/write_sources_yml.py

# The catalog of the working warehouse, in its own docs target (never the build's run results),
# and the single-file site that opens offline from disk (static_index.html: no server needed).
docs: $(STAMP)
	$(BIN)/lifecycle dbt docs generate --static
	@echo "Docs site (one file, opens offline): $$($(BIN)/lifecycle artefacts --db "$(LIFECYCLE_DB)" | $(BIN)/python -c 'import json, sys; print(json.load(sys.stdin)["docs"])')/static_index.html"

clean:
	rm -rf target logs warehouse dbt_packages .pytest_cache .ruff_cache
