"""Agent Inbox's `HumanInterrupt` schema, answered through the panel's widgets.

Sources:
- langchain-ai/agent-inbox README.md ("Interrupts" section): a node builds a
  `HumanInterrupt` (`action_request`, `config`, `description`), calls
  `interrupt([request])[0]` and switches on the `HumanResponse` type
  (accept / edit / response / ignore). Types from `langgraph.prebuilt.interrupt`.
- LangGraph docs, add-human-in-the-loop.mdx, "Add interrupts to any tool": the
  `add_human_in_the_loop` wrapper, used with `create_react_agent` and a checkpointer.
"""

from __future__ import annotations

import warnings
from typing import Annotated

from driver import (
    call,
    card,
    click,
    edit_form,
    edit_json,
    panel_for,
    respond,
    state,
    tool_messages,
    turns,
)
from langchain_core.messages import AnyMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, tool
from langchain_core.tools import tool as create_tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.prebuilt.interrupt import HumanInterrupt, HumanInterruptConfig, HumanResponse
from langgraph.types import interrupt
from typing_extensions import TypedDict


# -- the docs' wrapper: any tool, gated by an Agent Inbox request
def add_human_in_the_loop(tool: BaseTool, *, interrupt_config: HumanInterruptConfig = None) -> BaseTool:
    """Wrap a tool to support human-in-the-loop review."""
    if interrupt_config is None:
        interrupt_config = {"allow_accept": True, "allow_edit": True, "allow_respond": True}

    @create_tool(tool.name, description=tool.description, args_schema=tool.args_schema)
    def call_tool_with_interrupt(config: RunnableConfig, **tool_input):
        request: HumanInterrupt = {
            "action_request": {"action": tool.name, "args": tool_input},
            "config": interrupt_config,
            "description": "Please review the tool call",
        }
        response = interrupt([request])[0]
        if response["type"] == "accept":  # approve the tool call
            tool_response = tool.invoke(tool_input, config)
        elif response["type"] == "edit":  # update tool call args
            tool_input = response["args"]["args"]
            tool_response = tool.invoke(tool_input, config)
        elif response["type"] == "response":  # respond to the LLM with user feedback
            tool_response = response["args"]
        else:
            raise ValueError(f"Unsupported interrupt response type: {response['type']}")
        return tool_response

    return call_tool_with_interrupt


def hotel_agent(bookings: list[str]):
    @tool
    def book_hotel(hotel_name: str):
        """Book a hotel"""
        bookings.append(hotel_name)
        return f"Successfully booked a stay at {hotel_name}."

    with warnings.catch_warnings():  # create_react_agent is deprecated in LangGraph 1.x; the docs still use it
        warnings.simplefilter("ignore")
        from langgraph.prebuilt import create_react_agent

        return create_react_agent(
            model=turns([call("book_hotel", hotel_name="McKittrick Hotel")]),
            tools=[add_human_in_the_loop(book_hotel)],
            checkpointer=InMemorySaver(),
        )


def test_wrapper_accept_books_the_hotel():
    bookings: list[str] = []
    panel = panel_for(hotel_agent(bookings))
    panel.run("book a stay at McKittrick hotel")
    assert "McKittrick Hotel" in str(panel)
    click(card(panel), "Accept")  # Agent Inbox's own word for approve
    assert bookings == ["McKittrick Hotel"] and panel.status == "Done."


def test_wrapper_edit_books_the_edited_hotel():
    bookings: list[str] = []
    panel = panel_for(hotel_agent(bookings))
    panel.run("book a stay at McKittrick hotel")
    edit_form(panel, **{"Hotel Name": "The Plaza"})
    assert bookings == ["The Plaza"]


def test_wrapper_response_returns_feedback_and_books_nothing():
    bookings: list[str] = []
    panel = panel_for(hotel_agent(bookings))
    panel.run("book a stay at McKittrick hotel")
    respond(panel, "Please book the Plaza instead.")
    assert bookings == []
    assert tool_messages(state(panel))[-1].content == "Please book the Plaza instead."


# -- the README's node: one request for a drafted email, all four response types
class EmailState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]
    email: dict
    outcome: str


def inbox_graph(sent: list[dict]):
    def draft(state: EmailState):
        return {"email": {"to": "ada@example.com", "subject": "Hello", "body": "Hi Ada!"}}

    def human_review(state: EmailState):
        request: HumanInterrupt = {
            "action_request": {"action": "send_email", "args": state["email"]},
            "config": {"allow_ignore": True, "allow_respond": True, "allow_edit": True, "allow_accept": True},
            "description": "# Email draft\nPlease review the email before it is sent.",
        }
        response: HumanResponse = interrupt([request])[0]
        if response["type"] == "accept":
            sent.append(state["email"])
            return {"outcome": "sent"}
        if response["type"] == "edit":
            sent.append(response["args"]["args"])
            return {"outcome": "sent edited"}
        if response["type"] == "response":
            return {"outcome": f"feedback: {response['args']}"}
        if response["type"] == "ignore":
            return {"outcome": "ignored"}
        raise ValueError(f"Unknown response type: {response['type']}")

    builder = StateGraph(EmailState)
    builder.add_node("draft", draft)
    builder.add_node("human_review", human_review)
    builder.add_edge(START, "draft")
    builder.add_edge("draft", "human_review")
    builder.add_edge("human_review", END)
    return builder.compile(checkpointer=InMemorySaver())


def start(sent):
    panel = panel_for(inbox_graph(sent))
    panel.run({"messages": [], "email": {}, "outcome": ""})
    assert "send_email" in str(panel) and "ada@example.com" in str(panel)
    return panel


def test_inbox_accept():
    sent: list[dict] = []
    panel = start(sent)
    click(card(panel), "Accept")
    assert sent == [{"to": "ada@example.com", "subject": "Hello", "body": "Hi Ada!"}]
    assert state(panel)["outcome"] == "sent"


def test_inbox_ignore():
    sent: list[dict] = []
    panel = start(sent)
    click(card(panel), "Ignore")
    assert sent == [] and state(panel)["outcome"] == "ignored"


def test_inbox_response():
    sent: list[dict] = []
    panel = start(sent)
    respond(panel, "Make it friendlier.")
    assert sent == [] and state(panel)["outcome"] == "feedback: Make it friendlier."


def test_inbox_edit():
    sent: list[dict] = []
    panel = start(sent)
    # the request names no tool the panel can see, so the edit is JSON (shape-checked; the graph reads it)
    edit_json(panel, "send_email", {"to": "ada@example.com", "subject": "Hello again", "body": "Hi Ada!"})
    assert sent == [{"to": "ada@example.com", "subject": "Hello again", "body": "Hi Ada!"}]
    assert state(panel)["outcome"] == "sent edited"
