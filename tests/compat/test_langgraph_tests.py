"""Interrupt shapes from LangGraph's own tests, answered through the panel's widgets.

Source: langchain-ai/langgraph, libs/langgraph/tests/test_pregel.py (named per test below),
libs/langgraph/tests/test_interrupt_schema_validation.py, libs/prebuilt/tests/test_react_agent.py
and the installed `langgraph/types.py` (`interrupt`'s `response_schema`). Each graph restates
the test's graph; the test's `checkpointer` fixture is an `InMemorySaver` here.
"""

from __future__ import annotations

import operator
import warnings
from typing import Annotated, Literal

import pytest
from driver import aio, answer, answer_form, call, card, cards, panel_for, state, tool_messages, turns, variants
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.func import entrypoint, task
from langgraph.graph import START, StateGraph
from langgraph.types import Command, Send, interrupt
from pydantic import BaseModel, Field
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


# -- test_double_interrupt_subgraph: a node function invokes a subgraph that asks twice in a row
class InputState(TypedDict):
    input: str


def sub_agent_caller(mode: str):
    def node_1(state: InputState):
        return {"input": interrupt("interrupt node 1")}

    def node_2(state: InputState):
        return {"input": interrupt("interrupt node 2")}

    sub = StateGraph(InputState)
    sub.add_node("node_1", node(node_1, mode))
    sub.add_node("node_2", node(node_2, mode))
    sub.add_edge(START, "node_1")
    sub.add_edge("node_1", "node_2")
    subgraph = sub.compile()  # no checkpointer of its own: the parent's is used

    def invoke_sub_agent(state: InputState):
        return subgraph.invoke(state)

    async def ainvoke_sub_agent(state: InputState):
        return await subgraph.ainvoke(state)

    parent = StateGraph(InputState)
    parent.add_node("invoke_sub_agent", ainvoke_sub_agent if mode == "async" else invoke_sub_agent)
    parent.add_edge(START, "invoke_sub_agent")
    return parent.compile(checkpointer=InMemorySaver())


@pytest.mark.parametrize("mode", variants())
def test_double_interrupt_in_a_subgraph_called_from_a_node(mode):
    panel = panel_for(sub_agent_caller(mode))
    panel.run({"input": "test"})
    assert "interrupt node 1" in str(panel) and len(cards(panel)) == 1
    answer(panel, "first")
    assert "interrupt node 2" in str(panel) and "interrupt node 1" not in str(panel)
    answer(panel, "second")
    assert state(panel) == {"input": "second"} and panel.status == "Done."
    assert [r.message for r in panel.decisions] == ["first", "second"]


# -- test_interrupt_subgraph_reenter_checkpointer_true: Command(update=..., goto=...) re-enters a
# subgraph (checkpointer=True) called from a node function; it asks again on each entry
class ReenterSubState(TypedDict):
    foo: str
    bar: str


class ReenterParentState(TypedDict):
    foo: str
    counter: int


def reentered_subgraph(called: list[str], bar_values: list):
    def subnode_1(state: ReenterSubState):
        called.append("subnode_1")
        bar_values.append(state.get("bar"))
        return {"foo": "subgraph_1"}

    def subnode_2(state: ReenterSubState):
        called.append("subnode_2")
        value = interrupt("Provide value") + "baz"
        return {"foo": "subgraph_2", "bar": value}

    sub = StateGraph(ReenterSubState)
    sub.add_node("subnode_1", subnode_1)
    sub.add_node("subnode_2", subnode_2)
    sub.add_edge(START, "subnode_1")
    sub.add_edge("subnode_1", "subnode_2")
    subgraph = sub.compile(checkpointer=True)  # keeps its own state across entries

    def call_subgraph(state: ReenterParentState):
        called.append("call_subgraph")
        return subgraph.invoke(state)

    def parent_node(state: ReenterParentState):
        called.append("parent")
        if state["counter"] < 1:
            return Command(goto="call_subgraph", update={"counter": state["counter"] + 1})
        return {"foo": state["foo"] + "|parent"}

    builder = StateGraph(ReenterParentState)
    builder.add_node("call_subgraph", call_subgraph)
    builder.add_node("node", parent_node)
    builder.add_edge(START, "call_subgraph")
    builder.add_edge("call_subgraph", "node")
    return builder.compile(checkpointer=InMemorySaver())


