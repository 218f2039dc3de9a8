"""What the panel reads a pending interrupt into: a `ReviewRequest` about zero or more `Action`s.

No widgets here. How each kind of interrupt value is recognised, read and answered is in
`_kinds.py`; this module holds the shapes they are read into, and what a thread's state
says about the calls under review and the agent's answer.

Whatever the kind, a reviewer's decision is a LangChain decision dict, checked against
the tool's own argument schema before anything is sent (`_answers.py`), and only then
translated into the answer that kind expects.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from langchain_core.messages import AIMessage, ToolMessage

from .protocol import DEFAULT_DECISIONS

RequestKind = Literal["kit", "batched", "per_call", "tutorial", "agent_inbox", "breakpoint", "question"]
KIT: RequestKind = "kit"
"""The kit's own review request (`protocol.review_request`)."""
BATCHED: RequestKind = "batched"
"""LangChain's `HumanInTheLoopMiddleware`, default mode: one `HITLRequest` for all calls."""
PER_CALL: RequestKind = "per_call"
"""The same middleware with `interrupt_mode="per_call"`: one request per call."""
TUTORIAL: RequestKind = "tutorial"
"""The reference tutorial's payload: one answer for all its calls."""
AGENT_INBOX: RequestKind = "agent_inbox"
"""Agent Inbox's `HumanInterrupt` list (`langgraph.prebuilt.interrupt`)."""
BREAKPOINT: RequestKind = "breakpoint"
"""A `NodeInterrupt`: shown, never answerable."""
QUESTION: RequestKind = "question"
"""Anything else: answered with the reviewer's bare answer."""

ANSWER = ("respond",)
"""What a question accepts, as a decision type: `{"type": "respond", "message": <the answer>}`."""


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
class Answered:
    """An interrupt whose answer is already written: its step then failed before finishing."""

    answer: Any
    """What was sent (the value LangGraph will replay on Retry)."""
    error: str
    """Why the step failed."""


@dataclass(frozen=True)
class ReviewRequest:
    """One pending interrupt, read: what is asked, and about which tool calls."""

    interrupt_id: str
    kind: RequestKind
    actions: tuple[Action, ...]
    value: Any
    response_schema: dict[str, Any] | None = None
    shared: bool = False
    """True when one decision answers every action at once (the tutorial's payload)."""
    note: str = ""
    """Instructions that came with the request, if any."""
    waiting_calls: tuple[dict[str, Any], ...] = ()
    """For a question: the model's calls still waiting for a result (what it is asked about)."""
    answered: Answered | None = None
    """Set when the answer is already written: a new decision is refused; Retry re-runs."""

    @property
    def allowed(self) -> tuple[str, ...]:
        """The decisions this request accepts (for a batch: those of its first action)."""
        if self.answered is not None or self.kind == BREAKPOINT:
            return ()
        if self.kind == QUESTION:
            return ANSWER
        return self.actions[0].allowed if self.actions else ()


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


def pending_tool_calls(values: Any) -> list[dict[str, Any]]:
    """The last AI message's calls that no tool message has answered yet."""
    messages = values.get("messages") if isinstance(values, Mapping) else None
    answered = {m.tool_call_id for m in messages or [] if isinstance(m, ToolMessage)}
    return [call for call in proposed_tool_calls(values) if call.get("id") not in answered]


def final_answer(values: Any) -> str | None:
    """The agent's answer: the last AI message that called no tool, or what an entrypoint returned.

    A functional-API `@entrypoint` returns its answer as the thread's value: a string, or
    an `AIMessage`; a StateGraph keeps it as the last of its `messages`.
    """
    if isinstance(values, str):
        return values or None
    if isinstance(values, AIMessage):
        last: Any = values
    else:
        messages = values.get("messages") if isinstance(values, Mapping) else None
        last = messages[-1] if isinstance(messages, list) and messages else None
    if isinstance(last, AIMessage) and not last.tool_calls:
        return last.text if isinstance(last.text, str) else str(last.content)
    if isinstance(values, Mapping) and values and "messages" not in values:
        return json.dumps(values, sort_keys=True, default=str)  # what an entrypoint returned, say
    return None
