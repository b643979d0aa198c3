# Everything a fresh machine needs is set up here: only Python and pip are assumed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.cfinval-installed

.PHONY: test demo lint typecheck clean bench layer

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check cfinval tests bench
	$(BIN)/ruff format --check cfinval tests bench

typecheck: $(STAMP)
	$(BIN)/mypy --strict cfinval

test: lint typecheck
	$(BIN)/python -m pytest

demo: $(STAMP)
	$(BIN)/python -m cfinval.testing.demo

# cfinval vs boto3 and aiobotocore, over HTTPS, in one run (fresh venvs under bench/_work/; needs
# the openssl command for the test certificates); writes bench/RESULTS.md. Quick check: bench/run.py --quick
bench:
	$(PYTHON) bench/run.py

# The AWS Lambda layer zip (python/ prefix, runtime dependencies only) under build/.
layer:
	$(PYTHON) bench/layer.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage build dist bench/_work
