"""One card per pending interrupt: the buttons of each tool call, or a question's answer box.

A card is visibly new (its number on the thread, a brief highlight, a line saying what the last
decision did) and its decision buttons arm only after `ARM_DELAY_S`, so a second click meant for
the card before lands on a disabled button. A click that would drop what the reviewer typed (an
open edit, a message Approve does not carry) asks first and says what would be lost.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ._answers import ANSWER_TYPES, AnswerType, typed_answer
from ._edit_form import Editor, Form
from ._forms import form_fields
from ._kinds import BY_NAME
from ._panel_looks import KIND_NAMES, LABELS, STYLES, Looks
from ._panel_text import args_html, args_lines, as_json, changes_html, pre, short_args, stream_output
from ._review_requests import BREAKPOINT, QUESTION, Action, ReviewRequest
from ._review_view import Change, arg_rows, changes_text, clean_description, shorten, unsent_input
from .errors import DecisionError
from .expiry import Deadline, countdown_line

if TYPE_CHECKING:
    from .panel import ApprovalPanel

NOT_ARMED = (
    "This card just appeared; its buttons activate in a moment, so a click meant for the previous card "
    "cannot decide this one. Read it, then click again. Nothing was sent."
)


ARMING_NOTE = "<div class='hitl-arming'>⏳ New card: its buttons activate in a moment. Read it first.</div>"


@dataclass(frozen=True)
class CardContext:
    """What the panel knows around a new card: the last decision, the request, the last result."""

    after: str | None = None
    request: str | None = None
    last_tool: str | None = None
    last_result: str | None = None
    replaced: Mapping[str, tuple[Change, ...]] | None = None
    """For a call that replaces a rejected one, by call id: what changed since."""

    def html(self) -> str:
        parts = []
        if self.after:
            parts.append(f"<div class='hitl-after'><b>Last decision:</b> {html.escape(self.after)}</div>")
        context = []
        if self.request:
            context.append(
                f"<div><b>Request:</b> <span title='{html.escape(self.request, quote=True)}'>"
                f"{html.escape(shorten(self.request, 160))}</span></div>"
            )
        if self.last_result is not None:
            context.append(
                f"<details><summary><b>Last tool result</b> ({html.escape(self.last_tool or 'tool')}): "
                f"{html.escape(shorten(self.last_result, 90))}</summary>{pre(self.last_result)}</details>"
            )
        if context:
            parts.append(f"<div class='hitl-context'>{''.join(context)}</div>")
        return "".join(parts)

    def lines(self, indent: str) -> list[str]:
        lines = []
        if self.after:
            lines.append(f"{indent}after: {self.after}")
        if self.request:
            lines.append(f"{indent}request: {shorten(self.request, 100)}")
        if self.last_result is not None:
            lines.append(f"{indent}last tool result: {self.last_tool or 'tool'} {'→'} {shorten(self.last_result, 90)}")
        return lines


class Shell:
    """The widgets of a one-action card that hold no handler: a retired card lends them to the next.

    Building widgets is most of what a decision costs the panel, so these are reused: the
    call's text, the message box, the error area and, for a card, its arming note. Buttons
    never are, nor the row that holds them: a click queued on a card that has since been
    answered must reach that card's handler, which names the old interrupt and is refused
    as stale, and an old card must keep showing its own buttons, never the next card's.
    Nor is the card's own box, so a new card is a new element the front end highlights.
    """

    def __init__(self, looks: Looks, *, card: bool = False) -> None:
        self.info = widgets.HTML(layout=looks.plain, style=looks.html)
        self.message = widgets.Text(
            placeholder="Message to the model (Reject: optional; Respond: the answer)",
            layout=looks.wide,
            style=looks.text,
        )
        self.out = widgets.Output(layout=looks.plain)
        self.arming = widgets.HTML(layout=looks.plain, style=looks.html) if card else None

    def parts(self) -> list[widgets.Widget]:
        return [w for w in (self.info, self.message, self.out, self.arming) if w is not None]

    def reset(self) -> Shell:
        self.message.value = ""
        self.out.outputs = ()
        return self


class ActionView:
    """The buttons for one tool call (or, for the tutorial's payload, all its calls at once)."""

    def __init__(
        self,
        card: Card,
        actions: Sequence[Action],
        index: int | None,
        header: str = "",
        framed: bool = False,
        shell: Shell | None = None,
    ) -> None:
        self.card, self.actions, self.index, self.header = card, tuple(actions), index, header
        looks = card.looks
        shell = shell or Shell(looks)
        self.allowed = self.actions[0].allowed
        self.labels = {**LABELS, **BY_NAME[card.request.kind].labels}
        self.buttons: dict[str, widgets.Button] = {}
        for kind in self.allowed:  # built as they will be shown: each later change is one more message
            button = widgets.Button(
                description=self.labels[kind],
                button_style=STYLES[kind],
                layout=looks.plain,
                style=looks.button,
                disabled=not card.armed,
                _dom_classes=("hitl-expander",) if kind == "edit" else (),
            )
            button.on_click(self._handler(kind))
            self.buttons[kind] = button
        self.info = shell.info
        self.info.value = self._info(None)
        row = widgets.HBox(tuple(self.buttons.values()), layout=looks.plain)
        parts: list[widgets.Widget] = [self.info, row]
        self.message = None
        if {"reject", "respond"} & set(self.allowed):
            self.message = shell.message
            parts.append(self.message)
        self.editor: Editor | None = None  # built on the first click on Edit
        self.confirm: widgets.VBox | None = None  # built when a click would drop typed input
        self.confirm_buttons: list[widgets.Button] = []
        self.parts = parts
        # A batch frames each action; a single action's parts go straight into its card.
        self.box = widgets.VBox(parts, layout=looks.action) if framed else None
        self.container: widgets.Box | None = self.box  # set by the card when None

    def _info(self, draft: Mapping[str, Any] | None) -> str:
        replaced = self.card.context.replaced or {}
        calls = self.header
        for a in self.actions:
            calls += f"<b>{html.escape(a.name)}</b> <code>{html.escape(a.call_id or '(no call id)')}</code>"
            calls += args_html(arg_rows(a.args, a.args_schema))
            changes = replaced.get(a.call_id or "")
            if changes is not None:
                what = changes_html(changes) if changes else "nothing: the same arguments again"
                calls += f"<div class='hitl-after'><b>Replaces the rejected call; changed:</b> {what}</div>"
        first = self.actions[0]
        description = clean_description(first.description, first) if first.description else ""
        if description and len(self.actions) == 1:
            calls += pre(description)
        if draft:
            calls += f"<i>Decided: {html.escape(draft['type'])}; waiting for the other actions.</i>"
        return calls

    def _handler(self, kind: str) -> Callable[[Any], None]:
        def click(_: Any) -> None:
            if not self.card.armed:
                self.card.show_error(NOT_ARMED)
                return
            if kind == "edit":
                self._toggle_editor()
                return
            decision: dict[str, Any] = {"type": kind}
            text = self.message.value.strip() if self.message else ""
            if kind == "respond" or (kind == "reject" and text):
                decision["message"] = text  # the box is for Reject and Respond; Approve carries none
            self._send(kind, decision)

        return click

    def _toggle_editor(self) -> None:
        if self.editor is None:
            assert self.container is not None, "the card sets it"
            self.editor = Editor(self, self.actions[0])
            children = list(self.container.children)
            children.insert(children.index(self.parts[-1]) + 1, self.editor.box)
            self.container.children = children
            self.card.panel._enable_card(self.card)
        self.editor.toggle()
        edit = self.buttons.get("edit")
        if edit is not None:
            (edit.add_class if self.editor.open else edit.remove_class)("hitl-expanded")

    def edit_state(self) -> tuple[Change, ...] | str | None:
        """The open edit's changes (or why it cannot be read); None when there is nothing to lose."""
        if self.editor is None:
            return None
        return self.editor.changes() or None

    def edit_changed(self) -> None:
        """The edit was typed in: say on Approve that it would send the original; clear what is stale."""
        dirty = self.edit_state() is not None
        approve = self.buttons.get("approve")
        label = f"{self.labels['approve']} original" if dirty else self.labels["approve"]
        if approve is not None and approve.description != label:
            approve.description = label
        self._hide_confirm()
        if self.card.error_from_edit and self.editor is not None and not isinstance(self.editor.changes(), str):
            try:
                self.editor.decision()
            except DecisionError:
                return
            self.card.show_error(None)

    def _send(self, kind: str, decision: dict[str, Any]) -> None:
        message = self.message.value if self.message else ""
        lost = unsent_input(kind, self.edit_state(), message)
        if lost:
            self._ask(kind, lost, lambda: self.card.submit(decision, self.index))
        else:
            self._hide_confirm()
            self.card.submit(decision, self.index)

    def _ask(self, kind: str, lost: list[str], go: Callable[[], None]) -> None:
        """Say what the click would drop; send only when the reviewer confirms."""
        looks = self.card.looks
        approve = self.labels["approve"]
        yes_label = {"approve": f"{approve} original anyway", "edit": "Send edit without the message"}.get(
            kind, f"{self.labels.get(kind, kind)} anyway"
        )
        if kind == "approve" and self.edit_state() is None:
            yes_label = f"{approve} without the message"
        yes = widgets.Button(description=yes_label, button_style=STYLES.get(kind, "warning"), layout=looks.plain)
        back = widgets.Button(description="Go back", layout=looks.plain)

        def confirmed(_: Any) -> None:
            self._hide_confirm()
            go()

        yes.on_click(confirmed)
        back.on_click(lambda _: self._hide_confirm())
        note = widgets.HTML(
            "<b>Nothing was sent yet.</b> " + " ".join(html.escape(line) for line in lost),
            layout=looks.plain,
        )
        self._hide_confirm()
        self.confirm = widgets.VBox([note, widgets.HBox([yes, back])])
        self.confirm.add_class("hitl-confirm")
        self.confirm_buttons = [yes, back]
        assert self.container is not None, "the card sets it"
        children = list(self.container.children)
        children.insert(children.index(self.parts[1]) + 1, self.confirm)
        self.container.children = children
        self.card.announce("Nothing was sent yet. " + " ".join(lost))
        self.card.panel._enable_card(self.card)

    def _hide_confirm(self) -> None:
        if self.confirm is None:
            return
        box, self.confirm, self.confirm_buttons = self.confirm, None, []
        if self.container is not None:
            self.container.children = [c for c in self.container.children if c is not box]
        box.close()

    def submit_edit(self) -> None:
        assert self.editor is not None, "Send edit is on the editor"
        if not self.card.armed:
            self.card.show_error(NOT_ARMED)
            return
        try:
            decision = self.editor.decision()
        except DecisionError as error:
            self.card.show_error(str(error), from_edit=True)
            return
        self._send("edit", decision)

    def all_buttons(self) -> list[widgets.Button]:
        return [*self.buttons.values(), *([self.editor.send] if self.editor else []), *self.confirm_buttons]

    def set_draft(self, decision: Mapping[str, Any] | None) -> None:
        info = self._info(decision)
        if self.info.value != info:
            self.info.value = info

    def text(self, marker: str, draft: Mapping[str, Any] | None) -> list[str]:
        lines = []
        replaced = self.card.context.replaced or {}
        for action in self.actions:
            lines.append(f"{marker}{action.name} ({action.call_id or 'no call id'})")
            marker = " " * len(marker)
            lines += args_lines(arg_rows(action.args, action.args_schema), marker + "  ")
            changes = replaced.get(action.call_id or "")
            if changes is not None:
                lines.append(f"{marker}replaces the rejected call; changed: {changes_text(changes) or 'nothing'}")
        first = self.actions[0]
        description = clean_description(first.description, first) if first.description else ""
        if description and len(self.actions) == 1:
            lines.append(f"{marker}{description.splitlines()[0]}")
        lines.append(f"{marker}choices: {' | '.join(self.labels[kind] for kind in self.allowed) or '(none allowed)'}")
        if draft:
            lines.append(f"{marker}decided: {draft['type']} (waiting for the rest of the batch)")
        return lines


class AnswerView:
    """A question that is not about a tool call: a form from its schema, or a typed answer.

    The reviewer picks how the text is read (text, JSON, a number) and Yes / No send True
    / False: the panel never guesses a type from what was typed.
    """

    def __init__(self, card: Card, request: ReviewRequest, header: str = "") -> None:
        self.card, self.request = card, request
        schema = request.response_schema or {}
        self.form = Form(form_fields(schema), card.looks) if schema.get("properties") else None
        self.text_input = widgets.Textarea(placeholder="Your answer", rows=2, layout=card.looks.wide)
        self.answer_type = widgets.ToggleButtons(
            options=list(ANSWER_TYPES),
            value=_answer_type_for(schema),
            description="Read as",
            style={"description_width": "initial"},
        )
        self.send = widgets.Button(description="Send answer", button_style="info", icon="reply")
        self.send.on_click(lambda _: self._submit())
        self.yes_no = [self._choice("Yes", True), self._choice("No", False)] if _takes_yes_no(schema) else []
        body: list[widgets.Widget] = (
            [self.form.box]
            if self.form
            else [self.answer_type, self.text_input, widgets.HBox([self.send, *self.yes_no])]
        )
        self.parts = [
            widgets.HTML(header + pre(self._question()), layout=card.looks.plain, style=card.looks.html),
            *body,
            *([self.send] if self.form else []),
        ]
        self.box = None

    def _choice(self, label: str, value: bool) -> widgets.Button:
        button = widgets.Button(description=label, button_style="success" if value else "danger")
        button.on_click(lambda _: self.card.submit({"type": "respond", "message": value}, None))
        return button

    def _question(self) -> str:
        shown = self.request.value if isinstance(self.request.value, str) else as_json(self.request.value)
        waiting = [f"{c.get('name')} {short_args(c.get('args') or {})}" for c in self.request.waiting_calls]
        return shown + "".join(f"\nwaiting call: {line}" for line in waiting)

    def _submit(self) -> None:
        try:
            if self.form:
                answer: Any = self.form.args()
            else:
                answer = typed_answer(self.text_input.value, self.answer_type.value)
        except DecisionError as error:
            self.card.show_error(str(error))
            return
        self.card.submit({"type": "respond", "message": answer}, None)

    def all_buttons(self) -> list[widgets.Button]:
        return [self.send, *self.yes_no]

    def set_draft(self, decision: Mapping[str, Any] | None) -> None:
        pass

    def text(self, marker: str, draft: Mapping[str, Any] | None) -> list[str]:
        pad = " " * len(marker)
        lines = [
            f"{marker}{line}" if i == 0 else f"{pad}{line}" for i, line in enumerate(self._question().splitlines())
        ]
        if self.form:
            return [*lines, f"{pad}answer with: form"]
        choices = f"text, JSON or a number{', or Yes / No' if self.yes_no else ''}"
        return [*lines, f"{pad}answer with: {choices}"]


def _answer_type_for(schema: Mapping[str, Any]) -> AnswerType:
    kind = schema.get("type")
    if kind in ("integer", "number"):
        return "number"
    if kind in ("object", "array", "boolean"):
        return "JSON"
    return "text"


def _takes_yes_no(schema: Mapping[str, Any]) -> bool:
    return not schema or schema.get("type") == "boolean"


class NoticeView:
    """A pause no decision can answer: an answer already written, or a `NodeInterrupt`.

    An answered one offers Retry (the step again, with that answer, as LangGraph replays
    it) and Ask again (a fork of the checkpoint without the answer, so the question is
    asked afresh); a `NodeInterrupt` offers nothing: only a state update continues it.
    """

    def __init__(self, card: Card, request: ReviewRequest, header: str = "") -> None:
        self.card, self.request = card, request
        self.buttons: list[widgets.Button] = []
        if request.answered is not None:
            self.buttons = [
                self._button("Retry", "warning", "redo", card.panel.retry),
                self._button("Ask again", "", "question", card.panel.ask_again),
            ]
        self.parts = [
            widgets.HTML(header + pre("\n".join(self.lines())), layout=card.looks.plain, style=card.looks.html),
            *([widgets.HBox(self.buttons)] if self.buttons else []),
        ]
        self.box = None

    def _button(self, label: str, style: str, icon: str, act: Callable[[], None]) -> widgets.Button:
        button = widgets.Button(description=label, button_style=style, icon=icon)
        button.on_click(lambda _: act())
        return button

    def lines(self) -> list[str]:
        answered = self.request.answered
        if answered is None:
            shown = self.request.value if isinstance(self.request.value, str) else as_json(self.request.value)
            return [
                shown,
                "Raised by NodeInterrupt (deprecated): it cannot be answered, only continued by updating",
                "the state (graph.update_state(config, {...})) and running the graph again.",
            ]
        call = " · ".join(f"{a.name} {short_args(a.args)}" for a in self.request.actions)
        return [
            *([call] if call else []),
            f"Answered: {as_json(answered.answer) if not isinstance(answered.answer, str) else answered.answer}",
            f"Then the step failed: {answered.error}",
            "Retry runs that step again with this answer. Ask again forks the checkpoint from before",
            "the answer, so the question is asked afresh (the first answer stays in the history).",
        ]

    def all_buttons(self) -> list[widgets.Button]:
        return list(self.buttons)

    def set_draft(self, decision: Mapping[str, Any] | None) -> None:
        pass

    def text(self, marker: str, draft: Mapping[str, Any] | None) -> list[str]:
        pad = " " * len(marker)
        return [f"{marker if i == 0 else pad}{line}" for i, line in enumerate(self.lines())]


class Card:
    """One pending interrupt: what it asks, its buttons, and an area for its errors."""

    def __init__(
        self,
        panel: ApprovalPanel,
        request: ReviewRequest,
        number: int,
        looks: Looks,
        spare: Shell | None = None,
        context: CardContext | None = None,
        armed: bool = True,
    ) -> None:
        self.panel, self.request, self.number, self.looks = panel, request, number, looks
        self.context = context or CardContext()
        self.armed = armed
        self.error: str | None = None
        self.error_from_edit = False
        title = f"<b>{html.escape(self.title())}</b><br>"
        if request.note:
            title += f"<i>{html.escape(request.note)}</i><br>"
        title += self.context.html()
        self.shell: Shell | None = None
        single = request.kind == QUESTION or request.answered is not None or request.kind == BREAKPOINT
        if request.answered is not None or request.kind == BREAKPOINT:
            self.views: list[Any] = [NoticeView(self, request, title)]
        elif request.kind == QUESTION:
            self.views = [AnswerView(self, request, title)]
        elif BY_NAME[request.kind].per_action and len(request.actions) != 1:
            self.views = [ActionView(self, (a,), i, framed=True) for i, a in enumerate(request.actions)]
        else:  # one view, straight in the card: the common case, built from a spare shell when there is one
            self.shell = spare.reset() if spare else Shell(looks, card=True)
            index = 0 if BY_NAME[request.kind].per_action else None
            self.views = [ActionView(self, request.actions, index, title, shell=self.shell)]
        classes = ("hitl-card",) if armed else ("hitl-card", "hitl-new")
        if self.shell is not None and self.shell.arming is not None:  # the call, its buttons, then the arming note
            self.arming = self.shell.arming
            self.arming.value = "" if armed else ARMING_NOTE
            self.out = self.shell.out
            parts = self.views[0].parts
            children = [*parts[:2], self.arming, *parts[2:], self.out]
        else:
            self.arming = widgets.HTML("" if armed else ARMING_NOTE, layout=looks.plain, style=looks.html)
            self.out = widgets.Output(layout=looks.plain)
            if single:
                children = [*self.views[0].parts, self.arming, self.out]
            else:
                header = widgets.HTML(title, layout=looks.plain, style=looks.html)
                children = [header, self.arming, *(v.box for v in self.views), self.out]
        self.box = widgets.VBox(children, layout=looks.card, _dom_classes=classes)
        if not armed:  # disabled before the box is shown: no moment when a new card takes a click
            for button in self.buttons():
                button.disabled = True
        for view in self.views:
            if view.box is None:
                view.container = self.box
        self.deadline = Deadline.of(request.value) if request.answered is None else None
        self.countdown_text: str | None = None
        self.countdown: widgets.HTML | None = None
        if self.deadline is not None:  # in the box, so closing the card closes it
            self.countdown = widgets.HTML(layout=looks.plain, style=looks.html)
            self.countdown.add_class("hitl-countdown")
            self.box.children = (self.box.children[0], self.countdown, *self.box.children[1:])

    def show_time(self, now: datetime) -> None:
        """Update the countdown (a card without a deadline has none)."""
        if self.countdown is None:
            return
        line = countdown_line(self.request.value, now)
        if line != self.countdown_text:
            self.countdown_text = line
            self.countdown.value = f"<div>⏳ {html.escape(line)}</div>" if line else ""

    def expired(self, now: datetime) -> bool:
        return self.deadline is not None and now >= self.deadline.expires_at

    def title(self) -> str:
        count = len(self.request.actions)
        what = f"{count} actions, decide each" if BY_NAME[self.request.kind].per_action and count > 1 else ""
        if self.request.answered is not None:
            what = "answered; the step then failed"
        if self.request.shared and count > 1:
            what = f"{count} calls, one decision for all"
        return f"[{self.number}] {KIND_NAMES[self.request.kind]}" + (f" ({what})" if what else "")

    def fits(self, request: ReviewRequest) -> bool:
        """True while this card still shows `request` as it stands (not answered since)."""
        return self.request.answered == request.answered

    def arm(self) -> None:
        """The buttons may decide now (the panel enables them unless it is busy)."""
        self.armed = True
        self.arming.value = ""

    def submit(self, decision: Any, index: int | None) -> None:
        if not self.armed:
            self.show_error(NOT_ARMED)
            return
        self.panel._submit(decision, self.request.interrupt_id, action=index, card=self)

    def show_error(self, text: str | None, *, from_edit: bool = False) -> None:
        self.error = text
        self.error_from_edit = from_edit and text is not None
        self.out.outputs = stream_output(text or "")
        if text:
            self.announce(f"Card {self.number}: {text}")

    def announce(self, text: str) -> None:
        self.panel._announce(text)

    def buttons(self) -> list[widgets.Button]:
        return [button for view in self.views for button in view.all_buttons()]

    def close(self, keep_shell: bool) -> None:
        """Close this card's widgets, except a shell lent to the next card."""
        kept = {id(w) for w in self.shell.parts()} if keep_shell and self.shell else set()
        stack: list[widgets.Widget] = [self.box]
        for view in self.views:  # an editor's hidden mode is in no box
            editor = getattr(view, "editor", None)
            if editor is not None:
                stack += [editor.raw, *(editor.form.inputs.values() if editor.form else ())]
                if editor.form:
                    stack.append(editor.form.box)
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
            view.set_draft(drafts.get(position) if BY_NAME[self.request.kind].per_action else None)

    def text(self, drafts: Mapping[int, Mapping[str, Any]]) -> list[str]:
        lines = [self.title(), *self.context.lines("    ")]
        batched = BY_NAME[self.request.kind].per_action and len(self.views) > 1
        for position, view in enumerate(self.views):
            marker = f"  {chr(ord('a') + position)}) " if batched else "    "
            lines += view.text(marker, drafts.get(position) if batched else None)
        if self.request.note:
            lines.append(f"    note: {self.request.note}")
        if self.countdown_text:
            lines.append(f"    ⏳ {self.countdown_text}")
        if self.error:
            lines.append(f"    ! {self.error}")
        return lines
