"""hitl_widgets: learn, teach and demo human-in-the-loop agents with LangGraph.

`get_chat_model()` picks OpenAI when a key is set, else the offline stand-in model.
"""

from .models import get_chat_model
from .offline import OfflineChatModel
from .panel import ApprovalPanel

__all__ = ["ApprovalPanel", "OfflineChatModel", "get_chat_model"]
