"""Drive an `ApprovalPanel` through its widgets, as a reviewer would, and script the model.

Every helper here clicks a `Button` or types into a `Text`/`Textarea` the panel shows;
none calls `panel.decide`. ipywidgets swallows what a click handler raises, so tests
assert on what happened afterwards (the tools that ran, the state, `panel.decisions`).
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict
from widget_tree import cards, find, shown

from hitl_widgets import ApprovalPanel

MESSAGE = "Message to the model"
"""The placeholder of a card's Reject/Respond text box."""


# -- the scripted model -----------------------------------------------------------------
class ScriptedChat(BaseChatModel):
    """A chat model that answers from a script, the only stand-in for the sources' LLMs.

    `script(messages)` returns the next `AIMessage`; it is a pure function of the
    conversation, so a node that LangGraph runs again on resume gets the same answer.
    `bind_tools` returns the model itself (the script already knows the tools).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)
    script: Callable[[list[BaseMessage]], AIMessage]
    seen: list = []

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        self.seen.append(list(messages))
        return ChatResult(generations=[ChatGeneration(message=self.script(list(messages)))])

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChat:
        return self


def turns(*steps: Sequence[dict[str, Any]] | str, final: str = "Done.") -> ScriptedChat:
    """A model that proposes `steps` in order, one per model turn since the last human message.

    Each step is a list of tool calls (`{"name": ..., "args": ...}`) or a text answer.
    Call ids are `call_<turn>_<index>`, so a test can name them.
    """

    def script(messages: list[BaseMessage]) -> AIMessage:
        last_human = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
        turn = sum(1 for m in messages[last_human + 1 :] if isinstance(m, AIMessage))
        if turn >= len(steps):
            return AIMessage(final)
        step = steps[turn]
        if isinstance(step, str):
            return AIMessage(step)
        calls = [
            {"name": c["name"], "args": c["args"], "id": c.get("id", f"call_{turn}_{i}"), "type": "tool_call"}
            for i, c in enumerate(step)
        ]
        return AIMessage("", tool_calls=calls)

    return ScriptedChat(script=script, seen=[])


def call(name: str, **args: Any) -> dict[str, Any]:
    return {"name": name, "args": args}


def tool_messages(values: Any) -> list[ToolMessage]:
    return [m for m in (values or {}).get("messages", []) if isinstance(m, ToolMessage)]


def aio(function: Callable[..., Any]) -> Callable[..., Any]:
    """The async variant of a node: the same body, as an `async def` (LangGraph then runs it async-only)."""

    @functools.wraps(function)
    async def node(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0)
        return function(*args, **kwargs)

    return node


# -- building a panel ---------------------------------------------------------------------
def panel_for(graph: Any, thread: str = "compat", **kwargs: Any) -> ApprovalPanel:
    return ApprovalPanel(graph, {"configurable": {"thread_id": thread}}, **kwargs)


def state(panel: ApprovalPanel) -> dict[str, Any]:
    """The thread's state as the graph holds it (values of the latest checkpoint)."""
    return panel._session._graph.get_state(panel._session.config).values


# -- walking the widgets (the tree helpers live in tests/widget_tree.py) -------------------
def card(panel: ApprovalPanel, number: int = 0) -> widgets.VBox:
    found = cards(panel)
    assert len(found) > number, f"no card {number}: {len(found)} shown.\n{panel}"
    return found[number]


def labels(root: widgets.Widget) -> list[str]:
    return [b.description for b in find(root, widgets.Button)]


def click(root: widgets.Widget, label: str, n: int = 0) -> None:
    found = find(root, widgets.Button, label)
    assert len(found) > n, f"no button {label!r} number {n}; shown: {labels(root)}"
    found[n].click()


def _message_box(root: widgets.Widget, n: int = 0) -> widgets.Text:
    boxes = [w for w in find(root, widgets.Text) if MESSAGE in (w.placeholder or "")]
    assert len(boxes) > n, f"no message box number {n}"
    return boxes[n]


def approve(panel: ApprovalPanel, number: int = 0, n: int = 0) -> None:
    click(card(panel, number), "Approve", n)


def reject(panel: ApprovalPanel, message: str = "", number: int = 0, n: int = 0) -> None:
    target = card(panel, number)
    if message:
        _message_box(target, n).value = message
    click(target, "Reject", n)


def respond(panel: ApprovalPanel, message: str, number: int = 0, n: int = 0) -> None:
    target = card(panel, number)
    _message_box(target, n).value = message
    click(target, "Respond", n)


def edit_json(panel: ApprovalPanel, name: str, args: dict[str, Any], number: int = 0, n: int = 0) -> None:
    """Click Edit, switch to the JSON view, type the edited call, click Send edit."""
    target = card(panel, number)
    click(target, "Edit", n)
    (toggle,) = find(target, widgets.ToggleButtons)
    toggle.value = "JSON"
    (raw,) = find(target, widgets.Textarea, "Edited action (JSON)")
    raw.value = json.dumps({"name": name, "args": args})
    click(target, "Send edit")


def edit_form(panel: ApprovalPanel, number: int = 0, n: int = 0, **values: Any) -> None:
    """Click Edit, change fields of the generated form (by label), click Send edit."""
    target = card(panel, number)
    click(target, "Edit", n)
    (toggle,) = find(target, widgets.ToggleButtons)
    assert "Form" in toggle.options, f"no form for this call; views: {toggle.options}"
    toggle.value = "Form"
    fill(target, **values)
    click(target, "Send edit")


def fill(root: widgets.Widget, **values: Any) -> None:
    """Set form fields by their label (the description, without the required star)."""
    inputs = {
        w.description.rstrip(" *"): w
        for w in shown(root)
        if isinstance(w, (widgets.Text, widgets.IntText, widgets.FloatText, widgets.Checkbox, widgets.Dropdown))
        and w.description
    }
    for label, value in values.items():
        assert label in inputs, f"no field {label!r}; fields: {sorted(inputs)}"
        inputs[label].value = value


def answer(panel: ApprovalPanel, text: str, number: int = 0, read_as: str = "text") -> None:
    """Type into a question card's answer box, pick how it is read (text, JSON, number), Send answer."""
    target = card(panel, number)
    boxes = [w for w in find(target, widgets.Textarea) if w.placeholder == "Your answer"]
    assert boxes, f"card {number} has no answer box; it shows: {labels(target)}\n{panel}"
    boxes[0].value = text
    (read,) = [w for w in find(target, widgets.ToggleButtons) if w.description == "Read as"]
    read.value = read_as
    click(target, "Send answer")


def answer_form(panel: ApprovalPanel, number: int = 0, **values: Any) -> None:
    target = card(panel, number)
    fill(target, **values)
    click(target, "Send answer")


def decision_types(panel: ApprovalPanel) -> list[str]:
    return [record.decision.get("type") for record in panel.decisions]


def variants() -> list[str]:
    """Run a test on the sync graph and on its async variant (`async def` nodes, async tools)."""
    return ["sync", "async"]
