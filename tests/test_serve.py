"""The kit's agent behind LangGraph's local API server (`langgraph dev`), driven over HTTP.

One real server per module, started by the `server` fixture on a free loopback port and
stopped afterwards even when a test fails. Each test works on its own thread; the
store is shared, so tests compare the tool runs they caused, not the totals.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from langgraph.pregel.remote import RemoteGraph
from langgraph_sdk import get_sync_client

from hitl_widgets import ApprovalPanel
from hitl_widgets.errors import RemoteThreadError, ServerError
from hitl_widgets.inventory import InventoryStore
from hitl_widgets.local_server import LocalServer

REQUEST = "Check warehouse SF-01 for 'widget-x'. If stock is below 10 units, order 100 from 'Acme Supply'."
GRAPH = "inventory_agent"


@pytest.fixture(scope="module")
def server():
    with LocalServer() as running:
        yield running


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


@pytest.fixture
def store(server):
    return InventoryStore(server.store_path)


def port_is_closed(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def process_is_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie (exited, not yet reaped by a dead parent) counts as gone.
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "\nState:\tZ" in status.read_text()


def wait_until(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def start_thread(http) -> tuple[str, dict]:
    """A new thread, run until its first pause; returns the thread id and the run's body."""
    thread_id = http.post("/threads", json={}).json()["thread_id"]
    response = http.post(
        f"/threads/{thread_id}/runs/wait",
        json={"assistant_id": GRAPH, "input": {"messages": [{"role": "user", "content": REQUEST}]}},
    )
    assert response.status_code == 200, response.text
    return thread_id, response.json()


def resume(http, thread_id: str, answer) -> httpx.Response:
    return http.post(f"/threads/{thread_id}/runs/wait", json={"assistant_id": GRAPH, "command": {"resume": answer}})


# -- the server's life ----------------------------------------------------------------


def test_server_listens_on_loopback_with_the_kit_graph(server, http):
    assert server.running and server.url.startswith("http://127.0.0.1:")
    assert http.get("/ok").json()["ok"] is True
    graphs = [a["graph_id"] for a in http.post("/assistants/search", json={}).json()]
    assert graphs == [GRAPH]
    assert Path(server.store_path).exists(), "HITL_STORE reached the server: its store is a file we can read"
    assert not server.workdir.is_relative_to(Path(__file__).resolve().parent.parent), (
        "state and log stay out of the repo"
    )


def test_server_is_stopped_when_the_block_fails():
    with pytest.raises(RuntimeError, match="boom"), LocalServer() as doomed:
        pid, port, workdir = doomed.pid, doomed.port, doomed.workdir
        assert not port_is_closed(port)
        raise RuntimeError("boom")
    assert wait_until(lambda: process_is_gone(pid)), "the server outlived its with block"
    assert port_is_closed(port) and not workdir.exists() and not doomed.running


def test_server_dies_with_the_process_that_started_it(tmp_path):
    if not sys.platform.startswith("linux"):
        pytest.skip("the parent-death signal is Linux only")
    script = (
        "import json, time\n"
        "from hitl_widgets.local_server import LocalServer\n"
        "s = LocalServer().start()\n"
        "print(json.dumps({'pid': s.pid, 'port': s.port}), flush=True)\n"
        "time.sleep(600)\n"
    )
    # TMPDIR: the server's folder, which nobody is left to delete, lands in tmp_path.
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = parent.stdout.readline()
        assert line, f"the parent exited with {parent.wait()} before starting the server"
        started = json.loads(line)
    finally:
        parent.send_signal(signal.SIGKILL)  # a crashed kernel: no atexit, no finally
        parent.wait(timeout=30)
    assert wait_until(lambda: process_is_gone(started["pid"])), "an orphaned server kept running"
    assert wait_until(lambda: port_is_closed(started["port"]))


def test_a_server_that_cannot_start_says_why(tmp_path):
    bad = tmp_path / "langgraph.json"
    bad.write_text(json.dumps({"dependencies": ["."], "graphs": {"broken": "./missing.py:graph"}}))
    with pytest.raises(ServerError, match="missing.py"):
        LocalServer(bad, startup_timeout=60).start()


