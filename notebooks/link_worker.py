"""A worker process for answers from elsewhere: start a run, serve its links, or read the thread.

    python link_worker.py --checkpoints FILE --store FILE (--start T | --serve | --show T) [options]

--start T   runs the scenario's request on thread T; when it pauses, the approval links go
            to --to (default alice) in the outbox file --outbox, pointing at --base-url;
            then it waits, as a kernel sits at a pending approval, until it is killed.
--serve     serves the links on 127.0.0.1:--port until killed (another process, later).
--show T    prints what thread T's reviews recorded: decision, channel, by.
Each prints one JSON line (event: paused, serving or reviews). Notebook 18 and
tests/test_links.py run it; they never import it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from langchain_core.messages import HumanMessage

from hitl_widgets import get_chat_model
from hitl_widgets.graphs import AUTO_APPROVE, build_review_graph
from hitl_widgets.inventory import InventoryStore, make_tools
from hitl_widgets.links import ApprovalLinks, Outbox
from hitl_widgets.persistence import open_checkpointer

REQUEST = "Check warehouse SF-01 for 'widget-x'. If stock is below 10 units, order 100 from 'Acme Supply'."


def report(**event: Any) -> None:
    print(json.dumps(event), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description="Start a run, serve its approval links, or read the thread.")
    parser.add_argument("--checkpoints", required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--start", metavar="THREAD")
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("--show", metavar="THREAD")
    parser.add_argument("--outbox")
    parser.add_argument("--to", action="append")
    parser.add_argument("--base-url", default="")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    tools = make_tools(InventoryStore(args.store))
    policy = {"lookup_inventory": AUTO_APPROVE}
    graph = build_review_graph(get_chat_model(), tools, open_checkpointer(args.checkpoints), policy)
    links = ApprovalLinks(graph, base_url=args.base_url)
    if args.start:
        outbox = Outbox(args.outbox)
        handler = links.callback(args.start, to=args.to or ["alice"], outbox=outbox)
        config = {"configurable": {"thread_id": args.start}, "callbacks": [handler]}
        out = graph.invoke({"messages": [HumanMessage(REQUEST)]}, config, version="v2")
        report(event="paused", thread=args.start, waiting=[i.value["tool_call"]["name"] for i in out.interrupts])
        time.sleep(3600)
    if args.serve:
        with links.serve(port=args.port):
            report(event="serving")
            time.sleep(3600)
    if args.show:
        state = graph.get_state({"configurable": {"thread_id": args.show}})
        reviews = [{k: r.get(k) for k in ("tool", "decision", "channel", "by")} for r in state.values["reviews"]]
        report(event="reviews", thread=args.show, reviews=reviews, waiting=len(state.interrupts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
