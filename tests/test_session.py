"""`Session`: run, resume exactly once, refuse bad or stale decisions, survive faults. No widgets."""

from __future__ import annotations

import threading

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, StateGraph
from langgraph.types import Command
from panel_support import (
    APPROVE,
    LOOKUP,
    MODES,
    ORDER,
    REQUEST,
    TWO_ITEMS,
    FailingModel,
    Spy,
    agent,
    blocking_tools,
    config,
    flaky_tools,
    question_graph,
)

from hitl_widgets import OfflineChatModel
from hitl_widgets._session import Session
from hitl_widgets.errors import DecisionError, ModelConnectionError, SessionError, StaleDecision
from hitl_widgets.graphs import build_review_graph
from hitl_widgets.inventory import InventoryStore, make_tools

EDIT_50 = {
    "type": "edit",
    "edited_action": {
        "name": "create_purchase_order",
        "args": {"item": "widget-x", "qty": 50, "vendor": "Acme Supply"},
    },
}


def session_for(mode: str, text: str | None = None, **kwargs):
    store = InventoryStore()
    graph = agent(mode, store, **kwargs)
    session = Session(graph, config())
    outcome = session.run(text) if text else None
    return store, graph, session, outcome


# -- the happy path, in every mode ------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_a_chain_of_approvals_is_one_flow(mode):
    store, graph, session, outcome = session_for(mode, REQUEST)
    assert outcome.status == "paused"
    assert outcome.requests[0].actions[0].name == "lookup_inventory"
    outcome = session.decide(APPROVE)
    assert outcome.requests[0].actions[0].name == "create_purchase_order"
    outcome = session.decide(EDIT_50)
    assert outcome.status == "done" and "50" in outcome.answer
    assert store.purchase_orders() == [{"id": 1, "item": "widget-x", "qty": 50, "vendor": "Acme Supply"}]
    assert [(r.tool, r.decision["type"]) for r in session.decisions] == [
        ("lookup_inventory", "approve"),
        ("create_purchase_order", "edit"),
    ]


def test_the_log_records_everything_about_each_decision():
    store, graph, session, outcome = session_for("kit", REQUEST)
    first = outcome.requests[0]
    outcome = session.decide(APPROVE)
    order = outcome.requests[0]
    session.decide({"type": "reject", "message": "Use 'Globex' instead."})
    approve, reject = session.decisions
    assert approve.interrupt_id == first.interrupt_id and approve.call_id == first.actions[0].call_id
    assert (
        approve.args == {"item": "widget-x", "warehouse": "SF-01"}
        and approve.edited_args is None
        and approve.message is None
    )
    assert reject.tool == "create_purchase_order" and reject.call_id == order.actions[0].call_id
    assert reject.message == "Use 'Globex' instead." and reject.at >= approve.at
    assert reject.decision == {"type": "reject", "message": "Use 'Globex' instead."}


def test_an_edit_is_logged_with_original_and_edited_arguments():
    store, graph, session, outcome = session_for("kit", ORDER)
    session.decide(EDIT_50)
    (record,) = session.decisions
    assert record.args["qty"] == 100 and record.edited_args["qty"] == 50


def test_batched_request_resumes_only_when_every_action_is_decided():
    store, graph, session, outcome = session_for("batched", TWO_ITEMS)
    spy = Spy(graph)
    session._graph = spy  # count the runs from here on
    request = outcome.requests[0]
    outcome = session.decide(APPROVE)
    assert outcome.status == "waiting" and spy.runs == 0 and store.tool_runs() == []
    assert session.drafts(request.interrupt_id) == {0: APPROVE}
    outcome = session.decide({"type": "reject", "message": "not that one"}, request.actions[1].call_id)
    assert spy.runs == 1
    assert store.tool_runs() == [{"tool": "lookup_inventory", "args": {"item": "widget-x", "warehouse": "SF-01"}}]
    assert [r.decision["type"] for r in session.decisions] == ["approve", "reject"]


def test_batched_request_takes_a_list_of_decisions_in_order():
    store, graph, session, outcome = session_for("batched", TWO_ITEMS)
    session.decide([APPROVE, APPROVE])
    assert len(store.tool_runs()) == 2


