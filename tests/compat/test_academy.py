"""LangChain Academy, module 3 (human-in-the-loop), answered through the panel's widgets.

Source: langchain-ai/langchain-academy, module-3/breakpoints.ipynb,
module-3/edit-state-human-feedback.ipynb and module-3/dynamic-breakpoints.ipynb.
The lessons pause with static breakpoints (`interrupt_before=[...]`) and resume with
`graph.update_state(...)` plus `graph.stream(None, ...)`; the panel answers `interrupt()`
only, so each graph is PORTED: the breakpoint becomes a node that calls `interrupt()`
(said again at each port). One test keeps the static breakpoint unported.
"""

from __future__ import annotations

import warnings

import ipywidgets as widgets
import pytest
from driver import ScriptedChat, aio, answer, card, cards, labels, panel_for, state, variants
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langgraph.checkpoint.memory import MemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition
from langgraph.types import interrupt
from typing_extensions import TypedDict
from widget_tree import find


def arithmetic(runs: list[tuple[str, int, int]]):
    def multiply(a: int, b: int) -> int:
        """Multiply a and b.

        Args:
            a: first int
            b: second int
        """
        runs.append(("multiply", a, b))
        return a * b

    return [multiply]


def llm():
    """The lesson's ChatOpenAI("gpt-4o"): multiply the two numbers of the latest request, then answer."""

    def script(messages):
        if isinstance(messages[-1], ToolMessage):
            return AIMessage(f"The result is {messages[-1].content}.")
        request = [m.content for m in messages if isinstance(m, HumanMessage)][-1]
        a, b = (3, 3) if "3 and 3" in request else (2, 3)
        return AIMessage("", tool_calls=[{"name": "multiply", "args": {"a": a, "b": b}, "id": f"call_{a}_{b}"}])

    return ScriptedChat(script=script)


SYS = SystemMessage(content="You are a helpful assistant tasked with performing arithmetic on a set of inputs.")


def assistant_for(tools, mode):
    llm_with_tools = llm().bind_tools(tools)

    def assistant(state: MessagesState):
        return {"messages": [llm_with_tools.invoke([SYS] + state["messages"])]}

    return aio(assistant) if mode == "async" else assistant


# -- breakpoints.ipynb, PORTED: `interrupt_before=["tools"]` became a "human_approval" node
def breakpoints_graph(runs, mode="sync"):
    tools = arithmetic(runs)

    def human_approval(state: MessagesState):
        user_approval = interrupt("Do you want to call the tool? (yes/no)")
        return {"messages": []} if user_approval.lower() == "yes" else {"messages": [AIMessage("Operation cancelled.")]}

    builder = StateGraph(MessagesState)
    builder.add_node("assistant", assistant_for(tools, mode))
    builder.add_node("human_approval", aio(human_approval) if mode == "async" else human_approval)
    builder.add_node("tools", ToolNode(tools))
    builder.add_edge(START, "assistant")
    builder.add_conditional_edges("assistant", tools_condition, {"tools": "human_approval", END: END})
    builder.add_conditional_edges(
        "human_approval", lambda s: END if s["messages"][-1].content == "Operation cancelled." else "tools"
    )
    builder.add_edge("tools", "assistant")
    return builder.compile(checkpointer=MemorySaver())


@pytest.mark.parametrize("mode", variants())
def test_breakpoint_ported_approved(mode):
    runs: list = []
    panel = panel_for(breakpoints_graph(runs, mode))
    panel.run("Multiply 2 and 3")
    assert "Do you want to call the tool?" in str(panel)
    answer(panel, "yes")
    assert runs == [("multiply", 2, 3)]
    assert state(panel)["messages"][-1].content == "The result is 6." and "The result is 6." in str(panel)


def test_breakpoint_ported_declined():
    runs: list = []
    panel = panel_for(breakpoints_graph(runs))
    panel.run("Multiply 2 and 3")
    answer(panel, "no")
    assert runs == [] and state(panel)["messages"][-1].content == "Operation cancelled."


