"""`OfflineChatModel`: a rule-based stand-in for an LLM, so the kit runs with no key.

It is NOT a language model. It reads the last human message (and the tool results since)
with a few regular expressions and word lists, and answers in one of these ways:

- The kit's inventory scenario: look up stock ("Check widget-x in SF-01"), order when a
  stated condition holds ("If stock is below 10 units, order 100 from 'Acme Supply'"),
  notify when asked ("notify the team on slack"), then answer from the tool results. After
  a rejection it re-plans from the reviewer's message or explains why it stopped; after an
  edit it reports what actually ran. A vendor may be quoted or written as a name
  ("from Globex"); when none is given it asks for one rather than choosing it.
- A bound tool written as code: `magic_function(3)`, `add(2, b=40)`, `add(a=1, b="x")`.
- A bound tool named in plain words: "call add with a=2 and b=40", "call add with 2 and
  40", "use get_weather for Paris", "use add with a 2 and b 40".
- A request that matches ONE bound tool's name or description words and holds the values
  it needs: "What is the weather in Paris?" -> `get_weather(location="Paris")`. Values are
  read as `name=value`, `name 'value'`, "named 'X'", a place after in/at/for, the kit's item,
  warehouse, channel, quantity and vendor patterns, or an enum value. When several tools
  match equally it asks which one, naming them; when a value is missing it asks for it.
- `tool_choice` as LangChain's providers honour it: a tool name (or OpenAI's
  `{"type": "function", "function": {"name": ...}}`), "any", "required" or True force a
  call to an allowed tool; "auto" (or None) lets the request decide; "none" never calls.
  A forced call takes its values from the conversation where it can, else from the
  schema's defaults, else from a clearly marked placeholder (`<placeholder: ...>`, the
  lowest valid number, False, []), and its message text says which values those are.
- Structured output (`with_structured_output`) for Pydantic models, TypedDicts and JSON
  schemas, through a forced tool call (the default), `method="json_schema"` (a JSON answer
  in the message text) or `method="json_mode"` (the keys the request quotes), filled the
  same way; `include_raw=True` works.

It does not understand anything else: no general questions (it echoes them), no
arithmetic, no synonyms beyond word stems, no memory of earlier human messages (only the
last one counts). It never invents a value the user did not give: a forced call's
placeholders are marked, and a scenario order without a vendor is not proposed.

Same conversation in, same message out: ids are hashes of the conversation, so saved
notebook outputs compare exactly.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import RunnableMap, RunnablePassthrough
from langchain_core.utils.function_calling import convert_to_openai_function, convert_to_openai_tool
from langchain_core.utils.pydantic import is_basemodel_subclass

from .errors import REVIEWER_MESSAGE, STOCK_PHRASE, TOOL_RESPONSE_MARKER

SCENARIO_TOOLS = frozenset({"lookup_inventory", "create_purchase_order", "send_notification"})
_QUOTED = re.compile(r"""(?<!\w)['"‘“]([^'"’”]+)['"’”](?!\w)""")  # not an apostrophe inside a word
_WAREHOUSE = re.compile(r"\b[A-Z]{2,3}-\d{2}\b")
_ITEM = re.compile(r"\b[a-z]+-[a-z0-9]+\b")
_THRESHOLD = re.compile(r"\b(?:below|under|less than|fewer than)\s+(\d+)")
_ORDER_QTY = re.compile(r"\b(?:order|PO for|purchase order for|buy|reorder)\s+(\d+)", re.I)
_VENDOR = re.compile(r"""\b(?:from|vendor|use|try)\s+(?:vendor\s+)?(?:is\s+|=\s*|:\s*)?['"‘“]([^'"’”]+)['"’”]""", re.I)
_NAME = r"[A-Z][\w&'’-]*"  # a capitalised word: Globex, Acme, O'Brien
_VENDOR_BARE = re.compile(rf"\b(?:from|vendor)\s+(?:vendor\s+)?({_NAME}(?:[ ]{_NAME})*)")
_PLACE = re.compile(rf"\b(?:in|at|for|near)\s+({_NAME}(?:[ ]{_NAME})*(?:,\s*[A-Z]{{2,}}\b)?)")
_NOTIFY = re.compile(r"\b(?:notify|notification|let .{1,40} know|tell|alert|message)\b", re.I)
_STOCK = re.compile(rf":\s*(-?\d+) {re.escape(STOCK_PHRASE)}")
_EDITED = re.compile(r"\bedit(?:ed)?\b", re.I)  # a word: 'Meredith' or 'credit' is no edit
_ARG = re.compile(r"""(\w+)\s*[=:]\s*("[^"]*"|'[^']*'|[^\s,)]+)""")
_VALUE = r"""(?:"[^"]*"|'[^']*'|‘[^’]*’|“[^”]*”|-?\d+(?:\.\d+)?\b)"""  # quoted, or a number
_PLAIN_CALL = r"\b(?:call|use|run|invoke|try)\s+(?:the\s+)?(?:tool\s+)?{name}\s+(?:with|for|on|using|about)\s+(.+)"
PLACEHOLDER = "<placeholder: {} not given>"
"""A forced call's string for a required value the conversation does not hold."""
_FORCE_ANY = ("any", "required")
_STOPWORDS = frozenset(
    re.findall(
        r"\w+",
        """a an the of to in on at for from by with and or not is are was be been what which who how when where
    why this that these those it its me my your you we our us please can could would should will do does
    did tell give show get set make use using call run tool tools value values some any all there here about
    like as into out up now then than if else just also only one two""",
    )
)
_PLACE_WORDS = frozenset({"location", "city", "place", "address", "destination", "country", "region", "town"})


