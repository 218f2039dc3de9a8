"""The panel a reviewer can trust: no click-through, nothing typed dropped silently, context, checks.

Unit level (widgets driven with `Button.click()`, no browser); the browser suite
(`tests/e2e/test_trust_browser.py`) clicks the same things in JupyterLab.
"""

from __future__ import annotations

import json
import time

import ipywidgets as widgets
import pytest
from panel_support import LOOKUP, ORDER, REQUEST, TWO_ITEMS, agent, config
from widget_tree import button, cards, find, outputs_text, walk

from hitl_widgets import ApprovalPanel
from hitl_widgets._cards import NOT_ARMED
from hitl_widgets._forms import FormField, check_field, collect_args, field_errors, form_fields
from hitl_widgets._panel_looks import ARM_DELAY_S
from hitl_widgets._review_view import (
    SKIPPING,
    arg_changes,
    arg_rows,
    changes_text,
    clean_description,
    expect_matches,
    unsent_input,
)
from hitl_widgets.errors import DecisionError
from hitl_widgets.inventory import InventoryStore, make_tools
from hitl_widgets.protocol import tool_args_schema

NOTIFY = (
    "Check widget-x in SF-01. If stock is below 10 units, order 100 from 'Acme Supply', then notify the team on slack."
)


def panel_for(mode: str = "kit", text: str | None = REQUEST, **kwargs):
    store = InventoryStore()
    panel = ApprovalPanel(agent(mode, store), config(), **kwargs)
    if text:
        panel.run(text)
    return store, panel


def html_text(root: widgets.Widget) -> str:
    return " ".join(w.value for w in walk(root) if isinstance(w, widgets.HTML))


def field(card: widgets.Widget, label: str) -> widgets.Widget:
    (found,) = [w for w in find(card, widgets.Widget) if getattr(w, "description", "").rstrip(" *") == label]
    return found


def open_form(card: widgets.Widget) -> None:
    button(card, "Edit").click()


def test_an_answered_card_keeps_its_own_buttons_and_a_second_click_on_it_is_refused():
    """A card's widgets may be lent to the next card, but never its buttons or their row: the
    old card (still on screen until the front end removes it, or a click already queued)
    must not show, or click, the next call's Approve."""
    store, panel = panel_for(arm_delay=0)
    (first,) = cards(panel)
    old_buttons = set(find(first, widgets.Button))
    button(first, "Approve").click()  # the lookup; the order's card follows
    (second,) = cards(panel)
    assert second is not first
    assert set(find(first, widgets.Button)) == old_buttons, "the old card now shows other buttons"
    assert not old_buttons & set(find(second, widgets.Button)), "two cards share a button"
    button(first, "Approve").click()  # the same card again: stale, and refused with a message
    assert "no longer pending" in outputs_text(panel), outputs_text(panel)
    assert store.purchase_orders() == [], "the second click on the lookup's card approved the order"


# -- 1. no click-through ------------------------------------------------------------------------
def test_a_new_card_takes_no_click_until_armed_but_decide_never_waits():
    store, panel = panel_for(arm_delay=0.3)
    (lookup,) = cards(panel)
    assert all(b.disabled for b in find(lookup, widgets.Button))  # the first card arms late too
    time.sleep(0.45)
    button(lookup, "Approve").click()
    (order,) = cards(panel)
    assert button(order, "Approve").disabled and "activate in a moment" in html_text(order)
    button(order, "Approve").click()  # a click that reaches the kernel anyway (queued before the disable)
    assert NOT_ARMED in outputs_text(order)
    assert [r.tool for r in panel.decisions] == ["lookup_inventory"] and store.purchase_orders() == []
    time.sleep(0.45)
    assert not button(order, "Approve").disabled and "activate in a moment" not in html_text(order)
    panel.decide({"type": "reject"})  # scripted: never waits for arming
    assert [r.tool for r in panel.decisions] == ["lookup_inventory", "create_purchase_order"]


def test_the_delay_applies_once_a_front_end_shows_the_panel():
    store, panel = panel_for()
    assert not any(b.disabled for b in find(cards(panel)[0], widgets.Button))  # never shown: armed at once
    panel._repr_mimebundle_()
    assert panel._delay() == ARM_DELAY_S and 0.3 <= ARM_DELAY_S <= 1.0
    panel.decide({"type": "approve"})
    assert button(cards(panel)[0], "Approve").disabled


