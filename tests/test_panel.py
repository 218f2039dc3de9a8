"""`ApprovalPanel`, driven as a reviewer would: clicking buttons and filling in widgets.

`Button.click()` fires the same handlers a browser click does. ipywidgets swallows what
a handler raises, so every test asserts on the state the panel shows and on the store.
"""

from __future__ import annotations

import json
import logging
from typing import Literal

import ipywidgets as widgets
import pytest
from langchain_core.tools import StructuredTool
from langgraph.checkpoint.memory import InMemorySaver
from panel_support import (
    LOOKUP,
    MODES,
    ORDER,
    REQUEST,
    TWO_ITEMS,
    FailingModel,
    Spy,
    agent,
    config,
    flaky_tools,
    question_graph,
    scripted,
    tutorial_graph,
)
from widget_tree import button, cards, find, outputs_text, walk

from hitl_widgets import ApprovalPanel, OfflineChatModel
from hitl_widgets.graphs import build_review_graph
from hitl_widgets.inventory import InventoryStore, make_tools


def panel_for(mode: str, text: str | None = None, **kwargs):
    store = InventoryStore()
    graph = Spy(agent(mode, store, **kwargs))
    panel = ApprovalPanel(graph, config())
    if text:
        panel.run(text)
    return store, graph, panel


def open_editor(card: widgets.Widget, mode: str = "JSON") -> widgets.Widget:
    button(card, "Edit").click()
    (toggle,) = find(card, widgets.ToggleButtons)
    toggle.value = mode
    return card


def send_json_edit(card: widgets.Widget, text: str) -> None:
    open_editor(card, "JSON")
    (raw,) = find(card, widgets.Textarea)
    raw.value = text
    button(card, "Send edit").click()


def field(card: widgets.Widget, label: str) -> widgets.Widget:
    """The edit form's (or an answer form's) input labelled `label`."""
    (found,) = [w for w in find(card, widgets.Widget) if getattr(w, "description", "").rstrip(" *") == label]
    return found


def order_args(**changes):
    return {"item": "widget-x", "qty": 100, "vendor": "Acme Supply", **changes}


def _html(root: widgets.Widget) -> str:
    """Every HTML widget's text under `root`, hidden ones included."""
    return " ".join(w.value for w in walk(root) if isinstance(w, widgets.HTML))


# -- the flow ---------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_clicks_carry_a_chain_of_approvals_to_the_answer(mode):
    store, graph, panel = panel_for(mode, REQUEST)
    assert "lookup_inventory" in str(panel) and panel.status == "Waiting for your decision."
    button(panel, "Approve").click()
    (card,) = cards(panel)
    assert "create_purchase_order" in str(panel)
    open_editor(card, "Form")
    field(card, "Qty").value = "50"
    button(card, "Send edit").click()
    assert panel.status == "Done." and cards(panel) == []
    assert "Answer:" in str(panel) and "50" in str(panel)
    assert store.purchase_orders() == [{"id": 1, "item": "widget-x", "qty": 50, "vendor": "Acme Supply"}]
    assert [r.decision["type"] for r in panel.decisions] == ["approve", "edit"]
    assert "Decision log (2)" in str(panel)
    assert panel.pending == ()


def test_approve_ignores_a_message_typed_for_a_rejection():
    store, graph, panel = panel_for("kit", LOOKUP)
    (message,) = [w for w in find(panel, widgets.Text) if "Message to the model" in w.placeholder]
    message.value = "changed my mind"
    button(panel, "Approve").click()
    assert panel.decisions == () and store.tool_runs() == []  # asked first: the message would not be sent
    assert "will not be sent" in _html(panel)
    button(panel, "Approve without the message").click()
    assert panel.decisions[0].decision == {"type": "approve"} and len(store.tool_runs()) == 1


def test_the_run_button_runs_the_prompt_and_the_status_says_so():
    store, graph, panel = panel_for("kit")
    assert panel.status.startswith("Ready")
    button(panel, "Run").click()
    assert "Type a request first" in str(panel) and graph.runs == 0
    (prompt,) = [w for w in find(panel, widgets.Text) if "Ask the agent" in w.placeholder]
    prompt.value = LOOKUP
    button(panel, "Run").click()
    assert graph.runs == 1 and len(cards(panel)) == 1
    assert button(panel, "Run").disabled  # the thread waits for a decision first


