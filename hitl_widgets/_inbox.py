"""The inbox's logic, no widgets: find every paused thread, filter, answer several at once.

A checkpointer has no "threads waiting for a human" query. The inbox reads each thread's
latest checkpoint (`get_tuple`) and asks LangGraph's own reader of pending writes which
interrupts still wait (`read_task_statuses`: answered ones, finished tasks and tasks that
failed after their answer are not waiting). On SQLite it reads every thread's latest
pending writes in one query instead, and a checkpoint only when a request needs the
thread's messages. It never builds a full `StateSnapshot` (`graph.get_state`), which costs
more per thread. A served graph is asked directly: `threads.search(status="interrupted")`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from langgraph.pregel._task_status import read_task_statuses  # LangGraph's one reader of pending writes
from langgraph.types import Interrupt

from ._kinds import read_request, request_kind
from ._panel_text import short_args
from ._remote import to_messages
from ._review_requests import KIT, proposed_tool_calls
from ._session import Outcome, Session
from .errors import DecisionError, SessionError
from .persistence import thread_ids


@dataclass(frozen=True)
class InboxItem:
    """One decision a thread waits for: what is asked, since when, until when, of whom."""

    thread_id: str
    interrupt_id: str
    kind: str
    tool: str
    args: dict[str, Any]
    call_id: str | None
    """Set for one action of a batched request: which of its calls this row answers."""
    allowed: tuple[str, ...]
    paused_at: datetime
    """The request's `requested_at`, else the time of the checkpoint it waits at."""
    expires_at: datetime | None
    reviewer: str
    """Who must answer: "any reviewer", governance's remaining approvals, an escalation."""
    value: Any

    @property
    def summary(self) -> str:
        return short_args(self.args, limit=30)

    def age(self, now: datetime) -> timedelta:
        return now - self.paused_at


@dataclass(frozen=True)
class BulkResult:
    """What one answer of a bulk answer did: sent (the thread's status after), or refused (why)."""

    item: InboxItem
    sent: bool
    detail: str


def reviewer_needed(value: Any) -> str:
    if not isinstance(value, Mapping):
        return "any reviewer"
    governance = value.get("governance") or {}
    parts = []
    if governance:
        left = int(governance.get("approvals_needed") or 1) - len(governance.get("approvals") or [])
        done = governance.get("approvals") or []
        parts.append(f"{left} more approval{'s' * (left != 1)}" + (f" (not {', '.join(done)})" if done else ""))
        if governance.get("requester"):
            parts.append(f"not {governance['requester']}")
    expiry = value.get("on_expiry") or {}
    if expiry.get("type") == "escalate":
        parts.append(f"then {expiry.get('to')}")
    return ", ".join(parts) or "any reviewer"


def _parse_time(text: Any) -> datetime | None:
    if not text:
        return None
    when = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def items_of(thread_id: str, interrupts: Iterable[Any], values: Any, paused_at: datetime) -> list[InboxItem]:
    """The inbox rows of one thread's waiting interrupts (one row per proposed call)."""
    calls = proposed_tool_calls(values)
    rows = []
    for pending in interrupts:
        request = read_request(pending, None, calls)
        value = request.value
        requested = _parse_time(value.get("requested_at")) if isinstance(value, Mapping) else None
        expires = _parse_time(value.get("expires_at")) if isinstance(value, Mapping) else None
        actions = request.actions or ()
        for action in actions or (None,):
            rows.append(
                InboxItem(
                    thread_id=thread_id,
                    interrupt_id=request.interrupt_id,
                    kind=request.kind,
                    tool=action.name if action else "(question)",
                    args=dict(action.args) if action else {},
                    call_id=action.call_id if action and len(actions) > 1 else None,
                    allowed=request.allowed,
                    paused_at=requested or paused_at,
                    expires_at=expires,
                    reviewer=reviewer_needed(value),
                    value=value,
                )
            )
    return rows


# -- a checkpointer --------------------------------------------------------------------------
def _still_waiting(pending_writes: Sequence[Any]) -> list[Interrupt]:
    return [
        item
        for status in read_task_statuses(pending_writes).values()
        if status.error is None  # failed after its answer: it waits for Retry, not for a decision
        for item in status.pending_interrupts
    ]


def waiting_in(saver: Any, thread_id: str) -> tuple[list[Interrupt], Any, datetime] | None:
    """The interrupts still waiting on a thread's latest checkpoint, its values and its time."""
    saved = saver.get_tuple({"configurable": {"thread_id": thread_id}})
    if saved is None or not saved.pending_writes:
        return None
    waiting = _still_waiting(saved.pending_writes)
    if not waiting:
        return None
    when = _parse_time(saved.checkpoint.get("ts")) or datetime.now(UTC)
    return waiting, saved.checkpoint.get("channel_values") or {}, when


