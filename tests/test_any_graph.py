"""The panel on graphs shaped unlike the kit's: answered-then-failed steps, typed answers,
async graphs, inputs that are not messages, questions about a waiting call, NodeInterrupt.

Each test drives the panel's widgets (or `decide`, the same path) and asserts on what ran.
"""

from __future__ import annotations

import asyncio
import threading

import ipywidgets as widgets
import pytest
from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.errors import NodeInterrupt
from langgraph.func import entrypoint
from langgraph.graph import START, StateGraph
from langgraph.types import interrupt
from panel_support import config
from typing_extensions import TypedDict
from widget_tree import button, cards, find, outputs_text

from hitl_widgets import ApprovalPanel


class Flag(TypedDict, total=False):
    answer: object
    ran: list


def asking_graph(effects: list, fail_times: int = 0, node_async: bool = False):
    """One node that asks, then acts on the answer; it can fail after the answer (a tool timing out)."""
    failures = {"left": fail_times}

    def act(answer: object) -> dict:
        if failures["left"]:
            failures["left"] -= 1
            raise TimeoutError("the payment service timed out")
        effects.append(answer)
        return {"answer": answer}

    if node_async:

        async def ask(state: Flag) -> dict:
            await asyncio.sleep(0)
            return act(interrupt("Pay the $500 invoice?"))
    else:

        def ask(state: Flag) -> dict:
            return act(interrupt("Pay the $500 invoice?"))

    builder = StateGraph(Flag)
    builder.add_node("ask", ask)
    builder.add_edge(START, "ask")
    return builder.compile(checkpointer=InMemorySaver())


def read_as(card: widgets.Widget, kind: str, text: str) -> None:
    (toggle,) = [w for w in find(card, widgets.ToggleButtons) if w.description == "Read as"]
    toggle.value = kind
    (box,) = find(card, widgets.Textarea)
    box.value = text
    button(card, "Send answer").click()


# -- 1. answered is answered --------------------------------------------------------------------
def test_a_step_that_fails_after_its_answer_refuses_a_new_decision_and_retries_the_first():
    effects: list = []
    panel = ApprovalPanel(asking_graph(effects, fail_times=1), config())
    panel.run({})
    button(cards(panel)[0], "Yes").click()
    assert effects == [] and "TimeoutError: the payment service timed out" in outputs_text(panel)
    (card,) = cards(panel)
    assert [b.description for b in find(card, widgets.Button)] == ["Retry", "Ask again"]  # no answer buttons
    assert "Answered: true" in str(panel) and panel.pending == ()
    panel.decide(False)  # the reviewer changes their mind: refused, nothing sent, nothing logged
    assert "answered already (True)" in str(panel) and len(panel.decisions) == 1 and effects == []
    button(card, "Retry").click()
    assert effects == [True] and panel.status == "Done."


def test_an_answer_written_elsewhere_is_seen_though_the_checkpoint_did_not_move():
    """A panel that read the thread before keeps no stale view: the answer is a pending write."""
    effects: list = []
    graph = asking_graph(effects, fail_times=1)
    first = ApprovalPanel(graph, config())
    first.run({})
    second = ApprovalPanel(graph, config())  # shows the same open question
    before = graph.get_state(config()).config["configurable"]["checkpoint_id"]
    first.decide(True)  # answered, then the step fails: the same checkpoint, one more write
    assert graph.get_state(config()).config["configurable"]["checkpoint_id"] == before
    second.decide(False)
    assert "answered already (True)" in str(second) and second.decisions == () and effects == []


def test_ask_again_forks_so_the_question_is_asked_afresh():
    effects: list = []
    panel = ApprovalPanel(asking_graph(effects, fail_times=1), config())
    panel.run({})
    panel.decide(True)
    button(cards(panel)[0], "Ask again").click()
    assert panel.status == "Waiting for your decision." and len(panel.pending) == 1
    button(cards(panel)[0], "No").click()
    assert effects == [False] and panel.status == "Done."


# -- 2. typed answers -----------------------------------------------------------------------------
def test_no_sends_false_and_typed_text_is_never_guessed_into_another_type():
    effects: list = []
    panel = ApprovalPanel(asking_graph(effects), config())
    panel.run({})
    read_as(cards(panel)[0], "text", "30")
    assert effects == ["30"]  # text stays text
    for kind, text, expected in [("number", "30", 30), ("number", "2.5", 2.5), ("JSON", '{"x": 1}', {"x": 1})]:
        panel = ApprovalPanel(asking_graph(effects), config(f"t-{kind}-{text}"))
        panel.run({})
        read_as(cards(panel)[0], kind, text)
        assert effects[-1] == expected
    panel = ApprovalPanel(asking_graph(effects), config("t-no"))
    panel.run({})
    button(cards(panel)[0], "No").click()
    assert effects[-1] is False


