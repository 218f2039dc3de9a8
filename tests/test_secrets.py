"""No secret in the repository, and none leaks from a session that has one.

1. Every file git would commit (tracked, or new and not ignored), notebooks with their
   saved outputs included, is scanned for key-like strings: provider key formats,
   bearer tokens, and API-key assignments with a literal value. Obviously fake keys
   are allowed in tests/ only (a test needs a key to prove it is never printed).
2. The online path runs with a fake key against a local OpenAI-compatible server,
   through the approval panel: the key is in no printed output, no widget, no log
   record and no decision-log entry.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

KEY_PATTERNS = {
    "OpenAI-style key": re.compile(r"\bsk-(?:proj-|ant-|svcacct-)?[A-Za-z0-9_\-]{12,}"),
    "bearer token": re.compile(r"\bBearer\s+[A-Za-z0-9._~+/\-]{12,}=*"),
    "API key assigned a literal": re.compile(r"""(?i)\b\w*api[_-]?key\w*["']?\s*[=:]\s*["']([^"'\s]{8,})["']"""),
    "API key in an env file": re.compile(
        r"(?m)^\s*(?:export\s+|set\s+)?[A-Z0-9_]*API_KEY\s*=\s*[A-Za-z0-9_.\-]{8,}\s*$"
    ),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b"),
    "Hugging Face token": re.compile(r"\bhf_[A-Za-z0-9]{30,}\b"),
    "LangSmith key": re.compile(r"\blsv2_(?:pt|sk)_[A-Za-z0-9_]{20,}"),
    "private key block": re.compile(r"-----BEGIN (?:RSA |EC |OPENSSH )?PRIVATE KEY-----"),
}
FAKE_MARKERS = ("fake", "local", "test", "example", "dummy", "never", "placeholder")
"""Words only a made-up key contains; such keys may appear in tests/ and nowhere else."""
BINARY_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".ico", ".pdf", ".sqlite", ".db", ".whl", ".gz", ".zip"}


def committable_files() -> list[Path]:
    """What `git add -A` would commit: tracked files plus new files .gitignore lets through."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    return sorted({REPO / name for name in listed if name and (REPO / name).is_file()})


def key_like_strings(text: str) -> list[tuple[str, str]]:
    found = []
    for kind, pattern in KEY_PATTERNS.items():
        for match in pattern.finditer(text):
            found.append((kind, match.group(0)))
    return found


def allowed(path: Path, secret: str) -> bool:
    in_tests = path.relative_to(REPO).parts[0] == "tests"
    return in_tests and any(marker in secret.lower() for marker in FAKE_MARKERS)


def test_the_scan_covers_the_notebooks_and_the_package():
    files = {path.relative_to(REPO).as_posix() for path in committable_files()}
    notebooks = [name for name in files if name.startswith("notebooks/") and name.endswith(".ipynb")]
    assert len(notebooks) >= 6, sorted(files)
    assert {"README.md", "hitl_widgets/models.py", ".env.example", "tests/test_models.py"} <= files


def test_no_key_like_string_in_any_committable_file():
    leaks = []
    for path in committable_files():
        if path.suffix.lower() in BINARY_SUFFIXES:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")  # .ipynb: sources and saved outputs
        for kind, secret in key_like_strings(text):
            if not allowed(path, secret):
                leaks.append(f"{path.relative_to(REPO)}: {kind}: {secret[:12]}...")
    assert not leaks, "Key-like strings found (remove them, or use an obviously fake key in tests/):\n" + "\n".join(
        leaks
    )


# Made-up keys, split in two so this file itself holds none: joined only at run time.
KEY_SAMPLES = [
    ("OPENAI_API_KEY=sk-", "proj-4f9Qx2mZt7Lw0pRk8sYv3B"),
    ('client = OpenAI(api_key="sk-', '4f9Qx2mZt7Lw0pRk8sYv3BnH")'),
    ('"Authorization: Bearer ', 'eyJhbGciOiJIUzI1NiJ9.abc"'),
    ("{'api_key': '", "a1b2c3d4e5f6g7h8'}"),
    ('ChatOpenAI(openai_api_key="', 'q9w8e7r6t5y4")'),
    ("export ANTHROPIC_API_KEY=sk-", "ant-api03-q9w8e7r6t5y4u3i2"),
    ("aws AKIA", "IOSFODNN7EXAMPL3"),
    ("token ghp_", "0123456789abcdefghijklmnopqrstuvwxyzAB"),
    ("LANGSMITH_API_KEY=lsv2_", "pt_0123456789abcdef0123456789abcdef_0123456789"),
    ("-----BEGIN OPENSSH PRIVATE", " KEY-----"),
]


@pytest.mark.parametrize("parts", KEY_SAMPLES, ids=lambda parts: parts[0].strip("{'\"-")[:24])
def test_the_scan_finds_keys(parts):
    text = "".join(parts)
    assert key_like_strings(text), text


@pytest.mark.parametrize(
    "text",
    [
        "OPENAI_API_KEY=",
        'api_key = os.environ.get("OPENAI_API_KEY", "").strip()',
        "ClearErrorChatOpenAI(model=model, api_key=api_key)",
        "set OPENAI_API_KEY in .env to use OpenAI",
        "task-list and sk-8 are not keys",
    ],
)
def test_the_scan_leaves_ordinary_code_alone(text):
    assert not key_like_strings(text), key_like_strings(text)


def test_fake_keys_are_allowed_only_in_tests():
    fake = "sk-local-test-key-0000000000"
    assert allowed(REPO / "tests" / "test_models.py", fake)
    assert not allowed(REPO / "notebooks" / "00-start-here.ipynb", fake)
    assert not allowed(REPO / "tests" / "test_models.py", "sk-" + "4f9Qx2mZt7Lw0pRk8sYv3BnH")


# -- 2. a session with a key: the key never shows -------------------------------------------
GOOD_KEY = "sk-fake-panel-key-" + "7c1d9e4b2a5f8e3d"
WRONG_KEY = "sk-fake-wrong-key-" + "0b6a2c9d4e1f7a8c"
"""Fake keys (tests/ only): the local server accepts GOOD_KEY and echoes any other key it is sent."""


def everything_shown(panel) -> str:
    """All a reviewer or a notebook could see of a panel: its text, every widget's value, its outputs."""
    import ipywidgets as widgets
    from widget_tree import walk

    parts = [str(panel), repr(panel)]
    for widget in walk(panel):
        for trait in ("value", "description", "tooltip", "placeholder", "options"):
            if widget.has_trait(trait):
                parts.append(repr(getattr(widget, trait)))
        if isinstance(widget, widgets.Output):
            parts.append(json.dumps(widget.outputs))
    parts += [repr(record) for record in panel.decisions]
    return "\n".join(parts)