def test_a_new_card_is_numbered_per_thread_and_says_what_the_last_decision_did():
    store, panel = panel_for()
    assert str(panel).splitlines()[2] == "[1] review request"
    button(panel, "Approve").click()
    text = str(panel)
    assert "[2] review request" in text
    assert "after: approved lookup_inventory: widget-x in SF-01: 7 units in stock." in text
    assert "Last decision:" in html_text(cards(panel)[0])
    assert "hitl-card" in cards(panel)[0]._dom_classes


# -- 2. never drop a reviewer's input ----------------------------------------------------------------
def test_approve_with_an_edit_that_differs_says_approve_original_and_asks():
    store, panel = panel_for("kit", NOTIFY)
    panel.decide({"type": "approve"})
    panel.decide({"type": "approve"})
    (notify,) = cards(panel)
    open_form(notify)
    field(notify, "Channel").value = "email"
    button(notify, "Approve original").click()
    assert "Your edit (channel: slack → email) is discarded" in html_text(notify)
    assert store.outbox() == [] and len(panel.decisions) == 2  # nothing sent
    button(notify, "Go back").click()
    assert "is discarded" not in html_text(notify)
    field(notify, "Channel").value = "slack"  # back to the proposal: nothing to lose any more
    assert find(notify, widgets.Button, "Approve")
    field(notify, "Channel").value = "email"
    button(notify, "Send edit").click()
    assert [o["channel"] for o in store.outbox()] == ["email"]
    assert "channel: slack → email" in str(panel)


def test_approve_original_anyway_sends_the_original():
    store, panel = panel_for("kit", ORDER)
    (order,) = cards(panel)
    open_form(order)
    field(order, "Qty").value = "50"
    assert "<b>Your edit:</b> <span class='hitl-change'><b>qty</b>: <del>100</del> → <ins>50</ins>" in html_text(order)
    button(order, "Approve original").click()
    button(order, "Approve original anyway").click()
    assert store.purchase_orders()[0]["qty"] == 100


def test_a_message_with_approve_or_send_edit_is_not_dropped_silently():
    store, panel = panel_for("kit", ORDER)
    (order,) = cards(panel)
    (message,) = [w for w in find(order, widgets.Text) if "Message to the model" in w.placeholder]
    message.value = "only 50 please"
    open_form(order)
    field(order, "Qty").value = "50"
    button(order, "Send edit").click()
    assert "only 50 please&quot; will not be sent: Send edit carries no message" in html_text(order)
    assert store.purchase_orders() == []
    button(order, "Send edit without the message").click()
    assert store.purchase_orders()[0]["qty"] == 50


def test_reject_with_an_open_edit_says_the_edit_is_discarded():
    store, panel = panel_for("kit", ORDER)
    (order,) = cards(panel)
    open_form(order)
    field(order, "Vendor").value = "Globex"
    button(order, "Reject").click()
    assert "Your edit (vendor: Acme Supply → Globex) is discarded: Reject sends no edit." in html_text(order)
    assert panel.decisions == ()
    button(order, "Reject anyway").click()
    assert panel.decisions[0].decision["type"] == "reject"


def test_unsent_input_in_plain_words():
    changes = arg_changes({"qty": 100}, {"qty": 50})
    assert unsent_input("approve", changes, "") == [
        "Your edit (qty: 100 → 50) is discarded: Approve sends the original call."
    ]
    assert unsent_input("reject", None, "too many") == []  # Reject carries the message
    assert unsent_input("respond", None, "done") == []
    assert "will not be sent" in unsent_input("approve", None, "hi")[0]
    assert "will not be sent" in unsent_input("edit", None, "hi")[0]
    assert unsent_input("approve", (), "  ") == []


# -- 3. context ------------------------------------------------------------------------------------
def test_every_card_shows_the_request_the_last_result_and_what_changed_since_a_rejection():
    store, panel = panel_for("kit", NOTIFY)
    panel.decide({"type": "approve"})
    panel.decide({"type": "approve"})
    panel.decide({"type": "reject", "message": "Please email the team instead."})
    text = str(panel)
    assert "request: Check widget-x in SF-01." in text
    assert "last tool result: create_purchase_order → Purchase order PO-0001 created" in text
    assert "replaces the rejected call; changed: channel: slack → email" in text
    assert 'after: rejected send_notification: "Please email the team instead."' in text
    shown = html_text(cards(panel)[0])
    assert "<details><summary><b>Last tool result</b>" in shown and "<ins>email</ins>" in shown


