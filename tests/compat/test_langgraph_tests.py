"""Interrupt shapes from LangGraph's own tests, answered through the panel's widgets.

Source: langchain-ai/langgraph, libs/langgraph/tests/test_pregel.py (named per test below)
and libs/langgraph/tests/test_interrupt_schema_validation.py. Each graph restates the
test's graph; the test's `checkpointer` fixture is an `InMemorySaver` here.
"""

from __future__ import annotations

import operator
from typing import Annotated

import pytest
from driver import aio, answer, answer_form, card, cards, panel_for, state, variants
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.func import entrypoint, task
from langgraph.graph import START, StateGraph
from langgraph.types import Send, interrupt
from pydantic import BaseModel
from typing_extensions import TypedDict


def node(function, mode: str):
    return aio(function) if mode == "async" else function


# -- test_interrupt_task_functional: a @task interrupts; the entrypoint chains two tasks
def task_functional(mode: str):
    @task
    def foo(state: dict) -> dict:
        return {"a": state["a"] + "foo"}

    @task
    def bar(state: dict) -> dict:
        value = interrupt("Provide value for bar:")
        return {"a": state["a"] + value}

    if mode == "async":

        @entrypoint(checkpointer=InMemorySaver())
        async def graph(inputs: dict) -> dict:
            return await bar(await foo(inputs))

    else:

        @entrypoint(checkpointer=InMemorySaver())
        def graph(inputs: dict) -> dict:
            return bar(foo(inputs).result()).result()

    return graph


@pytest.mark.parametrize("mode", variants())
def test_interrupt_task_functional(mode):
    panel = panel_for(task_functional(mode))
    panel.run({"a": ""})
    assert "Provide value for bar:" in str(panel)
    answer(panel, "bar")
    assert state(panel) == {"a": "foobar"} and panel.status == "Done."


def test_interrupt_task_functional_shows_the_result():
    panel = panel_for(task_functional("sync"))
    panel.run({"a": ""})
    answer(panel, "bar")
    assert "Answer:" in str(panel) and "foobar" in str(panel)


# -- test_interrupt_functional: the entrypoint itself interrupts between two tasks
def test_interrupt_functional():
    @task
    def foo(state: dict) -> dict:
        return {"a": state["a"] + "foo"}

    @task
    def bar(state: dict) -> dict:
        return {"a": state["a"] + "bar", "b": state["b"]}

    @entrypoint(checkpointer=InMemorySaver())
    def graph(inputs: dict) -> dict:
        fut_foo = foo(inputs)
        value = interrupt("Provide value for bar:")
        return bar({**fut_foo.result(), "b": value}).result()

    panel = panel_for(graph)
    panel.run({"a": ""})
    answer(panel, "bar")
    assert state(panel) == {"a": "foobar", "b": "bar"}


# -- test_interrupt_multiple: two interrupts in one node, each answered in turn
class KeyState(TypedDict):
    my_key: Annotated[str, operator.add]


@pytest.mark.parametrize("mode", variants())
def test_interrupt_multiple(mode):
    def ask_twice(s: KeyState) -> KeyState:
        answer = interrupt({"value": 1})
        answer2 = interrupt({"value": 2})
        return {"my_key": answer + " " + answer2}

    builder = StateGraph(KeyState)
    builder.add_node("node", node(ask_twice, mode))
    builder.add_edge(START, "node")
    panel = panel_for(builder.compile(checkpointer=InMemorySaver()))
    panel.run({"my_key": "DE"})
    assert '{"value": 1}' in str(panel)
    answer(panel, "answer 1")
    assert '{"value": 2}' in str(panel)
    answer(panel, "answer 2")
    assert state(panel) == {"my_key": "DEanswer 1 answer 2"} and len(panel.decisions) == 2


# -- test_interrupt_loop: one node re-asks in a loop until the answer validates
class AgeState(TypedDict):
    age: int
    other: str


def test_interrupt_loop():
    def ask_age(s: AgeState):
        """Ask an expert for help."""
        question = "How old are you?"
        value = None
        for _ in range(10):
            value: str = interrupt(question)
            if not value.isdigit() or int(value) < 18:
                question = "invalid response"
                value = None
            else:
                break
        return {"age": int(value)}

    builder = StateGraph(AgeState)
    builder.add_node("node", ask_age)
    builder.add_edge(START, "node")
    panel = panel_for(builder.compile(checkpointer=InMemorySaver()))
    panel.run({"other": ""})
    assert "How old are you?" in str(panel)
    answer(panel, "foo")
    assert "invalid response" in str(panel)
    answer(panel, "13")
    assert "invalid response" in str(panel)
    answer(panel, "19")
    assert state(panel) == {"age": 19, "other": ""} and len(panel.decisions) == 3


# -- test_interrupt_subgraph: the interrupt is in a compiled subgraph used as a node
class BazState(TypedDict):
    baz: str


