"""Fixtures for the unit tests; the session-wide offline setup is in ../conftest.py."""

import os
import uuid

import pytest
from openai_server import inventory_agent_server

from hitl_widgets.inventory import InventoryStore, make_tools
from hitl_widgets.models import MODEL_VARIABLES


@pytest.fixture
def model_env(monkeypatch, tmp_path):
    """A clean slate for get_chat_model: cwd without .env above it, no model variables."""
    monkeypatch.chdir(tmp_path)
    for name in (*MODEL_VARIABLES, "HITL_OFFLINE"):
        # setenv first so undo restores the original even if load_dotenv sets it meanwhile.
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


@pytest.fixture
def openai_server():
    """A local OpenAI-compatible server, stopped even when the test fails."""
    with inventory_agent_server() as server:
        yield server


@pytest.fixture
def store() -> InventoryStore:
    """A fresh seeded store: every test sees only its own orders and tool runs."""
    return InventoryStore()


@pytest.fixture
def tools(store):
    """The scenario's three tools over `store`, as a list (what the graphs take)."""
    return make_tools(store)


@pytest.fixture
def tools_by_name(tools):
    """The same tools, by name (for tests that pick one)."""
    return {tool.name: tool for tool in tools}


@pytest.fixture
def postgres_url() -> str:
    """The throwaway server `make test` starts; a test that needs it skips without it, except in CI."""
    url = os.environ.get("POSTGRES_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("POSTGRES_URL is not set in CI: .ci/run must start scripts/postgres.sh")
        pytest.skip("POSTGRES_URL is not set; `make test` sets it when PostgreSQL is installed")
    return url


@pytest.fixture
def postgres_schema(postgres_url):
    """A PostgreSQL schema of this test's own (checkpoints and the kit's tables in it), dropped afterwards."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in postgres_url else "?"
    yield f"{postgres_url}{sep}options=-csearch_path%3D{schema}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")
