"""The edit form: a widget per argument from the tool's schema, or the raw JSON.

Numbers are typed into text boxes and read by `_forms.check_field`, so 2.5 in a whole-number
field, an emptied required field or a value out of the schema's bounds is an error shown under
the form as it is typed (and gone once fixed), never a silent truncation or reset.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
from traitlets import CUnicode, TraitError

from ._answers import edit_decision
from ._forms import FormField, bounds_text, collect_args, field_errors, form_fields, number_text, parse_json
from ._panel_looks import Looks
from ._panel_text import changes_html
from ._review_requests import Action
from ._review_view import Change, arg_changes
from .errors import DecisionError

if TYPE_CHECKING:
    from ._cards import ActionView


class NumberText(widgets.Text):
    """A text box for a number: what is typed is kept as typed, and checked (not parsed) by the form.

    A number assigned from code (`box.value = 50`) is shown as its text.
    """

    value = CUnicode(help="String value").tag(sync=True)


def field_widget(field: FormField, looks: Looks) -> widgets.Widget:
    """The input widget for one form field."""
    label = field.label + (" *" if field.required else "")
    common = {"description": label, "style": {"description_width": "initial"}, "tooltip": field.help}
    if field.kind in ("integer", "number"):
        hint = bounds_text(field)
        placeholder = ("whole number" if field.kind == "integer" else "number") + (f", {hint}" if hint else "")
        return NumberText(value=number_text(field.value), placeholder=placeholder, **common)
    if field.kind == "boolean":
        return widgets.Checkbox(value=bool(field.value), indent=False, description=label)
    if field.kind == "choice":
        options = [("(not set)" if option is None else str(option), option) for option in field.options]
        return widgets.Dropdown(options=options, value=field.value, **common)
    placeholder = "JSON" if field.kind == "json" else ""
    return widgets.Text(value=field.value, placeholder=placeholder, layout=looks.wide, **common)


class Form:
    """A form generated from a JSON schema; `args()` reads it back, `problems` says what is wrong now."""

    def __init__(self, fields: Sequence[FormField], looks: Looks, on_change: Callable[[], None] | None = None) -> None:
        self.fields = tuple(fields)
        self.inputs = {field.name: field_widget(field, looks) for field in self.fields}
        self.problems = widgets.HTML(layout=widgets.Layout(display="none"))
        self.problems.add_class("hitl-field-errors")
        self._on_change = on_change
        for widget in self.inputs.values():
            widget.observe(self._changed, names="value")
        self.box = widgets.VBox([*self.inputs.values(), self.problems])

    def entered(self) -> dict[str, Any]:
        return {name: w.value for name, w in self.inputs.items()}

    def args(self) -> dict[str, Any]:
        return collect_args(self.fields, self.entered())

    def errors(self) -> dict[str, str]:
        return field_errors(self.fields, self.entered())

    def _changed(self, _: Any = None) -> None:
        errors = self.errors()
        text = "".join(f"<div>⚠ {html.escape(error)}</div>" for error in errors.values())
        if self.problems.value != text:
            self.problems.value = text
        self.problems.layout.display = None if errors else "none"
        if self._on_change is not None:
            self._on_change()

    def fill(self, values: Mapping[str, Any]) -> None:
        """Put values into the form; one its field cannot hold raises `DecisionError` naming it."""
        for field in self.fields:
            if field.name not in values:
                continue
            value, widget = values[field.name], self.inputs[field.name]
            try:
                if field.kind == "json":
                    widget.value = json.dumps(value)
                elif field.kind in ("integer", "number"):
                    if isinstance(value, bool) or not isinstance(value, (int, float)):
                        raise ValueError(value)
                    widget.value = number_text(value)
                else:
                    widget.value = value
            except (TraitError, TypeError, ValueError):
                raise DecisionError(
                    f"The form cannot show {field.name}={value!r}; fix it in the JSON view. Nothing was sent."
                ) from None


class Editor:
    """Edit a tool call: a form from the tool's argument schema, or the raw JSON."""

    def __init__(self, view: ActionView, action: Action) -> None:
        self.view, self.action = view, action
        looks = view.card.looks
        self.form = (
            Form(form_fields(action.args_schema, action.args), looks, self._changed) if action.args_schema else None
        )
        self.raw = widgets.Textarea(
            value=self._original_json(),
            description="Edited action (JSON)",
            rows=6,
            layout=looks.wide,
            style=looks.text,
        )
        self.raw.observe(lambda _: self._changed(), names="value")
        modes = ["Form", "JSON"] if self.form and self.form.fields else ["JSON"]
        self.mode = widgets.ToggleButtons(options=modes, value=modes[0], style={"button_width": "70px"})
        self.mode.add_class("hitl-modes")
        self._reverting = False
        self._json_error = False
        self.mode.observe(self._switch, names="value")
        self.send = widgets.Button(description="Send edit", button_style="warning", icon="check")
        self.send.on_click(lambda _: self.view.submit_edit())
        self.body = widgets.VBox()
        self.preview = widgets.HTML(layout=looks.plain)
        self.box = widgets.VBox([self.mode, self.body, self.preview, self.send], layout=widgets.Layout(display="none"))
        self._show_mode()
        self._show_changes()

    def _original_json(self) -> str:
        return json.dumps({"name": self.action.name, "args": self.action.args}, indent=2)

    def _show_mode(self) -> None:
        self.body.children = [self.form.box] if self.form and self.mode.value == "Form" else [self.raw]

    def _changed(self) -> None:
        self._show_changes()
        self.view.edit_changed()

    def _show_changes(self) -> None:
        """The edit as a diff against the proposal, as it is typed: `qty: 100 → 50`."""
        changes = self.changes()
        if isinstance(changes, str):
            text = f"<div class='hitl-context'><b>Your edit:</b> {html.escape(changes)}</div>"
        elif changes:
            text = f"<div class='hitl-context'><b>Your edit:</b> {changes_html(changes)}</div>"
        else:
            text = "<div class='hitl-context'><i>No change yet: this is the proposed call.</i></div>"
        if self.preview.value != text:
            self.preview.value = text

    def _switch(self, change: Mapping[str, Any]) -> None:
        """Carry what was typed across: the form into JSON, or the JSON into the form.

        JSON the form cannot hold keeps the JSON view, with a message saying why; once a
        switch succeeds, that message goes.
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
            self._reverting = True
            try:
                self.mode.value = change["old"]
            finally:
                self._reverting = False
        else:
            self.view.card.show_error(None)  # a fixed error does not stay on screen
        self._show_mode()

    @property
    def open(self) -> bool:
        return self.box.layout.display != "none"

    def toggle(self) -> None:
        self.box.layout.display = None if self.box.layout.display == "none" else "none"

    def changes(self) -> tuple[Change, ...] | str:
        """How the edit differs from the proposal now: the changed arguments, or why it cannot be read."""
        try:
            if self.form and self.mode.value == "Form":
                return arg_changes(self.action.args, self.form.args())
            if self.raw.value == self._original_json():
                return ()
            edited = parse_json(self.raw.value, "JSON edit")
        except DecisionError as error:
            return "not readable: " + str(error).removesuffix(" Nothing was sent.")
        if isinstance(edited, dict) and edited.get("name") == self.action.name and isinstance(edited.get("args"), dict):
            return arg_changes(self.action.args, edited["args"])
        return "the JSON was changed"

    def decision(self) -> dict[str, Any]:
        """The edit decision the editor holds now (raises `DecisionError` on malformed JSON)."""
        if self.form and self.mode.value == "Form":
            return edit_decision(self.action, self.form.args())
        edited = parse_json(self.raw.value, "JSON edit")
        if not isinstance(edited, dict):
            raise DecisionError('The JSON edit must be an object: {"name": "<tool>", "args": {...}}. Nothing was sent.')
        return {"type": "edit", "edited_action": edited}
