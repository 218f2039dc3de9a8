"""`ApprovalPanel`: small ipywidgets wired to a `Session`, one card per pending interrupt.

Every rule lives in `hitl_widgets.session` and `hitl_widgets.requests`; this module only
builds widgets from their results and turns clicks into calls to them. A click and
`panel.decide(...)` take the same path (`_submit`), so scripted playback in notebooks and
tests exercises exactly what a reviewer's click does.

ipywidgets swallows exceptions raised in button callbacks, so every callback here
catches what it can explain and shows it in the panel: in the card it concerns, or in
the panel's own error area.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as widgets
from ipywidgets.widgets.widget_string import HTMLStyle, TextStyle
from langchain_core.tools import BaseTool
from traitlets import TraitError

from .models import is_online
from .protocol import DecisionError
from .requests import (
    BATCHED,
    OTHER,
    Action,
    FormField,
    ReviewRequest,
    collect_args,
    edit_decision,
    form_fields,
    parse_json,
)
from .session import DecisionRecord, Outcome, Session, SessionError, describe_error

LABELS = {"approve": "Approve", "edit": "Edit", "reject": "Reject", "respond": "Respond"}
STYLES = {"approve": "success", "edit": "warning", "reject": "danger", "respond": "info"}
LOG_ROWS = 50
"""The decision log shows this many rows at most (the latest); `panel.decisions` has them all."""
KIND_NAMES = {
    "kit": "review request",
    "batched": "HumanInTheLoopMiddleware, batched",
    "per_call": "HumanInTheLoopMiddleware, per call",
    "tutorial": "tutorial payload",
    "other": "question",
}


class _Looks:
    """Layouts and styles shared by a panel's widgets.

    A widget builds its own layout and style objects unless given some, and that is most
    of what a new card costs; the cards of one panel share these (ipywidgets allows it).
    Widgets that show or hide themselves get a layout of their own.
    """

    def __init__(self) -> None:
        self.plain = widgets.Layout()
        self.wide = widgets.Layout(width="95%")
        self.card = widgets.Layout(border="1px solid #bbb", padding="6px", margin="4px 0")
        self.action = widgets.Layout(border_left="3px solid #ddd", padding="0 0 0 6px")
        self.button = widgets.ButtonStyle()
        self.text = TextStyle(description_width="initial")
        self.html = HTMLStyle()


def _short(args: Mapping[str, Any], limit: int = 60) -> str:
    """Arguments as JSON, with long strings cut (the text view; the widget shows them whole)."""
    cut = {k: (v[: limit - 1] + "…" if isinstance(v, str) and len(v) > limit else v) for k, v in args.items()}
    return _json(cut)


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _pre(text: str) -> str:
    return f"<pre style='margin:2px 0;white-space:pre-wrap'>{html.escape(text)}</pre>"


def _stream_output(text: str, name: str = "stderr") -> tuple[dict[str, str], ...]:
    return (
        ({"output_type": "stream", "name": name, "text": text if text.endswith("\n") else text + "\n"},) if text else ()
    )


def _field_widget(field: FormField, looks: _Looks) -> widgets.Widget:
    """The input widget for one form field."""
    label = field.label + (" *" if field.required else "")
    common = {"description": label, "style": {"description_width": "initial"}, "tooltip": field.help}
    if field.kind == "integer":
        return widgets.IntText(value=field.value, **common)
    if field.kind == "number":
        return widgets.FloatText(value=field.value, **common)
    if field.kind == "boolean":
        return widgets.Checkbox(value=bool(field.value), indent=False, description=label)
    if field.kind == "choice":
        options = [("(not set)" if option is None else str(option), option) for option in field.options]
        return widgets.Dropdown(options=options, value=field.value, **common)
    placeholder = "JSON" if field.kind == "json" else ""
    return widgets.Text(value=field.value, placeholder=placeholder, layout=looks.wide, **common)


class _Form:
    """A form generated from a JSON schema; `args()` reads it back."""

    def __init__(self, fields: Sequence[FormField], looks: _Looks) -> None:
        self.fields = tuple(fields)
        self.inputs = {field.name: _field_widget(field, looks) for field in self.fields}
        self.box = widgets.VBox(list(self.inputs.values()))

    def args(self) -> dict[str, Any]:
        return collect_args(self.fields, {name: w.value for name, w in self.inputs.items()})

    def fill(self, values: Mapping[str, Any]) -> None:
        """Put values into the form; one its field cannot hold raises `DecisionError` naming it."""
        for field in self.fields:
            if field.name not in values:
                continue
            value, widget = values[field.name], self.inputs[field.name]
            try:
                widget.value = json.dumps(value) if field.kind == "json" else value
            except (TraitError, TypeError, ValueError):
                raise DecisionError(
                    f"The form cannot show {field.name}={value!r}; fix it in the JSON view. Nothing was sent."
                ) from None


class _Editor:
    """Edit a tool call: a form from the tool's argument schema, or the raw JSON."""

    def __init__(self, view: _ActionView, action: Action) -> None:
        self.view, self.action = view, action
        looks = view.card.looks
        self.form = _Form(form_fields(action.args_schema, action.args), looks) if action.args_schema else None
        self.raw = widgets.Textarea(
            value=json.dumps({"name": action.name, "args": action.args}, indent=2),
            description="Edited action (JSON)",
            rows=6,
            layout=looks.wide,
            style=looks.text,
        )
        modes = ["Form", "JSON"] if self.form and self.form.fields else ["JSON"]
        self.mode = widgets.ToggleButtons(options=modes, value=modes[0], style={"button_width": "70px"})
        self._reverting = False
        self.mode.observe(self._switch, names="value")
        self.send = widgets.Button(description="Send edit", button_style="warning", icon="check")
        self.send.on_click(lambda _: self.view.submit_edit())
        self.body = widgets.VBox()
        self.box = widgets.VBox([self.mode, self.body, self.send], layout=widgets.Layout(display="none"))
        self._show_mode()

    def _show_mode(self) -> None:
        self.body.children = [self.form.box] if self.mode.value == "Form" else [self.raw]

    def _switch(self, change: Mapping[str, Any]) -> None:
        """Carry what was typed across: the form into JSON, or the JSON into the form.

        JSON the form cannot hold keeps the JSON view, with a message saying why.
        """
        if self._reverting:
            return
        try:
            if change["new"] == "JSON" and self.form:
                self.raw.value = json.dumps({"name": self.action.name, "args": self.form.args()}, indent=2)
            elif change["new"] == "Form" and self.form:
                edited = parse_json(self.raw.value, "JSON edit")
                if isinstance(edited, dict) and isinstance(edited.get("args"), dict):
                    self.form.fill(edited["args"])
        except DecisionError as error:
            self.view.card.show_error(str(error))
            if change["new"] == "Form":
                self._reverting = True
                try:
                    self.mode.value = "JSON"
                finally:
                    self._reverting = False
        self._show_mode()

    def toggle(self) -> None:
        self.box.layout.display = None if self.box.layout.display == "none" else "none"

    def decision(self) -> dict[str, Any]:
        """The edit decision the editor holds now (raises `DecisionError` on malformed JSON)."""
        if self.mode.value == "Form":
            return edit_decision(self.action, self.form.args())
        edited = parse_json(self.raw.value, "JSON edit")
        if not isinstance(edited, dict):
            raise DecisionError('The JSON edit must be an object: {"name": "<tool>", "args": {...}}. Nothing was sent.')
        return {"type": "edit", "edited_action": edited}


