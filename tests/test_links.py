"""Answers from elsewhere: links are single-use, bound to one call, refused late, and work across processes."""

import json
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, StateGraph
from langgraph.types import interrupt
from pydantic import TypeAdapter
from typing_extensions import TypedDict

from hitl_widgets.errors import LinkRefused
from hitl_widgets.expiry import Expiry, ManualClock, Reject
from hitl_widgets.graphs import AUTO_APPROVE, build_review_graph, review_record
from hitl_widgets.inventory import InventoryStore, make_tools
from hitl_widgets.links import ApprovalLinks, Outbox
from hitl_widgets.local_server import free_port
from hitl_widgets.offline import OfflineChatModel
from hitl_widgets.persistence import open_checkpointer
from hitl_widgets.protocol import check_decision, decision_schema, review_request

WORKER = Path(__file__).resolve().parents[1] / "notebooks" / "link_worker.py"  # the one notebook 18 runs
REQUEST = "Check widget-x in SF-01. If stock is below 10 units, order 100 from 'Acme Supply'."
ORDER = {"item": "widget-x", "qty": 100, "vendor": "Acme Supply"}


@pytest.fixture
def scenario(tmp_path):
    """The review graph on a SQLite file, paused at the order on thread t1, links sent to alice."""
    store = InventoryStore(tmp_path / "store.sqlite")
    saver = open_checkpointer(tmp_path / "checkpoints.sqlite")
    graph = build_review_graph(OfflineChatModel(), make_tools(store), saver, {"lookup_inventory": AUTO_APPROVE})
    links = ApprovalLinks(graph, base_url="http://127.0.0.1:9")
    outbox = Outbox()
    config = {"configurable": {"thread_id": "t1"}, "callbacks": [links.callback("t1", to=["alice"], outbox=outbox)]}
    graph.invoke({"messages": [HumanMessage(REQUEST)]}, config)
    return graph, links, outbox, store


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def reviews(graph, thread: str = "t1") -> list[dict]:
    return graph.get_state({"configurable": {"thread_id": thread}}).values.get("reviews") or []


# -- the decision's channel and sender ---------------------------------------------------------
def test_a_decision_may_name_its_channel_and_sender_and_the_record_copies_them():
    call = {"name": "create_purchase_order", "args": ORDER, "id": "c1"}
    tools = {t.name: t for t in make_tools(InventoryStore(":memory:"))}
    checked = check_decision({"type": "approve", "channel": "link", "by": "alice"}, call, tools[call["name"]])
    assert checked == {"type": "approve", "channel": "link", "by": "alice"}
    assert review_record(call, checked)["channel"] == "link" and review_record(call, checked)["by"] == "alice"
    plain = check_decision({"type": "approve"}, call, tools[call["name"]])
    assert "channel" not in review_record(call, plain), "a decision without them records as before"
    schema = decision_schema(tools[call["name"]])  # what interrupt(..., response_schema=...) validates with
    assert TypeAdapter(schema).validate_python({"type": "reject", "by": "bob"}).by == "bob"


# -- sending -------------------------------------------------------------------------------------
def test_a_pause_sends_one_message_with_approve_and_reject_links_once(scenario):
    graph, links, outbox, _ = scenario
    [message] = outbox.messages
    assert (message.to, message.tool, message.args) == ("alice", "create_purchase_order", ORDER)
    assert set(message.links) == {"approve", "reject"}
    assert token_of(message.links["approve"]) not in str(message), "the text never shows a token"
    assert links.notify("t1", to=["alice"], outbox=outbox) == [], "notified once per interrupt and recipient"
    assert len(links.notify("t1", to=["bob"], outbox=outbox)) == 1


def test_tokens_are_stored_hashed(scenario, tmp_path):
    _, _, outbox, _ = scenario
    raw = (tmp_path / "checkpoints.sqlite").read_bytes()
    for url in outbox.messages[0].links.values():
        assert token_of(url).encode() not in raw


# -- following -----------------------------------------------------------------------------------
def test_following_the_approve_link_runs_the_call_and_records_who_and_how(scenario):
    graph, links, outbox, store = scenario
    outcome = links.follow(token_of(outbox.messages[0].links["approve"]))
    assert outcome.status == "done"
    [review] = reviews(graph)
    assert (review["decision"], review["channel"], review["by"]) == ("approve", "link", "alice")
    assert "PO-0001" in graph.get_state({"configurable": {"thread_id": "t1"}}).values["messages"][-1].content


