"""The finished graph of each stage, so every notebook can start on a fresh kernel.

- `build_agent_graph` (notebook 02): agent <-> tools, no human. It will order stock
  nobody approved; that is the point of the lesson.
- `build_review_graph` (notebooks 03-07): agent -> review -> execute -> agent. The review
  node asks a human about each proposed call with `interrupt()`; `execute` runs only
  the calls a human approved or edited. It fails closed: the approved calls live in a
  declared state key that starts empty, and every decision passes `check_decision`.
- `build_parallel_review_graph` (notebook 07): the same review, one task per proposed
  call (a `Send` fan-out), so all the calls of a model turn wait together and each is
  answered by its interrupt id.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, ToolMessage
from langchain_core.tools import BaseTool
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.prebuilt import ToolNode
from langgraph.types import Overwrite, Send, interrupt
from pydantic import ValidationError
from typing_extensions import TypedDict

from .protocol import (
    DEFAULT_DECISIONS,
    as_dict,
    call_fingerprint,
    check_decision,
    decision_schema,
    edit_note,
    rejection_message,
    review_request,
)

AUTO_APPROVE = "auto"
"""A policy value: the tool runs without asking (use it only for read-only tools)."""


class AgentState(TypedDict):
    """Only what the graph needs; a key a node returns that is not declared is dropped."""

    messages: Annotated[list[AnyMessage], add_messages]


class ReviewState(AgentState):
    approved_calls: list[dict[str, Any]]
    """The calls a human approved (or edited) in the last review: all that `execute` runs."""
    reviews: Annotated[list[dict[str, Any]], operator.add]
    """Every decision made in this thread, kept with it by the checkpointer: the audit trail."""


def review_record(call: dict[str, Any], decision: dict[str, Any]) -> dict[str, Any]:
    """One line of the audit trail: who was asked what, and what they decided."""
    edited = decision.get("edited_action", {}).get("args")
    return {
        "tool": call["name"],
        "call_id": call["id"],
        "decision": decision["type"],
        "args": call["args"],
        "edited_args": edited,
        "message": decision.get("message", ""),
    }


def last_tool_calls(state: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The tool calls of the last message, when it is an AI message that made any."""
    messages = state.get("messages") or []
    last = messages[-1] if messages else None
    return [dict(call) for call in last.tool_calls] if isinstance(last, AIMessage) else []


def _agent_node(model: BaseChatModel, tools: Sequence[BaseTool]):
    bound = model.bind_tools(list(tools))

    def agent(state: AgentState) -> dict[str, Any]:
        return {"messages": [bound.invoke(state["messages"])]}

    return agent


def build_agent_graph(model: BaseChatModel, tools: Sequence[BaseTool], checkpointer: Any = None):
    """Notebook 02: the model calls tools in a loop until it answers. No human."""
    builder = StateGraph(AgentState)
    builder.add_node("agent", _agent_node(model, tools))
    builder.add_node("tools", ToolNode(list(tools)))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", lambda s: "tools" if last_tool_calls(s) else END, ["tools", END])
    builder.add_edge("tools", "agent")
    return builder.compile(checkpointer=checkpointer)


Policy = Mapping[str, Sequence[str] | str]


def _call_reviewer(tools: Sequence[BaseTool], policy: Policy | None):
    """Asks about ONE proposed call and returns its state update; shared by both review graphs.

    `policy` maps a tool name to the decisions a reviewer may make, or to
    `AUTO_APPROVE`; tools it does not name get approve, edit and reject. A bad rule
    fails here, when the graph is built, not at the first review.
    """
    by_name = {tool.name: tool for tool in tools}
    policy = dict(policy or {})
    for name, rule in policy.items():
        if isinstance(rule, str) and rule != AUTO_APPROVE:
            raise ValueError(
                f"Policy for {name!r} is {rule!r}: give a list of decisions such as "
                f"['approve', 'reject'], or AUTO_APPROVE to run it without asking."
            )

    def review_call(call: dict[str, Any]) -> dict[str, list]:
        tool = by_name.get(call["name"])
        if tool is None:
            error = ToolMessage(
                f"Error: there is no tool named {call['name']!r}.", tool_call_id=call["id"], status="error"
            )
            return {"messages": [error]}
        rule = policy.get(call["name"], DEFAULT_DECISIONS)
        if rule == AUTO_APPROVE:
            return {"approved_calls": [bound_call(call)]}
        allowed = tuple(rule)
        answer = interrupt(review_request(call, tool, allowed), response_schema=decision_schema(tool, allowed))
        decision = check_decision(as_dict(answer), call, tool, allowed)
        update: dict[str, list] = {"reviews": [review_record(call, decision)]}
        if decision["type"] == "approve":
            update["approved_calls"] = [bound_call(call)]
        elif decision["type"] == "edit":
            update["approved_calls"] = [bound_call(call, decision["edited_action"]["args"])]
        elif decision["type"] == "reject":
            update["messages"] = [rejection_message(call, decision.get("message", ""))]
        else:
            update["messages"] = [ToolMessage(decision["message"], tool_call_id=call["id"], name=call["name"])]
        return update

    return review_call


def review_node(tools: Sequence[BaseTool], policy: Policy | None = None):
    """One `interrupt()` per proposed call, in order; the answers decide what may run.

    The node re-runs from the top on every resume, so it has no side effects: the
    answered interrupts return their saved answers and only the next one pauses.
    """
    review_call = _call_reviewer(tools, policy)

    def review(state: ReviewState) -> dict[str, Any]:
        update: dict[str, list] = {"approved_calls": [], "messages": [], "reviews": []}
        for call in last_tool_calls(state):
            for key, values in review_call(call).items():
                update[key].extend(values)
        return update

    return review