class _Shell:
    """The widgets of a one-action card that hold no handler: a retired card lends them to the next.

    Building widgets is most of what a decision costs the panel, so these are reused.
    Buttons, and the boxes that hold them, never are: a click queued on a card that has
    since been answered must reach that card's handler, which names the old interrupt
    and is refused as stale, and an old card's box keeps showing its own old buttons.
    """

    def __init__(self, looks: _Looks) -> None:
        self.info = widgets.HTML(layout=looks.plain, style=looks.html)
        self.message = widgets.Text(
            placeholder="Message to the model (Reject: optional; Respond: the answer)",
            layout=looks.wide,
            style=looks.text,
        )
        self.out = widgets.Output(layout=looks.plain)

    def reset(self) -> _Shell:
        self.message.value = ""
        self.out.outputs = ()
        return self


class _ActionView:
    """The buttons for one tool call (or, for the tutorial's payload, all its calls at once)."""

    def __init__(
        self,
        card: _Card,
        actions: Sequence[Action],
        index: int | None,
        header: str = "",
        framed: bool = False,
        shell: _Shell | None = None,
    ) -> None:
        self.card, self.actions, self.index, self.header = card, tuple(actions), index, header
        looks = card.looks
        shell = shell or _Shell(looks)
        self.allowed = self.actions[0].allowed
        self.buttons: dict[str, widgets.Button] = {}
        for kind in self.allowed:
            button = widgets.Button(
                description=LABELS[kind], button_style=STYLES[kind], layout=looks.plain, style=looks.button
            )
            button.on_click(self._handler(kind))
            self.buttons[kind] = button
        self.info = shell.info
        self.info.value = self._info(None)
        parts: list[widgets.Widget] = [self.info, widgets.HBox(list(self.buttons.values()), layout=looks.plain)]
        self.message = None
        if {"reject", "respond"} & set(self.allowed):
            self.message = shell.message
            parts.append(self.message)
        self.editor: _Editor | None = None  # built on the first click on Edit
        self.parts = parts
        # A batch frames each action; a single action's parts go straight into its card.
        self.box = widgets.VBox(parts, layout=looks.action) if framed else None
        self.container: widgets.Box | None = self.box  # set by the card when None

    def _info(self, draft: Mapping[str, Any] | None) -> str:
        calls = self.header + "".join(
            f"<b>{html.escape(a.name)}</b> <code>{html.escape(a.call_id or '(no call id)')}</code>"
            + _pre(_json(a.args))
            for a in self.actions
        )
        first = self.actions[0]
        if first.description and len(self.actions) == 1:
            calls += _pre(first.description)
        if draft:
            calls += f"<i>Decided: {html.escape(draft['type'])}; waiting for the other actions.</i>"
        return calls

    def _handler(self, kind: str) -> Callable[[Any], None]:
        def click(_: Any) -> None:
            if kind == "edit":
                if self.editor is None:
                    self.editor = _Editor(self, self.actions[0])
                    children = list(self.container.children)
                    children.insert(children.index(self.parts[-1]) + 1, self.editor.box)
                    self.container.children = children
                self.editor.toggle()
                return
            decision: dict[str, Any] = {"type": kind}
            text = self.message.value.strip() if self.message else ""
            if kind == "respond" or (kind == "reject" and text):
                decision["message"] = text  # the box is for Reject and Respond; Approve ignores it
            self.card.submit(decision, self.index)

        return click

    def submit_edit(self) -> None:
        try:
            decision = self.editor.decision()
        except DecisionError as error:
            self.card.show_error(str(error))
            return
        self.card.submit(decision, self.index)

    def all_buttons(self) -> list[widgets.Button]:
        return [*self.buttons.values(), *([self.editor.send] if self.editor else [])]

    def set_draft(self, decision: Mapping[str, Any] | None) -> None:
        info = self._info(decision)
        if self.info.value != info:
            self.info.value = info

    def text(self, marker: str, draft: Mapping[str, Any] | None) -> list[str]:
        lines = []
        for action in self.actions:
            lines.append(f"{marker}{action.name} ({action.call_id or 'no call id'})")
            marker = " " * len(marker)
            lines.append(f"{marker}args: {_short(action.args)}")
        first = self.actions[0]
        if first.description and len(self.actions) == 1:
            lines.append(f"{marker}{first.description.splitlines()[0]}")
        lines.append(f"{marker}choices: {' | '.join(LABELS[kind] for kind in self.allowed) or '(none allowed)'}")
        if draft:
            lines.append(f"{marker}decided: {draft['type']} (waiting for the rest of the batch)")
        return lines


