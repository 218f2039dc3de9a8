"""The kit's exceptions and the constants more than one module relies on: one home each.

Every exception here means "nothing was sent" (or, for a model, "nothing was answered"),
and its message says what was wrong and what to do instead, so a notebook can show it
as it is. The wording constants at the end are a contract: the tools and the review
graph write these phrases, and the offline model reads them back to plan its next turn.
Reword one here and both sides follow (and every saved notebook output changes).
"""

from __future__ import annotations

from pydantic import ValidationError


class DecisionError(ValueError):
    """A decision that cannot be carried out; the message says what to send instead."""


class RemoteAnswerRefused(DecisionError):
    """The served graph's `response_schema` refused an answer; nothing was saved."""


class SessionError(RuntimeError):
    """The session refused to do something; nothing was sent to the graph."""


class StaleDecision(SessionError):
    """A decision for an interrupt that is no longer pending; nothing was sent."""


class RunTimedOut(TimeoutError):
    """A run did not finish in time and was cancelled; the checkpoint keeps its last saved step."""


class RemoteThreadError(RuntimeError):
    """The server refused a request about a thread; nothing was sent to the graph."""


class ServerError(RuntimeError):
    """LangGraph's local API server did not start (or stopped); the message ends with the tail of its log."""


class ModelConnectionError(RuntimeError):
    """The model server refused the key or could not be reached; the message names the variable to fix.

    Not to be confused with `langchain_core.exceptions.ModelConnectionError`, which it does not subclass.
    """


def describe_validation_error(error: ValidationError, *, skip: tuple[str, ...] = ()) -> str:
    """The first problem pydantic found, as `where: what` (one line a reviewer can act on).

    `skip` names leading location parts that only repeat what the reader knows already
    (the decision type of a discriminated union, say).
    """
    problem = error.errors()[0]
    location = [str(part) for part in problem["loc"]]
    if location and location[0] in skip:
        location = location[1:]
    where = ".".join(location)
    return f"{where}: {problem['msg']}" if where else problem["msg"]


STRICT_RESUME = "__pregel_strict_resume"
"""LangGraph's own check (the key its server sets): refuse a resume naming no pending interrupt."""

REVIEW_KIND = "hitl_widgets/review"
"""The `kind` of the kit's own review request (`protocol.review_request`)."""

# -- wording the offline model reads back ------------------------------------------------
STOCK_PHRASE = "units in stock"
"""`lookup_inventory` answers `"<item> in <warehouse>: <n> units in stock."`."""

REJECTED_PREFIX = "Rejected by the reviewer"
"""A rejected call's tool message starts with this (`protocol.rejection_message`)."""

REVIEWER_MESSAGE = "Reviewer's message:"
"""In a rejection, the reviewer's own words follow this (`protocol.rejection_message`)."""

EDIT_NOTE_PREFIX = "The reviewer edited this call before it ran."
"""An edited call's tool message starts with this (`protocol.edit_note`)."""

TOOL_RESPONSE_MARKER = "Tool response:"
"""In an edited call's tool message, the tool's own words follow this."""


class LinkRefused(SessionError):
    """A followed approval link that must not resume anything: forged, reused, mismatched or late."""
