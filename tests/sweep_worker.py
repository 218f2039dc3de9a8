"""A sweeper in a process of its own, for the concurrency tests of `hitl_widgets.expiry.sweep`.

Run as `python sweep_worker.py CHECKPOINTS NOW GO_FILE NAME`: it opens the checkpointer (a
SQLite path or a PostgreSQL URL), builds the inventory review graph with deadlines on a clock
stopped at NOW, prints "ready", waits for GO_FILE to appear (so both workers start together),
sweeps once, and prints the thread ids it resumed as one JSON line.
"""

import json
import sys
import time
from pathlib import Path

from expiry_scenario import expiry_graph

from hitl_widgets.expiry import ManualClock, sweep
from hitl_widgets.persistence import open_checkpointer


def main() -> None:
    target, now, go_file, name = sys.argv[1:5]
    graph = expiry_graph(open_checkpointer(target), ManualClock(now))
    print("ready", flush=True)
    while not Path(go_file).exists():
        time.sleep(0.01)
    swept = sweep(graph, worker=name)
    print(json.dumps([item.thread_id for item in swept]), flush=True)


if __name__ == "__main__":
    main()
