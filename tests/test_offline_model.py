"""OfflineChatModel: the rule-based stand-in plans the scenario and reacts to the reviewer.

The scenario is driven with the real tools over a real InventoryStore, and the
reviewer's answers are the kit's own ToolMessages (`rejection_message`, `edit_note`),
so these tests see exactly what a graph would feed the model.
"""

import asyncio
import json
import operator
from functools import reduce

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.tools import tool
from pydantic import BaseModel
from typing_extensions import TypedDict

from hitl_widgets.inventory import InventoryStore, make_tools
from hitl_widgets.offline import OfflineChatModel
from hitl_widgets.protocol import edit_note, rejection_message

ORDER_REQUEST = "Check widget-x in SF-01. If stock is below 10 units, order 100 from 'Acme Supply'."
NOTIFY_REQUEST = (
    "Check widget-x in SF-01. If stock is below 10 units, order 100 from 'Acme Supply' and notify the team on slack."
)


@pytest.fixture
def model(tools):
    return OfflineChatModel().bind_tools(tools)


def run_call(tools, call) -> ToolMessage:
    """Run one proposed call with the real tool, as an unsupervised tool node would."""
    by_name = {t.name: t for t in tools}
    return ToolMessage(by_name[call["name"]].invoke(call["args"]), tool_call_id=call["id"], name=call["name"])


def advance(model, tools, messages: list) -> AIMessage:
    """One model turn; run its tool calls and append everything to `messages`."""
    reply = model.invoke(messages)
    messages.append(reply)
    messages.extend(run_call(tools, call) for call in reply.tool_calls)
    return reply


def run_to_answer(model, tools, request: str, limit: int = 8) -> tuple[list, AIMessage]:
    """The whole loop, unsupervised: returns the transcript and the final answer."""
    messages = [HumanMessage(request)]
    for _ in range(limit):
        reply = advance(model, tools, messages)
        if not reply.tool_calls:
            return messages, reply
    raise AssertionError(f"no final answer after {limit} turns: {messages}")


def names(reply: AIMessage) -> list[str]:
    return [call["name"] for call in reply.tool_calls]


def at_order(model, tools) -> tuple[list, dict]:
    """The transcript up to the proposed (not yet answered) purchase order."""
    messages = [HumanMessage(ORDER_REQUEST)]
    advance(model, tools, messages)  # the lookup, answered with 7 units
    proposal = model.invoke(messages)
    assert names(proposal) == ["create_purchase_order"]
    return [*messages, proposal], proposal.tool_calls[0]


# -- the scenario plan ---------------------------------------------------------------------
def test_first_step_is_a_lookup_of_the_named_item_and_warehouse(model):
    reply = model.invoke(ORDER_REQUEST)
    assert reply.content == ""
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [
        ("lookup_inventory", {"item": "widget-x", "warehouse": "SF-01"})
    ]


def test_orders_when_stock_is_below_the_threshold(model, tools, store):
    messages = [HumanMessage(ORDER_REQUEST)]
    advance(model, tools, messages)
    reply = advance(model, tools, messages)
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [
        ("create_purchase_order", {"item": "widget-x", "qty": 100, "vendor": "Acme Supply"})
    ]
    assert store.purchase_orders() == [{"id": 1, "item": "widget-x", "qty": 100, "vendor": "Acme Supply"}]


def test_does_not_order_when_stock_is_at_or_above_the_threshold(model, tools, store):
    request = "Check widget-x in NY-02. If stock is below 10 units, order 100 from 'Acme Supply'."
    messages, answer = run_to_answer(model, tools, request)
    assert [m.tool_calls[0]["name"] for m in messages if isinstance(m, AIMessage) and m.tool_calls] == [
        "lookup_inventory"
    ]
    assert "widget-x in NY-02: 120 units in stock." in answer.content
    assert store.purchase_orders() == []


def test_notifies_after_ordering_when_asked(model, tools, store):
    messages, answer = run_to_answer(model, tools, NOTIFY_REQUEST)
    plan = [names(m) for m in messages if isinstance(m, AIMessage) and m.tool_calls]
    assert plan == [["lookup_inventory"], ["create_purchase_order"], ["send_notification"]]
    [note] = store.outbox()
    assert note["channel"] == "slack"
    assert "widget-x is at 7 units in SF-01." in note["message"]
    assert "PO-0001" in note["message"]


