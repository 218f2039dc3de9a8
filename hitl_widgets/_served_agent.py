"""The kit's agent as LangGraph's server loads it (see langgraph.json and `make serve`).

The server brings its own checkpointer, so the graph is compiled without one. It is
loaded as a file, so imports are absolute. The store is a SQLite file when `HITL_STORE`
names one (so a notebook can watch the server's side effects), else in memory.

With `HITL_GOVERNED=1` the agent is governed (notebook 16): the lesson's policy, with
four-eyes for orders over 1,000 units; the reviewer is the user the server's custom auth
authenticated (`hitl_widgets/_served_auth.py`), and the audit trail is the SQLite file
`HITL_AUDIT` (in memory when unset). `HITL_SIGNING_KEY` (environment or `.env`) makes it require signed decisions.
"""

import os

from hitl_widgets.audit import AuditLog
from hitl_widgets.graphs import build_review_graph
from hitl_widgets.inventory import InventoryStore, make_tools
from hitl_widgets.models import get_chat_model
from hitl_widgets.policy import Policy, allow, ask, deny, rule
from hitl_widgets.protocol import signing_key_from_env

APPROVED_VENDORS = {"Acme Supply", "Globex"}
GOVERNED_POLICY = Policy(
    [
        rule("lookups", tool="lookup_inventory", then=allow()),
        rule(
            "unapproved vendor",
            tool="create_purchase_order",
            when=lambda call, ctx: call.args.get("vendor") not in APPROVED_VENDORS,
            then=deny("unapproved vendor"),
        ),
        rule(
            "four-eyes over 1,000 units",
            tool="create_purchase_order",
            when=lambda call, ctx: call.args.get("qty", 0) > 1000,
            then=ask(approvals=2),
        ),
    ],
    default=ask(),
)

store = InventoryStore(os.environ.get("HITL_STORE") or ":memory:")
if os.environ.get("HITL_GOVERNED"):
    graph = build_review_graph(
        get_chat_model(),
        make_tools(store),
        checkpointer=None,
        policy=GOVERNED_POLICY,
        audit=AuditLog.sqlite(os.environ.get("HITL_AUDIT") or ":memory:"),
        signing_key=signing_key_from_env(),
    )
else:
    graph = build_review_graph(get_chat_model(), make_tools(store), checkpointer=None)
