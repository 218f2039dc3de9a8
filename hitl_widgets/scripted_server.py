"""A real OpenAI-compatible chat server on 127.0.0.1 that plays replies you wrote in advance.

`ChatOpenAI(base_url=server.base_url, api_key=server.api_key)` talks to it over HTTP exactly as
it talks to OpenAI, so online code (request bodies, tool schemas, streaming, tool call ids)
runs with no network and no key. It is NOT a model: each reply is the next one of a script
(`script(calls(...), says(...))`), whatever the conversation says, so a lesson can show what a
real model *may* do (several calls at once, the rejected call proposed again, a question instead
of a call) and label it as scripted. `requests` records every body it was sent: what a real
model would have read.

    with ScriptedChatServer(script(calls(("lookup_inventory", {"item": "widget-x"})), says("7 left."))) as server:
        model = ChatOpenAI(model="scripted", base_url=server.base_url, api_key=server.api_key)
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = dict[str, Any]
"""One assistant message in OpenAI's wire format (`role`, `content`, optional `tool_calls`)."""
Responder = Callable[[list[dict], list[dict]], Reply]
"""`(messages, tools) -> Reply`: what the server answers to one request."""

SCRIPTED_KEY = "scripted"
"""The API key the server wants by default: not a secret, and it says what answers."""


def says(text: str) -> Reply:
    """A scripted reply that answers in words (and calls nothing)."""
    return {"role": "assistant", "content": text}


def calls(*proposed: tuple[str, Mapping[str, Any]], ids: Sequence[str] | None = None) -> Reply:
    """A scripted reply proposing tool calls, in order: `calls(("name", {args}), ...)`.

    Ids default to `call_scripted_<turn>_<n>` (filled in when served), so saved outputs compare exactly.
    """
    tool_calls = [
        {"id": ids[n] if ids else None, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
        for n, (name, args) in enumerate(proposed)
    ]
    return {"role": "assistant", "content": None, "tool_calls": tool_calls}


class ScriptRanOut(Exception):
    """The model was asked more often than the script has replies."""


def script(*replies: Reply) -> Responder:
    """A responder that serves `replies` one per request, in order, and refuses a request past the end."""
    served = {"count": 0}
    lock = threading.Lock()

    def respond(messages: list[dict], tools: list[dict]) -> Reply:
        with lock:
            turn = served["count"]
            served["count"] += 1
        if turn >= len(replies):
            raise ScriptRanOut(
                f"The script has {len(replies)} replies and this is request {turn + 1}: "
                "add a reply, or check why the graph asked the model again."
            )
        reply = json.loads(json.dumps(replies[turn]))  # a copy: the script can be served again
        for n, call in enumerate(reply.get("tool_calls") or []):
            call["id"] = call["id"] or f"call_scripted_{turn + 1}_{n}"
        return reply

    return respond


class ScriptedChatServer:
    """Serves POST /v1/chat/completions (plain and server-sent events); records every request body.

    `respond` decides each reply (`script(...)` for a fixed list). A wrong key gets OpenAI's
    401, echoing the key the way a careless proxy might, so tests can check callers never
    repeat it. A request past the end of a script gets a 500 naming the problem.
    """

    def __init__(self, respond: Responder, *, api_key: str = SCRIPTED_KEY) -> None:
        self.respond = respond
        self.api_key = api_key
        self.requests: list[dict] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.app = self  # type: ignore[attr-defined]
        self.base_url = f"http://127.0.0.1:{self._httpd.server_port}/v1"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._started = False

    def start(self) -> ScriptedChatServer:
        """Serve in a background thread (a notebook keeps it until `stop()` or the kernel ends)."""
        if not self._started:
            self._thread.start()
            self._started = True
        return self

    def stop(self) -> None:
        if self._started:
            self._httpd.shutdown()
            self._thread.join()
            self._started = False
        self._httpd.server_close()

    def __enter__(self) -> ScriptedChatServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        app: ScriptedChatServer = self.server.app  # type: ignore[attr-defined]
        app.requests.append(body)
        if self.path != "/v1/chat/completions":
            return self._send_json(404, {"error": {"message": f"No route {self.path}"}})
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        if token != app.api_key:
            error = {"message": f"Incorrect API key provided: {token}", "code": "invalid_api_key"}
            return self._send_json(401, {"error": error})
        try:
            message = app.respond(body["messages"], body.get("tools", []))
        except ScriptRanOut as error:
            return self._send_json(500, {"error": {"message": str(error), "code": "script_ran_out"}})
        finish_reason = "tool_calls" if message.get("tool_calls") else "stop"
        head = {"id": "chatcmpl-scripted", "created": 0, "model": body["model"]}
        if body.get("stream"):
            return self._send_stream(head, message, finish_reason)
        choice = {"index": 0, "message": message, "finish_reason": finish_reason}
        usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
        self._send_json(200, {**head, "object": "chat.completion", "choices": [choice], "usage": usage})

    def _send_json(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send_stream(self, head: dict, message: Reply, finish_reason: str) -> None:
        """Server-sent events: the whole message as one delta, then the finish reason."""
        delta: dict[str, Any] = {"role": "assistant", "content": message["content"]}
        if message.get("tool_calls"):
            delta["tool_calls"] = [{"index": n, **call} for n, call in enumerate(message["tool_calls"])]
        chunk = {**head, "object": "chat.completion.chunk"}
        events = [
            {**chunk, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]},
            {**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": finish_reason}]},
        ]
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()  # HTTP/1.0: the stream ends when the connection closes
        for event in events:
            self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, format: str, *args: Any) -> None:
        """Keep notebook and pytest output clean."""