def test_notification_uses_the_channel_the_user_names(model, tools, store):
    run_to_answer(model, tools, NOTIFY_REQUEST.replace("on slack", "by email"))
    assert [n["channel"] for n in store.outbox()] == ["email"]


def test_final_answer_quotes_every_tool_result(model, tools):
    messages, answer = run_to_answer(model, tools, NOTIFY_REQUEST)
    results = [m.content for m in messages if isinstance(m, ToolMessage)]
    assert len(results) == 3
    assert answer.content.startswith("Here is what happened:")
    for result in results:
        assert result in answer.content
    assert answer.tool_calls == []


# -- reacting to the reviewer -------------------------------------------------------------------
def test_rejection_naming_another_vendor_re_proposes_the_order_with_it(model, tools):
    messages, order = at_order(model, tools)
    reply = model.invoke([*messages, rejection_message(order, "Use 'Globex' instead.")])
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [
        ("create_purchase_order", {"item": "widget-x", "qty": 100, "vendor": "Globex"})
    ]


def test_a_second_rejection_of_the_other_vendor_stops_instead_of_looping(model, tools):
    messages, order = at_order(model, tools)
    messages.append(rejection_message(order, "Use 'Globex' instead."))
    retry = model.invoke(messages)
    messages += [retry, rejection_message(retry.tool_calls[0], "Use 'Globex' instead.")]
    reply = model.invoke(messages)
    assert reply.tool_calls == []
    assert "I stopped there" in reply.content


def test_rejection_asking_for_a_notification_sends_one_instead(model, tools):
    messages, order = at_order(model, tools)
    reply = model.invoke([*messages, rejection_message(order, "Do not order; notify the team instead.")])
    assert names(reply) == ["send_notification"]
    assert "not approved" in reply.tool_calls[0]["args"]["message"]


def test_bare_rejection_stops_and_says_so(model, tools, store):
    messages, order = at_order(model, tools)
    reply = model.invoke([*messages, rejection_message(order)])
    assert reply.tool_calls == []
    assert "create_purchase_order was rejected and did not run." in reply.content
    assert "I stopped there because the last proposed action was rejected." in reply.content
    assert "The reviewer said" not in reply.content
    assert store.purchase_orders() == []


def test_rejection_with_a_reason_but_no_way_forward_stops_and_quotes_it(model, tools):
    messages, order = at_order(model, tools)
    reply = model.invoke([*messages, rejection_message(order, "Too expensive this quarter.")])
    assert reply.tool_calls == []
    assert "The reviewer said: Too expensive this quarter." in reply.content
    assert "I stopped there" in reply.content


def test_edit_note_is_reported_in_the_answer(model, tools, store):
    messages, order = at_order(model, tools)
    edited = {**order["args"], "qty": 50}
    ran = run_call(tools, {**order, "args": edited})
    reply = model.invoke([*messages, ran.model_copy(update={"content": edit_note(order, edited) + ran.content})])
    assert reply.tool_calls == []
    assert '"qty": 50' in reply.content
    assert "50 x widget-x from Acme Supply" in reply.content
    assert "A reviewer edited a call before it ran" in reply.content
    assert store.purchase_orders()[0]["qty"] == 50


def test_a_word_containing_edit_is_not_mistaken_for_an_edit(model, tools):
    # 'Meredith' contains "edit"; the answer must not claim a reviewer changed anything.
    request = ORDER_REQUEST.replace("Acme Supply", "Meredith Supply")
    _, answer = run_to_answer(model, tools, request)
    assert "from Meredith Supply" in answer.content
    assert "edited" not in answer.content


# -- several items, generic tools -------------------------------------------------------------
def test_several_items_give_several_calls_in_one_message(model):
    reply = model.invoke("Check widget-x and gadget-y in NY-02.")
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [
        ("lookup_inventory", {"item": "widget-x", "warehouse": "NY-02"}),
        ("lookup_inventory", {"item": "gadget-y", "warehouse": "NY-02"}),
    ]
    assert len({c["id"] for c in reply.tool_calls}) == 2


