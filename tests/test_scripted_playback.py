"""Notebooks with scripted decisions work both ways: unattended, and after a presenter's live clicks.

Each notebook's code cells run in this process twice: once as "Run All", once with every
decision of its main panel clicked first (on the panel's own widgets, as a presenter would)
and only then the rest of the cells, the way "Run all below" runs them. Both must end with
the same store and the same decisions, and no cell may raise. The browser suite does the
same for notebook 07 (the approval panel) in JupyterLab (`tests/e2e/test_trust_browser.py`).
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import ipywidgets as widgets
import nbformat
import pytest
from widget_tree import find, walk

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CASES = {  # notebook: (its main panel, its store)
    "07-approval-panel.ipynb": ("panel", "store"),
    "09-parallel-calls.ipynb": ("panel", "store"),
}


def code_cells(name: str) -> list[nbformat.NotebookNode]:
    return [cell for cell in nbformat.read(NOTEBOOKS / name, as_version=4).cells if cell.cell_type == "code"]


def run_cells(cells, namespace: dict) -> str:
    """Run cells as a kernel would (a cell tagged raises-exception may raise); return what they printed."""
    out = io.StringIO()
    for cell in cells:
        with contextlib.redirect_stdout(out):
            try:
                exec(compile(cell.source, "<cell>", "exec"), namespace)
            except Exception:
                if "raises-exception" not in cell.metadata.get("tags", ()):
                    raise
    return out.getvalue()


def shown_panel_index(cells, panel: str) -> int:
    """The cell that shows the main panel: the last one ending in the panel's name before its first decision."""
    first = next(i for i, cell in enumerate(cells) if f"{panel}.decide(" in cell.source)
    return max(i for i in range(first) if cell_shows(cells[i], panel))


def cell_shows(cell, panel: str) -> bool:
    lines = cell.source.strip().splitlines()
    return bool(lines) and lines[-1].strip() == panel


def outcome(namespace: dict, panel: str, store) -> dict:
    shown = namespace[panel]
    return {
        "decisions": [[r.decision["type"], r.tool, r.args, r.edited_args, r.message] for r in shown.decisions],
        "orders": store.purchase_orders(),
        "outbox": store.outbox(),
    }


def click_through(panel, records) -> None:
    """Decide what the unattended run decided, by clicking each call's own card."""
    for record in records:
        card = next(
            box
            for box in panel._card_box.children
            if any(isinstance(w, widgets.HTML) and f"<code>{record.call_id}</code>" in w.value for w in walk(box))
        )
        kind = record.decision["type"]
        if kind == "edit":
            find(card, widgets.Button, "Edit")[0].click()
            (toggle,) = find(card, widgets.ToggleButtons)
            toggle.value = "JSON"
            (raw,) = find(card, widgets.Textarea)
            raw.value = json.dumps({"name": record.tool, "args": record.edited_args})
            find(card, widgets.Button, "Send edit")[0].click()
            continue
        if record.message:
            (box,) = [w for w in find(card, widgets.Text) if "Message to the model" in w.placeholder]
            box.value = record.message
        find(card, widgets.Button, kind.capitalize())[0].click()
        assert not panel._cards.get(record.interrupt_id) or panel._session.drafts(record.interrupt_id), str(panel)


@pytest.mark.parametrize("name", list(CASES))
def test_the_same_store_unattended_and_after_live_clicks(name):
    panel, store = CASES[name]
    cells = code_cells(name)
    shown = shown_panel_index(cells, panel)
    unattended: dict = {"__name__": "__main__"}
    run_cells(cells[: shown + 1], unattended)
    its_store = unattended[store]  # the panel's own store (later cells may bind the name to another)
    run_cells(cells[shown + 1 :], unattended)
    expected = outcome(unattended, panel, its_store)
    assert expected["decisions"], f"{name}: its main panel decided nothing"

    live: dict = {"__name__": "__main__"}
    run_cells(cells[: shown + 1], live)
    its_store = live[store]
    click_through(live[panel], unattended[panel].decisions)
    printed = run_cells(cells[shown + 1 :], live)  # "Run all below": no cell raises
    scripted = sum(cell.source.count(f"{panel}.decide(") for cell in cells[shown + 1 :])
    assert printed.count("already decided in the panel, skipping") >= scripted - 1, printed
    seen = outcome(live, panel, its_store)
    assert seen == expected, (seen, expected)
