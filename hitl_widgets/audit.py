"""The audit trail and the grants, in the same database as the checkpoints.

The review graph (not the panel) writes here: every decision, human or automatic, every
refusal, every execution, every grant and revocation. Each record is canonical JSON
whose hash covers the hash before it, so editing or deleting a record breaks the chain
and `verify()` says where. `check_against_history()` compares the trail with what a
thread's checkpoints say ran, which also catches a trail cut short at its end.

    audit = AuditLog.for_checkpointer(saver)      # SqliteSaver, PostgresSaver, InMemorySaver
    audit.records(thread_id="t1"); audit.verify(); audit.export_jsonl("audit.jsonl")

Writes are idempotent: a node that runs again (LangGraph re-runs a node on every resume)
writes the same key, and the first record stays. Times come from `clock`, injectable.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from ._sql import Connection, Run, transaction
from .protocol import canonical_json

Clock = Callable[[], datetime]
GENESIS = "0" * 64


def utc_now() -> datetime:
    return datetime.now(UTC)


class FixedClock:
    """A clock for lessons and tests: starts at `start`, moves `step` seconds per reading."""

    def __init__(self, start: str = "2025-01-06T09:00:00+00:00", step: float = 1.0) -> None:
        self._now = datetime.fromisoformat(start)
        self._step = step
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        from datetime import timedelta

        with self._lock:
            now = self._now
            self._now = now + timedelta(seconds=self._step)
            return now


def _hash(prev: str, body: str) -> str:
    return hashlib.sha256((prev + body).encode()).hexdigest()


@dataclass(frozen=True)
class Problem:
    """One thing `verify` or `check_against_history` found wrong."""

    seq: int | None
    what: str

    def __str__(self) -> str:
        return f"record {self.seq}: {self.what}" if self.seq is not None else self.what


class AuditLog:
    """Hash-chained records and the grants table, over SQLite or PostgreSQL."""

    def __init__(self, db: Connection, *, clock: Clock = utc_now) -> None:
        self._db = db
        self.dialect = db.dialect
        self.clock = clock
        self._setup()

    # -- opening ----------------------------------------------------------------------------
    @classmethod
    def sqlite(cls, path: str | Path = ":memory:", *, clock: Clock = utc_now) -> AuditLog:
        return cls(Connection.sqlite(str(path)), clock=clock)

    @classmethod
    def postgres(cls, url: str, *, clock: Clock = utc_now) -> AuditLog:
        import psycopg

        return cls(
            Connection(psycopg.connect(url, autocommit=True), "postgres", threading.RLock(), owns=True), clock=clock
        )

    @classmethod
    def for_checkpointer(cls, saver: Any, *, clock: Clock = utc_now) -> AuditLog:
        """The audit trail in the checkpointer's own database (in memory for an InMemorySaver)."""
        return cls(Connection.beside(saver), clock=clock)

    def close(self) -> None:
        if self._db.owns:
            self._db.conn.close()

    # -- the tables -------------------------------------------------------------------------
    def _setup(self) -> None:
        serial = "INTEGER PRIMARY KEY AUTOINCREMENT" if self.dialect == "sqlite" else "BIGSERIAL PRIMARY KEY"
        with self._tx() as run:
            run(
                f"CREATE TABLE IF NOT EXISTS hitl_audit (seq {serial}, key TEXT NOT NULL UNIQUE, "
                "thread_id TEXT, event TEXT NOT NULL, body TEXT NOT NULL, prev_hash TEXT NOT NULL, "
                "hash TEXT NOT NULL)"
            )
            run(
                f"CREATE TABLE IF NOT EXISTS hitl_grants (id {serial}, key TEXT NOT NULL UNIQUE, "
                "thread_id TEXT NOT NULL, tool TEXT NOT NULL, effect TEXT NOT NULL, pattern TEXT, "
                "reviewer TEXT, message TEXT, created_at TEXT NOT NULL, revoked_at TEXT, revoked_by TEXT)"
            )

    def _tx(self) -> AbstractContextManager[Run]:
        """One transaction; on PostgreSQL one writer extends the chain at a time."""
        return transaction(self._db, advisory_lock=74170001)

    def now(self) -> str:
        return self.clock().isoformat()

    # -- writing ----------------------------------------------------------------------------
    def append(self, key: str, event: str, thread_id: str | None, **fields: Any) -> dict[str, Any]:
        """Add one record (or return the one already written under `key`)."""
        with self._tx() as run:
            found = run("SELECT body FROM hitl_audit WHERE key = ?", key)
            if found:
                return json.loads(found[0][0])
            last = run("SELECT seq, hash FROM hitl_audit ORDER BY seq DESC LIMIT 1")
            prev = last[0][1] if last else GENESIS
            body = {"event": event, "thread_id": thread_id, "at": fields.pop("at", None) or self.now(), **fields}
            text = canonical_json(body)
            run(
                "INSERT INTO hitl_audit (key, thread_id, event, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)",
                key,
                thread_id,
                event,
                text,
                prev,
                _hash(prev, text),
            )
            return body

    # -- reading ----------------------------------------------------------------------------
    def find(self, key: str) -> dict[str, Any] | None:
        """The record written under `key`, or None."""
        with self._tx() as run:
            found = run("SELECT seq, body FROM hitl_audit WHERE key = ?", key)
        return {"seq": found[0][0], **json.loads(found[0][1])} if found else None

    def rows(self) -> list[dict[str, Any]]:
        with self._tx() as run:
            found = run("SELECT seq, key, thread_id, event, body, prev_hash, hash FROM hitl_audit ORDER BY seq")
        names = ("seq", "key", "thread_id", "event", "body", "prev_hash", "hash")
        return [dict(zip(names, row, strict=True)) for row in found]

    def records(self, thread_id: str | None = None, event: str | None = None) -> list[dict[str, Any]]:
        """The records, oldest first, as dicts with their `seq`."""
        out = []
        for row in self.rows():
            body = {"seq": row["seq"], **json.loads(row["body"])}
            if (thread_id is None or row["thread_id"] == thread_id) and (event is None or row["event"] == event):
                out.append(body)
        return out

    def verify(self) -> list[Problem]:
        """Every break in the chain: an edited record, a deleted one, one out of order. [] when intact."""
        problems = []
        prev, expected_seq = GENESIS, None
        for row in self.rows():
            if expected_seq is not None and row["seq"] != expected_seq:
                problems.append(Problem(row["seq"], f"records {expected_seq}..{row['seq'] - 1} are missing"))
            if row["prev_hash"] != prev:
                problems.append(Problem(row["seq"], "its link to the record before does not match (one was removed)"))
            if _hash(row["prev_hash"], row["body"]) != row["hash"]:
                problems.append(Problem(row["seq"], "its content does not match its hash (it was edited)"))
            prev, expected_seq = row["hash"], row["seq"] + 1
        return problems

    def export_jsonl(self, target: str | Path | IO[str]) -> int:
        """Write every record, with its hashes, as JSON Lines; returns how many."""
        rows = self.rows()
        lines = [
            canonical_json({"seq": r["seq"], "prev_hash": r["prev_hash"], "hash": r["hash"], **json.loads(r["body"])})
            for r in rows
        ]
        text = "".join(line + "\n" for line in lines)
        if isinstance(target, (str, Path)):
            Path(target).write_text(text)
        else:
            target.write(text)
        return len(lines)

    # -- grants -----------------------------------------------------------------------------
    def add_grant(
        self,
        key: str,
        thread_id: str,
        tool: str,
        effect: str,
        pattern: Mapping[str, Any] | None,
        reviewer: str | None,
        message: str = "",
    ) -> dict[str, Any]:
        with self._tx() as run:
            found = run("SELECT id FROM hitl_grants WHERE key = ?", key)
            if not found:
                run(
                    "INSERT INTO hitl_grants (key, thread_id, tool, effect, pattern, reviewer, message, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    key,
                    thread_id,
                    tool,
                    effect,
                    None if pattern is None else canonical_json(pattern),
                    reviewer,
                    message,
                    self.now(),
                )
        return next(grant for grant in self.grants(include_revoked=True) if grant["key"] == key)

    def grants(self, thread_id: str | None = None, *, include_revoked: bool = False) -> list[dict[str, Any]]:
        """The grants, oldest first; only a thread's own when `thread_id` is given."""
        with self._tx() as run:
            found = run(
                "SELECT id, key, thread_id, tool, effect, pattern, reviewer, message, created_at, revoked_at, "
                "revoked_by FROM hitl_grants ORDER BY id"
            )
        names = ("id", "key", "thread_id", "tool", "effect", "pattern", "reviewer", "message", "created_at")
        out = []
        for row in found:
            grant = dict(zip((*names, "revoked_at", "revoked_by"), row, strict=True))
            grant["pattern"] = None if grant["pattern"] is None else json.loads(grant["pattern"])
            if thread_id is not None and grant["thread_id"] != thread_id:
                continue
            if grant["revoked_at"] and not include_revoked:
                continue
            out.append(grant)
        return out

    def revoke(self, grant_id: int, *, by: str | None = None) -> dict[str, Any]:
        """Revoke a grant (logged); revoking one twice or one that does not exist says so."""
        grant = next((g for g in self.grants(include_revoked=True) if g["id"] == grant_id), None)
        if grant is None:
            raise KeyError(f"No grant {grant_id}; list them with audit.grants(thread_id).")
        if grant["revoked_at"]:
            raise ValueError(f"Grant {grant_id} was revoked already, at {grant['revoked_at']}.")
        at = self.now()
        with self._tx() as run:
            run("UPDATE hitl_grants SET revoked_at = ?, revoked_by = ? WHERE id = ?", at, by, grant_id)
        self.append(f"revoke:{grant_id}", "revoke", grant["thread_id"], grant=grant_id, actor=by, at=at)
        return {**grant, "revoked_at": at, "revoked_by": by}

    def expire_thread(self, thread_id: str, *, by: str = "thread deleted") -> int:
        """Revoke every grant of a thread (call it when the thread is deleted); returns how many."""
        grants = self.grants(thread_id)
        for grant in grants:
            self.revoke(grant["id"], by=by)
        return len(grants)


