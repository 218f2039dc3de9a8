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
        elif kind in ("integer", "number", "boolean") and (needed or known):
            default = {"integer": 0, "number": 0.0, "boolean": False}[kind]
            fields.append(FormField(name, kind, default if value is None else value, **common))
        else:
            fields.append(FormField(name, "json", "" if value is None else json.dumps(value), **common))
    return tuple(fields)


def parse_json(text: str, what: str = "JSON") -> Any:
    """`json.loads` with a message a reviewer can act on."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise DecisionError(
            f"Malformed {what}: {error.msg} at line {error.lineno}, column {error.colno}. Nothing was sent."
        ) from None


def collect_args(fields: Sequence[FormField], entered: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments a filled-in form stands for (raises `DecisionError` on malformed JSON)."""
    args: dict[str, Any] = {}
    for field in fields:
        value = entered.get(field.name, field.value)
        if field.kind == "json":
            if not str(value).strip():
                continue  # left empty: not sent (the schema check reports it if it is required)
            value = parse_json(str(value), f"JSON in {field.name!r}")
        elif field.kind == "choice" and value is None or field.kind == "text" and value == "" and not field.required:
            continue
        args[field.name] = value
    return args
