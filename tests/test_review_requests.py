"""Reading interrupts into review requests and building answers: plain functions, no widgets."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage
from langgraph.types import Interrupt
from panel_support import ORDER, TWO_ITEMS, agent, config, question_graph

from hitl_widgets._answers import check_action, check_answer, resume_value
from hitl_widgets._forms import collect_args, form_fields, parse_json
from hitl_widgets._graph_tools import tools_in_graph
from hitl_widgets._json_schemas import model_from_schema
from hitl_widgets._kinds import read_request, read_requests, request_kind
from hitl_widgets._review_requests import (
    BATCHED,
    KIT,
    PER_CALL,
    QUESTION,
    TUTORIAL,
    Action,
    ReviewRequest,
    final_answer,
)
from hitl_widgets.inventory import InventoryStore
from hitl_widgets.protocol import DecisionError, review_request

ORDER_CALL = {
    "name": "create_purchase_order",
    "args": {"item": "widget-x", "qty": 100, "vendor": "Acme"},
    "id": "call_1",
}
EDIT_50 = {
    "type": "edit",
    "edited_action": {"name": "create_purchase_order", "args": {"item": "widget-x", "qty": 50, "vendor": "Acme"}},
}


def paused(mode: str, text: str = TWO_ITEMS):
    """A real graph of `mode`, paused on its first interrupt(s)."""
    graph = agent(mode, InventoryStore())
    out = graph.invoke({"messages": [("user", text)]}, config(), version="v2")
    assert out.interrupts, "the graph should pause"
    snapshot = graph.get_state(config())
    return graph, read_requests(snapshot.interrupts, tools_in_graph(graph), snapshot.values)


# -- reading each kind -----------------------------------------------------------------------
def test_kit_request_is_read_with_its_schema_and_allowed_decisions():
    graph, requests = paused("kit", ORDER)
    (request,) = requests
    assert request.kind == KIT
    (action,) = request.actions
    assert (action.name, action.args["qty"], action.allowed) == (
        "create_purchase_order",
        100,
        ("approve", "edit", "reject"),
    )
    assert action.call_id.startswith("call_")
    assert action.args_schema["required"] == ["item", "qty", "vendor"]
    assert resume_value(request, [{"type": "approve"}]) == {"type": "approve"}


def test_batched_request_reads_every_action_and_finds_the_call_ids():
    graph, requests = paused("batched")
    (request,) = requests
    assert request.kind == BATCHED
    assert [a.args["item"] for a in request.actions] == ["widget-x", "sprocket-z"]
    calls = graph.get_state(config()).values["messages"][-1].tool_calls
    assert [a.call_id for a in request.actions] == [c["id"] for c in calls]
    assert request.actions[0].allowed == ("approve", "edit", "reject", "respond")
    assert request.actions[0].args_schema["properties"].keys() == {"item", "warehouse"}
    assert resume_value(request, [{"type": "approve"}, {"type": "reject"}]) == {
        "decisions": [{"type": "approve"}, {"type": "reject"}]
    }
    with pytest.raises(DecisionError, match="takes 2 decisions, one per action"):
        resume_value(request, [{"type": "approve"}])


def test_per_call_requests_are_one_per_call_with_allowed_decisions_from_the_schema():
    graph, requests = paused("per_call")
    assert [r.kind for r in requests] == [PER_CALL, PER_CALL]
    assert len({r.interrupt_id for r in requests}) == 2
    action = requests[0].actions[0]
    assert action.allowed == ("approve", "edit", "reject", "respond")
    assert action.call_id == requests[0].value["tool_call_id"]
    assert resume_value(requests[0], [{"type": "approve"}]) == {"type": "approve"}


def test_per_call_schema_alone_gives_the_allowed_decisions_and_edit_args():
    graph, requests = paused("per_call")
    bare = read_request(Interrupt(requests[0].value, id="x" * 32, response_schema=requests[0].response_schema))
    action = bare.actions[0]
    assert action.allowed == ("approve", "edit", "reject", "respond")
    assert set(action.args_schema["properties"]) == {"item", "warehouse"}


def test_tutorial_payload_is_one_shared_decision_translated_to_its_answer_format():
    graph, requests = paused("tutorial", ORDER)
    (request,) = requests
    assert request.kind == TUTORIAL and request.shared and request.note == "Review the calls."
    assert request.allowed == ("approve", "edit", "reject")
    assert resume_value(request, [{"type": "approve"}]) == "approve"
    assert resume_value(request, [{"type": "reject"}]) == {"action": "reject"}
    assert resume_value(request, [{"type": "reject", "message": "no"}]) == {"action": "reject", "message": "no"}
    assert resume_value(request, [EDIT_50]) == {"action": "edit", "correction": EDIT_50["edited_action"]["args"]}


def test_tutorial_payload_with_several_calls_offers_no_edit():
    value = {"type": "tool_approval_request", "tool_calls": [ORDER_CALL, {**ORDER_CALL, "id": "call_2"}]}
    request = read_request(Interrupt(value, id="a" * 32))
    assert request.allowed == ("approve", "reject")


@pytest.mark.parametrize(
    "value, kind",
    [
        ("Which vendor?", QUESTION),
        ({"question": "budget?"}, QUESTION),
        ({"type": "tool_approval_request", "tool_calls": []}, TUTORIAL),
        ({"type": "tool_approval", "name": "x", "args": {}}, PER_CALL),
        ({"action_requests": [], "review_configs": []}, BATCHED),
        ({"kind": "hitl_widgets/review", "tool_call": {}}, KIT),
        (None, QUESTION),
    ],
)
def test_request_kind(value, kind):
    assert request_kind(value) == kind


def test_other_interrupt_keeps_its_response_schema():
    graph = question_graph(with_schema=True)
    out = graph.invoke({}, config(), version="v2")
    (request,) = read_requests(out.interrupts)
    assert request.kind == QUESTION and request.actions == () and request.allowed == ("respond",)
    assert request.response_schema["required"] == ["amount"]
    assert resume_value(request, [{"type": "respond", "message": {"amount": 5}}]) == {"amount": 5}


# -- checking decisions ------------------------------------------------------------------------
ORDER_ACTION = Action(ORDER_CALL["name"], ORDER_CALL["args"], "call_1")


@pytest.mark.parametrize(
    "decision, problem",
    [
        (None, "No decision given"),
        ({}, "No decision given"),
        ("approve", "must be a dict"),
        ({"type": "aprove"}, "Unknown decision type"),
        (
            {
                "type": "edit",
                "edited_action": {
                    "name": "create_purchase_order",
                    "args": {"item": "widget-x", "qty": "lots", "vendor": "A"},
                },
            },
            "qty",
        ),
        (
            {
                "type": "edit",
                "edited_action": {"name": "create_purchase_order", "args": {"item": "widget-x", "qty": 5}},
            },
            "vendor",
        ),
        (
            {
                "type": "edit",
                "edited_action": {"name": "send_notification", "args": {"channel": "slack", "message": "x"}},
            },
            "cannot change the tool",
        ),
        ({"type": "edit", "edited_action": {"name": "drop_tables", "args": {}}}, "cannot change the tool"),
        ({"type": "respond", "message": "x"}, "not allowed"),
    ],
)
def test_bad_decisions_are_refused_with_a_clear_message(tools_by_name, decision, problem):
    with pytest.raises(DecisionError, match=problem):
        check_action(decision, ORDER_ACTION, tools_by_name)


def test_good_edit_comes_back_clean(tools_by_name):
    assert check_action(EDIT_50, ORDER_ACTION, tools_by_name) == EDIT_50


def test_a_tool_the_panel_cannot_see_can_be_approved_or_rejected_but_keeps_its_allowed_set(tools_by_name):
    ghost = Action("drop_tables", {}, "call_9", allowed=("approve", "reject"))
    assert check_action({"type": "approve"}, ghost, tools_by_name) == {"type": "approve"}
    rejection = {"type": "reject", "message": "no"}
    assert check_action(rejection, ghost, tools_by_name) == rejection
    with pytest.raises(DecisionError, match="'edit' is not allowed for drop_tables"):
        check_action({"type": "edit", "edited_action": {"name": "drop_tables", "args": {}}}, ghost, tools_by_name)


def test_without_the_tool_the_request_schema_still_checks_edits(tools_by_name):
    value = review_request(ORDER_CALL, tools_by_name["create_purchase_order"])
    request = read_request(Interrupt(value, id="b" * 32), tools={})
    bad = {
        "type": "edit",
        "edited_action": {"name": "create_purchase_order", "args": {"item": "x", "qty": "lots", "vendor": "A"}},
    }
    with pytest.raises(DecisionError, match="qty"):
        check_action(bad, request.actions[0], {})
    assert check_action(EDIT_50, request.actions[0], {})["edited_action"]["args"]["qty"] == 50


def test_with_no_schema_anywhere_an_edit_is_checked_for_shape_only():
    action = Action("anything", {"a": 1}, "call_1")
    edit = {"type": "edit", "edited_action": {"name": "anything", "args": {"a": 2}}}
    assert check_action(edit, action, {}) == edit  # the graph checks the arguments when the tool runs
    with pytest.raises(DecisionError, match="cannot change the tool"):
        check_action({"type": "edit", "edited_action": {"name": "other", "args": {}}}, action, {})
    with pytest.raises(DecisionError, match="edited_action.args: Input should be a valid dictionary"):
        check_action({"type": "edit", "edited_action": {"name": "anything", "args": [1]}}, action, {})
    assert check_action({"type": "approve"}, action, {}) == {"type": "approve"}


def test_answers_to_other_interrupts_are_checked_against_their_schema():
    request = ReviewRequest(
        "c" * 32,
        QUESTION,
        (),
        {"question": "?"},
        {"properties": {"amount": {"type": "integer"}}, "required": ["amount"], "type": "object"},
    )
    assert check_answer({"type": "respond", "message": {"amount": 3}}, request)["message"] == {"amount": 3}
    with pytest.raises(DecisionError, match="amount"):
        check_answer({"type": "respond", "message": {"amount": "lots"}}, request)
    with pytest.raises(DecisionError, match="empty"):
        check_answer({"type": "respond", "message": ""}, request)
    with pytest.raises(DecisionError, match="does not fit what was asked: amount: Field required"):
        check_answer({"type": "approve"}, request)  # a bare answer, and not one this schema takes
    assert check_answer({"amount": 4}, request)["message"] == {"amount": 4}


# -- forms -----------------------------------------------------------------------------------
def test_form_fields_follow_the_schema(tools_by_name):
    schema = {
        "type": "object",
        "required": ["item", "qty", "price", "rush", "channel"],
        "properties": {
            "item": {"type": "string"},
            "qty": {"type": "integer"},
            "price": {"type": "number"},
            "rush": {"type": "boolean"},
            "channel": {"enum": ["email", "slack"], "type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        },
    }
    fields = form_fields(schema, {"item": "widget-x", "qty": 3, "price": 1.5, "rush": True, "channel": "slack"})
    assert [(f.name, f.kind) for f in fields] == [
        ("item", "text"),
        ("qty", "integer"),
        ("price", "number"),
        ("rush", "boolean"),
        ("channel", "choice"),
        ("tags", "json"),
        ("note", "text"),
    ]
    assert fields[4].options == ("email", "slack") and fields[4].value == "slack"
    entered = {"qty": 7, "tags": '["a", "b"]', "note": ""}
    assert collect_args(fields, entered) == {
        "item": "widget-x",
        "qty": 7,
        "price": 1.5,
        "rush": True,
        "channel": "slack",
        "tags": ["a", "b"],
    }
    with pytest.raises(DecisionError, match="Malformed JSON in 'tags'"):
        collect_args(fields, {"tags": "[oops"})


def test_parse_json_says_where_it_broke():
    with pytest.raises(DecisionError, match=r"Malformed JSON: Expecting .* line 1, column"):
        parse_json('{"qty": 5')


def test_model_from_schema_checks_types_and_required_fields():
    model = model_from_schema({"properties": {"a": {"type": "integer"}, "b": {"enum": ["x", "y"]}}, "required": ["a"]})
    assert model.model_validate({"a": 1, "b": "x"}).a == 1
    with pytest.raises(ValueError):
        model.model_validate({"b": "z"})


# -- graphs --------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["kit", "batched", "per_call"])
def test_tools_are_found_in_the_compiled_graph(mode):
    graph = agent(mode, InventoryStore())
    assert set(tools_in_graph(graph)) == {"lookup_inventory", "create_purchase_order", "send_notification"}


def test_final_answer_is_the_last_ai_message_without_calls():
    assert final_answer({"messages": [AIMessage("done")]}) == "done"
    assert final_answer({"messages": [AIMessage("", tool_calls=[{"name": "x", "args": {}, "id": "1"}])]}) is None
    assert final_answer({}) is None
