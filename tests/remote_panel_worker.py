"""A second kernel, for the serve tests: one ApprovalPanel on a served thread.

Run as `python remote_panel_worker.py URL THREAD_ID`. It opens a panel on the thread
(over HTTP, through `RemoteGraph`), prints one JSON line saying what it sees pending,
then for each JSON decision read from stdin decides on that same interrupt, as a
reviewer clicking the card they were shown, and prints what the panel then says.
"""

import json
import sys

from langgraph.pregel.remote import RemoteGraph

from hitl_widgets import ApprovalPanel


def say(**event) -> None:
    print(json.dumps(event), flush=True)


def main() -> None:
    url, thread_id = sys.argv[1:3]
    panel = ApprovalPanel(RemoteGraph("inventory_agent", url=url), {"configurable": {"thread_id": thread_id}})
    shown = panel.pending[0]
    say(event="ready", id=shown.id, tool=shown.value["tool_call"]["name"])
    for line in sys.stdin:
        panel.decide(json.loads(line), shown.id)
        say(event="decided", logged=len(panel.decisions), status=panel.status, text=str(panel))


if __name__ == "__main__":
    sys.exit(main())
