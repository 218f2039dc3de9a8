"""Approvals that expire: a deadline per tool or per rule, a safe default, and a sweeper.

LangGraph waits for a human forever. With `expiry=Expiry({...})` a review graph stamps each
request it asks with `requested_at`, `expires_at` and `on_expiry`, and the review node (not
the UI) refuses any decision that reaches it after `expires_at` by the graph's own clock,
however it arrives: the request then resolves to its default, logged as automatic.

    expiry = Expiry({"create_purchase_order": Reject(after=timedelta(minutes=5))}, clock=clock)
    expiry = Expiry({"create_purchase_order": Escalate(after=timedelta(minutes=10), to="on-call")})
    graph = build_review_graph(model, tools, saver, expiry=expiry)
    sweep(graph)   # any process, any time: resumes each overdue paused thread once, with its default

Time comes from a clock: any zero-argument callable returning an aware UTC `datetime`
(`system_clock`, or a `ManualClock` a lesson or a test moves by hand).
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from langgraph.types import Command

from .audit import AuditLog, Clock, utc_now
from .errors import REVIEW_KIND, STRICT_RESUME
from .persistence import thread_ids

NO_DECISION = "no decision before the deadline"
"""What an expired request's default rejection tells the model (unless the rule says otherwise)."""


system_clock: Clock = utc_now
"""The real time, in UTC: the one clock the audit trail, the links and the inbox also read."""


class ManualClock:
    """A clock that moves only when told (`advance`), or at real speed after `follow_real_time()`.

    Lessons and tests read the same time on every run, so saved outputs stay the same.
    """

    def __init__(self, start: str | datetime = "2026-12-01T10:00:00+00:00") -> None:
        self._now = datetime.fromisoformat(start) if isinstance(start, str) else start
        if self._now.tzinfo is None:
            raise ValueError("ManualClock needs an aware start time, such as '2026-12-01T10:00:00+00:00'.")
        self._since: float | None = None
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            if self._since is None:
                return self._now
            return self._now + timedelta(seconds=time.monotonic() - self._since)

    def advance(self, delta: timedelta | float) -> datetime:
        """Move the clock on by `delta` (a timedelta, or seconds); returns the new time."""
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        with self._lock:
            self._now += step
            return self._now

    def follow_real_time(self) -> None:
        """From now on the clock runs at real speed (for a short live demo); `advance` still adds."""
        with self._lock:
            if self._since is None:
                self._since = time.monotonic()


def _as_delta(after: timedelta | float) -> timedelta:
    return after if isinstance(after, timedelta) else timedelta(seconds=after)


@dataclass(frozen=True)
class Reject:
    """When nobody decides within `after`, reject the call, telling the model `message`."""

    after: timedelta | float
    message: str = NO_DECISION

    def __post_init__(self) -> None:
        object.__setattr__(self, "after", _as_delta(self.after))

    def on_expiry(self) -> dict[str, Any]:
        return {"type": "reject", "message": self.message}


@dataclass(frozen=True)
class Escalate:
    """When nobody decides within `after`, ask reviewer `to` instead; `then` is that request's own
    deadline (by default: reject after the same time), so an escalation never waits forever."""

    after: timedelta | float
    to: str
    then: Reject | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "after", _as_delta(self.after))

    def on_expiry(self) -> dict[str, Any]:
        return {"type": "escalate", "to": self.to}

    def next_rule(self) -> Reject:
        return self.then or Reject(self.after)


Rule = Reject | Escalate


@dataclass(frozen=True)
class Expiry:
    """Deadlines by tool name or by governance rule name (the rule's name wins), else `default`."""

    rules: Mapping[str, Rule] = field(default_factory=dict)
    default: Rule | None = None
    clock: Clock = system_clock

    def rule_for(self, tool: str, policy_rule: str | None = None) -> Rule | None:
        if policy_rule is not None and policy_rule in self.rules:
            return self.rules[policy_rule]
        return self.rules.get(tool, self.default)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Deadline:
    """The three keys a request carries when a deadline applies."""

    requested_at: datetime
    expires_at: datetime
    on_expiry: dict[str, Any]

    def fields(self) -> dict[str, Any]:
        return {
            "requested_at": _iso(self.requested_at),
            "expires_at": _iso(self.expires_at),
            "on_expiry": dict(self.on_expiry),
        }

    @classmethod
    def of(cls, request: Any) -> Deadline | None:
        """The deadline a request (an interrupt value) carries, or None."""
        if not isinstance(request, Mapping) or "expires_at" not in request:
            return None
        return cls(
            datetime.fromisoformat(request["requested_at"]),
            datetime.fromisoformat(request["expires_at"]),
            dict(request.get("on_expiry") or {"type": "reject", "message": NO_DECISION}),
        )