# -- what the server really returns -------------------------------------------------


def test_a_paused_run_is_a_200_with_the_interrupt_not_a_409(server, http, store):
    before = len(store.tool_runs())
    thread_id, body = start_thread(http)
    (pending,) = body["__interrupt__"]
    assert pending["value"]["kind"] == "hitl_widgets/review"
    assert pending["value"]["tool_call"]["name"] == "lookup_inventory"
    thread = http.get(f"/threads/{thread_id}").json()
    assert thread["status"] == "interrupted"
    assert [i["id"] for found in thread["interrupts"].values() for i in found] == [pending["id"]]
    runs = http.get(f"/threads/{thread_id}/runs").json()
    assert [run["status"] for run in runs] == ["success"], "a pause ends the run successfully"
    state = http.get(f"/threads/{thread_id}/state").json()
    assert state["next"] == ["review"] and [i["id"] for i in state["interrupts"]] == [pending["id"]]
    assert len(store.tool_runs()) == before, "nothing ran without approval"


def test_the_stream_endpoint_reports_the_pause_in_an_updates_event(http):
    thread_id = http.post("/threads", json={}).json()["thread_id"]
    payload = {
        "assistant_id": GRAPH,
        "input": {"messages": [{"role": "user", "content": REQUEST}]},
        "stream_mode": ["updates"],
    }
    with http.stream("POST", f"/threads/{thread_id}/runs/stream", json=payload) as response:
        assert response.status_code == 200
        lines = list(response.iter_lines())
    events = [(lines[i], lines[i + 1]) for i in range(len(lines) - 1) if lines[i].startswith("event: ")]
    paused = [
        json.loads(data[len("data: ") :])
        for event, data in events
        if event == "event: updates" and "__interrupt__" in data
    ]
    assert len(paused) == 1 and paused[0]["__interrupt__"][0]["value"]["tool_call"]["name"] == "lookup_inventory"
    assert not [event for event, _ in events if event == "event: error"]


def test_409_means_the_thread_is_busy(http):
    thread_id = http.post("/threads", json={}).json()["thread_id"]
    payload = {"assistant_id": GRAPH, "input": {"messages": [{"role": "user", "content": REQUEST}]}}
    scheduled = http.post(f"/threads/{thread_id}/runs", json={**payload, "after_seconds": 600}).json()
    try:
        busy = http.post(f"/threads/{thread_id}/runs", json={**payload, "multitask_strategy": "reject"})
        assert busy.status_code == 409
        assert "already running" in busy.json()["detail"]
    finally:
        assert http.post(f"/threads/{thread_id}/runs/{scheduled['run_id']}/cancel").status_code == 202


def test_a_bad_answer_errors_the_run_and_keeps_the_question(http, store):
    before = len(store.tool_runs())
    thread_id, body = start_thread(http)
    pending = body["__interrupt__"][0]["id"]
    response = resume(http, thread_id, {pending: {"type": "maybe"}})
    assert response.status_code == 200
    assert response.json()["__error__"]["error"] == "ValidationError"
    thread = http.get(f"/threads/{thread_id}").json()
    assert thread["status"] == "error"
    assert [i["id"] for i in http.get(f"/threads/{thread_id}/state").json()["interrupts"]] == [pending]
    assert len(store.tool_runs()) == before
    assert "__interrupt__" in resume(http, thread_id, {pending: {"type": "approve"}}).json()
    assert http.get(f"/threads/{thread_id}").json()["status"] == "interrupted"
    assert len(store.tool_runs()) == before + 1


def test_a_stale_answer_runs_nothing(http, store):
    thread_id, body = start_thread(http)
    first = body["__interrupt__"][0]["id"]
    second = resume(http, thread_id, {first: {"type": "approve"}}).json()["__interrupt__"][0]
    assert second["value"]["tool_call"]["name"] == "create_purchase_order"
    runs = len(store.tool_runs())
    orders = len(store.purchase_orders())
    again = resume(http, thread_id, {first: {"type": "approve"}}).json()
    assert [i["id"] for i in again["__interrupt__"]] == [second["id"]], "the open question is asked again"
    assert (len(store.tool_runs()), len(store.purchase_orders())) == (runs, orders)


