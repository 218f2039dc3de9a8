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
- An interrupt whose answer is already written (its step failed after the answer) is
  shown as answered: a new decision for it is refused, `retry()` re-runs the step with
  that answer (as LangGraph does), and `ask_again()` forks the checkpoint so the question
  is asked afresh.
- A graph that only runs on LangGraph's async API (an `async def` node or entrypoint, an
  async-only tool such as every MCP tool) is driven through it, on a loop of the
  session's own, with the same guarantees; a run longer than `timeout` is stopped.
- A `RemoteGraph` (a graph served by LangGraph's API server) is driven the same way,
  through `hitl_widgets._remote.RemoteThread`, which makes the server itself refuse a
  stale resume, so the guarantees hold across processes too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langchain_core.tools import BaseTool
from langgraph.errors import UnknownInterruptError, is_invalid_resume
from langgraph.types import Command
from pydantic import ValidationError

from ._answers import check_action, check_answer, resume_value
from ._event_loop import LoopThread
from ._governance_view import ScopeArg, governed_value
from ._graph_tools import needs_async, tools_in_graph
from ._kinds import BY_NAME, read_requests
from ._remote import RemoteThread, is_remote
from ._review_requests import QUESTION, Answered, ReviewRequest, final_answer, proposed_tool_calls
from .errors import (
    STRICT_RESUME,
    DecisionError,
    RemoteAnswerRefused,
    RemoteThreadError,
    RunTimedOut,
    SessionError,
    StaleDecision,
    describe_validation_error,
)
from .protocol import EXAMPLES

Status = Literal["new", "paused", "waiting", "done", "failed", "stopped"]
RESUME = "__resume__"
"""The channel LangGraph writes a resume value to, as a pending write of the answered task."""
DEFAULT_TIMEOUT_S = 300.0
"""How long an async run may take before it is stopped (a hung tool is reported, not waited on)."""

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
    reviewer: str | None = None
    """The name the session put on the decision (`Session(reviewer=...)`): a claim, not an identity."""


@dataclass(frozen=True)
class Outcome:
    """Where the thread stands after a run, a decision or a retry.

    `status` is one of: `new` (never run), `paused` (waiting for decisions: see
    `requests`), `waiting` (a batch is partly decided), `done` (see `answer`), `failed`
    (see `error` and `node`; `retry()` runs the failed step again; an interrupt answered
    before the failure is among `requests`, marked `answered`), `stopped` (paused by a
    static breakpoint or a `NodeInterrupt`, not by `interrupt()`; the session does not
    continue those).
    """

    status: Status
    requests: tuple[ReviewRequest, ...] = ()
    answer: str | None = None
    error: str | None = None
    node: str | None = None
    next: tuple[str, ...] = ()
    state: Any = field(default=None, repr=False, compare=False)
    """The `StateSnapshot` it was read from, so a view needs no second read (None: not read)."""

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
        use_async: bool | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        reviewer: str | None = None,
        signing_key: bytes | str | None = None,
    ) -> None:
        """`reviewer`: the name put on every decision to a governed review (a claim, not an
        identity: a served graph uses its authenticated user); `signing_key`: signs them (HMAC).

        `tools`: the graph's tools, when `tools_in_graph` cannot find them.

        `stream_tokens`: also stream the model's tokens (`("token", text)` events). It
        costs a little on every step, so it is off unless asked for. `use_async`: drive
        LangGraph's async API (default: when the graph or one of its tools needs it).
        `timeout`: seconds an async run may take before it is stopped.
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
        self._local = not isinstance(graph, RemoteThread)
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
        self._timeout = timeout
        self.reviewer = reviewer
        self._signing_key = signing_key
        wants_async = needs_async(graph, self._tools) if use_async is None else use_async
        self._loop = LoopThread() if wants_async else None

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
    def is_async(self) -> bool:
        """True when the session drives the graph's async API."""
        return self._loop is not None

    @property
    def decisions(self) -> tuple[DecisionRecord, ...]:
        return tuple(self._records)

    @property
    def pending(self) -> tuple[Any, ...]:
        """The `Interrupt`s waiting for a decision, read from the checkpoint now, in call order.

        An interrupt whose answer is already written (its step then failed) waits for no
        decision, only for Retry, so it is not among them.
        """
        snapshot = self._state()
        by_id = {item.id: item for item in snapshot.interrupts}
        return tuple(by_id[r.interrupt_id] for r in self._read(snapshot) if r.allowed)

    def drafts(self, interrupt_id: str) -> dict[int, dict[str, Any]]:
        """Decisions already made in a batch that is not complete yet, by action index."""
        return dict(self._drafts.get(interrupt_id, {}))

    def outcome(self) -> Outcome:
        """Where the thread stands now, read from the checkpoint."""
        return self._outcome(self._state())

    # -- acting -------------------------------------------------------------------------
    def run(self, inputs: Any, on_event: EventHandler | None = None) -> Outcome:
        """Run the graph on new input until it pauses or ends.

        A string becomes a user message when the graph's input has `messages`; a graph
        whose input is a string (a functional-API entrypoint) gets it as it is.
        """
        if inputs is None or isinstance(inputs, Command):
            raise SessionError(
                "run() takes new input. Answer an interrupt with decide(), which checks the decision "
                "first; run a failed step again with retry()."
            )
        inputs = graph_input(self._graph, inputs)
        with self._exclusive():
            snapshot = self._state()
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
        scope: ScopeArg = None,
    ) -> Outcome:
        """Check a decision and, when its request is complete, resume the graph once.

        `interrupt_id` may be an interrupt's id or the id of a tool call under review; it
        may be left out when exactly one interrupt is pending. For a batched request a
        single decision answers one action (the one named by `action` or by a call id,
        else the first one not decided yet) and the graph resumes when all are decided;
        a list answers them all, in order. A question takes its bare answer (text, a
        number, True or False, JSON) as well as `{"type": "respond", "message": answer}`.
        """
        if decision is None or (isinstance(decision, (Mapping, list, tuple)) and not decision):
            raise DecisionError(f"No decision given ({decision!r}); nothing was sent. Send one of {EXAMPLES}.")
        with self._exclusive():
            snapshot = self._state()
            requests = self._read(snapshot)
            request, index = self._target(requests, interrupt_id, action)
            decisions = self._checked(request, decision, index)
            if decisions is None:
                return self._outcome(snapshot, status="waiting")
            value = governed_value(request, resume_value(request, decisions), self.reviewer, scope, self._signing_key)
            records = [replace(r, reviewer=self.reviewer) for r in self._log_entries(request, decisions)]
            command: Command = Command(resume={request.interrupt_id: value})
            try:
                return self._stream(command, on_event, records=records)
            finally:
                self._drafts.pop(request.interrupt_id, None)  # sent, or refused: decide afresh

    def retry(self, on_event: EventHandler | None = None) -> Outcome:
        """Run again the step that failed (a tool or the model raised), from the checkpoint.

        An answer written before the failure is used again, as LangGraph replays it.
        """
        with self._exclusive():
            snapshot = self._state()
            errors = [task for task in snapshot.tasks if getattr(task, "error", None)]
            if not snapshot.next or not (errors or self._failed):
                raise SessionError(f"Nothing to retry on thread {self.thread_id!r}: its last step did not fail.")
            return self._stream(None, on_event)

    def ask_again(self, on_event: EventHandler | None = None) -> Outcome:
        """Drop an answer whose step failed, and ask its question afresh.

        The checkpoint is forked (`update_state(..., as_node="__copy__")`): the fork has
        the same state without the written answer, so the paused node runs again and its
        `interrupt()` asks again. The first answer stays in the thread's history.
        """
        with self._exclusive():
            snapshot = self._state()
            if not any(request.answered for request in self._read(snapshot)):
                raise SessionError(f"Nothing to ask again on thread {self.thread_id!r}: no answered step failed.")
            if isinstance(self._graph, RemoteThread):
                raise SessionError("Asking again needs the checkpointer; a served graph cannot fork from here.")
            self._graph.update_state(self._config, None, as_node="__copy__")
            self._failed = False
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

    def _state(self, subgraphs: bool = False) -> Any:
        if self._loop is not None and hasattr(self._graph, "aget_state"):
            return self._loop.run(self._graph.aget_state(self._config, subgraphs=subgraphs), self._timeout)
        if subgraphs:
            return self._graph.get_state(self._config, subgraphs=True)
        return self._graph.get_state(self._config)

    def _read(self, snapshot: Any) -> tuple[ReviewRequest, ...]:
        calls = proposed_tool_calls(snapshot.values)
        requests = read_requests(snapshot.interrupts, self._tools, snapshot.values)
        if any(a.call_id is None for r in requests for a in r.actions) and snapshot.tasks:
            calls = calls + self._sub_agent_calls()  # the calls a sub-agent made
            requests = read_requests(snapshot.interrupts, self._tools, _calls_as_values(calls))
        requests = self._mark_answered(snapshot, requests)
        live = {request.interrupt_id for request in requests}
        for request in requests:
            self._seen.add(request.interrupt_id)
            self._seen.update(a.call_id for a in request.actions if a.call_id)
        for gone in set(self._drafts) - live:
            del self._drafts[gone]
        return requests

    def _sub_agent_calls(self) -> list[dict[str, Any]]:
        """The calls sub-agents made: in subgraph nodes, and in graphs a tool runs (Deep Agents' `task`).

        A subgraph node's state comes with `get_state(subgraphs=True)`; a graph run inside a
        tool has no node of its own, but its checkpoint is kept under the tool task's namespace.
        """
        snapshot = self._state(subgraphs=True)
        calls = _subgraph_tool_calls(snapshot)
        saver = getattr(self._graph, "checkpointer", None)
        if saver is None or not self._local:
            return calls
        for task in snapshot.tasks:
            if getattr(task, "state", None) is None and task.interrupts:
                namespace = {**self._config["configurable"], "checkpoint_ns": f"{task.name}:{task.id}"}
                try:
                    saved = saver.get_tuple({"configurable": namespace})
                except Exception:  # an async-only checkpointer: the card shows no call id
                    saved = None
                if saved is not None:
                    calls += proposed_tool_calls(saved.checkpoint.get("channel_values", {}))
        return calls

    def _mark_answered(self, snapshot: Any, requests: tuple[ReviewRequest, ...]) -> tuple[ReviewRequest, ...]:
        """Requests whose task failed after its answer was written (LangGraph replays that answer)."""
        failed = {
            item.id: (task, str(task.error))
            for task in snapshot.tasks
            if getattr(task, "error", None)
            for item in getattr(task, "interrupts", ())
        }
        if not failed:
            return requests
        answers = self._written_answers()
        marked = []
        for request in requests:
            if request.interrupt_id in failed:
                task, error = failed[request.interrupt_id]
                request = replace(request, answered=Answered(answers.get(task.id, "(the earlier answer)"), error))
            marked.append(request)
        return tuple(marked)

    def _written_answers(self) -> dict[str, Any]:
        """The resume value written for each task, from the checkpointer's pending writes."""
        saver = getattr(self._graph, "checkpointer", None)
        if saver is None or isinstance(self._graph, RemoteThread):
            return {}
        try:
            saved = saver.get_tuple(self._config)
        except Exception:  # an async-only checkpointer: the card says an answer was written, not which
            return {}
        answers: dict[str, Any] = {}
        for task_id, channel, value in (saved.pending_writes or []) if saved else []:
            if channel == RESUME:
                answers[task_id] = value[-1] if isinstance(value, list) and value else value
        return answers

    def _target(
        self, requests: tuple[ReviewRequest, ...], wanted: str | None, action: int | None
    ) -> tuple[ReviewRequest, int | None]:
        request, index = self._find(requests, wanted, action)
        if request.answered is not None:
            raise SessionError(
                f"That interrupt was answered already ({_short(request.answered.answer)}), and its step then "
                f"failed: {request.answered.error}. Nothing was sent. Retry runs the step again with that "
                "answer; to answer differently, ask again (the panel's Ask again, or session.ask_again())."
            )
        if not BY_NAME[request.kind].answerable:
            raise SessionError(
                "This pause comes from a NodeInterrupt, which no answer can resume; nothing was sent. "
                "Continue it by changing the state (graph.update_state(config, {...})) and running again."
            )
        return request, index

    def _find(
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
        if request.kind == QUESTION:
            return [check_answer(decision, request)]
        batch = decision.get("decisions") if isinstance(decision, Mapping) and "type" not in decision else decision
        if BY_NAME[request.kind].per_action:
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
        if request.kind == QUESTION:
            decision = decisions[0]
            message = decision["message"]
            return [DecisionRecord(request.interrupt_id, QUESTION, None, None, decision, None, None, message, at)]
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
        failure: BaseException | None = None
        try:
            if self._loop is not None:
                self._loop.run(self._astream(inputs, config, on_event), self._timeout)
            else:
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
        except RunTimedOut as error:
            failure = error
        except Exception as error:
            if is_invalid_resume(error):  # a pydantic ValidationError from the interrupt's response_schema
                problem = describe_validation_error(error) if isinstance(error, ValidationError) else str(error)
                raise DecisionError(
                    f"The graph refused the answer ({problem}); nothing was saved and the question is still open."
                ) from None
            failure = error
        self._records.extend(records)
        self._failed = failure is not None
        return self._outcome(self._state(), failure)

    async def _astream(self, inputs: Any, config: Mapping[str, Any], on_event: EventHandler | None) -> None:
        async for part in self._graph.astream(inputs, config, stream_mode=self._modes, version="v2"):
            if on_event is not None:
                _forward(part, on_event)

    def _outcome(self, snapshot: Any, failure: BaseException | None = None, status: Status | None = None) -> Outcome:
        requests = self._read(snapshot)
        errors = [(task.name, task.error) for task in snapshot.tasks if getattr(task, "error", None)]
        node = errors[0][0] if errors else None
        error = describe_error(failure) if failure is not None else (str(errors[0][1]) if errors else None)
        if status is None:
            if any(request.allowed for request in requests):
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
        return Outcome(status, requests, answer, error, node, tuple(snapshot.next), snapshot)


def graph_input(graph: Any, inputs: Any) -> Any:
    """What `run(inputs)` sends: text becomes a user message only where the graph takes messages."""
    if not isinstance(inputs, str):
        return inputs
    schema = _input_schema(graph)
    properties = schema.get("properties") if isinstance(schema, Mapping) else None
    if schema is None or (isinstance(properties, Mapping) and "messages" in properties):
        return {"messages": [HumanMessage(inputs)]}
    if schema.get("type") == "string" or not schema:
        return inputs  # an entrypoint that takes a string, or takes anything
    keys = ", ".join(properties or {}) or "(none)"
    raise SessionError(
        f"This graph's input has no `messages`, so text cannot be sent as a user message; nothing was sent. "
        f"Pass its input as a dict with these keys: {keys}."
    )


def _input_schema(graph: Any) -> dict[str, Any] | None:
    try:
        return graph.get_input_jsonschema()
    except Exception:  # a served graph that cannot say, or a schema pydantic cannot describe
        return None


def _subgraph_tool_calls(snapshot: Any) -> list[dict[str, Any]]:
    """The calls each sub-agent's latest AI message made, from a `get_state(subgraphs=True)`."""
    calls: list[dict[str, Any]] = []
    for task in getattr(snapshot, "tasks", ()):
        state = getattr(task, "state", None)
        if state is not None and hasattr(state, "values"):
            calls += proposed_tool_calls(state.values) + _subgraph_tool_calls(state)
    return calls


def _calls_as_values(calls: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Tool calls in the shape `read_requests` reads them from (one AI message)."""
    return {"messages": [AIMessage(content="", tool_calls=[dict(call) for call in calls])]}


def _short(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _forward(part: Mapping[str, Any], on_event: EventHandler) -> None:
    kind, data = part.get("type"), part.get("data")
    if kind == "tasks" and isinstance(data, Mapping) and "input" in data:
        on_event("node", data.get("name"))
    elif kind == "messages" and isinstance(data, tuple) and isinstance(data[0], AIMessageChunk):
        text = data[0].text if isinstance(data[0].text, str) else ""
        if text:
            on_event("token", text)