def test_per_call_interrupts_are_answered_by_id():
    store, graph, session, outcome = session_for("per_call", TWO_ITEMS)
    first, second = outcome.requests
    with pytest.raises(SessionError, match="2 interrupts are pending"):
        session.decide(APPROVE)
    outcome = session.decide({"type": "reject"}, second.interrupt_id)
    assert [r.interrupt_id for r in outcome.requests] == [first.interrupt_id]
    session.decide(APPROVE, first.interrupt_id)
    assert [run["args"]["item"] for run in store.tool_runs()] == ["widget-x"]


def test_tutorial_payload_gets_its_own_answers():
    store, graph, session, outcome = session_for("tutorial", ORDER)
    outcome = session.decide({"type": "reject", "message": "too many"})
    assert store.tool_runs() == [] and outcome.status == "done"
    assert graph.get_state(config()).values["messages"][-2].status == "error"


@pytest.mark.parametrize(
    "with_schema, answer, stored",
    [(False, "Globex", "Globex"), (True, {"amount": 500}, {"amount": 500, "currency": "USD"})],
)
def test_other_interrupts_are_answered_with_respond(with_schema, answer, stored):
    graph = question_graph(with_schema)
    session = Session(graph, config())
    outcome = session.run({})
    assert outcome.requests[0].kind == "question"
    outcome = session.decide({"type": "respond", "message": answer})
    assert outcome.status == "done" and graph.get_state(config()).values["answer"] == stored
    assert session.decisions[0].message == answer


# -- refusals that never reach the graph ----------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "decision, interrupt_id, error",
    [
        (None, None, DecisionError),
        ({}, None, DecisionError),
        ([], None, DecisionError),
        ({"type": "approve"}, "0" * 32, SessionError),
        ({"type": "approve"}, "not-an-id", SessionError),
        ({"type": "aprove"}, None, DecisionError),
        (
            {
                "type": "edit",
                "edited_action": {
                    "name": "create_purchase_order",
                    "args": {"item": "widget-x", "qty": "lots", "vendor": "A"},
                },
            },
            None,
            DecisionError,
        ),
        (
            {
                "type": "edit",
                "edited_action": {"name": "create_purchase_order", "args": {"item": "widget-x", "qty": 5}},
            },
            None,
            DecisionError,
        ),
        (
            {
                "type": "edit",
                "edited_action": {"name": "send_notification", "args": {"channel": "slack", "message": "hi"}},
            },
            None,
            DecisionError,
        ),
        ({"type": "edit", "edited_action": {"name": "no_such_tool", "args": {}}}, None, DecisionError),
    ],
)
def test_bad_decisions_never_reach_the_graph(mode, decision, interrupt_id, error):
    store, graph, session, outcome = session_for(mode, ORDER)
    spy = Spy(graph)
    session._graph = spy
    with pytest.raises(error):
        session.decide(decision, interrupt_id)
    assert spy.runs == 0 and store.tool_runs() == []
    assert session.decisions == ()
    assert [r.interrupt_id for r in session.outcome().requests] == [outcome.requests[0].interrupt_id]
    session.decide(APPROVE)  # the question is still answerable
    assert len(store.purchase_orders()) == 1


def test_run_refuses_a_command_and_a_thread_that_is_waiting():
    store, graph, session, outcome = session_for("kit", ORDER)
    for bad in (None, Command(resume=None), Command(resume={}), Command(resume=APPROVE)):
        with pytest.raises(SessionError):
            session.run(bad)
    with pytest.raises(SessionError, match="waiting for 1 decision"):
        session.run(ORDER)
    assert store.tool_runs() == []


def test_a_decision_on_a_thread_with_nothing_pending_is_refused():
    store, graph, session, outcome = session_for("kit", "Hello there")
    assert outcome.status == "done"
    with pytest.raises(StaleDecision, match="Nothing is pending"):
        session.decide(APPROVE)


# -- exactly once -----------------------------------------------------------------------------
def test_the_same_decision_twice_resumes_once():
    store, graph, session, outcome = session_for("kit", ORDER)
    interrupt_id = outcome.requests[0].interrupt_id
    session.decide(APPROVE, interrupt_id)
    with pytest.raises(StaleDecision, match="no longer pending"):
        session.decide(APPROVE, interrupt_id)
    assert len(store.purchase_orders()) == 1 and len(session.decisions) == 1


