"""Draw a graph offline: its Mermaid source, shown as a MIME bundle.

`draw_mermaid_png()` sends the graph to a web service (mermaid.ink); a workshop on
flaky Wi-Fi cannot rely on that, and a saved PNG cannot be compared by nbval.
Instead `show_graph` publishes the Mermaid source itself:

- `text/vnd.mermaid`: JupyterLab 4 renders it as a diagram, in the browser, offline;
- `text/plain`: the same source, which a plain console prints and nbval compares.

The source is a pure function of the graph's nodes and edges, so it is the same on
every run (no ids, no addresses, no timestamps).
"""

from __future__ import annotations

from typing import Any

from IPython.display import display

MERMAID_MIME = "text/vnd.mermaid"


def mermaid(graph: Any, *, xray: bool | int = False) -> str:
    """The Mermaid source of a compiled graph (or of a drawable `Graph` from `get_graph()`).

    `xray=True` also draws the inside of subgraphs. Never calls a web service.
    """
    if hasattr(graph, "draw_mermaid"):  # already a langchain_core Graph
        return graph.draw_mermaid()
    if hasattr(graph, "get_graph"):  # a compiled graph, a RemoteGraph, any Runnable
        return graph.get_graph(xray=xray).draw_mermaid()
    if hasattr(graph, "compile"):  # a StateGraph builder: it has no drawing of its own
        raise TypeError("This is a StateGraph builder; compile it first: show_graph(builder.compile()).")
    raise TypeError(f"Cannot draw a {type(graph).__name__}; pass a compiled graph.")


def show_graph(graph: Any, *, xray: bool | int = False) -> None:
    """Display the graph as a diagram in JupyterLab (Mermaid source elsewhere). Offline."""
    source = mermaid(graph, xray=xray)
    display({MERMAID_MIME: source, "text/plain": source}, raw=True)
