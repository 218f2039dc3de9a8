"""protocol: the one gate every decision passes, and the schema LangGraph checks a resume with."""

import uuid

import pytest
from langchain_core.messages import ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, StateGraph
from langgraph.types import Command, interrupt
from pydantic import BaseModel, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from hitl_widgets.protocol import (
    DEFAULT_DECISIONS,
    REVIEW_KIND,
    DecisionError,
    as_dict,
    check_decision,
    decision_schema,
    edit_note,
    rejection_message,
    review_request,
)

ARGS = {"item": "widget-x", "qty": 100, "vendor": "Acme Supply"}
CALL = {"name": "create_purchase_order", "args": ARGS, "id": "call_1"}


@pytest.fixture
def order(tools_by_name):
    return tools_by_name["create_purchase_order"]


def edit(args=None, name="create_purchase_order", **extra):
    return {"type": "edit", "edited_action": {"name": name, "args": ARGS if args is None else args}, **extra}


# -- bad decisions: each refused with a message naming the problem --------------------------------
BAD = [
    pytest.param(None, DEFAULT_DECISIONS, "No decision given for create_purchase_order", id="none"),
    pytest.param({}, DEFAULT_DECISIONS, "No decision given", id="empty-dict"),
    pytest.param("approve", DEFAULT_DECISIONS, "must be a dict, got str 'approve'", id="bare-string"),
    pytest.param(["approve"], DEFAULT_DECISIONS, "must be a dict, got list", id="list"),
    pytest.param({"type": "maybe"}, DEFAULT_DECISIONS, "Unknown decision type 'maybe'", id="unknown-type"),
    pytest.param({"type": "aprove"}, DEFAULT_DECISIONS, "Unknown decision type 'aprove'", id="misspelt-type"),
    pytest.param({"message": "no"}, DEFAULT_DECISIONS, "Unknown decision type None", id="no-type"),
    pytest.param({"action": "approve"}, DEFAULT_DECISIONS, "Unknown decision type None", id="tutorial-shape"),
    pytest.param(
        {"type": "respond", "message": "hi"}, DEFAULT_DECISIONS, "'respond' is not allowed", id="disallowed-respond"
    ),
    pytest.param(edit(), ("approve", "reject"), "'edit' is not allowed", id="disallowed-edit"),
    pytest.param(edit(name="send_notification"), DEFAULT_DECISIONS, "cannot change the tool", id="edit-renames-tool"),
    pytest.param(edit({**ARGS, "qty": "lots"}), DEFAULT_DECISIONS, "edited_action.args.qty", id="edit-wrong-arg-type"),
    pytest.param(
        edit({"item": "widget-x", "qty": 5}),
        DEFAULT_DECISIONS,
        "edited_action.args.vendor: Field required",
        id="edit-missing-arg",
    ),
    pytest.param(
        edit({**ARGS, "colour": "red"}),
        DEFAULT_DECISIONS,
        "edited_action.args.colour: Extra inputs",
        id="edit-unknown-arg",
    ),
    pytest.param({"type": "edit"}, DEFAULT_DECISIONS, "edited_action: Field required", id="edit-without-action"),
    pytest.param(
        {"type": "edit", "edited_action": "qty=5"},
        DEFAULT_DECISIONS,
        "edited_action: Input should be a valid dict",
        id="edit-action-not-dict",
    ),
    pytest.param(
        {"type": "edit", "edited_action": {"args": ARGS}},
        DEFAULT_DECISIONS,
        "edited_action.name: Field required",
        id="edit-without-name",
    ),
    pytest.param(edit(comment="x"), DEFAULT_DECISIONS, "comment: Extra inputs", id="edit-extra-key"),
    pytest.param(
        {"type": "approve", "why": "fine"},
        DEFAULT_DECISIONS,
        "why: Extra inputs are not permitted",
        id="approve-extra-key",
    ),
    pytest.param(
        {"type": "reject", "message": 42},
        DEFAULT_DECISIONS,
        "message: Input should be a valid string",
        id="reject-non-str-message",
    ),
    pytest.param(
        {"type": "reject", "message": None},
        DEFAULT_DECISIONS,
        "message: Input should be a valid string",
        id="reject-none-message",
    ),
    pytest.param(
        {"type": "respond", "message": ""},
        ("approve", "respond"),
        "message: String should have at least 1",
        id="respond-empty",
    ),
    pytest.param({"type": "respond"}, ("approve", "respond"), "message: Field required", id="respond-no-message"),
]


