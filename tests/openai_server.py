"""The unit tests' OpenAI-compatible server: the kit's scripted server, with one turn of the inventory agent.

It asks for `lookup_inventory` when the user spoke last and quotes the tool's result
when a tool spoke last (the server itself is `hitl_widgets.scripted_server`).
"""

import json

from hitl_widgets.scripted_server import ScriptedChatServer

TOOL_CALL_ID = "call_local_lookup_1"
LOOKUP_ARGS = {"item": "widget-x", "warehouse": "SF-01"}


def reply_to(messages: list[dict], tools: list[dict]) -> dict:
    """The assistant message for this conversation, in OpenAI's wire format."""
    last = messages[-1]
    if last["role"] == "tool":
        return {"role": "assistant", "content": f"The inventory says: {last['content']}"}
    offered = [t["function"]["name"] for t in tools]
    if last["role"] == "user" and "lookup_inventory" in offered:
        call = {
            "id": TOOL_CALL_ID,
            "type": "function",
            "function": {"name": "lookup_inventory", "arguments": json.dumps(LOOKUP_ARGS)},
        }
        return {"role": "assistant", "content": None, "tool_calls": [call]}
    return {"role": "assistant", "content": "I have no inventory tool to call."}


def inventory_agent_server(api_key: str = "sk-local-test-key") -> ScriptedChatServer:
    """A server answering with `reply_to`, wanting `api_key`."""
    return ScriptedChatServer(reply_to, api_key=api_key)