class _AnswerView:
    """A question that is not about a tool call: a form from its schema, or a text answer."""

    def __init__(self, card: _Card, request: ReviewRequest, header: str = "") -> None:
        self.card, self.request = card, request
        schema = request.response_schema or {}
        self.form = _Form(form_fields(schema), card.looks) if schema.get("properties") else None
        self.text_input = widgets.Textarea(placeholder="Your answer", rows=2, layout=card.looks.wide)
        self.send = widgets.Button(description="Send answer", button_style="info", icon="reply")
        self.send.on_click(lambda _: self._submit())
        shown = self.request.value if isinstance(self.request.value, str) else _json(self.request.value)
        body = self.form.box if self.form else self.text_input
        self.parts = [
            widgets.HTML(header + _pre(shown), layout=card.looks.plain, style=card.looks.html),
            body,
            self.send,
        ]
        self.box = None

    def _submit(self) -> None:
        try:
            if self.form:
                answer: Any = self.form.args()
            elif (self.request.response_schema or {}).get("type") not in (None, "string"):
                answer = parse_json(self.text_input.value, "JSON answer")
            else:
                answer = self.text_input.value
        except DecisionError as error:
            self.card.show_error(str(error))
            return
        self.card.submit({"type": "respond", "message": answer}, None)

    def all_buttons(self) -> list[widgets.Button]:
        return [self.send]

    def set_draft(self, decision: Mapping[str, Any] | None) -> None:
        pass

    def text(self, marker: str, draft: Mapping[str, Any] | None) -> list[str]:
        shown = self.request.value if isinstance(self.request.value, str) else _json(self.request.value)
        kind = "form" if self.form else "text answer"
        return [f"{marker}{shown}", f"{' ' * len(marker)}answer with: {kind}"]


