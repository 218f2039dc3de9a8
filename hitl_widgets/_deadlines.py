"""The review node's side of expiry: when a request was asked, and whether its answer came late.

The node re-runs from the top on every resume, so both moments are written once, in the
graph's expiry log (the checkpointer's database), and read back on every re-run: a decision
judged in time stays in time, a late one stays late, whatever the clock says at the replay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .audit import AuditLog
from .expiry import Deadline, Escalate, Expiry, Rule, _iso


@dataclass(frozen=True)
class DeadlineGuard:
    expiry: Expiry
    log: AuditLog

    def deadline(self, key: str, thread_id: str, rule: Rule) -> Deadline:
        """The deadline of the request asked under `key` (its first asking sets `requested_at`)."""
        asked = self.log.append(f"{key}:asked", "deadline", thread_id, at=_iso(self.expiry.clock()))
        requested = datetime.fromisoformat(asked["at"])
        return Deadline(requested, requested + rule.after, rule.on_expiry())  # type: ignore[operator]

    def is_late(self, key: str, thread_id: str, deadline: Deadline) -> bool:
        """Did the answer given under `key` reach the node at or after the deadline, by the graph's clock?"""
        got = self.log.append(f"{key}:received", "answer received", thread_id, at=self.expiry.clock().isoformat())
        return datetime.fromisoformat(got["at"]) >= deadline.expires_at


def late_reason(deadline: Deadline) -> str:
    return (
        f"Refused: the decision arrived after the deadline ({deadline.fields()['expires_at']}); "
        "nothing it asked for ran, and the request's default applied instead."
    )


def marks(answer: Any) -> dict[str, Any]:
    """The optional `channel` and `by` of a decision: copied into records, never acted on."""
    return {key: answer[key] for key in ("channel", "by") if isinstance(answer, dict) and answer.get(key)}


def automatic_channel(answer: Any) -> str:
    """How the default was reached: a sweeper's resume, or a late answer the deadline turned away.

    Only the record's wording depends on it; the outcome (the default) is the same either way.
    """
    return "sweeper" if marks(answer).get("channel") == "sweeper" else "deadline"


def escalation_note(rule: Rule) -> str:
    return f"no decision before the deadline: asked {rule.to}" if isinstance(rule, Escalate) else ""
