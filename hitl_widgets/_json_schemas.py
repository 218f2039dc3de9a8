"""JSON schemas (of tool arguments, of `Interrupt.response_schema`) read into Python types.

The subset tool schemas and pydantic use: objects, enums, consts, unions, arrays, `$ref`s.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, create_model

from .protocol import in_decision_order


def as_json_schema(schema: Any) -> dict[str, Any] | None:
    """`Interrupt.response_schema` as JSON Schema: surfaced ones already are, local ones are types."""
    if schema is None or isinstance(schema, dict):
        return schema
    try:
        return TypeAdapter(schema).json_schema()
    except Exception:  # a type pydantic cannot describe: show no form, let the graph validate
        return None


def resolve_ref(spec: Any, defs: Mapping[str, Any]) -> dict[str, Any]:
    """Follow a local `$ref` into `$defs`."""
    while isinstance(spec, Mapping) and isinstance(spec.get("$ref"), str):
        spec = defs.get(spec["$ref"].rsplit("/", 1)[-1], {})
    return dict(spec) if isinstance(spec, Mapping) else {}


def branches(schema: Mapping[str, Any]) -> list[dict[str, Any]]:
    defs = schema.get("$defs", {})
    members = schema.get("oneOf") or schema.get("anyOf") or [schema]
    return [resolve_ref(member, defs) for member in members]


def allowed_in_schema(schema: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The decision types a decision `response_schema` accepts (its `type` constants)."""
    if not schema:
        return ()
    mapping = (schema.get("discriminator") or {}).get("mapping")
    if mapping:
        return in_decision_order(mapping)
    kinds = [branch.get("properties", {}).get("type", {}).get("const") for branch in branches(schema)]
    return in_decision_order(kind for kind in kinds if kind)


def edit_args_in_schema(schema: Mapping[str, Any] | None, name: str) -> dict[str, Any] | None:
    """The `edited_action.args` schema inside a decision `response_schema`, if it has one."""
    if not schema:
        return None
    defs = schema.get("$defs", {})
    for branch in branches(schema):
        props = branch.get("properties", {})
        if props.get("type", {}).get("const") != "edit":
            continue
        action = resolve_ref(props.get("edited_action"), defs)
        args = resolve_ref(action.get("properties", {}).get("args"), defs)
        if args.get("properties") is not None:
            return {**args, "$defs": defs} if defs else args
    return None


_JSON_TYPES: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "array": list,
    "object": dict,
    "null": type(None),
}


def annotation_for(spec: Mapping[str, Any], defs: Mapping[str, Any]) -> Any:
    """A Python type for one JSON schema (the subset tool schemas use)."""
    spec = resolve_ref(spec, defs)
    if "enum" in spec:
        return Literal[tuple(spec["enum"])]
    if "const" in spec:
        return Literal[spec["const"]]
    for key in ("anyOf", "oneOf"):
        if spec.get(key):
            return Union[tuple(annotation_for(member, defs) for member in spec[key])]  # noqa: UP007
    kind = spec.get("type")
    if isinstance(kind, list):
        return Union[tuple(_JSON_TYPES.get(k, Any) for k in kind)]  # noqa: UP007
    if kind == "array" and spec.get("items"):
        item: Any = annotation_for(spec["items"], defs)
        return list[item]
    if kind == "object" and "properties" in spec:
        return model_from_schema(spec, defs=defs)
    return _JSON_TYPES.get(str(kind), Any)


def model_from_schema(
    schema: Mapping[str, Any], name: str | None = None, defs: Mapping[str, Any] | None = None
) -> type[BaseModel]:
    """A pydantic model for an object JSON schema: required fields, types, enums, defaults."""
    defs = {**(defs or {}), **schema.get("$defs", {})}
    required = set(schema.get("required", ()))
    fields: dict[str, Any] = {}
    for key, spec in (schema.get("properties") or {}).items():
        annotation = annotation_for(spec, defs)
        if key in required:
            fields[key] = (annotation, Field(...))
        else:
            fields[key] = (Optional[annotation], Field(resolve_ref(spec, defs).get("default")))  # noqa: UP045
    extra: Literal["allow", "forbid"] = "allow" if schema.get("additionalProperties") not in (None, False) else "forbid"
    config = ConfigDict(extra=extra, protected_namespaces=())
    return create_model(name or str(schema.get("title") or "Answer"), __config__=config, **fields)
