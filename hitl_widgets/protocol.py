"""Review requests and decisions: the one place that says what a human may answer.

Decisions are LangChain's HITL decision dicts, so a learner moves on to
`HumanInTheLoopMiddleware` without relearning them:

    {"type": "approve"}
    {"type": "reject", "message": "why, for the model"}
    {"type": "edit", "edited_action": {"name": "<same tool>", "args": {...}}}
    {"type": "respond", "message": "the answer, given in place of the tool"}

`check_decision` is the gate every decision passes, in the graph and in the panel
alike: anything it cannot read raises `DecisionError` with what was wrong and what to
send instead, so a decision it cannot read never runs a tool.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Literal, Union

from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool
from pydantic import BaseModel, ConfigDict, Discriminator, Field, TypeAdapter, ValidationError, create_model

from .errors import (
    EDIT_NOTE_PREFIX,
    REJECTED_PREFIX,
    REVIEW_KIND,
    REVIEWER_MESSAGE,
    TOOL_RESPONSE_MARKER,
    DecisionError,
    describe_validation_error,
)

DecisionType = Literal["approve", "edit", "reject", "respond"]
DECISION_TYPES: tuple[str, ...] = ("approve", "edit", "reject", "respond")
DEFAULT_DECISIONS: tuple[str, ...] = ("approve", "edit", "reject")
EXAMPLES = (
    '{"type": "approve"}, {"type": "reject", "message": "..."} or '
    '{"type": "edit", "edited_action": {"name": ..., "args": {...}}}'
)


def in_decision_order(decisions: Iterable[str]) -> tuple[str, ...]:
    """Known decision types, in one fixed order (approve, edit, reject, respond)."""
    chosen = set(decisions)
    return tuple(kind for kind in DECISION_TYPES if kind in chosen)


def tool_args_schema(tool: BaseTool) -> dict[str, Any]:
    """The JSON schema of the arguments the model (and an editor) may give the tool."""
    schema = tool.tool_call_schema
    if isinstance(schema, dict):
        return schema
    if issubclass(schema, BaseModel):
        return schema.model_json_schema()
    raise TypeError(f"{tool.name}: its argument schema is a pydantic v1 model; use a pydantic v2 model.")


def review_request(
    tool_call: dict[str, Any], tool: BaseTool, allowed: Sequence[str] = DEFAULT_DECISIONS
) -> dict[str, Any]:
    """The kit's interrupt value for one proposed tool call: plain JSON, for any client."""
    return {
        "kind": REVIEW_KIND,
        "tool_call": {"name": tool_call["name"], "args": tool_call["args"], "id": tool_call["id"]},
        "description": tool.description,
        "args_schema": tool_args_schema(tool),
        "allowed_decisions": list(allowed),
        "fingerprint": call_fingerprint(tool_call["name"], tool_call["args"], tool_call["id"]),
    }


