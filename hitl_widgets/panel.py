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

import asyncio
import html
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import ipywidgets as widgets
from langchain_core.messages import HumanMessage
from langchain_core.tools import BaseTool

from . import _panel_looks
from ._cards import Card, CardContext, Shell
from ._governance_panel import GovernanceBox
from ._governance_view import ScopeArg, governance_lines
from ._panel_looks import ARIA_SCRIPT, LOG_ROWS, LOG_SHOWN, PANEL_CLASS, Looks, style_sheet
from ._panel_text import log_table, pre, record_line, stream_output
from ._review_requests import ReviewRequest
from ._review_view import (
    SKIPPING,
    Expect,
    describe_expect,
    expected_target,
    last_decision_line,
    replaced_call,
    skipped_calls,
    thread_context,
)
from ._session import DEFAULT_TIMEOUT_S, DecisionRecord, Outcome, Session, describe_error
from .errors import DecisionError, SessionError
from .expiry import Clock, claim, countdown_line, sweeper_answer, system_clock
from .models import is_online


class ApprovalPanel(widgets.VBox):
    """Render every pending interrupt of a graph's thread inline, and resume it.

    `ApprovalPanel(graph, config)` works with any compiled graph that has a checkpointer.
    `run(inputs)` runs the graph until it pauses or ends; each pending interrupt gets a
    card with the decisions its request allows; a decision resumes the graph exactly once
    and the next interrupt shows in the same panel. `decide(decision, interrupt_id=None,
    expect=...)` takes the same path as a click; with `expect` it skips, saying so, a call
    that was already decided in the panel. Read-only: `pending` (the `Interrupt`s waiting),
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
        arm_delay: float | None = None,
        reviewer: str | None = None,
        reviewers: Sequence[str] = (),
        signing_key: bytes | str | None = None,
        clock: Clock | None = None,
        **kwargs: Any,
    ) -> None:
        """`tools`: the graph's tools, if the panel cannot find them in the graph itself.

        `arm_delay`: seconds before a new card's buttons take clicks (default `ARM_DELAY_S`
        once the panel is shown in a front end; 0 for a panel never shown, as in unit tests).
        `decide()` never waits for it.

        `stream_tokens`: show the model's answer as it is generated. By default it is on
        in online mode (an OpenAI key set and `HITL_OFFLINE` unset), where answers take
        seconds; the offline model answers at once. `use_async`: drive LangGraph's async
        API (by default, when an `async def` node or an async-only tool such as an MCP
        tool needs it). `timeout`: seconds an async run may take before it is stopped.
        `clock`: what a card's countdown reads (by default the graph's expiry clock); a card
        whose deadline passes resolves to its default (`tick()`, every second once shown).
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
        self._arm_delay = arm_delay
        self._displayed = False
        self._numbers: dict[str, int] = {}
        self._runs: list[tuple[int, str]] = []
        expiry = getattr(graph, "expiry", None)
        self._clock: Clock = clock or (expiry.clock if expiry is not None else system_clock)
        self._expiry_log = getattr(graph, "expiry_log", None)
        self._ticking = False
        self._expired_notes: list[str] = []
        self._expired = widgets.HTML()
        self.add_class(PANEL_CLASS)
        self._style = widgets.HTML(style_sheet())
        self._aria = widgets.Output(layout=widgets.Layout(height="0px", overflow="hidden"))
        self._aria.outputs = (
            {"output_type": "display_data", "data": {"application/javascript": ARIA_SCRIPT}, "metadata": {}},
        )
        self._header = widgets.HTML(
            f"<b>Approval panel</b> · thread <code>{html.escape(self._session.thread_id)}</code>"
        )
        self._status = widgets.HTML()
        self._status.add_class("hitl-live")
        self._announcer = widgets.HTML(layout=widgets.Layout(height="1px", overflow="hidden"))
        self._announcer.add_class("hitl-live")
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
            self._style,
            self._aria,
            self._header,
            widgets.HBox([self._prompt, self._run_button]),
            self._status,
            self._announcer,
            self._live,
            self._card_box,
            self._expired,
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
        start = len(self.decisions)

        def work(on_event: Callable[[str, Any], None]) -> Outcome:
            outcome = self._session.run(inputs, on_event)
            self._runs.append((start, _request_text(inputs)))
            return outcome

        self._act(work)

    @property
    def reviewer(self) -> str | None:
        """The name put on every decision (a claim, not an identity); settable: the switcher."""
        return self._session.reviewer

    @reviewer.setter
    def reviewer(self, name: str | None) -> None:
        self._governance.switch(name)

    def decide(
        self,
        decision: Any,
        interrupt_id: str | None = None,
        *,
        expect: Expect | None = None,
        scope: ScopeArg = None,
    ) -> None:
        """Answer a pending interrupt as a click would (`interrupt_id` may be a tool call id).

        `expect` says which call the decision is meant for: a tool name, or a function that
        gets the tool call (`{"name", "args", "id"}`, or a question's value) and returns True
        for the right one. When no pending call matches (someone decided it in the panel
        already), the decision is not sent: it prints "already decided in the panel,
        skipping" and does nothing, so a scripted cell never acts on the next card.
        `scope` (governed reviews): "once", "thread" (always, for this tool in this thread)
        or "pattern" (always, for arguments like these: the card shows the pattern first).
        """
        if expect is not None:
            try:
                requests = self._session.outcome().requests
            except Exception:  # the checkpointer failed: let the decision path say so
                requests = self._outcome.requests
            whole = isinstance(decision, (list, tuple)) or (isinstance(decision, Mapping) and "decisions" in decision)
            target = expected_target(expect, requests, interrupt_id, self._session.drafts, whole=whole)
            if target is None:
                print(f"{describe_expect(expect)}: {SKIPPING}.")
                return
            interrupt_id = target
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
            self._set_status(self._status_text)

    def _set_status(self, text: str) -> None:
        self._status_text = text
        value = f"<b>{html.escape(text)}</b>"
        if self._error:
            value += f"<div>⚠ {html.escape(self._error)}</div>"
        if self._status.value != value:
            self._status.value = value

    def _announce(self, text: str) -> None:
        """Say it in the panel's polite live region (screen readers read it out)."""
        self._announcer.value = html.escape(text)

    def _set_enabled(self, enabled: bool, *, run: bool = True) -> None:
        """Buttons take clicks only while the panel is idle; Run only when `run` too (nothing is paused)."""
        self._run_button.disabled = not (enabled and run)
        self._retry_button.disabled = not enabled
        for card in self._cards.values():
            self._enable_card(card, enabled)

    def _enable_card(self, card: Card, enabled: bool | None = None) -> None:
        """A card's buttons take clicks only when the panel is idle and the card is armed."""
        on = (not self._busy if enabled is None else enabled) and card.armed
        for button in card.buttons():
            if button.disabled == on:
                button.disabled = not on

    # -- arming ---------------------------------------------------------------------------
    def _delay(self) -> float:
        if self._arm_delay is not None:
            return max(0.0, float(self._arm_delay))
        return _panel_looks.ARM_DELAY_S if self._displayed else 0.0

    def _arm_later(self, card: Card, delay: float) -> None:
        def arm() -> None:
            if self._cards.get(card.request.interrupt_id) is not card:
                return  # answered or gone meanwhile
            card.arm()
            self._enable_card(card)

        try:
            asyncio.get_running_loop().call_later(delay, arm)  # the kernel's loop: arm() runs between messages
        except RuntimeError:
            timer = threading.Timer(delay, arm)
            timer.daemon = True
            timer.start()

    # -- deadlines ------------------------------------------------------------------------
    def tick(self) -> None:
        """Update every countdown; resolve each card whose deadline passed to its default.

        The graph refuses a late decision on its own; this only spares the reviewer a card that
        can no longer be answered. The resolution is claimed in the graph's expiry log first, so
        a sweeper running elsewhere never resumes the same interrupt a second time.
        """
        now = self._clock()
        for card in list(self._cards.values()):
            card.show_time(now)
        if self._busy:
            return
        for card in [card for card in self._cards.values() if card.expired(now)]:
            self._resolve_expired(card, now)

    def _resolve_expired(self, card: Card, now: datetime) -> None:
        value = card.request.value
        answer = sweeper_answer(value, "panel timer")
        log, interrupt_id = self._expiry_log, card.request.interrupt_id
        if answer is None or (log is not None and not claim(log, self._session.thread_id, interrupt_id, "panel", now)):
            return
        decision = answer.get("decision", answer) if "governance" in value else answer
        what = ", ".join(action.name for action in card.request.actions)
        self._expired_notes.append(f"⌛ Card [{card.number}] {what}: {countdown_line(value, now)}.")
        self._expired.value = "".join(f"<div>{html.escape(note)}</div>" for note in self._expired_notes[-3:])
        self._submit(decision, card.request.interrupt_id, card=card)

    def _keep_ticking(self) -> None:
        """Once shown, tick every second while a card has a deadline (between kernel messages)."""
        if self._ticking or not self._displayed or not any(c.deadline for c in self._cards.values()):
            return
        self._ticking = True

        def tick() -> None:
            self._ticking = False
            self.tick()
            self._keep_ticking()

        try:
            asyncio.get_running_loop().call_later(1.0, tick)
        except RuntimeError:
            timer = threading.Timer(1.0, tick)
            timer.daemon = True
            timer.start()

    def _render(self, outcome: Outcome) -> None:
        self._outcome = outcome
        self._sync_cards(outcome.requests, outcome.state)
        now = self._clock()
        for card in self._cards.values():
            card.show_time(now)
        self._keep_ticking()
        self._governance.show(outcome.requests)
        self._set_status(self._describe(outcome))
        if outcome.status == "done":
            self._live.outputs = ()
        self._answer.value = f"<b>Answer</b>{pre(outcome.answer)}" if outcome.answer else ""
        if outcome.error and outcome.status in ("failed", "paused"):
            self._show_error(f"{outcome.node or 'The run'} failed: {outcome.error}")
        answered = any(request.answered for request in outcome.requests)  # its card offers Retry itself
        self._retry_button.layout.display = None if outcome.retryable and not answered else "none"
        history = self._history_html()
        if self._history.value != history:
            self._history.value = history
        self._set_enabled(True, run=outcome.status in ("new", "done"))

    def _sync_cards(self, requests: Sequence[ReviewRequest], state: Any = None) -> None:
        """Keep the cards still pending (with what was typed in them); add new ones, armed later.

        `state`: the snapshot the requests were read from (new cards show its context).
        """
        # a card whose request is now answered (its step failed after the answer) is drawn anew
        live = {r.interrupt_id for r in requests if (c := self._cards.get(r.interrupt_id)) is None or c.fits(r)}
        retired = [card for interrupt_id, card in self._cards.items() if interrupt_id not in live]
        lent = set()
        for card in retired:
            if card.shell is not None and len(self._spares) < 4:
                self._spares.append(card.shell)
                lent.add(id(card))
        cards = {}
        fresh = [r for r in requests if r.interrupt_id not in self._cards or r.interrupt_id not in live]
        context = self._context(state) if fresh else None
        delay = self._delay()
        for request in requests:
            shown = self._cards.get(request.interrupt_id) if request.interrupt_id in live else None
            if shown is None:
                spare = self._spares.pop() if self._spares else None
                number = self._numbers.setdefault(request.interrupt_id, len(self._numbers) + 1)
                assert context is not None, "computed for the new requests"
                shown = Card(self, request, number, self._looks, spare, context=context(request), armed=delay <= 0)
                if delay > 0:
                    self._arm_later(shown, delay)
            shown.refresh(self._session.drafts(request.interrupt_id))
            cards[request.interrupt_id] = shown
        if [id(card) for card in cards.values()] != [id(card) for card in self._cards.values()]:
            self._card_box.children = [card.box for card in cards.values()]
        self._cards = cards
        for card in retired:  # free their widgets (Jupyter keeps every open one); handlers still refuse stale clicks
            card.close(keep_shell=id(card) in lent)

    def _context(self, state: Any) -> Callable[[ReviewRequest], CardContext]:
        """What new cards show around their calls: the last decision, the request, the last result."""
        records = self.decisions
        try:  # the snapshot the outcome was read from; else (an outcome made up here) read it
            values = (state or self._session._graph.get_state(self._session.config)).values
        except Exception:  # no context is better than no card
            values = {}
        found = thread_context(values, skipped_calls(records))
        after = last_decision_line(records, values)

        def context(request: ReviewRequest) -> CardContext:
            replaced = {}
            for action in request.actions:
                changes = replaced_call(records, action)
                if changes is not None:
                    replaced[action.call_id or ""] = changes
            return CardContext(after, found.request, found.last_tool, found.last_result, replaced or None)

        return context

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

    def _log_rows(self, records: Sequence[DecisionRecord]) -> list[tuple[int | None, str, DecisionRecord | None]]:
        """The log's rows, a separator before the first decision of each run when there are several runs."""
        starts = {start: (number, request) for number, (start, request) in enumerate(self._runs, start=1)}
        several = len(self._runs) > 1
        rows: list[tuple[int | None, str, DecisionRecord | None]] = []
        for position, record in enumerate(records):
            if several and position in starts:
                number, request = starts[position]
                rows.append((number, request, None))
            rows.append((None, "", record))
        return rows

    def _history_html(self) -> str:
        records = self.decisions
        if not records:
            return ""
        kept = records[-LOG_ROWS:]
        latest = self._log_rows(records)
        rows = latest[next(i for i, row in enumerate(latest) if row[2] is kept[0]) :]
        recent = [row for row in latest if row[2] is not None][-LOG_SHOWN:]
        # the latest rows, with the separator of the run they start in
        first = latest.index(recent[0])
        if first > 0 and latest[first - 1][2] is None:
            first -= 1
        shown = latest[first:]
        head = f"<b>Decision log ({len(records)})</b>"
        if len(recent) < len(records):
            head += f" · the last {len(recent)} shown"
        more = ""
        if len(recent) < len(records):
            cut = f" (the last {len(kept)}; all are in panel.decisions)" if len(kept) < len(records) else ""
            more = f"<details><summary>show all {len(records)} decisions{cut}</summary>{log_table(rows)}</details>"
        return f"<div class='hitl-log'>{head}{log_table(shown)}{more}</div>"

    # -- as text --------------------------------------------------------------------------
    def __str__(self) -> str:
        lines = [f"Approval panel · thread {self._session.thread_id!r}", f"Status: {self._status_text}"]
        lines += self._governance.header_lines()
        for card in self._cards.values():
            lines += card.text(self._session.drafts(card.request.interrupt_id))
            lines += governance_lines(card.request)
        lines += self._expired_notes
        if self._outcome.answer:
            lines.append("Answer:")
            lines += [f"    {line}" for line in self._outcome.answer.splitlines()]
        if self._error:
            lines.append(f"! {self._error}")
        records = self.decisions
        if records:
            lines.append(f"Decision log ({len(records)}):")
            number = 0
            for run, request, record in self._log_rows(records):
                if record is None:
                    lines.append(f"  -- run {run}: {request}")
                    continue
                number += 1
                lines.append(f"  {number}. " + record_line(record))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"ApprovalPanel(thread={self._session.thread_id!r}, status={self._outcome.status!r})"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        """The widget for Jupyter; the panel as text for anything that shows text (and for nbval)."""
        self._displayed = True  # a front end shows it: a human may click, so new cards arm after a delay
        self._keep_ticking()
        data = super()._repr_mimebundle_(**kwargs) or {}
        data["text/plain"] = str(self)
        return data


def _request_text(inputs: Any) -> str:
    """The user's words in a run's input (a string, or the last human message of a `messages` list)."""
    if isinstance(inputs, str):
        return inputs
    messages = inputs.get("messages") if isinstance(inputs, Mapping) else None
    for message in reversed(messages or []):
        if isinstance(message, HumanMessage):
            return message.text if isinstance(message.text, str) else str(message.content)
        if isinstance(message, tuple) and len(message) == 2 and message[0] in ("user", "human"):
            return str(message[1])
    return ""
