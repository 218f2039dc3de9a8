"""The approval inbox lists exactly the paused threads, filters them, opens one, answers several."""

import operator
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

import pytest
from langchain_core.tools import tool
from langgraph.graph import START, StateGraph
from langgraph.types import interrupt
from typing_extensions import TypedDict

from hitl_widgets._inbox import each_thread_items, sqlite_items
from hitl_widgets._session import Session
from hitl_widgets.graphs import build_review_graph, review_record
from hitl_widgets.inbox import ApprovalInbox
from hitl_widgets.inventory import InventoryStore, make_tools
from hitl_widgets.offline import OfflineChatModel
from hitl_widgets.panel import ApprovalPanel
from hitl_widgets.persistence import open_checkpointer
from hitl_widgets.protocol import as_dict, check_decision, decision_schema, review_request

ORDER = "Check widget-x in SF-01. If stock is below 10 units, order 100 from 'Acme Supply'."
LOOKUP_ONLY = "Check widget-x in SF-01."
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def config(thread: str) -> dict:
    return {"configurable": {"thread_id": thread}}


def scenario_threads(graph) -> dict[str, str]:
    """Threads in every state: paused at the lookup, paused at the order, finished, answered."""
    expected = {}
    for n in range(3):
        Session(graph, config(f"lookup-{n}")).run(ORDER)
        expected[f"lookup-{n}"] = "lookup_inventory"
    for n in range(2):
        session = Session(graph, config(f"order-{n}"))
        session.run(ORDER)
        session.decide({"type": "approve"})
        expected[f"order-{n}"] = "create_purchase_order"
    finished = Session(graph, config("finished"))
    finished.run(LOOKUP_ONLY)
    assert finished.decide({"type": "approve"}).status == "done"
    answered = Session(graph, config("answered"))
    answered.run(ORDER)
    answered.decide({"type": "approve"})
    assert answered.decide({"type": "reject", "message": "no"}).status == "done"
    return expected


def listed(inbox: ApprovalInbox, **filters) -> dict[str, str]:
    return {item.thread_id: item.tool for item in inbox.items(**filters)}


@pytest.fixture
def sqlite_graph(tmp_path):
    store = InventoryStore(tmp_path / "store.sqlite")
    return build_review_graph(OfflineChatModel(), make_tools(store), open_checkpointer(tmp_path / "c.sqlite"))


def test_lists_exactly_the_paused_threads_as_langgraph_sees_them(sqlite_graph):
    expected = scenario_threads(sqlite_graph)
    inbox = ApprovalInbox(sqlite_graph)
    assert listed(inbox) == expected
    for item in inbox.items():
        pending = sqlite_graph.get_state(config(item.thread_id)).interrupts
        assert [p.id for p in pending] == [item.interrupt_id], "the same interrupt LangGraph says is pending"
    assert str(inbox).startswith("Approval inbox · 5 waiting")


def test_the_sqlite_fast_path_reads_what_get_tuple_reads(sqlite_graph, tmp_path):
    scenario_threads(sqlite_graph)
    graph = payment_graph(sqlite_graph.checkpointer)  # kit requests with deadlines, on the same file
    pause_payments(graph, [5, 50])
    saver = sqlite_graph.checkpointer
    fast, slow = list(sqlite_items(saver)), list(each_thread_items(saver))
    assert len(fast) == 7

    def key(item):
        return (item.thread_id, item.interrupt_id, item.tool, item.expires_at)

    assert sorted(map(key, fast)) == sorted(map(key, slow))
    for quick, full in zip(sorted(fast, key=key), sorted(slow, key=key), strict=True):
        assert abs(quick.paused_at - full.paused_at) < timedelta(seconds=1)


def test_filters_by_tool(sqlite_graph):
    expected = scenario_threads(sqlite_graph)
    inbox = ApprovalInbox(sqlite_graph)
    orders = {t: name for t, name in expected.items() if name == "create_purchase_order"}
    assert listed(inbox, tool="create_purchase_order") == orders
    inbox._tool.value = "create_purchase_order"  # the widget's filter, as a reviewer picks it
    assert {item.thread_id for item in inbox._shown} == set(orders)
    assert "tool create_purchase_order" in str(inbox)


