"""The scenario's tools served over MCP (stdio), for notebook 11: an agent whose tools live elsewhere.

    python inventory_mcp_server.py          (started by langchain-mcp-adapters, one process a session)

The tools are the kit's own (`hitl_widgets.inventory`) over the SQLite file named by
$HITL_STORE, so the notebook sees every order the server places. No network: stdio only.
"""

import os

from mcp.server.fastmcp import FastMCP

from hitl_widgets.inventory import InventoryStore

store = InventoryStore(os.environ["HITL_STORE"])
server = FastMCP("inventory", log_level="ERROR")


@server.tool()
def lookup_inventory(item: str, warehouse: str) -> str:
    """Look up how many units of an item a warehouse has in stock."""
    return store.lookup_inventory(item, warehouse)


@server.tool()
def create_purchase_order(item: str, qty: int, vendor: str) -> str:
    """Create a purchase order for an item from a vendor. Spends money."""
    return store.create_purchase_order(item, qty, vendor)


if __name__ == "__main__":
    server.run(transport="stdio")
