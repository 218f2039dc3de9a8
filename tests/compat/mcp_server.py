"""A local MCP server over stdio for test_libraries.py: one tool that leaves a trace in a file.

Run by `langchain-mcp-adapters` as a subprocess; no network. The file named by
COMPAT_MCP_LOG gets one JSON line per call, so the test can see what ran.
"""

import json
import os

from mcp.server.fastmcp import FastMCP

mcp = FastMCP("records")


@mcp.tool()
def delete_records(table: str, older_than_days: int) -> str:
    """Delete records older than some days from a table."""
    with open(os.environ["COMPAT_MCP_LOG"], "a") as log:
        log.write(json.dumps({"table": table, "older_than_days": older_than_days}) + "\n")
    return f"deleted old rows from {table}"


if __name__ == "__main__":
    mcp.run(transport="stdio")
