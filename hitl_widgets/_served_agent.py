"""The kit's agent as LangGraph's server loads it (see langgraph.json and `make serve`).

The server brings its own checkpointer, so the graph is compiled without one. It is
loaded as a file, so imports are absolute. The store is a SQLite file when `HITL_STORE`
names one (so a notebook can watch the server's side effects), else in memory.
"""

import os

from hitl_widgets.graphs import build_review_graph
from hitl_widgets.inventory import InventoryStore, make_tools
from hitl_widgets.models import get_chat_model

store = InventoryStore(os.environ.get("HITL_STORE") or ":memory:")
graph = build_review_graph(get_chat_model(), make_tools(store), checkpointer=None)