@dataclass
class _Step:
    """One tool call proposed earlier in the conversation and what came back."""

    name: str
    args: dict[str, Any]
    result: str | None = None
    rejected: bool = False


@dataclass
class _Request:
    """What the user asked for, read from their last message."""

    text: str
    items: list[str] = field(default_factory=list)
    warehouse: str | None = None
    threshold: int | None = None
    order_qty: int | None = None
    vendor: str | None = None
    notify: bool = False
    channel: str = "slack"

    @classmethod
    def read(cls, text: str) -> _Request:
        quoted = _QUOTED.findall(text)
        items = [q for q in quoted if _ITEM.fullmatch(q)] or _ITEM.findall(text)
        qty = _ORDER_QTY.search(text) or re.search(r"\b(\d+) units from\b", text)
        threshold = _THRESHOLD.search(text)
        warehouse = _WAREHOUSE.search(text)
        channel = re.search(r"\b(email|slack|sms)\b", text, re.I)
        return cls(
            text=text,
            items=list(dict.fromkeys(items)),
            warehouse=warehouse.group(0) if warehouse else None,
            threshold=int(threshold.group(1)) if threshold else None,
            order_qty=int(qty.group(1)) if qty else None,
            vendor=_vendor(text),
            notify=bool(_NOTIFY.search(text)),
            channel=channel.group(1).lower() if channel else "slack",
        )


def _vendor(text: str) -> str | None:
    """A quoted vendor ("from 'Acme Supply'"), else a capitalised name ("from Globex")."""
    quoted = _VENDOR.search(text)
    if quoted:
        return quoted.group(1)
    for bare in _VENDOR_BARE.finditer(text):
        if not _WAREHOUSE.fullmatch(bare.group(1)):
            return bare.group(1)
    return None


def _text(message: BaseMessage) -> str:
    return message.text if isinstance(message.text, str) else str(message.content)


def _is_rejection(message: ToolMessage) -> bool:
    return message.status == "error" and "reject" in _text(message).lower()


def _reviewer_message(result: str) -> str:
    """The reviewer's own words from a rejection notice, when it carries any."""
    for marker in ("with reason:", REVIEWER_MESSAGE, "reviewer said:"):  # the kit's, and others' wordings
        if marker in result:
            return result.split(marker, 1)[1].strip()
    return ""


def _steps(transcript: Sequence[BaseMessage]) -> list[_Step]:
    results = {m.tool_call_id: m for m in transcript if isinstance(m, ToolMessage)}
    steps = []
    for message in transcript:
        for call in getattr(message, "tool_calls", None) or []:
            answer = results.get(call["id"])
            steps.append(
                _Step(
                    call["name"],
                    dict(call["args"]),
                    _text(answer) if answer else None,
                    bool(answer and _is_rejection(answer)),
                )
            )
    return steps


# -- reading a tool's arguments from the request -----------------------------------------------
def _kind(prop: dict) -> str | None:
    """The JSON type of a property; for `X | None` the type of X."""
    if isinstance(prop.get("type"), str):
        return prop["type"]
    if isinstance(prop.get("type"), list):
        return next((t for t in prop["type"] if t != "null"), None)
    for option in prop.get("anyOf", []):
        if option.get("type") not in (None, "null"):
            return option["type"]
    return "string" if "enum" in prop else None


def _coerce(value: str, kind: str | None) -> Any:
    value = value.strip().strip("'\"‘’“”")
    if kind in ("integer", "number", "boolean"):
        value = value.rstrip(".,;!?")  # "minimum=10." ends a sentence, not a number
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
        if kind == "boolean":
            return value.lower() in {"true", "yes", "1"}
    except ValueError:
        return value
    return value


