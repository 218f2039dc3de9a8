# Everything runs from the project's own .venv, created and filled on first use.
PYTHON := $(shell command -v python3.11 || echo python3)
VENV := .venv
INSTALLED := $(VENV)/.installed
SERVE_INSTALLED := $(VENV)/.installed-serve

.PHONY: lab test e2e serve bench

# Root (a container, a CI box) needs --allow-root; everyone else gets the plain command.
lab: $(INSTALLED)
	$(VENV)/bin/jupyter lab $$([ "$$(id -u)" = 0 ] && echo --allow-root) notebooks/00-start-here.ipynb

# Offline, strict nbval over every notebook, and the unit tests. PostgreSQL (for the
# production lesson) is started on 127.0.0.1 when Debian's postgresql is installed.
test: $(INSTALLED) $(SERVE_INSTALLED)
	POSTGRES_URL="$$(scripts/postgres.sh start)" HITL_OFFLINE=1 $(VENV)/bin/python -m pytest

# Browser tests: JupyterLab on 127.0.0.1 with a random token, clicked through in Debian's
# Chromium (/usr/bin/chromium) by Playwright. Offline; never downloads a browser.
e2e: $(INSTALLED) $(SERVE_INSTALLED)
	HITL_OFFLINE=1 $(VENV)/bin/python -m pytest tests/e2e -m e2e

# The kit's agent behind LangGraph's local API server (in memory, no Docker, no account).
serve: $(INSTALLED) $(SERVE_INSTALLED)
	$(VENV)/bin/langgraph dev --no-browser --no-reload --host 127.0.0.1

# The kit's performance against its own floor, as one table (reports; never fails on a number).
bench: $(INSTALLED) $(SERVE_INSTALLED)
	POSTGRES_URL="$$(scripts/postgres.sh start)" HITL_OFFLINE=1 $(VENV)/bin/python bench/run.py

# Reinstall only when the requirements change (the stamp is older than them).
$(INSTALLED): requirements.txt pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install -r requirements.txt
	touch $@

# The API server's packages are heavier; `make lab` does without them.
$(SERVE_INSTALLED): requirements-serve.txt $(INSTALLED)
	$(VENV)/bin/python -m pip install -r requirements.txt -r requirements-serve.txt
	touch $@

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
