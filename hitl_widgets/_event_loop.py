"""One event loop in a thread of its own, for graphs that only run on LangGraph's async API.

A panel's click handler runs inside Jupyter's own event loop, where `asyncio.run` is not
allowed and awaiting is not possible; plain Python has no loop at all. Both hand the
coroutine to this loop and wait for it, at most `timeout` seconds: a run still going then
is cancelled (a hung tool is reported, never waited on without end). The loop lives as long
as the session, so what a graph opens on it (an MCP session, a connection) stays usable.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from .errors import RunTimedOut

T = TypeVar("T")


class LoopThread:
    """A daemon thread running one asyncio loop; `run(coro, timeout)` waits for a result."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="hitl-async-graph", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise RunTimedOut(
                f"The graph did not finish within {timeout:g} s and was stopped (a tool or the model hangs). "
                "The thread keeps its last saved step: press Retry to run it again."
            ) from None

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