def _fit(value: Any, prop: dict) -> Any:
    """A value read as code (a literal or its source text) in the type the schema asks for."""
    kind = _kind(prop)
    if isinstance(value, str):
        return _coerce(value, kind) if kind in ("integer", "number", "boolean") else value
    if kind == "number" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind == "string" and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _closing_paren(text: str, start: int) -> int | None:
    """The index of the `)` that closes the `(` before `start`, skipping quoted text."""
    depth, quote = 1, None
    for i in range(start, len(text)):
        char = text[i]
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i
    return None


def _code_args(text: str, name: str, props: dict) -> dict | None:
    """`name(3)`, `name(a=1, b='x')`, `name(2, b=40)`, `name()`: arguments by position or keyword."""
    where = re.search(rf"\b{re.escape(name)}\s*\(", text)
    end = _closing_paren(text, where.end()) if where else None
    if where is None or end is None:
        return None
    source = f"f({text[where.end() : end]})"
    try:
        call = ast.parse(source, mode="eval").body
    except SyntaxError:
        return None
    assert isinstance(call, ast.Call)

    def value(node: ast.expr) -> Any:
        try:
            return ast.literal_eval(node)
        except ValueError:  # widget-x, SF-01, Paris: take the text as written
            return ast.get_source_segment(source, node)

    order = list(props)
    given = {order[i]: value(node) for i, node in enumerate(call.args[: len(order)])}
    given |= {k.arg: value(k.value) for k in call.keywords if k.arg in props}
    return {k: _fit(v, props[k]) for k, v in given.items()}


def _plain_args(text: str, name: str, props: dict) -> dict | None:
    """'call add with 2 and 40', 'use add with a 2 and b 40', 'use get_weather for Paris'."""
    found = re.search(_PLAIN_CALL.format(name=re.escape(name)), text, re.I)
    if not found:
        return None
    rest = re.split(r"[?!]|\.(?:\s|$)", found.group(1))[0]
    pieces = [p.strip() for p in re.split(r",\s*|\s+and\s+", rest) if p.strip()]
    order, args = list(props), {}
    for piece in pieces:
        keyed = re.fullmatch(r"(\w+)\s*(?:=|:|\s)\s*(.+)", piece)
        if keyed and keyed.group(1) in props:
            args[keyed.group(1)] = keyed.group(2)
            continue
        free = next((k for k in order if k not in args), None)
        if free is None:
            break
        args[free] = piece
    return {k: _coerce(v, _kind(props[k])) for k, v in args.items()}


def _keys(prop_name: str) -> list[str]:
    """Words a request may use for a property: its name, spaced, its last word, 'named'."""
    words = prop_name.split("_")
    keys = [prop_name, " ".join(words)]
    if len(words) > 1 and len(words[-1]) > 3:
        keys.append(words[-1])
    if words[-1] == "name":
        keys += ["named", "called"]
    return list(dict.fromkeys(keys))


def _typed_value(text: str, prop_name: str, prop: dict) -> Any:
    """The kit's own value patterns, by the property's name; a place; an enum value."""
    lowered = prop_name.lower()
    quoted_items = [q for q in _QUOTED.findall(text) if _ITEM.fullmatch(q)]
    if lowered in ("item", "sku", "product") and (quoted_items or _ITEM.search(text)):
        return quoted_items[0] if quoted_items else _ITEM.search(text).group(0)  # type: ignore[union-attr]
    if "warehouse" in lowered and (warehouse := _WAREHOUSE.search(text)):
        return warehouse.group(0)
    if lowered == "channel" and (channel := re.search(r"\b(email|slack|sms)\b", text, re.I)):
        return channel.group(1).lower()
    if lowered in ("vendor", "supplier") and _vendor(text):
        return _vendor(text)
    if lowered in ("qty", "quantity", "units") and (qty := _ORDER_QTY.search(text) or re.search(r"(\d+) units", text)):
        return int(qty.group(1))
    if set(lowered.split("_")) & _PLACE_WORDS and (place := _PLACE.search(text)):
        return place.group(1)
    for option in prop.get("enum", []):
        if isinstance(option, str) and re.search(rf"\b{re.escape(option)}\b", text, re.I):
            return option
    return None


def _prose_values(text: str, props: dict) -> dict:
    """What the request says for each property, in words rather than code."""
    found: dict[str, Any] = {}
    for key, raw in _ARG.findall(text):
        if key in props:
            found[key] = _coerce(raw, _kind(props[key]))
    for name, prop in props.items():
        if name in found:
            continue
        for key in (k for k in _keys(name) if len(k) > 2):  # 'a 5' is an article, not a=5
            keyed = re.search(rf"\b{re.escape(key)}s?\s*(?:=|:|\bis\b|\bof\b|\bas\b)?\s*({_VALUE})", text, re.I)
            if keyed:
                found[name] = _coerce(keyed.group(1), _kind(prop))
                break
        else:
            typed = _typed_value(text, name, prop)
            if typed is not None:
                found[name] = typed
    return found


