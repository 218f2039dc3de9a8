"""ChatOpenAI whose key and connection failures say which variable in .env to fix.

Imported by `get_chat_model` only when a key is set, so offline sessions never load openai.
"""

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import openai
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_openai import ChatOpenAI

from .errors import ModelConnectionError

OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"

OFFLINE_HINT = "or set HITL_OFFLINE=1 to work offline."


class ClearErrorChatOpenAI(ChatOpenAI):
    """ChatOpenAI that raises `ModelConnectionError` naming OPENAI_API_KEY or OPENAI_BASE_URL.

    Wrapping the four private entry points covers invoke, stream, batch and their async twins.
    """

    def _generate(self, *args: Any, **kwargs: Any) -> ChatResult:
        with self._explained_failures():
            return super()._generate(*args, **kwargs)

    async def _agenerate(self, *args: Any, **kwargs: Any) -> ChatResult:
        with self._explained_failures():
            return await super()._agenerate(*args, **kwargs)

    def _stream(self, *args: Any, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        with self._explained_failures():
            yield from super()._stream(*args, **kwargs)

    async def _astream(self, *args: Any, **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        with self._explained_failures():
            async for chunk in super()._astream(*args, **kwargs):
                yield chunk

    @contextmanager
    def _explained_failures(self) -> Iterator[None]:
        server = self.openai_api_base or OPENAI_DEFAULT_BASE_URL
        try:
            yield
        except openai.AuthenticationError:
            # `from None`: the server's own message may echo (part of) the key.
            raise ModelConnectionError(
                f"{server} rejected the API key (HTTP 401). Fix OPENAI_API_KEY in .env, {OFFLINE_HINT}"
            ) from None
        except openai.APITimeoutError as err:  # before APIConnectionError: it is a subclass
            raise ModelConnectionError(
                f"{server} did not answer within {self.request_timeout} s. "
                f"Check OPENAI_BASE_URL in .env and that the server is running, {OFFLINE_HINT}"
            ) from err
        except openai.APIConnectionError as err:
            raise ModelConnectionError(
                f"Cannot connect to {server}. "
                f"Check OPENAI_BASE_URL in .env and that the server is running, {OFFLINE_HINT}"
            ) from err
