"""LangChain's own standard unit tests for chat models, run against OfflineChatModel.

They check what any LangChain integration must do (init, bind_tools, structured
output, standard params, streaming init), so the offline stand-in behaves like a
hosted model wherever a notebook swaps one for the other.
"""

from langchain_tests.unit_tests import ChatModelUnitTests

from hitl_widgets.offline import OfflineChatModel


class TestOfflineChatModelStandard(ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[OfflineChatModel]:
        return OfflineChatModel

    @property
    def chat_model_params(self) -> dict:
        return {}

    @property
    def has_tool_choice(self) -> bool:
        # bind_tools accepts tool_choice and the model honours a forced tool name.
        return True

    @property
    def has_structured_output(self) -> bool:
        return True