def _args_for(text: str, name: str, spec: dict) -> dict:
    """Every value the request gives for tool `name`, as code, plain words or prose."""
    props = spec.get("properties", {})
    values = _prose_values(text, props)
    for explicit in (_plain_args(text, name, props), _code_args(text, name, props)):
        values |= explicit or {}
    return values


def _missing(spec: dict, args: dict) -> list[str]:
    return [r for r in spec.get("required", []) if r not in args]


# -- which tool a request means ------------------------------------------------------------------
def _stems(text: str) -> set[str]:
    """Content words cut to five letters, so 'notify' meets 'notification' and 'creating' 'create'."""
    words = re.findall(r"[a-z]+", re.sub(r"([a-z])([A-Z])", r"\1 \2", text).lower().replace("_", " "))
    return {w[:5] for w in words if len(w) > 2 and w not in _STOPWORDS}


def _score(text: str, name: str, description: str) -> int:
    """Two points per word of the tool's name in the request, one per other description word."""
    asked, named = _stems(text), _stems(name)
    return 2 * len(asked & named) + len(asked & (_stems(description) - named))


@dataclass
class _Match:
    """A bound tool the request asks for, with the values it gives and the ones it lacks."""

    name: str
    args: dict
    missing: list[str]


def _named_match(text: str, tools: dict[str, dict]) -> _Match | None:
    """The first bound tool the request names whose values are all there, else the first named."""
    first = None
    for name, spec in tools.items():
        if not re.search(rf"\b{re.escape(name)}\b", text):
            continue
        args = _args_for(text, name, spec)
        match = _Match(name, args, _missing(spec, args))
        if not match.missing:
            return match
        first = first or match
    return first


def _matched_tools(text: str, tools: dict[str, dict], descriptions: dict[str, str]) -> list[str]:
    """Bound tools whose name or description words the request uses, best first; ties kept."""
    scores = {n: _score(text, n, descriptions.get(n, "")) for n in tools}
    best = max(scores.values(), default=0)
    return [n for n, s in scores.items() if s == best] if best >= 2 else []


def _tool_question(text: str, tools: dict[str, dict], descriptions: dict[str, str]) -> str | None:
    """When a request points at tools but not at one complete call: which tool, or which values."""
    named = _named_match(text, tools)
    if named is None:
        candidates = _matched_tools(text, tools, descriptions)
        if len(candidates) > 1:
            listed = ", ".join(f"`{c}`" for c in candidates)
            return (
                f"Which tool do you mean: {listed}? Your request matches each of them equally. "
                "Name the one to call, e.g. `call <tool> with name=value`."
            )
        if not candidates:
            return None
        args = _args_for(text, candidates[0], tools[candidates[0]])
        named = _Match(candidates[0], args, _missing(tools[candidates[0]], args))
    if not named.missing:
        return None
    have = ", ".join(f"{k}={v!r}" for k, v in named.args.items())
    return (
        f"To call `{named.name}` I need {', '.join(named.missing)}, which your message does not give "
        f"(I will not make a value up). From your message: {have or 'nothing yet'}. "
        f"Say it as `{named.name}(name=value)` or `call {named.name} with name=value`."
    )


# -- tool_choice -----------------------------------------------------------------------------------
def _tool_choice(choice: Any, names: Sequence[str]) -> tuple[str, list[str]]:
    """('auto' | 'none' | 'forced', the tools allowed), the way LangChain's providers read it."""
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name") or choice.get("name")
        choice = name if name else choice.get("type")
    if choice is None or choice is False or choice == "auto":
        return "auto", list(names)
    if choice == "none":
        return "none", []
    if choice is True or choice in _FORCE_ANY:
        return "forced", list(names)
    if isinstance(choice, str) and choice in names:
        return "forced", [choice]
    raise ValueError(
        f"tool_choice={choice!r} is neither a bound tool ({', '.join(names) or 'none bound'}) "
        "nor one of 'auto', 'none', 'any', 'required', True."
    )


def _placeholder(prop: dict, name: str, defs: dict) -> Any:
    """A valid value for a property nobody gave: visibly a placeholder when it is text."""
    if "$ref" in prop:
        prop = defs.get(prop["$ref"].rsplit("/", 1)[-1], {})
    if "const" in prop:
        return prop["const"]
    if prop.get("enum"):
        return prop["enum"][0]
    options = prop.get("anyOf") or prop.get("oneOf")
    if options:
        if any(o.get("type") == "null" for o in options):
            return None
        return _placeholder(options[0], name, defs)
    kind = _kind(prop)
    if kind in ("integer", "number"):
        low = prop.get("minimum", prop.get("exclusiveMinimum", None))
        high = prop.get("maximum", prop.get("exclusiveMaximum", None))
        value = 0
        if low is not None and value <= low:
            value = low + (1 if "exclusiveMinimum" in prop else 0)
        if high is not None and value >= high:
            value = high - (1 if "exclusiveMaximum" in prop else 0)
        return float(value) if kind == "number" else int(value)
    if kind == "boolean":
        return False
    if kind == "array":
        return [_placeholder(prop.get("items", {}), name, defs)] * prop.get("minItems", 0)
    if kind == "object":
        fields = prop.get("properties", {})
        return {k: _placeholder(fields[k], k, defs) for k in prop.get("required", []) if k in fields}
    if kind == "null":
        return None
    return PLACEHOLDER.format(name)