def test_a_reused_link_and_the_other_link_of_the_same_message_are_refused(scenario):
    graph, links, outbox, _ = scenario
    approve, reject = (token_of(outbox.messages[0].links[k]) for k in ("approve", "reject"))
    links.follow(reject)
    with pytest.raises(LinkRefused, match="used already"):
        links.follow(reject)
    with pytest.raises(LinkRefused, match="used already"):
        links.follow(approve)
    assert [r["decision"] for r in reviews(graph)] == ["reject"]


def test_a_forged_token_is_refused_and_nothing_runs(scenario):
    graph, links, _, _ = scenario
    with pytest.raises(LinkRefused, match="not valid"):
        links.follow("forged-" + uuid.uuid4().hex)
    assert reviews(graph) == [] and graph.get_state({"configurable": {"thread_id": "t1"}}).interrupts


def test_a_token_bound_to_another_call_is_refused(scenario):
    graph, links, _, _ = scenario
    [pending] = graph.get_state({"configurable": {"thread_id": "t1"}}).interrupts
    forged_binding = links.tokens.issue(
        thread_id="t1",
        interrupt_id=pending.id,
        fingerprint="0" * 32,
        decision="approve",
        recipient="mallory",
        issued_at="2026-01-01T00:00:00+00:00",
        expires_at=None,
    )
    with pytest.raises(LinkRefused, match="another call"):
        links.follow(forged_binding)
    assert reviews(graph) == []


def test_a_link_for_a_call_answered_another_way_is_refused(scenario):
    from hitl_widgets._session import Session

    graph, links, outbox, _ = scenario
    Session(graph, {"configurable": {"thread_id": "t1"}}).decide({"type": "approve"})
    with pytest.raises(LinkRefused, match="no longer waiting"):
        links.follow(token_of(outbox.messages[0].links["reject"]))
    assert [r["decision"] for r in reviews(graph)] == ["approve"]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@tool
def send_payment(amount: int) -> str:
    """Pay an amount."""
    return f"paid {amount}"


class PayState(TypedDict, total=False):
    decision: dict


def deadline_graph(expires_at: str):
    """One review whose request carries a deadline, as the expiry half of issue 16 writes it."""

    def review(state: PayState) -> dict:
        call = {"name": "send_payment", "args": {"amount": 5}, "id": "p1"}
        request = {**review_request(call, send_payment), "requested_at": "2026-12-01T10:00:00+00:00"}
        request["expires_at"] = expires_at
        return {"decision": interrupt(request)}

    builder = StateGraph(PayState)
    builder.add_node("review", review)
    builder.add_edge(START, "review")
    return builder.compile(checkpointer=InMemorySaver())


def test_a_link_followed_after_the_deadline_is_refused_and_before_it_works():
    clock = Clock(datetime(2026, 12, 1, 10, 5, tzinfo=UTC))
    for late, thread in ((True, "late"), (False, "early")):
        graph = deadline_graph("2026-12-01T10:10:00+00:00")
        links, outbox = ApprovalLinks(graph, clock=clock), Outbox()
        graph.invoke({}, {"configurable": {"thread_id": thread}})
        [message] = links.notify(thread, to=["alice"], outbox=outbox)
        assert message.expires_at == "2026-12-01T10:10:00+00:00" and "before 2026-12-01T10:10:00" in str(message)
        clock.now = datetime(2026, 12, 1, 10, 11 if late else 9, tzinfo=UTC)
        if late:
            with pytest.raises(LinkRefused, match="expired"):
                links.follow(token_of(message.links["approve"]))
            assert graph.get_state({"configurable": {"thread_id": thread}}).interrupts
        else:
            links.follow(token_of(message.links["approve"]))
            values = graph.get_state({"configurable": {"thread_id": thread}}).values
            assert values["decision"] == {"type": "approve", "channel": "link", "by": "alice"}


