"""One decision through the panel over HTTP vs the same decision in-process.

    .venv/bin/python bench/remote.py        (BENCH_REMOTE_ROUNDS, default 15)

A separate script, not part of `bench/run.py`: it starts LangGraph's local API server
(`langgraph dev`, offline model) on a free loopback port and stops it at the end.

The decision is the same everywhere: on a fresh thread paused at the lookup of
"Check warehouse SF-01 for 'widget-x' ... order 100 from 'Acme Supply'", one approve;
the graph runs the lookup and the model, and pauses again at the order.

- floor: `ApprovalPanel(graph, config).decide(approve)`, the review graph in this
  process with an InMemorySaver;
- HTTP: `ApprovalPanel(RemoteGraph(...), config).decide(approve)` against the server;
- the server alone: the same resume sent with `client.runs.wait` (no panel, one request).

The three are interleaved round by round; medians, one run.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ENV, Table, median, say  # noqa: E402

os.environ.clear()
os.environ.update(ENV)  # offline, no model key, for this process and the server

from langgraph.checkpoint.memory import InMemorySaver  # noqa: E402
from langgraph.pregel.remote import RemoteGraph  # noqa: E402
from langgraph_sdk import get_sync_client  # noqa: E402

from hitl_widgets import ApprovalPanel, OfflineChatModel  # noqa: E402
from hitl_widgets.graphs import build_review_graph  # noqa: E402
from hitl_widgets.inventory import InventoryStore, make_tools  # noqa: E402
from hitl_widgets.local_server import LocalServer  # noqa: E402

REQUEST = "Check warehouse SF-01 for 'widget-x'. If stock is below 10 units, order 100 from 'Acme Supply'."
APPROVE = {"type": "approve"}


def timed_decision(panel: ApprovalPanel) -> float:
    panel.run(REQUEST)
    assert panel.pending, "the run did not pause"
    start = time.perf_counter()
    panel.decide(APPROVE)
    elapsed = time.perf_counter() - start
    assert len(panel.decisions) == 1 and panel.pending, f"the decision did not go through:\n{panel}"
    return elapsed


def main() -> None:
    rounds = int(os.environ.get("BENCH_REMOTE_ROUNDS", 15))
    local_graph = build_review_graph(OfflineChatModel(), make_tools(InventoryStore()), InMemorySaver())
    local, remote, raw = [], [], []
    started = time.perf_counter()
    with LocalServer() as server:
        say(f"server ready; {rounds} rounds")
        client = get_sync_client(url=server.url)
        remote_graph = RemoteGraph("inventory_agent", url=server.url)
        for _ in range(rounds):
            local.append(timed_decision(ApprovalPanel(local_graph, {"configurable": {"thread_id": str(uuid.uuid4())}})))
            thread = client.threads.create()["thread_id"]
            remote.append(timed_decision(ApprovalPanel(remote_graph, {"configurable": {"thread_id": thread}})))
            thread = client.threads.create()["thread_id"]
            pending = client.runs.wait(
                thread, "inventory_agent", input={"messages": [{"role": "user", "content": REQUEST}]}
            )
            answer = {pending["__interrupt__"][0]["id"]: APPROVE}
            start = time.perf_counter()
            after = client.runs.wait(thread, "inventory_agent", command={"resume": answer})
            raw.append(time.perf_counter() - start)
            assert after["__interrupt__"][0]["value"]["tool_call"]["name"] == "create_purchase_order"
    table = Table()
    table.ratio("R1", "one decision: panel over HTTP vs panel in-process", median(remote), median(local), None)
    table.ratio("R2", "one decision: SDK runs.wait alone vs panel in-process", median(raw), median(local), None)
    table.ratio("R3", "one decision: panel over HTTP vs SDK runs.wait alone", median(remote), median(raw), None)
    table.notes.append(
        "langgraph dev (in-memory runtime) picks queued runs up by polling every 0.5 s, which dominates R1 and R2; "
        "R3 is what the panel adds on top of the server (a state read before and after the run)."
    )
    table.notes.append(f"medians of {rounds} rounds, interleaved; took {time.perf_counter() - started:.0f} s.")
    print(table.render())


if __name__ == "__main__":
    main()