def test_several_items_below_threshold_give_several_orders_in_one_message(model, tools):
    request = "Check widget-x, gadget-y and sprocket-z in SF-01. If below 10 units, order 50 from 'Acme Supply'."
    messages = [HumanMessage(request)]
    assert len(advance(model, tools, messages).tool_calls) == 3
    orders = model.invoke(messages)
    # widget-x (7) and sprocket-z (0) are below 10; gadget-y (42) is not.
    assert [(c["name"], c["args"]["item"]) for c in orders.tool_calls] == [
        ("create_purchase_order", "widget-x"),
        ("create_purchase_order", "sprocket-z"),
    ]


@tool
def add(a: int, b: int) -> int:
    """Add two whole numbers."""
    return a + b


@tool
def scale(x: float, times: int, exact: bool) -> float:
    """Multiply x by times."""
    return x * times


@pytest.mark.parametrize(
    "request_text", ["call add with a=2 and b=40", "add(a=2, b=40)", "Please add(a='2', b=\"40\")"]
)
def test_names_a_bound_tool_and_coerces_args_to_the_schema_types(request_text):
    reply = OfflineChatModel().bind_tools([add]).invoke(request_text)
    [call] = reply.tool_calls
    assert call["name"] == "add"
    assert call["args"] == {"a": 2, "b": 40}
    assert all(type(v) is int for v in call["args"].values())
    assert add.invoke(call["args"]) == 42


def test_coerces_number_and_boolean_arguments():
    reply = OfflineChatModel().bind_tools([scale]).invoke("scale with x=1.5, times=3 and exact=true")
    assert reply.tool_calls[0]["args"] == {"x": 1.5, "times": 3, "exact": True}
    assert type(reply.tool_calls[0]["args"]["x"]) is float


def test_a_named_tool_with_a_missing_required_argument_is_not_called_but_asked_for():
    reply = OfflineChatModel().bind_tools([add]).invoke("add with a=1")
    assert reply.tool_calls == []
    assert "To call `add` I need b" in reply.content
    assert "a=1" in reply.content  # what the message did give


def test_a_generic_call_is_answered_once_its_result_is_in():
    model = OfflineChatModel().bind_tools([add])
    messages = [HumanMessage("add(a=2, b=40)")]
    first = model.invoke(messages)
    messages += [first, ToolMessage("42", tool_call_id=first.tool_calls[0]["id"], name="add")]
    answer = model.invoke(messages)
    assert answer.tool_calls == []
    assert "- add: 42" in answer.content


# -- determinism ---------------------------------------------------------------------------------
def test_same_transcript_gives_the_identical_message(tools):
    transcript = [HumanMessage(NOTIFY_REQUEST)]
    first = OfflineChatModel().bind_tools(tools).invoke(transcript)
    second = OfflineChatModel().bind_tools(make_tools(InventoryStore())).invoke(transcript)
    assert first.tool_calls  # a message with ids to compare
    assert first == second
    assert first.id == second.id
    assert [c["id"] for c in first.tool_calls] == [c["id"] for c in second.tool_calls]


def test_ids_have_the_documented_shape(model):
    reply = model.invoke("Check widget-x and gadget-y in NY-02.")
    digest = reply.id.removeprefix("offline-")
    assert reply.id.startswith("offline-") and len(digest) == 16
    assert [c["id"] for c in reply.tool_calls] == [f"call_{digest[:12]}_0", f"call_{digest[:12]}_1"]


def test_different_transcripts_give_different_ids(model):
    first = model.invoke("Check widget-x in SF-01.")
    second = model.invoke("Check widget-x in NY-02.")
    assert first.id != second.id
    assert first.tool_calls[0]["id"] != second.tool_calls[0]["id"]