def default_text(on_expiry: Mapping[str, Any]) -> str:
    """What the default does, in words: "reject (no decision before the deadline)"."""
    if on_expiry.get("type") == "escalate":
        return f"escalate to {on_expiry.get('to')}"
    return f"reject ({on_expiry.get('message') or NO_DECISION})"


def countdown_text(deadline: Deadline, now: datetime) -> str:
    """ "expires in 4:59, then: reject (...)", or what happened once it passed."""
    left = int((deadline.expires_at - now).total_seconds())
    if left <= 0:
        return f"expired at {deadline.expires_at:%H:%M:%S} UTC: {default_text(deadline.on_expiry)}"
    minutes, seconds = divmod(left, 60)
    hours, minutes = divmod(minutes, 60)
    shown = f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
    return f"expires in {shown}, then: {default_text(deadline.on_expiry)}"


def countdown_line(request: Any, now: datetime) -> str | None:
    """The card's line for a request with a deadline (None without one): whom it waits for, how long."""
    deadline = Deadline.of(request)
    if deadline is None:
        return None
    escalated = request.get("escalated_to")
    return (f"escalated to {escalated} · " if escalated else "") + countdown_text(deadline, now)


def is_overdue(request: Any, now: datetime) -> bool:
    deadline = Deadline.of(request)
    return deadline is not None and now >= deadline.expires_at


# -- the sweeper ----------------------------------------------------------------------------------
def sweeper_answer(request: Mapping[str, Any], by: str, *, channel: str = "sweeper") -> dict[str, Any] | None:
    """A resume value that is safe even if it arrived in time: a reject (or a respond), never approve.

    The node, seeing it after the deadline, applies the request's own default instead and logs
    that as automatic. Governed requests take it in their envelope. None: the request allows
    neither reject nor respond, so nothing safe can be sent.
    """
    allowed = request.get("allowed_decisions") or ()
    marks = {"channel": channel, "by": by}
    if "reject" in allowed:
        decision: dict[str, Any] = {"type": "reject", "message": NO_DECISION, **marks}
    elif "respond" in allowed:
        decision = {"type": "respond", "message": f"No answer: {NO_DECISION}.", **marks}
    else:
        return None
    if "governance" in request:
        return {"decision": decision, "fingerprint": request.get("fingerprint"), "reviewer": None}
    return decision


def expiry_log(graph: Any) -> AuditLog:
    """Where the graph keeps its deadlines and the sweepers' claims (its checkpointer's database)."""
    log = getattr(graph, "expiry_log", None)
    if log is None:
        raise ValueError("This graph has no deadlines: build it with expiry=Expiry({...}).")
    return log


def claim(log: AuditLog, thread_id: str, interrupt_id: str, worker: str, now: datetime) -> bool:
    """True for exactly one caller per (thread, interrupt), whatever the process: the first write stays."""
    token = f"{worker}:{uuid.uuid4().hex}"
    row = log.append(f"sweep:{thread_id}:{interrupt_id}", "sweep", thread_id, token=token, at=_iso(now))
    return row.get("token") == token


@dataclass(frozen=True)
class Swept:
    """One thread a sweep resumed, and the interrupts it answered there."""

    thread_id: str
    interrupt_ids: tuple[str, ...]
    error: str | None = None
    """Why the resume failed (the claim stays: that thread needs a look, not a second resume)."""


def sweep(graph: Any, *, worker: str | None = None, clock: Clock | None = None) -> list[Swept]:
    """Resume every overdue paused thread of `graph`'s checkpointer with its default, once each.

    Safe to run again, and from several processes at once: each overdue interrupt is claimed
    in the checkpointer's database before it is resumed, and only the first claim wins. A run
    in production is a worker or a cron job calling this; a notebook calls it on a timer.
    A resume that fails is reported in its `Swept.error` and never retried by a later sweep
    (at most once, never twice): look at that thread, then answer it by hand.
    """
    clock = clock or graph.expiry.clock
    by = worker or f"sweeper pid {os.getpid()}"
    log = expiry_log(graph)
    swept = []
    for thread_id in thread_ids(graph.checkpointer):
        config: dict[str, Any] = {"configurable": {"thread_id": thread_id}}
        now = clock()
        answers = {}
        for item in graph.get_state(config).interrupts:
            value = item.value
            if not (isinstance(value, Mapping) and value.get("kind") == REVIEW_KIND and is_overdue(value, now)):
                continue
            answer = sweeper_answer(value, by)
            if answer is not None and claim(log, thread_id, item.id, by, now):
                answers[item.id] = answer
        if answers:
            strict = {"configurable": {**config["configurable"], STRICT_RESUME: True}}
            try:
                graph.invoke(Command(resume=answers), strict)
            except Exception as error:  # one broken thread must not stop the sweep of the others
                swept.append(Swept(thread_id, tuple(answers), f"{type(error).__name__}: {error}"))
            else:
                swept.append(Swept(thread_id, tuple(answers)))
    return swept
