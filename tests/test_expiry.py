"""expiry: a late decision never runs, however it arrives; the default applies, logged as automatic."""

import uuid
from datetime import timedelta

import pytest
from langchain_core.messages import HumanMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from hitl_widgets.audit import check_against_history
from hitl_widgets.expiry import (
    NO_DECISION,
    Deadline,
    Escalate,
    Expiry,
    ManualClock,
    Reject,
    countdown_text,
    sweep,
    sweeper_answer,
)
from hitl_widgets.graphs import build_parallel_review_graph, build_review_graph
from hitl_widgets.offline import OfflineChatModel
from hitl_widgets.policy import Ask, Policy, rule
from hitl_widgets.protocol import check_decision

ORDER_REQUEST = "Check widget-x in SF-01. If stock is below 10 units, order 100 from 'Acme Supply'."
APPROVE = {"type": "approve"}
FIVE_MINUTES = timedelta(minutes=5)


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def config():
    return {"configurable": {"thread_id": str(uuid.uuid4())}}


def graph_with(tools, clock, rule=None, saver=None, builder=build_review_graph, **kwargs):
    expiry = Expiry({"create_purchase_order": rule or Reject(FIVE_MINUTES)}, clock=clock)
    return builder(OfflineChatModel(), tools, saver or InMemorySaver(), expiry=expiry, **kwargs)


def at_order(graph, config):
    """Run to the order's review: the lookup (no deadline) was approved and ran."""
    out = graph.invoke({"messages": [HumanMessage(ORDER_REQUEST)]}, config, version="v2")
    assert "expires_at" not in out.interrupts[0].value, "a tool with no rule gets no deadline"
    out = graph.invoke(Command(resume=APPROVE), config, version="v2")
    (pending,) = out.interrupts
    assert pending.value["tool_call"]["name"] == "create_purchase_order"
    return pending


def test_the_request_carries_its_deadline_and_default(tools, clock, config):
    pending = at_order(graph_with(tools, clock), config)
    value = pending.value
    assert value["requested_at"] == "2026-12-01T10:00:00+00:00"
    assert value["expires_at"] == "2026-12-01T10:05:00+00:00"
    assert value["on_expiry"] == {"type": "reject", "message": NO_DECISION}
    assert countdown_text(Deadline.of(value), clock()).startswith("expires in 5:00")


def test_a_late_approval_through_a_raw_command_never_runs(tools, store, clock, config):
    graph = graph_with(tools, clock)
    at_order(graph, config)
    clock.advance(FIVE_MINUTES + timedelta(seconds=1))
    out = graph.invoke(Command(resume={"type": "approve", "channel": "link", "by": "bob"}), config, version="v2")
    assert store.purchase_orders() == [], "a late approval ran the order"
    late, automatic = out.value["reviews"][-2:]
    assert late["decision"] == "late" and late["late_decision"] == "approve"
    assert "after the deadline" in late["message"] and late["channel"] == "link" and late["by"] == "bob"
    assert automatic["decision"] == "reject" and automatic["automatic"] is True
    assert automatic["channel"] == "deadline" and automatic["by"] == "deadline rule create_purchase_order"
    rejected = [m for m in out.value["messages"] if isinstance(m, ToolMessage) and m.name == "create_purchase_order"]
    assert NO_DECISION in rejected[0].content


def test_an_approval_in_time_runs_and_records_its_channel(tools, store, clock, config):
    graph = graph_with(tools, clock)
    at_order(graph, config)
    clock.advance(timedelta(minutes=4, seconds=59))
    out = graph.invoke(Command(resume={"type": "approve", "channel": "panel", "by": "ada"}), config, version="v2")
    assert len(store.purchase_orders()) == 1
    assert out.value["reviews"][-1] | {"args": None} == out.value["reviews"][-1] | {
        "decision": "approve",
        "channel": "panel",
        "by": "ada",
        "args": None,
    }


