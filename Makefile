# Two commands on a fresh machine: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run reset test calendar bench clean tools connector idp axe screenshots reference-data soak

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

# The suite runs on three pytest-xdist workers on these 2-core machines: a third of its time is
# spent waiting (servers starting, processes racing, timeouts), so a third worker fills the
# cores (measured: 288 s on two workers, 223 s on three). Each takes whole files, so a module's
# servers and stores (module-scoped fixtures) start once.
WORKERS ?= 3

test: $(STAMP) tools connector idp axe
	$(BIN)/python -m pytest -q -n $(WORKERS) --dist loadfile
	@$(MAKE) --no-print-directory -j2 --output-sync=target calendar

# Every test whose verdict may depend on the date (marker `calendar`: it builds dates, or starts
# a server or a CLI that reads the calendar, unless marked `dateless`; tests/conftest.py) runs
# again a year and five years ahead under libfaketime, so no fixture date can expire.
# Only those: libfaketime moves the monotonic clock but not the deadline of a timed semaphore
# wait, so under it a Python `Event.wait(t)` or `Lock.acquire(timeout=t)` never times out. Tests
# that need a timeout to fire (the remote store's lock expiring, races waiting on a barrier)
# would stall; the suite as a whole hung at about 80 %. Each year's run is one process (under
# libfaketime pytest-xdist's workers took three times as long): the two years run side by side
# instead (`-j2`), each printing its report when it ends.
CALENDAR_RUNS := calendar+365d calendar+1826d
.PHONY: $(CALENDAR_RUNS)

calendar: $(CALENDAR_RUNS)
	@command -v faketime >/dev/null || \
	echo "faketime is not installed: the calendar-shifted runs are skipped (apt-get install faketime)"

# Each run has a temporary folder of its own (--basetemp): under a moved calendar, pytest takes
# the other run's folders in the shared /tmp/pytest-of-$USER for ones years old and deletes them
# under it (one run crashed at its end so, every test passed).
$(CALENDAR_RUNS): calendar%: $(STAMP)
	@if command -v faketime >/dev/null; then \
	  echo "== the calendar moved $*: tests marked calendar"; \
	  tmp=$$(mktemp -d); \
	  faketime -f $* $(BIN)/python -m pytest -q -m calendar -p no:cacheprovider --basetemp="$$tmp/run"; \
	  status=$$?; rm -rf "$$tmp"; exit $$status; \
	fi

# Debian's Chromium drives the /conformance browser test, faketime moves the calendar and Raptor's
# rapper parses our RDF/XML, Turtle and N-Triples as a client we did not write: install them where
# apt-get can run (as root), else say so; those tests then skip with the reason.
TOOLS_APT := chromium chromium-driver faketime raptor2-utils
tools:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null && command -v faketime >/dev/null && \
	  command -v rapper >/dev/null || \
	{ [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && export DEBIAN_FRONTEND=noninteractive && \
	  { apt-get install -y -qq $(TOOLS_APT) >/dev/null 2>&1 || \
	    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq $(TOOLS_APT) >/dev/null 2>&1; }; }; } || \
	echo "Chromium, faketime and rapper could not be installed here: the browser test, the calendar run and the rapper checks will be skipped."

# The official DFC connector and jsonld.js (npm, pinned in tests/support/dfc-connector), to check
# that they read our answers offline; without node and npm, those tests skip with the reason.
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

# A certified OpenID Connect provider (npm oidc-provider, pinned by its lockfile) for the partner
# credential tests; without node and npm, those tests skip with the reason.
idp:
	@command -v npm >/dev/null && cd tests/support/oidc-idp && npm ci --no-audit --no-fund --silent || \
	echo "The OpenID Connect provider could not be installed here (no npm?): its tests will be skipped."

# axe-core (npm, pinned by its lockfile), which the pages' browser test injects to find accessibility
# violations; without npm, that check skips with the reason.
axe:
	@command -v npm >/dev/null && cd tests/support/axe && npm ci --no-audit --no-fund --silent || \
	echo "axe-core could not be installed here (no npm?): the pages' accessibility check will be skipped."

# The screenshots in docs/pages.md: the pages' browser test walks the Jean scenario in headless
# Chromium and saves each page it opens.
screenshots: $(STAMP) tools axe
	PAGES_SCREENSHOTS=docs/pages $(BIN)/python -m pytest -q tests/test_pages_browser.py -k "scenario or 403 or sparql"

# The reference data some tests read (README "Reference data"): fetched into SHARED from the public
# originals tests/reference-data.tsv lists, where the network allows; says what it could not fetch.
# Never run by `make test`: no test fetches anything.
SHARED ?= ../shared
reference-data:
	$(PYTHON) tests/support/reference_data.py $(SHARED)

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/validate.py
	$(BIN)/python bench/checkout.py
	$(BIN)/python bench/consolidation.py
	$(BIN)/python bench/order_lines.py
	$(BIN)/python bench/close.py
	$(BIN)/python bench/partners.py
	$(BIN)/python bench/partner_oidc.py
	$(BIN)/python bench/erasure.py
	$(BIN)/python bench/events.py
	$(BIN)/python bench/prices.py
	$(BIN)/python bench/lifecycle.py

clean:
	rm -rf $(VENV) data build *.egg-info tests/support/dfc-connector/node_modules tests/support/oidc-idp/node_modules \
	  tests/support/axe/node_modules