def test_a_bad_number_or_json_is_refused_and_nothing_is_sent():
    effects: list = []
    panel = ApprovalPanel(asking_graph(effects), config())
    panel.run({})
    read_as(cards(panel)[0], "number", "thirty")
    assert "'thirty' is not a number; nothing was sent." in str(panel)
    read_as(cards(panel)[0], "JSON", "{x: 1}")
    assert "Malformed JSON answer" in str(panel) and effects == [] and panel.decisions == ()


@pytest.mark.parametrize("answer", ["Ada", 30, True, {"x": 1}, ["a"]])
def test_decide_takes_a_bare_answer_of_any_json_type(answer):
    effects: list = []
    panel = ApprovalPanel(asking_graph(effects), config())
    panel.run({})
    panel.decide(answer)
    assert effects == [answer] and panel.decisions[0].message == answer


# -- 3. async graphs ------------------------------------------------------------------------------
def test_an_async_node_runs_through_the_async_api_with_the_same_refusals():
    effects: list = []
    panel = ApprovalPanel(asking_graph(effects, node_async=True), config())
    assert panel._session.is_async
    panel.run({})
    card = cards(panel)[0]
    button(card, "Yes").click()
    button(card, "Yes").click()  # a second click on the answered card: refused as stale
    assert effects == [True] and len(panel.decisions) == 1 and panel.status == "Done."


def test_an_async_node_works_inside_a_running_event_loop():
    effects: list = []

    async def in_a_notebook() -> None:  # Jupyter runs cells inside its own loop
        panel = ApprovalPanel(asking_graph(effects, node_async=True), config())
        panel.run({})
        panel.decide(True)

    asyncio.run(in_a_notebook())
    assert effects == [True]


def test_a_hanging_async_step_is_stopped_and_reported():
    release = threading.Event()

    async def slow(state: Flag) -> dict:
        answer = interrupt("Go?")
        while not release.is_set():
            await asyncio.sleep(0.01)
        return {"answer": answer}

    builder = StateGraph(Flag)
    builder.add_node("slow", slow)
    builder.add_edge(START, "slow")
    panel = ApprovalPanel(builder.compile(checkpointer=InMemorySaver()), config(), timeout=0.5)
    panel.run({})
    panel.decide(True)
    release.set()
    assert "did not finish within 0.5 s and was stopped" in outputs_text(panel)
    # cancelled before its step was saved: the question is open again, nothing ran
    assert panel.status == "Waiting for your decision." and "answer" not in panel._session.outcome().requests[0].value


# -- 5 and 6. inputs that are not messages, answers that are not messages ----------------------
def test_text_goes_as_it_is_to_an_entrypoint_that_takes_a_string_and_its_answer_is_shown():
    @entrypoint(checkpointer=InMemorySaver())
    def shout(topic: str) -> AIMessage:
        approved = interrupt(f"Write about {topic}?")
        return AIMessage(f"{topic.upper()}!" if approved else "skipped")

    panel = ApprovalPanel(shout, config())
    panel.run("cats")
    assert "Write about cats?" in str(panel)
    panel.decide(True)
    assert "Answer:\n    CATS!" in str(panel)


def test_text_to_a_graph_without_messages_is_refused_naming_its_input():
    panel = ApprovalPanel(asking_graph([]), config())
    panel.run("hello")
    assert "input has no `messages`" in str(panel) and "answer, ran" in str(panel)
    assert panel.status.startswith("Ready")


# -- 8. a question about a waiting tool call shows the call ----------------------------------------
def test_a_question_about_a_pending_tool_call_shows_that_call():
    class Chat(TypedDict):
        messages: list

    def model(state: Chat) -> dict:
        call = {"name": "multiply", "args": {"a": 2, "b": 3}, "id": "call_m", "type": "tool_call"}
        return {"messages": [AIMessage("", tool_calls=[call])]}

    def confirm(state: Chat) -> dict:
        interrupt("Call multiply(2, 3)? yes/no")
        return {}

    builder = StateGraph(Chat)
    builder.add_node("model", model)
    builder.add_node("confirm", confirm)
    builder.add_edge(START, "model")
    builder.add_edge("model", "confirm")
    panel = ApprovalPanel(builder.compile(checkpointer=InMemorySaver()), config())
    panel.run({"messages": []})
    assert 'waiting call: multiply {"a": 2, "b": 3}' in str(panel)


# -- 9. NodeInterrupt -------------------------------------------------------------------------------
def test_a_node_interrupt_offers_no_answer_and_refuses_one():
    def guard(state: Flag) -> dict:
        raise NodeInterrupt("over the limit")

    builder = StateGraph(Flag)
    builder.add_node("guard", guard)
    builder.add_edge(START, "guard")
    with pytest.warns(DeprecationWarning):
        panel = ApprovalPanel(builder.compile(checkpointer=InMemorySaver()), config())
        panel.run({})
    (card,) = cards(panel)
    assert find(card, widgets.Button) == [] and find(card, widgets.Textarea) == []
    panel.decide("continue", "placeholder-id")
    assert "no answer can resume" in str(panel) and panel.decisions == ()