def test_an_edited_call_shows_what_the_tool_returned_not_the_note_to_the_model():
    store, panel = panel_for("kit", NOTIFY)
    panel.decide({"type": "approve"})
    order = panel.pending[0].value["tool_call"]
    panel.decide({"type": "edit", "edited_action": {"name": order["name"], "args": {**order["args"], "qty": 50}}})
    text = str(panel)
    assert "after: edited create_purchase_order (qty: 100 → 50): Purchase order PO-0001 created: 50 x" in text
    assert "The reviewer edited this call" not in text.split("Decision log")[0]


def test_parallel_results_are_shown_together():
    store, panel = panel_for("per_call", TWO_ITEMS)
    panel.decide({"type": "approve"}, panel.pending[0].id)
    panel.decide({"type": "approve"})
    assert "widget-x in SF-01: 7 units in stock. · sprocket-z in SF-01: 0 units in stock." in str(panel)


# -- 5. reading --------------------------------------------------------------------------------------
def test_arguments_are_a_table_from_the_schema_with_descriptions():
    (order_tool,) = [t for t in make_tools(InventoryStore()) if t.name == "create_purchase_order"]
    rows = arg_rows({"vendor": "Acme", "qty": 5, "item": "widget-x", "extra": [1]}, tool_args_schema(order_tool))
    assert [r.name for r in rows] == ["item", "qty", "vendor", "extra"]  # the schema's order, extras last
    assert rows[1].value == "5" and "Units to order" in rows[1].description
    store, panel = panel_for("kit", ORDER)
    shown = html_text(cards(panel)[0])
    assert "<table class='hitl-args'>" in shown and "title='Units to order" in shown
    assert "    qty     100" in str(panel)


def test_edits_are_a_diff_in_the_log_and_the_text_view():
    assert (
        changes_text(arg_changes({"a": 1, "b": "x"}, {"a": 2, "c": True}))
        == "a: 1 → 2; b: x → (none); c: (none) → true"
    )
    store, panel = panel_for("kit", ORDER)
    order = panel.pending[0].value["tool_call"]
    panel.decide({"type": "edit", "edited_action": {"name": order["name"], "args": {**order["args"], "qty": 40}}})
    assert "edit create_purchase_order (" in str(panel) and ") qty: 100 → 40" in str(panel)
    log = panel._history.value
    assert "<del>100</del> → <ins>40</ins>" in log
    assert [h.strip() for h in ("time", "decision", "tool", "what changed", "message")] == [
        part.split("</th>")[0] for part in log.split("<th scope='col'>")[1:]
    ]


def test_the_log_shows_the_last_rows_with_show_all_and_separates_runs():
    store, panel = panel_for("kit", LOOKUP)
    panel.decide({"type": "approve"})
    for _ in range(3):
        panel.run(LOOKUP)
        panel.decide({"type": "approve"})
    assert len(panel.decisions) == 4
    panel.run(ORDER)
    panel.decide({"type": "reject", "message": "no"})
    panel.run(LOOKUP)
    panel.decide({"type": "approve"})
    log = panel._history.value
    shown, hidden = log.split("<details>")
    assert shown.count("<td title=") == 5 and "show all 6 decisions" in hidden and hidden.count("<td title=") == 6
    assert "Run 5 · Create a PO" in shown and "max-width:900px" in panel._style.value
    assert "  -- run 2: Check warehouse SF-01" in str(panel)


def test_the_text_view_has_no_escaped_characters_and_batched_arguments_appear_once():
    store, panel = panel_for("kit", NOTIFY)
    panel.decide({"type": "approve"})
    panel.decide({"type": "approve"})
    assert "\\u2026" not in str(panel) and "…" in str(panel)
    store, batched = panel_for("batched", TWO_ITEMS)
    shown = html_text(cards(batched)[0])
    assert "Args:" not in shown and shown.count("<th scope='row'") == 4  # two arguments, once each, per call
    description = "Tool execution requires approval\n\nTool: lookup_inventory\nArgs: {'item': 'widget-x'}"
    assert clean_description(description, batched._cards[next(iter(batched._cards))].request.actions[0]) == (
        "Tool execution requires approval"
    )
    assert "word-break:normal" in batched._style.value


