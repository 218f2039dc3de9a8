"""Single-use link tokens, stored hashed in the checkpointer's own database.

A token is 32 random bytes; only its SHA-256 is stored, so a copy of the database cannot
follow a link. Each row binds the token to one thread, one interrupt, the call's
fingerprint, one decision and the recipient it was sent to. Redeeming claims every token of
the interrupt in one conditional UPDATE: of the approve and reject links of one email, and
of two processes following the same link at once, exactly one wins.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ._sql import Connection, Run, transaction

Clock = Callable[[], datetime]
COLUMNS = (
    "token_hash",
    "thread_id",
    "interrupt_id",
    "fingerprint",
    "decision",
    "recipient",
    "issued_at",
    "expires_at",
    "used_at",
)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    """What a stored token is bound to (never the token itself)."""

    token_hash: str
    thread_id: str
    interrupt_id: str
    fingerprint: str
    decision: str
    recipient: str
    issued_at: str
    expires_at: str | None
    used_at: str | None


class LinkTokens:
    """The `hitl_link_tokens` table over SQLite or PostgreSQL."""

    def __init__(self, db: Connection) -> None:
        self._db = db
        with self._tx() as run:
            run(
                "CREATE TABLE IF NOT EXISTS hitl_link_tokens (token_hash TEXT PRIMARY KEY, thread_id TEXT NOT NULL, "
                "interrupt_id TEXT NOT NULL, fingerprint TEXT NOT NULL, decision TEXT NOT NULL, "
                "recipient TEXT NOT NULL, issued_at TEXT NOT NULL, expires_at TEXT, used_at TEXT)"
            )

    @classmethod
    def for_checkpointer(cls, saver: Any) -> LinkTokens:
        """The table in the checkpointer's database (a private in-memory one for an InMemorySaver)."""
        return cls(Connection.beside(saver))

    def _tx(self) -> AbstractContextManager[Run]:
        return transaction(self._db)

    def issue(
        self,
        *,
        thread_id: str,
        interrupt_id: str,
        fingerprint: str,
        decision: str,
        recipient: str,
        issued_at: str,
        expires_at: str | None,
    ) -> str:
        """A new token for one decision on one interrupt; only its hash is kept."""
        token = secrets.token_urlsafe(32)
        with self._tx() as run:
            run(
                f"INSERT INTO hitl_link_tokens ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                token_hash(token),
                thread_id,
                interrupt_id,
                fingerprint,
                decision,
                recipient,
                issued_at,
                expires_at,
                None,
            )
        return token

    def issued_for(self, thread_id: str, interrupt_id: str, recipient: str) -> bool:
        """True when links for this interrupt already went to this recipient (notify once)."""
        with self._tx() as run:
            rows = run(
                "SELECT 1 FROM hitl_link_tokens WHERE thread_id = ? AND interrupt_id = ? AND recipient = ?",
                thread_id,
                interrupt_id,
                recipient,
            )
        return bool(rows)

    def find(self, token: str) -> IssuedToken | None:
        with self._tx() as run:
            rows = run(f"SELECT {', '.join(COLUMNS)} FROM hitl_link_tokens WHERE token_hash = ?", token_hash(token))
        return IssuedToken(*rows[0]) if rows else None

    def claim(self, issued: IssuedToken, used_at: str) -> bool:
        """Use up every token of the interrupt; False when another link or process got there first."""
        with self._tx() as run:
            run(
                "UPDATE hitl_link_tokens SET used_at = ? "
                "WHERE thread_id = ? AND interrupt_id = ? AND used_at IS NULL "
                "AND EXISTS (SELECT 1 FROM hitl_link_tokens WHERE token_hash = ? AND used_at IS NULL)",
                used_at,
                issued.thread_id,
                issued.interrupt_id,
                issued.token_hash,
            )
            claimed = run.rowcount > 0
        return claimed