def _filled(text: str, name: str, spec: dict) -> tuple[dict, str]:
    """A forced call's arguments: the conversation's values, else defaults, else placeholders."""
    props, defs = spec.get("properties", {}), spec.get("$defs", spec.get("definitions", {}))
    given = _args_for(text, name, spec)
    args, defaults, placeholders = {}, [], []
    for key, prop in props.items():
        if key in given:
            args[key] = given[key]
        elif "default" in prop:
            args[key] = prop["default"]
            defaults.append(f"{key}={prop['default']!r}")
        elif key in spec.get("required", []):
            args[key] = _placeholder(prop, key, defs)
            placeholders.append(f"{key}={args[key]!r}")
    if not (defaults or placeholders):
        return args, ""
    parts = [f"the schema's default for {', '.join(defaults)}"] if defaults else []
    if placeholders:
        parts.append(f"a placeholder for {', '.join(placeholders)}")
    return args, (
        f"(offline model) I was required to call `{name}`. Your message does not give every value, "
        f"so I used {' and '.join(parts)}. Check or edit them before this runs."
    )


def _forced_tool(text: str, steps: list[_Step], tools: dict[str, dict], descriptions: dict[str, str]) -> str:
    """The allowed tool a forced call goes to: named, else best matched, else the first; fresh first."""
    called = {s.name for s in steps}
    fresh = {n: s for n, s in tools.items() if n not in called} or tools
    named = _named_match(text, fresh)
    if named:
        return named.name
    matched = _matched_tools(text, fresh, descriptions)
    return matched[0] if matched else next(iter(fresh))


# -- structured output -----------------------------------------------------------------------------
def _response_schema(response_format: Any) -> tuple[str, dict] | None:
    """('json_schema', schema) or ('json_object', {}) from an OpenAI-style `response_format`."""
    if isinstance(response_format, type) and is_basemodel_subclass(response_format):
        function = convert_to_openai_function(response_format)
        return "json_schema", {"name": function["name"], **function["parameters"]}
    if not isinstance(response_format, dict):
        return None
    if response_format.get("type") == "json_schema":
        inner = response_format.get("json_schema", {})
        return "json_schema", {"name": inner.get("name", "response"), **inner.get("schema", {})}
    if response_format.get("type") == "json_object":
        return "json_object", {}
    return None


def _json_answer(text: str, response_format: Any) -> str | None:
    """The message text for `json_schema` / `json_mode` output: the schema filled as a forced call is."""
    found = _response_schema(response_format)
    if found is None:
        return None
    kind, schema = found
    if kind == "json_object":  # no schema is sent in JSON mode: the keys are those the request quotes
        keys = [q for q in _QUOTED.findall(text) if re.fullmatch(r"\w+", q)]
        schema = {"properties": {k: {"type": "string"} for k in keys}, "required": keys}
    args, _ = _filled(text, schema.get("name", "response"), schema)
    return json.dumps(args, ensure_ascii=False)