LATEST_WRITES = (
    "SELECT w.thread_id, c.checkpoint_id, w.task_id, w.channel, w.type, w.value, '', w.idx FROM "
    "(SELECT thread_id, MAX(checkpoint_id) AS checkpoint_id FROM checkpoints WHERE checkpoint_ns = '' "
    "GROUP BY thread_id) c JOIN writes w ON w.thread_id = c.thread_id AND w.checkpoint_ns = '' "
    "AND w.checkpoint_id = c.checkpoint_id"
)
"""The pending writes of every thread's latest checkpoint (the one `get_tuple` reads), in one query."""


def sqlite_items(saver: Any) -> Iterator[InboxItem]:
    """SQLite, fast: one query for every thread's pending writes; a checkpoint is read only when needed.

    A kit review request carries its call, so the thread's messages are not needed; any other
    kind of request (whose call ids may live in the messages) goes through `get_tuple`.
    """
    from langgraph.checkpoint.base.id import UUID as CheckpointId
    from langgraph.checkpoint.sqlite.utils import load_pending_writes

    with getattr(saver, "lock", nullcontext()):
        rows = saver.conn.execute(LATEST_WRITES).fetchall()
    by_thread: dict[str, list[tuple]] = {}
    latest: dict[str, str] = {}
    for thread_id, checkpoint_id, *write in rows:
        by_thread.setdefault(thread_id, []).append(tuple(write))
        latest[thread_id] = checkpoint_id
    for thread_id in sorted(by_thread):
        waiting = _still_waiting(load_pending_writes(by_thread[thread_id], saver.serde))
        if not waiting:
            continue
        if all(request_kind(item.value, item.id) == KIT for item in waiting):
            ticks = CheckpointId(latest[thread_id]).time  # a uuid6: 100 ns since 1582-10-15
            when = datetime(1582, 10, 15, tzinfo=UTC) + timedelta(microseconds=ticks // 10)
            yield from items_of(thread_id, waiting, {}, when)
        elif (found := waiting_in(saver, thread_id)) is not None:
            yield from items_of(thread_id, *found)


def each_thread_items(saver: Any) -> Iterator[InboxItem]:
    """Any checkpointer: each thread's latest checkpoint through `get_tuple`."""
    for thread_id in thread_ids(saver):
        found = waiting_in(saver, thread_id)
        if found is not None:
            yield from items_of(thread_id, *found)


def checkpointer_items(saver: Any) -> Iterator[InboxItem]:
    if isinstance(getattr(saver, "conn", None), sqlite3.Connection):
        return sqlite_items(saver)
    return each_thread_items(saver)


# -- a served graph ------------------------------------------------------------------------
def server_items(client: Any, page: int = 200) -> Iterator[InboxItem]:
    """Every interrupted thread of a LangGraph server (`langgraph_sdk` sync client), page by page."""
    offset = 0
    while True:
        threads = client.threads.search(status="interrupted", limit=page, offset=offset)
        for thread in threads:
            interrupts = [
                Interrupt(value=item.get("value"), id=item.get("id") or "")
                for items in (thread.get("interrupts") or {}).values()
                for item in items
            ]
            when = _parse_time(thread.get("updated_at")) or datetime.now(UTC)
            values = to_messages(thread.get("values") or {})
            yield from items_of(str(thread["thread_id"]), interrupts, values, when)
        if len(threads) < page:
            return
        offset += page


# -- answering --------------------------------------------------------------------------------
def select(
    items: Iterable[InboxItem],
    now: datetime,
    *,
    tool: str | None = None,
    older_than: timedelta | None = None,
    newer_than: timedelta | None = None,
) -> list[InboxItem]:
    chosen = []
    for item in items:
        if tool is not None and item.tool != tool:
            continue
        if older_than is not None and item.age(now) < older_than:
            continue
        if newer_than is not None and item.age(now) > newer_than:
            continue
        chosen.append(item)
    return chosen


def answer_each(
    graph: Any, decision: Mapping[str, Any], items: Sequence[InboxItem], by: str | None
) -> list[BulkResult]:
    """Send `decision` to each item's thread through its own `Session`, so each is checked on its own.

    One refusal (a request that does not allow the decision, an answer that no longer
    fits, a thread answered meanwhile) stops nothing else. Kit requests record the
    decision as coming through the inbox, from `by`.
    """
    results = []
    for item in items:
        sent = dict(decision)
        if item.kind == KIT:
            sent.update({"channel": "inbox", **({"by": by} if by else {})})
        try:
            if decision.get("type") not in item.allowed:
                allowed = ", ".join(item.allowed) or "nothing"
                raise DecisionError(f"{decision.get('type')!r} is not allowed for {item.tool}; allowed: {allowed}.")
            session = Session(graph, {"configurable": {"thread_id": item.thread_id}}, reviewer=by)
            outcome: Outcome = session.decide(sent, item.call_id or item.interrupt_id)
        except (DecisionError, SessionError) as error:
            results.append(BulkResult(item, False, f"refused: {error}"))
            continue
        results.append(BulkResult(item, True, outcome.status))
    return results