@pytest.mark.parametrize(("decision", "allowed", "problem"), BAD)
def test_bad_decisions_raise_a_decision_error_naming_the_problem(order, decision, allowed, problem):
    with pytest.raises(DecisionError) as raised:
        check_decision(decision, CALL, order, allowed)
    assert problem in str(raised.value)


def test_unknown_tool_is_refused_whatever_the_decision():
    call = {"name": "delete_everything", "args": {}, "id": "call_x"}
    with pytest.raises(DecisionError, match="There is no tool named 'delete_everything'"):
        check_decision({"type": "approve"}, call, None)


def test_errors_say_what_to_send_instead(order):
    with pytest.raises(DecisionError) as raised:
        check_decision(None, CALL, order)
    assert '{"type": "approve"}' in str(raised.value)
    with pytest.raises(DecisionError) as raised:
        check_decision({"type": "aprove"}, CALL, order, ("approve", "reject"))
    assert "Allowed here: approve, reject." in str(raised.value)


def test_validation_details_are_not_chained_into_the_traceback(order):
    with pytest.raises(DecisionError) as raised:
        check_decision(edit({**ARGS, "qty": "lots"}), CALL, order)
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


# -- good decisions come back clean --------------------------------------------------------------
def test_approve_is_returned_as_is(order):
    assert check_decision({"type": "approve"}, CALL, order) == {"type": "approve"}


def test_reject_without_a_message_gets_an_empty_one(order):
    assert check_decision({"type": "reject"}, CALL, order) == {"type": "reject", "message": ""}


def test_reject_keeps_the_message(order):
    decision = {"type": "reject", "message": "Use 'Globex' instead."}
    assert check_decision(decision, CALL, order) == decision


def test_edit_coerces_a_numeric_string_to_the_schema_type(order):
    clean = check_decision(edit({**ARGS, "qty": "50"}), CALL, order)
    assert clean == edit({**ARGS, "qty": 50})
    assert type(clean["edited_action"]["args"]["qty"]) is int


def test_respond_is_accepted_when_allowed(order):
    decision = {"type": "respond", "message": "Already ordered by phone."}
    assert check_decision(decision, CALL, order, ("approve", "respond")) == decision


def test_a_single_allowed_type_works(order):
    assert check_decision({"type": "approve"}, CALL, order, ("approve",)) == {"type": "approve"}
    with pytest.raises(DecisionError, match="'reject' is not allowed"):
        check_decision({"type": "reject"}, CALL, order, ("approve",))


def test_as_dict_reads_models_and_dicts(order):
    model = decision_schema(order)
    parsed = TypeAdapter(model).validate_python({"type": "reject", "message": "no"})
    assert isinstance(parsed, BaseModel)
    assert as_dict(parsed) == {"type": "reject", "message": "no"}
    assert as_dict({"type": "approve"}) == {"type": "approve"}


# -- the request a reviewer sees, and the messages the model reads ----------------------------------
def test_review_request_is_plain_json_with_the_tool_schema(order):
    request = review_request(CALL, order, ("approve", "reject"))
    assert request["kind"] == REVIEW_KIND == "hitl_widgets/review"
    assert request["tool_call"] == CALL
    assert request["description"] == order.description
    assert request["args_schema"]["required"] == ["item", "qty", "vendor"]
    assert request["allowed_decisions"] == ["approve", "reject"]


def test_review_request_carries_the_channel_enum(tools_by_name):
    call = {"name": "send_notification", "args": {"channel": "slack", "message": "hi"}, "id": "c"}
    schema = review_request(call, tools_by_name["send_notification"])["args_schema"]
    assert schema["properties"]["channel"]["enum"] == ["email", "slack", "sms"]