class OfflineChatModel(BaseChatModel):
    """A rule-based stand-in for an LLM (not a language model): deterministic, offline.

    Understands, and nothing else (see the module docstring for the details):

    - the kit's inventory scenario ("Check widget-x in SF-01. If stock is below 10 units,
      order 100 from 'Acme Supply' and notify the team on slack"), reacting to rejections
      and edits; it asks for a vendor rather than choosing one;
    - a bound tool written as code (`add(2, b=40)`), named in plain words ("call add with
      a=2 and b=40", "use get_weather for Paris"), or matched by its name or description
      words with the values present ("What is the weather in Paris?"); an ambiguous or
      incomplete request gets a question back;
    - `tool_choice` (a tool name, "any", "required", True, "auto", "none") and
      `with_structured_output` (tool calling, "json_schema", "json_mode"); a forced call
      fills what the conversation lacks with schema defaults or marked placeholders.

    Use it to learn and test the human-in-the-loop flow with no API key and no network;
    set `OPENAI_API_KEY` to use a real model instead.
    """

    model: str = "hitl-offline-1"
    temperature: float | None = None
    max_tokens: int | None = None
    timeout: float | None = None
    stop: list[str] | None = None
    max_retries: int | None = None
    api_key: str | None = None
    streaming: bool = False

    @property
    def _llm_type(self) -> str:
        return "hitl-offline"

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: str | dict | bool | None = None, **kwargs: Any):
        """Bind tools as OpenAI-format schemas, as a hosted model would receive them.

        `tool_choice` is checked here, so a misspelt tool name fails when bound, not later.
        """
        formatted = [convert_to_openai_tool(t) for t in tools]
        if tool_choice is not None:
            _tool_choice(tool_choice, [t["function"]["name"] for t in formatted])
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=formatted, **kwargs)

    def with_structured_output(
        self,
        schema,
        *,
        include_raw: bool = False,
        method: str = "function_calling",
        strict: bool | None = None,
        **kwargs: Any,
    ):
        """Structured output as OpenAI's models offer it: a forced tool call (the default), or
        `method="json_schema"` / `"json_mode"`, where the answer is JSON text parsed to the schema."""
        if method == "function_calling":
            return super().with_structured_output(schema, include_raw=include_raw, **kwargs)
        if method not in ("json_schema", "json_mode"):
            raise ValueError(f"Unknown method {method!r}: use 'function_calling', 'json_schema' or 'json_mode'.")
        if kwargs:
            raise ValueError(f"Received unsupported arguments {kwargs}")
        if method == "json_schema":
            function = convert_to_openai_function(schema)
            json_schema = {"name": function["name"], "schema": function["parameters"]}
            response_format = {
                "type": "json_schema",
                "json_schema": json_schema | ({} if strict is None else {"strict": strict}),
            }
        else:
            response_format = {"type": "json_object"}
        llm = self.bind(
            response_format=response_format,
            ls_structured_output_format={"kwargs": {"method": method, "strict": strict}, "schema": schema},
        )
        is_model = isinstance(schema, type) and is_basemodel_subclass(schema)
        parser = PydanticOutputParser(pydantic_object=schema) if is_model else JsonOutputParser()
        if not include_raw:
            return llm | parser
        parse = RunnablePassthrough.assign(parsed=itemgetter("raw") | parser, parsing_error=lambda _: None)
        unparsed = RunnablePassthrough.assign(parsed=lambda _: None)
        return RunnableMap(raw=llm) | parse.with_fallbacks([unparsed], exception_key="parsing_error")

    # -- generation -----------------------------------------------------------------
    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager=None, **kwargs: Any
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._reply(messages, **kwargs))])

    def _stream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager=None, **kwargs: Any
    ) -> Iterator[ChatGenerationChunk]:
        """Word-sized token chunks, then the tool calls, so streaming lessons work offline.

        A JSON answer (structured output) comes as one chunk, so every chunk parses."""
        reply = self._reply(messages, **kwargs)
        json_text = kwargs.get("response_format") is not None and not reply.tool_calls
        content = _text(reply)
        tokens = [content] if json_text else re.findall(r"\S+\s*", content)
        for token in tokens:
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=token, id=reply.id))
            if run_manager:
                run_manager.on_llm_new_token(token, chunk=chunk)
            yield chunk
        yield ChatGenerationChunk(
            message=AIMessageChunk(
                content="",
                id=reply.id,
                tool_call_chunks=[
                    {"name": c["name"], "args": json.dumps(c["args"], ensure_ascii=False), "id": c["id"], "index": i}
                    for i, c in enumerate(reply.tool_calls)
                ],
                chunk_position="last",
            )
        )

    def _reply(
        self,
        messages: list[BaseMessage],
        tools: Sequence[dict] = (),
        tool_choice: Any = None,
        response_format: Any = None,
        **_: Any,
    ) -> AIMessage:
        by_name = {t["function"]["name"]: t["function"].get("parameters", {}) for t in tools}
        descriptions = {t["function"]["name"]: t["function"].get("description", "") for t in tools}
        mode, allowed = _tool_choice(tool_choice, list(by_name))
        start = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
        request = _text(messages[start]) if start >= 0 else ""
        steps = _steps(messages[start + 1 :])
        calls = [] if mode == "none" else _plan(request, steps, by_name, descriptions)
        note = ""
        if mode == "forced" and allowed:
            calls = [c for c in calls if c[0] in allowed]
            if not calls:
                name = _forced_tool(request, steps, {n: by_name[n] for n in allowed}, descriptions)
                args, note = _filled(request, name, by_name[name])
                calls = [(name, args)]
        digest = hashlib.sha256(
            json.dumps([[m.type, _text(m), getattr(m, "tool_call_id", "")] for m in messages]).encode()
        ).hexdigest()
        if calls:
            tool_calls = [
                {"name": name, "args": args, "id": f"call_{digest[:12]}_{i}", "type": "tool_call"}
                for i, (name, args) in enumerate(calls)
            ]
            return AIMessage(content=note, tool_calls=tool_calls, id=f"offline-{digest[:16]}")
        answer = _json_answer(request, response_format) or _answer(request, steps, by_name, descriptions)
        return AIMessage(content=answer, id=f"offline-{digest[:16]}")


