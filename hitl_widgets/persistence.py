"""Checkpointers that outlive a kernel: a SQLite file or a PostgreSQL server.

Both are opened in the long-lived form a notebook or a worker needs (a connection
kept open for the life of the process), not the context-manager form
(`SqliteSaver.from_conn_string` closes its connection when the `with` block ends).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver


def open_checkpointer(target: str | Path) -> BaseCheckpointSaver:
    """A SqliteSaver for a file path, or a PostgresSaver for a `postgresql://` URL."""
    target = str(target)
    if target.startswith(("postgresql://", "postgres://")):
        import psycopg  # lazy: only the production lesson needs a PostgreSQL driver
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg.rows import dict_row

        conn = psycopg.connect(target, autocommit=True, prepare_threshold=0, row_factory=dict_row)
        saver = PostgresSaver(conn)
        saver.setup()  # creates its tables once; safe to call from every worker
        return saver
    from langgraph.checkpoint.sqlite import SqliteSaver

    return SqliteSaver(sqlite3.connect(target, check_same_thread=False))


def thread_ids(saver: Any) -> list[str]:
    """Every thread a checkpointer holds, sorted: one SQL query on SQLite and PostgreSQL, else a walk.

    Read in full before anything else runs (a SqliteSaver holds its lock while `list` yields:
    reading a state meanwhile would deadlock). The inbox and the sweeper both start here.
    """
    conn = getattr(saver, "conn", None)
    sql = "SELECT DISTINCT thread_id FROM checkpoints WHERE checkpoint_ns = ''"
    if isinstance(conn, sqlite3.Connection):
        with getattr(saver, "lock", nullcontext()):
            return sorted(row[0] for row in conn.execute(sql))
    if conn is not None and type(conn).__module__.startswith("psycopg"):
        with saver.lock, conn.cursor() as cur:
            cur.execute(sql)
            return sorted((row["thread_id"] if isinstance(row, Mapping) else row[0]) for row in cur.fetchall())
    storage = getattr(saver, "storage", None)
    if isinstance(storage, Mapping):  # InMemorySaver
        return sorted(storage)
    return sorted({str((t.config.get("configurable") or {}).get("thread_id")) for t in saver.list(None)})
