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
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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

    def __init__(self, conn: Any, dialect: str, lock: Any = None) -> None:
        self._conn = conn
        self.dialect = dialect
        self._lock = lock or threading.RLock()
        with self._tx() as run:
            run(
                "CREATE TABLE IF NOT EXISTS hitl_link_tokens (token_hash TEXT PRIMARY KEY, thread_id TEXT NOT NULL, "
                "interrupt_id TEXT NOT NULL, fingerprint TEXT NOT NULL, decision TEXT NOT NULL, "
                "recipient TEXT NOT NULL, issued_at TEXT NOT NULL, expires_at TEXT, used_at TEXT)"
            )

    @classmethod
    def for_checkpointer(cls, saver: Any) -> LinkTokens:
        """The table in the checkpointer's database (a private in-memory one for an InMemorySaver)."""
        conn = getattr(saver, "conn", None)
        if isinstance(conn, sqlite3.Connection):
            files = [row[2] for row in conn.execute("PRAGMA database_list") if row[1] == "main"]
            if files and files[0]:  # a connection of our own, in autocommit, to the same file
                own = sqlite3.connect(files[0], check_same_thread=False, isolation_level=None, timeout=30)
                return cls(own, "sqlite")
            return cls(conn, "sqlite", getattr(saver, "lock", None))
        if conn is not None and type(conn).__module__.startswith("psycopg"):
            return cls(conn, "postgres", getattr(saver, "lock", None))
        memory = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        return cls(memory, "sqlite")

    @contextmanager
    def _tx(self) -> Iterator[Callable[..., Any]]:
        """One transaction; `run(sql, *params)` with `?` placeholders returns (rows, rowcount)."""
        with self._lock:
            if self.dialect == "sqlite":
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield lambda sql, *p: _sqlite_run(self._conn, sql, p)
                    self._conn.execute("COMMIT")
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
            else:
                with self._conn.transaction():
                    cur = self._conn.cursor()

                    def run(sql: str, *p: Any) -> tuple[list[tuple], int]:
                        cur.execute(sql.replace("?", "%s"), p)
                        rows = cur.fetchall() if cur.description else []
                        return [tuple(r.values()) if isinstance(r, Mapping) else tuple(r) for r in rows], cur.rowcount

                    yield run

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
            rows, _ = run(
                "SELECT 1 FROM hitl_link_tokens WHERE thread_id = ? AND interrupt_id = ? AND recipient = ?",
                thread_id,
                interrupt_id,
                recipient,
            )
        return bool(rows)

    def find(self, token: str) -> IssuedToken | None:
        with self._tx() as run:
            rows, _ = run(f"SELECT {', '.join(COLUMNS)} FROM hitl_link_tokens WHERE token_hash = ?", token_hash(token))
        return IssuedToken(*rows[0]) if rows else None

    def claim(self, issued: IssuedToken, used_at: str) -> bool:
        """Use up every token of the interrupt; False when another link or process got there first."""
        with self._tx() as run:
            _, count = run(
                "UPDATE hitl_link_tokens SET used_at = ? "
                "WHERE thread_id = ? AND interrupt_id = ? AND used_at IS NULL "
                "AND EXISTS (SELECT 1 FROM hitl_link_tokens WHERE token_hash = ? AND used_at IS NULL)",
                used_at,
                issued.thread_id,
                issued.interrupt_id,
                issued.token_hash,
            )
        return count > 0


def _sqlite_run(conn: sqlite3.Connection, sql: str, params: tuple) -> tuple[list[tuple], int]:
    cursor = conn.execute(sql, params)
    return list(cursor.fetchall()), cursor.rowcount
