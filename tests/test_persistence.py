"""Approvals outlive processes: kill -9 on a SQLite file, two workers on PostgreSQL."""

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from hitl_widgets.graphs import build_review_graph
from hitl_widgets.inventory import InventoryStore, make_tools
from hitl_widgets.offline import OfflineChatModel
from hitl_widgets.persistence import open_checkpointer

WORKER = Path(__file__).resolve().parents[1] / "notebooks" / "approval_worker.py"  # the one notebooks 10 and 12 run
CYCLES = 20


def start_worker(checkpoints: str, store: Path, *options: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(WORKER), "--store", str(store), *options],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "HITL_OFFLINE": "1", "HITL_CHECKPOINTS": checkpoints},
    )


def read_events(worker: subprocess.Popen, count: int) -> list[dict]:
    """The worker's next `count` events; a worker that dies first fails the test."""
    events = []
    while len(events) < count:
        line = worker.stdout.readline()
        assert line, f"worker exited with {worker.wait()} before reporting"
        if line.startswith("{"):  # the model's one-line announcement is not an event
            events.append(json.loads(line))
    return events


def paused_id(event: dict) -> str:
    (waiting,) = event["waiting"]
    return waiting["id"]


def paused_tool(event: dict) -> str:
    (waiting,) = event["waiting"]
    return waiting["tool_call"]["name"]


def decision_log(checkpoints: str, store: Path, thread: str) -> tuple[list[dict], tuple]:
    """The thread's `reviews` and pending interrupts, read back from the checkpointer by this process."""
    saver = open_checkpointer(checkpoints)
    try:
        graph = build_review_graph(OfflineChatModel(), make_tools(InventoryStore(store)), saver)
        snapshot = graph.get_state({"configurable": {"thread_id": thread}})
        return snapshot.values.get("reviews", []), snapshot.interrupts
    finally:
        saver.conn.close()


EXPECTED_LOG = [
    ("lookup_inventory", "approve", {"item": "widget-x", "warehouse": "SF-01"}),
    ("create_purchase_order", "approve", {"item": "widget-x", "qty": 100, "vendor": "Acme Supply"}),
]


def summary(reviews: list[dict]) -> list[tuple]:
    return [(r["tool"], r["decision"], r["args"]) for r in reviews]


def kill(worker: subprocess.Popen) -> None:
    worker.send_signal(signal.SIGKILL)
    assert worker.wait(timeout=30) == -signal.SIGKILL


def test_pending_approval_survives_sigkill_every_cycle(tmp_path):
    checkpoints, store_path = str(tmp_path / "checkpoints.sqlite"), tmp_path / "store.sqlite"
    worker = start_worker(checkpoints, store_path, "--pause", "thread-0")
    (paused,) = read_events(worker, 1)
    for cycle in range(1, CYCLES + 1):
        kill(worker)
        worker = start_worker(checkpoints, store_path, "--resume", f"thread-{cycle - 1}", "--pause", f"thread-{cycle}")
        resumed, next_paused = read_events(worker, 2)
        assert resumed["found"] == [paused_id(paused)], f"cycle {cycle}: the pending approval was lost"
        assert resumed["event"] == "done" and "PO-" in resumed["answer"]
        assert paused_tool(next_paused) == "create_purchase_order"
        paused = next_paused
    kill(worker)

    store = InventoryStore(store_path)
    orders = store.purchase_orders()
    assert len(orders) == CYCLES, "every resumed thread ordered exactly once, the last one never"
    assert {(o["item"], o["qty"], o["vendor"]) for o in orders} == {("widget-x", 100, "Acme Supply")}
    runs = [r["tool"] for r in store.tool_runs()]
    assert runs.count("create_purchase_order") == CYCLES
    assert runs.count("lookup_inventory") == CYCLES + 1

    for cycle in range(CYCLES):  # every decision of every resumed thread is in its log, once
        reviews, pending = decision_log(checkpoints, store_path, f"thread-{cycle}")
        assert summary(reviews) == EXPECTED_LOG, f"thread-{cycle}: decision log {reviews}"
        assert not pending, f"thread-{cycle} still has a pending interrupt"
    reviews, pending = decision_log(checkpoints, store_path, f"thread-{CYCLES}")
    assert summary(reviews) == EXPECTED_LOG[:1] and len(pending) == 1, "the last thread waits on its order"


def test_one_worker_pauses_another_resumes_on_postgres(tmp_path, postgres_url):
    thread, store_path = f"pg-{uuid.uuid4().hex}", tmp_path / "store.sqlite"
    first = start_worker(postgres_url, store_path, "--pause", thread)
    (paused,) = read_events(first, 1)
    assert paused_tool(paused) == "create_purchase_order"
    second = start_worker(postgres_url, store_path, "--resume", thread)
    (resumed,) = read_events(second, 1)
    assert second.wait(timeout=60) == 0
    kill(first)

    assert resumed["found"] == [paused_id(paused)]
    assert resumed["event"] == "done" and "PO-0001" in resumed["answer"]
    runs = [r["tool"] for r in InventoryStore(store_path).tool_runs()]
    assert runs == ["lookup_inventory", "create_purchase_order"], "each approved call ran exactly once"

    # The decision log, read back from PostgreSQL by a third process: one record per decision,
    # the lookup approved in process A, the order approved in process B.
    reviews, pending = decision_log(postgres_url, store_path, thread)
    assert summary(reviews) == EXPECTED_LOG, f"incomplete decision log: {reviews}"
    assert len({r["call_id"] for r in reviews}) == len(reviews), "each call was decided once"
    assert not pending
