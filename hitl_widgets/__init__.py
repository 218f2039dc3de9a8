"""hitl_widgets: learn, teach and demo human-in-the-loop agents with LangGraph.

The public surface, importable from here:

- `ApprovalPanel(graph, config)`: renders every pending interrupt of a thread and resumes it;
- `get_chat_model()`: OpenAI when `OPENAI_API_KEY` is set, else `OfflineChatModel`, the
  rule-based offline stand-in;
- the exceptions (`DecisionError`, `SessionError`, `StaleDecision`, `ModelConnectionError`).

The modules the lessons import are public too: `graphs` (the finished graphs of each
notebook), `inventory` (the scenario's tools and store), `protocol` (review requests and the
decision check), `persistence` (checkpointers), `diagram` (offline drawings), `local_server`
(LangGraph's local API server), `scripted_server` (a local OpenAI-compatible server that plays
scripted replies), `links` (approval links answered from another process), `inbox` (every
paused thread in one list), `models`, `offline`, `panel` and `errors`. Modules whose
name starts with an underscore are internals and may change without notice.
"""

from .errors import DecisionError, ModelConnectionError, SessionError, StaleDecision
from .models import get_chat_model
from .offline import OfflineChatModel
from .panel import ApprovalPanel

__all__ = [
    "ApprovalPanel",
    "DecisionError",
    "ModelConnectionError",
    "OfflineChatModel",
    "SessionError",
    "StaleDecision",
    "get_chat_model",
]
