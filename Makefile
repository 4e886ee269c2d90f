# Two commands do all set-up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DB ?= data/app.duckdb
# DfE's published statistics, loaded into the demo database when present (beside the checkout in development
# and CI; a user downloads them from DfE and loads them with `python -m etl load`).
PUBLISHED ?= ../shared/data
STAMP := $(VENV)/.installed

.PHONY: run test lint demo browser clean bench

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

$(DB): | $(STAMP)
	$(MAKE) demo

demo: $(STAMP)
	$(PY) -m etl demo --db $(DB)
	@if [ -d "$(PUBLISHED)/dfe_ehcp_2025" ]; then \
	  echo "Loading DfE published statistics from $(PUBLISHED)"; \
	  $(PY) -m etl load $(PUBLISHED)/dfe_ehcp_2025 $(PUBLISHED)/dfe_sen2_mi_2014-2022.csv \
	    $(PUBLISHED)/statistical_neighbours.csv $(PUBLISHED)/nhs_chs --db $(DB) >/dev/null; \
	fi

run: $(STAMP) $(DB)
	APP_DB=$(DB) $(PY) -m streamlit run app.py --server.address 127.0.0.1 --server.port 8501 --server.headless true --browser.gatherUsageStats false

# Debian's chromium for the browser tests (installed only when missing).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; }

test: $(STAMP) browser
	$(PY) -m ruff check .
	$(PY) -m pytest -q

lint: $(STAMP)
	$(PY) -m ruff check .

clean:
	rm -rf $(VENV) $(DB)

# The benchmark suite (DESIGN.md §6): `make bench SCALE=region`; figures also written to $(BENCH_JSON).
SCALE ?= la
BENCH_JSON ?= data/bench-$(SCALE).json
bench: $(STAMP)
	$(PY) -m bench --scale $(SCALE) --json $(BENCH_JSON)
