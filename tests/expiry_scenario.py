"""The graph both the concurrency test and its sweeper processes build: orders expire after 5 minutes."""

from datetime import timedelta

from hitl_widgets.expiry import Expiry, Reject
from hitl_widgets.graphs import build_review_graph
from hitl_widgets.inventory import InventoryStore, make_tools
from hitl_widgets.offline import OfflineChatModel

START = "2026-12-01T10:00:00+00:00"
LATER = "2026-12-01T10:10:00+00:00"


def expiry_graph(saver, clock):
    expiry = Expiry({"create_purchase_order": Reject(timedelta(minutes=5))}, clock=clock)
    return build_review_graph(OfflineChatModel(), make_tools(InventoryStore()), saver, expiry=expiry)
