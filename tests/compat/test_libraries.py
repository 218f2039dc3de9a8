"""Libraries built on LangGraph, their human-in-the-loop answered through the panel's widgets.

- Deep Agents (langchain-ai/deepagents, README "Human-in-the-loop" and
  libs/deepagents/deepagents/graph.py): `create_deep_agent(..., interrupt_on=...)`, on the
  main agent's tools and on a subagent's (`subagents=[{..., "interrupt_on": ...}]`).
- langgraph-supervisor (langchain-ai/langgraph-supervisor-py, README): `create_supervisor`
  over a worker agent whose tool is gated by `HumanInTheLoopMiddleware`.
- MCP adapters (langchain-ai/langchain-mcp-adapters, README "Client"): tools loaded from a
  local stdio MCP server (tests/compat/mcp_server.py) into `create_agent` with the middleware,
  in its default batched mode and with `interrupt_mode="per_call"`.
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
    cards,
    decision_types,
    edit_form,
    labels,
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
def mcp_tools(log: Path):
    client_module = pytest.importorskip("langchain_mcp_adapters.client")  # not in requirements.txt yet
    MultiServerMCPClient = client_module.MultiServerMCPClient

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
    return asyncio.run(client.get_tools())


@pytest.fixture(scope="module")
def mcp_server_tools(tmp_path_factory):
    """The server's tools, loaded once per module (each call still opens its own stdio session)."""
    log = tmp_path_factory.mktemp("mcp") / "mcp.log"
    return mcp_tools(log), log


def mcp_agent_for(tools, **middleware):
    return create_agent(
        model=turns([call("delete_records", table="records", older_than_days=30)]),
        tools=tools,
        middleware=[HumanInTheLoopMiddleware(interrupt_on={"delete_records": True}, **middleware)],
        checkpointer=InMemorySaver(),
    )


@pytest.fixture
def mcp_agent(mcp_server_tools):
    tools, log = mcp_server_tools
    log.unlink(missing_ok=True)  # each test sees only its own calls
    return mcp_agent_for(tools), log


# the same agent with the middleware's other mode (installed langchain/agents/middleware/human_in_the_loop.py):
# one interrupt per gated call, raised as the (async-only) MCP tool starts
@pytest.fixture
def mcp_per_call_agent(mcp_server_tools):
    tools, log = mcp_server_tools
    log.unlink(missing_ok=True)
    return mcp_agent_for(tools, interrupt_mode="per_call"), log


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


# -- Deep Agents: the subagent's gated tool runs inside the main agent's `task` tool; the card names
# the subagent's own call, and each decision reaches it
def mailer_subagent(sent: list[dict]):
    create_deep_agent = pytest.importorskip("deepagents").create_deep_agent

    @tool
    def send_report(recipient: str, summary: str) -> str:
        """Send a report by email."""
        sent.append({"recipient": recipient, "summary": summary})
        return f"report sent to {recipient}"

    report = call("send_report", recipient="ceo@example.com", summary="Q3 is up.") | {"id": "mail_1"}
    delegate = call("task", description="Send the Q3 report to the CEO.", subagent_type="mailer") | {"id": "task_1"}
    mailer = {
        "name": "mailer",
        "description": "Sends reports by email.",
        "system_prompt": "You send reports.",
        "tools": [send_report],
        "model": turns([report], final="Report sent."),
        "interrupt_on": {"send_report": {"allowed_decisions": ["approve", "edit", "reject"]}},
    }
    return create_deep_agent(
        model=turns([delegate]),
        subagents=[mailer],
        system_prompt="You delegate.",
        checkpointer=InMemorySaver(),
    )


@pytest.mark.parametrize("decision", ["approve", "edit", "reject"])
def test_deep_agent_subagent_decisions_in_the_task_tool(decision):
    sent: list[dict] = []
    panel = panel_for(mailer_subagent(sent))
    panel.run("Send the Q3 report to the CEO.")
    assert "send_report" in str(panel) and "ceo@example.com" in str(panel) and len(cards(panel)) == 1
    assert labels(card(panel)) == ["Approve", "Edit", "Reject"] and sent == []
    if decision == "approve":
        approve(panel)
        assert sent == [{"recipient": "ceo@example.com", "summary": "Q3 is up."}]
    elif decision == "edit":
        edit_form(panel, Summary="Q3 is up 4%.")
        assert sent == [{"recipient": "ceo@example.com", "summary": "Q3 is up 4%."}]
        assert panel.decisions[0].edited_args == {"recipient": "ceo@example.com", "summary": "Q3 is up 4%."}
    else:
        reject(panel, "Wait for the audit.")
        assert sent == [] and panel.decisions[0].message == "Wait for the audit."
    assert panel.decisions[0].tool == "send_report" and decision_types(panel) == [decision]
    assert panel.status == "Done."
    task_results = [m for m in tool_messages(state(panel)) if m.tool_call_id == "task_1"]
    assert len(task_results) == 1  # the `task` call got the subagent's answer


def test_deep_agent_subagent_card_names_the_call_id():
    sent: list[dict] = []
    panel = panel_for(mailer_subagent(sent))
    panel.run("Send the Q3 report to the CEO.")
    assert "mail_1" in str(panel)
    approve(panel)
    assert panel.decisions[0].call_id == "mail_1"


