"""The link endpoint: a stdlib HTTP server on loopback, GET to look, POST to decide.

    GET  /links/<token>   the call (tool, arguments), the decision, a confirm button; uses nothing
    POST /links/<token>   follows the link (ApprovalLinks.follow) and says what happened

A refused link answers 403 with the reason; an unknown path 404. Pages are never cached
and send no referrer, so a token does not leak into another site's logs.
"""

from __future__ import annotations

import html
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from .errors import LinkRefused

if TYPE_CHECKING:
    from .links import ApprovalLinks

PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
    "<body style='font-family:sans-serif;max-width:40em;margin:2em auto'><h1>{title}</h1>{body}</body></html>"
)


class LinkServer:
    """`ApprovalLinks.serve()`: runs in a daemon thread until `stop()` or the end of a `with` block."""

    def __init__(self, links: ApprovalLinks, host: str, port: int) -> None:
        self.links = links
        handler = type("Handler", (_Handler,), {"links": links})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self.host, self.port = str(self._server.server_address[0]), int(self._server.server_address[1])
        self.url = f"http://{self.host}:{self.port}"
        if not links.base_url:
            links.base_url = self.url
        self._thread = threading.Thread(target=self._server.serve_forever, name="hitl-links", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LinkServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        return "LinkServer(on 127.0.0.1)"


class _Handler(BaseHTTPRequestHandler):
    links: ApprovalLinks

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        """Quiet: a notebook cell's output must not gain a line per request."""

    def _token(self) -> str | None:
        path = self.path.split("?", 1)[0]
        return path[len("/links/") :] if path.startswith("/links/") and len(path) > len("/links/") else None

    def _page(self, status: int, title: str, body: str) -> None:
        data = PAGE.format(title=html.escape(title), body=body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        token = self._token()
        if token is None:
            return self._page(404, "Not found", "<p>Nothing here.</p>")
        try:
            preview = self.links.preview(token)
        except LinkRefused as refused:
            return self._page(403, "Link refused", f"<p>{html.escape(str(refused))}</p>")
        kind = preview.token.decision
        args = html.escape(json.dumps(preview.args, indent=2, sort_keys=True))
        body = (
            f"<p>{html.escape(preview.token.recipient)}, the agent wants to run "
            f"<b>{html.escape(preview.tool)}</b> on thread <code>{html.escape(preview.token.thread_id)}</code> "
            f"with these arguments:</p><pre>{args}</pre>"
            f"<form method='post'><input type='hidden' name='confirm' value='yes'>"
            f"<button type='submit' id='confirm'>Confirm: {html.escape(kind)}</button></form>"
            "<p>Nothing happens until you press the button. The link works once.</p>"
        )
        return self._page(200, f"{kind.capitalize()} {preview.tool}?", body)

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        token = self._token()
        length = int(self.headers.get("Content-Length") or 0)
        form = self.rfile.read(length).decode(errors="replace") if length else ""
        if token is None:
            return self._page(404, "Not found", "<p>Nothing here.</p>")
        if "confirm=yes" not in form.split("&"):
            return self._page(400, "Not confirmed", "<p>Open the link and press the confirm button.</p>")
        try:
            outcome = self.links.follow(token)
        except LinkRefused as refused:
            return self._page(403, "Link refused", f"<p>{html.escape(str(refused))}</p>")
        return self._page(200, "Decision sent", f"<p>Recorded. The thread is now <b>{outcome.status}</b>.</p>")
