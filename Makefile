# Two commands for a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB ?= kb.db
PORT ?= 8001

.PHONY: serve test build validate bench clean chromium bench-tools

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

test: $(BIN)/kb chromium
	$(BIN)/python -m pytest

# The browser tests drive Debian's Chromium (Playwright's own browser download is not used).
chromium:
	@command -v chromium >/dev/null || { echo "installing chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# The serve benchmark drives Debian's wrk at `kb serve`, and nginx in front of two replicas.
bench-tools:
	@command -v wrk >/dev/null && command -v nginx >/dev/null || { \
	  echo "installing wrk and nginx for the serve benchmark"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx; }

bench: $(BIN)/kb bench-tools
	$(BIN)/python bench/build_bench.py
	$(BIN)/python bench/parse_bench.py
	$(BIN)/python bench/ingest_bench.py
	$(BIN)/python bench/export_bench.py
	$(BIN)/python bench/match_bench.py
	$(BIN)/python bench/evidence_bench.py
	$(BIN)/python bench/serve_bench.py

clean:
	rm -rf $(VENV) $(DB) .pytest_cache