# -- langgraph-supervisor (README quickstart: a research expert and a math expert), both workers' tools gated
def supervised_team(ran: list[tuple[str, dict]]):
    create_supervisor = pytest.importorskip("langgraph_supervisor").create_supervisor

    @tool
    def add(a: float, b: float) -> float:
        """Add two numbers."""
        ran.append(("add", {"a": a, "b": b}))
        return a + b

    @tool
    def web_search(query: str) -> str:
        """Search the web for information."""
        ran.append(("web_search", {"query": query}))
        return "Apple: 164,000 employees. Netflix: 14,000 employees."

    def worker(tool_name: str, args: dict, call_id: str, done: str):
        def script(messages):
            results = [m.content for m in messages if isinstance(m, ToolMessage) and m.name == tool_name]
            if results:
                return AIMessage(f"{done} {results[-1]}")
            return AIMessage("", tool_calls=[{"name": tool_name, "args": args, "id": call_id}])

        return ScriptedChat(script=script)

    def supervisor_script(messages):
        said = [m.content for m in messages if isinstance(m, AIMessage)]
        if not any(text.startswith("Found the headcounts.") for text in said):
            target = "transfer_to_research_expert"
        elif not any(text.startswith("Added them up.") for text in said):
            target = "transfer_to_math_expert"
        else:
            return AIMessage("The combined headcount is 178,000.")
        return AIMessage("", tool_calls=[{"name": target, "args": {}, "id": f"to_{len(said)}"}])

    research_agent = create_agent(
        model=worker("web_search", {"query": "FAANG headcount 2024"}, "search_1", "Found the headcounts."),
        tools=[web_search],
        middleware=[HumanInTheLoopMiddleware(interrupt_on={"web_search": True})],
        name="research_expert",
        system_prompt="You are a world class researcher with access to web search. Do not do any math.",
    )
    math_agent = create_agent(
        model=worker("add", {"a": 164000, "b": 14000}, "add_1", "Added them up."),
        tools=[add],
        middleware=[HumanInTheLoopMiddleware(interrupt_on={"add": {"allowed_decisions": ["approve", "reject"]}})],
        name="math_expert",
        system_prompt="You are a math expert. Always use one tool at a time.",
    )
    workflow = create_supervisor(
        [research_agent, math_agent],
        model=ScriptedChat(script=supervisor_script),
        prompt="You are a team supervisor managing a research expert and a math expert.",
    )
    return workflow.compile(checkpointer=InMemorySaver())


def test_supervisor_two_gated_workers():
    ran: list[tuple[str, dict]] = []
    panel = panel_for(supervised_team(ran))
    panel.run("what's the combined headcount of Apple and Netflix in 2024?")
    assert "web_search" in str(panel) and "search_1" in str(panel) and ran == []
    edit_form(panel, Query="Apple Netflix headcount 2024")
    assert ran == [("web_search", {"query": "Apple Netflix headcount 2024"})]
    assert "add" in str(panel) and "add_1" in str(panel) and labels(card(panel)) == ["Approve", "Reject"]
    approve(panel)
    assert ran[1] == ("add", {"a": 164000, "b": 14000})
    assert [m.content for m in state(panel)["messages"] if getattr(m, "name", None) == "math_expert"][0] == (
        "Added them up. 178000.0"
    )
    assert [(r.tool, r.call_id) for r in panel.decisions] == [("web_search", "search_1"), ("add", "add_1")]
    assert decision_types(panel) == ["edit", "approve"]
    assert state(panel)["messages"][-1].content == "The combined headcount is 178,000." and panel.status == "Done."


def test_supervisor_second_worker_rejected():
    ran: list[tuple[str, dict]] = []
    panel = panel_for(supervised_team(ran))
    panel.run("what's the combined headcount of Apple and Netflix in 2024?")
    approve(panel)
    reject(panel, "Do not add; just list them.")
    assert [name for name, _ in ran] == ["web_search"]
    assert panel.decisions[1].call_id == "add_1" and panel.decisions[1].message == "Do not add; just list them."
    math_says = [m.content for m in state(panel)["messages"] if getattr(m, "name", None) == "math_expert"]
    assert "Do not add; just list them." in math_says[0]  # the worker read the rejection


def test_mcp_per_call_approve(mcp_per_call_agent):
    agent, log = mcp_per_call_agent
    panel = panel_for(agent)
    panel.run("Delete records older than 30 days")
    assert panel._session.is_async and len(cards(panel)) == 1
    assert "delete_records" in str(panel) and "call_0_0" in str(panel) and ran(log) == []
    assert labels(card(panel)) == ["Approve", "Edit", "Reject", "Respond"]
    approve(panel)
    assert ran(log) == [{"table": "records", "older_than_days": 30}] and panel.status == "Done."
    assert decision_types(panel) == ["approve"] and panel.decisions[0].call_id == "call_0_0"
    assert tool_messages(state(panel))[-1].text == "deleted old rows from records"


def test_mcp_per_call_edit_form(mcp_per_call_agent):
    agent, log = mcp_per_call_agent
    panel = panel_for(agent)
    panel.run("Delete records older than 30 days")
    edit_form(panel, **{"Older Than Days": 365})
    assert ran(log) == [{"table": "records", "older_than_days": 365}]
    assert panel.decisions[0].edited_args == {"table": "records", "older_than_days": 365}


def test_mcp_per_call_reject(mcp_per_call_agent):
    agent, log = mcp_per_call_agent
    panel = panel_for(agent)
    panel.run("Delete records older than 30 days")
    reject(panel, "Keep everything.")
    assert ran(log) == [] and panel.decisions[0].message == "Keep everything."
    assert "Keep everything." in tool_messages(state(panel))[-1].content and panel.status == "Done."
