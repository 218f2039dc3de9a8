"""A tiny real OpenAI-compatible chat server on 127.0.0.1, so online code runs without the internet.

It asks for `lookup_inventory` when the user spoke last and quotes the tool's result
when a tool spoke last, which is exactly one turn of the kit's inventory agent.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOOL_CALL_ID = "call_local_lookup_1"
LOOKUP_ARGS = {"item": "widget-x", "warehouse": "SF-01"}


class OpenAICompatibleServer:
    """Serves POST /v1/chat/completions (plain and SSE) and records every request body."""

    def __init__(self, api_key: str = "sk-local-test-key"):
        self.api_key = api_key
        self.requests: list[dict] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.app = self
        self.base_url = f"http://127.0.0.1:{self._httpd.server_port}/v1"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> "OpenAICompatibleServer":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()


def reply_to(messages: list[dict], tools: list[dict]) -> dict:
    """The assistant message for this conversation, in OpenAI's wire format."""
    last = messages[-1]
    if last["role"] == "tool":
        return {"role": "assistant", "content": f"The inventory says: {last['content']}"}
    offered = [t["function"]["name"] for t in tools]
    if last["role"] == "user" and "lookup_inventory" in offered:
        call = {
            "id": TOOL_CALL_ID,
            "type": "function",
            "function": {"name": "lookup_inventory", "arguments": json.dumps(LOOKUP_ARGS)},
        }
        return {"role": "assistant", "content": None, "tool_calls": [call]}
    return {"role": "assistant", "content": "I have no inventory tool to call."}


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        app: OpenAICompatibleServer = self.server.app
        app.requests.append(body)
        if self.path != "/v1/chat/completions":
            return self._send_json(404, {"error": {"message": f"No route {self.path}"}})
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        if token != app.api_key:
            # Echo the key the way a careless proxy might: callers must not repeat it.
            error = {"message": f"Incorrect API key provided: {token}", "code": "invalid_api_key"}
            return self._send_json(401, {"error": error})

        message = reply_to(body["messages"], body.get("tools", []))
        finish_reason = "tool_calls" if message.get("tool_calls") else "stop"
        head = {"id": "chatcmpl-local", "created": 0, "model": body["model"]}
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

    def _send_stream(self, head: dict, message: dict, finish_reason: str) -> None:
        """Server-sent events: the whole message as one delta, then the finish reason."""
        delta = {"role": "assistant", "content": message["content"]}
        if message.get("tool_calls"):
            delta["tool_calls"] = [{"index": 0, **call} for call in message["tool_calls"]]
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

    def log_message(self, format: str, *args) -> None:
        """Keep pytest's output clean."""