def test_opening_a_thread_shows_its_panel_in_place_and_answers_it(sqlite_graph):
    scenario_threads(sqlite_graph)
    inbox = ApprovalInbox(sqlite_graph, reviewer="alice")
    panel = inbox.open_thread("order-1")
    assert isinstance(panel, ApprovalPanel) and inbox._detail.children == (panel,)
    assert "create_purchase_order" in str(panel)
    panel.decide({"type": "approve"})
    assert "order-1" not in listed(inbox)


# -- requests built by hand: ages, deadlines, allowed decisions --------------------------------
@tool
def send_payment(amount: int) -> str:
    """Pay an amount."""
    return f"paid {amount}"


class PayState(TypedDict, total=False):
    amount: int
    allowed: list[str]
    requested_at: str
    reviews: Annotated[list, operator.add]


def payment_graph(saver):
    """One review per thread; the request carries `requested_at` / `expires_at` as issue 16's expiry writes them."""

    def review(state: PayState) -> dict:
        call = {"name": "send_payment", "args": {"amount": state["amount"]}, "id": f"pay-{state['amount']}"}
        allowed = tuple(state.get("allowed") or ("approve", "reject"))
        requested = datetime.fromisoformat(state["requested_at"])
        request = {
            **review_request(call, send_payment, allowed),
            "requested_at": requested.isoformat(timespec="seconds"),
            "expires_at": (requested + timedelta(hours=4)).isoformat(timespec="seconds"),
            "on_expiry": {"type": "escalate", "to": "on-call"},
        }
        answer = interrupt(request, response_schema=decision_schema(send_payment, allowed))
        decision = check_decision(as_dict(answer), call, send_payment, allowed)
        return {"reviews": [review_record(call, decision)]}

    builder = StateGraph(PayState)
    builder.add_node("review", review)
    builder.add_edge(START, "review")
    return builder.compile(checkpointer=saver)


def pause_payments(graph, ages_in_minutes, allowed=None):
    for minutes in ages_in_minutes:
        requested = (NOW - timedelta(minutes=minutes)).isoformat()
        state = {"amount": minutes, "requested_at": requested, **({"allowed": allowed} if allowed else {})}
        graph.invoke(state, config(f"pay-{minutes}"))


def test_age_deadline_and_reviewer_come_from_the_request_and_filter_by_age(tmp_path):
    graph = payment_graph(open_checkpointer(tmp_path / "pay.sqlite"))
    pause_payments(graph, [5, 30, 90, 240])
    inbox = ApprovalInbox(graph, clock=lambda: NOW)
    first = inbox.items()[0]
    assert (first.thread_id, first.age(NOW), first.reviewer) == ("pay-240", timedelta(hours=4), "then on-call")
    assert first.expires_at == NOW and "due 2026-12-01T12:00:00+00:00" in str(inbox)
    assert [i.thread_id for i in inbox.items(older_than=timedelta(minutes=30))] == ["pay-240", "pay-90", "pay-30"]
    assert [i.thread_id for i in inbox.items(newer_than=timedelta(minutes=30))] == ["pay-30", "pay-5"]
    inbox._older.value = 60
    assert [i.thread_id for i in inbox._shown] == ["pay-240", "pay-90"]
    assert "waiting 1 h 30 min" in str(inbox)


def test_a_bulk_answer_checks_each_request_and_one_refusal_stops_no_other(tmp_path):
    graph = payment_graph(open_checkpointer(tmp_path / "pay.sqlite"))
    pause_payments(graph, [10, 20, 30])
    pause_payments(graph, [40], allowed=["reject"])  # this request does not allow approve
    inbox = ApprovalInbox(graph, clock=lambda: NOW)
    items = inbox.items()
    Session(graph, config("pay-20")).decide({"type": "reject"})  # answered elsewhere after the list was read
    results = inbox.answer_all({"type": "approve"}, items, by="ops")
    outcome = {r.item.thread_id: (r.sent, r.detail) for r in results}
    assert outcome["pay-10"] == (True, "done") and outcome["pay-30"] == (True, "done")
    assert not outcome["pay-40"][0] and "not allowed" in outcome["pay-40"][1]
    assert not outcome["pay-20"][0] and "refused" in outcome["pay-20"][1]
    for thread, decision in (("pay-10", "approve"), ("pay-20", "reject"), ("pay-30", "approve")):
        [review] = graph.get_state(config(thread)).values["reviews"]
        assert review["decision"] == decision
    [bulk] = graph.get_state(config("pay-10")).values["reviews"]
    assert (bulk["channel"], bulk["by"]) == ("inbox", "ops")
    assert listed(inbox) == {"pay-40": "send_payment"}
    assert len(inbox.results) == 4 and "Answered 2 of 4" in str(inbox)


