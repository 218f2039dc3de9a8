"""Checkpointers that outlive a kernel: a SQLite file or a PostgreSQL server.

Both are opened in the long-lived form a notebook or a worker needs (a connection
kept open for the life of the process), not the context-manager form
(`SqliteSaver.from_conn_string` closes its connection when the `with` block ends).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

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
