"""Run a graph, resume it exactly once per decision, and keep the decision log.

No widgets: the approval panel (`hitl_widgets.panel`) is a thin layer over `Session`,
and everything it decides happens here, where a test can call it directly.

- `run(inputs)` runs the graph until it pauses or ends.
- `decide(decision, interrupt_id)` checks the decision, then resumes the graph with
  `Command(resume={interrupt_id: value})`. It refuses, before anything reaches the
  graph: no decision (`None`, `{}`), a decision `check_decision` refuses, an id that is
  not pending (answered already, by a double click, by another panel on the same thread,
  by a cell run twice) or never was. One lock per thread and a look at the checkpoint
  right before resuming make each interrupt resumed at most once.
- A tool or model that raises does not escape as an exception: the run's `Outcome` says
  what failed and where; the checkpoint keeps the thread where it was, and `retry()`
  runs the failed step again.
- `decisions` is the log: one `DecisionRecord` per decision sent.
- A `RemoteGraph` (a graph served by LangGraph's API server) is driven the same way,
  through `hitl_widgets._remote.RemoteThread`, which makes the server itself refuse a
  stale resume, so the guarantees hold across processes too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from langchain_core.messages import AIMessageChunk, HumanMessage
from langchain_core.tools import BaseTool
from langgraph.errors import UnknownInterruptError, is_invalid_resume
from langgraph.types import Command
from pydantic import ValidationError

from ._answers import check_action, check_answer, resume_value
from ._graph_tools import tools_in_graph
from ._remote import RemoteThread, is_remote
from ._review_requests import BATCHED, OTHER, ReviewRequest, final_answer, read_requests
from .errors import (
    STRICT_RESUME,
    DecisionError,
    RemoteAnswerRefused,
    RemoteThreadError,
    SessionError,
    StaleDecision,
    describe_validation_error,
)
from .protocol import EXAMPLES

EventHandler = Callable[[str, Any], None]
"""Called while a graph runs: `("node", name)` as a node starts, `("token", text)` as the model streams."""


@dataclass(frozen=True)
class DecisionRecord:
    """One decision the session sent to the graph."""

    interrupt_id: str
    kind: str
    tool: str | None
    call_id: str | None
    decision: dict[str, Any]
    args: dict[str, Any] | None
    """The arguments the model proposed."""
    edited_args: dict[str, Any] | None
    """The arguments the reviewer sent instead (edits only)."""
    message: Any
    """The reviewer's message (rejections, responses, answers), else None."""
    at: datetime


@dataclass(frozen=True)
class Outcome:
    """Where the thread stands after a run, a decision or a retry.

    `status` is one of: `new` (never run), `paused` (waiting for decisions: see
    `requests`), `waiting` (a batch is partly decided), `done` (see `answer`), `failed`
    (see `error` and `node`; `retry()` runs the failed step again), `stopped` (paused
    by a static breakpoint, not by `interrupt()`; the session does not continue those).
    """

    status: str
    requests: tuple[ReviewRequest, ...] = ()
    answer: str | None = None
    error: str | None = None
    node: str | None = None
    next: tuple[str, ...] = ()

    @property
    def retryable(self) -> bool:
        return self.error is not None and bool(self.next)