def test_reject_sends_the_message_and_the_model_reroutes():
    store, graph, panel = panel_for("kit", REQUEST)
    button(panel, "Approve").click()
    (card,) = cards(panel)
    (message,) = [w for w in find(card, widgets.Text) if "Message to the model" in w.placeholder]
    message.value = "Acme is too slow, use 'Globex' instead."
    button(card, "Reject").click()
    assert "Globex" in json.dumps(panel.pending[0].value)
    assert panel.decisions[-1].message == "Acme is too slow, use 'Globex' instead."
    assert store.purchase_orders() == []


def test_the_edit_form_has_a_widget_per_argument_type():
    store = InventoryStore()

    def schedule_delivery(item: str, qty: int, weight: float, rush: bool, carrier: Literal["ups", "dhl"]) -> str:
        """Schedule a delivery."""
        store.lookup_inventory(item, "SF-01")  # leaves a trace in tool_runs
        return f"scheduled {qty} x {item} ({weight} kg) with {carrier}, rush={rush}"

    tool = StructuredTool.from_function(schedule_delivery)
    graph = build_review_graph(OfflineChatModel(), [tool], InMemorySaver())
    panel = ApprovalPanel(graph, config())
    panel.run("call schedule_delivery with item=widget-x and qty=3 and weight=1.5 and rush=false and carrier=ups")
    (card,) = cards(panel)
    open_editor(card, "Form")
    assert [
        type(w).__name__
        for w in find(card, (widgets.Text, widgets.Checkbox, widgets.Dropdown))
        if w.description.rstrip(" *") in ("Item", "Qty", "Weight", "Rush", "Carrier", "rush")
    ] == [
        "Text",
        "NumberText",  # numbers are typed as text and checked, never truncated or reset
        "NumberText",
        "Checkbox",
        "Dropdown",
    ]
    assert field(card, "Qty").value == "3" and field(card, "Weight").value == "1.5"
    (carrier,) = find(card, widgets.Dropdown)
    assert [value for _, value in carrier.options] == ["ups", "dhl"]
    carrier.value = "dhl"
    (rush,) = find(card, widgets.Checkbox)
    rush.value = True
    button(card, "Send edit").click()
    assert panel.decisions[0].edited_args == {
        "item": "widget-x",
        "qty": 3,
        "weight": 1.5,
        "rush": True,
        "carrier": "dhl",
    }
    assert "with dhl, rush=True" in str(panel)


def test_switching_the_editor_to_json_carries_the_form_over():
    store, graph, panel = panel_for("kit", ORDER)
    (card,) = cards(panel)
    open_editor(card, "Form")
    field(card, "Qty").value = "40"
    (toggle,) = find(card, widgets.ToggleButtons)
    toggle.value = "JSON"
    (raw,) = find(card, widgets.Textarea)
    assert json.loads(raw.value) == {"name": "create_purchase_order", "args": order_args(qty=40)}
    raw.value = json.dumps({"name": "create_purchase_order", "args": order_args(qty=30)})
    toggle.value = "Form"
    assert field(card, "Qty").value == "30"


def test_only_the_allowed_decisions_are_offered():
    store = InventoryStore()
    tools = make_tools(store)
    graph = build_review_graph(
        OfflineChatModel(), tools, InMemorySaver(), policy={"create_purchase_order": ["approve", "reject"]}
    )
    panel = ApprovalPanel(graph, config())
    panel.run(ORDER)
    labels = [b.description for b in find(cards(panel)[0], widgets.Button)]
    assert labels == ["Approve", "Reject"]


# -- every payload kind -------------------------------------------------------------------------
def test_batched_actions_are_decided_one_by_one_then_resumed_once():
    store, graph, panel = panel_for("batched", TWO_ITEMS)
    (card,) = cards(panel)
    runs = graph.runs
    button(card, "Approve", 1).click()  # the second action first
    assert graph.runs == runs and store.tool_runs() == []
    assert "decided: approve" in str(panel) and panel.status.startswith("Waiting for the rest")
    button(card, "Reject", 0).click()
    assert graph.runs == runs + 1
    assert store.tool_runs() == [{"tool": "lookup_inventory", "args": {"item": "sprocket-z", "warehouse": "SF-01"}}]
    assert [(r.args["item"], r.decision["type"]) for r in panel.decisions] == [
        ("widget-x", "reject"),
        ("sprocket-z", "approve"),
    ]