def test_a_second_session_on_the_same_thread_gets_a_stale_refusal():
    store, graph, first, outcome = session_for("kit", ORDER)
    second = Session(graph, config())
    interrupt_id = second.outcome().requests[0].interrupt_id
    first.decide(APPROVE, interrupt_id)
    with pytest.raises(StaleDecision, match="no longer pending"):
        second.decide({"type": "reject"}, interrupt_id)
    assert len(store.purchase_orders()) == 1


def test_a_call_id_that_was_answered_is_stale_too():
    store, graph, session, outcome = session_for("kit", ORDER)
    call_id = outcome.requests[0].actions[0].call_id
    session.decide(APPROVE, call_id)
    with pytest.raises(StaleDecision):
        session.decide(APPROVE, call_id)
    assert len(store.purchase_orders()) == 1


def test_two_decisions_at_once_resume_once():
    store = InventoryStore()
    started, release = threading.Event(), threading.Event()
    graph = build_review_graph(OfflineChatModel(), blocking_tools(store, started, release), InMemorySaver())
    first, second = Session(graph, config()), Session(graph, config())
    interrupt_id = first.run(LOOKUP).requests[0].interrupt_id
    assert second.outcome().requests[0].interrupt_id == interrupt_id  # both show the same card
    errors = []
    worker = threading.Thread(target=lambda: first.decide(APPROVE, interrupt_id))
    worker.start()
    try:
        assert started.wait(10), "the first resume should reach the tool"
        with pytest.raises(SessionError, match="busy") as refused:
            second.decide(APPROVE, interrupt_id)
        errors.append(refused.value)
    finally:
        release.set()
        worker.join(10)
    assert not worker.is_alive() and errors
    with pytest.raises(StaleDecision):
        second.decide(APPROVE, interrupt_id)
    assert len(store.tool_runs()) == 1


# -- faults -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError("Connection refused"),
        TimeoutError("Request timed out"),
        ModelConnectionError("401 Unauthorized: check OPENAI_API_KEY"),
    ],
)
def test_a_failing_model_is_reported_and_retry_works(error):
    store = InventoryStore()
    graph = build_review_graph(FailingModel(error=error), make_tools(store), InMemorySaver())
    session = Session(graph, config())
    outcome = session.run(LOOKUP)
    assert outcome.status == "failed" and outcome.node == "agent" and outcome.retryable
    assert type(error).__name__ in outcome.error and str(error) in outcome.error
    assert graph.get_state(config()).next == ("agent",)
    with pytest.raises(SessionError, match="unfinished work"):
        session.run(LOOKUP)
    outcome = session.retry()
    assert outcome.status == "paused" and store.tool_runs() == []
    assert session.decide(APPROVE).status == "done"
    assert len(store.tool_runs()) == 1


@pytest.mark.parametrize("mode", MODES)
def test_a_tool_that_raises_is_reported_and_retry_works(mode):
    store = InventoryStore()
    graph = agent(mode, store, tools=flaky_tools(store))
    session = Session(graph, config())
    session.run(LOOKUP)
    outcome = session.decide(APPROVE)
    assert "RuntimeError: inventory database is locked" in outcome.error and outcome.retryable
    assert store.tool_runs() == []
    outcome = session.retry()
    assert outcome.status == "done" and "7 units" in outcome.answer
    assert len(store.tool_runs()) == 1 and len(session.decisions) == 1


def test_retry_refuses_when_nothing_failed():
    store, graph, session, outcome = session_for("kit", ORDER)
    with pytest.raises(SessionError, match="Nothing to retry"):
        session.retry()


def test_a_graph_without_checkpointer_or_thread_is_refused():
    builder = StateGraph(dict)
    builder.add_node("n", lambda s: s)
    builder.add_edge(START, "n")
    with pytest.raises(SessionError, match="no checkpointer"):
        Session(builder.compile(), config())
    with pytest.raises(SessionError, match="thread id"):
        Session(agent("kit", InventoryStore()), {})


# -- nothing runs unapproved ---------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_nothing_runs_without_an_approve_or_edit_for_that_call(mode):
    store, graph, session, outcome = session_for(mode, REQUEST)
    assert store.tool_runs() == []
    outcome = session.decide({"type": "reject", "message": "no lookups today"})
    assert store.tool_runs() == []
    assert outcome.status == "done"
