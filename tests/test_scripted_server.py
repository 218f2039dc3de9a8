"""`hitl_widgets.scripted_server`: replies served in order over real HTTP, labelled ids, a clear end.

Driven through `ChatOpenAI`, the client a learner's code uses, so what is tested is what a
notebook sees: parsed tool calls (streamed and not), the requests recorded, and refusals.
"""

from __future__ import annotations

import openai
import pytest
from langchain_openai import ChatOpenAI
from langgraph.checkpoint.memory import InMemorySaver

from hitl_widgets import ApprovalPanel
from hitl_widgets.graphs import build_review_graph
from hitl_widgets.scripted_server import ScriptedChatServer, calls, says, script

PO = "create_purchase_order"
SMALL = {"item": "widget-x", "qty": 20, "vendor": "Acme Supply"}
BIG = {"item": "gadget-y", "qty": 500, "vendor": "Acme Supply"}


def chat(server: ScriptedChatServer, **options) -> ChatOpenAI:
    return ChatOpenAI(model="scripted", base_url=server.base_url, api_key=server.api_key, max_retries=0, **options)


@pytest.mark.parametrize("streaming", [False, True], ids=["plain", "streamed"])
def test_replies_come_in_script_order_with_every_parallel_call(streaming):
    with ScriptedChatServer(script(calls((PO, SMALL), (PO, BIG)), says("[scripted] done"))) as server:
        model = chat(server, streaming=streaming)
        first = model.invoke("restock")
        second = model.invoke("and then?")
    assert [(c["name"], c["args"], c["id"]) for c in first.tool_calls] == [
        (PO, SMALL, "call_scripted_1_0"),
        (PO, BIG, "call_scripted_1_1"),
    ]
    assert second.content == "[scripted] done" and second.tool_calls == []
    assert [r["messages"][-1]["content"] for r in server.requests] == ["restock", "and then?"]


def test_a_request_past_the_end_of_the_script_fails_saying_so():
    with ScriptedChatServer(script(says("only one"))) as server:
        model = chat(server)
        model.invoke("one")
        with pytest.raises(openai.InternalServerError, match="The script has 1 replies and this is request 2"):
            model.invoke("two")


def test_a_wrong_key_is_refused_and_nothing_is_scripted_away():
    with ScriptedChatServer(script(says("kept"))) as server:
        with pytest.raises(openai.AuthenticationError):
            ChatOpenAI(model="scripted", base_url=server.base_url, api_key="wrong", max_retries=0).invoke("hi")
        assert chat(server).invoke("hi").content == "kept"  # the refused request used no reply


def test_given_ids_are_kept_and_a_script_can_be_swapped_between_runs():
    with ScriptedChatServer(script(calls((PO, SMALL), ids=["call_mine"]))) as server:
        assert chat(server).invoke("x").tool_calls[0]["id"] == "call_mine"
        server.respond = script(says("fresh"))
        assert chat(server).invoke("y").content == "fresh"


def test_the_review_graph_on_scripted_replies_runs_only_what_was_approved(store, tools):
    with ScriptedChatServer(script(calls((PO, SMALL), (PO, BIG)), says("[scripted] done"))) as server:
        graph = build_review_graph(chat(server), tools, InMemorySaver())
        panel = ApprovalPanel(graph, {"configurable": {"thread_id": "scripted"}})
        panel.run("Restock.")
        assert [i.value["tool_call"]["args"] for i in panel.pending] == [SMALL]  # one at a time, in order
        panel.decide({"type": "approve"})
        panel.decide({"type": "reject", "message": "too many"})
        read = [m["content"] for m in server.requests[-1]["messages"] if m["role"] == "tool"]
    assert [(o["item"], o["qty"]) for o in store.purchase_orders()] == [("widget-x", 20)]
    assert any("Reviewer's message: too many" in text for text in read), read
    assert panel.status == "Done." and [d.decision["type"] for d in panel.decisions] == ["approve", "reject"]