def baz_subgraph(mode: str, nested: bool = False):
    def foo(state):
        return {"baz": "foo"}

    def bar(state):
        value = interrupt("Please provide baz value:")
        return {"baz": value}

    child = StateGraph(BazState)
    child.add_node("bar", node(bar, mode))
    child.add_edge(START, "bar")
    inner = child.compile()
    if nested:  # a subgraph inside a subgraph (test_interrupt_subgraph's nested variant)
        middle = StateGraph(BazState)
        middle.add_node("child", inner)
        middle.add_edge(START, "child")
        inner = middle.compile()
    builder = StateGraph(BazState)
    builder.add_node("foo", node(foo, mode))
    builder.add_node("bar", inner)
    builder.add_edge(START, "foo")
    builder.add_edge("foo", "bar")
    return builder.compile(checkpointer=InMemorySaver())


@pytest.mark.parametrize("mode", variants())
@pytest.mark.parametrize("nested", [False, True], ids=["subgraph", "nested-subgraph"])
def test_interrupt_subgraph(mode, nested):
    panel = panel_for(baz_subgraph(mode, nested))
    panel.run({"baz": ""})
    assert "Please provide baz value:" in str(panel)
    answer(panel, "bar")
    assert state(panel) == {"baz": "bar"} and panel.status == "Done."


# -- test_dynamic_interrupt: the node interrupts only for one market, counting its runs
class MarketState(TypedDict):
    my_key: Annotated[str, operator.add]
    market: str


@pytest.mark.parametrize("market", ["DE", "US"])
def test_dynamic_interrupt(market):
    runs = {"tool_two": 0}

    def tool_two_node(s: MarketState) -> MarketState:
        runs["tool_two"] += 1
        answer = interrupt("Just because...") if s["market"] == "DE" else " all good"
        return {"my_key": answer}

    builder = StateGraph(MarketState)
    builder.add_node("tool_two", tool_two_node)
    builder.add_edge(START, "tool_two")
    panel = panel_for(builder.compile(checkpointer=InMemorySaver()))
    panel.run({"my_key": "value", "market": market})
    if market == "DE":
        assert "Just because..." in str(panel) and runs["tool_two"] == 1
        answer(panel, " my answer")
        assert state(panel)["my_key"] == "value my answer" and runs["tool_two"] == 2
    else:
        assert cards(panel) == [] and state(panel)["my_key"] == "value all good" and runs["tool_two"] == 1


# -- test_send_react_interrupt_control / parallel Send branches each interrupting
class FanState(TypedDict):
    items: list[str]
    approved: Annotated[list[str], operator.add]


def fan_out(mode: str):
    def review(arg: dict):
        verdict = interrupt(f"Approve {arg['item']}?")
        return {"approved": [arg["item"]] if verdict == "yes" else []}

    builder = StateGraph(FanState)
    builder.add_node("review", node(review, mode))
    builder.add_conditional_edges(START, lambda s: [Send("review", {"item": i}) for i in s["items"]], ["review"])
    return builder.compile(checkpointer=InMemorySaver())


@pytest.mark.parametrize("mode", variants())
def test_interrupts_in_parallel_send_branches(mode):
    panel = panel_for(fan_out(mode))
    panel.run({"items": ["apples", "pears", "plums"], "approved": []})
    assert len(cards(panel)) == 3
    assert {i.value for i in panel.pending} == {"Approve apples?", "Approve pears?", "Approve plums?"}
    # answer in the order shown: yes to apples and plums, no to pears
    while cards(panel):
        text = card(panel, 0).children[0].value
        answer(panel, "no" if "pears" in text else "yes", 0)
    assert sorted(state(panel)["approved"]) == ["apples", "plums"]
    assert len(panel.decisions) == 3 and panel.status == "Done."


# -- test_multiple_interrupts_resume_map (parallel nodes, resumed by interrupt id)
class ValsState(TypedDict):
    vals: Annotated[list[str], operator.add]


def test_resume_map_by_id_keeps_answers_with_their_questions():
    def a(state):
        return {"vals": [f"a:{interrupt('question_a')}"]}

    def b(state):
        return {"vals": [f"b:{interrupt('question_b')}"]}

    builder = StateGraph(ValsState)
    builder.add_node("a", a)
    builder.add_node("b", b)
    builder.add_edge(START, "a")
    builder.add_edge(START, "b")
    panel = panel_for(builder.compile(checkpointer=InMemorySaver()))
    panel.run({"vals": []})
    while cards(panel):
        question = next(q for q in ("question_a", "question_b") if q in card(panel, 0).children[0].value)
        answer(panel, f"answer for {question}", 0)
    assert sorted(state(panel)["vals"]) == ["a:answer for question_a", "b:answer for question_b"]


# -- test_interrupt_schema_validation: a typed response_schema; bad answers are refused, good ones kept
class Approval(BaseModel):
    approved: bool
    amount: int


class AnyState(TypedDict):
    answer: object


def schema_graph():
    def ask(state):
        return {"answer": interrupt({"question": "approve?"}, response_schema=Approval)}

    builder = StateGraph(AnyState)
    builder.add_node("node", ask)
    builder.add_edge(START, "node")
    return builder.compile(checkpointer=InMemorySaver())


def test_interrupt_schema_validation_form():
    panel = panel_for(schema_graph())
    panel.run({"answer": None})
    answer_form(panel, Approved=True, Amount=125)
    assert state(panel)["answer"] == Approval(approved=True, amount=125)
    assert panel.decisions[0].message == {"approved": True, "amount": 125}
