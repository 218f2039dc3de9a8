"""What a named reviewer adds to a decision, and what a governed request's card says.

No widgets. The session calls `governed_value` on every decision it is about to send: for
a governed review request (one with a `governance` section, from `graphs.build_review_graph`
with a `Policy`) it wraps the checked decision with the request's fingerprint, the
reviewer's name, the scope and an optional signature, and refuses early (nothing sent) what
the graph would refuse anyway: a second approval by the same name, a missing name where the
rule needs one. The graph checks all of it again; this only gives the message sooner.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._review_requests import KIT, ReviewRequest
from .errors import DecisionError
from .policy import describe_pattern
from .protocol import sign_envelope

ScopeArg = str | Mapping[str, Any] | None


def governance_of(request: ReviewRequest) -> Mapping[str, Any] | None:
    value = request.value
    if request.kind == KIT and isinstance(value, Mapping) and isinstance(value.get("governance"), Mapping):
        return value["governance"]
    return None


def scope_for(request: ReviewRequest, scope: ScopeArg) -> dict[str, Any] | None:
    """`"once"`, `"thread"`, `"pattern"` (the pattern the request suggests) or a scope dict."""
    if scope is None or scope == "once":
        return None
    info = governance_of(request) or {}
    if scope == "thread":
        return {"kind": "thread"}
    if scope == "pattern":
        return {"kind": "pattern", "pattern": dict(info.get("suggested_pattern") or {})}
    if isinstance(scope, Mapping):
        return dict(scope)
    raise DecisionError(f"Unknown scope {scope!r}: give 'once', 'thread', 'pattern' or a scope dict. Nothing was sent.")


def governed_value(
    request: ReviewRequest,
    value: Any,
    reviewer: str | None,
    scope: ScopeArg = None,
    signing_key: bytes | str | None = None,
) -> Any:
    """The resume value to send: the envelope for a governed request, else `value` as it is."""
    info = governance_of(request)
    if info is None:
        if scope not in (None, "once"):
            raise DecisionError("Only a governed review (a graph built with a Policy) takes a scope. Nothing was sent.")
        return value
    approvals = list(info.get("approvals") or [])
    needed = int(info.get("approvals_needed") or 1)
    kind = value.get("type") if isinstance(value, Mapping) else None
    if reviewer is None and (needed > 1 or info.get("requester")):
        raise DecisionError(
            "This call needs a named reviewer; nothing was sent. "
            'Open the panel with ApprovalPanel(graph, config, reviewer="your name").'
        )
    if kind == "approve" and reviewer in approvals:
        raise DecisionError(
            f"{reviewer} approved this call already; the next approval must come from another reviewer "
            f"(not {', '.join(approvals)}). Nothing was sent."
        )
    if kind == "approve" and reviewer is not None and reviewer == info.get("requester"):
        raise DecisionError(f"{reviewer} asked for this call and cannot approve it. Nothing was sent.")
    chosen = scope_for(request, scope)
    if chosen is not None and chosen.get("kind") not in info.get("scopes", ["once"]):
        raise DecisionError(f"This review takes {', '.join(info.get('scopes', ['once']))} only. Nothing was sent.")
    envelope: dict[str, Any] = {"decision": dict(value), "fingerprint": request.value["fingerprint"]}
    if reviewer is not None:
        envelope["reviewer"] = reviewer
    if chosen is not None:
        envelope["scope"] = chosen
    return sign_envelope(envelope, signing_key) if signing_key else envelope


def governance_lines(request: ReviewRequest) -> list[str]:
    """The card's governance section, as text (the panel shows the same as HTML)."""
    info = governance_of(request)
    if info is None:
        return []
    lines = [f"    Policy: rule {info.get('rule')!r} asks a human"]
    needed = int(info.get("approvals_needed") or 1)
    approvals = list(info.get("approvals") or [])
    if needed > 1:
        if approvals:
            count = ["", "a second", "a third", "a fourth"]
            which = count[len(approvals)] if len(approvals) < len(count) else "another"
            lines.append(
                f"    {len(approvals)} of {needed} approvals: {', '.join(approvals)}; "
                f"waiting for {which} reviewer (not {', '.join(approvals)})"
            )
        else:
            lines.append(f"    0 of {needed} approvals: needs {needed} distinct reviewers")
    if info.get("requester"):
        lines.append(f"    Requested by {info['requester']}, who cannot approve it")
    if "pattern" in (info.get("scopes") or []):
        tool = request.actions[0].name if request.actions else "this tool"
        covered = describe_pattern(tool, info.get("suggested_pattern"))
        lines.append(f"    'Always' for arguments like these would cover: {covered}")
    if info.get("refused"):
        lines.append(f"    Last answer refused: {info['refused']}")
    return lines
