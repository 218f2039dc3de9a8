"""Libraries built on LangGraph, their human-in-the-loop answered through the panel's widgets.

- Deep Agents (langchain-ai/deepagents, README "Human-in-the-loop" and
  libs/deepagents/deepagents/graph.py): `create_deep_agent(..., interrupt_on=...)`, on the
  main agent's tools and on a subagent's (`subagents=[{..., "interrupt_on": ...}]`).
- langgraph-supervisor (langchain-ai/langgraph-supervisor-py, README): `create_supervisor`
  over a worker agent whose tool is gated by `HumanInTheLoopMiddleware`.
- MCP adapters (langchain-ai/langchain-mcp-adapters, README "Client"): tools loaded from a
  local stdio MCP server (tests/compat/mcp_server.py) into `create_agent` with the middleware.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from driver import (
    ScriptedChat,
    approve,
    call,
    card,
    edit_form,
    panel_for,
    reject,
    state,
    tool_messages,
    turns,
)
from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver


# -- Deep Agents: interrupt_on on the main agent's own tool
def deep_agent(sent: list[dict], subagent: bool = False):
    create_deep_agent = pytest.importorskip("deepagents").create_deep_agent  # not in requirements.txt yet

    @tool
    def send_report(recipient: str, summary: str) -> str:
        """Send a report by email."""
        sent.append({"recipient": recipient, "summary": summary})
        return f"report sent to {recipient}"

    report = call("send_report", recipient="ceo@example.com", summary="Q3 is up.")
    if not subagent:
        return create_deep_agent(
            model=turns([report]),
            tools=[send_report],
            system_prompt="You write and send reports.",
            interrupt_on={"send_report": {"allowed_decisions": ["approve", "edit", "reject"]}},
            checkpointer=InMemorySaver(),
        )
    mailer = {
        "name": "mailer",
        "description": "Sends reports by email.",
        "system_prompt": "You send reports.",
        "tools": [send_report],
        "model": turns([report]),
        "interrupt_on": {"send_report": True},
    }
    return create_deep_agent(
        model=turns([call("task", description="Send the Q3 report to the CEO.", subagent_type="mailer")]),
        subagents=[mailer],
        system_prompt="You delegate.",
        checkpointer=InMemorySaver(),
    )


def test_deep_agent_approve():
    sent: list[dict] = []
    panel = panel_for(deep_agent(sent))
    panel.run("Send the Q3 report to the CEO.")
    assert "send_report" in str(panel)
    approve(panel)
    assert sent == [{"recipient": "ceo@example.com", "summary": "Q3 is up."}] and panel.status == "Done."


def test_deep_agent_edit_and_reject():
    sent: list[dict] = []
    panel = panel_for(deep_agent(sent), thread="edit")
    panel.run("Send the Q3 report to the CEO.")
    edit_form(panel, Recipient="cfo@example.com")
    assert sent == [{"recipient": "cfo@example.com", "summary": "Q3 is up."}]
    sent.clear()
    other = panel_for(deep_agent(sent), thread="reject")
    other.run("Send the Q3 report to the CEO.")
    reject(other, "Not yet.")
    assert sent == [] and "Not yet." in tool_messages(state(other))[-1].content


def test_deep_agent_subagent_tool_approve():
    sent: list[dict] = []
    panel = panel_for(deep_agent(sent, subagent=True))
    panel.run("Send the Q3 report to the CEO.")
    assert "send_report" in str(panel)
    approve(panel)
    assert sent == [{"recipient": "ceo@example.com", "summary": "Q3 is up."}] and panel.status == "Done."


# -- langgraph-supervisor: the worker's booking tool is gated
def supervised(bookings: list[str]):
    create_supervisor = pytest.importorskip("langgraph_supervisor").create_supervisor  # not in requirements.txt yet

    @tool
    def book_flight(from_airport: str, to_airport: str) -> str:
        """Book a flight."""
        bookings.append(f"{from_airport}->{to_airport}")
        return f"Successfully booked a flight from {from_airport} to {to_airport}."

    def worker_script(messages):
        if any(isinstance(m, ToolMessage) and m.name == "book_flight" for m in messages):
            return AIMessage("Booked.")
        return AIMessage("", tool_calls=[call("book_flight", from_airport="BOS", to_airport="JFK") | {"id": "b1"}])

    def supervisor_script(messages):
        if any(isinstance(m, AIMessage) and m.content == "Booked." for m in messages):
            return AIMessage("Your flight is booked.")
        return AIMessage("", tool_calls=[{"name": "transfer_to_flight_assistant", "args": {}, "id": "t1"}])

    worker = create_agent(
        model=ScriptedChat(script=worker_script),
        tools=[book_flight],
        middleware=[HumanInTheLoopMiddleware(interrupt_on={"book_flight": True})],
        name="flight_assistant",
        system_prompt="You are a flight booking assistant",
    )
    workflow = create_supervisor(
        [worker], model=ScriptedChat(script=supervisor_script), prompt="You manage a flight booking assistant."
    )
    return workflow.compile(checkpointer=InMemorySaver())


def test_supervisor_gated_worker():
    bookings: list[str] = []
    panel = panel_for(supervised(bookings))
    panel.run("book a flight from BOS to JFK")
    assert "book_flight" in str(panel) and "b1" in str(panel)
    approve(panel)
    assert bookings == ["BOS->JFK"] and panel.decisions[0].call_id == "b1"
    assert state(panel)["messages"][-1].content == "Your flight is booked."


def test_supervisor_gated_worker_reject():
    bookings: list[str] = []
    panel = panel_for(supervised(bookings))
    panel.run("book a flight from BOS to JFK")
    reject(panel, "No flights this week.")
    assert bookings == [] and panel.decisions[0].message == "No flights this week."


# -- MCP adapters: a stdio MCP server's tool behind the middleware
@pytest.fixture
def mcp_agent(tmp_path):
    client_module = pytest.importorskip("langchain_mcp_adapters.client")  # not in requirements.txt yet
    MultiServerMCPClient = client_module.MultiServerMCPClient

    log = tmp_path / "mcp.log"
    server = Path(__file__).with_name("mcp_server.py")
    client = MultiServerMCPClient(
        {
            "records": {
                "command": sys.executable,
                "args": [str(server)],
                "transport": "stdio",
                "env": {"COMPAT_MCP_LOG": str(log), "PATH": ""},
            }
        }
    )
    tools = asyncio.run(client.get_tools())
    agent = create_agent(
        model=turns([call("delete_records", table="records", older_than_days=30)]),
        tools=tools,
        middleware=[HumanInTheLoopMiddleware(interrupt_on={"delete_records": True})],
        checkpointer=InMemorySaver(),
    )
    return agent, log


def ran(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_mcp_tool_approve(mcp_agent):
    agent, log = mcp_agent
    panel = panel_for(agent)
    panel.run("Delete records older than 30 days")
    approve(panel)
    assert ran(log) == [{"table": "records", "older_than_days": 30}] and panel.status == "Done."


def test_mcp_tool_edit_form_and_reject(mcp_agent):
    agent, log = mcp_agent
    panel = panel_for(agent)
    panel.run("Delete records older than 30 days")
    assert "delete_records" in str(panel) and "Edit" in [b.description for b in card(panel).children[1].children]
    reject(panel, "Keep everything.")
    assert ran(log) == [] and panel.decisions[0].message == "Keep everything."
