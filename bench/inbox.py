"""Figure 6: the approval inbox over 1,000 paused threads on a SQLite file.

Floor for listing: a plain `checkpointer.list(config, limit=1)` loop over the thread ids,
the least a program must read, through the checkpointer's API, to see each thread's latest
checkpoint. On SQLite the inbox reads every thread's pending writes in one query instead;
`graph.get_state` per thread, the obvious way, is shown for comparison. Floor for opening one thread: an
`ApprovalPanel` made for it directly, without the inbox.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from common import Table, median, say
from langchain_core.messages import HumanMessage

from hitl_widgets.graphs import AUTO_APPROVE, build_review_graph
from hitl_widgets.inbox import ApprovalInbox
from hitl_widgets.inventory import InventoryStore, make_tools
from hitl_widgets.offline import OfflineChatModel
from hitl_widgets.panel import ApprovalPanel
from hitl_widgets.persistence import open_checkpointer, thread_ids

ORDER = "Check widget-x in SF-01. If stock is below 10 units, order 100 from 'Acme Supply'."
LOOKUP = "Check widget-x in SF-01."


def _timed(work, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return median(times)


def inbox(table: Table, paused: int, repeats: int = 5) -> None:
    with tempfile.TemporaryDirectory(prefix="hitl-bench-inbox-") as tmp:
        saver = open_checkpointer(Path(tmp) / "inbox.sqlite")
        tools = make_tools(InventoryStore(Path(tmp) / "store.sqlite"))
        graph = build_review_graph(OfflineChatModel(), tools, saver, {"lookup_inventory": AUTO_APPROVE})
        finished = paused // 10
        say(f"6 inbox: {paused} threads paused at the order and {finished} finished, on a SQLite file")
        for n in range(paused):
            graph.invoke({"messages": [HumanMessage(ORDER)]}, {"configurable": {"thread_id": f"p{n:04d}"}})
        for n in range(finished):
            graph.invoke({"messages": [HumanMessage(LOOKUP)]}, {"configurable": {"thread_id": f"f{n:04d}"}})
        ids = thread_ids(saver)
        box = ApprovalInbox(graph)
        assert len(box.items()) == paused, "the inbox must list exactly the paused threads"

        def plain_list_loop():
            for thread in ids:
                next(iter(saver.list({"configurable": {"thread_id": thread}}, limit=1)))

        def get_state_loop():
            for thread in ids:
                graph.get_state({"configurable": {"thread_id": thread}})

        floor = _timed(plain_list_loop, repeats)
        listing = _timed(box.items, repeats)
        table.ratio("6a", f"inbox: list {paused} paused threads (of {len(ids)}), SQLite", listing, floor, 2.0)
        table.ratio("6a", "  for comparison: a graph.get_state loop", _timed(get_state_loop, 3), floor, None)
        table.ratio("6a", "  the inbox widget's refresh (list and rows)", _timed(box.refresh, repeats), floor, None)
        thread = f"p{paused // 2:04d}"
        direct = _timed(lambda: str(ApprovalPanel(graph, {"configurable": {"thread_id": thread}})), repeats * 4)
        opening = _timed(lambda: str(box.open_thread(thread)), repeats * 4)
        table.ratio("6b", "inbox: open one thread into a panel (vs the panel alone)", opening, direct, 1.5)
        saver.conn.close()