# -- binding a decision to the exact call (governance) -----------------------------------
def canonical_json(value: Any) -> str:
    """One spelling for one value: sorted keys, no spaces, UTF-8 kept (what fingerprints hash)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def call_fingerprint(name: str, args: Mapping[str, Any], call_id: str | None) -> str:
    """32 hex digits naming one exact call: the tool, its canonical arguments and its call id.

    A review request carries it, a decision echoes it, and the executor recomputes it from
    what it is about to run: anything that differs (an argument rewritten after approval,
    an answer meant for another call) is refused.
    """
    body = canonical_json({"tool": name, "args": dict(args), "id": call_id})
    return hashlib.sha256(body.encode()).hexdigest()[:32]


SIGNING_KEY_VARIABLE = "HITL_SIGNING_KEY"


def signing_key_from_env(name: str = SIGNING_KEY_VARIABLE) -> str | None:
    """The decision-signing secret from the environment or the `.env` file, or None when unset."""
    import os

    from dotenv import dotenv_values, find_dotenv

    if os.environ.get(name):
        return os.environ[name]
    found = find_dotenv(usecwd=True)
    return (dotenv_values(found).get(name) if found else None) or None


def _signed_part(envelope: Mapping[str, Any]) -> bytes:
    keys = ("decision", "fingerprint", "reviewer", "scope")
    return canonical_json({key: envelope.get(key) for key in keys}).encode()


def sign_envelope(envelope: Mapping[str, Any], key: bytes | str) -> dict[str, Any]:
    """The envelope with an HMAC-SHA256 `signature` over its decision, fingerprint, reviewer, scope."""
    secret = key.encode() if isinstance(key, str) else key
    return {**envelope, "signature": hmac.new(secret, _signed_part(envelope), hashlib.sha256).hexdigest()}


def signature_is_valid(envelope: Mapping[str, Any], key: bytes | str) -> bool:
    """True only for a signature made with `key` over exactly this envelope (constant-time compare)."""
    given = envelope.get("signature")
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(sign_envelope(envelope, key)["signature"], given)


class _Marked(BaseModel):
    """Every decision may say which `channel` it came through and `by` whom: copied into the
    review record, never acted on (who may decide is governance's business, not the sender's)."""

    model_config = ConfigDict(extra="forbid")
    channel: str | None = None
    by: str | None = None


class ApproveDecision(_Marked):
    type: Literal["approve"]


class RejectDecision(_Marked):
    type: Literal["reject"]
    message: str = ""


class RespondDecision(_Marked):
    type: Literal["respond"]
    message: str = Field(min_length=1)


def _strict_args(tool: BaseTool) -> type[BaseModel] | None:
    """The tool's argument model with unknown arguments refused, or None for a dict schema."""
    schema = tool.tool_call_schema
    if not (isinstance(schema, type) and issubclass(schema, BaseModel)):
        return None
    return type(schema.__name__, (schema,), {"model_config": ConfigDict(extra="forbid")})


_ADAPTERS: dict[tuple[int, tuple[str, ...]], tuple[BaseTool, Any, TypeAdapter]] = {}


def _decision_model(tool: BaseTool, allowed: tuple[str, ...]) -> tuple[Any, TypeAdapter]:
    """Built once per tool and allowed set: decisions are checked on every resume."""
    key = (id(tool), allowed)
    if key not in _ADAPTERS:
        model = _build_decision_model(tool, allowed)
        _ADAPTERS[key] = (tool, model, TypeAdapter(model))  # holding `tool` keeps its id unique
    return _ADAPTERS[key][1:]


def _build_decision_model(tool: BaseTool, allowed: tuple[str, ...]) -> Any:
    args = _strict_args(tool) or dict[str, Any]
    name: Any = Literal[tool.name]  # a type built at run time: the tool's own name, nothing else
    edit_type: Any = Literal["edit"]
    edited = create_model("EditedAction", name=(name, ...), args=(args, ...))
    edit = create_model("EditDecision", __base__=_Marked, type=(edit_type, ...), edited_action=(edited, ...))
    by_type = {"approve": ApproveDecision, "reject": RejectDecision, "respond": RespondDecision, "edit": edit}
    members = tuple(by_type[d] for d in allowed)
    return members[0] if len(members) == 1 else Annotated[Union[members], Discriminator("type")]  # noqa: UP007


def decision_schema(tool: BaseTool, allowed: Sequence[str] = DEFAULT_DECISIONS) -> Any:
    """A type for `interrupt(..., response_schema=...)`: LangGraph refuses other answers.

    Only the allowed decisions are members; an edit is pinned to this tool's name and
    its arguments must match the tool's own schema, with no unknown keys.
    """
    return _decision_model(tool, tuple(allowed))[0]


