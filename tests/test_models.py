"""get_chat_model: offline by default, OpenAI-compatible servers when a key is set, clear errors."""

import asyncio
import operator
import socket
import subprocess
import sys
import traceback
from functools import reduce

import pytest
from langchain_core.tools import tool

import hitl_widgets
from hitl_widgets.errors import ModelConnectionError
from hitl_widgets.models import get_chat_model

SECRET = "sk-local-secret-never-print-1234"
CALL_MODES = ["invoke", "stream", "ainvoke", "astream"]

pytestmark = pytest.mark.usefixtures("model_env")


@tool
def lookup_inventory(item: str, warehouse: str) -> str:
    """Look up how many units of an item a warehouse holds."""
    return f"{item} at {warehouse}: 42 units"


def go_online(monkeypatch, base_url: str, api_key: str) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", api_key)
    monkeypatch.setenv("OPENAI_BASE_URL", base_url)


def call(model, prompt: str, mode: str):
    """One model turn through each of LangChain's four entry points (each has its own error path)."""
    if mode == "invoke":
        return model.invoke(prompt)
    if mode == "stream":
        return reduce(operator.add, model.stream(prompt))
    if mode == "ainvoke":
        return asyncio.run(model.ainvoke(prompt))

    async def collect_stream():
        return reduce(operator.add, [chunk async for chunk in model.astream(prompt)])

    return asyncio.run(collect_stream())


def closed_port_url() -> str:
    """A local URL nobody listens on, so connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


@pytest.mark.parametrize("offline", ["1", "true", "TRUE"])
def test_hitl_offline_wins_over_a_key(monkeypatch, offline):
    monkeypatch.setenv("HITL_OFFLINE", offline)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    assert isinstance(get_chat_model(), hitl_widgets.OfflineChatModel)


@pytest.mark.parametrize("key", [None, "", "   "])
def test_no_key_means_offline(monkeypatch, key):
    if key is not None:
        monkeypatch.setenv("OPENAI_API_KEY", key)
    assert isinstance(get_chat_model(), hitl_widgets.OfflineChatModel)


def test_dotenv_in_working_directory_is_read_but_never_overrides(monkeypatch, tmp_path, openai_server):
    (tmp_path / ".env").write_text(
        f"OPENAI_API_KEY={openai_server.api_key}\nOPENAI_BASE_URL={openai_server.base_url}\n"
        "OPENAI_MODEL=from-dotenv\nHITL_OFFLINE=1\n"
    )
    monkeypatch.setenv("HITL_OFFLINE", "0")
    model = get_chat_model()
    assert model.model_name == "from-dotenv"
    assert model.invoke("hello").content == "I have no inventory tool to call."


@pytest.mark.parametrize("mode", CALL_MODES)
def test_online_model_sends_tool_schemas_and_returns_the_tool_call(monkeypatch, openai_server, mode):
    from langchain_openai import ChatOpenAI

    go_online(monkeypatch, openai_server.base_url, openai_server.api_key)
    model = get_chat_model()
    assert isinstance(model, ChatOpenAI)

    reply = call(model.bind_tools([lookup_inventory]), "How many widget-x in SF-01?", mode)

    [request] = openai_server.requests
    assert request["model"] == "gpt-4o-mini"
    assert request["stream"] is mode.endswith("stream")
    [schema] = request["tools"]
    assert schema["function"]["name"] == "lookup_inventory"
    assert set(schema["function"]["parameters"]["properties"]) == {"item", "warehouse"}
    assert [(c["name"], c["args"], c["id"]) for c in reply.tool_calls] == [
        ("lookup_inventory", {"item": "widget-x", "warehouse": "SF-01"}, "call_local_lookup_1")
    ]


@pytest.mark.parametrize("mode", CALL_MODES)
def test_rejected_key_names_openai_api_key_and_hides_it(monkeypatch, openai_server, mode):
    go_online(monkeypatch, openai_server.base_url, SECRET)

    with pytest.raises(ModelConnectionError, match="OPENAI_API_KEY") as caught:
        call(get_chat_model(), "hello", mode)

    assert openai_server.requests, "the server was never asked"
    assert SECRET not in "".join(traceback.format_exception(caught.value))


@pytest.mark.parametrize("mode", CALL_MODES)
def test_refused_connection_names_openai_base_url(monkeypatch, mode):
    url = closed_port_url()
    go_online(monkeypatch, url, SECRET)

    with pytest.raises(ModelConnectionError, match="OPENAI_BASE_URL") as caught:
        call(get_chat_model(), "hello", mode)

    assert url in str(caught.value)
    assert SECRET not in str(caught.value)


def run_python(code: str, cwd, **env: str) -> subprocess.CompletedProcess:
    """Run code in a fresh interpreter: import side effects and once-per-process state are real."""
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_active_model_line_is_printed_once_and_never_shows_the_key(tmp_path):
    url = closed_port_url()
    result = run_python(
        "import hitl_widgets as h; h.get_chat_model(); h.get_chat_model()",
        tmp_path,
        OPENAI_API_KEY=SECRET,
        OPENAI_BASE_URL=url,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Model: gpt-4o-mini via {url}. Set HITL_OFFLINE=1 to go offline.\n"
    assert SECRET not in result.stdout + result.stderr


def test_offline_import_never_loads_openai(tmp_path):
    result = run_python(
        "import sys, hitl_widgets as h\n"
        "assert isinstance(h.get_chat_model(), h.OfflineChatModel)\n"
        "assert 'openai' not in sys.modules and 'langchain_openai' not in sys.modules\n",
        tmp_path,
        HITL_OFFLINE="1",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Model: OfflineChatModel")
