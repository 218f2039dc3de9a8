"""Find the tools a compiled graph can run, and stand in for one the graph does not show."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool
from langgraph.prebuilt import ToolNode

from ._json_schemas import model_from_schema


def tools_in_graph(graph: Any) -> dict[str, BaseTool]:
    """The tools a compiled graph can run, by name.

    Found in `ToolNode`s (which is where `create_agent` puts its own and its middleware's
    tools) and in the variables a node's function closes over (the kit's `review` and
    `execute` nodes hold their tools that way). Subgraphs are searched too.
    """
    found: dict[str, BaseTool] = {}
    nodes = getattr(graph, "nodes", None)
    if not isinstance(nodes, Mapping):
        return found
    for node in nodes.values():
        _collect_tools(getattr(node, "bound", node), found)
        for subgraph in getattr(node, "subgraphs", None) or ():
            for name, tool in tools_in_graph(subgraph).items():
                found.setdefault(name, tool)
    return found


def _collect_tools(runnable: Any, found: dict[str, BaseTool]) -> None:
    if isinstance(runnable, ToolNode):
        for name, tool in runnable.tools_by_name.items():
            found.setdefault(name, tool)
        return
    function = getattr(runnable, "func", None)
    for cell in getattr(function, "__closure__", None) or ():
        try:
            content = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        for tool in _tools_among(content):
            found.setdefault(tool.name, tool)


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


def _never_runs(**_: Any) -> str:
    raise RuntimeError("This tool only stands in for checking a decision; it never runs.")


_STAND_INS: dict[str, BaseTool] = {}


def stand_in_tool(name: str, description: str, schema: Mapping[str, Any] | None) -> BaseTool:
    """A tool with the request's argument schema (or none), used only to check a decision.

    Kept per name and schema: `check_decision` caches its checks per tool object.
    """
    key = json.dumps([name, description, schema], sort_keys=True, default=str)
    if key not in _STAND_INS:
        model = model_from_schema(schema or {"properties": {}}, name=name)
        _STAND_INS[key] = StructuredTool(
            name=name, description=description or name, args_schema=model, func=_never_runs
        )
    return _STAND_INS[key]
