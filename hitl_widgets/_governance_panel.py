"""The panel's governance widgets: who is deciding (a switcher), and each governed request's status.

Kept apart from the cards (`_cards.py`) so the panel hooks it in with a few lines.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets

from ._governance_view import governance_lines, governance_of
from ._review_requests import ReviewRequest


class GovernanceBox:
    """A reviewer switcher (when the panel is given `reviewers`) and the governance notes."""

    def __init__(self, session: Any, reviewers: Sequence[str] = ()) -> None:
        self._session = session
        names = list(dict.fromkeys([*reviewers, *([session.reviewer] if session.reviewer else [])]))
        self.switcher = widgets.Dropdown(options=names, value=session.reviewer, description="Reviewer")
        self.switcher.observe(lambda change: self.switch(change["new"]), names="value")
        self.notes = widgets.HTML()
        self.box = widgets.VBox([self.switcher, self.notes] if names else [self.notes])
        self._shown = False

    def switch(self, name: str | None) -> None:
        self._session.reviewer = name or None
        if name and name not in self.switcher.options:
            self.switcher.options = [*self.switcher.options, name]
        if self.switcher.value != name:
            self.switcher.value = name

    def show(self, requests: Sequence[ReviewRequest]) -> None:
        lines = [line.strip() for request in requests for line in governance_lines(request)]
        self._shown = any(governance_of(request) for request in requests)
        self.notes.value = "<br>".join(html.escape(line) for line in lines)

    def header_lines(self) -> list[str]:
        return [f"Reviewer: {self._session.reviewer}"] if self._session.reviewer else []
