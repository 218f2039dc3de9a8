"""`OfflineChatModel`: a rule-based stand-in for an LLM, so the kit runs with no key.

It is NOT a language model. It reads the conversation with a few regular expressions
and plans tool calls for the kit's inventory scenario (look up stock, order when a
stated condition holds, notify when asked, then answer from the tool results). It
reacts to the human in the loop: after a rejection it re-plans from the reviewer's
message or explains why it stopped; after an edit it reports what actually ran.
Beyond the scenario, when the user names a bound tool and gives its arguments
(`my_tool(a=1, b="x")` or `my_tool with a=1 and b=x`), it calls that tool.

Same conversation in, same message out: ids are hashes of the conversation, so saved
notebook outputs compare exactly.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool

SCENARIO_TOOLS = frozenset({"lookup_inventory", "create_purchase_order", "send_notification"})
_QUOTED = re.compile(r"""(?<!\w)['"‘“]([^'"’”]+)['"’”](?!\w)""")  # not an apostrophe inside a word
_WAREHOUSE = re.compile(r"\b[A-Z]{2,3}-\d{2}\b")
_ITEM = re.compile(r"\b[a-z]+-[a-z0-9]+\b")
_THRESHOLD = re.compile(r"\b(?:below|under|less than|fewer than)\s+(\d+)")
_ORDER_QTY = re.compile(r"\b(?:order|PO for|purchase order for|buy|reorder)\s+(\d+)", re.I)
_VENDOR = re.compile(r"""\b(?:from|vendor|use|try)\s+(?:vendor\s+)?['"‘“]([^'"’”]+)['"’”]""", re.I)
_NOTIFY = re.compile(r"\b(?:notify|notification|let .{1,40} know|tell|alert|message)\b", re.I)
_STOCK = re.compile(r":\s*(-?\d+) units in stock")
_EDITED = re.compile(r"\bedit(?:ed)?\b", re.I)  # a word: 'Meredith' or 'credit' is no edit
_ARG = re.compile(r"""(\w+)\s*[=:]\s*("[^"]*"|'[^']*'|[^\s,)]+)""")


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
        vendor = _VENDOR.search(text)
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
            vendor=vendor.group(1) if vendor else None,
            notify=bool(_NOTIFY.search(text)),
            channel=channel.group(1).lower() if channel else "slack",
        )


def _text(message: BaseMessage) -> str:
    return message.text if isinstance(message.text, str) else str(message.content)


def _is_rejection(message: ToolMessage) -> bool:
    return message.status == "error" and "reject" in _text(message).lower()


def _reviewer_message(result: str) -> str:
    """The reviewer's own words from a rejection notice, when it carries any."""
    for marker in ("with reason:", "Reviewer's message:", "reviewer said:"):
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


def _coerce(value: str, kind: str | None) -> Any:
    value = value.strip().strip("'\"")
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


def _named_call(text: str, tools: dict[str, dict]) -> tuple[str, dict] | None:
    """`tool_name(a=1, b="x")` or `tool_name with a=1 and b=x`: a call to a bound tool."""
    for name, spec in tools.items():
        where = re.search(rf"\b{re.escape(name)}\b", text)
        if not where:
            continue
        props = spec.get("properties", {})
        given = {k: v for k, v in _ARG.findall(text[where.end() :]) if k in props}
        args = {k: _coerce(v, props[k].get("type")) for k, v in given.items()}
        if all(r in args for r in spec.get("required", [])):
            return name, args
    return None


