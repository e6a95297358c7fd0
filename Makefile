# Two commands on a fresh machine: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run reset test calendar bench clean tools connector soak

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/dfc-hub serve --demo

# Start over: empty the store (everything in it is lost), load the demo afresh, serve.
reset: $(STAMP)
	$(BIN)/dfc-hub serve --demo --reset

test: $(STAMP) tools connector
	$(BIN)/python -m pytest -q
	@$(MAKE) --no-print-directory calendar

# Every test that reads the wall clock (marker `calendar`: servers, CLIs, the scheduler, dates)
# runs again a year and five years ahead under libfaketime, so no fixture date can expire.
# Only those: libfaketime moves the monotonic clock but not the deadline of a timed semaphore
# wait, so under it a Python `Event.wait(t)` or `Lock.acquire(timeout=t)` never times out. Tests
# that need a timeout to fire (the remote store's lock expiring, races waiting on a barrier)
# would stall; the suite as a whole hung at about 80 %.
calendar: $(STAMP)
	@if command -v faketime >/dev/null; then \
	  for shift in +365d +1826d; do \
	    echo "== the calendar moved $$shift: tests marked calendar"; \
	    faketime -f $$shift $(BIN)/python -m pytest -q -m calendar -p no:cacheprovider || exit 1; \
	  done; \
	else echo "faketime is not installed: the calendar-shifted run is skipped (apt-get install faketime)"; fi

# Debian's Chromium drives the /conformance browser test and faketime moves the calendar: install
# them where apt-get can run (as root), else say so; those tests then skip with the reason.
tools:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null && command -v faketime >/dev/null || \
	{ [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && export DEBIAN_FRONTEND=noninteractive && \
	  { apt-get install -y -qq chromium chromium-driver faketime >/dev/null 2>&1 || \
	    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium chromium-driver faketime >/dev/null 2>&1; }; }; } || \
	echo "Chromium and faketime could not be installed here: the browser test and the calendar run will be skipped."

# The official DFC connector (npm), to check that it imports our answers; without node and npm,
# that test skips with the reason.
connector:
	@command -v npm >/dev/null && cd tests/support/dfc-connector && npm ci --no-audit --no-fund --silent || \
	echo "The DFC connector could not be installed here (no npm?): its test will be skipped."

# The model-based test (tests/test_model.py) long and random, not in CI: SOAK_EXAMPLES runs of
# SOAK_STEPS steps from a fresh seed (or SEED=… to replay one); a failure prints the seed to rerun.
SOAK_EXAMPLES ?= 300
SOAK_STEPS ?= 40
soak: $(STAMP)
	@seed=$${SEED:-$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}; echo "== soak: seed $$seed, $(SOAK_EXAMPLES) runs of $(SOAK_STEPS) steps"; \
	SOAK_EXAMPLES=$(SOAK_EXAMPLES) SOAK_STEPS=$(SOAK_STEPS) $(BIN)/python -m pytest -q -p no:cacheprovider \
	  tests/test_model.py --hypothesis-seed=$$seed || { echo "soak failed: replay with make soak SEED=$$seed"; exit 1; }

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/validate.py
	$(BIN)/python bench/checkout.py
	$(BIN)/python bench/consolidation.py
	$(BIN)/python bench/order_lines.py
	$(BIN)/python bench/close.py
	$(BIN)/python bench/partners.py
	$(BIN)/python bench/erasure.py
	$(BIN)/python bench/events.py
	$(BIN)/python bench/prices.py
	$(BIN)/python bench/lifecycle.py

clean:
	rm -rf $(VENV) data build *.egg-info tests/support/dfc-connector/node_modules