def bound_call(call: dict[str, Any], edited_args: dict[str, Any] | None = None) -> dict[str, Any]:
    """An approved call as `execute` gets it: with the fingerprint of exactly what may run."""
    args = call["args"] if edited_args is None else edited_args
    bound = {**call, "args": args, "fingerprint": call_fingerprint(call["name"], args, call["id"])}
    return {**bound, "edited": True} if edited_args is not None else bound


def binding_problem(call: Mapping[str, Any]) -> str | None:
    """Why `call` must not run: it is not what was approved (or carries no approval at all)."""
    approved = call.get("fingerprint")
    if not approved:
        return (
            f"Refused: {call.get('name')} carries no approval fingerprint, so nothing shows a human (or a rule) "
            "approved exactly this call. Nothing ran; route it through the review node."
        )
    actual = call_fingerprint(call["name"], call.get("args") or {}, call.get("id"))
    if actual != approved:
        return (
            f"Refused: {call['name']} was about to run with arguments {json.dumps(call.get('args'), sort_keys=True)}, "
            f"which is not what was approved (approved fingerprint {approved}, this call {actual}). "
            "Nothing ran; something changed the call after its review. Ask for a new review."
        )
    return None


def execute_node(tools: Sequence[BaseTool], *, bind: bool = True):
    """Runs exactly the approved calls, once each, then forgets them.

    With `bind` (the default) each call must carry the fingerprint its review gave it, and
    runs only if the fingerprint of what is about to run is the same (`binding_problem`).
    `bind=False` is the naive executor of notebook 12's lab: it runs whatever it is handed.
    """
    by_name = {tool.name: tool for tool in tools}

    def execute(state: ReviewState) -> dict[str, Any]:
        results = []
        for call in state.get("approved_calls") or []:
            problem = binding_problem(call) if bind else None
            if problem:
                results.append(ToolMessage(problem, tool_call_id=call["id"], name=call["name"], status="error"))
                continue
            try:
                output = by_name[call["name"]].invoke(call["args"])
            except ValidationError as error:  # the model's own arguments were malformed
                output = f"Error: invalid arguments for {call['name']}: {error.errors()[0]['msg']}."
            note = edit_note(call, call["args"]) if call.get("edited") else ""
            results.append(ToolMessage(f"{note}{output}", tool_call_id=call["id"], name=call["name"]))
        return {"messages": results, "approved_calls": []}

    return execute


def _after_agent(state: ReviewState) -> Literal["review", "__end__"]:
    return "review" if last_tool_calls(state) else "__end__"  # END; the Literal names the edges drawn


def build_review_graph(
    model: BaseChatModel,
    tools: Sequence[BaseTool],
    checkpointer: Any,
    policy: Policy | None = None,
):
    """Notebooks 03-07: every proposed call waits for a human, unless `policy` says otherwise."""
    builder = StateGraph(ReviewState)
    builder.add_node("agent", _agent_node(model, tools))
    builder.add_node("review", review_node(tools, policy))
    builder.add_node("execute", execute_node(tools))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", _after_agent)
    builder.add_edge("review", "execute")
    builder.add_edge("execute", "agent")
    return builder.compile(checkpointer=checkpointer)


# -- Notebook 07: several reviews pending together ------------------------------------


class ParallelReviewState(AgentState):
    approved_calls: Annotated[list[dict[str, Any]], operator.add]
    """Each review task adds the call it approved (or edited); `execute` empties the list."""
    reviews: Annotated[list[dict[str, Any]], operator.add]
    """Every decision made in this thread: the audit trail, as in `ReviewState`."""


class CallReview(TypedDict):
    """What one review task gets from the fan-out: one proposed call."""

    call: dict[str, Any]


def review_call_node(tools: Sequence[BaseTool], policy: Policy | None = None):
    """Reviews ONE proposed call: the task the fan-out starts once per call.

    Same rules as `review_node`, but each call is its own task, so their interrupts are
    pending at the same time and each is answered by its interrupt id. A task that got
    its answer is done; answering another one later does not run it again.
    """
    review_call = _call_reviewer(tools, policy)

    def review_one(task: CallReview) -> dict[str, Any]:
        return review_call(task["call"])

    return review_one


def _fan_out(state: ParallelReviewState) -> list[Send] | Literal["__end__"]:
    calls = last_tool_calls(state)
    return [Send("review_call", {"call": call}) for call in calls] if calls else "__end__"  # END


def _execute_in_order(tools: Sequence[BaseTool]):
    run = execute_node(tools)

    def execute(state: ParallelReviewState) -> dict[str, Any]:
        order = {call["id"]: index for index, call in enumerate(last_tool_calls(state))}
        approved = sorted(state.get("approved_calls") or [], key=lambda call: order.get(call["id"], len(order)))
        update = run({**state, "approved_calls": approved})
        return {**update, "approved_calls": Overwrite([])}  # a reducer would append; empty it

    return execute


def build_parallel_review_graph(
    model: BaseChatModel,
    tools: Sequence[BaseTool],
    checkpointer: Any,
    policy: Policy | None = None,
):
    """Notebook 07: one review task per proposed call (a `Send` fan-out), so all the
    calls of one model turn wait together, each answered by its interrupt id:
    `Command(resume={interrupt_id: decision, ...})`. `execute` runs once every task
    has its answer, and only the approved or edited calls, in the model's order.
    """
    builder = StateGraph(ParallelReviewState)
    builder.add_node("agent", _agent_node(model, tools))
    builder.add_node("review_call", review_call_node(tools, policy))
    builder.add_node("execute", _execute_in_order(tools))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", _fan_out, ["review_call", END])
    builder.add_edge("review_call", "execute")
    builder.add_edge("execute", "agent")
    return builder.compile(checkpointer=checkpointer)
