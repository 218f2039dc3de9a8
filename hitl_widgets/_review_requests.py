"""Read any interrupt into a `ReviewRequest`: which kind it is, and which tool calls it asks about.

No widgets here: every rule the approval panel follows is a plain function that a test
can call. Four kinds of interrupt value are read:

- `kit`: the kit's own review request (`hitl_widgets.protocol.review_request`), one per
  tool call, answered with one LangChain decision dict;
- `batched`: LangChain `HumanInTheLoopMiddleware` in its default mode, an `HITLRequest`
  (`action_requests`, `review_configs`) answered with `{"decisions": [...]}`, one per
  action, in order;
- `per_call`: the same middleware with `interrupt_mode="per_call"`, a
  `ToolApprovalRequest` (`{"type": "tool_approval", ...}`) answered with one decision;
- `tutorial`: the reference tutorial's `{"type": "tool_approval_request", "tool_calls":
  [...]}`, answered once for all its calls with `"approve"`, `{"action": "reject"}` or
  `{"action": "edit", "correction": {...}}`;
- `other`: anything else, answered with whatever the interrupt asks for (a form built
  from `Interrupt.response_schema` when it has one, else text).

Whatever the kind, a reviewer's decision is a LangChain decision dict, checked by
`protocol.check_decision` against the tool's own argument schema before anything is
sent, and only then translated into the answer that kind expects (`resume_value`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage
from langchain_core.tools import BaseTool

from ._json_schemas import allowed_in_schema, as_json_schema, edit_args_in_schema
from .errors import REVIEW_KIND
from .protocol import DEFAULT_DECISIONS, in_decision_order, tool_args_schema

KIT, BATCHED, PER_CALL, TUTORIAL, OTHER = "kit", "batched", "per_call", "tutorial", "other"
TUTORIAL_TYPE = "tool_approval_request"
PER_CALL_TYPE = "tool_approval"
ANSWER = ("respond",)
"""What an `other` interrupt accepts: `{"type": "respond", "message": <the answer>}`."""


@dataclass(frozen=True)
class Action:
    """One proposed tool call a reviewer is asked about."""

    name: str
    args: dict[str, Any]
    call_id: str | None
    description: str = ""
    allowed: tuple[str, ...] = DEFAULT_DECISIONS
    args_schema: dict[str, Any] | None = None
    """The JSON schema of the tool's arguments, for the edit form (None: edit as JSON only)."""

    @property
    def tool_call(self) -> dict[str, Any]:
        return {"name": self.name, "args": self.args, "id": self.call_id}


@dataclass(frozen=True)
class ReviewRequest:
    """One pending interrupt, read: what is asked, and about which tool calls."""

    interrupt_id: str
    kind: str
    actions: tuple[Action, ...]
    value: Any
    response_schema: dict[str, Any] | None = None
    shared: bool = False
    """True when one decision answers every action at once (the tutorial's payload)."""
    note: str = ""
    """Instructions that came with the request, if any."""

    @property
    def allowed(self) -> tuple[str, ...]:
        """The decisions this request accepts (for a batch: those of its first action)."""
        if self.kind == OTHER:
            return ANSWER
        return self.actions[0].allowed if self.actions else ()


# -- reading ----------------------------------------------------------------------------
def request_kind(value: Any) -> str:
    """Which of the known shapes an interrupt value has (`other` when none)."""
    if not isinstance(value, Mapping):
        return OTHER
    if value.get("kind") == REVIEW_KIND and isinstance(value.get("tool_call"), Mapping):
        return KIT
    if isinstance(value.get("action_requests"), list) and isinstance(value.get("review_configs"), list):
        return BATCHED
    if value.get("type") == PER_CALL_TYPE and "name" in value and "args" in value:
        return PER_CALL
    if value.get("type") == TUTORIAL_TYPE and isinstance(value.get("tool_calls"), list):
        return TUTORIAL
    return OTHER


def read_request(
    interrupt: Any, tools: Mapping[str, BaseTool] | None = None, tool_calls: Sequence[Mapping[str, Any]] = ()
) -> ReviewRequest:
    """Read one `Interrupt` into a `ReviewRequest`.

    `tools` are the graph's tools by name (see `tools_in_graph`); `tool_calls` are the
    calls of the last AI message, used to find the call ids a batched request leaves out.
    """
    tools = tools or {}
    value = interrupt.value
    schema = as_json_schema(getattr(interrupt, "response_schema", None))
    kind = request_kind(value)
    reader = {KIT: _read_kit, BATCHED: _read_batched, PER_CALL: _read_per_call, TUTORIAL: _read_tutorial}.get(kind)
    if reader is None:
        return ReviewRequest(interrupt.id, OTHER, (), value, schema)
    actions, extra = reader(value, schema, tools, tool_calls)
    return ReviewRequest(interrupt.id, kind, actions, value, schema, **extra)


