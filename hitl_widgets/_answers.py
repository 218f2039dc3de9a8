"""Check a reviewer's decision for a request, and build the answer its kind expects."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from langchain_core.tools import BaseTool
from pydantic import TypeAdapter, ValidationError

from ._forms import parse_json
from ._graph_tools import stand_in_tool
from ._json_schemas import annotation_for, model_from_schema
from ._kinds import BY_NAME
from ._review_requests import Action, ReviewRequest
from .errors import DecisionError, describe_validation_error
from .protocol import check_decision


def check_action(decision: Any, action: Action, tools: Mapping[str, BaseTool]) -> dict[str, Any]:
    """Check one decision for one action with `protocol.check_decision`; return it clean.

    The tool is the graph's own when it can be found, else a stand-in with the argument
    schema the request carries. A call whose schema cannot be found at all (a tool the
    panel cannot see, inside a sub-agent say) can still be approved, rejected or answered;
    an edit of it is checked for shape only, and the graph checks the arguments.
    """
    tool = tools.get(action.name) or stand_in_tool(action.name, action.description, action.args_schema)
    return check_decision(decision, action.tool_call, tool, action.allowed)


RESPOND_FORM = '{"type": "respond", "message": <your answer>}'


def check_answer(decision: Any, request: ReviewRequest) -> dict[str, Any]:
    """Check the answer to a question; return it as `{"type": "respond", "message": answer}`.

    The answer is the bare value, of any JSON type (`"Ada"`, `30`, `True`, `{"x": 1}`), or
    wrapped as `{"type": "respond", "message": answer}`. An empty answer is refused; when the
    interrupt has a `response_schema`, the answer must fit it.
    """
    if isinstance(decision, Mapping) and decision.get("type") == "respond" and set(decision) <= {"type", "message"}:
        decision = decision.get("message")
    if decision is None or decision == "" or decision == {}:
        raise DecisionError(f"The answer is empty; nothing was sent. Give an answer, or {RESPOND_FORM}.")
    schema = request.response_schema
    if schema:
        try:
            if schema.get("type") == "object" or "properties" in schema:
                model_from_schema(schema).model_validate(decision)
            else:
                TypeAdapter(annotation_for(schema, schema.get("$defs", {}))).validate_python(decision)
        except ValidationError as error:
            problem = describe_validation_error(error)
            raise DecisionError(f"The answer does not fit what was asked: {problem}.") from None
    return {"type": "respond", "message": decision}


AnswerType = Literal["text", "JSON", "number"]
ANSWER_TYPES: tuple[AnswerType, ...] = ("text", "JSON", "number")
"""How a question card reads what was typed; Yes and No are buttons of their own (True, False)."""


def typed_answer(text: str, answer_type: AnswerType) -> Any:
    """What was typed, as the type the reviewer chose: never guessed from the text.

    "30" as text stays the string "30"; as a number it is 30; as JSON it is 30 too, and
    `{"x": 1}` is a dict. Raises `DecisionError` when the text is not of that type.
    """
    if answer_type == "text":
        return text
    if answer_type == "JSON":
        return parse_json(text, "JSON answer")
    try:
        number = float(text.strip())
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise DecisionError(f"{text.strip()!r} is not a number; nothing was sent.")
    return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number


def resume_value(request: ReviewRequest, decisions: Sequence[Mapping[str, Any]]) -> Any:
    """The value `Command(resume={request.interrupt_id: ...})` sends for checked decisions."""
    kind = BY_NAME[request.kind]
    if not kind.answerable:
        raise DecisionError(f"A {kind.label} cannot be answered; nothing was sent.")
    expected = len(request.actions) if kind.per_action else 1
    if len(decisions) != expected:
        what = f"{expected} decisions, one per action" if kind.per_action else "one decision"
        raise DecisionError(f"This request takes {what}; got {len(decisions)}. Nothing was sent.")
    return kind.answer(decisions)


def edit_decision(action: Action, args: Mapping[str, Any]) -> dict[str, Any]:
    """An edit decision for `action` with new arguments (the tool's name kept)."""
    return {"type": "edit", "edited_action": {"name": action.name, "args": dict(args)}}
