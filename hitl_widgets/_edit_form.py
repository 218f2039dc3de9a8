"""The edit form: a widget per argument from the tool's schema, or the raw JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
from traitlets import TraitError

from ._answers import edit_decision
from ._forms import FormField, collect_args, form_fields, parse_json
from ._panel_looks import Looks
from ._review_requests import Action
from .errors import DecisionError

if TYPE_CHECKING:
    from ._cards import ActionView


def field_widget(field: FormField, looks: Looks) -> widgets.Widget:
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


class Form:
    """A form generated from a JSON schema; `args()` reads it back."""

    def __init__(self, fields: Sequence[FormField], looks: Looks) -> None:
        self.fields = tuple(fields)
        self.inputs = {field.name: field_widget(field, looks) for field in self.fields}
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


class Editor:
    """Edit a tool call: a form from the tool's argument schema, or the raw JSON."""

    def __init__(self, view: ActionView, action: Action) -> None:
        self.view, self.action = view, action
        looks = view.card.looks
        self.form = Form(form_fields(action.args_schema, action.args), looks) if action.args_schema else None
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
        self.body.children = [self.form.box] if self.form and self.mode.value == "Form" else [self.raw]

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
        if self.form and self.mode.value == "Form":
            return edit_decision(self.action, self.form.args())
        edited = parse_json(self.raw.value, "JSON edit")
        if not isinstance(edited, dict):
            raise DecisionError('The JSON edit must be an object: {"name": "<tool>", "args": {...}}. Nothing was sent.')
        return {"type": "edit", "edited_action": edited}
