"""The offline drawing: Mermaid for JupyterLab, a readable outline for GitHub and nbval."""

from __future__ import annotations

from unittest.mock import patch

import pytest
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

from hitl_widgets.diagram import MERMAID_MIME, mermaid, outline, show_graph


class State(TypedDict):
    n: int


def route(state: State) -> str:
    return "work" if state["n"] < 3 else END


@pytest.fixture
def graph():
    builder = StateGraph(State)
    builder.add_node("work", lambda state: {"n": state["n"] + 1})
    builder.add_edge(START, "work")
    builder.add_conditional_edges("work", route, ["work", END])
    return builder.compile()


def test_outline_names_every_edge_and_marks_conditions(graph) -> None:
    lines = outline(graph).splitlines()[1:]
    assert sorted(lines) == sorted(["  START -> work", "  work -?-> work", "  work -?-> END"])


def test_show_graph_publishes_mermaid_and_the_outline(graph) -> None:
    with patch("hitl_widgets.diagram.display") as shown:
        show_graph(graph)
    bundle = shown.call_args.args[0]
    assert bundle[MERMAID_MIME] == mermaid(graph)
    assert bundle["text/plain"] == outline(graph)
    assert "graph TD" not in bundle["text/plain"] and "%%{" not in bundle["text/plain"]


def test_a_builder_is_refused_with_what_to_do() -> None:
    with pytest.raises(TypeError, match="compile it first"):
        outline(StateGraph(State))
