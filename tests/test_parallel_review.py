"""build_parallel_review_graph: all calls of a turn pending together, answered by id, fail closed."""

import uuid

import pytest
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from pydantic import ValidationError

from hitl_widgets.graphs import AUTO_APPROVE, build_parallel_review_graph
from hitl_widgets.inventory import InventoryStore, make_tools
from hitl_widgets.offline import OfflineChatModel

THREE = (
    "Check 'widget-x', 'gadget-y' and 'sprocket-z' in SF-01. If stock is below 10 units, order 100 from 'Acme Supply'."
)
POLICY = {"lookup_inventory": AUTO_APPROVE}


@pytest.fixture
def setup():
    store = InventoryStore()
    graph = build_parallel_review_graph(OfflineChatModel(), make_tools(store), InMemorySaver(), policy=POLICY)
    config = {"configurable": {"thread_id": str(uuid.uuid4())}}
    out = graph.invoke({"messages": [HumanMessage(THREE)]}, config, version="v2")
    pending = sorted(out.interrupts, key=lambda i: i.value["tool_call"]["id"])
    return store, graph, config, pending


def test_all_calls_of_a_turn_are_pending_together(setup):
    store, graph, config, pending = setup
    assert [p.value["tool_call"]["args"]["item"] for p in pending] == ["widget-x", "sprocket-z"]
    assert len({p.id for p in pending}) == 2
    assert store.purchase_orders() == []
    assert [r["tool"] for r in store.tool_runs()] == ["lookup_inventory"] * 3


def test_a_plain_resume_is_refused_and_changes_nothing(setup):
    store, graph, config, pending = setup
    with pytest.raises(RuntimeError, match="multiple pending interrupts"):
        graph.invoke(Command(resume={"type": "approve"}), config, version="v2")
    assert {i.id for i in graph.get_state(config).interrupts} == {p.id for p in pending}
    assert store.purchase_orders() == []


def test_nothing_runs_until_every_call_is_answered(setup):
    store, graph, config, (widget, sprocket) = setup
    out = graph.invoke(Command(resume={sprocket.id: {"type": "approve"}}), config, version="v2")
    assert [i.id for i in out.interrupts] == [widget.id]
    assert store.purchase_orders() == []
    edit = {
        "type": "edit",
        "edited_action": {
            "name": "create_purchase_order",
            "args": {"item": "widget-x", "qty": 50, "vendor": "Acme Supply"},
        },
    }
    out = graph.invoke(Command(resume={widget.id: edit}), config, version="v2")
    assert not out.interrupts
    assert [(o["item"], o["qty"]) for o in store.purchase_orders()] == [("widget-x", 50), ("sprocket-z", 100)]
    assert out.value["approved_calls"] == []
    assert [(r["decision"], r["args"]["item"]) for r in out.value["reviews"]] == [
        ("edit", "widget-x"),
        ("approve", "sprocket-z"),
    ]


def test_a_rejected_call_never_runs(setup):
    store, graph, config, (widget, sprocket) = setup
    graph.invoke(
        Command(resume={widget.id: {"type": "reject", "message": "no"}, sprocket.id: {"type": "approve"}}),
        config,
        version="v2",
    )
    assert [o["item"] for o in store.purchase_orders()] == ["sprocket-z"]


def test_a_bad_answer_is_refused_and_its_question_stays_open(setup):
    store, graph, config, (widget, sprocket) = setup
    with pytest.raises(ValidationError):
        graph.invoke(Command(resume={widget.id: {"type": "aprove"}}), config, version="v2")
    assert {i.id for i in graph.get_state(config).interrupts} == {widget.id, sprocket.id}
    assert store.purchase_orders() == []


def test_a_bad_policy_rule_is_refused():
    with pytest.raises(ValueError, match="AUTO_APPROVE"):
        build_parallel_review_graph(
            OfflineChatModel(),
            make_tools(InventoryStore()),
            InMemorySaver(),
            policy={"lookup_inventory": "auto-approve"},
        )
