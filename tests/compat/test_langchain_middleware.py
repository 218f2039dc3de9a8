"""LangChain's `HumanInTheLoopMiddleware` docs, answered through the panel's widgets.

Source: https://docs.langchain.com/oss/python/langchain/human-in-the-loop
(langchain-ai/docs, src/oss/langchain/human-in-the-loop.mdx), and the installed
`langchain/agents/middleware/human_in_the_loop.py` for `interrupt_mode="per_call"`.
The docs' agent: `create_agent` with `interrupt_on={"write_file": True, "execute_sql":
{"allowed_decisions": ["approve", "reject"]}, "read_data": False}` and a checkpointer.
"""

from __future__ import annotations

import pytest
from driver import (
    approve,
    call,
    card,
    cards,
    decision_types,
    edit_form,
    edit_json,
    labels,
    panel_for,
    reject,
    respond,
    state,
    tool_messages,
    turns,
)
from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.tools import StructuredTool, tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, MessagesState, StateGraph


def make_tools(runs: list[tuple[str, dict]], mode: str = "sync"):
    def write_file(path: str, content: str) -> str:
        """Write content to a file."""
        runs.append(("write_file", {"path": path, "content": content}))
        return f"wrote {len(content)} bytes to {path}"

    def execute_sql(query: str) -> str:
        """Run a SQL query."""
        runs.append(("execute_sql", {"query": query}))
        return "3 rows"

    def read_data(table: str) -> str:
        """Read a table."""
        runs.append(("read_data", {"table": table}))
        return "id,name"

    if mode == "sync":
        return [tool(f) for f in (write_file, execute_sql, read_data)]

    def async_only(function):  # the async variant: coroutine-only tools
        async def run(**kwargs):
            return function(**kwargs)

        schema = tool(function).args_schema  # the same arguments as the sync tool, not one `kwargs`
        return StructuredTool.from_function(
            coroutine=run, name=function.__name__, description=function.__doc__, args_schema=schema
        )

    return [async_only(f) for f in (write_file, execute_sql, read_data)]


INTERRUPT_ON = {
    "write_file": True,  # all decisions (approve, edit, reject) allowed
    "execute_sql": {"allowed_decisions": ["approve", "reject"]},  # no editing
    "read_data": False,  # safe operation, no approval needed
}


def docs_agent(model, runs, mode="sync", interrupt_mode="batched", interrupt_on=INTERRUPT_ON):
    return create_agent(
        model=model,
        tools=make_tools(runs, mode),
        middleware=[
            HumanInTheLoopMiddleware(
                interrupt_on=interrupt_on, description_prefix="Tool execution pending approval", **_mode(interrupt_mode)
            )
        ],
        checkpointer=InMemorySaver(),
    )


def _mode(interrupt_mode: str) -> dict:
    return {} if interrupt_mode == "batched" else {"interrupt_mode": interrupt_mode}


WRITE = call("write_file", path="notes.txt", content="hello")
SQL = call("execute_sql", query="DELETE FROM records WHERE created_at < NOW() - INTERVAL '30 days';")
READ = call("read_data", table="users")
MODES = [
    "batched",
    "per_call",
    "batched-async",
    "per_call-async",
]


def build(mode: str, *steps):
    runs: list[tuple[str, dict]] = []
    interrupt_mode, _, kind = mode.partition("-")
    graph = docs_agent(turns(*steps), runs, kind or "sync", interrupt_mode)
    return runs, panel_for(graph)


@pytest.mark.parametrize("mode", MODES)
def test_approve_runs_the_call(mode):
    runs, panel = build(mode, [WRITE])
    panel.run("Write hello to notes.txt")
    assert "write_file" in str(panel) and labels(card(panel)) == ["Approve", "Edit", "Reject", "Respond"]
    approve(panel)
    assert runs == [("write_file", {"path": "notes.txt", "content": "hello"})]
    assert panel.status == "Done." and decision_types(panel) == ["approve"]


@pytest.mark.parametrize("mode", MODES)
def test_edit_in_the_form_runs_the_edited_call(mode):
    runs, panel = build(mode, [WRITE])
    panel.run("Write hello to notes.txt")
    edit_form(panel, Content="hello, world")
    assert runs == [("write_file", {"path": "notes.txt", "content": "hello, world"})]
    assert panel.decisions[0].edited_args == {"path": "notes.txt", "content": "hello, world"}


@pytest.mark.parametrize("mode", ["batched", "per_call", "batched-async", "per_call-async"])  # nothing runs
def test_reject_with_a_message_runs_nothing(mode):
    runs, panel = build(mode, [SQL])
    panel.run("Clean up old records")
    assert labels(card(panel)) == ["Approve", "Reject"]  # execute_sql: no editing
    reject(panel, "Never delete records.")
    assert runs == []
    assert "Never delete records." in tool_messages(state(panel))[-1].content
    assert panel.decisions[0].message == "Never delete records."


@pytest.mark.parametrize("mode", ["batched", "per_call"])
def test_ungated_tool_runs_without_a_card(mode):
    runs, panel = build(mode, [READ])
    panel.run("Read users")
    assert cards(panel) == [] and runs == [("read_data", {"table": "users"})] and panel.decisions == ()


@pytest.mark.parametrize("mode", ["batched", "per_call"])
def test_two_calls_one_approved_one_rejected(mode):
    runs, panel = build(mode, [WRITE, SQL])
    panel.run("Write notes, then clean up")
    assert "write_file" in str(panel) and "execute_sql" in str(panel)
    if mode == "batched":  # one card, an action each
        approve(panel, 0, 0)
        reject(panel, "no", 0, 1)
    else:  # one card per call
        assert len(cards(panel)) == 2
        approve(panel, 0)
        reject(panel, "no", 0)
    assert runs == [("write_file", {"path": "notes.txt", "content": "hello"})]
    assert sorted(decision_types(panel)) == ["approve", "reject"] and panel.status == "Done."


def test_respond_answers_for_the_tool():
    runs: list[tuple[str, dict]] = []
    graph = docs_agent(turns([WRITE]), runs, interrupt_on={"write_file": {"allowed_decisions": ["approve", "respond"]}})
    panel = panel_for(graph)
    panel.run("Write hello to notes.txt")
    respond(panel, "The file already says hello.")
    assert runs == []
    assert tool_messages(state(panel))[-1].content == "The file already says hello."


def test_json_edit_can_rename_nothing_but_args():
    runs, panel = build("batched", [WRITE])
    panel.run("Write hello to notes.txt")
    edit_json(panel, "write_file", {"path": "other.txt", "content": "hi"})
    assert runs == [("write_file", {"path": "other.txt", "content": "hi"})]


# -- the middleware's agent used as a node of a parent graph (a subgraph)
def test_middleware_agent_as_a_subgraph():
    runs: list[tuple[str, dict]] = []
    inner = docs_agent(turns([WRITE]), runs)
    builder = StateGraph(MessagesState)
    builder.add_node("agent", inner)
    builder.add_edge(START, "agent")
    panel = panel_for(builder.compile(checkpointer=InMemorySaver()))
    panel.run("Write hello to notes.txt")
    assert "call_0_0" in str(panel)
    approve(panel)
    assert runs == [("write_file", {"path": "notes.txt", "content": "hello"})]
    assert panel.decisions[0].call_id == "call_0_0"
