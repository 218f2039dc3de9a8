"""Four-eyes and identity on the served agent, behind LangGraph server's own custom auth.

The server (`langgraph dev`, started by `LocalServer`) serves the governed agent
(`HITL_GOVERNED=1`) with `hitl_widgets/_served_auth.py` (`HITL_AUTH=required`): the
reviewer is the authenticated user, whatever name an answer claims; a user without the
reviewer permission is refused by the server (403) before the graph runs; the audit
trail records the authenticated names.
"""

import httpx
import pytest

from hitl_widgets.audit import AuditLog
from hitl_widgets.inventory import InventoryStore
from hitl_widgets.local_server import LocalServer

GRAPH = "inventory_agent"
REQUEST = "Check widget-x in SF-01. If stock is below 10 units, order 2000 from 'Acme Supply'."
TOKENS = {name: {"Authorization": f"Bearer {name}-token"} for name in ("alice", "bob", "carol")}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    audit = tmp_path_factory.mktemp("served-governance") / "audit.sqlite"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HITL_GOVERNED", "1")
        env.setenv("HITL_AUTH", "required")
        env.setenv("HITL_AUDIT", str(audit))
        env.delenv("HITL_AUTH_USERS", raising=False)
        env.delenv("HITL_SIGNING_KEY", raising=False)
        with LocalServer() as running:
            running.audit_path = audit
            yield running


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


def pending(http, thread_id, who="alice"):
    [item] = http.get(f"/threads/{thread_id}/state", headers=TOKENS[who]).json()["interrupts"]
    return item


def resume(http, thread_id, who, decision=None, claim=None):
    item = pending(http, thread_id)
    envelope = {"decision": decision or {"type": "approve"}, "fingerprint": item["value"]["fingerprint"]}
    if claim:
        envelope["reviewer"] = claim
    body = {"assistant_id": GRAPH, "command": {"resume": {item["id"]: envelope}}}
    return http.post(f"/threads/{thread_id}/runs/wait", json=body, headers=TOKENS[who])


def test_two_authenticated_reviewers_a_refused_third_user_and_the_audit_names_them(server, http):
    store = InventoryStore(server.store_path)
    assert http.post("/threads", json={}).status_code == 401  # no token, no entry
    thread_id = http.post("/threads", json={}, headers=TOKENS["carol"]).json()["thread_id"]
    started = http.post(
        f"/threads/{thread_id}/runs/wait",
        json={"assistant_id": GRAPH, "input": {"messages": [{"role": "user", "content": REQUEST}]}},
        headers=TOKENS["carol"],
    )
    assert started.status_code == 200, started.text
    info = pending(http, thread_id)["value"]["governance"]
    assert (info["approvals_needed"], info["requester"]) == (2, "carol")

    refused = resume(http, thread_id, "carol")  # carol asked for it and is no reviewer: the server refuses
    assert refused.status_code == 403 and "not a reviewer" in refused.text

    assert resume(http, thread_id, "alice", claim="bob").status_code == 200  # the claim is ignored
    assert pending(http, thread_id)["value"]["governance"]["approvals"] == ["alice"]
    assert resume(http, thread_id, "alice").status_code == 200  # alice again: the graph refuses, asks again
    assert "alice approved this call already" in pending(http, thread_id)["value"]["governance"]["refused"]
    assert [o["qty"] for o in store.purchase_orders()] == []

    done = resume(http, thread_id, "bob")
    assert done.status_code == 200, done.text
    assert [o["qty"] for o in store.purchase_orders()] == [2000]

    audit = AuditLog.sqlite(server.audit_path)
    human = [r for r in audit.records(thread_id, "decision") if not r["automatic"]]
    assert [(r["actor"], r["identity"]) for r in human] == [("alice", "authenticated"), ("bob", "authenticated")]
    assert all(r["requester"] == "carol" for r in human)
    assert [(r["actor"], r["identity"]) for r in audit.records(thread_id, "refusal")] == [("alice", "authenticated")]
    assert [r["outcome"] for r in audit.records(thread_id, "execution") if r["call"]["tool"] != "lookup_inventory"] == [
        "ran"
    ]
    assert audit.verify() == []
