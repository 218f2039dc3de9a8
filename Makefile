# Everything runs from the project's own .venv, created and filled on first use, from the exact
# versions in requirements.lock (the ones the saved notebook outputs were made with).
PYTHON := $(shell command -v python3.11 || echo python3)
VENV := .venv
PIP := $(VENV)/bin/python -m pip install -c requirements.lock
INSTALLED := $(VENV)/.installed
SERVE_INSTALLED := $(VENV)/.installed-serve
DEV_INSTALLED := $(VENV)/.installed-dev

.PHONY: lab test e2e serve bench lint lock

# Root (a container, a CI box) needs --allow-root; everyone else gets the plain command.
lab: $(INSTALLED)
	$(VENV)/bin/jupyter lab $$([ "$$(id -u)" = 0 ] && echo --allow-root) notebooks/00-start-here.ipynb

# Offline, strict nbval over every notebook, and the unit tests. PostgreSQL (for the
# production lesson) is started on 127.0.0.1 when Debian's postgresql is installed.
test: $(DEV_INSTALLED)
	POSTGRES_URL="$$(scripts/postgres.sh start)" HITL_OFFLINE=1 $(VENV)/bin/python -m pytest

# Browser tests: JupyterLab on 127.0.0.1 with a random token, clicked through in Debian's
# Chromium (/usr/bin/chromium) by Playwright. Offline; never downloads a browser.
e2e: $(DEV_INSTALLED)
	HITL_OFFLINE=1 $(VENV)/bin/python -m pytest tests/e2e -m e2e

# The kit's agent behind LangGraph's local API server (in memory, no Docker, no account).
serve: $(SERVE_INSTALLED)
	$(VENV)/bin/langgraph dev --no-browser --no-reload --host 127.0.0.1

# The kit's performance against its own floor, as one table (reports; never fails on a number).
bench: $(DEV_INSTALLED)
	POSTGRES_URL="$$(scripts/postgres.sh start)" HITL_OFFLINE=1 $(VENV)/bin/python bench/run.py

# Lint and format (code and notebooks), types of the package, and the lock against the requirements.
lint: $(DEV_INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy hitl_widgets
	$(VENV)/bin/python scripts/check_lock.py

# Re-resolve requirements.lock from the requirements files (all platforms, Python 3.11+).
lock: $(DEV_INSTALLED)
	$(VENV)/bin/uv pip compile --universal --python-version 3.11 --no-header \
		--no-emit-package hitl-widgets requirements-dev.txt -o requirements.lock

# Reinstall only when the requirements or the lock change (the stamp is older than them).
$(INSTALLED): requirements.txt requirements.lock pyproject.toml | $(VENV)/bin/python
	$(PIP) -r requirements.txt
	touch $@

# The API server's packages are heavier; `make lab` does without them (notebook 13 needs them).
$(SERVE_INSTALLED): requirements-serve.txt $(INSTALLED)
	$(PIP) -r requirements.txt -r requirements-serve.txt
	touch $@

$(DEV_INSTALLED): requirements-dev.txt $(SERVE_INSTALLED)
	$(PIP) -r requirements-dev.txt
	touch $@

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
