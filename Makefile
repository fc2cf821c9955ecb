# homelab-secrets: developer entry points.
#
#   make demo    set up .venv, then run the main job on examples/
#   make test    set up .venv, then run every gate (ruff, mypy, pytest incl. zizmor,
#                actionlint and the actions under act)
#   make lint    the static gates only (fast)
#   make bench   benchmarks (not tests): prints tables
#   make lock    regenerate requirements/*.txt from pyproject.toml (UPGRADE=1 to upgrade)
#
# Setup needs only a Python >= 3.10 with venv and pip, and PyPI: pip installs uv
# into .venv from requirements/uv.lock.txt, uv installs everything else from
# requirements/dev.lock.txt, all with --require-hashes. It is idempotent: it reruns
# only when a lock file or pyproject.toml is newer than .venv's stamp.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.homelab-secrets-setup
# pytest arguments; e.g. `make test PYTEST_ARGS="-k gha -x"`
PYTEST_ARGS ?=
# Use every core for the test suite (pytest-xdist); the e2e tests share one
# prebuilt action venv, guarded by the bootstrap's own lock.
PYTEST_WORKERS ?= auto

export PIP_DISABLE_PIP_VERSION_CHECK := 1
export UV_PYTHON_DOWNLOADS := never

.PHONY: help setup demo test lint bench lock clean

help:
	@sed -n '3,9p' $(firstword $(MAKEFILE_LIST)) | sed 's/^# \{0,1\}//'

# ---------------------------------------------------------------- setup
setup: $(STAMP)

$(STAMP): requirements/uv.lock.txt requirements/dev.lock.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
	  || { echo "make: $(PYTHON) is older than Python 3.10; run e.g. make PYTHON=python3.12" >&2; exit 1; }
	@if [ ! -x $(BIN)/python ] || ! $(BIN)/python -c '' 2>/dev/null; then \
	  echo "creating $(VENV) with $$($(PYTHON) -c 'import sys; print(sys.executable)')"; \
	  rm -rf $(VENV); $(PYTHON) -m venv $(VENV); \
	fi
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements/uv.lock.txt
	$(UV) pip install --quiet --python $(BIN)/python --require-hashes --compile-bytecode -r requirements/dev.lock.txt
	$(UV) pip install --quiet --python $(BIN)/python --no-deps --editable .
	@touch $@

# ---------------------------------------------------------------- demo
# The demo is a list of steps run in order; add one by appending a target name
# to DEMO_STEPS and writing its recipe below (it runs inside examples/).
DEMO_STEPS := demo-doctor demo-sops
.PHONY: $(DEMO_STEPS)

demo: $(STAMP)
	@for step in $(DEMO_STEPS); do $(MAKE) --no-print-directory $$step; done

demo-doctor: $(STAMP)
	@echo "== homelab-secrets doctor (in examples/, with its DEMO-ONLY age key file)"
	cd examples && SOPS_AGE_KEY_FILE=keys/demo-age-key.txt ../$(BIN)/homelab-secrets doctor

demo-sops: $(STAMP)
	@echo "== SOPS: decrypt, encrypt and the CI job on examples/ (DEMO-ONLY key)"
	examples/demo.sh

# ---------------------------------------------------------------- gates
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -q -p no:cacheprovider tests/test_workflow_security.py

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# Start-up is part of what is measured: compile the bytecode first, as any
# first run would (this matters where PYTHONDONTWRITEBYTECODE is set).
bench: $(STAMP)
	$(BIN)/python -m compileall -q src
	$(BIN)/python benchmarks/sops_bench.py
	$(BIN)/python benchmarks/bootstrap_bench.py
	$(BIN)/python benchmarks/action_bench.py
	$(BIN)/python benchmarks/fetch_bench.py
	$(BIN)/python benchmarks/sync_bench.py
	$(BIN)/python benchmarks/scan_bench.py

# ---------------------------------------------------------------- lock
COMPILE = $(UV) pip compile --quiet --generate-hashes --universal --python-version 3.10 \
	--custom-compile-command "make lock" $(if $(UPGRADE),--upgrade)

lock: $(STAMP)
	$(COMPILE) pyproject.toml -o requirements/lock.txt
	$(COMPILE) --extra dev --constraints requirements/lock.txt pyproject.toml -o requirements/dev.lock.txt
	$(COMPILE) requirements/uv.in -o requirements/uv.lock.txt

clean:
	rm -rf $(VENV) .tmp .pytest_cache .mypy_cache .ruff_cache .hypothesis
