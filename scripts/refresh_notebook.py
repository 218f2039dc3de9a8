"""Re-execute notebooks in place, offline, the way their saved outputs were made.

    .venv/bin/python scripts/refresh_notebook.py notebooks/07-approval-panel.ipynb [...]

The widget state
nbclient saves is dropped: it holds each widget's *final* state, so a viewer that
renders it (nbviewer, VS Code) would show a panel's ending in its first cell. Each
panel's saved `text/plain` is what it showed when displayed, and that is what GitHub
shows. Cell timings are dropped too (noise in every diff).
"""

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from hitl_widgets.models import MODEL_VARIABLES


def refresh(path: Path) -> None:
    os.environ["HITL_OFFLINE"] = "1"
    for name in MODEL_VARIABLES:
        os.environ.pop(name, None)
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)  # timings: noise in every diff
    nbformat.write(nb, path)
    print(f"refreshed {path}")


if __name__ == "__main__":
    for argument in sys.argv[1:]:
        refresh(Path(argument))
