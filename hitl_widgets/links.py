"""Answers from elsewhere: approve or reject a paused call by following a link.

When a thread pauses at a kit review, `ApprovalLinks.notify` puts a message in an `Outbox`
(a simulated email): the call, and one approve and one reject link for each recipient. A
link carries a single-use token bound to the thread, the interrupt, the call's
fingerprint and the decision; the tokens are stored hashed in the checkpointer's own
database, so any process that opens the same database can serve them, once.

    links = ApprovalLinks(graph, base_url="http://127.0.0.1:8765")
    graph.invoke(inputs, {**config, "callbacks": [links.callback("t1", to=["alice"], outbox=outbox)]})
    with links.serve(port=8765):          # this process, or another one, hours later
        ...                               # GET shows the call and a confirm button; POST resumes

Following a link is refused, and nothing runs, when the token is unknown (forged), used
(by this link or the other link of the same email), bound to a call that is no longer
pending or no longer the same (mismatched), or followed after the request's `expires_at`.
A GET never resumes (mail scanners prefetch links); only the confirm button's POST does.
The decision the graph records names `channel: "link"` and `by:` the link's recipient.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from langgraph.callbacks import GraphCallbackHandler, GraphInterruptEvent

from ._link_tokens import IssuedToken, LinkTokens
from ._session import Outcome, Session
from .audit import utc_now
from .errors import REVIEW_KIND, DecisionError, LinkRefused, SessionError
from .protocol import call_fingerprint

Clock = Callable[[], datetime]
LINK_DECISIONS = ("approve", "reject")
"""The decisions a link can carry; an edit or an answer needs the panel."""
LINK_PATH = "/links/"


@dataclass(frozen=True)
class Notification:
    """One simulated email: who it is for, the call it asks about, and its links.

    Its text (and HTML) never shows the tokens, so a saved notebook output stays the same
    and leaks nothing; `links` holds the real addresses.
    """

    to: str
    thread_id: str
    interrupt_id: str
    tool: str
    args: dict[str, Any]
    expires_at: str | None
    links: dict[str, str] = field(repr=False)

    @property
    def subject(self) -> str:
        return f"Approval needed: {self.tool} on thread {self.thread_id}"

    def __str__(self) -> str:
        deadline = f" before {self.expires_at}" if self.expires_at else ""
        lines = [
            f"To: {self.to}",
            f"Subject: {self.subject}",
            f"The agent wants to run {self.tool} with {json.dumps(self.args, sort_keys=True)}.",
            *(f"  [{kind.capitalize()}] {LINK_PATH}<single-use token>" for kind in self.links),
            f"Each link asks you to confirm, works once{deadline}, and only for this exact call.",
        ]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        body = html.escape(str(self)).replace("\n", "<br>")
        return f"<div style='border:1px solid #ccc;padding:6px;font-family:monospace'>{body}</div>"


class Outbox:
    """The messages sent so far, in memory and (with `path`) as JSON lines another process can read."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else None
        self._messages: list[Notification] = []

    def send(self, message: Notification) -> None:
        self._messages.append(message)
        if self.path is not None:
            with self.path.open("a", encoding="utf-8") as spool:
                spool.write(json.dumps(message.__dict__) + "\n")

    @property
    def messages(self) -> tuple[Notification, ...]:
        return tuple(self._messages)

    @staticmethod
    def read(path: str | Path) -> list[Notification]:
        """The messages another process wrote to `path`."""
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        return [Notification(**json.loads(line)) for line in lines if line.strip()]

    def __str__(self) -> str:
        return "\n\n".join(str(m) for m in self._messages) or "(the outbox is empty)"

    def __repr__(self) -> str:
        return f"Outbox({len(self._messages)} messages)"


@dataclass(frozen=True)
class LinkPreview:
    """What a followed link is for, checked and not used: what the GET page shows."""

    token: IssuedToken
    tool: str
    args: dict[str, Any]


class _NotifyOnInterrupt(GraphCallbackHandler):
    """LangGraph calls `on_interrupt` when the run pauses; it sends the links then."""

    def __init__(self, send: Callable[[Sequence[Any]], object]) -> None:
        self._send = send

    def on_interrupt(self, event: GraphInterruptEvent) -> None:
        if not event.checkpoint_ns:  # the graph's own pause, not a subgraph's inner one
            self._send(event.interrupts)


