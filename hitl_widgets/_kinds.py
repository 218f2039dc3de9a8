"""Every kind of interrupt the panel answers, one entry each: the one place to add a kind.

An entry says how the kind is recognised, how its value is read into the tool calls it
asks about, which decisions it allows, how checked LangChain decisions become the answer
that kind expects, and how its card is labelled. Recognition runs in `KINDS` order; the
first that matches wins, and `question` (anything else) closes the list.

| kind        | recognised by                                         | answered with                  |
|-------------|-------------------------------------------------------|--------------------------------|
| kit         | `{"kind": "hitl_widgets/review", "tool_call": ...}`   | one LangChain decision dict    |
| batched     | `action_requests` + `review_configs` (HITLRequest)     | `{"decisions": [...]}`, ordered |
| per_call    | `{"type": "tool_approval", "name", "args"}`            | one decision, by interrupt id  |
| tutorial    | `{"type": "tool_approval_request", "tool_calls"}`      | `"approve"`, `{"action": ...}` |
| agent_inbox | `[{"action_request", "config", "description"}]`        | `[{"type": "accept", ...}]`    |
| breakpoint  | a `NodeInterrupt` (its id is `placeholder-id`)          | cannot be answered             |
| question    | anything else                                         | the bare answer, typed         |
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from langchain_core.tools import BaseTool

from ._json_schemas import allowed_in_schema, as_json_schema, edit_args_in_schema
from ._review_requests import (
    AGENT_INBOX,
    BATCHED,
    BREAKPOINT,
    KIT,
    PER_CALL,
    QUESTION,
    TUTORIAL,
    Action,
    RequestKind,
    ReviewRequest,
    pending_tool_calls,
    proposed_tool_calls,
)
from .errors import REVIEW_KIND, DecisionError
from .protocol import DEFAULT_DECISIONS, in_decision_order, tool_args_schema

Tools = Mapping[str, BaseTool]
Reader = Callable[[Any, "dict[str, Any] | None", Tools, Sequence[Mapping[str, Any]]], "tuple[tuple[Action, ...], dict]"]
Answer = Callable[[Sequence[Mapping[str, Any]]], Any]

NODE_INTERRUPT_ID = "placeholder-id"
"""The id LangGraph gives the (deprecated) `NodeInterrupt`: no resume can address it."""


@dataclass(frozen=True)
class Kind:
    """One kind of interrupt value, end to end."""

    name: RequestKind
    label: str
    """The card's title."""
    recognises: Callable[[Any, str], bool]
    """`(value, interrupt_id) -> bool`."""
    read: Reader | None = None
    """The tool calls the value asks about; None: it asks about none (a question)."""
    answer: Answer = field(default=lambda decisions: dict(decisions[0]))
    """Checked decisions (one per action for `per_action`, else one) to the resume value."""
    per_action: bool = False
    """One decision per action, sent together (a batch)."""
    answerable: bool = True
    labels: Mapping[str, str] = field(default_factory=dict)
    """Button labels that differ from the decision's own name (Agent Inbox says Accept, Ignore)."""


# -- reading ------------------------------------------------------------------------------
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
        actions.append(
            Action(
                name=name,
                args=dict(request.get("args") or {}),
                call_id=ids[index],
                description=request.get("description", ""),
                allowed=in_decision_order(config.get("allowed_decisions") or ()),
                args_schema=config.get("args_schema") or _schema_for(tools.get(name)),
            )
        )
    return tuple(actions), {}