class Scope(BaseModel):
    """How far a decision reaches: this call only, every call of this tool in this thread,
    or every call of this tool in this thread whose arguments match `pattern`."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["once", "thread", "pattern"] = "once"
    pattern: dict[str, Any] | None = None


_ENVELOPES: dict[tuple[int, tuple[str, ...]], tuple[BaseTool, Any]] = {}


def envelope_schema(tool: BaseTool, allowed: Sequence[str] = DEFAULT_DECISIONS) -> Any:
    """The `response_schema` of a governed review: a decision with who sent it and for which call.

        {"decision": {"type": "approve"}, "fingerprint": "<from the request>",
         "reviewer": "alice", "scope": {"kind": "once"}, "signature": "<optional HMAC>"}

    `Command(resume=...)` has no field for who answered, so the name travels in the value.
    """
    key = (id(tool), tuple(allowed))
    if key not in _ENVELOPES:
        decision: Any = decision_schema(tool, allowed)
        model = create_model(
            "GovernedDecision",
            __config__=ConfigDict(extra="forbid"),
            decision=(decision, ...),
            fingerprint=(str, Field(min_length=1)),
            reviewer=(str | None, None),
            scope=(Scope | None, None),
            signature=(str | None, None),
        )
        _ENVELOPES[key] = (tool, model)  # holding `tool` keeps its id unique
    return _ENVELOPES[key][1]


def check_decision(
    decision: Any, tool_call: dict[str, Any], tool: BaseTool | None, allowed: Sequence[str] = DEFAULT_DECISIONS
) -> dict[str, Any]:
    """Validate one decision for one tool call; return it as a clean dict.

    Raises `DecisionError` saying what was wrong and what to send, for: no decision,
    a non-dict, an unknown or disallowed type, an edit that renames the tool, and
    edited arguments the tool's schema refuses (wrong type, missing, unknown).
    """
    name = tool_call["name"]
    if tool is None:
        raise DecisionError(f"There is no tool named {name!r}; this call cannot be approved or edited.")
    if decision is None or decision == {}:
        raise DecisionError(f"No decision given for {name}. Send one of {EXAMPLES}.")
    if not isinstance(decision, dict):
        raise DecisionError(
            f"A decision must be a dict, got {type(decision).__name__} {decision!r}. Send one of {EXAMPLES}."
        )
    kind = decision.get("type")
    if kind not in DECISION_TYPES:
        raise DecisionError(f"Unknown decision type {kind!r} for {name}. Allowed here: {', '.join(allowed)}.")
    if kind not in allowed:
        raise DecisionError(f"{kind!r} is not allowed for {name}. Allowed here: {', '.join(allowed)}.")
    if kind == "edit":
        action = decision.get("edited_action")
        edited_name = action.get("name") if isinstance(action, dict) else None
        if edited_name is not None and edited_name != name:
            raise DecisionError(
                f"An edit cannot change the tool: this call is {name}, the edit names {edited_name!r}. "
                f'Keep "name": {name!r} and change only the arguments.'
            )
    try:
        checked = _decision_model(tool, tuple(allowed))[1].validate_python(decision)
    except ValidationError as error:
        problem = describe_validation_error(error, skip=DECISION_TYPES)
        raise DecisionError(f"The {kind} decision for {name} is not valid: {problem}.") from None
    return as_dict(checked)


def as_dict(decision: Any) -> dict[str, Any]:
    """What `interrupt(..., response_schema=decision_schema(...))` returned, as a plain dict."""
    return decision.model_dump(exclude_none=True) if isinstance(decision, BaseModel) else dict(decision)


def rejection_message(tool_call: dict[str, Any], message: str = "") -> ToolMessage:
    """What the model reads in place of a rejected call's result."""
    text = f"{REJECTED_PREFIX}; {tool_call['name']} did not run."
    if message:
        text += f" {REVIEWER_MESSAGE} {message}"
    return ToolMessage(text, tool_call_id=tool_call["id"], name=tool_call["name"], status="error")


def edit_note(tool_call: dict[str, Any], args: dict[str, Any]) -> str:
    """Tells the model that what ran is not what it proposed."""
    return (
        f"{EDIT_NOTE_PREFIX} Executed instead: {tool_call['name']} "
        f"with arguments {json.dumps(args, sort_keys=True)}. {TOOL_RESPONSE_MARKER} "
    )
