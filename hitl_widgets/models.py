"""Pick the chat model for this session: OpenAI when a key is set, else the offline stand-in.

`openai` and `langchain_openai` are imported only when a key is set, so a workshop
laptop without a key never needs them to work (or even to import cleanly).
"""

import os

from dotenv import find_dotenv, load_dotenv
from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr

from .offline import OfflineChatModel

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
# Every variable that can point a session at a hosted model (ChatOpenAI also reads OPENAI_API_BASE).
MODEL_VARIABLES = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_BASE", "OPENAI_MODEL")
OFFLINE_LINE = "Model: OfflineChatModel (rule-based stand-in, no network). Set OPENAI_API_KEY in .env to use OpenAI."

_announced = False


def is_online() -> bool:
    """True when a key is set (in the environment or `.env`) and `HITL_OFFLINE` does not force offline."""
    dotenv_path = find_dotenv(usecwd=True)
    if dotenv_path:
        load_dotenv(dotenv_path, override=False)
    offline_forced = os.environ.get("HITL_OFFLINE", "").strip().lower() in {"1", "true"}
    return bool(os.environ.get("OPENAI_API_KEY", "").strip()) and not offline_forced


def get_chat_model() -> BaseChatModel:
    """Return ChatOpenAI when `OPENAI_API_KEY` is set, else `OfflineChatModel`.

    `.env` is read from the working directory upward and never overrides variables
    already set, so `HITL_OFFLINE=1` from the shell (as `make test` sets it) always wins.
    """
    if not is_online():
        _announce_once(OFFLINE_LINE)
        return OfflineChatModel()
    api_key = os.environ["OPENAI_API_KEY"].strip()

    from ._openai_chat import OPENAI_DEFAULT_BASE_URL, ClearErrorChatOpenAI  # lazy: only sessions with a key pay

    model = os.environ.get("OPENAI_MODEL", "").strip() or DEFAULT_OPENAI_MODEL
    base_url = os.environ.get("OPENAI_BASE_URL", "").strip() or None
    _announce_once(f"Model: {model} via {base_url or OPENAI_DEFAULT_BASE_URL}. Set HITL_OFFLINE=1 to go offline.")
    return ClearErrorChatOpenAI(
        model=model,
        api_key=SecretStr(api_key),
        base_url=base_url,
        temperature=0,
        max_retries=1,  # a flaky network fails fast instead of hanging a live demo
        timeout=30,
    )


def _announce_once(line: str) -> None:
    """Say which model is active the first time one is made; never print the key."""
    global _announced
    if not _announced:
        _announced = True
        print(line)
