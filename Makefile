# Two commands do all set-up: `make run` and `make test` (`make check` is the fast subset of `make test`).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DB ?= data/app.duckdb
# The public statistics loaded into the demo database: DfE's and NHS England's files bundled in the repository
# (data/published, Open Government Licence v3.0). `make demo PUBLISHED=DIR` loads a newer download instead
# (every .csv, .csv.gz and .xlsx under DIR); `python -m etl published update DIR` replaces the bundled copy.
PUBLISHED ?= data/published
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
# pytest-xdist workers for the fast subset (make check, and the first half of make test)
WORKERS ?= 2

.PHONY: run test check lint demo browser clean bench

# runtime requirements (make run)
$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

# … and the test and check tools (make test, make check, make lint)
$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(DEV_STAMP)

$(DB): | $(STAMP)
	$(MAKE) demo

demo: $(STAMP)
	$(PY) -m etl demo --db $(DB)
	@if [ -d "$(PUBLISHED)" ]; then \
	  echo "Loading the public statistics (DfE, NHS England) from $(PUBLISHED)"; \
	  $(PY) -m etl published load --dir $(PUBLISHED) --db $(DB) >/dev/null; \
	fi

run: $(STAMP) $(DB) browser
	APP_DB=$(DB) $(PY) -m streamlit run app.py --server.address 127.0.0.1 --server.port 8501 --server.headless true --browser.gatherUsageStats false

# Debian's chromium: the browser tests, and the board pack's PDF (`make run`, `python -m kpi pack`); installed only when missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; }

# Everything: before a merge, in CI (.ci/run), after changing a loader, a page or the data (at most 15 minutes).
# The whole suite in two runs: the fast subset on two workers, then the slow and browser tests one at a time
# (the 20-session serving test measures a live server and must not share the machine with the rest).
test: $(DEV_STAMP) browser
	$(PY) -m ruff check .
	$(PY) -m pytest -q -n $(WORKERS) -m "not slow and not browser"
	$(PY) -m pytest -q -m "slow or browser"

# The fast subset while working (under 2 minutes): unit, loader, engine and CLI tests on two workers; no browser,
# none of the slow ones (serving, bench, fuzzing, pages on the whole published data).
check: $(DEV_STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest -q -n $(WORKERS) -m "not slow and not browser"

lint: $(DEV_STAMP)
	$(PY) -m ruff check .

clean:
	rm -rf $(VENV) $(DB) build *.egg-info

# The benchmark suite (targets and figures: docs/performance.md): `make bench SCALE=region`; figures also written to $(BENCH_JSON).
SCALE ?= la
BENCH_JSON ?= data/bench-$(SCALE).json
bench: $(STAMP)
	$(PY) -m bench --scale $(SCALE) --json $(BENCH_JSON)