def test_later_turns_get_fresh_ids(model, tools):
    messages, _ = run_to_answer(model, tools, NOTIFY_REQUEST)
    ai_ids = [m.id for m in messages if isinstance(m, AIMessage)]
    call_ids = [c["id"] for m in messages if isinstance(m, AIMessage) for c in m.tool_calls]
    assert len(ai_ids) == 4 and len(set(ai_ids)) == 4
    assert len(call_ids) == 3 and len(set(call_ids)) == 3


# -- streaming, batch, async ----------------------------------------------------------------------
def test_stream_of_an_answer_is_several_chunks_summing_to_invoke(model, tools):
    messages, answer = run_to_answer(model, tools, ORDER_REQUEST)
    transcript = messages[:-1]  # everything before the answer
    chunks = list(model.stream(transcript))
    assert len(chunks) > 3
    assert all(isinstance(chunk, AIMessageChunk) for chunk in chunks)
    total = reduce(operator.add, chunks)
    assert total.content == answer.content
    assert total.id == answer.id
    assert total.tool_calls == []


def test_stream_of_tool_calls_sums_to_invokes_calls(model):
    request = "Check widget-x and gadget-y in NY-02."
    total = reduce(operator.add, model.stream(request))
    expected = model.invoke(request)
    assert len(expected.tool_calls) == 2
    assert total.tool_calls == expected.tool_calls
    assert total.content == expected.content == ""
    assert total.id == expected.id


def test_batch_answers_each_input_like_invoke(model):
    requests = ["Check widget-x in SF-01.", "Check gadget-y in NY-02."]
    replies = model.batch(requests)
    assert replies == [model.invoke(r) for r in requests]
    assert [c["args"]["item"] for r in replies for c in r.tool_calls] == ["widget-x", "gadget-y"]


def test_ainvoke_matches_invoke(model):
    reply = asyncio.run(model.ainvoke(ORDER_REQUEST))
    assert reply == model.invoke(ORDER_REQUEST)
    assert names(reply) == ["lookup_inventory"]


def test_astream_sums_to_invoke(model, tools):
    messages, answer = run_to_answer(model, tools, ORDER_REQUEST)

    async def collect():
        return [chunk async for chunk in model.astream(messages[:-1])]

    chunks = asyncio.run(collect())
    assert len(chunks) > 1
    assert reduce(operator.add, chunks).content == answer.content


# -- safety and basics ----------------------------------------------------------------------------
def test_never_proposes_past_an_unanswered_call(model, tools, store):
    messages, _ = at_order(model, tools)  # the order has no ToolMessage
    reply = model.invoke(messages)
    assert reply.tool_calls == []
    assert "create_purchase_order has no result" in reply.content
    assert store.purchase_orders() == []


def test_never_proposes_while_one_of_several_calls_is_unanswered(model, tools):
    messages = [HumanMessage("Check widget-x and gadget-y in SF-01. If below 10 units, order 5 from 'Acme Supply'.")]
    lookups = model.invoke(messages)
    messages += [lookups, run_call(tools, lookups.tool_calls[0])]  # only the first is answered
    reply = model.invoke(messages)
    assert reply.tool_calls == []


def test_llm_type():
    assert OfflineChatModel()._llm_type == "hitl-offline"


def test_no_tools_bound_gives_a_plain_text_reply():
    reply = OfflineChatModel().invoke("Check widget-x in SF-01.")
    assert isinstance(reply, AIMessage)
    assert reply.tool_calls == []
    assert reply.content == "(offline model) You said: Check widget-x in SF-01."


def test_tools_bound_but_nothing_matches_explains_what_to_ask(model):
    reply = model.invoke("What is the weather like?")
    assert reply.tool_calls == []
    assert "Name an item and a warehouse" in reply.content


# -- tool_choice, as LangChain's providers honour it ----------------------------------------------
@tool
def get_weather(location: str) -> str:
    """Get the weather at a location."""
    return "It's sunny."


@tool
def weather_forecast(location: str, days: int = 3) -> str:
    """Get the weather forecast for a location."""
    return f"Sunny for {days} days."


@tool
def magic_function(input: int) -> int:
    """Apply a magic function to an input."""
    return input + 2