# -- 4. form checks -------------------------------------------------------------------------------------
QTY = FormField("qty", "integer", 100, True, label="qty", minimum=1, maximum=100_000)


@pytest.mark.parametrize(
    ("typed", "value", "problem"),
    [
        ("50", 50, None),
        (" 7 ", 7, None),
        ("-5", None, "qty must be at least 1 and at most 100,000; -5 is not."),
        ("0", None, "at least 1"),
        ("100001", None, "at most 100,000"),
        ("2.5", None, "qty must be a whole number; 2.5 is not (nothing is rounded)."),
        ("", None, "qty is required: type a number."),
        ("lots", None, "qty must be a number; 'lots' is not."),
    ],
)
def test_integer_fields_are_checked_never_truncated_or_reset(typed, value, problem):
    got, error = check_field(QTY, typed)
    assert error == problem or (problem is not None and error is not None and problem in error)
    if problem is None:
        assert got == value


def test_the_schema_bounds_reach_the_form_and_qty_has_a_lower_bound():
    (order_tool,) = [t for t in make_tools(InventoryStore()) if t.name == "create_purchase_order"]
    schema = tool_args_schema(order_tool)
    assert schema["properties"]["qty"]["minimum"] == 1 and schema["properties"]["qty"]["maximum"] == 100_000
    (_, qty, _) = form_fields(schema, {"item": "w", "qty": 3, "vendor": "v"})
    assert (qty.minimum, qty.maximum, qty.value) == (1, 100_000, 3)
    number = FormField("w", "number", 1.5, False, label="w", minimum=0, exclusive=(True, False))
    assert check_field(number, "0")[1] == "w must be more than 0; 0 is not."
    assert check_field(number, "")[1] is None  # optional: left out
    assert field_errors([QTY, number], {"qty": "2.5", "w": "1"}) == {"qty": QTY and check_field(QTY, "2.5")[1]}
    with pytest.raises(DecisionError, match="Nothing was sent"):
        collect_args([QTY], {"qty": "-5"})
    text = FormField("vendor", "text", "x", True, label="Vendor")
    assert check_field(text, "")[1] == "Vendor is required: it cannot be empty."


def test_the_form_shows_problems_as_typed_and_clears_them_when_fixed():
    store, panel = panel_for("kit", ORDER)
    (order,) = cards(panel)
    open_form(order)
    qty = field(order, "Qty")
    qty.value = "-5"
    (problems,) = [w for w in walk(order) if isinstance(w, widgets.HTML) and "hitl-field-errors" in w._dom_classes]
    assert "Qty must be at least 1" in problems.value and problems.layout.display is None
    button(order, "Send edit").click()
    assert "Qty must be at least 1" in outputs_text(order) and store.tool_runs() == []
    qty.value = "2.5"
    assert "whole number" in problems.value
    qty.value = ""
    assert "Qty is required" in problems.value and qty.value == ""  # no silent reset to 100
    qty.value = "40"
    assert problems.layout.display == "none" and outputs_text(order) == ""  # the stale error is gone
    button(order, "Send edit").click()
    assert store.purchase_orders()[0]["qty"] == 40


def test_a_fixed_json_error_goes_when_the_switch_to_the_form_succeeds():
    store, panel = panel_for("kit", ORDER)
    (order,) = cards(panel)
    open_form(order)
    (toggle,) = find(order, widgets.ToggleButtons)
    toggle.value = "JSON"
    (raw,) = find(order, widgets.Textarea)
    raw.value = '{"name": "create_purchase_order", "args": {"qty": '
    toggle.value = "Form"
    assert "Malformed JSON edit" in outputs_text(order) and toggle.value == "JSON"
    raw.value = json.dumps({"name": "create_purchase_order", "args": {"item": "widget-x", "qty": 30, "vendor": "A"}})
    toggle.value = "Form"
    assert toggle.value == "Form" and outputs_text(order) == "" and field(order, "Qty").value == "30"


def test_a_negative_qty_is_refused_before_anything_runs():
    store, panel = panel_for("kit", ORDER)
    order = panel.pending[0].value["tool_call"]
    panel.decide({"type": "edit", "edited_action": {"name": order["name"], "args": {**order["args"], "qty": -5}}})
    assert "greater than or equal to 1" in str(panel) and store.tool_runs() == [] and panel.decisions == ()