def test_per_call_cards_show_together_and_answer_by_id():
    store, graph, panel = panel_for("per_call", TWO_ITEMS)
    first, second = cards(panel)
    assert panel.status == "Waiting for 2 decisions."
    button(second, "Reject").click()
    assert len(cards(panel)) == 1 and store.tool_runs() == []
    button(panel, "Approve").click()
    assert [run["args"]["item"] for run in store.tool_runs()] == ["widget-x"]


def test_respond_answers_in_place_of_the_tool():
    store, graph, panel = panel_for("per_call", LOOKUP)
    (card,) = cards(panel)
    button(card, "Respond").click()
    refused = "The respond decision for lookup_inventory is not valid: message: String should have at least 1 character"
    assert refused in str(panel) and store.tool_runs() == []  # an empty response is refused
    (message,) = [w for w in find(card, widgets.Text) if "Message to the model" in w.placeholder]
    message.value = "widget-x in SF-01: 12 units in stock."
    button(card, "Respond").click()
    assert store.tool_runs() == [] and "12 units" in str(panel) and panel.status == "Done."


def test_tutorial_payload_with_several_calls_takes_one_decision_and_no_edit():
    store = InventoryStore()
    tools = make_tools(store)
    calls = [
        {"name": "lookup_inventory", "args": {"item": "widget-x", "warehouse": "SF-01"}, "id": "call_a"},
        {"name": "lookup_inventory", "args": {"item": "gadget-y", "warehouse": "NY-02"}, "id": "call_b"},
    ]
    panel = ApprovalPanel(tutorial_graph(None, tools, planner=scripted(*calls)), config())
    panel.run("go")
    (card,) = cards(panel)
    assert [b.description for b in find(card, widgets.Button)] == ["Approve", "Reject"]
    assert "one decision for all" in str(panel)
    button(card, "Approve").click()
    assert len(store.tool_runs()) == 2 and [r.call_id for r in panel.decisions] == ["call_a", "call_b"]


def test_a_question_gets_a_text_answer():
    panel = ApprovalPanel(question_graph(with_schema=False), config())
    panel.run({})
    (card,) = cards(panel)
    assert "Which vendor should we use?" in str(panel)
    button(card, "Send answer").click()
    assert "The answer is empty; nothing was sent." in str(panel) and len(cards(panel)) == 1
    (answer,) = find(card, widgets.Textarea)
    answer.value = "Globex"
    button(card, "Send answer").click()
    assert panel.status == "Done." and panel.decisions[0].message == "Globex"


def test_a_question_with_a_response_schema_gets_a_form():
    graph = question_graph(with_schema=True)
    panel = ApprovalPanel(graph, config())
    panel.run({})
    (card,) = cards(panel)
    amount = field(card, "Amount")
    (currency,) = find(card, widgets.Dropdown)
    amount.value = "800"
    currency.value = "EUR"
    button(card, "Send answer").click()
    assert graph.get_state(config()).values["answer"] == {"amount": 800, "currency": "EUR"}