@pytest.mark.parametrize(
    "choice", ["any", "required", True, "get_weather", {"type": "function", "function": {"name": "get_weather"}}]
)
def test_a_forced_tool_choice_always_calls_an_allowed_tool(choice):
    reply = OfflineChatModel().bind_tools([get_weather], tool_choice=choice).invoke("Hello!")
    [call] = reply.tool_calls
    assert call["name"] == "get_weather"
    assert call["type"] == "tool_call"


def test_a_forced_tool_name_wins_over_the_tool_the_request_matches():
    model = OfflineChatModel().bind_tools([add, get_weather], tool_choice="add")
    assert names(model.invoke("What is the weather in Paris?")) == ["add"]


def test_forced_any_picks_the_tool_the_request_matches():
    model = OfflineChatModel().bind_tools([add, get_weather], tool_choice="any")
    reply = model.invoke("What is the weather in Paris?")
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [("get_weather", {"location": "Paris"})]
    assert reply.content == ""  # every value came from the conversation: nothing to flag


def test_a_forced_call_marks_the_values_it_could_not_find_as_placeholders():
    reply = OfflineChatModel().bind_tools([get_weather, add], tool_choice="get_weather").invoke("Hello!")
    [call] = reply.tool_calls
    assert call["args"]["location"].startswith("<placeholder")
    assert "placeholder" in reply.content and "location" in reply.content


def test_a_forced_call_fills_defaults_from_the_schema_and_valid_numbers():
    reply = OfflineChatModel().bind_tools([weather_forecast, add], tool_choice="any").invoke("Hello!")
    [call] = reply.tool_calls
    assert call["name"] == "weather_forecast"  # the first bound tool when nothing matches
    assert call["args"]["days"] == 3
    forced_add = OfflineChatModel().bind_tools([add], tool_choice="add").invoke("Hello!").tool_calls[0]
    assert add.invoke(forced_add["args"]) == forced_add["args"]["a"] + forced_add["args"]["b"]


@pytest.mark.parametrize("choice", ["none", "auto", None, False])
def test_none_and_auto_leave_the_choice_to_the_request(choice):
    model = OfflineChatModel().bind_tools([get_weather], tool_choice=choice)
    reply = model.invoke("Hello!")
    assert reply.tool_calls == []
    weather = model.invoke("What is the weather in Paris?")
    assert names(weather) == ([] if choice == "none" else ["get_weather"])


def test_an_unknown_tool_choice_is_refused_when_binding():
    with pytest.raises(ValueError, match="not_a_tool"):
        OfflineChatModel().bind_tools([get_weather], tool_choice="not_a_tool")


def test_forced_choice_in_the_scenario_keeps_only_the_allowed_tool(tools):
    model = OfflineChatModel().bind_tools(tools, tool_choice="send_notification")
    reply = model.invoke(ORDER_REQUEST)
    assert names(reply) == ["send_notification"]


def test_a_forced_call_streams_like_it_invokes():
    model = OfflineChatModel().bind_tools([get_weather], tool_choice="any")
    total = reduce(operator.add, model.stream("Hello!"))
    assert total.tool_calls == model.invoke("Hello!").tool_calls


# -- structured output ----------------------------------------------------------------------------
class Order(BaseModel):
    """An order line."""

    item: str
    qty: int
    rush: bool = False
    note: str | None = None


class OrderDict(TypedDict):
    """An order line."""

    item: str
    qty: int


@pytest.mark.parametrize("method", ["function_calling", "json_schema"])
def test_structured_output_fills_a_pydantic_model_from_the_request(method):
    chain = OfflineChatModel().with_structured_output(Order, method=method)
    assert chain.invoke("Record item='widget-x' and qty=5.") == Order(item="widget-x", qty=5)


@pytest.mark.parametrize("method", ["function_calling", "json_schema"])
@pytest.mark.parametrize("schema", [OrderDict, Order.model_json_schema()])
def test_structured_output_fills_typeddicts_and_json_schemas(schema, method):
    result = OfflineChatModel().with_structured_output(schema, method=method).invoke("item=widget-x, qty=5")
    assert isinstance(result, dict)
    assert {k: result[k] for k in ("item", "qty")} == {"item": "widget-x", "qty": 5}
    assert set(result) <= {"item", "qty", "rush", "note"}


