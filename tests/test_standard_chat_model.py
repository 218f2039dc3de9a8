"""LangChain's own standard tests for chat models, run against OfflineChatModel.

The unit suite checks what any LangChain integration must do (init, bind_tools,
structured output, standard params, streaming init). The integration suite then uses
the model as a learner would: invoke, stream, batch, tool calling with `tool_choice`,
an agent loop, structured output, Unicode arguments. So the offline stand-in behaves
like a hosted model wherever a notebook swaps one for the other.

Only the integration tests that cannot apply to a rule-based, offline stand-in are
skipped, each with its reason (`NOT_APPLICABLE`); `pytest -rs` lists them.
"""

import pytest
from langchain_tests.integration_tests import ChatModelIntegrationTests
from langchain_tests.unit_tests import ChatModelUnitTests

from hitl_widgets.offline import OfflineChatModel

NOT_APPLICABLE = {
    # unit suite
    "test_init_from_env": "the offline model reads no environment variables: it has no key, URL or model to set",
    "test_serdes": "the offline model is not an lc-serializable integration; nothing stores or reloads it",
    # integration suite
    "test_usage_metadata": "a rule-based stand-in uses no tokens, so it reports no usage metadata",
    "test_usage_metadata_streaming": "a rule-based stand-in uses no tokens, so it reports no usage metadata",
    "test_invoke_with_model_override": "there is one rule set and no other model to switch to per call",
    "test_ainvoke_with_model_override": "there is one rule set and no other model to switch to per call",
    "test_stream_with_model_override": "there is one rule set and no other model to switch to per call",
    "test_astream_with_model_override": "there is one rule set and no other model to switch to per call",
    "test_image_inputs": "the offline model reads text only: no images",
    "test_image_tool_message": "the offline model reads text only: no images in tool results",
    "test_pdf_inputs": "the offline model reads text only: no PDFs",
    "test_pdf_tool_message": "the offline model reads text only: no PDFs in tool results",
    "test_audio_inputs": "the offline model reads text only: no audio (and the test downloads its sample)",
    "test_anthropic_inputs": "Anthropic's own content format is for Anthropic models, not a stand-in",
    "test_stream_time": "a VCR benchmark of a provider's HTTP traffic; the offline model makes no HTTP calls",
}
"""Standard tests that do not apply to an offline, rule-based, text-only stand-in, and why."""

MUST_RUN = {
    "test_tool_calling",
    "test_tool_calling_async",
    "test_tool_choice",
    "test_bind_runnables_as_tools",
    "test_agent_loop",
    "test_unicode_tool_call_integration",
    "test_structured_output",
    "test_structured_output_async",
    "test_structured_output_optional_param",
    "test_json_mode",
}
"""What a learner leans on when writing a tool or a structured-output exercise: never skipped."""


class _OfflineParams:
    @property
    def chat_model_class(self) -> type[OfflineChatModel]:
        return OfflineChatModel

    @property
    def chat_model_params(self) -> dict:
        return {}

    @property
    def has_tool_choice(self) -> bool:
        # bind_tools honours a tool name, "any", "required", True, "auto" and "none".
        return True

    @property
    def has_structured_output(self) -> bool:
        return True

    @property
    def supports_json_mode(self) -> bool:
        # method="json_mode": a JSON answer with the keys the request quotes.
        return True

    @property
    def returns_usage_metadata(self) -> bool:
        return False

    @pytest.fixture(autouse=True)
    def _skip_what_does_not_apply(self, request: pytest.FixtureRequest) -> None:
        reason = NOT_APPLICABLE.get(request.node.originalname)
        if reason:
            pytest.skip(f"Not applicable offline: {reason}.")


class TestOfflineChatModelStandard(_OfflineParams, ChatModelUnitTests):
    pass


class TestOfflineChatModelIntegration(_OfflineParams, ChatModelIntegrationTests):
    pass


def test_every_skip_names_a_standard_test_and_none_that_must_run():
    standard = {
        n for base in (ChatModelUnitTests, ChatModelIntegrationTests) for n in dir(base) if n.startswith("test_")
    }
    assert set(NOT_APPLICABLE) <= standard, "a skip names a test langchain-tests no longer has"
    assert standard >= MUST_RUN
    assert not MUST_RUN & set(NOT_APPLICABLE)
