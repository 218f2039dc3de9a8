"""The approval panel in a real JupyterLab, clicked in Debian's Chromium like a reviewer would.

Each test opens a notebook on a fresh kernel, runs cells with the toolbar's run button
and clicks the rendered widgets. It waits on the page's own signals (the cell's
execution count, the kernel going idle, a card appearing or going away), never on
sleeps. What the kernel did is read back with a probe cell, which runs after every
click the browser sent (the kernel handles them in order).
"""

from __future__ import annotations

import json
import re

import pytest
from labdriver import REPO, Notebook, PanelView, write_panel_demo
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

SCREENSHOT = REPO / "tests" / "e2e" / "artifacts" / "panel.png"  # ignored by git; copy to docs/ on purpose


@pytest.fixture
def demo(page, lab, lab_root, request):
    """The panel demo notebook (its own copy per test), opened, its panel shown, nothing decided."""
    name = write_panel_demo(lab_root, f"panel_demo_{request.node.name}.ipynb")
    notebook = Notebook(page, lab, name).open()
    cell = notebook.run_code_cell(0)
    panel = PanelView(notebook, cell)
    return notebook, panel


def probe(notebook: Notebook) -> dict:
    """Run the demo's probe cell: decisions, tool runs, orders and pending interrupts, as the kernel sees them."""
    cell = notebook.run_code_cell(1)
    text = cell.locator(".jp-Cell-outputArea").inner_text()
    return json.loads(text[text.index("{") :])


def test_notebook_07_panel_answers_clicks(page, lab):
    """Open 07, run the cells that start the agent (up to the first scripted decision), click Approve."""
    notebook = Notebook(page, lab, "07-approval-panel.ipynb").open()
    sources = notebook.code_sources()
    scripted = next(i for i, source in enumerate(sources) if ".decide(" in source)
    shown = [i for i, source in enumerate(sources[:scripted]) if "ApprovalPanel(" in source or ".run(" in source]
    assert shown, "notebook 07 shows no panel before its first scripted decision"
    notebook.run_code_cells(range(scripted))

    panel = PanelView(notebook, notebook.code_cell(shown[-1]))
    first = panel.cards().first
    expect(first).to_be_visible()
    call = first.locator("code").first.inner_text()
    panel.button(first, "Approve").click()
    # The next card: a different call (or the answer, when that was the last call).
    expect(panel.cards().filter(has_text=call)).to_have_count(0)
    expect(panel.cards().or_(panel.answer()).first).to_be_visible()
    notebook.wait_idle()


def test_approve_reject_reroute_edit_then_answer_and_log(demo):
    notebook, panel = demo
    lookup = panel.card("lookup_inventory")
    panel.button(lookup, "Approve").click()

    # Reject the order with a message naming another vendor: the model re-routes to it.
    order = panel.card("Acme Supply")
    panel.message_box(order).fill("use 'Globex' instead")
    panel.button(order, "Reject").click()
    rerouted = panel.card("Globex")
    expect(rerouted).to_contain_text("create_purchase_order")

    # Edit the quantity in the form, then send the edit.
    panel.button(rerouted, "Edit").click()
    quantity = rerouted.get_by_label("Qty *")
    expect(quantity).to_have_value("100")
    quantity.fill("40")
    expect(panel.button(rerouted, "Approve original")).to_be_visible()  # the open edit differs from the proposal
    panel.button(rerouted, "Send edit").click()

    notify = panel.card("send_notification")
    expect(notify).to_contain_text("40 x widget-x from Globex")  # the edited value, in the result the model read
    panel.button(notify, "Approve").click()

    expect(panel.answer()).to_contain_text("Here is what happened")
    expect(panel.answer()).to_contain_text("40 x widget-x from Globex")
    log = panel.decision_log()
    expect(log).to_contain_text("Decision log (4)")
    expect(log).to_contain_text("use 'Globex' instead")
    expect(log).to_contain_text("qty: 100 → 40")
    expect(panel.cards()).to_have_count(0)

    seen = probe(notebook)
    assert [d[0] for d in seen["decisions"]] == ["approve", "reject", "edit", "approve"]
    assert seen["orders"] == [{"id": 1, "item": "widget-x", "qty": 40, "vendor": "Globex"}]
    assert [run["tool"] for run in seen["runs"]] == ["lookup_inventory", "create_purchase_order", "send_notification"]
    assert seen["pending"] == 0


