# Two commands on a fresh machine: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench clean browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/dfc-hub serve --demo

test: $(STAMP) browser
	$(BIN)/python -m pytest -q

# The /conformance browser test drives Debian's Chromium: install it where apt-get can run (as
# root), else say so; that one test then skips with the reason.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	{ [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && export DEBIAN_FRONTEND=noninteractive && \
	  { apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 || \
	    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1; }; }; } || \
	echo "Chromium could not be installed here: the browser test will be skipped."

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/validate.py
	$(BIN)/python bench/checkout.py
	$(BIN)/python bench/consolidation.py
	$(BIN)/python bench/order_lines.py

clean:
	rm -rf $(VENV) data build *.egg-info