# -- planning: pure functions of the conversation --------------------------------------
def _done(steps: list[_Step], name: str, **match: Any) -> list[_Step]:
    return [s for s in steps if s.name == name and all(s.args.get(k) == v for k, v in match.items())]


def _complete_call(text: str, tools: dict[str, dict]) -> tuple[str, dict] | None:
    match = _named_match(text, tools)
    return (match.name, match.args) if match and not match.missing else None


def _plan(
    text: str, steps: list[_Step], tools: dict[str, dict], descriptions: dict[str, str] | None = None
) -> list[tuple[str, dict]]:
    """The next tool calls, or [] when it is time to answer (or to ask)."""
    if any(s.result is None for s in steps):
        return []  # a call is still unanswered; never propose past it
    scenario = SCENARIO_TOOLS & tools.keys()
    named = _complete_call(text, {n: spec for n, spec in tools.items() if n not in SCENARIO_TOOLS})
    if named:  # a learner's own tool, named in the request, comes first
        return [] if _done(steps, named[0]) else [named]
    request = _Request.read(text)
    if scenario and request.items:
        return _plan_scenario(request, steps, scenario)
    named = _complete_call(text, tools)
    if named:
        return [] if _done(steps, named[0]) else [named]
    if _named_match(text, tools):
        return []  # a tool named with values missing: ask for them, do not guess another tool
    matched = _matched_tools(text, tools, descriptions or {})
    if len(matched) == 1 and not _done(steps, matched[0]):
        args = _args_for(text, matched[0], tools[matched[0]])
        if not _missing(tools[matched[0]], args):
            return [(matched[0], args)]
    return []


def _plan_scenario(request: _Request, steps: list[_Step], tools: AbstractSet[str]) -> list[tuple[str, dict]]:
    if _needs_warehouse(request, tools):
        return []  # a condition on stock, but no warehouse to look in: ask, do not pick one
    warehouse = request.warehouse
    if "lookup_inventory" in tools and (request.warehouse or request.threshold is not None):
        lookups = [
            ("lookup_inventory", {"item": item, "warehouse": warehouse})
            for item in request.items
            if not _done(steps, "lookup_inventory", item=item)
        ]
        if lookups:
            return lookups
    orders = _plan_orders(request, steps) if "create_purchase_order" in tools else []
    if orders is None:
        return []  # the reviewer stopped the order, or no vendor was given; explain or ask
    if orders:
        return orders
    if "send_notification" in tools:
        return _plan_notification(request, steps)
    return []


def _stock(steps: list[_Step], item: str) -> int | None:
    for step in _done(steps, "lookup_inventory", item=item):
        found = _STOCK.search(step.result or "")
        if found:
            return int(found.group(1))
    return None


def _needs_order(request: _Request, steps: list[_Step], item: str) -> bool:
    if request.order_qty is None:
        return False
    if request.threshold is None:
        return True
    stock = _stock(steps, item)
    return stock is not None and stock < request.threshold


def _needs_warehouse(request: _Request, tools: AbstractSet[str] | dict) -> bool:
    """A stock condition to check ('below 10 units') with no warehouse named to check it in."""
    return "lookup_inventory" in tools and request.threshold is not None and request.warehouse is None


def _unvendored(request: _Request, steps: list[_Step]) -> list[str]:
    """Items to order that have no vendor: the user named none, and none is made up."""
    if request.vendor:
        return []
    return [
        i
        for i in request.items
        if _needs_order(request, steps, i) and not _done(steps, "create_purchase_order", item=i)
    ]


def _plan_orders(request: _Request, steps: list[_Step]) -> list[tuple[str, dict]] | None:
    """Orders still to propose; None when a rejection without a way forward, or no vendor, ends them."""
    if _unvendored(request, steps):
        return None
    calls = []
    for item in request.items:
        if not _needs_order(request, steps, item):
            continue
        tried = _done(steps, "create_purchase_order", item=item)
        if not tried:
            calls.append(("create_purchase_order", {"item": item, "qty": request.order_qty, "vendor": request.vendor}))
            continue
        last = tried[-1]
        if not last.rejected:
            continue
        feedback = _reviewer_message(last.result or "")
        other = _VENDOR.search(feedback) or _QUOTED.search(feedback)
        if other and not _done(steps, "create_purchase_order", item=item, vendor=other.group(1)):
            calls.append(("create_purchase_order", {**last.args, "vendor": other.group(1)}))
        elif not _NOTIFY.search(feedback):
            return None
    return calls