def test_interrupt_after_command_goto_reenters_the_subgraph():
    called: list[str] = []
    bar_values: list = []
    panel = panel_for(reentered_subgraph(called, bar_values))
    panel.run({"foo": "", "counter": 0})
    assert "Provide value" in str(panel)
    answer(panel, "bar")
    assert "Provide value" in str(panel) and state(panel)["counter"] == 1  # after Command(update, goto)
    answer(panel, "qux")
    assert state(panel) == {"foo": "subgraph_2|parent", "counter": 1} and panel.status == "Done."
    assert called == ["call_subgraph", "subnode_1", "subnode_2", "call_subgraph", "subnode_2", "parent"] * 2
    assert bar_values == [None, "barbaz"]  # the second entry saw the first entry's answer
    assert [r.message for r in panel.decisions] == ["bar", "qux"]


# -- test_task_before_interrupt_resume: the same @task asks twice, with different questions
def topics_workflow(mode: str, setups: list[int]):
    @task
    def setup(n: int) -> int:
        setups.append(n)
        return n

    @task
    def ask(question: str) -> str:
        return interrupt(question)

    if mode == "async":

        @entrypoint(checkpointer=InMemorySaver())
        async def workflow(number_of_topics: int) -> dict:
            n = await setup(number_of_topics)
            return {"answers": [await ask(f"Whats the answer for topic {i + 1}?") for i in range(n)]}

    else:

        @entrypoint(checkpointer=InMemorySaver())
        def workflow(number_of_topics: int) -> dict:
            n = setup(number_of_topics).result()
            return {"answers": [ask(f"Whats the answer for topic {i + 1}?").result() for i in range(n)]}

    return workflow


@pytest.mark.parametrize("mode", variants())
def test_task_called_twice_asks_twice(mode):
    setups: list[int] = []
    panel = panel_for(topics_workflow(mode, setups))
    panel.run(2)
    assert "Whats the answer for topic 1?" in str(panel) and len(cards(panel)) == 1
    answer(panel, "answer1")
    assert "Whats the answer for topic 2?" in str(panel) and "topic 1?" not in str(panel)
    answer(panel, "answer2")
    assert state(panel) == {"answers": ["answer1", "answer2"]} and panel.status == "Done."
    assert setups == [2]  # the setup task ran once; its result was reused on each resume


# -- test_multiple_interrupts_functional: tasks and interrupts interleaved in a loop
def interleaved(mode: str, runs: list[int]):
    @task
    def double(x: int) -> int:
        runs.append(x)
        return 2 * x

    if mode == "async":

        @entrypoint(checkpointer=InMemorySaver())
        async def graph(state: dict) -> dict:
            values = []
            for idx in [1, 2, 3]:
                values.extend([await double(idx), interrupt({"a": "boo"})])
            return {"values": values}

    else:

        @entrypoint(checkpointer=InMemorySaver())
        def graph(state: dict) -> dict:
            values = []
            for idx in [1, 2, 3]:
                values.extend([double(idx).result(), interrupt({"a": "boo"})])
            return {"values": values}

    return graph


@pytest.mark.parametrize("mode", variants())
def test_multiple_interrupts_functional(mode):
    runs: list[int] = []
    panel = panel_for(interleaved(mode, runs))
    panel.run({})
    for reply in ["a", "b", "c"]:
        assert '{"a": "boo"}' in str(panel) and len(cards(panel)) == 1
        answer(panel, reply)
    assert state(panel) == {"values": [2, "a", 4, "b", 6, "c"]} and panel.status == "Done."
    assert runs == [1, 2, 3]  # each task ran once, not again on each resume


# -- test_parallel_interrupts: Send fans out to a compiled subgraph node; pydantic states
class ChildState(BaseModel):
    prompt: str = Field(..., description="What is going to be asked to the user?")
    human_input: str | None = Field(None, description="What the human said")
    human_inputs: Annotated[list[str], operator.add] = Field(default_factory=list, description="All of my messages")


class ParentState(BaseModel):
    prompts: list[str] = Field(..., description="What is going to be asked to the user?")
    human_inputs: Annotated[list[str], operator.add] = Field(default_factory=list, description="All of my messages")