# -- breakpoints.ipynb as written: a static breakpoint before "tools" (not ported)
def test_static_breakpoint_is_reported_and_nothing_runs():
    runs: list = []
    tools = arithmetic(runs)
    builder = StateGraph(MessagesState)
    builder.add_node("assistant", assistant_for(tools, "sync"))
    builder.add_node("tools", ToolNode(tools))
    builder.add_edge(START, "assistant")
    builder.add_conditional_edges("assistant", tools_condition)
    builder.add_edge("tools", "assistant")
    graph = builder.compile(interrupt_before=["tools"], checkpointer=MemorySaver())
    panel = panel_for(graph)
    panel.run("Multiply 2 and 3")
    assert panel.status.startswith("Stopped at a breakpoint before tools")
    assert cards(panel) == [] and runs == [] and panel.decisions == ()


# -- edit-state-human-feedback.ipynb, PORTED: the no-op "human_feedback" node behind
# `interrupt_before=["human_feedback"]` + `update_state(..., as_node="human_feedback")` now asks itself
def feedback_graph(runs, mode="sync"):
    tools = arithmetic(runs)

    def human_feedback(state: MessagesState):
        user_input = interrupt("Tell me how you want to update the state:")
        # "ok" (or nothing) stands for the lesson's resume without an update_state call
        return {"messages": [HumanMessage(user_input)]} if user_input.strip().lower() not in ("", "ok") else {}

    builder = StateGraph(MessagesState)
    builder.add_node("assistant", assistant_for(tools, mode))
    builder.add_node("tools", ToolNode(tools))
    builder.add_node("human_feedback", aio(human_feedback) if mode == "async" else human_feedback)
    builder.add_edge(START, "human_feedback")
    builder.add_edge("human_feedback", "assistant")
    builder.add_conditional_edges("assistant", tools_condition)
    builder.add_edge("tools", "human_feedback")
    return builder.compile(checkpointer=MemorySaver())


@pytest.mark.parametrize("mode", variants())
def test_edit_state_with_human_feedback(mode):
    runs: list = []
    panel = panel_for(feedback_graph(runs, mode))
    panel.run("Multiply 2 and 3")
    answer(panel, "No, actually multiply 3 and 3!")
    assert runs == [("multiply", 3, 3)]
    answer(panel, "ok")  # the lesson's second pass: go on without feedback
    assert state(panel)["messages"][-1].content == "The result is 9." and panel.status == "Done."


# -- dynamic-breakpoints.ipynb as written: step_2 raises NodeInterrupt on long input
class State(TypedDict):
    input: str


def dynamic_graph(steps: list[str]):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from langgraph.errors import NodeInterrupt

    def step_1(state: State) -> State:
        steps.append("step_1")
        return state

    def step_2(state: State) -> State:
        if len(state["input"]) > 5:
            raise NodeInterrupt(f"Received input that is longer than 5 characters: {state['input']}")
        steps.append("step_2")
        return state

    def step_3(state: State) -> State:
        steps.append("step_3")
        return state

    builder = StateGraph(State)
    builder.add_node("step_1", step_1)
    builder.add_node("step_2", step_2)
    builder.add_node("step_3", step_3)
    builder.add_edge(START, "step_1")
    builder.add_edge("step_1", "step_2")
    builder.add_edge("step_2", "step_3")
    builder.add_edge("step_3", END)
    return builder.compile(checkpointer=MemorySaver())


def test_dynamic_breakpoint_not_hit():
    steps: list[str] = []
    panel = panel_for(dynamic_graph(steps))
    panel.run({"input": "hi"})
    assert steps == ["step_1", "step_2", "step_3"] and panel.status == "Done."


def test_dynamic_breakpoint_is_shown():
    steps: list[str] = []
    panel = panel_for(dynamic_graph(steps))
    panel.run({"input": "hello world"})
    assert "longer than 5 characters: hello world" in str(panel) and steps == ["step_1"]
    assert len(cards(panel)) == 1 and card(panel)


def test_dynamic_breakpoint_offers_no_answer_and_refuses_one():
    steps: list[str] = []
    panel = panel_for(dynamic_graph(steps))
    panel.run({"input": "hello world"})
    assert labels(card(panel)) == [] and not find(card(panel), widgets.Textarea)  # nothing to answer with
    assert "cannot be answered, only continued by updating" in str(panel)
    panel.decide("hi", panel._session.outcome().requests[0].interrupt_id)
    assert panel.decisions == () and "NodeInterrupt, which no answer can resume" in str(panel)
    assert steps == ["step_1"]
