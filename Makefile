# LeadTrack: `make run` serves the app with a demo organization; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-slow lint format bench stop install clean-var sbom outdated

$(PY):
	$(PYTHON) -m venv $(VENV)

# Install exactly what CI tested: hash-pinned lock file, then the project itself.
$(STAMP): $(PY) requirements.lock pyproject.toml
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	bin/run

test: $(STAMP)
	$(VENV)/bin/pytest -m "not slow"

# Slow reliability rows (kill -9 of a worker, two beats, backup drill); exit 5 = none collected.
test-slow: $(STAMP)
	$(VENV)/bin/pytest -m slow || [ $$? -eq 5 ]

# Benchmarks, never part of `make test`: sizes and durations come from BENCH_* (bench/README.md).
# wrk from Debian when it can be installed; otherwise a bounded Python load generator.
bench: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 \
	     || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null)) \
	     || echo "wrk could not be installed: using the Python load generator"; \
	  else echo "wrk is not installed and this is not root: using the Python load generator"; fi; }
	$(PY) -m bench.run

# S2: CycloneDX 1.5 SBOM of the installed environment, hashes from requirements.lock.
sbom: $(STAMP)
	$(PY) -m leadtrack.sbom --output var/sbom.json

# S2 freshness needs the package index: a report for CI or a person, never a test gate.
outdated: $(STAMP)
	$(PY) -m pip list --outdated --format=columns

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

stop: $(STAMP)
	$(PY) -m leadtrack.embedded stop

clean-var: stop
	rm -rf var
