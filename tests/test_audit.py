"""The audit trail: written by the graph, hash-chained, checked against the checkpoints, exported."""

import io
import json
import sqlite3

import pytest
from langchain.agents import create_agent
from langchain_core.messages import ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from test_governance import POLICY, answer, cfg, order_prompt, orders

from hitl_widgets import OfflineChatModel
from hitl_widgets.audit import AuditLog, FixedClock, audit_table, check_against_history
from hitl_widgets.graphs import build_review_graph
from hitl_widgets.inventory import InventoryStore, make_tools
from hitl_widgets.persistence import open_checkpointer
from hitl_widgets.policy import Policy, allow, ask, deny, policy_middleware, rule


def run_three_orders(graph):
    graph.invoke({"messages": [("user", order_prompt(100, "Globex"))]}, cfg("a"))
    graph.invoke({"messages": [("user", order_prompt(20))]}, cfg("b"))
    graph.invoke({"messages": [("user", order_prompt(2000))]}, cfg("c"))
    answer(graph, cfg("c"), {"type": "approve"}, "alice")
    answer(graph, cfg("c"), {"type": "approve"}, "bob")


@pytest.fixture
def trail():
    store = InventoryStore()
    graph = build_review_graph(
        OfflineChatModel(), make_tools(store), InMemorySaver(), policy=POLICY, clock=FixedClock()
    )
    run_three_orders(graph)
    return graph, store


def test_every_decision_and_execution_is_recorded_with_who_what_and_when(trail):
    graph, _ = trail
    records = graph.audit.records()
    assert records and graph.audit.verify() == []
    human = [r for r in records if r["event"] == "decision" and not r["automatic"]]
    assert [(r["actor"], r["identity"], r["decision"]) for r in human] == [
        ("alice", "claimed", "approve"),
        ("bob", "claimed", "approve"),
    ]
    execution = graph.audit.records("c", "execution")[-1]
    assert execution["outcome"] == "ran" and execution["ran_args"]["qty"] == 2000
    assert execution["fingerprint"] == human[0]["fingerprint"]
    assert records[0]["at"] == "2025-01-06T09:00:00+00:00"  # the injected clock


def test_audit_table_gives_one_line_per_record_naming_tool_decision_and_who(trail):
    graph, _ = trail
    records = graph.audit.records("c")
    lines = audit_table(records).splitlines()
    assert len(lines) == len(records) > 0
    bob = next(line for line in lines if "by bob" in line)
    assert bob.split()[1:4] == ["decision", "create_purchase_order", "approve"]
    assert bob.endswith("automatic=False")
    ran = next(line for line in lines if " execution " in line and "create_purchase_order" in line)
    assert " ran " in ran and ran.endswith("automatic=-")  # an execution has no actor and is not a decision
    assert audit_table([]) == ""


def test_an_edited_record_is_detected(trail):
    graph, _ = trail
    conn = graph.audit._db.conn
    body = json.loads(conn.execute("SELECT body FROM hitl_audit WHERE seq = 3").fetchone()[0])
    body["actor"] = "mallory"
    conn.execute("UPDATE hitl_audit SET body = ? WHERE seq = 3", (json.dumps(body),))
    [problem] = graph.audit.verify()
    assert problem.seq == 3 and "edited" in str(problem)


def test_a_deleted_record_is_detected(trail):
    graph, _ = trail
    graph.audit._db.conn.execute("DELETE FROM hitl_audit WHERE seq = 2")
    problems = [str(p) for p in graph.audit.verify()]
    assert problems and any("missing" in p for p in problems) and any("removed" in p for p in problems)


def test_the_trail_matches_the_checkpoints_and_a_cut_end_is_found(trail):
    graph, _ = trail
    for thread in "abc":
        assert check_against_history(graph.audit, graph, cfg(thread)) == []
    last = graph.audit._db.conn.execute("SELECT MAX(seq) FROM hitl_audit WHERE event = 'execution'").fetchone()[0]
    graph.audit._db.conn.execute("DELETE FROM hitl_audit WHERE seq >= ?", (last,))
    assert graph.audit.verify() == []  # the chain alone cannot see a cut end...
    assert "no execution record" in str(check_against_history(graph.audit, graph, cfg("c"))[0])  # ...the checkpoints do


