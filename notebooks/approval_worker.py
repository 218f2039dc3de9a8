"""A worker process: one run of the kit's review graph against a checkpointer that outlives it.

    python approval_worker.py [--start T] [--resume T] [--pause T] [options]

--checkpoints (or $HITL_CHECKPOINTS) is a SQLite file or a postgresql:// URL; give a URL
with a password through the environment, which other users of the machine cannot read
(a command line they can, with `ps`). --store (or $HITL_STORE) is the inventory's file.
--start T   runs the scenario's request on thread T until it pauses or ends;
--resume T  answers what thread T waits for (--id ID: only if ID is still pending) with
            --decision (JSON, default approve), refusing an id that is not pending;
--pause T   starts thread T, approves its lookup, and waits at the order until killed,
            as a kernel sits at a pending approval.
Each prints one JSON line (event: waiting, done, refused or paused). Notebooks 10 and 12
and tests/test_persistence.py run it; they never import it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from langchain_core.messages import HumanMessage
from langgraph.types import Command

from hitl_widgets import get_chat_model
from hitl_widgets.graphs import AUTO_APPROVE, build_review_graph
from hitl_widgets.inventory import InventoryStore, make_tools
from hitl_widgets.persistence import open_checkpointer

REQUEST = "Check warehouse SF-01 for 'widget-x'. If stock is below 10 units, order 100 from 'Acme Supply'."
APPROVE = {"type": "approve"}


def report(**event: Any) -> None:
    print(json.dumps(event), flush=True)


def waiting(out: Any) -> list[dict[str, Any]]:
    return [{"id": pending.id, "tool_call": pending.value["tool_call"]} for pending in out.interrupts]


def finished(out: Any, thread: str, **extra: Any) -> None:
    """Report where a thread stands after a run: still waiting, or done with its answer."""
    still = waiting(out)
    answer = out.value["messages"][-1].content
    report(event="waiting" if still else "done", thread=thread, waiting=still, answer=answer, **extra)


def main() -> int:
    parser = argparse.ArgumentParser(description="One run of the kit's review graph.")
    parser.add_argument("--checkpoints", default=os.environ.get("HITL_CHECKPOINTS"))
    parser.add_argument("--store", default=os.environ.get("HITL_STORE"))
    parser.add_argument("--start", metavar="THREAD")
    parser.add_argument("--resume", metavar="THREAD")
    parser.add_argument("--pause", metavar="THREAD")
    parser.add_argument("--request", default=REQUEST)
    parser.add_argument("--id", help="resume only if this interrupt is still pending")
    parser.add_argument("--decision", type=json.loads, default=APPROVE)
    parser.add_argument("--auto-approve-lookups", action="store_true")
    args = parser.parse_args()
    if not (args.checkpoints and args.store):
        parser.error("give --checkpoints and --store (or set HITL_CHECKPOINTS and HITL_STORE)")
    policy = {"lookup_inventory": AUTO_APPROVE} if args.auto_approve_lookups else None
    tools = make_tools(InventoryStore(args.store))
    graph = build_review_graph(get_chat_model(), tools, open_checkpointer(args.checkpoints), policy)

    def config(thread: str, worker: str) -> dict[str, Any]:
        return {"configurable": {"thread_id": thread}, "metadata": {"worker": worker}}

    if args.resume:
        found = [pending.id for pending in graph.get_state(config(args.resume, "resume")).interrupts]
        if args.id is not None and args.id not in found:
            report(event="refused", thread=args.resume, reason=f"interrupt {args.id} is not pending in {args.resume}")
            return 0
        resume = {args.id: args.decision} if args.id else args.decision
        out = graph.invoke(Command(resume=resume), config(args.resume, "resume"), version="v2")
        finished(out, args.resume, found=found)
    if args.start:
        start = {"messages": [HumanMessage(args.request)]}
        finished(graph.invoke(start, config(args.start, "start"), version="v2"), args.start)
    if args.pause:
        graph.invoke({"messages": [HumanMessage(args.request)]}, config(args.pause, "pause"))
        out = graph.invoke(Command(resume=APPROVE), config(args.pause, "pause"), version="v2")  # the lookup
        report(event="paused", thread=args.pause, waiting=waiting(out))
        time.sleep(3600)
    return 0


if __name__ == "__main__":
    sys.exit(main())