def test_rejection_message_is_an_error_tool_message_for_the_call():
    message = rejection_message(CALL, "Use 'Globex' instead.")
    assert isinstance(message, ToolMessage)
    assert (message.tool_call_id, message.name, message.status) == ("call_1", "create_purchase_order", "error")
    assert message.content == (
        "Rejected by the reviewer; create_purchase_order did not run. Reviewer's message: Use 'Globex' instead."
    )
    assert "Reviewer's message" not in rejection_message(CALL).content


def test_edit_note_names_what_ran():
    note = edit_note(CALL, {**ARGS, "qty": 50})
    assert "edited" in note
    assert '"qty": 50' in note
    assert note.endswith("Tool response: ")


# -- decision_schema with LangGraph's interrupt(response_schema=...) --------------------------------
class OneStep(TypedDict):
    answer: dict


def ask_graph(tool, allowed=DEFAULT_DECISIONS):
    """A one-node graph that asks about CALL the way the review node does."""

    def ask(state: OneStep) -> dict:
        answer = interrupt(review_request(CALL, tool, allowed), response_schema=decision_schema(tool, allowed))
        return {"answer": check_decision(as_dict(answer), CALL, tool, allowed)}

    builder = StateGraph(OneStep)
    builder.add_node("ask", ask)
    builder.add_edge(START, "ask")
    return builder.compile(checkpointer=InMemorySaver())


def start(graph):
    config = {"configurable": {"thread_id": str(uuid.uuid4())}}
    out = graph.invoke({"answer": {}}, config, version="v2")
    assert len(out.interrupts) == 1
    return config, out.interrupts[0]


def test_interrupt_carries_the_decision_json_schema(order):
    _, pending = start(ask_graph(order))
    schema = pending.response_schema
    assert schema["discriminator"]["propertyName"] == "type"
    assert sorted(schema["discriminator"]["mapping"]) == ["approve", "edit", "reject"]
    assert schema["$defs"]["EditedAction"]["properties"]["name"]["const"] == "create_purchase_order"
    assert schema["$defs"]["create_purchase_order"]["additionalProperties"] is False


def test_schema_lists_only_the_allowed_decisions(order):
    _, pending = start(ask_graph(order, ("approve", "reject")))
    assert sorted(pending.response_schema["discriminator"]["mapping"]) == ["approve", "reject"]


def test_a_valid_resume_reaches_the_node_as_a_clean_decision(order):
    graph = ask_graph(order)
    config, _ = start(graph)
    out = graph.invoke(Command(resume=edit({**ARGS, "qty": "50"})), config, version="v2")
    assert out.interrupts == ()
    assert out.value["answer"] == edit({**ARGS, "qty": 50})


@pytest.mark.parametrize(
    "resume",
    [
        pytest.param({"type": "aprove"}, id="misspelt"),
        pytest.param({"type": "respond", "message": "hi"}, id="disallowed"),
        pytest.param(edit(name="send_notification"), id="renamed"),
        pytest.param(edit({**ARGS, "qty": "lots"}), id="wrong-type"),
        pytest.param(edit({**ARGS, "colour": "red"}), id="unknown-arg"),
        pytest.param("approve", id="not-a-dict"),
    ],
)
def test_a_bad_resume_raises_and_leaves_the_interrupt_answerable(order, resume):
    graph = ask_graph(order)
    config, pending = start(graph)
    with pytest.raises(ValidationError):
        graph.invoke(Command(resume=resume), config, version="v2")
    state = graph.get_state(config)
    assert [i.id for i in state.interrupts] == [pending.id]
    out = graph.invoke(Command(resume={"type": "approve"}), config, version="v2")
    assert out.value["answer"] == {"type": "approve"}


def test_decision_schema_is_built_once_per_tool_and_allowed_set(tools_by_name, order):
    assert decision_schema(order) is decision_schema(order, DEFAULT_DECISIONS)
    assert decision_schema(order, ("approve",)) is not decision_schema(order)
    assert decision_schema(order) is not decision_schema(tools_by_name["send_notification"])