def test_the_trail_exports_to_json_lines(trail, tmp_path):
    graph, _ = trail
    target = tmp_path / "audit.jsonl"
    count = graph.audit.export_jsonl(target)
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert count == len(lines) == len(graph.audit.records()) > 0
    assert lines[1]["prev_hash"] == lines[0]["hash"]
    buffer = io.StringIO()
    graph.audit.export_jsonl(buffer)
    assert buffer.getvalue() == target.read_text()


def test_rerunning_a_node_writes_nothing_twice(trail):
    graph, _ = trail
    before = len(graph.audit.records())
    assert graph.audit.append("c:x", "decision", "c", actor="z")["actor"] == "z"
    assert graph.audit.append("c:x", "decision", "c", actor="other")["actor"] == "z"
    assert len(graph.audit.records()) == before + 1


def test_the_trail_lives_in_the_checkpointers_sqlite_file(tmp_path):
    saver = open_checkpointer(tmp_path / "cp.sqlite")
    graph = build_review_graph(OfflineChatModel(), make_tools(InventoryStore()), saver, policy=POLICY)
    graph.invoke({"messages": [("user", order_prompt(20))]}, cfg())
    rows = sqlite3.connect(tmp_path / "cp.sqlite").execute("SELECT COUNT(*) FROM hitl_audit").fetchone()[0]
    assert rows == len(graph.audit.records()) > 0


def test_the_trail_lives_in_postgres_with_the_checkpoints(postgres_schema):
    import psycopg

    saver = open_checkpointer(postgres_schema)
    store = InventoryStore()
    graph = build_review_graph(OfflineChatModel(), make_tools(store), saver, policy=POLICY)
    graph.invoke({"messages": [("user", order_prompt(100))]}, cfg("pg"))
    answer(graph, cfg("pg"), {"type": "approve"}, "alice", scope={"kind": "thread"})
    assert orders(store) == [(100, "Acme Supply")] and len(graph.audit.grants("pg")) == 1
    assert graph.audit.verify() == [] and check_against_history(graph.audit, graph, cfg("pg")) == []
    with psycopg.connect(postgres_schema, autocommit=True) as conn:
        tables = {row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
        count = conn.execute("SELECT COUNT(*) FROM hitl_audit").fetchone()[0]
        conn.execute("UPDATE hitl_audit SET body = replace(body, 'alice', 'mallory')")
    assert {"checkpoints", "hitl_audit", "hitl_grants"} <= tables
    assert count == len(graph.audit.records()) > 0
    assert any("edited" in str(p) for p in graph.audit.verify())


def test_the_same_policy_gates_create_agent():
    store = InventoryStore()
    policy = Policy(
        [
            rule("lookups", tool="lookup_inventory", then=allow()),
            rule(
                "unapproved vendor",
                tool="create_purchase_order",
                when=lambda c, x: c.args["vendor"] != "Acme Supply",
                then=deny("unapproved vendor"),
            ),
        ],
        default=ask(),
    )
    agent = create_agent(
        OfflineChatModel(), make_tools(store), middleware=[policy_middleware(policy)], checkpointer=InMemorySaver()
    )
    out = agent.invoke({"messages": [("user", order_prompt(100, "Globex"))]}, cfg("m1"))
    assert store.purchase_orders() == []
    assert any(isinstance(m, ToolMessage) and "unapproved vendor" in m.content for m in out["messages"])
    out = agent.invoke({"messages": [("user", order_prompt(100))]}, cfg("m2"))
    [item] = out["__interrupt__"]
    assert item.value["tool_call"]["args"]["qty"] == 100 and store.purchase_orders() == []
    agent.invoke(Command(resume={item.id: {"type": "approve"}}), cfg("m2"))
    assert orders(store) == [(100, "Acme Supply")]


def test_audit_log_opens_on_its_own_file(tmp_path):
    log = AuditLog.sqlite(tmp_path / "a.sqlite", clock=FixedClock())
    log.append("k", "decision", "t", actor="x")
    assert AuditLog.sqlite(tmp_path / "a.sqlite").records()[0]["actor"] == "x"