def test_double_click_on_approve_resumes_once(demo):
    notebook, panel = demo
    lookup = panel.card("lookup_inventory")
    panel.button(lookup, "Approve").dblclick()
    panel.card("create_purchase_order")  # the next card shows...
    seen = probe(notebook)  # ...and after both clicks were handled, exactly one resume happened
    assert seen["decisions"] == [["approve", "lookup_inventory", None, None]], seen
    assert seen["runs"] == [{"tool": "lookup_inventory", "args": {"item": "widget-x", "warehouse": "SF-01"}}], seen
    assert seen["orders"] == [] and seen["pending"] == 1, seen
    panel.card("create_purchase_order")  # still waiting: the second click approved nothing


def test_invalid_json_in_the_raw_view_is_refused_and_nothing_runs(demo):
    notebook, panel = demo
    lookup = panel.card("lookup_inventory")
    panel.button(lookup, "Edit").click()
    lookup.get_by_role("button", name="JSON").click()
    raw = lookup.locator("textarea")
    expect(raw).to_have_value(re.compile(r'"name": "lookup_inventory"'))
    raw.fill('{"name": "lookup_inventory", "args": {"item": "widget-x",')
    panel.button(lookup, "Send edit").click()

    expect(panel.errors(lookup)).to_contain_text("Malformed JSON edit")
    expect(panel.errors(lookup)).to_contain_text("Nothing was sent")
    seen = probe(notebook)
    assert seen == {"decisions": [], "runs": [], "orders": [], "pending": 1}, seen
    panel.card("lookup_inventory")  # still answerable, and the typed edit is not forgotten:
    panel.button(lookup, "Approve original").click()
    expect(lookup).to_contain_text("Your edit (not readable: Malformed JSON edit")
    panel.button(lookup, "Approve original anyway").click()
    panel.card("create_purchase_order")


def test_screenshot_of_the_panel_for_the_readme(demo):
    """A real screenshot from this run, a card mid-review: `cp tests/e2e/artifacts/panel.png docs/` for the README.

    The card replaces a rejected call (what changed since is shown), its edit differs from the
    proposal (so Approve says "Approve original"), and the decision log fits 900 px.
    """
    notebook, panel = demo
    panel.button(panel.card("lookup_inventory"), "Approve").click()
    order = panel.card("create_purchase_order")
    panel.message_box(order).fill("use 'Globex' instead")
    panel.button(order, "Reject").click()
    rerouted = panel.card("Globex")
    expect(rerouted).to_contain_text("Replaces the rejected call; changed: vendor: Acme Supply → Globex")
    panel.button(rerouted, "Edit").click()
    rerouted.get_by_label("Qty *").fill("40")
    expect(panel.button(rerouted, "Approve original")).to_be_enabled()
    expect(panel.decision_log()).to_contain_text("Decision log (2)")
    notebook.wait_idle()
    width = panel.decision_log().evaluate("(el) => [el.getBoundingClientRect().width, el.scrollWidth, el.clientWidth]")
    assert width[0] <= 900 and width[1] <= width[2] + 1, width
    SCREENSHOT.parent.mkdir(exist_ok=True)
    panel.root.screenshot(path=SCREENSHOT, animations="disabled")
    assert SCREENSHOT.stat().st_size > 10_000
    assert "(docs/panel.png)" in (REPO / "README.md").read_text(), "the README no longer shows the panel"
