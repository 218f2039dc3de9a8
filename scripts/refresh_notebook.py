"""Re-execute notebooks in place, offline, the way their saved outputs were made.

    .venv/bin/python scripts/refresh_notebook.py notebooks/06-approval-panel.ipynb [...]

Cells tagged `raises-exception` may fail (the exercise self-checks do, unsolved). The
widget state nbclient saves for every widget ever opened is pruned to the widgets the
outputs still show, so a panel notebook stays small, and cell timings are dropped.
"""

import json
import os
import re
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from hitl_widgets.models import MODEL_VARIABLES

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def prune_widget_state(nb: nbformat.NotebookNode) -> None:
    """Keep only the widget models reachable from a displayed widget."""
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state")
    if not state:
        return
    todo = [
        out["data"][WIDGET_VIEW]["model_id"]
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if WIDGET_VIEW in out.get("data", {})
    ]
    keep: set[str] = set()
    while todo:
        model = todo.pop()
        if model in state and model not in keep:
            keep.add(model)
            todo.extend(re.findall(r"IPY_MODEL_([0-9a-f]+)", json.dumps(state[model])))
    nb.metadata["widgets"][WIDGET_STATE]["state"] = {k: v for k, v in state.items() if k in keep}


def refresh(path: Path) -> None:
    os.environ["HITL_OFFLINE"] = "1"
    for name in MODEL_VARIABLES:
        os.environ.pop(name, None)
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    prune_widget_state(nb)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)  # timings: noise in every diff
    nbformat.write(nb, path)
    print(f"refreshed {path}")


if __name__ == "__main__":
    for argument in sys.argv[1:]:
        refresh(Path(argument))
