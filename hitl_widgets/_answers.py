"""Check a reviewer's decision for a request, and build the answer its kind expects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.tools import BaseTool
from pydantic import TypeAdapter, ValidationError

from ._graph_tools import stand_in_tool
from ._json_schemas import annotation_for, model_from_schema
from ._review_requests import BATCHED, OTHER, TUTORIAL, Action, ReviewRequest
from .errors import DecisionError, describe_validation_error
from .protocol import check_decision


def check_action(decision: Any, action: Action, tools: Mapping[str, BaseTool]) -> dict[str, Any]:
    """Check one decision for one action with `protocol.check_decision`; return it clean.

    The tool is the graph's own when it can be found. A request that carries the tool's
    argument schema (the kit's and per_call ones) is checked against that schema when the
    tool is not found. A tool the graph does not have can be rejected but not approved
    or edited; and when the panel found no tools at all, an edit (which it could not
    check) is refused while approve and reject pass.
    """
    tool = tools.get(action.name)
    kind = decision.get("type") if isinstance(decision, Mapping) else None
    if tool is None and action.args_schema is not None:
        tool = stand_in_tool(action.name, action.description, action.args_schema)
    if tool is None:
        if kind in ("reject", "respond") or (kind == "approve" and not tools):
            tool = stand_in_tool(action.name, action.description, None)
        elif kind == "edit" and not tools:
            raise DecisionError(
                f"Cannot check an edit of {action.name}: no tools were found in this graph. "
                "Pass them to the panel: ApprovalPanel(graph, config, tools=[...])."
            )
    return check_decision(decision, action.tool_call, tool, action.allowed)


def check_answer(decision: Any, request: ReviewRequest) -> dict[str, Any]:
    """Check the answer to an `other` interrupt: `{"type": "respond", "message": ...}`.

    When the interrupt has a `response_schema`, the message must fit it.
    """
    example = '{"type": "respond", "message": <your answer>}'
    if not isinstance(decision, Mapping) or decision.get("type") != "respond":
        raise DecisionError(f"This interrupt is not about a tool call; answer it with {example}.")
    message = decision.get("message")
    if message is None or message == "" or message == {}:
        raise DecisionError(f"The answer is empty; nothing was sent. Answer with {example}.")
    schema = request.response_schema
    if schema:
        try:
            if schema.get("type") == "object" or "properties" in schema:
                model_from_schema(schema).model_validate(message)
            else:
                TypeAdapter(annotation_for(schema, schema.get("$defs", {}))).validate_python(message)
        except ValidationError as error:
            problem = describe_validation_error(error)
            raise DecisionError(f"The answer does not fit what was asked: {problem}.") from None
    return {"type": "respond", "message": message}


def resume_value(request: ReviewRequest, decisions: Sequence[Mapping[str, Any]]) -> Any:
    """The value `Command(resume={request.interrupt_id: ...})` sends for checked decisions."""
    if request.kind == BATCHED:
        if len(decisions) != len(request.actions):
            raise DecisionError(
                f"This request needs {len(request.actions)} decisions, one per action; got {len(decisions)}."
            )
        return {"decisions": [dict(decision) for decision in decisions]}
    if len(decisions) != 1:
        raise DecisionError(f"This request takes one decision; got {len(decisions)}.")
    decision = dict(decisions[0])
    if request.kind == OTHER:
        return decision["message"]
    if request.kind == TUTORIAL:
        return tutorial_answer(decision)
    return decision


def tutorial_answer(decision: Mapping[str, Any]) -> Any:
    """A LangChain decision in the reference tutorial's answer format.

    A rejection is sent as `{"action": "reject"}`, not the bare string `"reject"`: the
    tutorial's second executor only reads the dict form and runs the tool on the string.
    """
    kind = decision["type"]
    if kind == "approve":
        return "approve"
    if kind == "reject":
        message = decision.get("message")
        return {"action": "reject", "message": message} if message else {"action": "reject"}
    if kind == "edit":
        return {"action": "edit", "correction": dict(decision["edited_action"]["args"])}
    raise DecisionError(f"The tutorial's payload cannot take a {kind!r} decision.")


def edit_decision(action: Action, args: Mapping[str, Any]) -> dict[str, Any]:
    """An edit decision for `action` with new arguments (the tool's name kept)."""
    return {"type": "edit", "edited_action": {"name": action.name, "args": dict(args)}}
