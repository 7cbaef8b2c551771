# The two set-up commands (README): `make run` and `make test`. Each creates .venv with
# Python 3.11+ and installs regwatch into it first (only when pyproject.toml changed).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test demo bench lint clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("regwatch needs Python 3.11+, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

run: $(VENV)/.installed  ## the daily job against the live sources, SQLite store in ./regwatch.db
	$(BIN)/regwatch run

test: $(VENV)/.installed  ## every check: ruff, mypy (configured in pyproject.toml), the test suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n auto --maxprocesses=4 --dist worksteal

demo: $(VENV)/.installed  ## the offline tour, in ./demo
	$(BIN)/regwatch demo --dir demo

bench: $(VENV)/.installed
	$(BIN)/python bench/crawl.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
