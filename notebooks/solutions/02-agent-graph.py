from langchain_core.messages import AIMessage
from langgraph.graph import END, START, StateGraph
from langgraph.prebuilt import ToolNode

from hitl_widgets.graphs import AgentState


def build_limited_graph(model, tools, max_rounds):
    """The agent <-> tools loop, but the agent may ask for tools at most `max_rounds` times."""
    bound = model.bind_tools(tools)

    def agent(state: AgentState) -> dict:
        return {"messages": [bound.invoke(state["messages"])]}

    def route_with_limit(state: AgentState) -> str:
        last = state["messages"][-1]
        if not (isinstance(last, AIMessage) and last.tool_calls):
            return END
        rounds = sum(1 for m in state["messages"] if isinstance(m, AIMessage) and m.tool_calls)
        return "tools" if rounds <= max_rounds else END

    builder = StateGraph(AgentState)
    builder.add_node("agent", agent)
    builder.add_node("tools", ToolNode(tools))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", route_with_limit, ["tools", END])
    builder.add_edge("tools", "agent")
    return builder.compile()