# -- the panel over HTTP ----------------------------------------------------------------

CHAIN = REQUEST.rstrip(".") + ", then notify the team on slack."
WORKER = Path(__file__).with_name("remote_panel_worker.py")


def remote_panel(server, thread_id: str | None = None):
    """An ApprovalPanel on a served thread (a new one unless `thread_id` is given)."""
    thread_id = thread_id or get_sync_client(url=server.url).threads.create()["thread_id"]
    graph = RemoteGraph(GRAPH, url=server.url)
    return ApprovalPanel(graph, {"configurable": {"thread_id": thread_id}}), thread_id


def run_count(server, thread_id: str) -> int:
    return len(get_sync_client(url=server.url).runs.list(thread_id))


def test_panel_approves_edits_and_rejects_over_http(server, store):
    before = len(store.tool_runs())
    panel, thread_id = remote_panel(server)
    panel.run(CHAIN)
    assert [i.value["tool_call"]["name"] for i in panel.pending] == ["lookup_inventory"]
    panel.decide({"type": "approve"})
    order = panel.pending[0].value["tool_call"]
    assert order["name"] == "create_purchase_order" and order["args"]["qty"] == 100
    panel.decide({"type": "edit", "edited_action": {"name": order["name"], "args": {**order["args"], "qty": 50}}})
    slack = panel.pending[0].value["tool_call"]
    assert (slack["name"], slack["args"]["channel"]) == ("send_notification", "slack")
    panel.decide({"type": "reject", "message": "Please email the team instead."})
    email = panel.pending[0].value["tool_call"]
    assert (email["name"], email["args"]["channel"]) == ("send_notification", "email")
    panel.decide({"type": "approve"})

    assert not panel.pending and "Status: Done." in str(panel)
    assert [(r.tool, r.decision["type"]) for r in panel.decisions] == [
        ("lookup_inventory", "approve"),
        ("create_purchase_order", "edit"),
        ("send_notification", "reject"),
        ("send_notification", "approve"),
    ]
    ran = store.tool_runs()[before:]
    assert [r["tool"] for r in ran] == ["lookup_inventory", "create_purchase_order", "send_notification"]
    assert ran[1]["args"]["qty"] == 50 and ran[2]["args"]["channel"] == "email"
    # The server's own copy of the thread keeps the audit trail, the rejection's message included.
    reviews = get_sync_client(url=server.url).threads.get_state(thread_id)["values"]["reviews"]
    assert [(r["decision"], r["message"]) for r in reviews][2] == ("reject", "Please email the team instead.")


def test_nothing_runs_without_approval_over_http(server, store):
    before = len(store.tool_runs())
    panel, thread_id = remote_panel(server)
    panel.run(REQUEST)
    assert panel.pending and len(store.tool_runs()) == before, "paused before any tool ran"
    panel.decide({"type": "reject", "message": "Not now."})
    assert not panel.pending and "Status: Done." in str(panel)
    assert len(store.tool_runs()) == before, "a rejected call never runs"


def test_a_bad_edit_is_refused_before_it_reaches_the_server(server, store):
    panel, thread_id = remote_panel(server)
    panel.run(REQUEST)
    pending = panel.pending[0]
    runs, tool_runs = run_count(server, thread_id), len(store.tool_runs())
    call = pending.value["tool_call"]
    panel.decide({"type": "edit", "edited_action": {"name": call["name"], "args": {**call["args"], "rush": True}}})
    assert "edited_action.args.rush: Extra inputs are not permitted" in str(panel) and not panel.decisions
    panel.decide({"type": "approve"}, "0" * 32)  # an id that never was
    assert "Unknown id" in str(panel) and not panel.decisions
    assert run_count(server, thread_id) == runs, "no run was sent to the server"
    assert [i.id for i in panel.pending] == [pending.id] and len(store.tool_runs()) == tool_runs


def test_a_panel_needs_a_uuid_thread_on_the_server(server):
    with pytest.raises(RemoteThreadError, match="UUID"):
        remote_panel(server, thread_id="my-thread")


def start_worker(server, thread_id: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(WORKER), server.url, thread_id],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "HITL_OFFLINE": "1"},
    )


