"""`ApprovalPanel`: small ipywidgets wired to a `Session`, one card per pending interrupt.

Every rule lives in the session (`_session.py`) and the request modules (`_review_requests.py`,
`_answers.py`, `_forms.py`); this module and the cards (`_cards.py`, `_edit_form.py`) only build
widgets from their results and turns clicks into calls to them. A click and
`panel.decide(...)` take the same path (`_submit`), so scripted playback in notebooks and
tests exercises exactly what a reviewer's click does.

ipywidgets swallows exceptions raised in button callbacks, so every callback here
catches what it can explain and shows it in the panel: in the card it concerns, or in
the panel's own error area.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as widgets
from langchain_core.tools import BaseTool

from ._cards import Card, Shell
from ._governance_panel import GovernanceBox
from ._governance_view import ScopeArg, governance_lines
from ._panel_looks import LOG_ROWS, Looks
from ._panel_text import pre, record_cells, record_line, stream_output
from ._review_requests import ReviewRequest
from ._session import DEFAULT_TIMEOUT_S, DecisionRecord, Outcome, Session, describe_error
from .errors import DecisionError, SessionError
from .models import is_online


class ApprovalPanel(widgets.VBox):
    """Render every pending interrupt of a graph's thread inline, and resume it.

    `ApprovalPanel(graph, config)` works with any compiled graph that has a checkpointer.
    `run(inputs)` runs the graph until it pauses or ends; each pending interrupt gets a
    card with the decisions its request allows; a decision resumes the graph exactly once
    and the next interrupt shows in the same panel. `decide(decision, interrupt_id=None)`
    takes the same path as a click. Read-only: `pending` (the `Interrupt`s waiting),
    `decisions` (the decision log), `status` (the status line). `str(panel)` is the
    panel as text.
    """

    def __init__(
        self,
        graph: Any,
        config: Mapping[str, Any],
        *,
        tools: Sequence[BaseTool] | Mapping[str, BaseTool] | None = None,
        stream_tokens: bool | None = None,
        use_async: bool | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        reviewer: str | None = None,
        reviewers: Sequence[str] = (),
        signing_key: bytes | str | None = None,
        **kwargs: Any,
    ) -> None:
        """`tools`: the graph's tools, if the panel cannot find them in the graph itself.

        `stream_tokens`: show the model's answer as it is generated. By default it is on
        in online mode (an OpenAI key set and `HITL_OFFLINE` unset), where answers take
        seconds; the offline model answers at once. `use_async`: drive LangGraph's async
        API (by default, when an `async def` node or an async-only tool such as an MCP
        tool needs it). `timeout`: seconds an async run may take before it is stopped.
        """
        super().__init__(**kwargs)
        if stream_tokens is None:
            stream_tokens = is_online()
        self._session = Session(
            graph,
            config,
            tools=tools,
            stream_tokens=stream_tokens,
            use_async=use_async,
            timeout=timeout,
            reviewer=reviewer,
            signing_key=signing_key,
        )
        self._governance = GovernanceBox(self._session, reviewers)
        self._busy = False
        self._cards: dict[str, Card] = {}
        self._outcome = Outcome("new")
        self._error: str | None = None
        self._tokens = ""
        self._status_text = ""
        self._looks = Looks()
        self._spares: list[Shell] = []
        self._header = widgets.HTML(
            f"<b>Approval panel</b> · thread <code>{html.escape(self._session.thread_id)}</code>"
        )
        self._status = widgets.HTML()
        self._prompt = widgets.Text(placeholder="Ask the agent, then press Run", layout=widgets.Layout(width="70%"))
        self._run_button = widgets.Button(description="Run", icon="play", button_style="primary")
        self._run_button.on_click(lambda _: self._run_prompt())
        self._live = widgets.Output()
        self._card_box = widgets.VBox()
        self._answer = widgets.HTML()
        self._errors = widgets.Output()
        self._retry_button = widgets.Button(description="Retry", icon="redo", button_style="warning")
        self._retry_button.on_click(lambda _: self.retry())
        self._history = widgets.HTML()
        self.children = [
            self._header,
            widgets.HBox([self._prompt, self._run_button]),
            self._status,
            self._live,
            self._card_box,
            self._governance.box,
            self._answer,
            self._errors,
            self._retry_button,
            self._history,
        ]
        self._render(self._session.outcome())

    # -- the read-only surface ------------------------------------------------------------
    @property
    def pending(self) -> tuple[Any, ...]:
        """The `Interrupt`s still waiting on this thread (read from the checkpoint)."""
        return self._session.pending

    @property
    def decisions(self) -> tuple[DecisionRecord, ...]:
        """The decision log: what was decided, about which call, when."""
        return self._session.decisions

    @property
    def status(self) -> str:
        """The status line, as text."""
        return self._status_text

    # -- actions ------------------------------------------------------------------------
    def run(self, inputs: Any) -> None:
        """Run the graph on new input (a string becomes a user message) until it pauses or ends."""
        self._act(lambda on_event: self._session.run(inputs, on_event))

    @property
    def reviewer(self) -> str | None:
        """The name put on every decision (a claim, not an identity); settable: the switcher."""
        return self._session.reviewer

    @reviewer.setter
    def reviewer(self, name: str | None) -> None:
        self._governance.switch(name)

    def decide(self, decision: Any, interrupt_id: str | None = None, *, scope: ScopeArg = None) -> None:
        """Answer a pending interrupt as a click would (`interrupt_id` may be a tool call id).

        `scope` (governed reviews): "once", "thread" (always, for this tool in this thread)
        or "pattern" (always, for arguments like these: the card shows the pattern first).
        """
        self._submit(decision, interrupt_id, scope=scope)

    def retry(self) -> None:
        """Run again the step that failed (a tool or the model raised), with any answer it had."""
        self._act(lambda on_event: self._session.retry(on_event))

    def ask_again(self) -> None:
        """Drop an answer whose step then failed, and have its question asked afresh (a fork)."""
        self._act(lambda on_event: self._session.ask_again(on_event))

    def _run_prompt(self) -> None:
        text = self._prompt.value.strip()
        if not text:
            self._show_error("Type a request first.")
            return
        self.run(text)

    def _submit(
        self,
        decision: Any,
        interrupt_id: str | None,
        *,
        action: int | None = None,
        card: Card | None = None,
        scope: ScopeArg = None,
    ) -> None:
        """The one path every decision takes, from a button or from `decide()`."""
        shown = card is not None and self._cards.get(card.request.interrupt_id) is card
        target = card if shown else self._card_for(interrupt_id)  # a stale card is gone: report in the panel
        self._act(
            lambda on_event: self._session.decide(
                decision, interrupt_id, action=action, on_event=on_event, scope=scope
            ),
            target,
        )

    def _card_for(self, wanted: str | None) -> Card | None:
        if wanted is None:
            return next(iter(self._cards.values())) if len(self._cards) == 1 else None
        for card in self._cards.values():
            if wanted == card.request.interrupt_id or any(a.call_id == wanted for a in card.request.actions):
                return card
        return None

    def _act(self, work: Callable[[Callable[[str, Any], None]], Outcome], card: Card | None = None) -> None:
        """Run `work` with the buttons disabled; show its outcome, or why it was refused."""
        if self._busy:
            self._show_error("The panel is busy: a run or a decision is in progress. Nothing was sent.", card)
            return
        self._busy = True
        self._set_enabled(False)
        self._show_error(None)
        if card is not None:
            card.show_error(None)
        self._tokens = ""
        self._live.outputs = ()
        self._set_status("⏳ Running…")
        refusal: str | None = None
        try:
            outcome = work(self._on_event)
        except (DecisionError, SessionError) as error:
            outcome, refusal = self._refresh(), str(error)
        except Exception as error:  # a fault outside the graph run: show it, never lose it
            outcome, refusal, card = self._refresh(), f"Unexpected error: {describe_error(error)}", None
        finally:
            self._busy = False
        self._render(outcome)
        if refusal:
            shown = card is not None and self._cards.get(card.request.interrupt_id) is card
            self._show_error(refusal, card if shown else None)

    def _refresh(self) -> Outcome:
        try:
            return self._session.outcome()
        except Exception:  # the checkpointer itself failed: keep what is shown
            return self._outcome

    def _on_event(self, kind: str, data: Any) -> None:
        if kind == "node":
            self._set_status(f"⏳ Running {data}…")
        elif kind == "token":
            self._tokens += data
            self._live.outputs = stream_output(self._tokens, "stdout")

    # -- rendering ----------------------------------------------------------------------
    def _show_error(self, text: str | None, card: Card | None = None) -> None:
        if card is not None:
            card.show_error(text)
        else:
            self._error = text
            self._errors.outputs = stream_output(text or "")

    def _set_status(self, text: str) -> None:
        self._status_text = text
        self._status.value = f"<b>{html.escape(text)}</b>"

    def _set_enabled(self, enabled: bool) -> None:
        for button in self._all_buttons():
            button.disabled = not enabled

    def _all_buttons(self) -> list[widgets.Button]:
        return [self._run_button, self._retry_button, *(b for card in self._cards.values() for b in card.buttons())]

    def _render(self, outcome: Outcome) -> None:
        self._outcome = outcome
        self._sync_cards(outcome.requests)
        self._governance.show(outcome.requests)
        self._set_status(self._describe(outcome))
        if outcome.status == "done":
            self._live.outputs = ()
        self._answer.value = f"<b>Answer</b>{pre(outcome.answer)}" if outcome.answer else ""
        if outcome.error and outcome.status in ("failed", "paused"):
            self._show_error(f"{outcome.node or 'The run'} failed: {outcome.error}")
        answered = any(request.answered for request in outcome.requests)  # its card offers Retry itself
        self._retry_button.layout.display = None if outcome.retryable and not answered else "none"
        self._history.value = self._history_html()
        self._set_enabled(True)
        self._run_button.disabled = outcome.status not in ("new", "done")

    def _sync_cards(self, requests: Sequence[ReviewRequest]) -> None:
        """Keep the cards still pending (with what was typed in them); add new ones."""
        # a card whose request is now answered (its step failed after the answer) is drawn anew
        live = {r.interrupt_id for r in requests if (c := self._cards.get(r.interrupt_id)) is None or c.fits(r)}
        retired = [card for interrupt_id, card in self._cards.items() if interrupt_id not in live]
        lent = set()
        for card in retired:
            if card.shell is not None and len(self._spares) < 4:
                self._spares.append(card.shell)
                lent.add(id(card))
        cards = {}
        for number, request in enumerate(requests, start=1):
            shown = self._cards.get(request.interrupt_id) if request.interrupt_id in live else None
            if shown is None:
                spare = self._spares.pop() if self._spares else None
                shown = Card(self, request, number, self._looks, spare)
            shown.refresh(self._session.drafts(request.interrupt_id))
            cards[request.interrupt_id] = shown
        if [id(card) for card in cards.values()] != [id(card) for card in self._cards.values()]:
            self._card_box.children = [card.box for card in cards.values()]
        self._cards = cards
        for card in retired:  # free their widgets (Jupyter keeps every open one); handlers still refuse stale clicks
            card.close(keep_shell=id(card) in lent)

    def _describe(self, outcome: Outcome) -> str:
        count = len(outcome.requests)
        if outcome.status == "paused":
            return "Waiting for your decision." if count == 1 else f"Waiting for {count} decisions."
        if outcome.status == "waiting":
            return "Waiting for the rest of the batch: decide every action."
        if outcome.status == "done":
            return "Done."
        if outcome.status == "failed" and any(request.answered for request in outcome.requests):
            return f"Failed in {outcome.node or 'the graph'} after its answer; Retry it, or Ask again."
        if outcome.status == "failed":
            return f"Failed in {outcome.node or 'the graph'}; press Retry to run that step again."
        if outcome.status == "stopped":
            return f"Stopped at a breakpoint before {', '.join(outcome.next)}; this panel answers interrupt() only."
        return "Ready: type a request and press Run."

    def _history_html(self) -> str:
        records = self.decisions
        if not records:
            return ""
        shown = records[-LOG_ROWS:]
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in record_cells(record)) + "</tr>"
            for record in shown
        )
        head = "".join(
            f"<th>{name}</th>"
            for name in ("time (UTC)", "decision", "tool", "call id", "args", "edited args", "message")
        )
        more = f" (the last {len(shown)} shown; all are in panel.decisions)" if len(shown) < len(records) else ""
        return (
            f"<details open><summary><b>Decision log ({len(records)}){more}</b></summary>"
            f"<table><tr>{head}</tr>{rows}</table></details>"
        )

    # -- as text --------------------------------------------------------------------------
    def __str__(self) -> str:
        lines = [f"Approval panel · thread {self._session.thread_id!r}", f"Status: {self._status_text}"]
        lines += self._governance.header_lines()
        for card in self._cards.values():
            lines += card.text(self._session.drafts(card.request.interrupt_id))
            lines += governance_lines(card.request)
        if self._outcome.answer:
            lines.append("Answer:")
            lines += [f"    {line}" for line in self._outcome.answer.splitlines()]
        if self._error:
            lines.append(f"! {self._error}")
        records = self.decisions
        if records:
            lines.append(f"Decision log ({len(records)}):")
            for number, record in enumerate(records, start=1):
                lines.append(f"  {number}. " + record_line(record))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"ApprovalPanel(thread={self._session.thread_id!r}, status={self._outcome.status!r})"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        """The widget for Jupyter; the panel as text for anything that shows text (and for nbval)."""
        data = super()._repr_mimebundle_(**kwargs) or {}
        data["text/plain"] = str(self)
        return data