class OfflineChatModel(BaseChatModel):
    """A rule-based stand-in for an LLM (not a language model): deterministic, offline.

    Plans tool calls for the kit's inventory scenario and calls any bound tool the user
    names with its arguments. Use it to learn and test the human-in-the-loop flow with
    no API key and no network; set `OPENAI_API_KEY` to use a real model instead.
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

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: str | None = None, **kwargs: Any):
        """Bind tools as OpenAI-format schemas, as a hosted model would receive them."""
        formatted = [convert_to_openai_tool(t) for t in tools]
        if tool_choice is not None:
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
        """Accept OpenAI's `method`/`strict` options; the offline model always uses tool calling."""
        return super().with_structured_output(schema, include_raw=include_raw, **kwargs)

    # -- generation -----------------------------------------------------------------
    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager=None, **kwargs: Any
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._reply(messages, **kwargs))])

    def _stream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager=None, **kwargs: Any
    ) -> Iterator[ChatGenerationChunk]:
        """Word-sized token chunks, then the tool calls, so streaming lessons work offline."""
        reply = self._reply(messages, **kwargs)
        for token in re.findall(r"\S+\s*", reply.content):
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=token, id=reply.id))
            if run_manager:
                run_manager.on_llm_new_token(token, chunk=chunk)
            yield chunk
        yield ChatGenerationChunk(
            message=AIMessageChunk(
                content="",
                id=reply.id,
                tool_call_chunks=[
                    {"name": c["name"], "args": json.dumps(c["args"]), "id": c["id"], "index": i}
                    for i, c in enumerate(reply.tool_calls)
                ],
                chunk_position="last",
            )
        )

    def _reply(
        self, messages: list[BaseMessage], tools: Sequence[dict] = (), tool_choice: Any = None, **_: Any
    ) -> AIMessage:
        by_name = {t["function"]["name"]: t["function"].get("parameters", {}) for t in tools}
        start = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
        request = _text(messages[start]) if start >= 0 else ""
        steps = _steps(messages[start + 1 :])
        calls = _plan(request, steps, by_name)
        forced = tool_choice if isinstance(tool_choice, str) and tool_choice in by_name else None
        if forced and not calls:
            calls = [_named_call(f"{forced} {request}", {forced: by_name[forced]}) or (forced, {})]
        digest = hashlib.sha256(
            json.dumps([[m.type, _text(m), getattr(m, "tool_call_id", "")] for m in messages]).encode()
        ).hexdigest()
        if calls:
            tool_calls = [
                {"name": name, "args": args, "id": f"call_{digest[:12]}_{i}", "type": "tool_call"}
                for i, (name, args) in enumerate(calls)
            ]
            return AIMessage(content="", tool_calls=tool_calls, id=f"offline-{digest[:16]}")
        return AIMessage(content=_answer(request, steps, by_name), id=f"offline-{digest[:16]}")


# -- planning: pure functions of the conversation --------------------------------------
def _done(steps: list[_Step], name: str, **match: Any) -> list[_Step]:
    return [s for s in steps if s.name == name and all(s.args.get(k) == v for k, v in match.items())]


def _plan(text: str, steps: list[_Step], tools: dict[str, dict]) -> list[tuple[str, dict]]:
    """The next tool calls, or [] when it is time to answer."""
    if any(s.result is None for s in steps):
        return []  # a call is still unanswered; never propose past it
    scenario = SCENARIO_TOOLS & tools.keys()
    named = _named_call(text, {n: spec for n, spec in tools.items() if n not in SCENARIO_TOOLS})
    if named:  # a learner's own tool, named in the request, comes first
        return [] if _done(steps, named[0]) else [named]
    request = _Request.read(text)
    if scenario and request.items:
        return _plan_scenario(request, steps, scenario)
    named = _named_call(text, tools)
    if named and not _done(steps, named[0]):
        return [named]
    return []


def _plan_scenario(request: _Request, steps: list[_Step], tools: set[str]) -> list[tuple[str, dict]]:
    warehouse = request.warehouse or "SF-01"
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
        return []  # the reviewer stopped the order; explain rather than press on
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


def _plan_orders(request: _Request, steps: list[_Step]) -> list[tuple[str, dict]] | None:
    """Orders still to propose; None when a rejection without a way forward ends them."""
    calls = []
    for item in request.items:
        if not _needs_order(request, steps, item):
            continue
        tried = _done(steps, "create_purchase_order", item=item)
        if not tried:
            vendor = request.vendor or "Acme Supply"
            calls.append(("create_purchase_order", {"item": item, "qty": request.order_qty, "vendor": vendor}))
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
            parts.append((placed[-1].result or "").split("Tool response:")[-1].strip())
        elif _done(steps, "create_purchase_order", item=item):
            parts.append(f"The order for {item} was not approved; please review stock by hand.")
    return " ".join(parts) or f"Update on {', '.join(request.items)}."


def _answer(text: str, steps: list[_Step], tools: dict[str, dict]) -> str:
    """The final answer: what ran, what the reviewer stopped, and why it stopped."""
    if not steps:
        if tools:
            return (
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
    if steps[-1].rejected and not _plan(text, steps, tools):
        tail.append("I stopped there because the last proposed action was rejected.")
    return "\n".join([head, *lines, *tail])
