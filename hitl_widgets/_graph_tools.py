"""Find the tools a compiled graph can run, and stand in for one the graph does not show."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool
from langgraph.prebuilt import ToolNode

from ._json_schemas import model_from_schema


def tools_in_graph(graph: Any) -> dict[str, BaseTool]:
    """The tools a compiled graph can run, by name, its sub-agents' included.

    Found in `ToolNode`s (which is where `create_agent` puts its own and its middleware's
    tools) and in the variables a node's function closes over (the kit's `review` and
    `execute` nodes hold their tools that way). Subgraphs are searched, and so are graphs a
    tool closes over (a Deep Agents `task` tool runs its sub-agents that way); the graph's
    own tools come first when two share a name.
    """
    found: dict[str, BaseTool] = {}
    _collect_graph(graph, found, set())
    return found


def _collect_graph(graph: Any, found: dict[str, BaseTool], seen: set[int]) -> None:
    nodes = getattr(graph, "nodes", None)
    if id(graph) in seen or not isinstance(nodes, Mapping):
        return
    seen.add(id(graph))
    nested: list[Any] = []
    for node in nodes.values():
        runnable = getattr(node, "bound", node)
        if isinstance(runnable, ToolNode):
            tools = list(runnable.tools_by_name.values())
        else:
            tools = [t for cell in _closure(getattr(runnable, "func", None)) for t in _tools_among(cell)]
        for tool in tools:
            found.setdefault(tool.name, tool)
            for function in (getattr(tool, "func", None), getattr(tool, "coroutine", None)):
                nested += [graph for cell in _closure(function) for graph in _graphs_among(cell)]
        nested += list(getattr(node, "subgraphs", None) or ())
    for subgraph in nested:
        _collect_graph(subgraph, found, seen)


def _closure(function: Any) -> list[Any]:
    """What a function closes over (empty cells left out)."""
    contents = []
    for cell in getattr(function, "__closure__", None) or ():
        try:
            contents.append(cell.cell_contents)
        except ValueError:  # an empty cell
            continue
    return contents


def _tools_among(content: Any) -> list[BaseTool]:
    if isinstance(content, BaseTool):
        return [content]
    if isinstance(content, ToolNode):
        return list(content.tools_by_name.values())
    if isinstance(content, Mapping):
        return [value for value in content.values() if isinstance(value, BaseTool)]
    if isinstance(content, (list, tuple)):
        return [value for value in content if isinstance(value, BaseTool)]
    return []


def _graphs_among(content: Any) -> list[Any]:
    """Compiled graphs held directly, or in a dict or list (a sub-agent registry)."""
    if isinstance(content, Mapping):
        values = list(content.values())
    else:
        values = list(content) if isinstance(content, list | tuple) else [content]
    return [v for v in values if isinstance(getattr(v, "nodes", None), Mapping) and hasattr(v, "stream")]


def _never_runs(**_: Any) -> str:
    raise RuntimeError("This tool only stands in for checking a decision; it never runs.")


_STAND_INS: dict[str, BaseTool] = {}


def stand_in_tool(name: str, description: str, schema: Mapping[str, Any] | None) -> BaseTool:
    """A tool with the request's argument schema, used only to check a decision.

    With no schema (the panel cannot see the tool), any arguments pass this check: the
    graph checks them when the tool runs. Kept per name and schema: `check_decision`
    caches its checks per tool object.
    """
    key = json.dumps([name, description, schema], sort_keys=True, default=str)
    if key not in _STAND_INS:
        args_schema: Any = model_from_schema(schema, name=name) if schema else dict(UNKNOWN_ARGS)
        _STAND_INS[key] = StructuredTool(
            name=name, description=description or name, args_schema=args_schema, func=_never_runs
        )
    return _STAND_INS[key]


UNKNOWN_ARGS = {"type": "object", "properties": {}, "additionalProperties": True}
"""The argument schema of a tool the panel cannot see."""


def needs_async(graph: Any, tools: Mapping[str, BaseTool]) -> bool:
    """True when the graph can only run on LangGraph's async API.

    An `async def` node or `@entrypoint`/`@task` has no synchronous function, and a tool
    built from a coroutine alone (every MCP tool `langchain-mcp-adapters` makes) cannot
    be invoked synchronously: the sync API fails on them after the reviewer's decision.
    """
    async_tools = any(getattr(t, "coroutine", None) and not getattr(t, "func", None) for t in tools.values())
    return async_tools or _async_nodes(graph, set())


def _async_nodes(graph: Any, seen: set[int]) -> bool:
    nodes = getattr(graph, "nodes", None)
    if id(graph) in seen or not isinstance(nodes, Mapping):
        return False
    seen.add(id(graph))
    for node in nodes.values():
        runnable = getattr(node, "bound", node)
        if getattr(runnable, "afunc", None) is not None and getattr(runnable, "func", True) is None:
            return True
        if any(_async_nodes(subgraph, seen) for subgraph in getattr(node, "subgraphs", None) or ()):
            return True
    return False
