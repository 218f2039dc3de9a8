"""The kit's own tables beside a checkpointer's: one connection choice, one transaction helper.

The audit trail and the link tokens live in the checkpointer's database (SQLite or
PostgreSQL), so what a graph decided and the links that may still decide travel with its
checkpoints. Both open that database and run `?`-placeholder SQL the same way: here.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


@dataclass
class Connection:
    """A database connection, its dialect, the lock its users share, and whether we close it."""

    conn: Any
    dialect: str
    lock: Any
    owns: bool = False

    @classmethod
    def sqlite(cls, path: str = ":memory:") -> Connection:
        """A connection of our own, in autocommit (transactions are explicit), waiting on a busy file."""
        own = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        return cls(own, "sqlite", threading.RLock(), owns=True)

    @classmethod
    def beside(cls, saver: Any) -> Connection:
        """The checkpointer's database: a SqliteSaver's file, a PostgresSaver's connection; else in memory."""
        conn = getattr(saver, "conn", None)
        lock = getattr(saver, "lock", None) or threading.RLock()
        if isinstance(conn, sqlite3.Connection):
            files = [row[2] for row in conn.execute("PRAGMA database_list") if row[1] == "main"]
            if files and files[0]:  # a file: a connection of our own to the same database
                return cls.sqlite(files[0])
            return cls(conn, "sqlite", lock)
        if conn is not None and type(conn).__module__.startswith("psycopg"):
            return cls(conn, "postgres", lock)
        return cls.sqlite()


class Run:
    """`run(sql, *params)` inside one transaction: `?` placeholders on both databases; returns the rows.

    `rowcount` is the number of rows the last statement changed.
    """

    def __init__(self, executor: Any, dialect: str) -> None:
        self._executor = executor  # a sqlite3 connection, or a psycopg cursor: `.execute` returns a cursor
        self._placeholder = "%s" if dialect == "postgres" else "?"
        self.rowcount = 0

    def __call__(self, sql: str, *params: Any) -> list[tuple]:
        cursor = self._executor.execute(sql.replace("?", self._placeholder), params)
        self.rowcount = cursor.rowcount
        rows = cursor.fetchall() if cursor.description else []
        return [tuple(r.values()) if isinstance(r, Mapping) else tuple(r) for r in rows]


@contextmanager
def transaction(db: Connection, *, advisory_lock: int | None = None) -> Iterator[Run]:
    """One transaction under the shared lock; on PostgreSQL optionally one writer at a time."""
    with db.lock:
        if db.dialect == "sqlite":
            db.conn.execute("BEGIN IMMEDIATE")
            try:
                yield Run(db.conn, "sqlite")
                db.conn.execute("COMMIT")
            except BaseException:
                db.conn.execute("ROLLBACK")
                raise
        else:
            with db.conn.transaction():
                run = Run(db.conn.cursor(), "postgres")
                if advisory_lock is not None:
                    run("SELECT pg_advisory_xact_lock(?)", advisory_lock)
                yield run