def build(flavor: str, model, store):
    from langchain.agents import create_agent
    from langchain.agents.middleware import HumanInTheLoopMiddleware
    from langgraph.checkpoint.memory import InMemorySaver

    from hitl_widgets.graphs import build_review_graph
    from hitl_widgets.inventory import make_tools

    tools = make_tools(store)
    if flavor == "kit":
        return build_review_graph(model, tools, InMemorySaver())
    gate = HumanInTheLoopMiddleware({tool.name: True for tool in tools}, interrupt_mode=flavor)
    return create_agent(model, tools, middleware=[gate], checkpointer=InMemorySaver())


@pytest.fixture
def local_openai(monkeypatch, model_env, caplog):
    """A local OpenAI-compatible server that wants GOOD_KEY; every log record captured, down to DEBUG."""
    from openai_server import inventory_agent_server

    caplog.set_level(logging.DEBUG)
    with inventory_agent_server(api_key=GOOD_KEY) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        yield server


def assert_nowhere(key: str, *texts: str) -> None:
    for text in texts:
        assert key not in text, f"the key leaked: ...{text[max(text.find(key) - 80, 0) : text.find(key) + 20]}..."
    assert key[-8:] not in "\n".join(texts), "the end of the key leaked"


@pytest.mark.parametrize("flavor", ["kit", "batched", "per_call"])
def test_online_run_through_the_panel_never_shows_the_key(monkeypatch, local_openai, caplog, capsys, flavor):
    from hitl_widgets import get_chat_model
    from hitl_widgets.inventory import InventoryStore
    from hitl_widgets.panel import ApprovalPanel

    monkeypatch.setenv("OPENAI_API_KEY", GOOD_KEY)
    store = InventoryStore()
    graph = build(flavor, get_chat_model(), store)
    config = {"configurable": {"thread_id": f"online-{flavor}"}}
    panel = ApprovalPanel(graph, config)
    panel.run("How many widget-x in SF-01?")
    assert len(panel.pending) == 1, str(panel)
    panel.decide({"type": "approve"}, panel.pending[0].id)

    assert store.tool_runs() == [{"tool": "lookup_inventory", "args": {"item": "widget-x", "warehouse": "SF-01"}}]
    assert "The inventory says: widget-x in SF-01" in str(panel), str(panel)
    assert len(local_openai.requests) == 2, "the online model was not used"
    captured = capsys.readouterr()
    state = repr(graph.get_state(config).values)
    assert any(record.name.startswith(("openai", "httpx")) for record in caplog.records), "no client log captured"
    assert_nowhere(
        GOOD_KEY,
        everything_shown(panel),
        captured.out,
        captured.err,
        caplog.text,
        "\n".join(repr(record.__dict__) for record in caplog.records),
        state,
    )


def test_a_rejected_key_is_echoed_by_the_server_but_never_shown(monkeypatch, local_openai, caplog, capsys):
    from hitl_widgets import get_chat_model
    from hitl_widgets.inventory import InventoryStore
    from hitl_widgets.panel import ApprovalPanel

    monkeypatch.setenv("OPENAI_API_KEY", WRONG_KEY)
    store = InventoryStore()
    graph = build("kit", get_chat_model(), store)
    panel = ApprovalPanel(graph, {"configurable": {"thread_id": "online-wrong-key"}})
    panel.run("How many widget-x in SF-01?")

    shown = everything_shown(panel)
    assert local_openai.requests, "the server was never asked"
    assert "OPENAI_API_KEY" in shown, shown  # the panel says which setting to fix...
    assert store.tool_runs() == [] and not panel.pending
    captured = capsys.readouterr()
    assert_nowhere(
        WRONG_KEY,
        shown,
        captured.out,
        captured.err,
        caplog.text,
        "\n".join(repr(record.__dict__) for record in caplog.records),
    )  # ...and never repeats the key, though the server's error message did
