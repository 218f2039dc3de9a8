"""Read any interrupt into review requests, and build the answer each kind expects.

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

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Optional, Union

from langchain_core.messages import AIMessage
from langchain_core.tools import BaseTool, StructuredTool
from langgraph.prebuilt import ToolNode
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model

from .protocol import DECISION_TYPES, DEFAULT_DECISIONS, REVIEW_KIND, DecisionError, check_decision, tool_args_schema

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
    schema = _json_schema(getattr(interrupt, "response_schema", None))
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
        allowed=_ordered(value.get("allowed_decisions") or DEFAULT_DECISIONS),
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
                allowed=_ordered(config.get("allowed_decisions") or ()),
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
        allowed=_allowed_in_schema(schema) or DEFAULT_DECISIONS,
        args_schema=_schema_for(tool) or _edit_args_in_schema(schema, name),
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


def _ordered(decisions: Iterable[str]) -> tuple[str, ...]:
    """Known decision types, in one fixed order (approve, edit, reject, respond)."""
    chosen = set(decisions)
    return tuple(kind for kind in DECISION_TYPES if kind in chosen)


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
            return list(message.tool_calls)
    return []


def final_answer(values: Any) -> str | None:
    """The text of the last AI message that called no tool (the agent's answer)."""
    messages = values.get("messages") if isinstance(values, Mapping) else None
    last = messages[-1] if messages else None
    if isinstance(last, AIMessage) and not last.tool_calls:
        return last.text if isinstance(last.text, str) else str(last.content)
    return None


# -- response schemas -------------------------------------------------------------------
def _json_schema(schema: Any) -> dict[str, Any] | None:
    """`Interrupt.response_schema` as JSON Schema: surfaced ones already are, local ones are types."""
    if schema is None or isinstance(schema, dict):
        return schema
    try:
        return TypeAdapter(schema).json_schema()
    except Exception:  # a type pydantic cannot describe: show no form, let the graph validate
        return None


def _resolve(spec: Any, defs: Mapping[str, Any]) -> dict[str, Any]:
    """Follow a local `$ref` into `$defs`."""
    while isinstance(spec, Mapping) and isinstance(spec.get("$ref"), str):
        spec = defs.get(spec["$ref"].rsplit("/", 1)[-1], {})
    return dict(spec) if isinstance(spec, Mapping) else {}


def _branches(schema: Mapping[str, Any]) -> list[dict[str, Any]]:
    defs = schema.get("$defs", {})
    members = schema.get("oneOf") or schema.get("anyOf") or [schema]
    return [_resolve(member, defs) for member in members]


def _allowed_in_schema(schema: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The decision types a decision `response_schema` accepts (its `type` constants)."""
    if not schema:
        return ()
    mapping = (schema.get("discriminator") or {}).get("mapping")
    if mapping:
        return _ordered(mapping)
    kinds = [branch.get("properties", {}).get("type", {}).get("const") for branch in _branches(schema)]
    return _ordered(kind for kind in kinds if kind)


def _edit_args_in_schema(schema: Mapping[str, Any] | None, name: str) -> dict[str, Any] | None:
    """The `edited_action.args` schema inside a decision `response_schema`, if it has one."""
    if not schema:
        return None
    defs = schema.get("$defs", {})
    for branch in _branches(schema):
        props = branch.get("properties", {})
        if props.get("type", {}).get("const") != "edit":
            continue
        action = _resolve(props.get("edited_action"), defs)
        args = _resolve(action.get("properties", {}).get("args"), defs)
        if args.get("properties") is not None:
            return {**args, "$defs": defs} if defs else args
    return None


_JSON_TYPES: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "array": list,
    "object": dict,
    "null": type(None),
}


def _annotation(spec: Mapping[str, Any], defs: Mapping[str, Any]) -> Any:
    """A Python type for one JSON schema (the subset tool schemas use)."""
    spec = _resolve(spec, defs)
    if "enum" in spec:
        return Literal[tuple(spec["enum"])]
    if "const" in spec:
        return Literal[spec["const"]]
    for key in ("anyOf", "oneOf"):
        if spec.get(key):
            return Union[tuple(_annotation(member, defs) for member in spec[key])]  # noqa: UP007
    kind = spec.get("type")
    if isinstance(kind, list):
        return Union[tuple(_JSON_TYPES.get(k, Any) for k in kind)]  # noqa: UP007
    if kind == "array" and spec.get("items"):
        return list[_annotation(spec["items"], defs)]
    if kind == "object" and "properties" in spec:
        return model_from_schema(spec, defs=defs)
    return _JSON_TYPES.get(kind, Any)


def model_from_schema(
    schema: Mapping[str, Any], name: str | None = None, defs: Mapping[str, Any] | None = None
) -> type[BaseModel]:
    """A pydantic model for an object JSON schema: required fields, types, enums, defaults."""
    defs = {**(defs or {}), **schema.get("$defs", {})}
    required = set(schema.get("required", ()))
    fields: dict[str, Any] = {}
    for key, spec in (schema.get("properties") or {}).items():
        annotation = _annotation(spec, defs)
        if key in required:
            fields[key] = (annotation, Field(...))
        else:
            fields[key] = (Optional[annotation], Field(_resolve(spec, defs).get("default")))  # noqa: UP045
    extra = "allow" if schema.get("additionalProperties") not in (None, False) else "forbid"
    config = ConfigDict(extra=extra, protected_namespaces=())
    return create_model(name or str(schema.get("title") or "Answer"), __config__=config, **fields)


# -- finding the graph's tools ----------------------------------------------------------
def tools_in_graph(graph: Any) -> dict[str, BaseTool]:
    """The tools a compiled graph can run, by name.

    Found in `ToolNode`s (which is where `create_agent` puts its own and its middleware's
    tools) and in the variables a node's function closes over (the kit's `review` and
    `execute` nodes hold their tools that way). Subgraphs are searched too.
    """
    found: dict[str, BaseTool] = {}
    nodes = getattr(graph, "nodes", None)
    if not isinstance(nodes, Mapping):
        return found
    for node in nodes.values():
        _collect_tools(getattr(node, "bound", node), found)
        for subgraph in getattr(node, "subgraphs", None) or ():
            for name, tool in tools_in_graph(subgraph).items():
                found.setdefault(name, tool)
    return found


def _collect_tools(runnable: Any, found: dict[str, BaseTool]) -> None:
    if isinstance(runnable, ToolNode):
        for name, tool in runnable.tools_by_name.items():
            found.setdefault(name, tool)
        return
    function = getattr(runnable, "func", None)
    for cell in getattr(function, "__closure__", None) or ():
        try:
            content = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        for tool in _tools_among(content):
            found.setdefault(tool.name, tool)


def _tools_among(content: Any) -> list[BaseTool]:
    if isinstance(content, BaseTool):
        return [content]
    if isinstance(content, ToolNode):
        return list(content.tools_by_name.values())
    if isinstance(content, Mapping):
        return [value for value in content.values() if isinstance(value, BaseTool)]
    if isinstance(content, (list, tuple)):
        return [value for value in content if isinstance(value, BaseTool)]
    return []


def _never_runs(**_: Any) -> str:
    raise RuntimeError("This tool only stands in for checking a decision; it never runs.")


_STAND_INS: dict[str, BaseTool] = {}


def _stand_in(name: str, description: str, schema: Mapping[str, Any] | None) -> BaseTool:
    """A tool with the request's argument schema (or none), used only to check a decision.

    Kept per name and schema: `check_decision` caches its checks per tool object.
    """
    key = json.dumps([name, description, schema], sort_keys=True, default=str)
    if key not in _STAND_INS:
        model = model_from_schema(schema or {"properties": {}}, name=name)
        _STAND_INS[key] = StructuredTool(
            name=name, description=description or name, args_schema=model, func=_never_runs
        )
    return _STAND_INS[key]


# -- checking decisions and building answers --------------------------------------------
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
        tool = _stand_in(action.name, action.description, action.args_schema)
    if tool is None:
        if kind in ("reject", "respond") or (kind == "approve" and not tools):
            tool = _stand_in(action.name, action.description, None)
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
                TypeAdapter(_annotation(schema, schema.get("$defs", {}))).validate_python(message)
        except ValidationError as error:
            problem = error.errors()[0]
            where = ".".join(str(part) for part in problem["loc"])
            raise DecisionError(
                f"The answer does not fit what was asked: {where + ': ' if where else ''}{problem['msg']}."
            ) from None
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


# -- forms ------------------------------------------------------------------------------
FieldKind = Literal["text", "integer", "number", "boolean", "choice", "json"]


@dataclass(frozen=True)
class FormField:
    """One input of a form generated from a JSON schema; the panel picks the widget."""

    name: str
    kind: FieldKind
    value: Any
    required: bool
    options: tuple[Any, ...] = ()
    label: str = ""
    help: str = ""


def _unwrap_optional(spec: dict[str, Any], defs: Mapping[str, Any]) -> dict[str, Any]:
    """`anyOf: [X, null]` (pydantic's Optional) is shown as X."""
    members = spec.get("anyOf")
    if isinstance(members, list):
        solid = [_resolve(member, defs) for member in members if _resolve(member, defs).get("type") != "null"]
        if len(solid) == 1:
            return {**spec, **solid[0]}
    return spec


def form_fields(schema: Mapping[str, Any] | None, values: Mapping[str, Any] | None = None) -> tuple[FormField, ...]:
    """Fields for an object schema, filled from `values`.

    Text for strings, whole and decimal numbers, a checkbox for booleans, a choice for
    enums, and JSON text for anything else. An optional field that has no value starts
    empty, and an empty optional field is left out of the arguments.
    """
    if not schema:
        return ()
    values = values or {}
    defs = schema.get("$defs", {})
    required = set(schema.get("required", ()))
    fields = []
    for name, raw in (schema.get("properties") or {}).items():
        spec = _unwrap_optional(_resolve(raw, defs), defs)
        needed = name in required
        known = name in values
        value = values.get(name, spec.get("default"))
        kind = spec.get("type")
        label = str(spec.get("title") or name)
        common = {"required": needed, "label": label, "help": str(spec.get("description") or "")}
        if "enum" in spec:
            options = tuple(spec["enum"]) if needed else (None, *spec["enum"])
            choice = value if value in options else (None if not needed else options[0])
            fields.append(FormField(name, "choice", choice, options=options, **common))
        elif kind == "string":
            fields.append(FormField(name, "text", "" if value is None else str(value), **common))
        elif kind in ("integer", "number", "boolean") and (needed or known):
            default = {"integer": 0, "number": 0.0, "boolean": False}[kind]
            fields.append(FormField(name, kind, default if value is None else value, **common))
        else:
            fields.append(FormField(name, "json", "" if value is None else json.dumps(value), **common))
    return tuple(fields)


def parse_json(text: str, what: str = "JSON") -> Any:
    """`json.loads` with a message a reviewer can act on."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise DecisionError(
            f"Malformed {what}: {error.msg} at line {error.lineno}, column {error.colno}. Nothing was sent."
        ) from None


def collect_args(fields: Sequence[FormField], entered: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments a filled-in form stands for (raises `DecisionError` on malformed JSON)."""
    args: dict[str, Any] = {}
    for field in fields:
        value = entered.get(field.name, field.value)
        if field.kind == "json":
            if not str(value).strip():
                continue  # left empty: not sent (the schema check reports it if it is required)
            value = parse_json(str(value), f"JSON in {field.name!r}")
        elif field.kind == "choice" and value is None or field.kind == "text" and value == "" and not field.required:
            continue
        args[field.name] = value
    return args