def test_structured_output_marks_what_the_request_does_not_give():
    result = OfflineChatModel().with_structured_output(Order).invoke("Tell me a joke about cats.")
    assert isinstance(result, Order)
    assert result.item.startswith("<placeholder")
    assert result.rush is False and result.note is None


@pytest.mark.parametrize("method", ["function_calling", "json_schema"])
def test_structured_output_include_raw(method):
    out = OfflineChatModel().with_structured_output(Order, include_raw=True, method=method).invoke("item=a-b qty=2")
    assert set(out) == {"raw", "parsed", "parsing_error"}
    assert isinstance(out["raw"], AIMessage)
    assert out["parsed"] == Order(item="a-b", qty=2)
    assert out["parsing_error"] is None


def test_json_schema_method_answers_json_text_not_a_tool_call():
    chain = OfflineChatModel().with_structured_output(Order, method="json_schema", include_raw=True)
    raw = chain.invoke("item=a-b qty=2")["raw"]
    assert raw.tool_calls == []
    assert json.loads(raw.content) == {"item": "a-b", "qty": 2, "rush": False, "note": None}  # defaults kept


def test_structured_output_streams_a_valid_instance():
    chunks = list(OfflineChatModel().with_structured_output(Order).stream("item=a-b qty=2"))
    assert chunks and chunks[-1] == Order(item="a-b", qty=2)


# -- phrasings: code, plain words, a request matching one tool ------------------------------------
@pytest.mark.parametrize(
    ("text", "args"),
    [
        ("What is the value of magic_function(3)? Use the tool.", {"input": 3}),
        ("magic_function(input=3)", {"input": 3}),
        ("call magic_function with 3", {"input": 3}),
        ("use magic_function with input 3", {"input": 3}),
    ],
)
def test_calls_written_as_code_or_plain_words(text, args):
    reply = OfflineChatModel().bind_tools([magic_function]).invoke(text)
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [("magic_function", args)]


@pytest.mark.parametrize("text", ["add(2, 40)", "add(2, b=40)", "call add with 2 and 40", "use add with a 2 and b 40"])
def test_positional_and_mixed_arguments_follow_the_schema_order(text):
    reply = OfflineChatModel().bind_tools([add, get_weather]).invoke(text)
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [("add", {"a": 2, "b": 40})]


@pytest.mark.parametrize(
    ("text", "location"),
    [
        ("What is the weather in San Francisco, CA?", "San Francisco, CA"),
        ("weather in Paris", "Paris"),
        ("use get_weather for Paris", "Paris"),
        ("call get_weather with location='New York'", "New York"),
    ],
)
def test_a_request_matching_one_tool_calls_it_with_the_value_it_needs(text, location):
    reply = OfflineChatModel().bind_tools([get_weather, add]).invoke(text)
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [("get_weather", {"location": location})]


def test_an_ambiguous_request_asks_which_tool_naming_the_candidates():
    reply = OfflineChatModel().bind_tools([get_weather, weather_forecast]).invoke("What is the weather in Paris?")
    assert reply.tool_calls == []
    assert "get_weather" in reply.content and "weather_forecast" in reply.content
    assert "Which" in reply.content


def test_a_matching_request_without_the_value_asks_for_it():
    reply = OfflineChatModel().bind_tools([get_weather]).invoke("What is the weather like?")
    assert reply.tool_calls == []
    assert "get_weather" in reply.content and "location" in reply.content


def test_the_agent_loop_calls_then_answers_from_the_result():
    model = OfflineChatModel().bind_tools([get_weather])
    messages = [HumanMessage("What is the weather in San Francisco, CA?")]
    reply = model.invoke(messages)
    messages += [reply, get_weather.invoke(reply.tool_calls[0])]
    answer = model.invoke(messages)
    assert answer.tool_calls == []
    assert "It's sunny." in answer.content


@tool
def unicode_customer(customer_name: str, description: str) -> str:
    """Tool for creating a customer with Unicode name."""
    return f"Created customer: {customer_name} - {description}"


