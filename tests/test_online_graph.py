"""A whole agent turn against a real OpenAI-compatible server: model asks, tool runs, model answers."""

from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition

from hitl_widgets import get_chat_model


def test_graph_runs_the_tool_and_quotes_its_result(monkeypatch, model_env, openai_server):
    monkeypatch.setenv("OPENAI_API_KEY", openai_server.api_key)
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    lookups = []

    @tool
    def lookup_inventory(item: str, warehouse: str) -> str:
        """Look up how many units of an item a warehouse holds."""
        lookups.append((item, warehouse))
        return f"{item} at {warehouse}: 42 units"

    model = get_chat_model().bind_tools([lookup_inventory])
    builder = StateGraph(MessagesState)
    builder.add_node("agent", lambda state: {"messages": [model.invoke(state["messages"])]})
    builder.add_node("tools", ToolNode([lookup_inventory]))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", tools_condition)
    builder.add_edge("tools", "agent")

    result = builder.compile().invoke({"messages": [("user", "How many widget-x in SF-01?")]})

    assert lookups == [("widget-x", "SF-01")]
    tool_message = result["messages"][-2]
    assert isinstance(tool_message, ToolMessage) and tool_message.tool_call_id == "call_local_lookup_1"
    final = result["messages"][-1]
    assert isinstance(final, AIMessage) and not final.tool_calls
    assert final.content == "The inventory says: widget-x at SF-01: 42 units"
    assert openai_server.requests[-1]["messages"][-1]["role"] == "tool"
