# Runxin — the two commands a fresh machine needs: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# Some images set PYTHONDONTWRITEBYTECODE=1: then every run recompiles every test module
# (pytest's assertion rewriting: ~7 s a worker) and every `runxin` subprocess recompiles the
# service. The bytecode caches go to __pycache__/ (ignored by git).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: fonts install demo test lint typecheck unit bench bench-irt bench-load lock clean browser screenshots

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Runxin needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: install fonts
	@bash scripts/demo.sh

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

# Tests run in parallel on every core (pytest-xdist); each test has its own databases. An idle
# worker takes tests from a busy one (worksteal): the few long process tests do not end the run
# on one core.
unit: install fonts
	$(BIN)/pytest -n auto --dist worksteal

test: lint typecheck unit

bench: install
	$(BIN)/python benchmarks/bench_scoring.py

# IRT calibration, EAP and CAT selection beside the published Python packages girth and mirt
# (issue 16; docs/psychometrics.md). They go into their own venv, never into .venv: the
# benchmark runs them there through benchmarks/_irt_competitors.py.
BENCH_VENV := .venv-bench
$(BENCH_VENV)/.installed-stamp:
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet -c requirements.lock numpy scipy \
		girth==0.8.0 mirt==1.2.0
	@touch $@

bench-irt: install $(BENCH_VENV)/.installed-stamp
	$(BIN)/python benchmarks/bench_irt.py --competitor-python $(BENCH_VENV)/bin/python

# Students submitting against the real server on both databases, beside the framework ceiling
# (issue 18; see docs/scaling.md). The PostgreSQL run records its rate for `runxin simulate`.
LOAD_SECONDS ?= 10
LOAD_CONNECTIONS ?= 64
bench-load: install
	$(BIN)/python benchmarks/submit_load.py --db sqlite --seconds $(LOAD_SECONDS) \
		--connections $(LOAD_CONNECTIONS)
	$(BIN)/python benchmarks/submit_load.py --db postgresql --seconds $(LOAD_SECONDS) \
		--connections $(LOAD_CONNECTIONS) --capacity-out benchmarks/capacity.json

# PDF reports embed a font with Chinese glyphs (survey_service/reports/pdf.py): install
# Debian's WenQuanYi Micro Hei where none is found (or set RUNXIN_REPORT_FONT to a font file).
fonts: install
	@$(BIN)/python -c 'from survey_service.reports.pdf import find_report_font as f; f(None)' \
		2>/dev/null || { apt-get update -qq && apt-get install -y -qq fonts-wqy-microhei; }

# The browser tests' browser: Debian's Chromium (and a CJK font, so screenshots show Chinese).
# Playwright (a dev dependency) never downloads one: the tests pass executable_path.
browser: install
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && \
		apt-get install -y -qq chromium fonts-wqy-microhei; }

# Screenshots of every main page (phone-sized student pages, desktop staff pages) for review.
screenshots: browser
	RUNXIN_SCREENSHOTS_DIR=benchmarks/screenshots $(BIN)/pytest -q -p no:cacheprovider \
		tests/browser/test_browser_screenshots.py -k sqlite

# Refresh the pinned versions after changing dependencies in pyproject.toml.
lock: install
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^runxin' > requirements.lock

clean:
	rm -rf $(VENV) $(BENCH_VENV) .mypy_cache .pytest_cache .ruff_cache demo.db* demo-codes.txt
