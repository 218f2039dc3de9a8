"""How the panel writes things down: arguments, records, error output (text and HTML)."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

from ._session import DecisionRecord


def short_args(args: Mapping[str, Any], limit: int = 60) -> str:
    """Arguments as JSON, with long strings cut (the text view; the widget shows them whole)."""
    cut = {k: (v[: limit - 1] + "…" if isinstance(v, str) and len(v) > limit else v) for k, v in args.items()}
    return as_json(cut)


def as_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def pre(text: str) -> str:
    return f"<pre style='margin:2px 0;white-space:pre-wrap'>{html.escape(text)}</pre>"


def stream_output(text: str, name: str = "stderr") -> tuple[dict[str, str], ...]:
    return (
        ({"output_type": "stream", "name": name, "text": text if text.endswith("\n") else text + "\n"},) if text else ()
    )


def record_cells(record: DecisionRecord) -> list[str]:
    return [
        record.at.strftime("%H:%M:%S"),
        record.decision.get("type", ""),
        record.tool or "",
        record.call_id or "",
        as_json(record.args) if record.args is not None else "",
        as_json(record.edited_args) if record.edited_args is not None else "",
        "" if record.message is None else str(record.message),
    ]


def record_line(record: DecisionRecord) -> str:
    line = f"{record.decision.get('type', '?')} {record.tool or 'answer'}"
    if record.call_id:
        line += f" ({record.call_id})"
    if record.edited_args is not None:
        line += f" args {as_json(record.args)} -> {as_json(record.edited_args)}"
    if record.message is not None:
        line += f" message: {record.message if isinstance(record.message, str) else as_json(record.message)}"
    return line
