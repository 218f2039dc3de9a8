"""graphs: the finished graphs run the scenario end to end, and the review graph fails closed."""

import uuid

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, StateGraph
from langgraph.types import Command
from pydantic import ValidationError

from hitl_widgets.graphs import AUTO_APPROVE, ReviewState, build_agent_graph, build_review_graph, last_tool_calls
from hitl_widgets.offline import OfflineChatModel

ORDER_REQUEST = "Check widget-x in SF-01. If stock is below 10 units, order 100 from 'Acme Supply'."
FULL_REQUEST = (
    "Check widget-x in SF-01. If stock is below 10 units, order 100 from 'Acme Supply' and notify the team on slack."
)
APPROVE = {"type": "approve"}
LOOKUP = ("lookup_inventory", {"item": "widget-x", "warehouse": "SF-01"})
ORDER = ("create_purchase_order", {"item": "widget-x", "qty": 100, "vendor": "Acme Supply"})


@pytest.fixture
def config() -> dict:
    return {"configurable": {"thread_id": str(uuid.uuid4())}}


def review_graph(tools, policy=None):
    return build_review_graph(OfflineChatModel(), tools, InMemorySaver(), policy=policy)


def proposed(out) -> list[tuple[str, dict]]:
    """The calls the pending interrupts ask about, as (name, args)."""
    assert out.interrupts, "expected a pending review"
    return [(i.value["tool_call"]["name"], i.value["tool_call"]["args"]) for i in out.interrupts]


def start(graph, config, request=ORDER_REQUEST):
    return graph.invoke({"messages": [HumanMessage(request)]}, config, version="v2")


def at_order(graph, config):
    """Run to the review of the purchase order: the lookup was approved and ran."""
    out = start(graph, config)
    assert proposed(out) == [LOOKUP]
    out = graph.invoke(Command(resume=APPROVE), config, version="v2")
    assert proposed(out) == [ORDER]
    return out


def edit_order(**args):
    return {"type": "edit", "edited_action": {"name": "create_purchase_order", "args": {**ORDER[1], **args}}}


def tool_messages(out) -> list[ToolMessage]:
    return [m for m in out.value["messages"] if isinstance(m, ToolMessage)]


# -- review graph: the three patterns -----------------------------------------------------------
def test_first_proposal_waits_for_review_and_nothing_runs(tools, store, config):
    out = start(review_graph(tools), config)
    assert proposed(out) == [LOOKUP]
    [pending] = out.interrupts
    assert pending.value["kind"] == "hitl_widgets/review"
    assert pending.value["allowed_decisions"] == ["approve", "edit", "reject"]
    assert store.tool_runs() == []


def test_approve_runs_the_tool_exactly_once(tools, store, config):
    graph = review_graph(tools)
    at_order(graph, config)
    out = graph.invoke(Command(resume=APPROVE), config, version="v2")
    assert out.interrupts == ()
    assert store.purchase_orders() == [{"id": 1, "item": "widget-x", "qty": 100, "vendor": "Acme Supply"}]
    assert [run["tool"] for run in store.tool_runs()] == ["lookup_inventory", "create_purchase_order"]
    assert "PO-0001" in out.value["messages"][-1].content


def test_reject_runs_nothing_and_the_model_re_plans(tools, store, config):
    graph = review_graph(tools)
    at_order(graph, config)
    out = graph.invoke(Command(resume={"type": "reject", "message": "Use 'Globex' instead."}), config, version="v2")
    assert proposed(out) == [("create_purchase_order", {**ORDER[1], "vendor": "Globex"})]
    assert store.purchase_orders() == []
    assert [run["tool"] for run in store.tool_runs()] == ["lookup_inventory"]
    rejected = tool_messages(out)[-1]
    assert rejected.status == "error"
    assert "did not run" in rejected.content

    graph.invoke(Command(resume=APPROVE), config, version="v2")
    assert [po["vendor"] for po in store.purchase_orders()] == ["Globex"]


def test_bare_reject_ends_with_an_answer_saying_why(tools, store, config):
    graph = review_graph(tools)
    at_order(graph, config)
    out = graph.invoke(Command(resume={"type": "reject"}), config, version="v2")
    assert out.interrupts == ()
    assert "I stopped there" in out.value["messages"][-1].content
    assert store.purchase_orders() == []


