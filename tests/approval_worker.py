"""A worker process for the persistence tests: resume one thread, pause another.

Run as `python approval_worker.py CHECKPOINTS STORE [--resume THREAD] [--pause THREAD]`.
It prints one JSON line per event and, after pausing, sleeps until it is killed, as a
kernel would sit at a pending approval.
"""

import argparse
import json
import sys
import time

from langchain_core.messages import HumanMessage
from langgraph.types import Command

from hitl_widgets import OfflineChatModel
from hitl_widgets.graphs import build_review_graph
from hitl_widgets.inventory import InventoryStore, make_tools
from hitl_widgets.persistence import open_checkpointer

REQUEST = "Check warehouse SF-01 for 'widget-x'. If stock is below 10 units, order 100 from 'Acme Supply'."


def say(**event) -> None:
    print(json.dumps(event), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoints")
    parser.add_argument("store")
    parser.add_argument("--resume")
    parser.add_argument("--pause")
    args = parser.parse_args()
    saver = open_checkpointer(args.checkpoints)  # a SQLite file or a postgresql:// URL
    graph = build_review_graph(OfflineChatModel(), make_tools(InventoryStore(args.store)), saver)
    if args.resume:
        config = {"configurable": {"thread_id": args.resume}}
        pending = [i.id for i in graph.get_state(config).interrupts]
        out = graph.invoke(Command(resume={"type": "approve"}), config, version="v2")
        say(
            event="resumed",
            thread=args.resume,
            found=pending,
            interrupts=len(out.interrupts),
            answer=out.value["messages"][-1].content,
        )
    if args.pause:
        config = {"configurable": {"thread_id": args.pause}}
        out = graph.invoke({"messages": [HumanMessage(REQUEST)]}, config, version="v2")
        out = graph.invoke(Command(resume={"type": "approve"}), config, version="v2")  # the lookup
        pending = out.interrupts[0]
        say(event="paused", thread=args.pause, id=pending.id, tool=pending.value["tool_call"]["name"])
        time.sleep(3600)


if __name__ == "__main__":
    sys.exit(main())