def _read_per_call(value, schema, tools, tool_calls):
    name = value["name"]
    action = Action(
        name=name,
        args=dict(value.get("args") or {}),
        call_id=value.get("tool_call_id"),
        description=value.get("description", ""),
        allowed=allowed_in_schema(schema) or DEFAULT_DECISIONS,
        args_schema=_schema_for(tools.get(name)) or edit_args_in_schema(schema, name),
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


_INBOX_DECISIONS = {
    "allow_accept": "approve",
    "allow_edit": "edit",
    "allow_respond": "respond",
    "allow_ignore": "reject",
}
"""Agent Inbox's permissions, as the LangChain decisions the card offers (Ignore is shown as Reject)."""


def _read_agent_inbox(value, schema, tools, tool_calls):
    proposed = [dict(zip(("name", "args"), _inbox_action(item), strict=True)) for item in value]
    ids = _match_call_ids(proposed, tool_calls)
    actions = []
    for item, call_id in zip(value, ids, strict=True):
        name, args = _inbox_action(item)
        config = item.get("config") or {}
        actions.append(
            Action(
                name=name,
                args=args,
                call_id=call_id,
                description=str(item.get("description") or ""),
                allowed=in_decision_order(d for flag, d in _INBOX_DECISIONS.items() if config.get(flag)),
                args_schema=_schema_for(tools.get(name)),
            )
        )
    return tuple(actions), {}


def _inbox_action(item: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    request = item.get("action_request") or {}
    return str(request.get("action", "")), dict(request.get("args") or {})


def _match_call_ids(proposed: Sequence[Mapping], tool_calls: Sequence[Mapping]) -> list[str | None]:
    """A request that names no call ids: find them among the model's calls, in order."""
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


# -- answering ----------------------------------------------------------------------------
def tutorial_answer(decisions: Sequence[Mapping[str, Any]]) -> Any:
    """A LangChain decision in the reference tutorial's answer format.

    A rejection is sent as `{"action": "reject"}`, not the bare string `"reject"`: the
    tutorial's second executor only reads the dict form and runs the tool on the string.
    """
    decision = decisions[0]
    kind = decision["type"]
    if kind == "approve":
        return "approve"
    if kind == "reject":
        message = decision.get("message")
        return {"action": "reject", "message": message} if message else {"action": "reject"}
    if kind == "edit":
        return {"action": "edit", "correction": dict(decision["edited_action"]["args"])}
    raise DecisionError(f"The tutorial's payload cannot take a {kind!r} decision.")


def agent_inbox_answer(decisions: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """LangChain decisions as Agent Inbox `HumanResponse`s, one per request, in order."""
    responses: list[dict[str, Any]] = []
    for decision in decisions:
        kind = decision["type"]
        if kind == "approve":
            responses.append({"type": "accept", "args": None})
        elif kind == "edit":
            action = decision["edited_action"]
            responses.append({"type": "edit", "args": {"action": action["name"], "args": dict(action["args"])}})
        elif kind == "respond":
            responses.append({"type": "response", "args": decision["message"]})
        elif decision.get("message"):
            raise DecisionError(
                "Agent Inbox's Ignore carries no message, so yours would be lost; nothing was sent. "
                "Use Respond to send text, or Ignore with an empty message."
            )
        else:
            responses.append({"type": "ignore", "args": None})
    return responses


def question_answer(decisions: Sequence[Mapping[str, Any]]) -> Any:
    """A question gets the reviewer's bare answer, of whatever JSON type it was given."""
    return decisions[0]["message"]


def _is_inbox(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(item, Mapping) and isinstance(item.get("action_request"), Mapping) for item in value)
        and all(isinstance(item.get("config"), Mapping) for item in value)
    )


KINDS: tuple[Kind, ...] = (
    Kind(
        KIT,
        "review request",
        lambda value, _: (
            isinstance(value, Mapping)
            and value.get("kind") == REVIEW_KIND
            and isinstance(value.get("tool_call"), Mapping)
        ),
        _read_kit,
    ),
    Kind(
        BATCHED,
        "HumanInTheLoopMiddleware, batched",
        lambda value, _: (
            isinstance(value, Mapping)
            and isinstance(value.get("action_requests"), list)
            and isinstance(value.get("review_configs"), list)
        ),
        _read_batched,
        answer=lambda decisions: {"decisions": [dict(decision) for decision in decisions]},
        per_action=True,
    ),
    Kind(
        PER_CALL,
        "HumanInTheLoopMiddleware, per call",
        lambda value, _: (
            isinstance(value, Mapping) and value.get("type") == "tool_approval" and "name" in value and "args" in value
        ),
        _read_per_call,
    ),
    Kind(
        TUTORIAL,
        "tutorial payload",
        lambda value, _: (
            isinstance(value, Mapping)
            and value.get("type") == "tool_approval_request"
            and isinstance(value.get("tool_calls"), list)
        ),
        _read_tutorial,
        answer=tutorial_answer,
    ),
    Kind(
        AGENT_INBOX,
        "Agent Inbox request",
        lambda value, _: _is_inbox(value),
        _read_agent_inbox,
        answer=agent_inbox_answer,
        per_action=True,
        labels={"approve": "Accept", "reject": "Ignore"},
    ),
    Kind(
        BREAKPOINT,
        "NodeInterrupt (cannot be answered)",
        lambda _, interrupt_id: interrupt_id == NODE_INTERRUPT_ID,
        answerable=False,
    ),
    Kind(QUESTION, "question", lambda value, _: True, answer=question_answer),
)
BY_NAME: dict[str, Kind] = {kind.name: kind for kind in KINDS}


def kind_of(value: Any, interrupt_id: str = "") -> Kind:
    """The first kind that recognises the value (`question` when none does)."""
    return next(kind for kind in KINDS if kind.recognises(value, interrupt_id))


def request_kind(value: Any, interrupt_id: str = "") -> RequestKind:
    return kind_of(value, interrupt_id).name


def read_request(
    interrupt: Any, tools: Tools | None = None, tool_calls: Sequence[Mapping[str, Any]] = ()
) -> ReviewRequest:
    """Read one `Interrupt` into a `ReviewRequest`.

    `tools` are the graph's tools by name (see `tools_in_graph`); `tool_calls` are the
    model's latest calls, used to find the call ids some requests leave out.
    """
    tools = tools or {}
    value = interrupt.value
    schema = as_json_schema(getattr(interrupt, "response_schema", None))
    kind = kind_of(value, interrupt.id)
    if kind.read is None:
        return ReviewRequest(interrupt.id, kind.name, (), value, schema)
    actions, extra = kind.read(value, schema, tools, tool_calls)
    return ReviewRequest(interrupt.id, kind.name, actions, value, schema, **extra)


def read_requests(
    interrupts: Iterable[Any], tools: Tools | None = None, values: Any = None
) -> tuple[ReviewRequest, ...]:
    """Read every pending interrupt, in the order the model proposed the calls.

    `values` is the thread's state (for call ids). The order LangGraph lists pending
    interrupts in is not promised, so cards and `pending` follow the model's own order.
    A question gets the calls still waiting for a result, so its card can show them.
    """
    calls = proposed_tool_calls(values)
    waiting = pending_tool_calls(values)
    order = {call["id"]: index for index, call in enumerate(calls)}
    requests = []
    for item in interrupts:
        request = read_request(item, tools, calls)
        if request.kind == QUESTION and waiting:
            request = replace(request, waiting_calls=tuple(waiting))
        requests.append(request)
    return tuple(
        sorted(
            requests, key=lambda r: min((order[a.call_id] for a in r.actions if a.call_id in order), default=len(order))
        )
    )