def test_edit_runs_the_edited_args_and_the_tool_message_says_so(tools, store, config):
    graph = review_graph(tools)
    at_order(graph, config)
    out = graph.invoke(Command(resume=edit_order(qty="50", vendor="Globex")), config, version="v2")
    assert store.purchase_orders() == [{"id": 1, "item": "widget-x", "qty": 50, "vendor": "Globex"}]
    assert store.tool_runs()[-1] == {
        "tool": "create_purchase_order",
        "args": {"item": "widget-x", "qty": 50, "vendor": "Globex"},
    }
    ran = tool_messages(out)[-1]
    assert ran.content.startswith("The reviewer edited this call before it ran.")
    assert '"qty": 50' in ran.content
    assert ran.content.endswith("Purchase order PO-0001 created: 50 x widget-x from Globex.")
    assert "A reviewer edited a call" in out.value["messages"][-1].content


def test_the_edited_call_keeps_the_proposed_id(tools, config):
    graph = review_graph(tools)
    pending = at_order(graph, config).interrupts[0]
    out = graph.invoke(Command(resume=edit_order(qty=50)), config, version="v2")
    assert tool_messages(out)[-1].tool_call_id == pending.value["tool_call"]["id"]


# -- review graph: bad answers are refused and change nothing -------------------------------------
@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(edit_order(qty="lots"), id="edit-qty-lots"),
        pytest.param({"type": "aprove"}, id="misspelt-type"),
        pytest.param({"type": "edit", "edited_action": {"name": "send_notification", "args": ORDER[1]}}, id="renamed"),
    ],
)
def test_a_bad_decision_raises_and_leaves_the_same_interrupt_pending(tools, store, config, bad):
    graph = review_graph(tools)
    pending = at_order(graph, config).interrupts[0]
    runs_before = store.tool_runs()
    with pytest.raises(ValidationError):
        graph.invoke(Command(resume=bad), config, version="v2")
    state = graph.get_state(config)
    assert [i.id for i in state.interrupts] == [pending.id]
    assert state.next == ("review",)
    assert store.tool_runs() == runs_before
    assert store.purchase_orders() == []

    graph.invoke(Command(resume=APPROVE), config, version="v2")  # still answerable
    assert len(store.purchase_orders()) == 1


def test_an_empty_resume_is_ignored_by_langgraph_and_runs_nothing(tools, store, config):
    # A LangGraph pitfall (the kit's session refuses it): Command(resume={}) is not an answer.
    graph = review_graph(tools)
    pending = at_order(graph, config).interrupts[0]
    out = graph.invoke(Command(resume={}), config, version="v2")
    assert [i.id for i in out.interrupts] == [pending.id]
    assert store.purchase_orders() == []


# -- policies ---------------------------------------------------------------------------------------
def test_auto_approve_runs_a_read_only_tool_without_asking(tools, store, config):
    graph = review_graph(tools, policy={"lookup_inventory": AUTO_APPROVE})
    out = start(graph, config)
    assert proposed(out) == [ORDER]  # the lookup already ran; the order still waits
    assert store.tool_runs() == [{"tool": "lookup_inventory", "args": LOOKUP[1]}]


def test_policy_limits_the_allowed_decisions(tools, store, config):
    graph = review_graph(tools, policy={"create_purchase_order": ("approve", "reject")})
    out = at_order(graph, config)
    assert out.interrupts[0].value["allowed_decisions"] == ["approve", "reject"]
    with pytest.raises(ValidationError):
        graph.invoke(Command(resume=edit_order(qty=50)), config, version="v2")
    assert store.purchase_orders() == []
    graph.invoke(Command(resume={"type": "reject"}), config, version="v2")
    assert store.purchase_orders() == []


@pytest.mark.parametrize("builder", ["build_review_graph", "build_parallel_review_graph"])
def test_a_misspelt_decision_in_a_policy_fails_when_the_graph_is_built(tools, builder):
    """A rule naming a decision that does not exist is refused at build time, not at the first review."""
    from hitl_widgets import graphs

    with pytest.raises(ValueError, match="aprove"):
        getattr(graphs, builder)(OfflineChatModel(), tools, InMemorySaver(), {"create_purchase_order": ["aprove"]})


