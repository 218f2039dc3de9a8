"""Forms generated from a JSON schema, as plain data: the panel picks a widget per field."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ._json_schemas import resolve_ref
from .errors import DecisionError

FieldKind = Literal["text", "integer", "number", "boolean", "choice", "json"]


@dataclass(frozen=True)
class FormField:
    """One input of a form generated from a JSON schema; the panel picks the widget."""

    name: str
    kind: FieldKind
    value: Any
    required: bool
    options: tuple[Any, ...] = ()
    label: str = ""
    help: str = ""
    minimum: float | None = None
    """The smallest value allowed (from `minimum`, or `exclusiveMinimum` for a whole number)."""
    maximum: float | None = None
    exclusive: tuple[bool, bool] = (False, False)
    """Whether `minimum` and `maximum` themselves are refused (`exclusiveMinimum`/`exclusiveMaximum`)."""


def _unwrap_optional(spec: dict[str, Any], defs: Mapping[str, Any]) -> dict[str, Any]:
    """`anyOf: [X, null]` (pydantic's Optional) is shown as X."""
    members = spec.get("anyOf")
    if isinstance(members, list):
        solid = [resolve_ref(member, defs) for member in members if resolve_ref(member, defs).get("type") != "null"]
        if len(solid) == 1:
            return {**spec, **solid[0]}
    return spec


def form_fields(schema: Mapping[str, Any] | None, values: Mapping[str, Any] | None = None) -> tuple[FormField, ...]:
    """Fields for an object schema, filled from `values`.

    Text for strings, whole and decimal numbers, a checkbox for booleans, a choice for
    enums, and JSON text for anything else. An optional field that has no value starts
    empty, and an empty optional field is left out of the arguments.
    """
    if not schema:
        return ()
    values = values or {}
    defs = schema.get("$defs", {})
    required = set(schema.get("required", ()))
    fields = []
    for name, raw in (schema.get("properties") or {}).items():
        spec = _unwrap_optional(resolve_ref(raw, defs), defs)
        needed = name in required
        known = name in values
        value = values.get(name, spec.get("default"))
        kind = spec.get("type")
        label = str(spec.get("title") or name)
        common: dict[str, Any] = {"required": needed, "label": label, "help": str(spec.get("description") or "")}
        if "enum" in spec:
            options = tuple(spec["enum"]) if needed else (None, *spec["enum"])
            choice = value if value in options else (None if not needed else options[0])
            fields.append(FormField(name, "choice", choice, options=options, **common))
        elif kind == "string":
            fields.append(FormField(name, "text", "" if value is None else str(value), **common))
        elif kind == "boolean" and (needed or known):
            fields.append(FormField(name, kind, False if value is None else value, **common))
        elif kind in ("integer", "number") and (needed or known):
            fields.append(FormField(name, kind, value, **common, **_bounds(spec)))
        else:
            fields.append(FormField(name, "json", "" if value is None else json.dumps(value), **common))
    return tuple(fields)


def _bounds(spec: Mapping[str, Any]) -> dict[str, Any]:
    low, high = spec.get("minimum"), spec.get("maximum")
    low_x, high_x = spec.get("exclusiveMinimum"), spec.get("exclusiveMaximum")
    exclusive = [False, False]
    if isinstance(low_x, (int, float)) and not isinstance(low_x, bool):
        low, exclusive[0] = low_x, True
    if isinstance(high_x, (int, float)) and not isinstance(high_x, bool):
        high, exclusive[1] = high_x, True
    return {"minimum": low, "maximum": high, "exclusive": tuple(exclusive)}


def number_text(value: Any) -> str:
    """How a number field shows its value (empty when there is none)."""
    return "" if value is None else str(value)


def bounds_text(field: FormField) -> str:
    """The range a number field accepts, said as a hint ("" when unbounded)."""
    parts = []
    if field.minimum is not None:
        parts.append(f"{'more than' if field.exclusive[0] else 'at least'} {_number(field.minimum)}")
    if field.maximum is not None:
        parts.append(f"{'less than' if field.exclusive[1] else 'at most'} {_number(field.maximum)}")
    return " and ".join(parts)


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else str(value)


def check_field(field: FormField, entered: Any) -> tuple[Any, str | None]:
    """The value a field stands for, and what is wrong with it (None: nothing).

    A whole-number field refuses 2.5 (never truncates it), a number outside the schema's bounds
    is refused, and a required field left empty is an error: nothing is reset behind the
    reviewer's back. The value is `_ABSENT` when an optional field is left empty.
    """
    name = field.label or field.name
    if field.kind in ("integer", "number"):
        text = str(entered if entered is not None else "").strip()
        if not text:
            return (_ABSENT, f"{name} is required: type a number.") if field.required else (_ABSENT, None)
        try:
            value: Any = float(text) if field.kind == "number" else int(text.replace("_", ""), 10)
        except ValueError:
            if field.kind == "integer" and _is_decimal(text):
                return _ABSENT, f"{name} must be a whole number; {text} is not (nothing is rounded)."
            return _ABSENT, f"{name} must be a number; {text!r} is not."
        if field.kind == "number" and value != value:  # NaN
            return _ABSENT, f"{name} must be a number; {text!r} is not."
        low, high = field.minimum, field.maximum
        too_low = low is not None and (value <= low if field.exclusive[0] else value < low)
        too_high = high is not None and (value >= high if field.exclusive[1] else value > high)
        if too_low or too_high:
            return _ABSENT, f"{name} must be {bounds_text(field)}; {text} is not."
        return value, None
    if field.kind == "json":
        if not str(entered).strip():
            return _ABSENT, None  # left empty: not sent (the schema check reports it if it is required)
        try:
            return parse_json(str(entered), f"JSON in {field.name!r}"), None
        except DecisionError as error:
            return _ABSENT, str(error).removesuffix(" Nothing was sent.")
    if field.kind == "choice":
        return (_ABSENT, None) if entered is None else (entered, None)
    if field.kind == "text" and entered == "":
        return (_ABSENT, f"{name} is required: it cannot be empty.") if field.required else (_ABSENT, None)
    return entered, None


def _is_decimal(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


_ABSENT = object()


def field_errors(fields: Sequence[FormField], entered: Mapping[str, Any]) -> dict[str, str]:
    """What is wrong with each field now, by name (empty: the form can be sent)."""
    errors = {}
    for field in fields:
        _, error = check_field(field, entered.get(field.name, field.value))
        if error:
            errors[field.name] = error
    return errors


def parse_json(text: str, what: str = "JSON") -> Any:
    """`json.loads` with a message a reviewer can act on."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise DecisionError(
            f"Malformed {what}: {error.msg} at line {error.lineno}, column {error.colno}. Nothing was sent."
        ) from None


def collect_args(fields: Sequence[FormField], entered: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments a filled-in form stands for; raises `DecisionError` naming every field that is wrong."""
    args: dict[str, Any] = {}
    errors = []
    for field in fields:
        value, error = check_field(field, entered.get(field.name, field.value))
        if error:
            errors.append(error)
        elif value is not _ABSENT:
            args[field.name] = value
    if errors:
        raise DecisionError(" ".join(errors) + " Nothing was sent.")
    return args