class ApprovalLinks:
    """Issue approve / reject links for a graph's paused calls, and turn a followed link into a resume."""

    def __init__(self, graph: Any, *, base_url: str = "", clock: Clock = utc_now) -> None:
        saver = getattr(graph, "checkpointer", None)
        if saver in (None, False):
            raise SessionError("Links need a graph with a checkpointer: the paused thread must outlive this process.")
        self.graph = graph
        self.base_url = base_url.rstrip("/")
        self.clock = clock
        self.tokens = LinkTokens.for_checkpointer(saver)

    # -- sending -----------------------------------------------------------------------------
    def notify(
        self, thread_id: str, interrupts: Iterable[Any] | None = None, *, to: Sequence[str], outbox: Outbox
    ) -> list[Notification]:
        """Send each recipient the links for each kit review pending (once per interrupt and recipient)."""
        if interrupts is None:
            interrupts = self.graph.get_state(_config(thread_id)).interrupts
        sent = []
        for item in interrupts:
            value = item.value
            if not (isinstance(value, dict) and value.get("kind") == REVIEW_KIND):
                continue
            kinds = [kind for kind in LINK_DECISIONS if kind in value.get("allowed_decisions", LINK_DECISIONS)]
            for recipient in to:
                if not kinds or self.tokens.issued_for(thread_id, item.id, recipient):
                    continue
                message = self._message(thread_id, item.id, value, recipient, kinds)
                outbox.send(message)
                sent.append(message)
        return sent

    def callback(self, thread_id: str, *, to: Sequence[str], outbox: Outbox) -> GraphCallbackHandler:
        """A handler for `config["callbacks"]`: each time the run pauses, the links go out."""
        return _NotifyOnInterrupt(lambda interrupts: self.notify(thread_id, interrupts, to=to, outbox=outbox))

    def _message(self, thread_id: str, interrupt_id: str, value: dict, recipient: str, kinds: list[str]):
        call = value["tool_call"]
        fingerprint = value.get("fingerprint") or call_fingerprint(call["name"], call["args"], call.get("id"))
        links = {}
        for kind in kinds:
            token = self.tokens.issue(
                thread_id=thread_id,
                interrupt_id=interrupt_id,
                fingerprint=fingerprint,
                decision=kind,
                recipient=recipient,
                issued_at=self.clock().isoformat(timespec="seconds"),
                expires_at=value.get("expires_at"),
            )
            links[kind] = f"{self.base_url}{LINK_PATH}{token}"
        return Notification(
            recipient, thread_id, interrupt_id, call["name"], dict(call["args"]), value.get("expires_at"), links
        )

    # -- following -----------------------------------------------------------------------------
    def preview(self, token: str) -> LinkPreview:
        """Check a link without using it; raises `LinkRefused` saying why it cannot be followed."""
        issued = self.tokens.find(token)
        if issued is None:
            raise LinkRefused("This link is not valid: no such link was ever sent (a mistyped or forged token).")
        if issued.used_at is not None:
            raise LinkRefused(
                f"This link was used already ({issued.used_at}): a decision for this call was sent through "
                "this link or the other one of the same message. Nothing ran again."
            )
        value = self._pending_value(issued)
        expires_at = value.get("expires_at") or issued.expires_at
        if expires_at and self.clock() > datetime.fromisoformat(expires_at):
            raise LinkRefused(
                f"This link expired at {expires_at}: the request's deadline has passed. Nothing ran; "
                "the thread resolves to its default, or ask for a new review."
            )
        call = value["tool_call"]
        current = value.get("fingerprint") or call_fingerprint(call["name"], call["args"], call.get("id"))
        if current != issued.fingerprint:
            raise LinkRefused(
                f"This link was issued for another call (fingerprint {issued.fingerprint}, the pending call is "
                f"{current}). Nothing ran; use the link sent for this call."
            )
        return LinkPreview(issued, call["name"], dict(call["args"]))

    def follow(self, token: str) -> Outcome:
        """Use the link: check it, claim it (once, across processes), resume the thread with its decision."""
        preview = self.preview(token)
        issued = preview.token
        if not self.tokens.claim(issued, self.clock().isoformat(timespec="seconds")):
            raise LinkRefused("This link was used already, a moment ago (another click or process). Nothing ran again.")
        decision: dict[str, Any] = {"type": issued.decision, "channel": "link", "by": issued.recipient}
        if issued.decision == "reject":
            decision["message"] = f"Rejected by {issued.recipient} through an approval link."
        session = Session(self.graph, _config(issued.thread_id), reviewer=issued.recipient)
        try:
            return session.decide(decision, issued.interrupt_id)
        except (DecisionError, SessionError) as error:
            raise LinkRefused(f"The graph refused this decision: {error} The link is used up.") from None

    def _pending_value(self, issued: IssuedToken) -> dict[str, Any]:
        snapshot = self.graph.get_state(_config(issued.thread_id))
        for item in snapshot.interrupts:
            if item.id == issued.interrupt_id and isinstance(item.value, dict):
                return item.value
        raise LinkRefused(
            f"This link is for a call that is no longer waiting on thread {issued.thread_id!r} "
            "(it was answered some other way, or the run moved on). Nothing ran."
        )

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Any:
        """The small HTTP endpoint (a context manager with `.url`) that turns followed links into resumes."""
        from ._link_server import LinkServer

        return LinkServer(self, host, port)


def _config(thread_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id}}