def read_requests(
    interrupts: Iterable[Any], tools: Mapping[str, BaseTool] | None = None, values: Any = None
) -> tuple[ReviewRequest, ...]:
    """Read every pending interrupt, in the order the model proposed the calls.

    `values` is the thread's state (for call ids). The order LangGraph lists pending
    interrupts in is not promised, so cards and `pending` follow the model's own order.
    """
    calls = proposed_tool_calls(values)
    order = {call["id"]: index for index, call in enumerate(calls)}
    requests = [read_request(item, tools, calls) for item in interrupts]
    return tuple(
        sorted(
            requests, key=lambda r: min((order[a.call_id] for a in r.actions if a.call_id in order), default=len(order))
        )
    )


def _schema_for(tool: BaseTool | None) -> dict[str, Any] | None:
    return tool_args_schema(tool) if tool is not None else None


def _read_kit(value, schema, tools, tool_calls):
    call = value["tool_call"]
    tool = tools.get(call.get("name"))
    action = Action(
        name=call.get("name", ""),
        args=dict(call.get("args") or {}),
        call_id=call.get("id"),
        description=value.get("description") or (tool.description if tool else ""),
        allowed=in_decision_order(value.get("allowed_decisions") or DEFAULT_DECISIONS),
        args_schema=value.get("args_schema") or _schema_for(tool),
    )
    return (action,), {}


def _read_batched(value, schema, tools, tool_calls):
    proposed = value["action_requests"]
    configs = value["review_configs"]
    by_name = {config.get("action_name"): config for config in configs if isinstance(config, Mapping)}
    ids = _match_call_ids(proposed, tool_calls)
    actions = []
    for index, request in enumerate(proposed):
        name = request.get("name", "")
        config = configs[index] if len(configs) == len(proposed) else by_name.get(name, {})
        if not isinstance(config, Mapping) or config.get("action_name", name) != name:
            config = by_name.get(name, {})
        tool = tools.get(name)
        actions.append(
            Action(
                name=name,
                args=dict(request.get("args") or {}),
                call_id=ids[index],
                description=request.get("description", ""),
                allowed=in_decision_order(config.get("allowed_decisions") or ()),
                args_schema=config.get("args_schema") or _schema_for(tool),
            )
        )
    return tuple(actions), {}


def _read_per_call(value, schema, tools, tool_calls):
    name = value["name"]
    tool = tools.get(name)
    action = Action(
        name=name,
        args=dict(value.get("args") or {}),
        call_id=value.get("tool_call_id"),
        description=value.get("description", ""),
        allowed=allowed_in_schema(schema) or DEFAULT_DECISIONS,
        args_schema=_schema_for(tool) or edit_args_in_schema(schema, name),
    )
    return (action,), {}


def _read_tutorial(value, schema, tools, tool_calls):
    calls = value["tool_calls"]
    # One answer covers every call, so an edit (one set of arguments) fits only one call.
    allowed = ("approve", "edit", "reject") if len(calls) == 1 else ("approve", "reject")
    actions = []
    for call in calls:
        tool = tools.get(call.get("name"))
        actions.append(
            Action(
                name=call.get("name", ""),
                args=dict(call.get("args") or {}),
                call_id=call.get("id"),
                description=tool.description if tool else "",
                allowed=allowed,
                args_schema=_schema_for(tool),
            )
        )
    return tuple(actions), {"shared": True, "note": str(value.get("instructions") or "")}


def _match_call_ids(proposed: Sequence[Mapping], tool_calls: Sequence[Mapping]) -> list[str | None]:
    """A batched request names no call ids; find them in the AI message, in order."""
    ids: list[str | None] = []
    start = 0
    for request in proposed:
        found = None
        for position in range(start, len(tool_calls)):
            call = tool_calls[position]
            if call.get("name") == request.get("name") and call.get("args") == request.get("args"):
                found, start = call.get("id"), position + 1
                break
        ids.append(found)
    return ids


def proposed_tool_calls(values: Any) -> list[dict[str, Any]]:
    """The calls under review: those of the last AI message, even with answers after it.

    Unlike `graphs.last_tool_calls` (routing: only when the very last message is the AI
    message), a paused thread may already hold tool messages for some of these calls.
    """
    messages = values.get("messages") if isinstance(values, Mapping) else None
    for message in reversed(messages or []):
        if isinstance(message, AIMessage):
            return [dict(call) for call in message.tool_calls]
    return []


def final_answer(values: Any) -> str | None:
    """The text of the last AI message that called no tool (the agent's answer)."""
    messages = values.get("messages") if isinstance(values, Mapping) else None
    last = messages[-1] if messages else None
    if isinstance(last, AIMessage) and not last.tool_calls:
        return last.text if isinstance(last.text, str) else str(last.content)
    return None
