"""How the panel writes things down: arguments, diffs, records, error output (text and HTML)."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import Any

from ._review_view import ARROW, ArgRow, Change, record_changes, shorten, value_text
from ._session import DecisionRecord


def short_args(args: Mapping[str, Any], limit: int = 60) -> str:
    """Arguments as JSON, with long strings cut (the text view; the widget shows them whole)."""
    cut = {k: (v[: limit - 1] + "…" if isinstance(v, str) and len(v) > limit else v) for k, v in args.items()}
    return as_json(cut)


def as_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)


def pre(text: str) -> str:
    return f"<pre style='margin:2px 0;white-space:pre-wrap'>{html.escape(text)}</pre>"


def stream_output(text: str, name: str = "stderr") -> tuple[dict[str, str], ...]:
    return (
        ({"output_type": "stream", "name": name, "text": text if text.endswith("\n") else text + "\n"},) if text else ()
    )


# -- arguments and diffs ----------------------------------------------------------------------
def args_html(rows: Sequence[ArgRow]) -> str:
    """Arguments as a table: the name (its schema description on hover), the value, wrapped."""
    if not rows:
        return "<div class='hitl-context'><i>(no arguments)</i></div>"
    body = "".join(
        f"<tr><th scope='row' title='{html.escape(row.description, quote=True)}'>{html.escape(row.name)}</th>"
        f"<td>{html.escape(row.value)}</td></tr>"
        for row in rows
    )
    return f"<table class='hitl-args'>{body}</table>"


def args_lines(rows: Sequence[ArgRow], indent: str, limit: int = 60) -> list[str]:
    """The same table as text, names aligned."""
    if not rows:
        return [f"{indent}(no arguments)"]
    width = max(len(row.name) for row in rows)
    return [f"{indent}{row.name.ljust(width)}  {shorten(row.value, limit)}" for row in rows]


def changes_html(changes: Sequence[Change], limit: int = 80) -> str:
    """`qty: 100 → 50`, the old value struck, the new one highlighted."""
    parts = []
    for change in changes:
        old = "(none)" if change.before is None else shorten(change.before, limit)
        new = "(none)" if change.after is None else shorten(change.after, limit)
        parts.append(
            f"<span class='hitl-change'><b>{html.escape(change.name)}</b>: <del>{html.escape(old)}</del> "
            f"{ARROW} <ins>{html.escape(new)}</ins></span>"
        )
    return "; ".join(parts)


# -- the decision log ---------------------------------------------------------------------------
LOG_COLUMNS = ("time", "decision", "tool", "what changed", "message")


def message_text(record: DecisionRecord) -> str:
    if record.message is None:
        return ""
    return record.message if isinstance(record.message, str) else as_json(record.message)


def record_cells(record: DecisionRecord) -> list[str]:
    """One log row as text: time · decision · tool · what changed · message."""
    return [
        record.at.strftime("%H:%M:%S"),
        record.decision.get("type", ""),
        record.tool or "(question)",
        "; ".join(change.text() for change in record_changes(record)),
        message_text(record),
    ]


def _row_html(record: DecisionRecord) -> str:
    cells = record_cells(record)
    changed = changes_html(record_changes(record))
    return (
        f"<tr><td>{html.escape(cells[0])}</td><td>{html.escape(cells[1])}</td>"
        f"<td title='{html.escape(record.call_id or '', quote=True)}'>{html.escape(cells[2])}</td>"
        f"<td>{changed}</td><td>{html.escape(cells[4])}</td></tr>"
    )


def log_table(rows: Sequence[tuple[int | None, str, DecisionRecord | None]]) -> str:
    """`rows`: (run number, run's request, record); a record of None is a run's separator."""
    body = []
    for run, request, record in rows:
        if record is None:
            label = f"Run {run}" + (f" · {shorten(request, 90)}" if request else "")
            body.append(f"<tr class='hitl-run'><td colspan='5'>{html.escape(label)}</td></tr>")
        else:
            body.append(_row_html(record))
    head = "".join(f"<th scope='col'>{name}</th>" for name in LOG_COLUMNS)
    cols = "<colgroup><col class='t'><col class='d'><col class='n'><col><col></colgroup>"
    return f"<table>{cols}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def record_line(record: DecisionRecord) -> str:
    line = f"{record.decision.get('type', '?')} {record.tool or 'answer'}"
    if record.call_id:
        line += f" ({record.call_id})"
    changes = record_changes(record)
    if changes:
        line += " " + "; ".join(change.text() for change in changes)
    elif record.edited_args is not None:
        line += " (edit sent unchanged)"
    if record.message is not None:
        line += f" message: {message_text(record)}"
    channel, by = record.decision.get("channel"), record.decision.get("by")
    if channel:  # a decision that says how it came (a deadline's resolution, a link)
        line += f" · via {channel}" + (f" ({by})" if by else "")
    return line


def value_line(value: Any) -> str:
    return value_text(value)
