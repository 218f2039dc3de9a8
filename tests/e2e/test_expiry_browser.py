"""A card with a real deadline in JupyterLab: the countdown reaches zero and the card resolves to its default."""

from __future__ import annotations

import json

import nbformat
import pytest
from labdriver import KERNEL_TIMEOUT_MS, Notebook, PanelView
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

DEADLINE_S = 4
CELLS = (
    "from hitl_widgets import ApprovalPanel, OfflineChatModel\n"
    "from hitl_widgets.expiry import Expiry, Reject\n"
    "from hitl_widgets.graphs import build_review_graph\n"
    "from hitl_widgets.inventory import InventoryStore, make_tools\n"
    "from langgraph.checkpoint.memory import InMemorySaver\n"
    "store = InventoryStore()\n"
    f'expiry = Expiry({{"create_purchase_order": Reject(after={DEADLINE_S})}})  # the real clock\n'
    "graph = build_review_graph(OfflineChatModel(), make_tools(store), InMemorySaver(), expiry=expiry)\n"
    'panel = ApprovalPanel(graph, {"configurable": {"thread_id": "browser"}})\n'
    "panel.run(\"Check widget-x in SF-01. If stock is below 10 units, order 100 from 'Acme Supply'.\")\n"
    'panel.decide({"type": "approve"}, expect="lookup_inventory")\n'
    "panel",
    "import json\n"
    "print(json.dumps({\n"
    '    "orders": store.purchase_orders(),\n'
    '    "reviews": graph.get_state(panel._session.config).values["reviews"],\n'
    '    "pending": len(panel.pending),\n'
    "}))",
)


def test_the_countdown_reaches_zero_and_the_card_resolves(page, lab, lab_root):
    notebook_file = nbformat.v4.new_notebook()
    notebook_file.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)"}
    notebook_file.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    nbformat.write(notebook_file, lab_root / "expiry_demo.ipynb")
    notebook = Notebook(page, lab, "expiry_demo.ipynb").open()
    panel = PanelView(notebook, notebook.run_code_cell(0))
    order = panel.card("create_purchase_order")
    countdown = panel.root.locator(".hitl-countdown")
    expect(countdown).to_contain_text("expires in 0:0", timeout=KERNEL_TIMEOUT_MS)
    seen = {countdown.inner_text()}
    expect(countdown).to_contain_text("expires in 0:01", timeout=10_000)  # it counts down, live
    seen.add(countdown.inner_text())
    assert len(seen) >= 2, f"the countdown did not move: {seen}"
    expect(order).to_have_count(0, timeout=15_000)
    expect(panel.root).to_contain_text("expired at", timeout=5_000)
    expect(panel.root).to_contain_text("reject (no decision before the deadline)")
    expect(panel.decision_log()).to_contain_text("no decision before the deadline")
    notebook.wait_idle()
    text = notebook.run_code_cell(1).locator(".jp-Cell-outputArea").inner_text()
    seen_by_kernel = json.loads(text[text.index("{") :])
    assert seen_by_kernel["orders"] == [] and seen_by_kernel["pending"] == 0
    automatic = seen_by_kernel["reviews"][-1]
    assert automatic["automatic"] is True and automatic["decision"] == "reject"
