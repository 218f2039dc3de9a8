"""The panel and deadlines: a live countdown from the injected clock; a late click never runs."""

from datetime import timedelta

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from widget_tree import button

from hitl_widgets import ApprovalPanel
from hitl_widgets.expiry import Escalate, Expiry, ManualClock, Reject
from hitl_widgets.graphs import build_review_graph
from hitl_widgets.inventory import make_tools
from hitl_widgets.offline import OfflineChatModel

REQUEST = "Check warehouse SF-01 for 'widget-x'. If stock is below 10 units, order 100 from 'Acme Supply'."
APPROVE = {"type": "approve"}


@pytest.fixture
def clock():
    return ManualClock()


def panel_at_order(store, clock, rule=None, thread="t"):
    expiry = Expiry({"create_purchase_order": rule or Reject(timedelta(minutes=5))}, clock=clock)
    graph = build_review_graph(OfflineChatModel(), make_tools(store), InMemorySaver(), expiry=expiry)
    panel = ApprovalPanel(graph, {"configurable": {"thread_id": thread}})
    panel.run(REQUEST)
    assert "expires" not in str(panel), "the lookup has no deadline"
    panel.decide(APPROVE)
    return graph, panel


def reviews(graph, thread="t"):
    return graph.get_state({"configurable": {"thread_id": thread}}).values["reviews"]


def test_the_card_counts_down_from_the_injected_clock(store, clock):
    _, panel = panel_at_order(store, clock)
    assert "⏳ expires in 5:00, then: reject (no decision before the deadline)" in str(panel)
    clock.advance(timedelta(minutes=1, seconds=1))
    panel.tick()
    assert "expires in 3:59" in str(panel)


def test_the_card_resolves_to_its_default_when_the_deadline_passes(store, clock):
    graph, panel = panel_at_order(store, clock)
    clock.advance(timedelta(minutes=5))
    panel.tick()
    text = str(panel)
    assert "create_purchase_order" not in text.split("Decision log")[0].split("⌛")[0], "the card is gone"
    expired = "⌛ Card [2] create_purchase_order: expired at 10:05:00 UTC: reject (no decision before the deadline)"
    assert expired in text
    assert "message: no decision before the deadline · via sweeper (panel timer)" in text, "the log says how"
    assert store.purchase_orders() == []
    assert reviews(graph)[-1]["automatic"] is True and reviews(graph)[-1]["channel"] == "sweeper"
    panel.tick()
    assert len([r for r in reviews(graph) if r.get("automatic")]) == 1, "resolved once"


@pytest.mark.parametrize("how", ["decide", "click"])
def test_a_late_decision_from_the_panel_is_refused_by_the_graph(store, clock, how):
    graph, panel = panel_at_order(store, clock)
    clock.advance(timedelta(minutes=6))  # no tick: the card still shows, its buttons still work
    if how == "decide":
        panel.decide(APPROVE)
    else:
        button(panel, "Approve").click()
    assert store.purchase_orders() == [], "a late approval ran"
    late, automatic = reviews(graph)[-2:]
    assert late["decision"] == "late" and late["late_decision"] == "approve"
    assert automatic["channel"] == "deadline" and automatic["decision"] == "reject"


def test_an_escalated_card_says_whom_it_waits_for(store, clock):
    graph, panel = panel_at_order(store, clock, Escalate(timedelta(minutes=10), to="on-call"))
    assert "then: escalate to on-call" in str(panel)
    clock.advance(timedelta(minutes=10))
    panel.tick()
    assert "⏳ escalated to on-call · expires in 10:00, then: reject" in str(panel)
    panel.decide({"type": "approve", "by": "on-call"})
    assert len(store.purchase_orders()) == 1
    assert [r["decision"] for r in reviews(graph)[-2:]] == ["escalate", "approve"]