def read_event(worker: subprocess.Popen) -> dict:
    line = worker.stdout.readline()
    assert line, f"the worker exited with {worker.poll()} before reporting"
    return json.loads(line)


def send(worker: subprocess.Popen, decision: dict) -> None:
    worker.stdin.write(json.dumps(decision) + "\n")
    worker.stdin.flush()


@pytest.fixture
def two_kernels(server):
    """Two worker processes, each with a panel on one thread paused at the purchase order."""
    panel, thread_id = remote_panel(server)
    panel.run(REQUEST)
    panel.decide({"type": "approve"})  # the lookup; now the order waits
    workers = [start_worker(server, thread_id) for _ in range(2)]
    try:
        yield thread_id, workers
    finally:
        for worker in workers:
            worker.kill()
            worker.wait(timeout=30)


def orders_on(thread_id: str, server) -> int:
    reviews = get_sync_client(url=server.url).threads.get_state(thread_id)["values"]["reviews"]
    return sum(1 for r in reviews if r["tool"] == "create_purchase_order")


def test_two_kernels_one_resumes_the_other_is_refused_as_stale(server, store, two_kernels):
    thread_id, (first, second) = two_kernels
    seen = [read_event(first), read_event(second)]
    assert seen[0]["id"] == seen[1]["id"] and seen[0]["tool"] == "create_purchase_order"
    orders = len(store.purchase_orders())

    send(first, {"type": "approve"})
    resumed = read_event(first)
    assert resumed["logged"] == 1 and "Status: Done." in resumed["text"]
    send(second, {"type": "approve"})
    refused = read_event(second)
    assert refused["logged"] == 0, "the second panel logged a decision it never sent"
    assert "no longer pending" in refused["text"]
    assert len(store.purchase_orders()) == orders + 1, "the order ran once"
    assert orders_on(thread_id, server) == 1


def test_two_kernels_answering_at_once_run_the_tool_once(server, store, two_kernels):
    thread_id, workers = two_kernels
    assert len({read_event(worker)["id"] for worker in workers}) == 1
    orders = len(store.purchase_orders())
    for worker in workers:  # both send before either hears back
        send(worker, {"type": "approve"})
    results = [read_event(worker) for worker in workers]
    assert sorted(r["logged"] for r in results) == [0, 1], "exactly one panel resumed the thread"
    loser = next(r for r in results if r["logged"] == 0)
    assert "no longer pending" in loser["text"] or "busy on the server" in loser["text"]
    assert len(store.purchase_orders()) == orders + 1, "the order ran once"
    assert orders_on(thread_id, server) == 1


# -- the adapter's conversions, without a server ----------------------------------------


def test_served_messages_become_langchain_messages():
    from langchain_core.messages import AIMessage, HumanMessage

    from hitl_widgets._remote import to_messages

    call = {"name": "lookup_inventory", "args": {"item": "widget-x"}, "id": "call_1", "type": "tool_call"}
    values = {
        "messages": [{"type": "human", "content": "hi"}, {"type": "ai", "content": "", "tool_calls": [call]}],
        "reviews": [],
    }
    converted = to_messages(values)
    assert [type(m) for m in converted["messages"]] == [HumanMessage, AIMessage]
    assert converted["messages"][1].tool_calls[0]["name"] == "lookup_inventory" and converted["reviews"] == []
    assert to_messages(None) is None


def test_server_error_events_map_to_the_errors_a_local_graph_raises():
    from langgraph.errors import UnknownInterruptError
    from langgraph.pregel.remote import RemoteException

    from hitl_widgets._remote import _run_error
    from hitl_widgets.errors import DecisionError

    stale = _run_error({"error": "UnknownInterruptError", "message": "An internal error occurred"}, "t")
    assert isinstance(stale, UnknownInterruptError)
    refused = _run_error(
        {"error": "ValidationError", "message": "1 validation error\nqty\n  Input should be a valid integer"}, "t"
    )
    assert isinstance(refused, DecisionError) and "qty" in str(refused) and "still open" in str(refused)
    assert isinstance(_run_error({"error": "RuntimeError", "message": "boom"}, "t"), RemoteException)