def _plan_notification(request: _Request, steps: list[_Step]) -> list[tuple[str, dict]]:
    rejected_orders = [s for s in steps if s.name == "create_purchase_order" and s.rejected]
    rerouted = any(_NOTIFY.search(_reviewer_message(s.result or "")) for s in rejected_orders)
    if not (request.notify or rerouted):
        return []
    sent = _done(steps, "send_notification")
    if sent and not sent[-1].rejected:
        return []
    if sent:
        feedback = _reviewer_message(sent[-1].result or "")
        channel = re.search(r"\b(email|slack|sms)\b", feedback, re.I)
        if not channel or _done(steps, "send_notification", channel=channel.group(1).lower()):
            return []
        return [("send_notification", {**sent[-1].args, "channel": channel.group(1).lower()})]
    return [("send_notification", {"channel": request.channel, "message": _status_line(request, steps)})]


def _status_line(request: _Request, steps: list[_Step]) -> str:
    """The notification text: stock levels and orders placed, or that a human is needed."""
    parts = []
    for item in request.items:
        stock = _stock(steps, item)
        if stock is not None:
            parts.append(f"{item} is at {stock} units in {request.warehouse or 'SF-01'}.")
        placed = [s for s in _done(steps, "create_purchase_order", item=item) if not s.rejected]
        if placed:  # the tool's own words, without a reviewer's edit note in front
            parts.append((placed[-1].result or "").split(TOOL_RESPONSE_MARKER)[-1].strip())
        elif _done(steps, "create_purchase_order", item=item):
            parts.append(f"The order for {item} was not approved; please review stock by hand.")
    return " ".join(parts) or f"Update on {', '.join(request.items)}."


def _vendor_question(request: _Request, steps: list[_Step]) -> str:
    """Asks for the vendor, saying which values came from the request and which one is missing."""
    items = _unvendored(request, steps)
    return (
        f"I have not ordered {' or '.join(items)}: from your message I have the item ({', '.join(items)}) and the "
        f"quantity ({request.order_qty}), but no vendor, and I will not choose one for you. Which vendor should I "
        f"order from? I read only your last message, so send the whole request with the vendor, e.g. "
        f"\"Order {request.order_qty} {items[0]} from '<vendor>'\"."
    )


def _default_channel_notes(text: str, steps: list[_Step]) -> list[str]:
    """Says so when a notification's channel is the kit's default, named by neither user nor reviewer."""
    words = " ".join([text, *(_reviewer_message(s.result or "") for s in steps if s.rejected)])
    return [
        f"The notification went by {s.args.get('channel')}, the kit's default channel: neither your message "
        "nor the reviewer named one."
        for s in steps
        if s.name == "send_notification"
        and s.args.get("channel") == "slack"
        and not s.rejected
        and re.search(r"\bvia slack\b", s.result or "")
        and not re.search(r"\bslack\b", words, re.I)
    ][:1]


def _answer(text: str, steps: list[_Step], tools: dict[str, dict], descriptions: dict[str, str] | None = None) -> str:
    """The final answer: what ran, what the reviewer stopped, and why it stopped; or a question."""
    request = _Request.read(text)
    scenario = bool(SCENARIO_TOOLS & tools.keys() and request.items)
    asks_vendor = scenario and "create_purchase_order" in tools and bool(_unvendored(request, steps))
    if not steps:
        if scenario and _needs_warehouse(request, tools):
            return (
                f"Which warehouse should I check {' and '.join(request.items)} in? From your message I have the "
                f"item and the condition (below {request.threshold} units), but no warehouse, and I will not "
                'choose one for you. Send the whole request again with it, e.g. "Check widget-x in SF-01. ...".'
            )
        if asks_vendor:
            return _vendor_question(request, steps)
        if tools:
            return _tool_question(text, tools, descriptions or {}) or (
                "I could not match your request to a tool call. Name an item and a warehouse "
                "(e.g. 'widget-x' in SF-01), or name a tool with its arguments."
            )
        return f"(offline model) You said: {text}" if text else "(offline model) Hello."
    lines = []
    for step in steps:
        if step.result is None:
            lines.append(f"- {step.name} has no result: no tool message answered it, so I cannot say it ran.")
        elif step.rejected:
            feedback = _reviewer_message(step.result or "")
            reason = f" The reviewer said: {feedback}" if feedback else ""
            lines.append(f"- {step.name} was rejected and did not run.{reason}")
        else:
            lines.append(f"- {step.name}: {step.result}")
    edited = any(_EDITED.search(s.result or "") for s in steps if not s.rejected)
    head = "Here is what happened:"
    tail = ["A reviewer edited a call before it ran; the results above are what actually ran."] if edited else []
    if steps[-1].rejected and not _plan(text, steps, tools, descriptions):
        tail.append("I stopped there because the last proposed action was rejected.")
    if asks_vendor and all(s.result is not None for s in steps):
        tail.append(_vendor_question(request, steps))
    tail += _default_channel_notes(text, steps)
    return "\n".join([head, *lines, *tail])
