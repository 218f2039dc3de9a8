"""Two sweeper processes at once, on SQLite and on PostgreSQL: each overdue thread resumed exactly once."""

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

from expiry_scenario import LATER, START, expiry_graph
from langchain_core.messages import HumanMessage
from langgraph.types import Command

from hitl_widgets.expiry import ManualClock
from hitl_widgets.persistence import open_checkpointer

THREADS = 8
WORKER = Path(__file__).with_name("sweep_worker.py")
ORDER_REQUEST = "Check widget-x in SF-01. If stock is below 10 units, order 100 from 'Acme Supply'."


def pause_at_orders(target: str) -> list[str]:
    """THREADS threads, each waiting on its purchase order since START."""
    graph = expiry_graph(open_checkpointer(target), ManualClock(START))
    thread_ids = [f"order-{n}" for n in range(THREADS)]
    for thread_id in thread_ids:
        config = {"configurable": {"thread_id": thread_id}}
        graph.invoke({"messages": [HumanMessage(ORDER_REQUEST)]}, config)
        graph.invoke(Command(resume={"type": "approve"}), config)
        assert graph.get_state(config).interrupts[0].value["tool_call"]["name"] == "create_purchase_order"
    return thread_ids


def two_sweepers(target: str, tmp_path: Path) -> list[list[str]]:
    go = tmp_path / f"go-{uuid.uuid4().hex}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(WORKER.parent), *sys.path])}
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), target, LATER, str(go), f"sweeper-{n}"],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for n in range(2)
    ]
    for worker in workers:
        assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
    go.touch()
    results = []
    for worker in workers:
        out, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0, out
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def check_each_resumed_once(target: str, thread_ids: list[str], results: list[list[str]]) -> None:
    first, second = results
    assert not set(first) & set(second), f"both sweepers resumed {sorted(set(first) & set(second))}"
    assert sorted(first + second) == sorted(thread_ids), "every overdue thread is resumed"
    graph = expiry_graph(open_checkpointer(target), ManualClock(LATER))
    for thread_id in thread_ids:
        state = graph.get_state({"configurable": {"thread_id": thread_id}})
        automatic = [r for r in state.values["reviews"] if r.get("automatic")]
        assert len(automatic) == 1 and automatic[0]["channel"] == "sweeper", thread_id
        assert not state.interrupts and not state.next, f"{thread_id} is not finished"
    claims = [r for r in graph.expiry_log.records(event="sweep")]
    assert sorted(r["thread_id"] for r in claims) == sorted(thread_ids), "one claim per thread"


def test_two_sweeper_processes_on_sqlite_resume_each_thread_once(tmp_path):
    target = str(tmp_path / "checkpoints.sqlite")
    sqlite3.connect(target).execute("PRAGMA journal_mode=WAL").close()
    thread_ids = pause_at_orders(target)
    check_each_resumed_once(target, thread_ids, two_sweepers(target, tmp_path))


def test_two_sweeper_processes_on_postgres_resume_each_thread_once(postgres_schema, tmp_path):
    thread_ids = pause_at_orders(postgres_schema)
    check_each_resumed_once(postgres_schema, thread_ids, two_sweepers(postgres_schema, tmp_path))