# -- bad input: a clear message in the card, nothing resumes, the card stays answerable -------------
BAD_EDITS = {
    "malformed JSON": ('{"name": "create_purchase_order", "args": {"qty": 5', "Malformed JSON"),
    "wrong type": (json.dumps({"name": "create_purchase_order", "args": order_args(qty="lots")}), "qty"),
    "missing argument": (
        json.dumps({"name": "create_purchase_order", "args": {"item": "widget-x", "qty": 5}}),
        "vendor",
    ),
    "unknown tool": (json.dumps({"name": "wire_money", "args": {"amount": 5}}), "cannot change the tool"),
    "renamed tool": (
        json.dumps({"name": "send_notification", "args": {"channel": "slack", "message": "hi"}}),
        "cannot change the tool",
    ),
    "unknown argument": (json.dumps({"name": "create_purchase_order", "args": order_args(rush=True)}), "rush"),
    "not an object": ("[1, 2]", "must be an object"),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", list(BAD_EDITS))
def test_a_bad_edit_is_refused_in_the_card_and_nothing_resumes(mode, case):
    text, problem = BAD_EDITS[case]
    store, graph, panel = panel_for(mode, ORDER)
    runs = graph.runs
    (card,) = cards(panel)
    send_json_edit(card, text)
    assert problem in outputs_text(card), str(panel)
    assert problem in str(panel)
    assert graph.runs == runs and store.tool_runs() == [] and panel.decisions == ()
    assert cards(panel) == [card]  # the same card, still answerable
    (raw,) = find(card, widgets.Textarea)
    raw.value = json.dumps({"name": "create_purchase_order", "args": order_args(qty=50)})
    button(card, "Send edit").click()
    assert outputs_text(card) == "" and store.purchase_orders()[0]["qty"] == 50


def test_a_call_to_a_tool_the_panel_cannot_see_is_approved_and_the_graph_decides():
    # the panel cannot check a tool it cannot see, but approve needs no schema: the graph runs
    # (or, here, refuses) its own tool; nothing the panel could not check is invented
    store = InventoryStore()
    ghost = {"name": "wire_money", "args": {"amount": 5}, "id": "call_ghost"}
    panel = ApprovalPanel(tutorial_graph(None, make_tools(store), planner=scripted(ghost)), config())
    panel.run("go")
    (card,) = cards(panel)
    button(card, "Approve").click()
    assert outputs_text(card) == "" and panel.status == "Done." and store.tool_runs() == []
    assert [record.decision for record in panel.decisions] == [{"type": "approve"}]


# -- exactly once, and stale decisions ----------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_a_double_click_resumes_exactly_once(mode):
    store, graph, panel = panel_for(mode, LOOKUP)
    approve = button(panel, "Approve")
    runs = graph.runs
    approve.click()
    approve.click()
    assert graph.runs == runs + 1
    assert len(store.tool_runs()) == 1 and len(panel.decisions) == 1
    assert "no longer pending" in str(panel)


def test_a_click_queued_on_an_answered_card_never_reaches_the_next_card():
    store, graph, panel = panel_for("kit", REQUEST)
    old_reject = button(panel, "Reject")
    button(panel, "Approve").click()  # the lookup; the order's card replaces it
    (message,) = [w for w in find(panel, widgets.Text) if "Message to the model" in w.placeholder]
    message.value = "typed for the order"
    assert button(panel, "Reject") is not old_reject  # every card gets new buttons
    old_reject.click()  # e.g. the second half of a double click, handled after the re-render
    assert "no longer pending" in str(panel)
    assert [r.decision["type"] for r in panel.decisions] == ["approve"]
    assert panel.pending[0].value["tool_call"]["name"] == "create_purchase_order"


def test_a_second_panel_on_the_same_thread_is_told_the_decision_is_stale():
    store, graph, first = panel_for("kit", REQUEST)
    second = ApprovalPanel(graph, config())
    assert "lookup_inventory" in str(second)
    button(first, "Approve").click()
    stale = button(second, "Reject")
    stale.click()
    assert "no longer pending" in outputs_text(second)
    assert store.tool_runs() == [{"tool": "lookup_inventory", "args": {"item": "widget-x", "warehouse": "SF-01"}}]
    assert "create_purchase_order" in str(second)  # it caught up with the thread


def test_a_rerun_decide_cell_is_refused():
    store, graph, panel = panel_for("kit", REQUEST)
    lookup = panel.pending[0].id
    panel.decide({"type": "approve"}, lookup)
    panel.decide({"type": "approve"}, lookup)  # the same cell, run again
    assert "no longer pending" in str(panel)
    assert len(store.tool_runs()) == 1 and len(panel.pending) == 1


@pytest.mark.parametrize(
    "decision, interrupt_id, problem",
    [
        (None, None, "No decision given"),
        ({}, None, "No decision given"),
        ({"type": "approve"}, "f" * 32, "Unknown id"),
    ],
)
def test_none_empty_and_unknown_ids_never_reach_the_graph(decision, interrupt_id, problem):
    store, graph, panel = panel_for("kit", ORDER)
    runs = graph.runs
    panel.decide(decision, interrupt_id)
    assert problem in str(panel) and graph.runs == runs and store.tool_runs() == []


def test_buttons_are_disabled_while_the_graph_runs_and_tokens_stream():
    store = InventoryStore()
    seen: dict[str, list] = {"disabled": []}
    holder: list[ApprovalPanel] = []
    base = make_tools(store)

    def lookup_inventory(item: str, warehouse: str) -> str:
        panel = holder[0]
        seen["disabled"].append([b.disabled for b in find(panel, widgets.Button)])
        seen["status"] = panel.status
        return store.lookup_inventory(item, warehouse)

    tools = [StructuredTool.from_function(lookup_inventory, description=base[0].description), *base[1:]]
    panel = ApprovalPanel(build_review_graph(OfflineChatModel(), tools, InMemorySaver()), config(), stream_tokens=True)
    holder.append(panel)
    streamed = []
    panel._live.observe(lambda change: streamed.append(change["new"]), names="outputs")
    panel.run(LOOKUP)
    button(panel, "Approve").click()
    assert seen["disabled"] and all(all(states) for states in seen["disabled"])
    assert seen["status"] == "⏳ Running execute…"
    assert not button(panel, "Run").disabled  # enabled again when done
    texts = [outputs[0]["text"] for outputs in streamed if outputs]
    assert len(texts) > 3 and texts[-1].startswith("Here is what happened:")


# -- faults ------------------------------------------------------------------------------------
def test_a_failing_model_shows_the_error_and_retry_continues():
    store = InventoryStore()
    graph = build_review_graph(FailingModel(), make_tools(store), InMemorySaver())
    panel = ApprovalPanel(graph, config())
    panel.run(LOOKUP)
    assert "ConnectionRefusedError: Connection refused" in outputs_text(panel)
    assert panel.status.startswith("Failed in agent") and cards(panel) == []
    button(panel, "Retry").click()
    assert len(cards(panel)) == 1 and "Retry" not in [b.description for b in find(panel, widgets.Button)]
    button(panel, "Approve").click()
    assert panel.status == "Done." and len(store.tool_runs()) == 1


@pytest.mark.parametrize("mode", MODES)
def test_a_tool_that_raises_shows_the_error_and_retry_runs_it(mode):
    store = InventoryStore()
    panel = ApprovalPanel(agent(mode, store, tools=flaky_tools(store)), config())
    panel.run(LOOKUP)
    button(panel, "Approve").click()
    assert "RuntimeError: inventory database is locked" in outputs_text(panel)
    assert store.tool_runs() == []
    button(panel, "Retry").click()
    assert panel.status == "Done." and "7 units" in str(panel)
    assert len(store.tool_runs()) == 1


# -- the read-only surface ----------------------------------------------------------------------------
def test_the_surface_is_small_and_read_only():
    store, graph, panel = panel_for("kit", ORDER)
    for name in ("pending", "decisions", "status"):
        with pytest.raises(AttributeError):
            setattr(panel, name, None)
    assert panel.pending[0].value["tool_call"]["name"] == "create_purchase_order"
    # `log` stays the widget's own traitlets Logger; the decision log is `decisions`
    assert isinstance(panel.log, logging.Logger) and panel.decisions == ()
    bundle = panel._repr_mimebundle_()
    assert bundle["text/plain"] == str(panel)
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_tokens_stream_only_when_asked_or_online(monkeypatch, model_env):
    from hitl_widgets.models import is_online as online_mode

    monkeypatch.setenv("HITL_OFFLINE", "1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert not online_mode()
    monkeypatch.delenv("HITL_OFFLINE")
    assert online_mode()
    monkeypatch.delenv("OPENAI_API_KEY")
    assert not online_mode()
    store, graph, panel = panel_for("kit")
    streamed = []
    panel._live.observe(lambda change: streamed.append(change["new"]), names="outputs")
    panel.run("Hello")
    assert panel.status == "Done." and [o for o in streamed if o] == []


def test_answered_cards_free_their_widgets():
    from ipywidgets.widgets.widget import _instances  # Jupyter's registry of open widgets

    store, graph, panel = panel_for("kit")
    counts = []
    for _ in range(6):
        panel.run(LOOKUP)
        button(panel, "Approve").click()
        counts.append(len(_instances))
    assert len(panel.decisions) == 6
    assert counts[-1] == counts[1], f"open widgets grow with every decision: {counts}"