@pytest.mark.parametrize("name", ["你好啊集团", "こんにちは株式会社", "Zoë Ørsted"])
def test_unicode_arguments_survive(name):
    model = OfflineChatModel().bind_tools([unicode_customer])
    reply = model.invoke(f"Create a customer named '{name}' with description 'a tech company'")
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [
        ("unicode_customer", {"customer_name": name, "description": "a tech company"})
    ]
    streamed = reduce(operator.add, model.stream(f"Create a customer named '{name}' with description 'x'"))
    assert streamed.tool_calls[0]["args"]["customer_name"] == name


# -- the scenario never invents a value -------------------------------------------------------------
def test_an_unquoted_vendor_is_the_vendor_ordered_from(model):
    reply = model.invoke("Order 500 gadget-y from Globex")
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [
        ("create_purchase_order", {"item": "gadget-y", "qty": 500, "vendor": "Globex"})
    ]


def test_a_missing_vendor_is_asked_for_not_replaced_by_a_default(model):
    reply = model.invoke("Order 500 gadget-y")
    assert reply.tool_calls == []
    assert "vendor" in reply.content.lower() and "?" in reply.content
    assert "Acme" not in reply.content
    assert "gadget-y" in reply.content and "500" in reply.content  # what came from the request


def test_a_missing_vendor_after_the_lookup_stops_before_ordering(model, tools, store):
    messages, answer = run_to_answer(model, tools, "Check widget-x in SF-01. If below 10 units, order 100.")
    assert [names(m) for m in messages if isinstance(m, AIMessage) and m.tool_calls] == [["lookup_inventory"]]
    assert "widget-x in SF-01: 7 units in stock." in answer.content
    assert "vendor" in answer.content.lower()
    assert store.purchase_orders() == []


def test_a_default_vendor_the_request_names_is_used(model):
    reply = model.invoke("Order 20 widget-x; the default vendor is 'Initech'.")
    assert reply.tool_calls[0]["args"]["vendor"] == "Initech"


def test_new_phrasings_are_deterministic():
    model = OfflineChatModel().bind_tools([get_weather, add], tool_choice="any")
    first, second = model.invoke("weather in Paris"), model.invoke("weather in Paris")
    assert first == second and first.tool_calls[0]["id"] == second.tool_calls[0]["id"]


def test_a_stock_condition_without_a_warehouse_asks_which_warehouse(model, store):
    reply = model.invoke("If widget-x is below 10 units, order 100 from 'Acme Supply'.")
    assert reply.tool_calls == []
    assert "Which warehouse" in reply.content and "widget-x" in reply.content
    assert "SF-01" not in reply.content.split("e.g.")[0]  # no warehouse is chosen for the user
    assert store.tool_runs() == []


def test_the_answer_says_when_a_channel_is_the_kits_default(model, tools):
    messages, order = at_order(model, tools)
    messages.append(rejection_message(order, "Do not order; notify the team instead."))
    reply = advance(model, tools, messages)
    assert reply.tool_calls[0]["args"]["channel"] == "slack"
    answer = model.invoke(messages)
    assert "the kit's default channel" in answer.content
    _, named = run_to_answer(model, tools, NOTIFY_REQUEST)
    assert "default channel" not in named.content


@pytest.mark.parametrize(
    "text",
    [
        "Check warehouse SF-01 for 'widget-x'. If under 10 units, buy 100 from 'Acme Supply' and tell the team.",
        "Check widget-x in SF-01. If stock is less than 10 units, reorder 100 from Acme Supply, then alert the team.",
        "Check widget-x in SF-01. If fewer than 10 units, create a PO for 100 units from vendor 'Acme Supply' "
        "and let the team know.",
    ],
)
def test_the_phrasing_table_s_scenario_synonyms(model, tools, store, text):
    messages, _ = run_to_answer(model, tools, text)
    plan = [names(m) for m in messages if isinstance(m, AIMessage) and m.tool_calls]
    assert plan == [["lookup_inventory"], ["create_purchase_order"], ["send_notification"]]
    assert store.purchase_orders() == [{"id": 1, "item": "widget-x", "qty": 100, "vendor": "Acme Supply"}]