# -- 6. accessibility hooks (the browser suite checks the result) ---------------------------------------------
def test_live_regions_and_aria_hooks_are_in_place():
    store, panel = panel_for("kit", ORDER)
    assert "hitl-panel" in panel._dom_classes
    assert [w for w in walk(panel) if "hitl-live" in getattr(w, "_dom_classes", ())] == [
        panel._status,
        panel._announcer,
    ]
    (order,) = cards(panel)
    edit = button(order, "Edit")
    assert "hitl-expander" in edit._dom_classes and "hitl-expanded" not in edit._dom_classes
    edit.click()
    assert "hitl-expanded" in edit._dom_classes
    edit.click()
    assert "hitl-expanded" not in edit._dom_classes
    panel.decide({"type": "edit", "edited_action": {"name": "create_purchase_order", "args": {"qty": "x"}}})
    assert "is not valid" in panel._announcer.value  # a card's error is announced
    assert "aria-pressed" in panel._aria.outputs[0]["data"]["application/javascript"]


# -- 7. scripted playback ------------------------------------------------------------------------------------
def test_decide_with_expect_skips_a_call_already_decided_and_never_acts_on_the_next(capsys):
    store, panel = panel_for("kit", NOTIFY)
    button(panel, "Approve").click()  # live: the lookup
    panel.decide({"type": "approve"}, expect="lookup_inventory")  # the lesson's cell, run after the click
    assert capsys.readouterr().out == f"lookup_inventory: {SKIPPING}.\n"
    assert [r.tool for r in panel.decisions] == ["lookup_inventory"] and store.purchase_orders() == []
    panel.decide({"type": "approve"}, expect="create_purchase_order")
    slack = {"name": "send_notification", "args": {"channel": "slack"}}
    email = {"name": "send_notification", "args": {"channel": "email"}}
    panel.decide({"type": "approve"}, expect=email)  # the slack card is pending: not this one
    assert "send_notification(channel=email): already decided" in capsys.readouterr().out
    panel.decide({"type": "reject", "message": "email please"}, expect=slack)
    panel.decide({"type": "reject", "message": "email please"}, expect=slack)  # the email card now: skipped
    assert SKIPPING in capsys.readouterr().out
    panel.decide({"type": "approve"}, expect=lambda call: call["args"]["channel"] == "email")
    panel.decide({"type": "approve"}, expect=email)  # nothing pending any more: skipped, no error
    assert SKIPPING in capsys.readouterr().out and panel._error is None
    assert [r.decision["type"] for r in panel.decisions] == ["approve", "approve", "reject", "approve"]
    assert [o["channel"] for o in store.outbox()] == ["email"]


def test_expect_with_batches_and_parallel_cards(capsys):
    store, batched = panel_for("batched", TWO_ITEMS)
    batched.decide({"type": "approve"}, expect={"name": "lookup_inventory", "args": {"item": "sprocket-z"}})
    assert batched.decisions == () and batched._session.drafts(batched.pending[0].id) == {1: {"type": "approve"}}
    batched.decide({"type": "approve"}, expect="lookup_inventory")
    assert len(batched.decisions) == 2
    batched.decide([{"type": "approve"}, {"type": "approve"}], expect="lookup_inventory")  # orders pending now
    assert SKIPPING in capsys.readouterr().out
    store, per_call = panel_for("per_call", TWO_ITEMS)
    per_call.decide({"type": "approve"}, expect={"name": "lookup_inventory", "args": {"item": "sprocket-z"}})
    assert [r.args["item"] for r in per_call.decisions] == ["sprocket-z"]


def test_expect_matches_names_mappings_and_predicates():
    store, panel = panel_for("kit", ORDER)
    request = panel._outcome.requests[0]
    action = request.actions[0]
    assert expect_matches("create_purchase_order", action, request)
    assert not expect_matches("lookup_inventory", action, request)
    assert expect_matches({"args": {"qty": 100}}, action, request)
    assert not expect_matches({"name": "create_purchase_order", "args": {"qty": 5}}, action, request)
    assert not expect_matches(lambda call: call["args"]["missing"], action, request)  # unreadable: not this one