class _Card:
    """One pending interrupt: what it asks, its buttons, and an area for its errors."""

    def __init__(
        self, panel: ApprovalPanel, request: ReviewRequest, number: int, looks: _Looks, spare: _Shell | None = None
    ) -> None:
        self.panel, self.request, self.number, self.looks = panel, request, number, looks
        self.error: str | None = None
        title = f"<b>{html.escape(self.title())}</b><br>"
        if request.note:
            title += f"<i>{html.escape(request.note)}</i><br>"
        self.shell: _Shell | None = None
        if request.kind == OTHER:
            self.views: list[Any] = [_AnswerView(self, request, title)]
        elif request.kind == BATCHED and len(request.actions) != 1:
            self.views = [_ActionView(self, (a,), i, framed=True) for i, a in enumerate(request.actions)]
        else:  # one view, straight in the card: the common case, built from a spare shell when there is one
            self.shell = spare.reset() if spare else _Shell(looks)
            index = 0 if request.kind == BATCHED else None
            self.views = [_ActionView(self, request.actions, index, title, shell=self.shell)]
        if self.shell is not None:
            self.out = self.shell.out
            self.box = widgets.VBox([*self.views[0].parts, self.out], layout=looks.card)
        else:
            self.out = widgets.Output(layout=looks.plain)
            header = [] if request.kind == OTHER else [widgets.HTML(title, layout=looks.plain, style=looks.html)]
            parts = self.views[0].parts if request.kind == OTHER else [v.box for v in self.views]
            self.box = widgets.VBox([*header, *parts, self.out], layout=looks.card)
        for view in self.views:
            if view.box is None:
                view.container = self.box

    def title(self) -> str:
        count = len(self.request.actions)
        what = f"{count} actions, decide each" if self.request.kind == BATCHED and count > 1 else ""
        if self.request.shared and count > 1:
            what = f"{count} calls, one decision for all"
        return f"[{self.number}] {KIND_NAMES[self.request.kind]}" + (f" ({what})" if what else "")

    def submit(self, decision: Any, index: int | None) -> None:
        self.panel._submit(decision, self.request.interrupt_id, action=index, card=self)

    def show_error(self, text: str | None) -> None:
        self.error = text
        self.out.outputs = _stream_output(text or "")

    def buttons(self) -> list[widgets.Button]:
        return [button for view in self.views for button in view.all_buttons()]

    def close(self, keep_shell: bool) -> None:
        """Close this card's widgets, except a shell lent to the next card."""
        kept = (
            {id(w) for w in (self.shell.info, self.shell.message, self.shell.out)}
            if keep_shell and self.shell
            else set()
        )
        stack: list[widgets.Widget] = [self.box]
        for view in self.views:  # an editor's hidden mode is in no box
            editor = getattr(view, "editor", None)
            if editor is not None:
                stack += [editor.raw, *(editor.form.inputs.values() if editor.form else ())]
        seen: set[int] = set()
        while stack:
            widget = stack.pop()
            if id(widget) in seen:
                continue
            seen.add(id(widget))
            stack.extend(getattr(widget, "children", ()))
            if id(widget) not in kept:
                widget.close()

    def refresh(self, drafts: Mapping[int, Mapping[str, Any]]) -> None:
        for position, view in enumerate(self.views):
            view.set_draft(drafts.get(position) if self.request.kind == BATCHED else None)

    def text(self, drafts: Mapping[int, Mapping[str, Any]]) -> list[str]:
        lines = [self.title()]
        batched = self.request.kind == BATCHED and len(self.views) > 1
        for position, view in enumerate(self.views):
            marker = f"  {chr(ord('a') + position)}) " if batched else "    "
            lines += view.text(marker, drafts.get(position) if batched else None)
        if self.request.note:
            lines.append(f"    note: {self.request.note}")
        if self.error:
            lines.append(f"    ! {self.error}")
        return lines


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
        **kwargs: Any,
    ) -> None:
        """`tools`: the graph's tools, if the panel cannot find them in the graph itself.

        `stream_tokens`: show the model's answer as it is generated. By default it is on
        in online mode (an OpenAI key set and `HITL_OFFLINE` unset), where answers take
        seconds; the offline model answers at once.
        """
        super().__init__(**kwargs)
        if stream_tokens is None:
            stream_tokens = is_online()
        self._session = Session(graph, config, tools=tools, stream_tokens=stream_tokens)
        self._busy = False
        self._cards: dict[str, _Card] = {}
        self._outcome = Outcome("new")
        self._error: str | None = None
        self._tokens = ""
        self._status_text = ""
        self._looks = _Looks()
        self._spares: list[_Shell] = []
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

    def decide(self, decision: Any, interrupt_id: str | None = None) -> None:
        """Answer a pending interrupt as a click would (`interrupt_id` may be a tool call id)."""
        self._submit(decision, interrupt_id)

    def retry(self) -> None:
        """Run again the step that failed (a tool or the model raised)."""
        self._act(lambda on_event: self._session.retry(on_event))

    def _run_prompt(self) -> None:
        text = self._prompt.value.strip()
        if not text:
            self._show_error("Type a request first.")
            return
        self.run(text)

    def _submit(
        self, decision: Any, interrupt_id: str | None, *, action: int | None = None, card: _Card | None = None
    ) -> None:
        """The one path every decision takes, from a button or from `decide()`."""
        if card is None or self._cards.get(card.request.interrupt_id) is not card:
            card = self._card_for(interrupt_id)  # a stale card is no longer shown: report in the panel
        self._act(lambda on_event: self._session.decide(decision, interrupt_id, action=action, on_event=on_event), card)

    def _card_for(self, wanted: str | None) -> _Card | None:
        if wanted is None:
            return next(iter(self._cards.values())) if len(self._cards) == 1 else None
        for card in self._cards.values():
            if wanted == card.request.interrupt_id or any(a.call_id == wanted for a in card.request.actions):
                return card
        return None

    def _act(self, work: Callable[[Callable[[str, Any], None]], Outcome], card: _Card | None = None) -> None:
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
            self._live.outputs = _stream_output(self._tokens, "stdout")

    # -- rendering ----------------------------------------------------------------------
    def _show_error(self, text: str | None, card: _Card | None = None) -> None:
        if card is not None:
            card.show_error(text)
        else:
            self._error = text
            self._errors.outputs = _stream_output(text or "")

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
        self._set_status(self._describe(outcome))
        if outcome.status == "done":
            self._live.outputs = ()
        self._answer.value = f"<b>Answer</b>{_pre(outcome.answer)}" if outcome.answer else ""
        if outcome.error and outcome.status in ("failed", "paused"):
            self._show_error(f"{outcome.node or 'The run'} failed: {outcome.error}")
        self._retry_button.layout.display = None if outcome.retryable else "none"
        self._history.value = self._history_html()
        self._set_enabled(True)
        self._run_button.disabled = outcome.status not in ("new", "done")

    def _sync_cards(self, requests: Sequence[ReviewRequest]) -> None:
        """Keep the cards still pending (with what was typed in them); add new ones."""
        live = {request.interrupt_id for request in requests}
        retired = [card for interrupt_id, card in self._cards.items() if interrupt_id not in live]
        lent = set()
        for card in retired:
            if card.shell is not None and len(self._spares) < 4:
                self._spares.append(card.shell)
                lent.add(id(card))
        cards = {}
        for number, request in enumerate(requests, start=1):
            card = self._cards.get(request.interrupt_id)
            if card is None:
                spare = self._spares.pop() if self._spares else None
                card = _Card(self, request, number, self._looks, spare)
            card.refresh(self._session.drafts(request.interrupt_id))
            cards[request.interrupt_id] = card
        if list(cards) != list(self._cards):
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
            "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in _record_cells(record)) + "</tr>"
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
        for card in self._cards.values():
            lines += card.text(self._session.drafts(card.request.interrupt_id))
        if self._outcome.answer:
            lines.append("Answer:")
            lines += [f"    {line}" for line in self._outcome.answer.splitlines()]
        if self._error:
            lines.append(f"! {self._error}")
        records = self.decisions
        if records:
            lines.append(f"Decision log ({len(records)}):")
            for number, record in enumerate(records, start=1):
                lines.append(f"  {number}. " + _record_line(record))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"ApprovalPanel(thread={self._session.thread_id!r}, status={self._outcome.status!r})"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        """The widget for Jupyter; the panel as text for anything that shows text (and for nbval)."""
        data = super()._repr_mimebundle_(**kwargs) or {}
        data["text/plain"] = str(self)
        return data


def _record_cells(record: DecisionRecord) -> list[str]:
    return [
        record.at.strftime("%H:%M:%S"),
        record.decision.get("type", ""),
        record.tool or "",
        record.call_id or "",
        _json(record.args) if record.args is not None else "",
        _json(record.edited_args) if record.edited_args is not None else "",
        "" if record.message is None else str(record.message),
    ]


def _record_line(record: DecisionRecord) -> str:
    line = f"{record.decision.get('type', '?')} {record.tool or 'answer'}"
    if record.call_id:
        line += f" ({record.call_id})"
    if record.edited_args is not None:
        line += f" args {_json(record.args)} -> {_json(record.edited_args)}"
    if record.message is not None:
        line += f" message: {record.message if isinstance(record.message, str) else _json(record.message)}"
    return line