# -- over HTTP -------------------------------------------------------------------------------------
def http(url: str, data: bytes | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_get_shows_the_call_and_resumes_nothing_only_the_confirmed_post_does(scenario):
    graph, links, outbox, _ = scenario
    with links.serve() as server:
        url = server.url + "/links/" + token_of(outbox.messages[0].links["approve"])
        for _ in range(2):  # a mail scanner's prefetch, then the reviewer
            status, page = http(url)
            assert status == 200 and "create_purchase_order" in page and "Acme Supply" in page and "Confirm" in page
        assert reviews(graph) == [], "a GET must not decide"
        assert http(url, b"")[0] == 400, "a POST without the confirm field decides nothing"
        status, page = http(url, b"confirm=yes")
        assert status == 200 and "done" in page
        status, page = http(url, b"confirm=yes")
        assert status == 403 and "used already" in page
        assert http(server.url + "/links/forged")[0] == 403 and http(server.url + "/other")[0] == 404
    assert [(r["decision"], r["channel"], r["by"]) for r in reviews(graph)] == [("approve", "link", "alice")]


def test_two_servers_on_one_database_let_one_link_through_once(scenario, tmp_path):
    graph, _, outbox, store = scenario
    other = ApprovalLinks(
        build_review_graph(
            OfflineChatModel(), make_tools(store), open_checkpointer(tmp_path / "checkpoints.sqlite"), {}
        )
    )
    mine = ApprovalLinks(graph)
    token = token_of(outbox.messages[0].links["approve"])
    results: list[Any] = []
    with mine.serve() as first, other.serve() as second:
        barrier = threading.Barrier(2)

        def follow(url: str) -> None:
            barrier.wait()
            results.append(http(url + "/links/" + token, b"confirm=yes")[0])

        workers = [threading.Thread(target=follow, args=(s.url,)) for s in (first, second)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
    assert sorted(results) == [200, 403]
    assert [r["decision"] for r in reviews(graph)] == ["approve"]


# -- another process answers while the first one is gone -----------------------------------------
def start_worker(tmp_path: Path, *options: str) -> subprocess.Popen:
    files = ["--checkpoints", str(tmp_path / "c.sqlite"), "--store", str(tmp_path / "s.sqlite")]
    return subprocess.Popen(
        [sys.executable, str(WORKER), *files, *options],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "HITL_OFFLINE": "1"},
    )


def next_event(worker: subprocess.Popen) -> dict:
    while True:
        line = worker.stdout.readline()
        assert line, f"worker exited with {worker.wait()} before reporting"
        if line.startswith("{"):
            return json.loads(line)


def kill(worker: subprocess.Popen) -> None:
    worker.send_signal(signal.SIGKILL)
    assert worker.wait(timeout=30) == -signal.SIGKILL


def test_process_a_pauses_and_dies_b_serves_the_link_c_sees_who_decided_how(tmp_path):
    port = free_port()
    outbox = tmp_path / "outbox.jsonl"
    a = start_worker(tmp_path, "--start", "t1", "--outbox", str(outbox), "--base-url", f"http://127.0.0.1:{port}")
    assert next_event(a) == {"event": "paused", "thread": "t1", "waiting": ["create_purchase_order"]}
    kill(a)
    [message] = Outbox.read(outbox)
    b = start_worker(tmp_path, "--serve", "--port", str(port))
    try:
        assert next_event(b)["event"] == "serving"
        assert http(message.links["approve"], b"confirm=yes")[0] == 200
        assert http(message.links["approve"], b"confirm=yes")[0] == 403
    finally:
        kill(b)
    c = start_worker(tmp_path, "--show", "t1")
    event = next_event(c)
    c.wait(30)
    assert event["reviews"] == [
        {"tool": "create_purchase_order", "decision": "approve", "channel": "link", "by": "alice"}
    ]
    assert event["waiting"] == 0


# -- PostgreSQL --------------------------------------------------------------------------------
def test_on_postgres_a_link_is_single_use_across_two_connections(postgres_url, tmp_path):
    store = InventoryStore(tmp_path / "store.sqlite")
    thread = f"links-{uuid.uuid4().hex}"

    def graph():
        saver = open_checkpointer(postgres_url)
        return build_review_graph(OfflineChatModel(), make_tools(store), saver, {"lookup_inventory": AUTO_APPROVE})

    first, second = ApprovalLinks(graph()), ApprovalLinks(graph())
    outbox = Outbox()
    config = {"configurable": {"thread_id": thread}, "callbacks": [first.callback(thread, to=["bob"], outbox=outbox)]}
    first.graph.invoke({"messages": [HumanMessage(REQUEST)]}, config)
    token = token_of(outbox.messages[0].links["approve"])
    assert second.preview(token).tool == "create_purchase_order"
    second.follow(token)
    with pytest.raises(LinkRefused, match="used already"):
        first.follow(token)
    assert [(r["decision"], r["by"]) for r in reviews(first.graph, thread)] == [("approve", "bob")]


def test_a_panel_run_with_the_callback_sends_links_at_every_pause(tmp_path):
    from hitl_widgets.panel import ApprovalPanel

    store = InventoryStore(tmp_path / "store.sqlite")
    graph = build_review_graph(OfflineChatModel(), make_tools(store), open_checkpointer(tmp_path / "c.sqlite"))
    links, outbox = ApprovalLinks(graph), Outbox(tmp_path / "outbox.jsonl")
    callbacks = [links.callback("p1", to=["alice", "bob"], outbox=outbox)]
    panel = ApprovalPanel(graph, {"configurable": {"thread_id": "p1"}, "callbacks": callbacks})
    panel.run(REQUEST)
    assert [(m.to, m.tool) for m in outbox.messages] == [("alice", "lookup_inventory"), ("bob", "lookup_inventory")]
    panel.decide({"type": "approve"})
    assert [m.tool for m in outbox.messages][2:] == ["create_purchase_order"] * 2
    assert [m.links for m in Outbox.read(tmp_path / "outbox.jsonl")] == [m.links for m in outbox.messages]
    links.follow(token_of(outbox.messages[3].links["reject"]))
    assert [(r["decision"], r.get("channel"), r.get("by")) for r in reviews(graph, "p1")] == [
        ("approve", None, None),
        ("reject", "link", "bob"),
    ]


def test_on_a_governed_graph_the_link_recipient_is_the_reviewer_and_four_eyes_still_holds(tmp_path):
    from hitl_widgets.policy import Policy, allow, ask, rule

    store = InventoryStore(tmp_path / "store.sqlite")
    policy = Policy(
        [rule("lookups", tool="lookup_inventory", then=allow())],
        default=ask(approvals=2, decisions=("approve", "reject")),
    )
    saver = open_checkpointer(tmp_path / "c.sqlite")
    graph = build_review_graph(OfflineChatModel(), make_tools(store), saver, policy=policy)
    links, outbox = ApprovalLinks(graph), Outbox()
    config = {"configurable": {"thread_id": "g1"}, "callbacks": [links.callback("g1", to=["alice"], outbox=outbox)]}
    graph.invoke({"messages": [HumanMessage(REQUEST)]}, config)
    links.follow(token_of(outbox.messages[0].links["approve"]))
    [pending] = graph.get_state({"configurable": {"thread_id": "g1"}}).interrupts
    assert pending.value["governance"]["approvals"] == ["alice"], "one approval of two: still waiting"
    [answer] = [r for r in graph.audit.records(thread_id="g1", event="decision") if not r["automatic"]]
    assert (answer["decision"], answer["actor"], answer["channel"], answer["by"]) == (
        "approve",
        "alice",
        "link",
        "alice",
    )
    assert graph.audit.verify() == []
    [again] = links.notify("g1", to=["bob"], outbox=outbox)  # the second approver gets links for the new interrupt
    links.follow(token_of(again.links["approve"]))
    assert [(r["decision"], r["actor"], r["channel"]) for r in reviews(graph, "g1")[1:]] == [
        ("approve", "alice", "link"),
        ("approve", "bob", "link"),
    ]


# -- a late link on a graph with a deadline (issue 16's two halves together) ---------------------
def deadline_scenario(tmp_path, graph_clock, link_clock):
    """The order waits with a five-minute deadline on the graph's clock; the links read `link_clock`."""
    store = InventoryStore(tmp_path / "store.sqlite")
    expiry = Expiry({"create_purchase_order": Reject(300)}, clock=graph_clock)
    graph = build_review_graph(
        OfflineChatModel(),
        make_tools(store),
        open_checkpointer(tmp_path / "checkpoints.sqlite"),
        {"lookup_inventory": AUTO_APPROVE},
        expiry=expiry,
    )
    links = ApprovalLinks(graph, clock=link_clock)
    outbox = Outbox()
    config = {"configurable": {"thread_id": "t1"}, "callbacks": [links.callback("t1", to=["alice"], outbox=outbox)]}
    graph.invoke({"messages": [HumanMessage(REQUEST)]}, config)
    [message] = outbox.messages
    assert message.expires_at, "the request's deadline reaches the message"
    return graph, links, message, store


def test_a_link_followed_over_http_after_the_deadline_is_refused_and_nothing_runs(tmp_path):
    clock = ManualClock()
    graph, links, message, store = deadline_scenario(tmp_path, clock, clock)
    clock.advance(301)
    with links.serve() as server:
        status, page = http(server.url + "/links/" + token_of(message.links["approve"]), b"confirm=yes")
    assert status == 403 and "expired" in page
    assert store.purchase_orders() == [], "a late approval placed an order"


def test_the_graph_refuses_a_late_link_even_when_the_link_server_thinks_it_is_in_time(tmp_path):
    """The deadline is the node's to check, not the UI's: a link server with a slow clock cannot approve late."""
    graph_clock, slow_link_clock = ManualClock(), ManualClock()
    graph, links, message, store = deadline_scenario(tmp_path, graph_clock, slow_link_clock)
    graph_clock.advance(301)  # the link server's clock still reads the request time
    with links.serve() as server:
        status, _ = http(server.url + "/links/" + token_of(message.links["approve"]), b"confirm=yes")
    assert store.purchase_orders() == [], f"a late approval placed an order (HTTP {status})"
    trail = [(r["decision"], r.get("channel"), r.get("late_decision")) for r in reviews(graph)]
    assert trail == [("late", "link", "approve"), ("reject", "deadline", None)], trail
