"""Reading and clicking a panel's widget tree, as a reviewer would: the one home for these helpers.

ipywidgets runs a button's handlers on `Button.click()` and swallows what they raise, so a
test clicks, then asserts on what the widgets show afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import ipywidgets as widgets


def walk(widget: widgets.Widget) -> Iterator[widgets.Widget]:
    """The widget and all its descendants, hidden ones included."""
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


def shown(widget: widgets.Widget) -> Iterator[widgets.Widget]:
    """The widget and its descendants, skipping hidden ones (layout display: none)."""
    layout = getattr(widget, "layout", None)
    if layout is not None and layout.display == "none":
        return
    yield widget
    for child in getattr(widget, "children", ()):
        yield from shown(child)


def find(root: widgets.Widget, kind: type, description: str | None = None) -> list[Any]:
    return [w for w in shown(root) if isinstance(w, kind) and (description is None or w.description == description)]


def button(root: widgets.Widget, label: str, n: int = 0) -> widgets.Button:
    found = find(root, widgets.Button, label)
    assert len(found) > n, (
        f"no button {label!r} number {n}; shown: {[b.description for b in find(root, widgets.Button)]}"
    )
    return found[n]


def cards(panel: Any) -> list[widgets.VBox]:
    return list(panel._card_box.children)


def outputs_text(root: widgets.Widget) -> str:
    """All text written to the Output widgets under `root`."""
    return "".join(o.get("text", "") for w in find(root, widgets.Output) for o in w.outputs)


def stderr_text(output: widgets.Output) -> str:
    """What an Output widget shows as errors."""
    return "".join(part.get("text", "") for part in output.outputs if part.get("name") == "stderr").strip()
