"""What the panel's widgets look like: labels, button styles and shared layouts."""

from __future__ import annotations

import ipywidgets as widgets
from ipywidgets.widgets.widget_string import HTMLStyle, TextStyle

from ._kinds import KINDS

LABELS = {"approve": "Approve", "edit": "Edit", "reject": "Reject", "respond": "Respond"}
STYLES = {"approve": "success", "edit": "warning", "reject": "danger", "respond": "info"}
LOG_ROWS = 50
"""The decision log shows this many rows at most (the latest); `panel.decisions` has them all."""
KIND_NAMES = {kind.name: kind.label for kind in KINDS}
"""A card's title by request kind (each kind's label lives with its definition in `_kinds.py`)."""


class Looks:
    """Layouts and styles shared by a panel's widgets.

    A widget builds its own layout and style objects unless given some, and that is most
    of what a new card costs; the cards of one panel share these (ipywidgets allows it).
    Widgets that show or hide themselves get a layout of their own.
    """

    def __init__(self) -> None:
        self.plain = widgets.Layout()
        self.wide = widgets.Layout(width="95%")
        self.card = widgets.Layout(border="1px solid #bbb", padding="6px", margin="4px 0")
        self.action = widgets.Layout(border_left="3px solid #ddd", padding="0 0 0 6px")
        self.button = widgets.ButtonStyle()
        self.text = TextStyle(description_width="initial")
        self.html = HTMLStyle()