def test_a_replayed_answer_keeps_the_verdict_it_got_when_it_arrived(tools, store, clock):
    """Two orders in one turn: the first is approved in time, the second after the first's deadline."""
    graph = graph_with(tools, clock)
    config = {"configurable": {"thread_id": "two-orders"}}
    text = "Order 5 widget-x from 'Acme Supply' and 7 gadget-y from 'Acme Supply'."
    out = graph.invoke({"messages": [HumanMessage(text)]}, config, version="v2")
    names = [i.value["tool_call"]["name"] for i in out.interrupts]
    if names != ["create_purchase_order"]:
        pytest.skip(f"the offline model proposed {names}")
    graph.invoke(Command(resume=APPROVE), config, version="v2")
    state = graph.get_state(config)
    if not state.interrupts:
        pytest.skip("the offline model proposed one order only")
    clock.advance(FIVE_MINUTES * 2)
    graph.invoke(Command(resume=APPROVE), config, version="v2")
    decisions = [r["decision"] for r in graph.get_state(config).values["reviews"]]
    assert decisions == ["approve", "late", "reject"]
    assert len(store.purchase_orders()) == 1


def test_the_sweeper_resumes_an_overdue_thread_once_with_its_default(tools, store, clock, config):
    graph = graph_with(tools, clock)
    at_order(graph, config)
    assert sweep(graph) == [], "nothing is overdue yet"
    clock.advance(FIVE_MINUTES)
    (swept,) = sweep(graph, worker="cron")
    assert swept.thread_id == config["configurable"]["thread_id"]
    assert sweep(graph, worker="cron") == [], "a second sweep finds nothing to do"
    reviews = graph.get_state(config).values["reviews"]
    assert [r["decision"] for r in reviews[-1:]] == ["reject"]
    assert reviews[-1]["channel"] == "sweeper" and reviews[-1]["automatic"] is True
    assert not any(r["decision"] == "late" for r in reviews), "nobody decided: no late answer to record"
    assert store.purchase_orders() == []


def test_escalation_asks_the_on_call_reviewer_then_rejects_if_they_do_not_answer(tools, store, clock, config):
    graph = graph_with(tools, clock, Escalate(timedelta(minutes=10), to="on-call"))
    pending = at_order(graph, config)
    assert pending.value["on_expiry"] == {"type": "escalate", "to": "on-call"}
    clock.advance(timedelta(minutes=10))
    sweep(graph)
    (escalated,) = graph.get_state(config).interrupts
    assert escalated.value["escalated_to"] == "on-call"
    assert escalated.value["requested_at"] == "2026-12-01T10:10:00+00:00"
    assert escalated.value["on_expiry"]["type"] == "reject"
    graph.invoke(Command(resume={"type": "approve", "by": "on-call"}), config, version="v2")
    reviews = graph.get_state(config).values["reviews"]
    assert [r["decision"] for r in reviews[-2:]] == ["escalate", "approve"]
    assert len(store.purchase_orders()) == 1


def test_the_parallel_graph_refuses_a_late_decision_too(tools, store, clock, config):
    graph = graph_with(tools, clock, builder=build_parallel_review_graph)
    out = graph.invoke({"messages": [HumanMessage(ORDER_REQUEST)]}, config, version="v2")
    out = graph.invoke(Command(resume={out.interrupts[0].id: APPROVE}), config, version="v2")
    (order,) = out.interrupts
    clock.advance(FIVE_MINUTES)
    graph.invoke(Command(resume={order.id: APPROVE}), config, version="v2")
    assert store.purchase_orders() == []
    assert [r["decision"] for r in graph.get_state(config).values["reviews"][-2:]] == ["late", "reject"]


