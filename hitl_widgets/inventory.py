"""The scenario's tools over a small SQLite store, so every side effect can be seen.

A learner must be able to check that a rejected purchase order never reached the
table and that an approved one reached it exactly once; that is why the tools write
to real tables (stock, purchase_orders, outbox) and log every run in `tool_runs`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import Field

from .errors import STOCK_PHRASE

SEED_STOCK = {
    ("widget-x", "SF-01"): 7,
    ("widget-x", "NY-02"): 120,
    ("gadget-y", "SF-01"): 42,
    ("gadget-y", "NY-02"): 3,
    ("sprocket-z", "SF-01"): 0,
    ("sprocket-z", "NY-02"): 15,
}
Channel = Literal["email", "slack", "sms"]
MAX_ORDER_QTY = 100_000
Quantity = Annotated[
    int, Field(ge=1, le=MAX_ORDER_QTY, description=f"Units to order, from 1 to at most {MAX_ORDER_QTY:,}.")
]
"""In the schema, so an edit of -5 or of 10**20 units is refused before anything runs or is saved."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS stock (
    item TEXT NOT NULL, warehouse TEXT NOT NULL, units INTEGER NOT NULL,
    PRIMARY KEY (item, warehouse));
CREATE TABLE IF NOT EXISTS purchase_orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT, item TEXT NOT NULL, qty INTEGER NOT NULL,
    vendor TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, channel TEXT NOT NULL, message TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tool_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, tool TEXT NOT NULL, args TEXT NOT NULL);
"""


class InventoryStore:
    """A seeded SQLite database: in memory by default, or a file shared by processes."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        with self._lock:
            self._db.executescript(_SCHEMA)
            self._db.executemany(
                "INSERT OR IGNORE INTO stock VALUES (?, ?, ?)",
                [(item, wh, units) for (item, wh), units in SEED_STOCK.items()],
            )

    # -- reading, for lessons and tests -------------------------------------------
    def _rows(self, sql: str, *params: object) -> list[dict]:
        with self._lock:
            return [dict(row) for row in self._db.execute(sql, params)]

    def items(self) -> list[str]:
        return [r["item"] for r in self._rows("SELECT DISTINCT item FROM stock ORDER BY item")]

    def warehouses(self) -> list[str]:
        return [r["warehouse"] for r in self._rows("SELECT DISTINCT warehouse FROM stock ORDER BY warehouse")]

    def stock(self, item: str, warehouse: str) -> int | None:
        rows = self._rows("SELECT units FROM stock WHERE item = ? AND warehouse = ?", item, warehouse)
        return rows[0]["units"] if rows else None

    def purchase_orders(self) -> list[dict]:
        return self._rows("SELECT id, item, qty, vendor FROM purchase_orders ORDER BY id")

    def outbox(self) -> list[dict]:
        return self._rows("SELECT id, channel, message FROM outbox ORDER BY id")

    def tool_runs(self) -> list[dict]:
        """Every tool execution, in order: the ground truth for 'nothing ran unapproved'."""
        return [
            {"tool": r["tool"], "args": json.loads(r["args"])}
            for r in self._rows("SELECT tool, args FROM tool_runs ORDER BY id")
        ]

    # -- writing, only through the tools --------------------------------------------
    def _insert(self, tool: str, args: dict, sql: str, *params: object) -> int:
        """Record the run and its effect in one transaction, so neither exists alone."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT INTO tool_runs (tool, args) VALUES (?, ?)",
                    (tool, json.dumps(args, sort_keys=True)),
                )
                row_id = (self._db.execute(sql, params).lastrowid or 0) if sql else 0
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return row_id

    def _unknown(self, item: str, warehouse: str | None = None) -> str | None:
        """A clear message for the model when an item or warehouse does not exist."""
        if item not in self.items():
            return f"Error: unknown item {item!r}. Known items: {', '.join(self.items())}."
        if warehouse is not None and warehouse not in self.warehouses():
            return f"Error: unknown warehouse {warehouse!r}. Known warehouses: {', '.join(self.warehouses())}."
        return None

    def lookup_inventory(self, item: str, warehouse: str) -> str:
        args = {"item": item, "warehouse": warehouse}
        self._insert("lookup_inventory", args, "")
        if error := self._unknown(item, warehouse):
            return error
        return f"{item} in {warehouse}: {self.stock(item, warehouse)} {STOCK_PHRASE}."

    def create_purchase_order(self, item: str, qty: Quantity, vendor: str) -> str:
        args = {"item": item, "qty": qty, "vendor": vendor}
        if error := self._unknown(item):
            self._insert("create_purchase_order", args, "")
            return error
        if qty <= 0:
            self._insert("create_purchase_order", args, "")
            return f"Error: qty must be a positive whole number of units, got {qty}."
        if not vendor.strip():
            self._insert("create_purchase_order", args, "")
            return "Error: vendor must not be empty."
        po = self._insert(
            "create_purchase_order",
            args,
            "INSERT INTO purchase_orders (item, qty, vendor) VALUES (?, ?, ?)",
            item,
            qty,
            vendor,
        )
        return f"Purchase order PO-{po:04d} created: {qty} x {item} from {vendor}."

    def send_notification(self, channel: Channel, message: str) -> str:
        args = {"channel": channel, "message": message}
        if not message.strip():
            self._insert("send_notification", args, "")
            return "Error: message must not be empty."
        note = self._insert(
            "send_notification",
            args,
            "INSERT INTO outbox (channel, message) VALUES (?, ?)",
            channel,
            message,
        )
        return f"Notification N-{note:04d} sent via {channel}: {message}"


def make_tools(store: InventoryStore) -> list[BaseTool]:
    """The three scenario tools, bound to `store`. Bad arguments come back as text."""
    descriptions: dict[Callable[..., str], str] = {
        store.lookup_inventory: "Look up how many units of an item a warehouse has in stock.",
        store.create_purchase_order: "Create a purchase order for an item from a vendor. Spends money.",
        store.send_notification: "Send a notification message to a team channel (email, slack or sms).",
    }
    return [
        StructuredTool.from_function(func, name=func.__name__, description=text) for func, text in descriptions.items()
    ]
