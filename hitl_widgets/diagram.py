"""Draw a graph offline: its Mermaid source and a text outline, shown as one MIME bundle.

`draw_mermaid_png()` sends the graph to a web service (mermaid.ink); a workshop on
flaky Wi-Fi cannot rely on that, and a saved PNG cannot be compared by nbval.
Instead `show_graph` publishes two forms drawn here, offline:

- `text/vnd.mermaid`: JupyterLab 4 renders it as a diagram, in the browser;
- `text/plain`: an outline of the edges, one per line, which GitHub, a plain console
  and nbval show (raw Mermaid source is unreadable there).

Both are pure functions of the graph's nodes and edges, so they are the same on
every run (no ids, no addresses, no timestamps).
"""

from __future__ import annotations

from typing import Any

from IPython.display import display

MERMAID_MIME = "text/vnd.mermaid"


_ENDS = {"__start__": "START", "__end__": "END"}


def drawable(graph: Any, *, xray: bool | int = False) -> Any:
    """The langchain_core `Graph` to draw: from a compiled graph, a RemoteGraph, any Runnable."""
    if hasattr(graph, "draw_mermaid"):  # already a langchain_core Graph
        return graph
    if hasattr(graph, "get_graph"):
        return graph.get_graph(xray=xray)
    if hasattr(graph, "compile"):  # a StateGraph builder: it has no drawing of its own
        raise TypeError("This is a StateGraph builder; compile it first: show_graph(builder.compile()).")
    raise TypeError(f"Cannot draw a {type(graph).__name__}; pass a compiled graph.")


def mermaid(graph: Any, *, xray: bool | int = False) -> str:
    """The Mermaid source of a graph. `xray=True` also draws the inside of subgraphs."""
    return drawable(graph, xray=xray).draw_mermaid()


def outline(graph: Any, *, xray: bool | int = False) -> str:
    """The graph as text: one edge a line, `->` always taken, `-?->` taken on a condition."""
    drawn = drawable(graph, xray=xray)
    lines = []
    for edge in drawn.edges:
        arrow = "-?->" if edge.conditional else "->"
        label = f"  ({edge.data})" if edge.data else ""
        lines.append(f"  {_ENDS.get(edge.source, edge.source)} {arrow} {_ENDS.get(edge.target, edge.target)}{label}")
    return "\n".join(["Graph (-> always, -?-> on a condition):", *lines])


def show_graph(graph: Any, *, xray: bool | int = False) -> None:
    """Display the graph: a diagram in JupyterLab, a text outline on GitHub and in a console."""
    drawn = drawable(graph, xray=xray)
    display({MERMAID_MIME: drawn.draw_mermaid(), "text/plain": outline(drawn)}, raw=True)
