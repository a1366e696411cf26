# Two commands do everything on a fresh machine with Python 3.11+ (see README.md):
#
#   make book      build the HTML book into _build/html (creates .venv and installs requirements.txt)
#   make test      run the whole test suite (installs requirements-dev.txt and, if missing, Chromium)
#
# and two for authors:
#
#   make outputs   re-execute every chapter notebook as the tests do and store its outputs
#   make nbval     only check the stored outputs of every chapter notebook (nbval, strict)
#
# Installs are remembered by stamp files in .venv, so a second run installs nothing unless a
# requirements file or pyproject.toml changed.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
WORKERS ?= 2
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: book test outputs nbval browser clean

book: $(VENV)/.installed-book
	$(VENV)/bin/jupyter-book build . --all -W --keep-going
	@echo
	@echo "The book is built. Open it in a browser:"
	@echo "    file://$(CURDIR)/_build/html/index.html"
	@echo "or serve it: $(PY) -m http.server -d _build/html 8000   (then http://127.0.0.1:8000/)"

test: $(VENV)/.installed-dev browser
	$(PY) -m pytest -n $(WORKERS) --durations=15

outputs: $(VENV)/.installed-dev
	$(PY) scripts/execute_notebooks.py

nbval: $(VENV)/.installed-dev
	$(PY) -m pytest -n $(WORKERS) chapters

# Debian's Chromium for the browser tests (Playwright drives the system browser; nothing is downloaded
# at test time). Needs root or sudo.
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	    echo "Installing Chromium from Debian's packages"; \
	    $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	    { echo "Python 3.11 or newer is needed (PYTHON=$(PYTHON) is older); run: make PYTHON=python3.11 ..."; exit 1; }
	$(PYTHON) -m venv $(VENV) || { \
	    echo "Creating the virtual environment failed; installing Debian's python3-venv and retrying"; \
	    rm -rf $(VENV); \
	    $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv && \
	    $(PYTHON) -m venv $(VENV); }

$(VENV)/.installed-book: $(PY) requirements.txt pyproject.toml
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: $(PY) requirements.txt requirements-dev.txt pyproject.toml
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	@touch $@ $(VENV)/.installed-book

clean:
	rm -rf _build tests/screenshots