def test_the_governed_graph_refuses_a_late_decision_and_audits_it(tools, store, clock, config):
    policy = Policy([rule("orders", tool="create_purchase_order", then=Ask())])
    graph = graph_with(tools, clock, policy=policy, rule=Reject(60))
    expiry = Expiry({"orders": Reject(60)}, clock=clock)  # a deadline by rule name works the same
    assert expiry.rule_for("create_purchase_order", "orders") == Reject(60)
    out = graph.invoke({"messages": [HumanMessage(ORDER_REQUEST)]}, config, version="v2")
    value = out.interrupts[0].value
    out = graph.invoke(Command(resume={"decision": APPROVE, "fingerprint": value["fingerprint"]}), config, version="v2")
    order = out.interrupts[0].value
    assert order["expires_at"] == "2026-12-01T10:01:00+00:00"
    clock.advance(60)
    graph.invoke(Command(resume={"decision": APPROVE, "fingerprint": order["fingerprint"]}), config, version="v2")
    assert store.purchase_orders() == []
    records = graph.audit.records(thread_id=config["configurable"]["thread_id"])
    events = [(r["event"], r.get("decision")) for r in records]
    assert ("refusal", "late") in events and ("decision", "reject") in events
    assert graph.audit.verify() == [] and check_against_history(graph.audit, graph, config) == []


def test_decisions_may_carry_channel_and_by_which_are_copied_not_acted_on(tools_by_name):
    call = {"name": "create_purchase_order", "args": {"item": "x", "qty": 1, "vendor": "v"}, "id": "c1"}
    tool = tools_by_name["create_purchase_order"]
    checked = check_decision({"type": "approve", "channel": "link", "by": "bob"}, call, tool)
    assert checked == {"type": "approve", "channel": "link", "by": "bob"}
    assert check_decision({"type": "approve"}, call, tool) == {"type": "approve"}


def test_the_sweeper_never_sends_an_approval():
    request = {"allowed_decisions": ["approve"], "kind": "hitl_widgets/review"}
    assert sweeper_answer(request, "cron") is None
    assert sweeper_answer({**request, "allowed_decisions": ["approve", "reject"]}, "cron")["type"] == "reject"


def test_the_sweeper_answers_a_governed_request_in_its_envelope(tools, store, clock, config):
    policy = Policy([rule("orders", tool="create_purchase_order", then=Ask())])
    graph = graph_with(tools, clock, policy=policy, rule=Escalate(60, to="on-call"))
    out = graph.invoke({"messages": [HumanMessage(ORDER_REQUEST)]}, config, version="v2")
    lookup = out.interrupts[0].value
    graph.invoke(Command(resume={"decision": APPROVE, "fingerprint": lookup["fingerprint"]}), config, version="v2")
    clock.advance(60)
    assert [item.thread_id for item in sweep(graph)] == [config["configurable"]["thread_id"]]
    (escalated,) = graph.get_state(config).interrupts
    assert escalated.value["escalated_to"] == "on-call" and "governance" in escalated.value
    clock.advance(60)
    sweep(graph)
    assert not graph.get_state(config).interrupts and store.purchase_orders() == []
    records = graph.audit.records(thread_id=config["configurable"]["thread_id"])
    automatic = [(r["decision"], r["channel"]) for r in records if r["event"] == "decision" and r.get("automatic")]
    assert automatic[-2:] == [("escalate", "sweeper"), ("reject", "sweeper")]
    assert check_against_history(graph.audit, graph, config) == []


def test_a_thread_whose_resume_fails_is_reported_and_the_sweep_goes_on(tools, clock):
    graph = graph_with(tools, clock)
    for thread_id in ("broken", "fine"):
        at_order(graph, {"configurable": {"thread_id": thread_id}})
    clock.advance(FIVE_MINUTES)
    real_invoke = graph.invoke

    def invoke(command, config, **kwargs):
        if config["configurable"]["thread_id"] == "broken":
            raise RuntimeError("the database went away")
        return real_invoke(command, config, **kwargs)

    graph.invoke = invoke
    swept = {item.thread_id: item.error for item in sweep(graph)}
    assert swept == {"broken": "RuntimeError: the database went away", "fine": None}
    graph.invoke = real_invoke
    assert sweep(graph) == [], "a claimed thread is never resumed a second time"