def test_respond_answers_in_place_of_the_tool(tools, store, config):
    graph = review_graph(tools, policy={"create_purchase_order": ("approve", "respond")})
    at_order(graph, config)
    out = graph.invoke(
        Command(resume={"type": "respond", "message": "Ordered by phone already."}), config, version="v2"
    )
    assert store.purchase_orders() == []
    assert tool_messages(out)[-1].content == "Ordered by phone already."
    assert "Ordered by phone already." in out.value["messages"][-1].content


# -- several calls in one message ------------------------------------------------------------------
def test_several_calls_are_reviewed_one_by_one_and_run_only_after_all_answers(tools, store, config):
    graph = review_graph(tools)
    out = start(graph, config, "Check widget-x and gadget-y in NY-02.")
    assert proposed(out) == [("lookup_inventory", {"item": "widget-x", "warehouse": "NY-02"})]
    out = graph.invoke(Command(resume=APPROVE), config, version="v2")
    assert proposed(out) == [("lookup_inventory", {"item": "gadget-y", "warehouse": "NY-02"})]
    assert store.tool_runs() == []  # the first approval alone runs nothing
    out = graph.invoke(Command(resume={"type": "reject"}), config, version="v2")
    assert store.tool_runs() == [{"tool": "lookup_inventory", "args": {"item": "widget-x", "warehouse": "NY-02"}}]


# -- the unsupervised agent ------------------------------------------------------------------------
def test_agent_graph_runs_end_to_end_and_orders_unsupervised(tools, store):
    graph = build_agent_graph(OfflineChatModel(), tools)
    out = graph.invoke({"messages": [HumanMessage(FULL_REQUEST)]})
    assert store.purchase_orders() == [{"id": 1, "item": "widget-x", "qty": 100, "vendor": "Acme Supply"}]
    assert len(store.outbox()) == 1
    assert [run["tool"] for run in store.tool_runs()] == [
        "lookup_inventory",
        "create_purchase_order",
        "send_notification",
    ]
    answer = out["messages"][-1]
    assert isinstance(answer, AIMessage) and not answer.tool_calls
    assert answer.content.startswith("Here is what happened:")


def test_agent_graph_accepts_a_checkpointer(tools, config):
    graph = build_agent_graph(OfflineChatModel(), tools, checkpointer=InMemorySaver())
    graph.invoke({"messages": [HumanMessage(ORDER_REQUEST)]}, config)
    assert graph.get_state(config).values["messages"][-1].content.startswith("Here is what happened:")


# -- the whole chain under review -------------------------------------------------------------------
def test_full_chain_lookup_order_notify_answer(tools, store, config):
    graph = review_graph(tools)
    out = start(graph, config, FULL_REQUEST)
    steps = []
    while out.interrupts:
        steps.append(proposed(out)[0][0])
        out = graph.invoke(Command(resume=APPROVE), config, version="v2")
    assert steps == ["lookup_inventory", "create_purchase_order", "send_notification"]
    assert len(store.purchase_orders()) == 1
    assert [n["channel"] for n in store.outbox()] == ["slack"]
    assert [run["tool"] for run in store.tool_runs()] == steps
    answer = out.value["messages"][-1]
    assert answer.content.startswith("Here is what happened:")
    assert "PO-0001" in answer.content and "N-0001" in answer.content
    assert graph.get_state(config).values["approved_calls"] == []


# -- helpers --------------------------------------------------------------------------------------
def test_last_tool_calls_reads_only_a_final_ai_message():
    call = {"name": "lookup_inventory", "args": LOOKUP[1], "id": "c1", "type": "tool_call"}
    ai = AIMessage(content="", tool_calls=[call])
    assert last_tool_calls({"messages": [HumanMessage("hi"), ai]}) == [call]
    assert last_tool_calls({"messages": [ai, ToolMessage("7", tool_call_id="c1")]}) == []
    assert last_tool_calls({"messages": []}) == []
    assert last_tool_calls({}) == []


def test_review_state_keeps_the_approved_calls_a_node_returns():
    # an undeclared key would be dropped silently, and execute would find nothing to run
    approved = [{"name": "lookup_inventory", "args": LOOKUP[1], "id": "c1", "type": "tool_call"}]
    builder = StateGraph(ReviewState)
    builder.add_node("review", lambda state: {"approved_calls": approved})
    builder.add_edge(START, "review")
    assert builder.compile().invoke({"messages": []})["approved_calls"] == approved
