"""A served graph, seen by `Session` (and so by `ApprovalPanel`) like a local one.

`ApprovalPanel(RemoteGraph("inventory_agent", url=...), config)` works because the
session wraps a `RemoteGraph` in `RemoteThread`, which gives it the two things it uses,
`get_state` and `stream`, with what the plain `RemoteGraph` (langgraph 1.2) lacks:

- A resume is *strict on the server*: it is sent with LangGraph's strict-resume flag
  (which `RemoteGraph` strips from the config), so the server itself refuses an answer
  to an interrupt that is no longer pending, inside the run, where no other client can
  slip in between (raised here as `UnknownInterruptError`, as a local graph raises it).
  Without the flag the server silently ignores such an answer and asks again.
- A run is sent with `multitask_strategy="reject"`: while another client's run is in
  flight on the thread, the server answers 409 and nothing is queued behind it.
- State reads work on a thread that exists but never ran (`RemoteGraph.get_state`
  raises `TypeError` there) or does not exist yet (the first run creates it), and the
  messages come back as LangChain messages, not the JSON dicts the server sends.
- An answer the graph's `response_schema` refuses comes back from the server as an
  error event; it is raised as `RemoteAnswerRefused` (a `DecisionError`), nothing saved.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict
from typing import Any, cast

from langchain_core.messages import BaseMessage, messages_from_dict
from langchain_core.runnables import RunnableConfig
from langgraph.errors import UnknownInterruptError
from langgraph.pregel.remote import RemoteException, RemoteGraph
from langgraph.types import Command, StateSnapshot
from langgraph_sdk.errors import ConflictError, NotFoundError, UnprocessableEntityError

from .errors import STRICT_RESUME, RemoteAnswerRefused, RemoteThreadError


def is_remote(graph: Any) -> bool:
    return isinstance(graph, RemoteGraph)


def to_messages(values: Any) -> Any:
    """State values with their `messages` as LangChain messages, as a local graph returns them."""
    if not isinstance(values, Mapping) or not isinstance(values.get("messages"), list):
        return values
    messages = [
        item if isinstance(item, BaseMessage) else messages_from_dict([{"type": item["type"], "data": item}])[0]
        for item in values["messages"]
    ]
    return {**values, "messages": messages}


def _empty_snapshot(config: Mapping[str, Any]) -> StateSnapshot:
    """The state of a thread with no checkpoint yet, as a local graph reports it."""
    return StateSnapshot(
        values={},
        next=(),
        config=cast(RunnableConfig, dict(config)),
        metadata=None,
        created_at=None,
        parent_config=None,
        tasks=(),
        interrupts=(),
    )


class RemoteThread:
    """`get_state` and `stream` of a `RemoteGraph`, made to behave as a local graph's."""

    def __init__(self, remote: RemoteGraph) -> None:
        if remote.sync_client is None:
            raise ValueError("Give the RemoteGraph a url (or a sync_client): the panel calls it synchronously.")
        self.remote = remote
        self.client = remote.sync_client
        self.assistant_id = remote.assistant_id
        self.name = remote.name

    def __repr__(self) -> str:
        return f"RemoteThread({self.assistant_id!r})"

    @staticmethod
    def _thread_id(config: Mapping[str, Any]) -> str:
        return str((config.get("configurable") or {})["thread_id"])

    def get_state(self, config: Mapping[str, Any]) -> StateSnapshot:
        thread_id = self._thread_id(config)
        try:
            state = self.client.threads.get_state(thread_id)
        except NotFoundError:
            return _empty_snapshot(config)  # the first run creates the thread
        except UnprocessableEntityError as error:
            raise RemoteThreadError(
                f"The server refused thread id {thread_id!r} ({_detail(error)}). Its thread ids are UUIDs: "
                "make one with `client.threads.create()` (langgraph_sdk) or `str(uuid.uuid4())`."
            ) from None
        if not state.get("checkpoint"):
            return _empty_snapshot(config)
        snapshot = self.remote._create_state_snapshot(state)
        return snapshot._replace(values=to_messages(snapshot.values))

    def stream(
        self,
        inputs: Any,
        config: Mapping[str, Any],
        *,
        stream_mode: str | Sequence[str] = "values",
        version: str = "v2",
        **_: Any,
    ) -> Iterator[dict[str, Any]]:
        """Run on the server; yield v2 stream parts (`type`, `ns`, `data`, `interrupts`)."""
        modes = [stream_mode] if isinstance(stream_mode, str) else list(stream_mode)
        wire = ["messages-tuple" if mode == "messages" else mode for mode in modes]
        configurable = {
            key: value
            for key, value in (config.get("configurable") or {}).items()
            if key != "thread_id" and not key.startswith("__")
        }
        command = None
        if isinstance(inputs, Command):
            command = {key: value for key, value in asdict(inputs).items() if value not in (None, (), [], {})}
            configurable[STRICT_RESUME] = True
            inputs = None
        thread_id = self._thread_id(config)
        try:
            for part in self.client.runs.stream(  # type: ignore[call-overload]  # modes are checked strings
                thread_id,
                self.assistant_id,
                input=inputs,
                command=command,
                config={"configurable": configurable},
                stream_mode=wire,
                multitask_strategy="reject",
                if_not_exists="create",
            ):
                mode = part.event.split("|", 1)[0]
                if mode == "error":
                    raise _run_error(part.data, thread_id)
                if mode == "messages-tuple":
                    mode = "messages"
                if mode not in modes:
                    continue
                data = part.data
                if mode == "messages" and isinstance(data, (list, tuple)) and data and isinstance(data[0], Mapping):
                    data = (messages_from_dict([{"type": data[0]["type"], "data": data[0]}])[0], *data[1:])
                elif mode == "values":
                    data = to_messages(data)
                yield {"type": mode, "ns": (), "data": data, "interrupts": ()}
        except ConflictError:
            raise RemoteThreadError(
                f"Thread {thread_id} is busy on the server: another client's run is in progress. "
                "Nothing was sent; look at the thread again when it finishes."
            ) from None


def _detail(error: Exception) -> str:
    response = getattr(error, "response", None)
    try:
        return str(response.json().get("detail", error))  # type: ignore[union-attr]  # None raises: caught
    except Exception:
        return str(error)


def _run_error(data: Any, thread_id: str) -> Exception:
    """The exception a local graph would raise for the run's error event."""
    name = data.get("error") if isinstance(data, Mapping) else None
    message = data.get("message", "") if isinstance(data, Mapping) else str(data)
    if name == "UnknownInterruptError":
        return UnknownInterruptError(
            f"The server refused the answer: its interrupt is no longer pending on thread {thread_id}.",
            reason="not_pending",
            interrupt_ids=(),
            pending_ids=(),
        )
    if name == "ValidationError":
        first = message.splitlines()[1:3]
        return RemoteAnswerRefused(
            f"The graph refused the answer ({' '.join(line.strip() for line in first)}); "
            "nothing was saved and the question is still open."
        )
    return RemoteException(data)