# -- the trail against the checkpoints ----------------------------------------------------------
def executed_calls(graph: Any, config: Mapping[str, Any]) -> list[str]:
    """The call ids the thread's state says ran: tool messages the executor wrote."""
    values = graph.get_state(config).values
    return [call_id for call_id in values.get("executed") or []]


def check_against_history(audit: AuditLog, graph: Any, config: Mapping[str, Any]) -> list[Problem]:
    """Every call the checkpoints say ran has an execution record, and every execution record
    of the thread is a call the checkpoints say ran; every decision in the state's `reviews`
    has its audit record (matched by call id, fingerprint and decision)."""
    thread_id = str(config["configurable"]["thread_id"])
    ran_state = executed_calls(graph, config)
    ran_audit = [r["call"]["id"] for r in audit.records(thread_id, "execution") if r.get("outcome") == "ran"]
    problems = []
    for call_id in sorted(set(ran_state) - set(ran_audit)):
        problems.append(Problem(None, f"call {call_id} ran (checkpoint) but has no execution record"))
    for call_id in sorted(set(ran_audit) - set(ran_state)):
        problems.append(Problem(None, f"call {call_id} has an execution record the checkpoints do not show"))
    decided = {
        (r["call"]["id"], r.get("fingerprint"), r.get("decision"), r.get("actor"))
        for r in audit.records(thread_id, "decision")
    }
    reviews: Sequence[Mapping[str, Any]] = graph.get_state(config).values.get("reviews") or []
    for review in reviews:
        key = (review.get("call_id"), review.get("fingerprint"), review.get("decision"), review.get("actor"))
        if key not in decided:
            problems.append(Problem(None, f"decision {review.get('decision')} on {key[0]} has no audit record"))
    return problems


# -- reading a trail ----------------------------------------------------------------------------
def audit_table(records: Sequence[Mapping[str, Any]]) -> str:
    """One line per record: seq, event, tool, what was decided or what happened, who, automatic.

    The fields a reviewer scans a trail for, aligned for a notebook or a log; the full
    record (arguments, fingerprint, hash) stays in the trail.
    """
    lines = []
    for record in records:
        tool = record["call"]["tool"] if "call" in record else ""
        what = record.get("decision") or record.get("outcome") or str(record.get("reason", ""))[:60]
        who = record.get("actor") or ""
        automatic = record.get("automatic", "-")
        lines.append(f"{record['seq']:>3} {record['event']:<9} {tool:<22} {what:<8} by {who:<30} automatic={automatic}")
    return "\n".join(lines)
