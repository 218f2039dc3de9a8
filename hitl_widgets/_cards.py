"""One card per pending interrupt: the buttons of each tool call, or a question's answer box."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ._edit_form import Editor, Form
from ._forms import form_fields, parse_json
from ._panel_looks import KIND_NAMES, LABELS, STYLES, Looks
from ._panel_text import as_json, pre, short_args, stream_output
from ._review_requests import BATCHED, OTHER, Action, ReviewRequest
from .errors import DecisionError

if TYPE_CHECKING:
    from .panel import ApprovalPanel


class Shell:
    """The widgets of a one-action card that hold no handler: a retired card lends them to the next.

    Building widgets is most of what a decision costs the panel, so these are reused.
    Buttons, and the boxes that hold them, never are: a click queued on a card that has
    since been answered must reach that card's handler, which names the old interrupt
    and is refused as stale, and an old card's box keeps showing its own old buttons.
    """

    def __init__(self, looks: Looks) -> None:
        self.info = widgets.HTML(layout=looks.plain, style=looks.html)
        self.message = widgets.Text(
            placeholder="Message to the model (Reject: optional; Respond: the answer)",
            layout=looks.wide,
            style=looks.text,
        )
        self.out = widgets.Output(layout=looks.plain)

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
        self.editor: Editor | None = None  # built on the first click on Edit
        self.parts = parts
        # A batch frames each action; a single action's parts go straight into its card.
        self.box = widgets.VBox(parts, layout=looks.action) if framed else None
        self.container: widgets.Box | None = self.box  # set by the card when None

    def _info(self, draft: Mapping[str, Any] | None) -> str:
        calls = self.header + "".join(
            f"<b>{html.escape(a.name)}</b> <code>{html.escape(a.call_id or '(no call id)')}</code>"
            + pre(as_json(a.args))
            for a in self.actions
        )
        first = self.actions[0]
        if first.description and len(self.actions) == 1:
            calls += pre(first.description)
        if draft:
            calls += f"<i>Decided: {html.escape(draft['type'])}; waiting for the other actions.</i>"
        return calls

    def _handler(self, kind: str) -> Callable[[Any], None]:
        def click(_: Any) -> None:
            if kind == "edit":
                if self.editor is None:
                    assert self.container is not None, "the card sets it"
                    self.editor = Editor(self, self.actions[0])
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
        assert self.editor is not None, "Send edit is on the editor"
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
            lines.append(f"{marker}args: {short_args(action.args)}")
        first = self.actions[0]
        if first.description and len(self.actions) == 1:
            lines.append(f"{marker}{first.description.splitlines()[0]}")
        lines.append(f"{marker}choices: {' | '.join(LABELS[kind] for kind in self.allowed) or '(none allowed)'}")
        if draft:
            lines.append(f"{marker}decided: {draft['type']} (waiting for the rest of the batch)")
        return lines


class AnswerView:
    """A question that is not about a tool call: a form from its schema, or a text answer."""

    def __init__(self, card: Card, request: ReviewRequest, header: str = "") -> None:
        self.card, self.request = card, request
        schema = request.response_schema or {}
        self.form = Form(form_fields(schema), card.looks) if schema.get("properties") else None
        self.text_input = widgets.Textarea(placeholder="Your answer", rows=2, layout=card.looks.wide)
        self.send = widgets.Button(description="Send answer", button_style="info", icon="reply")
        self.send.on_click(lambda _: self._submit())
        shown = self.request.value if isinstance(self.request.value, str) else as_json(self.request.value)
        body = self.form.box if self.form else self.text_input
        self.parts = [
            widgets.HTML(header + pre(shown), layout=card.looks.plain, style=card.looks.html),
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
        shown = self.request.value if isinstance(self.request.value, str) else as_json(self.request.value)
        kind = "form" if self.form else "text answer"
        return [f"{marker}{shown}", f"{' ' * len(marker)}answer with: {kind}"]


class Card:
    """One pending interrupt: what it asks, its buttons, and an area for its errors."""

    def __init__(
        self, panel: ApprovalPanel, request: ReviewRequest, number: int, looks: Looks, spare: Shell | None = None
    ) -> None:
        self.panel, self.request, self.number, self.looks = panel, request, number, looks
        self.error: str | None = None
        title = f"<b>{html.escape(self.title())}</b><br>"
        if request.note:
            title += f"<i>{html.escape(request.note)}</i><br>"
        self.shell: Shell | None = None
        if request.kind == OTHER:
            self.views: list[Any] = [AnswerView(self, request, title)]
        elif request.kind == BATCHED and len(request.actions) != 1:
            self.views = [ActionView(self, (a,), i, framed=True) for i, a in enumerate(request.actions)]
        else:  # one view, straight in the card: the common case, built from a spare shell when there is one
            self.shell = spare.reset() if spare else Shell(looks)
            index = 0 if request.kind == BATCHED else None
            self.views = [ActionView(self, request.actions, index, title, shell=self.shell)]
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
        self.out.outputs = stream_output(text or "")

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
