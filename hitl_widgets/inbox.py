"""An inbox over every paused thread: one list instead of twenty panels.

    inbox = ApprovalInbox(graph)                       # every thread of the graph's checkpointer
    inbox = ApprovalInbox.for_server(url, "agent")     # every interrupted thread of a served graph
    inbox.items(tool="create_purchase_order", older_than=timedelta(hours=1))
    inbox.open_thread("t7")                            # an ApprovalPanel for that thread, in place
    inbox.answer_all({"type": "reject", "message": "..."}, inbox.items(tool="send_notification"), by="ops")

Each row says what is asked (tool, arguments), since when (age), until when (the request's
`expires_at`), and of whom. A bulk answer goes through each thread's own check, one by one:
a request that does not allow it, or was answered meanwhile, is refused on its own row and
the others still go. `inbox.results` keeps every result. The widget (filters, a checkbox per
row, Open, Approve / Reject selected) is a thin layer over these methods.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import ipywidgets as widgets

from ._inbox import BulkResult, InboxItem, answer_each, checkpointer_items, select, server_items
from .audit import utc_now
from .errors import SessionError
from .panel import ApprovalPanel

__all__ = ["ApprovalInbox", "BulkResult", "InboxItem"]
SHOWN_ROWS = 50
"""Rows `str(inbox)` writes out (the widget's list scrolls through them all)."""


def _age_text(age: timedelta) -> str:
    minutes = int(age.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h {minutes % 60} min" if hours < 48 else f"{hours // 24} days"


class ApprovalInbox(widgets.VBox):
    """Every thread that waits for a decision, from a checkpointer or a LangGraph server."""

    def __init__(
        self,
        graph: Any,
        *,
        client: Any = None,
        clock: Callable[[], datetime] = utc_now,
        reviewer: str | None = None,
        **kwargs: Any,
    ) -> None:
        """`graph`: a compiled graph with a checkpointer, or a `RemoteGraph` (then give its
        `client`, a `langgraph_sdk` sync client). `reviewer`: the name on bulk answers and opened panels."""
        super().__init__(**kwargs)
        if client is None and getattr(graph, "checkpointer", None) in (None, False):
            raise SessionError("The inbox reads paused threads from a checkpointer: compile the graph with one.")
        self.graph = graph
        self.clock = clock
        self.reviewer = reviewer
        self._client = client
        self.results: list[BulkResult] = []
        self.opened: ApprovalPanel | None = None
        self._tool = widgets.Dropdown(description="Tool", options=[("all", None)])
        self._older = widgets.BoundedIntText(description="Older than (min)", value=0, min=0, max=10**7)
        self._refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self._list = widgets.SelectMultiple(options=[], rows=12, layout=widgets.Layout(width="100%"))
        self._open = widgets.Button(description="Open", icon="folder-open")
        self._approve = widgets.Button(description="Approve selected", button_style="success")
        self._reject = widgets.Button(description="Reject selected", button_style="danger")
        self._report = widgets.HTML()
        self._detail = widgets.VBox()
        self._shown: list[InboxItem] = []
        self._everything: list[InboxItem] = []
        for control in (self._tool, self._older):
            control.observe(lambda _: self._redraw(), names="value")
        self._refresh_button.on_click(lambda _: self.refresh())
        self._open.on_click(lambda _: self.selected() and self.open_thread(self.selected()[0].thread_id))
        self._approve.on_click(lambda _: self.answer_selected({"type": "approve"}))
        self._reject.on_click(lambda _: self.answer_selected({"type": "reject", "message": "Rejected from the inbox."}))
        self.children = [
            widgets.HTML("<b>Approval inbox</b>"),
            widgets.HBox([self._tool, self._older, self._refresh_button]),
            self._list,
            widgets.HBox([self._open, self._approve, self._reject]),
            self._report,
            self._detail,
        ]
        self.refresh()

    @classmethod
    def for_server(cls, url: str, graph_id: str, **kwargs: Any) -> ApprovalInbox:
        """The inbox of a graph served by LangGraph's API server (`threads.search(status="interrupted")`)."""
        from langgraph.pregel.remote import RemoteGraph
        from langgraph_sdk import get_sync_client

        client = get_sync_client(url=url)
        return cls(RemoteGraph(graph_id, url=url, sync_client=client), client=client, **kwargs)

    # -- the logic -----------------------------------------------------------------------------
    def items(
        self, *, tool: str | None = None, older_than: timedelta | None = None, newer_than: timedelta | None = None
    ) -> list[InboxItem]:
        """Every decision waiting now, oldest first, read afresh; filtered by tool and by age."""
        found = server_items(self._client) if self._client is not None else checkpointer_items(self.graph.checkpointer)
        chosen = select(found, self.clock(), tool=tool, older_than=older_than, newer_than=newer_than)
        return sorted(chosen, key=lambda item: (item.paused_at, item.thread_id))

    def open_thread(self, thread_id: str) -> ApprovalPanel:
        """An `ApprovalPanel` on that thread, shown in the inbox in place of the last one opened."""
        panel = ApprovalPanel(self.graph, {"configurable": {"thread_id": thread_id}}, reviewer=self.reviewer)
        self.opened = panel
        self._detail.children = [panel]
        return panel

    def answer_all(
        self, decision: Mapping[str, Any], items: Sequence[InboxItem], *, by: str | None = None
    ) -> list[BulkResult]:
        """Send one decision to each item, each checked by its own thread; a refusal stops no other."""
        results = answer_each(self.graph, decision, items, by or self.reviewer)
        self.results.extend(results)
        self.refresh()
        self._report.value = html.escape(_results_line(results))
        return results

    # -- the widget ------------------------------------------------------------------------------
    def _filters(self) -> dict[str, Any]:
        minutes = self._older.value
        return {"tool": self._tool.value, "older_than": timedelta(minutes=minutes) if minutes else None}

    def refresh(self) -> None:
        """Read the threads again and redraw the list (one row per waiting call; the ticked ones stay ticked)."""
        self._everything = self.items()
        options = [("all", None), *((name, name) for name in sorted({item.tool for item in self._everything}))]
        if list(self._tool.options) != options:
            chosen = self._tool.value
            self._tool.options = options
            self._tool.value = chosen if chosen in {value for _, value in options} else None
        self._redraw()

    def _redraw(self) -> None:
        """Apply the filters to the threads last read: a filter change reads nothing again."""
        ticked = {_key(item) for item in self.selected()}
        now = self.clock()
        self._shown = select(self._everything, now, **self._filters())
        self._list.value = ()
        self._list.options = [(_row_text(item, now), index) for index, item in enumerate(self._shown)]
        self._list.value = tuple(index for index, item in enumerate(self._shown) if _key(item) in ticked)

    def selected(self) -> list[InboxItem]:
        """The rows ticked in the list."""
        return [self._shown[index] for index in self._list.value]

    def select_all(self) -> None:
        """Tick every row shown (what a reviewer does before Approve selected)."""
        self._list.value = tuple(range(len(self._shown)))

    def answer_selected(self, decision: Mapping[str, Any]) -> list[BulkResult]:
        return self.answer_all(decision, self.selected())

    # -- as text -----------------------------------------------------------------------------
    def __str__(self) -> str:
        now = self.clock()
        shown = self._shown
        lines = [f"Approval inbox · {len(shown)} waiting" + _filter_text(self._filters())]
        lines += [f"  {_row_text(item, now)}" for item in shown[:SHOWN_ROWS]]
        if len(shown) > SHOWN_ROWS:
            lines.append(f"  … and {len(shown) - SHOWN_ROWS} more")
        if self.results:
            lines.append(_results_line(self.results))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"ApprovalInbox({len(self._shown)} waiting)"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        data = super()._repr_mimebundle_(**kwargs) or {}
        data["text/plain"] = str(self)
        return data


def _key(item: InboxItem) -> tuple[str, str, str | None]:
    return (item.thread_id, item.interrupt_id, item.call_id)


def _row_text(item: InboxItem, now: datetime) -> str:
    deadline = f" · due {item.expires_at.isoformat(timespec='seconds')}" if item.expires_at else ""
    waited = _age_text(item.age(now))
    return f"{item.thread_id} · {item.tool} {item.summary} · waiting {waited}{deadline} · {item.reviewer}"


def _filter_text(filters: Mapping[str, Any]) -> str:
    parts = [f"tool {filters['tool']}" if filters["tool"] else "", ""]
    if filters["older_than"]:
        parts[1] = f"older than {_age_text(filters['older_than'])}"
    chosen = [p for p in parts if p]
    return f" ({', '.join(chosen)})" if chosen else ""


def _results_line(results: Sequence[BulkResult]) -> str:
    sent = sum(r.sent for r in results)
    lines = [f"Answered {sent} of {len(results)}:"]
    lines += [f"  {r.item.thread_id} {r.item.tool}: {'sent, ' if r.sent else ''}{r.detail}" for r in results]
    return "\n".join(lines)
