"""Graphs and helpers shared by the request, session and panel tests.

Every graph here is real (a compiled LangGraph graph with a checkpointer); the model is
the offline stand-in, or a subclass of it that fails on purpose.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal

from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.messages import AIMessage, AnyMessage, ToolMessage
from langchain_core.tools import BaseTool, StructuredTool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.types import interrupt
from pydantic import BaseModel
from typing_extensions import TypedDict

from hitl_widgets import OfflineChatModel
from hitl_widgets.graphs import build_review_graph, last_tool_calls
from hitl_widgets.inventory import InventoryStore, make_tools

REQUEST = "Check warehouse SF-01 for 'widget-x'. If stock is below 10 units, order 100 from 'Acme Supply'."
TWO_ITEMS = (
    "Check warehouse SF-01 for 'widget-x' and 'sprocket-z'. If stock is below 10 units, order 100 from 'Acme Supply'."
)
ORDER = "Create a PO for 100 units of 'widget-x' from vendor 'Acme Supply'."
LOOKUP = "Check warehouse SF-01 for 'widget-x'."
APPROVE = {"type": "approve"}
MODES = ("kit", "batched", "per_call", "tutorial")


def config(thread: str = "t") -> dict[str, Any]:
    return {"configurable": {"thread_id": thread}}


def agent(mode: str, store: InventoryStore, model: Any = None, tools: Sequence[BaseTool] | None = None):
    """The scenario agent with one of the review styles the panel must answer."""
    model = model or OfflineChatModel()
    tools = list(tools) if tools is not None else make_tools(store)
    if mode == "kit":
        return build_review_graph(model, tools, InMemorySaver())
    if mode == "tutorial":
        return tutorial_graph(model, tools)
    middleware = HumanInTheLoopMiddleware(interrupt_on={tool.name: True for tool in tools}, interrupt_mode=mode)
    return create_agent(model=model, tools=tools, middleware=[middleware], checkpointer=InMemorySaver())


# -- the reference tutorial's payload, in a graph that reads its answers correctly ------
class TutorialState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]
    decision: Any  # declared, so LangGraph keeps it


def tutorial_graph(model: Any, tools: Sequence[BaseTool], planner: Callable[[Any], AIMessage] | None = None):
    """One interrupt for all proposed calls, answered "approve", {"action": "reject"} or an edit."""
    by_name = {tool.name: tool for tool in tools}
    bound = model.bind_tools(list(tools)) if model is not None else None

    def agent_node(state):
        return {"messages": [planner(state) if planner else bound.invoke(state["messages"])]}

    def review(state):
        calls = last_tool_calls(state)
        decision = interrupt(
            {"type": "tool_approval_request", "tool_calls": calls, "instructions": "Review the calls."}
        )
        return {"decision": decision}

    def execute(state):
        decision, results = state.get("decision"), []
        for call in last_tool_calls(state):
            action = decision.get("action") if isinstance(decision, dict) else decision
            if action in ("approve", "edit") and call["name"] in by_name:
                args = decision["correction"] if action == "edit" else call["args"]
                results.append(
                    ToolMessage(str(by_name[call["name"]].invoke(args)), tool_call_id=call["id"], name=call["name"])
                )
            else:  # fail closed: anything else is a rejection
                results.append(
                    ToolMessage("Rejected by the reviewer; it did not run.", tool_call_id=call["id"], status="error")
                )
        return {"messages": results, "decision": None}

    builder = StateGraph(TutorialState)
    builder.add_node("agent", agent_node)
    builder.add_node("review", review)
    builder.add_node("execute", execute)
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", lambda s: "review" if last_tool_calls(s) else END, ["review", END])
    builder.add_edge("review", "execute")
    builder.add_edge("execute", "agent")
    return builder.compile(checkpointer=InMemorySaver())


def scripted(*calls: dict[str, Any]) -> Callable[[Any], AIMessage]:
    """A planner that proposes `calls` once, then answers."""

    def plan(state):
        if any(isinstance(m, ToolMessage) for m in state["messages"]):
            return AIMessage("Finished.")
        return AIMessage("", tool_calls=[{**call, "type": "tool_call"} for call in calls])

    return plan


# -- questions that are not tool calls --------------------------------------------------
class Budget(BaseModel):
    amount: int
    currency: Literal["USD", "EUR"] = "USD"


class QuestionState(TypedDict):
    answer: Any


def question_graph(with_schema: bool):
    """One node that asks a question: free text, or a form from a response schema."""

    def ask(state):
        if with_schema:
            answer = interrupt({"question": "What budget may the agent spend?"}, response_schema=Budget)
            return {"answer": answer.model_dump() if isinstance(answer, BaseModel) else answer}
        return {"answer": interrupt("Which vendor should we use?")}

    builder = StateGraph(QuestionState)
    builder.add_node("ask", ask)
    builder.add_edge(START, "ask")
    builder.add_edge("ask", END)
    return builder.compile(checkpointer=InMemorySaver())


# -- faults -------------------------------------------------------------------------------
class FailingModel(OfflineChatModel):
    """The offline model, failing its first `failures` calls with `error`."""

    failures: int = 1
    error: Any = None

    def _fail(self) -> None:
        if self.failures > 0:
            object.__setattr__(self, "failures", self.failures - 1)
            raise self.error or ConnectionRefusedError("Connection refused")

    def _generate(self, *args: Any, **kwargs: Any):
        self._fail()
        return super()._generate(*args, **kwargs)

    def _stream(self, *args: Any, **kwargs: Any):
        self._fail()
        yield from super()._stream(*args, **kwargs)


def flaky_tools(store: InventoryStore, failures: int = 1) -> list[BaseTool]:
    """The scenario tools, but the lookup raises its first `failures` times (before it runs)."""
    left = {"n": failures}

    def lookup_inventory(item: str, warehouse: str) -> str:
        if left["n"] > 0:
            left["n"] -= 1
            raise RuntimeError("inventory database is locked")
        return store.lookup_inventory(item, warehouse)

    tools = make_tools(store)
    flaky = StructuredTool.from_function(lookup_inventory, description=tools[0].description)
    return [flaky, *tools[1:]]


def blocking_tools(store: InventoryStore, started: threading.Event, release: threading.Event) -> list[BaseTool]:
    """The scenario tools, but the lookup waits for `release` (to hold a resume in flight)."""

    def lookup_inventory(item: str, warehouse: str) -> str:
        started.set()
        release.wait(10)
        return store.lookup_inventory(item, warehouse)

    tools = make_tools(store)
    return [StructuredTool.from_function(lookup_inventory, description=tools[0].description), *tools[1:]]


class Spy:
    """A graph that counts how often it was run or resumed; everything else passes through."""

    def __init__(self, graph: Any) -> None:
        self.graph, self.runs = graph, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.graph, name)

    def stream(self, *args: Any, **kwargs: Any):
        self.runs += 1
        return self.graph.stream(*args, **kwargs)

    def invoke(self, *args: Any, **kwargs: Any):
        self.runs += 1
        return self.graph.invoke(*args, **kwargs)
