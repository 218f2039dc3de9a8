"""What a card tells a reviewer, as plain data: argument rows, diffs, context, unsent input.

No widgets here. The card (`_cards.py`), the decision log and the text view (`_panel_text.py`)
all read these, so what a reviewer sees in the widget, on GitHub and in `print(panel)` is the
same thing said three ways.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from ._json_schemas import resolve_ref
from ._review_requests import QUESTION, Action, ReviewRequest
from ._session import DecisionRecord
from .errors import TOOL_RESPONSE_MARKER

ARROW = "→"
PAST = {"approve": "approved", "edit": "edited", "reject": "rejected", "respond": "answered"}
MESSAGE_KINDS = ("reject", "respond")
"""The decisions that carry the reviewer's message to the model (approve and edit carry none)."""
SKIPPING = "already decided in the panel, skipping"


def value_text(value: Any) -> str:
    """One argument's value as a reviewer reads it: strings as they are, the rest as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def shorten(text: str, limit: int) -> str:
    """`text` on one line, cut to `limit` characters with an ellipsis."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class ArgRow:
    name: str
    value: str
    description: str = ""


def arg_rows(args: Mapping[str, Any], schema: Mapping[str, Any] | None = None) -> tuple[ArgRow, ...]:
    """One row per argument: in the schema's order, with the schema's description; extra ones last."""
    properties = dict((schema or {}).get("properties") or {})
    defs = (schema or {}).get("$defs", {})
    names = [name for name in properties if name in args] + [name for name in args if name not in properties]
    rows = []
    for name in names:
        spec = resolve_ref(properties.get(name) or {}, defs)
        rows.append(ArgRow(name, value_text(args[name]), str(spec.get("description") or "")))
    return tuple(rows)


@dataclass(frozen=True)
class Change:
    name: str
    before: str | None
    """None: the argument was not there before."""
    after: str | None
    """None: the argument was dropped."""

    def text(self, limit: int = 60) -> str:
        before = "(none)" if self.before is None else shorten(self.before, limit)
        after = "(none)" if self.after is None else shorten(self.after, limit)
        return f"{self.name}: {before} {ARROW} {after}"


def arg_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[Change, ...]:
    """What differs between two argument sets, in the order the names first appear."""
    names = list(before) + [name for name in after if name not in before]
    changes = []
    for name in names:
        old, new = before.get(name, _MISSING), after.get(name, _MISSING)
        if old != new:
            changes.append(
                Change(
                    name,
                    None if old is _MISSING else value_text(old),
                    None if new is _MISSING else value_text(new),
                )
            )
    return tuple(changes)


_MISSING = object()


def changes_text(changes: Sequence[Change], limit: int = 60) -> str:
    return "; ".join(change.text(limit) for change in changes)


# -- the thread's context ---------------------------------------------------------------------
@dataclass(frozen=True)
class Context:
    """What a card shows around the call: the user's request and the last tool result."""

    request: str | None = None
    last_tool: str | None = None
    last_result: str | None = None


def _text(message: Any) -> str:
    text = getattr(message, "text", None)
    if isinstance(text, str):
        return text
    content = getattr(message, "content", "")
    return content if isinstance(content, str) else json.dumps(content, ensure_ascii=False, default=str)


def tool_output(message: Any) -> str:
    """What a tool returned, in its own words (an edited call's note to the model is left out)."""
    text = _text(message)
    return text.split(TOOL_RESPONSE_MARKER)[-1].strip() if TOOL_RESPONSE_MARKER in text else text


def thread_context(values: Any, skip_call_ids: Sequence[str] = ()) -> Context:
    """The last user message, and the results of the last tool turn that ran.

    A rejected or answered call did not run, so it is skipped. Calls the model proposed
    together (parallel calls) are one turn: their results are shown together.
    """
    messages = values.get("messages") if isinstance(values, Mapping) else None
    if not isinstance(messages, list):
        return Context()
    request = next((_text(m) for m in reversed(messages) if isinstance(m, HumanMessage)), None)
    turn: dict[str, int] = {}
    names: dict[str, str] = {}
    for position, message in enumerate(messages):
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                turn[str(call.get("id"))] = position
                names[str(call.get("id"))] = str(call.get("name"))
    skip = set(skip_call_ids)
    ran = [m for m in messages if isinstance(m, ToolMessage) and m.tool_call_id not in skip]
    if not ran:
        return Context(request)
    last = turn.get(ran[-1].tool_call_id)
    together = [m for m in ran if last is not None and turn.get(m.tool_call_id) == last] or ran[-1:]
    tools = list(dict.fromkeys(m.name or names.get(m.tool_call_id) or "tool" for m in together))
    return Context(request, ", ".join(tools), " · ".join(tool_output(m) for m in together))


def tool_results(values: Any) -> dict[str, str]:
    """The text of every tool message of the thread, by tool call id."""
    messages = values.get("messages") if isinstance(values, Mapping) else None
    return {m.tool_call_id: tool_output(m) for m in messages or () if isinstance(m, ToolMessage)}


def skipped_calls(records: Sequence[DecisionRecord]) -> list[str]:
    """Calls that were decided but did not run (rejected, or answered in the tool's place)."""
    return [r.call_id for r in records if r.call_id and r.decision.get("type") in MESSAGE_KINDS]


def record_changes(record: DecisionRecord) -> tuple[Change, ...]:
    if record.edited_args is None:
        return ()
    return arg_changes(record.args or {}, record.edited_args)