_LOCKS: dict[tuple[Any, ...], threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _thread_lock(graph: Any, config: Mapping[str, Any]) -> threading.Lock:
    """One lock per checkpointer and thread, shared by every session (panel) on it."""
    configurable = config.get("configurable") or {}
    store = getattr(graph, "checkpointer", None) or graph
    key = (id(store), configurable.get("thread_id"), configurable.get("checkpoint_ns", ""))
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


def describe_error(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


class Session:
    """One thread of one graph: run it, answer its interrupts, keep the log."""

    def __init__(
        self,
        graph: Any,
        config: Mapping[str, Any],
        *,
        tools: Sequence[BaseTool] | Mapping[str, BaseTool] | None = None,
        stream_tokens: bool = False,
    ) -> None:
        """`tools`: the graph's tools, when `tools_in_graph` cannot find them.

        `stream_tokens`: also stream the model's tokens (`("token", text)` events). It
        costs a little on every step, so it is off unless asked for.
        """
        configurable = (config or {}).get("configurable") or {}
        if not configurable.get("thread_id"):
            raise SessionError("The config needs a thread id: {'configurable': {'thread_id': 'some-name'}}.")
        if is_remote(graph):  # a RemoteGraph: the server keeps the checkpoints
            graph = RemoteThread(graph)
        if hasattr(graph, "checkpointer") and graph.checkpointer in (None, False):
            raise SessionError(
                "This graph has no checkpointer, so it can pause but never resume. "
                "Compile it with one, e.g. builder.compile(checkpointer=InMemorySaver())."
            )
        self._graph = graph
        self._config = {**config, "configurable": dict(configurable)}
        if tools is None:
            self._tools = tools_in_graph(graph)
        elif isinstance(tools, Mapping):
            self._tools = dict(tools)
        else:
            self._tools = {tool.name: tool for tool in tools}
        self._lock = _thread_lock(graph, self._config)
        self._records: list[DecisionRecord] = []
        self._drafts: dict[str, dict[int, dict[str, Any]]] = {}
        self._seen: set[str] = set()
        self._failed = False
        self._modes = ["tasks", "messages"] if stream_tokens else ["tasks"]

    # -- reading ------------------------------------------------------------------------
    @property
    def thread_id(self) -> str:
        return str(self._config["configurable"]["thread_id"])

    @property
    def config(self) -> dict[str, Any]:
        return {**self._config, "configurable": dict(self._config["configurable"])}

    @property
    def tools(self) -> dict[str, BaseTool]:
        return dict(self._tools)

    @property
    def decisions(self) -> tuple[DecisionRecord, ...]:
        return tuple(self._records)

    @property
    def pending(self) -> tuple[Any, ...]:
        """The `Interrupt`s waiting on this thread, read from the checkpoint now, in call order."""
        snapshot = self._graph.get_state(self._config)
        by_id = {item.id: item for item in snapshot.interrupts}
        return tuple(by_id[request.interrupt_id] for request in self._read(snapshot))

    def drafts(self, interrupt_id: str) -> dict[int, dict[str, Any]]:
        """Decisions already made in a batch that is not complete yet, by action index."""
        return dict(self._drafts.get(interrupt_id, {}))

    def outcome(self) -> Outcome:
        """Where the thread stands now, read from the checkpoint."""
        return self._outcome(self._graph.get_state(self._config))

    # -- acting -------------------------------------------------------------------------
    def run(self, inputs: Any, on_event: EventHandler | None = None) -> Outcome:
        """Run the graph on new input (a string becomes a user message) until it pauses or ends."""
        if inputs is None or isinstance(inputs, Command):
            raise SessionError(
                "run() takes new input. Answer an interrupt with decide(), which checks the decision "
                "first; run a failed step again with retry()."
            )
        if isinstance(inputs, str):
            inputs = {"messages": [HumanMessage(inputs)]}
        with self._exclusive():
            snapshot = self._graph.get_state(self._config)
            if snapshot.interrupts:
                count = len(snapshot.interrupts)
                raise SessionError(
                    f"Thread {self.thread_id!r} is waiting for {count} decision{'s' * (count > 1)}; "
                    "answer first, or run on a new thread_id. Nothing was sent."
                )
            if snapshot.next:
                raise SessionError(
                    f"Thread {self.thread_id!r} has unfinished work (next: {', '.join(snapshot.next)}); "
                    "use retry(), or run on a new thread_id. Nothing was sent."
                )
            return self._stream(inputs, on_event)

    def decide(
        self,
        decision: Any,
        interrupt_id: str | None = None,
        *,
        action: int | None = None,
        on_event: EventHandler | None = None,
    ) -> Outcome:
        """Check a decision and, when its request is complete, resume the graph once.

        `interrupt_id` may be an interrupt's id or the id of a tool call under review; it
        may be left out when exactly one interrupt is pending. For a batched request a
        single decision answers one action (the one named by `action` or by a call id,
        else the first one not decided yet) and the graph resumes when all are decided;
        a list answers them all, in order.
        """
        if decision is None or (isinstance(decision, (Mapping, list, tuple)) and not decision):
            raise DecisionError(f"No decision given ({decision!r}); nothing was sent. Send one of {EXAMPLES}.")
        with self._exclusive():
            snapshot = self._graph.get_state(self._config)
            requests = self._read(snapshot)
            request, index = self._target(requests, interrupt_id, action)
            decisions = self._checked(request, decision, index)
            if decisions is None:
                return self._outcome(snapshot, status="waiting")
            value = resume_value(request, decisions)
            records = self._log_entries(request, decisions)
            command: Command = Command(resume={request.interrupt_id: value})
            try:
                return self._stream(command, on_event, records=records)
            finally:
                self._drafts.pop(request.interrupt_id, None)  # sent, or refused: decide afresh

    def retry(self, on_event: EventHandler | None = None) -> Outcome:
        """Run again the step that failed (a tool or the model raised), from the checkpoint."""
        with self._exclusive():
            snapshot = self._graph.get_state(self._config)
            errors = [task for task in snapshot.tasks if getattr(task, "error", None)]
            if not snapshot.next or not (errors or self._failed):
                raise SessionError(f"Nothing to retry on thread {self.thread_id!r}: its last step did not fail.")
            return self._stream(None, on_event)

    # -- internals ----------------------------------------------------------------------
    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        if not self._lock.acquire(blocking=False):
            raise SessionError(
                f"Thread {self.thread_id!r} is busy: a run or a decision is in progress. "
                "Nothing was sent; try again when it finishes."
            )
        try:
            yield
        finally:
            self._lock.release()

    def _read(self, snapshot: Any) -> tuple[ReviewRequest, ...]:
        requests = read_requests(snapshot.interrupts, self._tools, snapshot.values)
        live = {request.interrupt_id for request in requests}
        for request in requests:
            self._seen.add(request.interrupt_id)
            self._seen.update(a.call_id for a in request.actions if a.call_id)
        for gone in set(self._drafts) - live:
            del self._drafts[gone]
        return requests

    def _target(
        self, requests: tuple[ReviewRequest, ...], wanted: str | None, action: int | None
    ) -> tuple[ReviewRequest, int | None]:
        if wanted is None:
            if not requests:
                raise StaleDecision(f"Nothing is pending on thread {self.thread_id!r}; the decision was not sent.")
            if len(requests) > 1:
                ids = ", ".join(request.interrupt_id for request in requests)
                raise SessionError(
                    f"{len(requests)} interrupts are pending; say which one with "
                    f"decide(decision, interrupt_id=...). Pending: {ids}. Nothing was sent."
                )
            return requests[0], action
        for request in requests:
            if request.interrupt_id == wanted:
                return request, action
        for request in requests:
            for index, item in enumerate(request.actions):
                if item.call_id == wanted:
                    return request, index
        if wanted in self._seen:
            raise StaleDecision(
                f"That interrupt is no longer pending: it was answered already (a second click, another "
                f"panel on this thread, or a cell run twice). Nothing was sent. (id {wanted})"
            )
        pending = ", ".join(request.interrupt_id for request in requests) or "none"
        raise SessionError(
            f"Unknown id {wanted!r}: not pending on thread {self.thread_id!r} (pending: {pending}). Nothing was sent."
        )

    def _checked(self, request: ReviewRequest, decision: Any, index: int | None) -> list[dict[str, Any]] | None:
        """The checked decisions to send, or None while a batch still misses some."""
        if request.kind == OTHER:
            return [check_answer(decision, request)]
        batch = decision.get("decisions") if isinstance(decision, Mapping) and "type" not in decision else decision
        if request.kind == BATCHED:
            if isinstance(batch, (list, tuple)):
                if len(batch) != len(request.actions):
                    raise DecisionError(
                        f"This request has {len(request.actions)} actions; send one decision for each, "
                        f"in order (got {len(batch)}). Nothing was sent."
                    )
                return [check_action(d, a, self._tools) for d, a in zip(batch, request.actions, strict=True)]
            drafts = self._drafts.setdefault(request.interrupt_id, {})
            if index is None:
                index = next(i for i in range(len(request.actions)) if i not in drafts)
            if not 0 <= index < len(request.actions):
                raise DecisionError(f"This request has {len(request.actions)} actions; there is no action {index}.")
            drafts[index] = check_action(decision, request.actions[index], self._tools)
            if len(drafts) < len(request.actions):
                return None
            return [drafts[i] for i in range(len(request.actions))]
        if isinstance(batch, (list, tuple)):
            raise DecisionError("A list of decisions answers a batched request only; this one takes one decision.")
        checked = [check_action(decision, item, self._tools) for item in request.actions]
        return checked[:1]

    def _log_entries(self, request: ReviewRequest, decisions: list[dict[str, Any]]) -> list[DecisionRecord]:
        at = datetime.now(UTC)
        if request.kind == OTHER:
            decision = decisions[0]
            return [
                DecisionRecord(request.interrupt_id, OTHER, None, None, decision, None, None, decision["message"], at)
            ]
        pairs = zip(request.actions, decisions * len(request.actions) if request.shared else decisions, strict=True)
        entries = []
        for item, decision in pairs:
            edited = decision["edited_action"]["args"] if decision["type"] == "edit" else None
            message = decision.get("message") or None
            entries.append(
                DecisionRecord(
                    request.interrupt_id,
                    request.kind,
                    item.name,
                    item.call_id,
                    decision,
                    item.args,
                    edited,
                    message,
                    at,
                )
            )
        return entries

    def _stream(self, inputs: Any, on_event: EventHandler | None, records: Sequence[DecisionRecord] = ()) -> Outcome:
        config = self._config
        if isinstance(inputs, Command):
            config = {**config, "configurable": {**config["configurable"], STRICT_RESUME: True}}
        failure = None
        try:
            for part in self._graph.stream(inputs, config, stream_mode=self._modes, version="v2"):
                if on_event is not None:
                    _forward(part, on_event)
        except UnknownInterruptError:
            raise StaleDecision(
                "That interrupt is no longer pending (LangGraph refused the resume). Nothing was sent."
            ) from None
        except RemoteAnswerRefused:  # a served graph's response_schema refused it: a DecisionError
            raise
        except RemoteThreadError as error:  # the server refused the run: nothing was sent
            raise SessionError(str(error)) from None
        except Exception as error:
            if is_invalid_resume(error):  # a pydantic ValidationError from the interrupt's response_schema
                problem = describe_validation_error(error) if isinstance(error, ValidationError) else str(error)
                raise DecisionError(
                    f"The graph refused the answer ({problem}); nothing was saved and the question is still open."
                ) from None
            failure = error
        self._records.extend(records)
        self._failed = failure is not None
        return self._outcome(self._graph.get_state(self._config), failure)

    def _outcome(self, snapshot: Any, failure: BaseException | None = None, status: str | None = None) -> Outcome:
        requests = self._read(snapshot)
        errors = [(task.name, task.error) for task in snapshot.tasks if getattr(task, "error", None)]
        node = errors[0][0] if errors else None
        error = describe_error(failure) if failure is not None else (str(errors[0][1]) if errors else None)
        if status is None:
            if requests:
                status = "paused"
            elif error:
                status = "failed"
            elif snapshot.next:
                status = "stopped"
            elif snapshot.created_at is None:
                status = "new"
            else:
                status = "done"
        answer = final_answer(snapshot.values) if status == "done" else None
        return Outcome(status, requests, answer, error, node, tuple(snapshot.next))


def _forward(part: Mapping[str, Any], on_event: EventHandler) -> None:
    kind, data = part.get("type"), part.get("data")
    if kind == "tasks" and isinstance(data, Mapping) and "input" in data:
        on_event("node", data.get("name"))
    elif kind == "messages" and isinstance(data, tuple) and isinstance(data[0], AIMessageChunk):
        text = data[0].text if isinstance(data[0].text, str) else ""
        if text:
            on_event("token", text)
