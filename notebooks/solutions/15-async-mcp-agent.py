from langchain.agents.middleware import HumanInTheLoopMiddleware


def gate_every_tool(tools):
    """A middleware that asks a human before a call to any of `tools`, one interrupt per call."""
    return HumanInTheLoopMiddleware(interrupt_on={tool.name: True for tool in tools}, interrupt_mode="per_call")
