# Everything a fresh machine needs is set up here: only Python and pip are assumed.
#
#   make test     ruff, mypy --strict and pytest in .venv (created on first use)
#   make matrix   ruff and mypy once, then pytest on each Python of MATRIX found (own venvs)
#   make demo     the embedded fake CloudFront: a listing and the deploy step (package only)
#   make layer    the AWS Lambda layer zip, for $(PYTHON) (make layer PYTHON=python3.12),
#                 its dependencies pinned with hashes in bench/layer.lock
#   make layer-lock  resolve the layer's dependencies again and rewrite bench/layer.lock
#   make bench    cfinval vs boto3, writes bench/RESULTS.md
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# All venvs share pip's one download/wheel cache (pip's default, or PIP_CACHE_DIR if set).
PIP := $(BIN)/python -m pip --quiet --disable-pip-version-check
RUNTIME_STAMP := $(VENV)/.cfinval-runtime
STAMP := $(VENV)/.cfinval-test

# make matrix: these versions, each from the newest pyenv install of it (else python3.X on
# PATH, if that runs), each in its own .venv-X.Y.
MATRIX ?= 3.10 3.11 3.12 3.13
PYENV_VERSIONS ?= $(or $(PYENV_ROOT),$(HOME)/.pyenv)/versions

# The interpreter itself, not a launcher: what $(PYTHON) reports as sys.executable. A pyenv
# shim for a version that is not the selected one (python3.12 while 3.11 is active) refuses to
# run at all; then the newest pyenv install providing that command is used.
find_python = $(or $(shell $(1) -c 'import sys; print(sys.executable)' 2>/dev/null),$(shell ls -d $(PYENV_VERSIONS)/*/bin/$(notdir $(1)) 2>/dev/null | sort -V | tail -n 1))
# Resolved once, on first use.
PY = $(eval PY := $(or $(call find_python,$(PYTHON)),$(error no Python interpreter found for PYTHON=$(PYTHON))))$(PY)

.PHONY: test pytest matrix demo lint typecheck clean bench layer layer-lock

# The package and its runtime dependencies only (what `make demo` needs).
$(RUNTIME_STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e .
	touch $@

# Plus the test extra (pytest, the botocore/boto3/AWS CLI oracles, mypy, ruff, build).
$(STAMP): $(RUNTIME_STAMP)
	$(PIP) install -e '.[test]'
	touch $@

lint: $(STAMP)
	$(BIN)/ruff check cfinval tests bench
	$(BIN)/ruff format --check cfinval tests bench

typecheck: $(STAMP)
	$(BIN)/mypy --strict cfinval

test: lint typecheck pytest

# Both cores: pytest-xdist runs the test files on two workers (a file stays on one worker).
PYTEST_WORKERS ?= 2

pytest: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile

matrix: lint typecheck
	@ran=; failed=; missing=; \
	for v in $(MATRIX); do \
	  py=$$(ls -d $(PYENV_VERSIONS)/$$v.*/bin/python$$v 2>/dev/null | sort -V | tail -n 1); \
	  if [ -z "$$py" ] && command -v python$$v >/dev/null 2>&1; then \
	    py=$$(python$$v -c 'import sys; print(sys.executable)' 2>/dev/null); \
	  fi; \
	  if [ -z "$$py" ]; then \
	    echo "matrix: Python $$v not found (looked in $(PYENV_VERSIONS) and PATH)"; \
	    missing="$$missing $$v"; continue; \
	  fi; \
	  echo "matrix: Python $$v: $$py in .venv-$$v"; \
	  if $(MAKE) --no-print-directory pytest VENV=.venv-$$v PYTHON=$$py; then \
	    ran="$$ran $$v"; else failed="$$failed $$v"; fi; \
	done; \
	echo "matrix: passed:$${ran:- none}; failed:$${failed:- none}; not found:$${missing:- none}"; \
	test -z "$$failed" && test -n "$$ran"

demo: $(RUNTIME_STAMP)
	$(BIN)/python -m cfinval.testing.demo

# cfinval vs boto3, aiobotocore and aws_sdk_cloudfront, over HTTPS, in one run: the headline is a
# Lambda-shaped cold start on Python 3.12, 3.13 and 3.11 from pyenv or the PATH (fresh venvs under
# bench/_work/; needs the openssl command for the test certificates); writes bench/RESULTS.md.
# Quick check: bench/run.py --quick
bench:
	$(PY) bench/run.py

# The AWS Lambda layer zip (python/ prefix, runtime dependencies only) under build/.
layer:
	$(PY) bench/layer.py

# bench/layer.lock: pyproject.toml's dependencies resolved by pip for each Python the
# classifiers name (each by an interpreter of that version), pinned with their wheels' hashes.
layer-lock:
	$(PY) bench/layer.py --write-lock

clean:
	rm -rf $(VENV) .venv-3.* .pytest_cache .mypy_cache .ruff_cache .coverage build dist bench/_work
