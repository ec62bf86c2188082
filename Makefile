# Two commands for a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB ?= kb.db
PORT ?= 8001

.PHONY: serve test build validate bench clean

$(BIN)/kb: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

validate: $(BIN)/kb
	$(BIN)/kb validate

build: validate
	$(BIN)/kb build $(DB)

serve: build
	$(BIN)/kb serve $(DB) --port $(PORT)

test: $(BIN)/kb
	$(BIN)/python -m pytest

bench: $(BIN)/kb
	$(BIN)/python bench/build_bench.py

clean:
	rm -rf $(VENV) $(DB) .pytest_cache