def send_to_subgraph(mode: str, cleaned: list[list[str]]):
    def get_human_input(state: ChildState):
        human_input = interrupt(state.prompt)
        return {"human_input": human_input, "human_inputs": [human_input]}

    child = StateGraph(ChildState)
    child.add_node("get_human_input", node(get_human_input, mode))
    child.add_edge(START, "get_human_input")

    def cleanup(state: ParentState):
        assert len(state.human_inputs) == len(state.prompts)
        cleaned.append(sorted(state.human_inputs))

    builder = StateGraph(ParentState)
    builder.add_node("child_graph", child.compile())
    builder.add_node("cleanup", node(cleanup, mode))
    builder.add_conditional_edges(START, lambda s: [Send("child_graph", {"prompt": p}) for p in s.prompts])
    builder.add_edge("child_graph", "cleanup")
    return builder.compile(checkpointer=InMemorySaver())


@pytest.mark.parametrize("mode", variants())
def test_parallel_interrupts_in_send_subgraphs(mode):
    cleaned: list[list[str]] = []
    panel = panel_for(send_to_subgraph(mode, cleaned))
    panel.run({"prompts": ["a", "b"]})
    assert len(cards(panel)) == 2 and {i.value for i in panel.pending} == {"a", "b"}
    while cards(panel):  # answer what the first card shows
        asked = next(p for p in ("a", "b") if f">{p}<" in card(panel, 0).children[0].value)
        answer(panel, f"Resume {asked}", 0)
    assert cleaned == [["Resume a", "Resume b"]]
    assert sorted(state(panel)["human_inputs"]) == ["Resume a", "Resume b"] and panel.status == "Done."


# -- libs/prebuilt/tests/test_react_agent.py, test_tool_node_node_interrupt: one of two parallel
# tool calls interrupts (v1: one ToolNode task for both; v2: a Send per call)
def react_agent(version: str, normal_runs: list[int]):
    with warnings.catch_warnings():  # create_react_agent is deprecated in LangGraph 1.x; the test still uses it
        warnings.simplefilter("ignore")
        from langgraph.prebuilt import create_react_agent

    def tool_normal(some_val: int) -> str:
        """Tool docstring."""
        normal_runs.append(some_val)
        return "normal"

    def tool_interrupt(some_val: int) -> str:
        """Tool docstring."""
        return interrupt("provide value for foo")

    model = turns(
        [
            call("tool_interrupt", some_val=0) | {"id": "1"},
            call("tool_normal", some_val=1) | {"id": "2"},
        ]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return create_react_agent(model, [tool_interrupt, tool_normal], checkpointer=InMemorySaver(), version=version)


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_tool_node_interrupt_beside_a_normal_tool(version):
    normal_runs: list[int] = []
    panel = panel_for(react_agent(version, normal_runs))
    panel.run("hi?")
    assert "provide value for foo" in str(panel) and len(cards(panel)) == 1
    done = {m.tool_call_id: m.content for m in tool_messages(state(panel))}
    assert done == ({} if version == "v1" else {"2": "normal"})  # v1: the interrupt holds back both results
    answer(panel, "foo value")
    assert {m.tool_call_id: m.content for m in tool_messages(state(panel))} == {"1": "foo value", "2": "normal"}
    # v2 kept the normal call's result; v1 ran the ToolNode again on resume (whether its thread pool had
    # started the normal call before the interrupt stopped the first pass is up to the pool)
    assert normal_runs in (([1], [1, 1]) if version == "v1" else ([1],)) and panel.status == "Done."


# -- typed response_schema beyond a model (installed langgraph/types.py, `interrupt`: any type a
# pydantic TypeAdapter takes): a Literal and an int; a bad answer is refused, nothing saved
def typed_question(schema):
    def ask(state):
        return {"answer": interrupt("Pick one", response_schema=schema)}

    builder = StateGraph(AnyState)
    builder.add_node("node", ask)
    builder.add_edge(START, "node")
    return builder.compile(checkpointer=InMemorySaver())


def test_response_schema_literal():
    panel = panel_for(typed_question(Literal["approve", "reject"]))
    panel.run({"answer": None})
    answer(panel, "maybe")
    assert panel.decisions == () and len(cards(panel)) == 1 and state(panel)["answer"] is None
    answer(panel, "reject")
    assert state(panel)["answer"] == "reject" and panel.decisions[0].message == "reject"


def test_response_schema_int():
    panel = panel_for(typed_question(int))
    panel.run({"answer": None})
    answer(panel, "twelve", read_as="text")
    assert panel.decisions == () and state(panel)["answer"] is None
    answer(panel, "12", read_as="number")
    assert state(panel)["answer"] == 12 and panel.decisions[0].message == 12