def record_summary(record: DecisionRecord, results: Mapping[str, str], limit: int = 90) -> str:
    """One decision and what it did: "approved lookup_inventory: widget-x in SF-01: 7 units in stock."."""
    kind = record.decision.get("type", "?")
    if record.tool is None:
        return f"answered the question: {shorten(value_text(record.message), limit)}"
    line = f"{PAST.get(kind, kind)} {record.tool}"
    changes = record_changes(record)
    if changes:
        line += f" ({changes_text(changes, 30)})"
    if kind in MESSAGE_KINDS:
        said = record.message if record.message is not None else ""
        return line + (f': "{shorten(value_text(said), limit)}"' if said != "" else " (no message)")
    result = results.get(record.call_id or "")
    return line + (f": {shorten(result, limit)}" if result else "")


def last_decision_line(records: Sequence[DecisionRecord], values: Any) -> str | None:
    """What the last decision (one interrupt's records) did, or None before the first."""
    if not records:
        return None
    last = records[-1].interrupt_id
    batch = [r for r in records if r.interrupt_id == last]
    results = tool_results(values)
    return " · ".join(record_summary(r, results) for r in batch)


def replaced_call(records: Sequence[DecisionRecord], action: Action) -> tuple[Change, ...] | None:
    """For a call proposed right after a call of the same tool was rejected: what changed since."""
    if not records:
        return None
    last = records[-1].interrupt_id
    for record in reversed([r for r in records if r.interrupt_id == last]):
        if record.decision.get("type") == "reject" and record.tool == action.name and record.call_id != action.call_id:
            return arg_changes(record.args or {}, action.args)
    return None


def clean_description(description: str, action: Action) -> str:
    """The description, without the lines that repeat the call (the middleware adds `Tool:` and `Args:`)."""
    kept = [
        line
        for line in description.splitlines()
        if not (line.startswith("Tool: ") and line[6:].strip() == action.name) and not line.startswith("Args: ")
    ]
    return "\n".join(kept).strip()


# -- what a click would drop ----------------------------------------------------------------------
def unsent_input(kind: str, edit: Sequence[Change] | str | None, message: str) -> list[str]:
    """What the reviewer typed that a click on `kind` would not send, said plainly (empty: nothing).

    `edit`: the changes in an open edit (or a string: the edit cannot be read, e.g. bad JSON);
    `message`: the text in the message box. Send edit is `kind == "edit"`.
    """
    lost = []
    if edit and kind != "edit":
        what = edit if isinstance(edit, str) else changes_text(edit)
        effect = "sends the original call" if kind == "approve" else "sends no edit"
        lost.append(f"Your edit ({what}) is discarded: {LABEL.get(kind, kind)} {effect}.")
    if message.strip() and kind not in MESSAGE_KINDS:
        lost.append(
            f'Your message "{shorten(message, 60)}" will not be sent: {LABEL.get(kind, kind)} carries no message '
            "(only Reject and Respond do)."
        )
    return lost


LABEL = {"approve": "Approve", "edit": "Send edit", "reject": "Reject", "respond": "Respond"}


# -- scripted playback ----------------------------------------------------------------------------
Expect = str | Mapping[str, Any] | Callable[[dict[str, Any]], bool]


def expect_matches(expect: Expect, action: Action | None, request: ReviewRequest) -> bool:
    """Whether a pending call (or a question) is the one a scripted cell expects.

    A string is a tool name; a mapping is part of a tool call, `{"name": ..., "args": {...}}`
    (every name and argument it gives must be equal); a callable gets the tool call
    (`{"name", "args", "id"}`), or a question's value, and says yes or no.
    """
    if request.kind == QUESTION or action is None:
        return callable(expect) and bool(_safely(expect, request.value))
    if isinstance(expect, str):
        return action.name == expect
    if isinstance(expect, Mapping):
        wanted = expect.get("args") or {}
        return expect.get("name", action.name) == action.name and all(
            name in action.args and action.args[name] == value for name, value in wanted.items()
        )
    return bool(_safely(expect, action.tool_call))


def _safely(predicate: Callable[[Any], Any], value: Any) -> Any:
    try:
        return predicate(value)
    except (KeyError, IndexError, TypeError, AttributeError, ValueError):
        return False  # a predicate that cannot read this call is not about it


def expected_target(
    expect: Expect,
    requests: Sequence[ReviewRequest],
    interrupt_id: str | None,
    drafts: Callable[[str], Mapping[int, Any]],
    whole: bool = False,
) -> str | None:
    """The id to decide for a scripted cell that expects `expect`, or None: skip, nothing to act on.

    With `interrupt_id` the pending call must be that one and match; without it, the first
    pending call (not yet decided in its batch) that matches. `whole`: the decision is a list
    answering a whole batch, so every action of the request must match.
    """
    for request in requests:
        done = drafts(request.interrupt_id)
        if request.kind == QUESTION or not request.actions:
            if interrupt_id in (None, request.interrupt_id) and expect_matches(expect, None, request):
                return request.interrupt_id
            continue
        if whole:
            ids = {request.interrupt_id, *(a.call_id for a in request.actions)}
            if (interrupt_id is None or interrupt_id in ids) and all(
                expect_matches(expect, a, request) for a in request.actions
            ):
                return request.interrupt_id
            continue
        for index, action in enumerate(request.actions):
            if index in done:
                continue
            named = interrupt_id is None or interrupt_id in (request.interrupt_id, action.call_id)
            if named and expect_matches(expect, action, request):
                if action.call_id and len(request.actions) > 1:
                    return action.call_id
                return request.interrupt_id
    return None


def describe_expect(expect: Expect) -> str:
    """The expected call, as the skip message names it."""
    if isinstance(expect, str):
        return expect
    if isinstance(expect, Mapping):
        args = ", ".join(f"{name}={value_text(value)}" for name, value in (expect.get("args") or {}).items())
        return f"{expect.get('name', 'call')}({args})"
    name = getattr(expect, "__name__", "")
    return name if name and name != "<lambda>" else "expected call"