def test_the_widget_answers_the_ticked_rows(tmp_path):
    graph = payment_graph(open_checkpointer(tmp_path / "pay.sqlite"))
    pause_payments(graph, [10, 20])
    inbox = ApprovalInbox(graph, clock=lambda: NOW, reviewer="ops")
    inbox._list.value = (1,)  # the second row: pay-10 is the newer one, listed last
    inbox._approve.click()
    assert [r.item.thread_id for r in inbox.results] == ["pay-10"] and inbox.results[0].sent
    assert [i.thread_id for i in inbox.items()] == ["pay-20"]
    assert inbox._list.options == ((str(inbox).splitlines()[1].strip(), 0),)
    inbox.select_all()
    inbox.refresh()
    assert [i.thread_id for i in inbox.selected()] == ["pay-20"], "a refresh keeps the ticked rows ticked"
    inbox._open.click()
    assert inbox.opened is not None and inbox.opened._session.thread_id == "pay-20"


# -- a served graph ---------------------------------------------------------------------------
class FakeThreads:
    """What `client.threads.search(status="interrupted")` returns, two pages of it."""

    def __init__(self, threads: list[dict]) -> None:
        self.threads = threads
        self.calls: list[dict] = []

    def search(self, **query):
        self.calls.append(query)
        assert query["status"] == "interrupted"
        return self.threads[query["offset"] : query["offset"] + query["limit"]]


def test_a_served_graph_is_listed_from_threads_search_page_by_page():
    call = {"name": "send_payment", "args": {"amount": 3}, "id": "c3"}
    threads = [
        {
            "thread_id": f"srv-{n}",
            "updated_at": "2026-12-01T11:00:00+00:00",
            "values": {},
            "interrupts": {"task": [{"id": f"i{n}", "value": review_request(call, send_payment)}]},
        }
        for n in range(250)
    ]
    client = type("Client", (), {"threads": FakeThreads(threads)})()
    inbox = ApprovalInbox(graph=object(), client=client, clock=lambda: NOW)
    items = inbox.items()
    assert len(items) == 250 and items[0].tool == "send_payment" and items[0].age(NOW) == timedelta(hours=1)
    assert [c["offset"] for c in client.threads.calls][-2:] == [0, 200]


# -- PostgreSQL --------------------------------------------------------------------------------
def test_on_postgres_lists_the_paused_threads(postgres_url, tmp_path):
    graph = payment_graph(open_checkpointer(postgres_url))
    tag = uuid.uuid4().hex[:8]
    for n in range(3):
        graph.invoke({"amount": n + 1, "requested_at": NOW.isoformat()}, config(f"pg-{tag}-{n}"))
    Session(graph, config(f"pg-{tag}-0")).decide({"type": "approve"})
    inbox = ApprovalInbox(graph, clock=lambda: NOW)
    mine = sorted(i.thread_id for i in inbox.items() if i.thread_id.startswith(f"pg-{tag}"))
    assert mine == [f"pg-{tag}-1", f"pg-{tag}-2"]


# -- a real LangGraph server ---------------------------------------------------------------------
def test_a_served_graph_lists_its_interrupted_threads_and_answers_them_over_http():
    from langgraph_sdk import get_sync_client

    from hitl_widgets.local_server import LocalServer

    with LocalServer() as server:
        client = get_sync_client(url=server.url)
        threads = [client.threads.create()["thread_id"] for _ in range(3)]
        for thread in threads[:2]:
            client.runs.wait(thread, "inventory_agent", input={"messages": [{"role": "user", "content": ORDER}]})
        inbox = ApprovalInbox.for_server(server.url, "inventory_agent", reviewer="ops")
        assert listed(inbox) == {threads[0]: "lookup_inventory", threads[1]: "lookup_inventory"}
        [result] = inbox.answer_all({"type": "approve"}, inbox.items()[:1])
        assert result.sent and result.detail == "paused"
        answered = result.item.thread_id
        assert listed(inbox)[answered] == "create_purchase_order", "the thread moved on to its next question"
        [review] = client.threads.get_state(answered)["values"]["reviews"]
        assert (review["decision"], review["channel"], review["by"]) == ("approve", "inbox", "ops")
