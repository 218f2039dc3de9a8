"""Figures 2 and 3: the cost of one decision, in this process.

Every graph here is `build_review_graph(OfflineChatModel(), make_tools(InventoryStore()), saver)`.
A "decision" is one approve: through the panel, `panel.decide({"type": "approve"})`; by
hand (the floor), `graph.invoke(Command(resume={"type": "approve"}), config, version="v2")`.
Both resume the same graph, which then runs `execute` and `agent` up to the next
interrupt or the end.

2a. Panel vs plain on fresh threads: the chain lookup -> order -> notify (three
    decisions a thread), the two paths interleaved decision by decision, timed in process
    CPU time (the machine's other load moves wall time far more; a note gives wall time).
2c. As 2a, on `create_agent` + `HumanInTheLoopMiddleware(interrupt_mode="per_call")`.
2b. One long thread each: every turn appends a new request (`Check stock of widget-x in
    SF-01`), which pauses at one lookup; the approve is the timed decision. The history
    grows by four messages a turn (request, tool call, tool result, answer).
3.  The plain decision on the chain, in-memory vs SQLite file vs PostgreSQL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Annotated

from common import ENV, PYTHON, ROOT, Table, median, ms, say
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.types import Command, interrupt
from typing_extensions import TypedDict

from hitl_widgets import OfflineChatModel
from hitl_widgets.graphs import build_review_graph
from hitl_widgets.inventory import InventoryStore, make_tools
from hitl_widgets.persistence import open_checkpointer

APPROVE = {"type": "approve"}
CHAIN = (
    "Check widget-x in SF-01. If stock is below 10 units, order 100 from 'Acme Supply', then notify the team on slack."
)
REASK = "Check stock of widget-x in SF-01"


def make_graph(saver):
    return build_review_graph(OfflineChatModel(), make_tools(InventoryStore()), saver)


def ask(text: str) -> dict:
    return {"messages": [HumanMessage(text)]}


class Plain:
    """The floor: the graph driven by hand, as notebook 03 teaches."""

    def __init__(self, graph, thread: str) -> None:
        self.graph, self.config = graph, {"configurable": {"thread_id": thread}}
        self.pending = ()

    def run(self, inputs) -> None:
        self.pending = self.graph.invoke(inputs, self.config, version="v2").interrupts

    def decide(self, decision) -> None:
        self.pending = self.graph.invoke(Command(resume=decision), self.config, version="v2").interrupts


class Panel:
    """The same steps through `ApprovalPanel` (constructed with no kernel: widgets work headless)."""

    def __init__(self, graph, thread: str) -> None:
        from hitl_widgets import ApprovalPanel

        self.panel = ApprovalPanel(graph, {"configurable": {"thread_id": thread}})

    @property
    def pending(self):
        return self.panel.pending

    def run(self, inputs) -> None:
        self.panel.run(inputs)

    def decide(self, decision) -> None:
        self.panel.decide(decision)


def _timed(driver, decision=APPROVE, clock=time.perf_counter) -> float:
    start = clock()
    driver.decide(decision)
    return clock() - start


def _timed_both(driver, decision=APPROVE) -> tuple[float, float]:
    """(process CPU seconds, wall seconds) one decision takes."""
    cpu, start = time.process_time(), time.perf_counter()
    driver.decide(decision)
    return time.process_time() - cpu, time.perf_counter() - start


def _chain_round(drivers: dict, times: dict, order: int, walls: dict | None = None) -> None:
    """Run each driver's fresh thread through the three-step chain, timing decisions alternately.

    With `walls`, `times` gets each decision's process CPU time and `walls` its wall time;
    without, `times` gets wall time (a checkpointer that waits on a server costs wall time).
    """
    for d in drivers.values():
        d.run(ask(CHAIN))
    names = list(drivers) if order % 2 == 0 else list(drivers)[::-1]
    for _ in range(3):
        for name in names:
            assert len(drivers[name].pending) == 1, f"{name}: expected one pending interrupt"
            if walls is None:
                times[name].append(_timed(drivers[name]))
            else:
                cpu, elapsed = _timed_both(drivers[name])
                times[name].append(cpu)
                walls[name].append(elapsed)
    for name, d in drivers.items():
        assert not d.pending, f"{name}: the chain should have ended"


def _panel_vs_floor(table: Table, figure: str, what: str, graph, floor, prefix: str, rounds: int) -> None:
    """Decisions through a panel and by hand on one graph, interleaved; the row is in CPU time.

    Process CPU time counts every thread of this process (LangGraph's, the panel's) and
    barely moves when other work shares the machine; the wall-time ratio goes in a note.
    """
    for r in range(rounds + 1):
        if r <= 1:  # round 0 warms up
            times, walls = {"panel": [], "plain": []}, {"panel": [], "plain": []}
        drivers = {"panel": Panel(graph, f"{prefix}panel-{r}"), "plain": floor(graph, f"{prefix}plain-{r}")}
        _chain_round(drivers, times, r, walls)
    table.ratio(
        figure,
        what + f" (vs plain resume; n={len(times['plain'])})",
        median(times["panel"]),
        median(times["plain"]),
        1.15,
    )
    ratios = sorted(p / q for p, q in zip(times["panel"], times["plain"], strict=True))
    table.notes.append(
        f"{figure}: process CPU time; the same decisions in wall time: panel {ms(median(walls['panel']))}, "
        f"plain {ms(median(walls['plain']))}, {median(walls['panel']) / median(walls['plain']):.2f}x. "
        f"Decision by decision (CPU), the panel/plain ratio's quartiles: {ratios[len(ratios) // 4]:.2f}x, "
        f"{median(ratios):.2f}x, {ratios[3 * len(ratios) // 4]:.2f}x."
    )


def panel_vs_plain(table: Table, rounds: int) -> None:
    say(f"2a panel vs plain decision, {rounds} threads x 3 decisions each")
    _panel_vs_floor(table, "2a", "one decision via ApprovalPanel", make_graph(InMemorySaver()), Plain, "", rounds)


def middleware_graph(saver):
    """`create_agent` with `HumanInTheLoopMiddleware(interrupt_mode="per_call")`, scripted by the offline model."""
    from langchain.agents import create_agent
    from langchain.agents.middleware import HumanInTheLoopMiddleware

    tools = make_tools(InventoryStore())
    gate = HumanInTheLoopMiddleware(interrupt_on={tool.name: True for tool in tools}, interrupt_mode="per_call")
    return create_agent(OfflineChatModel(), tools, middleware=[gate], checkpointer=saver)


def middleware_panel_vs_plain(table: Table, rounds: int) -> None:
    """2c: as 2a, on LangChain's agent: the per_call answer is a decision, resumed by interrupt id."""
    say(f"2c panel vs plain decision on create_agent + per_call middleware, {rounds} threads x 3 decisions")
    graph = middleware_graph(InMemorySaver())
    _panel_vs_floor(table, "2c", "one decision via ApprovalPanel on create_agent per_call", graph, ById, "mw-", rounds)


class ById(Plain):
    """The floor for the middleware: its interrupts are answered by id, as LangChain's docs do."""

    def decide(self, decision) -> None:
        (pending,) = self.pending
        command = Command(resume={pending.id: decision})
        self.pending = self.graph.invoke(command, self.config, version="v2").interrupts


WINDOW = 5  # the cost "at approval k": the median of one path's approvals among k-5 .. k+5


class BareState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


def bare_graph(saver):
    """LangGraph alone, no kit and no model: the same four messages a turn, one interrupt()."""

    def agent(state: BareState):
        n = len(state["messages"])
        call = {"name": "lookup_inventory", "args": {"item": "widget-x", "warehouse": "SF-01"}, "id": f"call_{n}"}
        return {"messages": [AIMessage("", tool_calls=[call], id=f"ai-{n}")]}

    def review(state: BareState):
        interrupt({"tool_call": state["messages"][-1].tool_calls[0]})
        return {}

    def execute(state: BareState):
        call = state["messages"][-1].tool_calls[0]
        result = ToolMessage("widget-x in SF-01: 7 units in stock.", tool_call_id=call["id"], name=call["name"])
        return {"messages": [result, AIMessage("Here is what happened: ...", id=f"answer-{call['id']}")]}

    builder = StateGraph(BareState)
    builder.add_node("agent", agent)
    builder.add_node("review", review)
    builder.add_node("execute", execute)
    builder.add_edge(START, "agent")
    builder.add_edge("agent", "review")
    builder.add_edge("review", "execute")
    return builder.compile(checkpointer=saver)


def _fast_forward(graph, config: dict, turns: int, as_node: str) -> None:
    """Append `turns` more turns to a thread's history without running them.

    Copies the last turn's four messages (request, tool call, tool result, answer) under
    fresh ids, in a few `update_state` writes: the thread then holds the history of
    those turns (not their checkpoints), so later decisions resume a history that long.
    """
    template = graph.get_state(config).values["messages"][-4:]
    human, call, result, answer = template
    chunk = []
    for n in range(turns):
        call_id = f"call_ff_{n}"
        tool_call = {**call.tool_calls[0], "id": call_id}
        chunk += [
            human.model_copy(update={"id": f"ff-{n}-h"}),
            call.model_copy(update={"id": f"ff-{n}-c", "tool_calls": [tool_call]}),
            result.model_copy(update={"id": f"ff-{n}-r", "tool_call_id": call_id}),
            answer.model_copy(update={"id": f"ff-{n}-a"}),
        ]
        if len(chunk) >= 400 or n == turns - 1:
            graph.update_state(config, {"messages": chunk}, as_node=as_node)
            chunk = []


def _long_thread_times(kind: str, marks: list[int], all_real: bool) -> dict[str, list[float | None]]:
    """Approvals in one thread: each turn asks again, pauses at one lookup, approves.

    `shared`: the kit's graph, odd turns through a panel and even turns by hand, on the
    same thread, so both are timed at the same history length. `bare`: LangGraph alone.
    Every approval up to the 300th mark (plus its window) runs; beyond it, unless
    `all_real`, the history jumps ahead to the next window by `_fast_forward`.
    Returns, per path, the time of each approval (None where it did not decide it).
    """
    if kind == "bare":
        graph, as_node = bare_graph(InMemorySaver()), "execute"
        drivers = {"bare": Plain(graph, "long-bare")}
    else:
        graph, as_node = make_graph(InMemorySaver()), "agent"
        drivers = {"panel": Panel(graph, "long"), "plain": Plain(graph, "long")}
    config = {"configurable": {"thread_id": "long-bare" if kind == "bare" else "long"}}
    names = list(drivers)
    real_until = max(k for k in marks if k <= 300) + WINDOW
    real = set(range(1, real_until + 1)) | {t for k in marks for t in range(k - WINDOW, k + WINDOW + 1)}
    times = {name: [] for name in names}
    turn = 0
    while turn < marks[-1] + WINDOW:
        turn += 1
        if not all_real and turn not in real:
            skip = min(t for t in real if t > turn) - turn
            _fast_forward(graph, config, skip, as_node)
            for name in names:
                times[name] += [None] * skip
            turn += skip - 1
            continue
        name = names[turn % len(names) - 1]  # panel on odd turns, plain on even ones
        d = drivers[name]
        d.run(ask(REASK))
        assert len(d.pending) == 1, f"{name}: turn {turn} should pause at one lookup"
        for other in names:
            times[other].append(_timed(d, clock=time.process_time) if other == name else None)
    assert len(graph.get_state(config).values["messages"]) == 4 * turn, "the thread should hold 4 messages a turn"
    return times


def long_thread(table: Table, turns: int, panel_ready: bool) -> None:
    """The kit's thread and the bare-LangGraph thread at once, one process (one core) each."""
    marks = [k for k in (10, 100, 300, 1000) if k <= turns]
    if not panel_ready:
        table.add("2b", "decision cost along one thread", "skipped")
        return
    all_real = os.environ.get("BENCH_ALL_REAL", "") == "1"
    say(
        f"2b approvals {', '.join(map(str, marks))} in one thread, "
        "panel and plain alternating; bare LangGraph alongside"
    )

    def spawn(kind):
        return subprocess.Popen(
            [PYTHON, __file__, kind, ",".join(map(str, marks)), str(int(all_real))],
            cwd=ROOT,
            env=ENV,
            stdout=subprocess.PIPE,
            text=True,
        )

    children = {"shared": spawn("shared"), "bare": spawn("bare")}
    times = {}
    for kind, child in children.items():
        out, _ = child.communicate(timeout=3600)
        if child.returncode != 0:
            raise RuntimeError(f"2b {kind} long thread exited {child.returncode}")
        times |= json.loads(out)

    def window(t, k):
        return [x for x in t[k - 1 - WINDOW : k + WINDOW] if x is not None]

    at = {name: {k: median(window(t, k)) for k in marks} for name, t in times.items()}
    for k in marks:
        table.ratio(
            "2b", f"decision at approval {k} in one thread, panel (vs plain)", at["panel"][k], at["plain"][k], None
        )
    label = {"panel": "panel", "plain": "plain resume", "bare": "bare LangGraph"}
    for name in ("panel", "plain", "bare"):
        for k in marks[1:]:
            table.ratio(
                "2b",
                f"growth, {label[name]}: approval {k} vs approval 10",
                at[name][k],
                at[name][10],
                2.5 if k == 300 else None,
            )
    beyond = [k for k in marks if k > 300]
    jump = (
        f" Approvals {300 + WINDOW + 1}..{beyond[0] - WINDOW - 1} are not run but written into the history with "
        f"update_state (the same 4 messages a turn; BENCH_ALL_REAL=1 runs them all, ~10x slower)."
        if beyond and not all_real
        else ""
    )
    table.notes.append(
        f"2b: turns of '{REASK}' -> approve in ONE thread, the panel deciding odd turns and a plain resume even ones; "
        f"each turn adds 4 messages, so approval 300 resumes a 1,200-message history. Cost at approval k = median of "
        f"that path's approvals in k-{WINDOW}..k+{WINDOW}, in process CPU time (its ratios compare moments minutes "
        f"apart; wall time would measure the machine's other load).{jump} "
        "'bare LangGraph' (its own process, run alongside) is "
        f"the floor: 4 messages a turn and one interrupt() in a 3-node StateGraph, no kit code, no model."
    )


def checkpointers(table: Table, rounds: int, panel_ready: bool) -> None:
    url = os.environ.get("POSTGRES_URL", "").strip()
    with tempfile.TemporaryDirectory(prefix="hitl-bench-") as tmp:
        savers = {"in-memory": InMemorySaver(), "SQLite file": open_checkpointer(Path(tmp) / "bench.sqlite")}
        if url:
            savers["PostgreSQL"] = open_checkpointer(url)
        else:
            table.notes.append(
                "3: PostgreSQL skipped: POSTGRES_URL is unset (scripts/postgres.sh found no postgresql)."
            )
        kinds = ["plain", "panel"] if panel_ready else ["plain"]
        say(f"3 checkpointers ({', '.join(savers)}), {rounds} threads x 3 decisions each, {' and '.join(kinds)}")
        graphs = {name: make_graph(s) for name, s in savers.items()}
        run_id = uuid.uuid4().hex[:8]
        times = {(s, k): [] for s in savers for k in kinds}
        threads = []
        for r in range(rounds + 1):
            drivers = {}
            for s, graph in graphs.items():
                for k in kinds:
                    thread = f"bench-{run_id}-{k}-{r}"
                    threads.append((s, thread))
                    drivers[(s, k)] = (Panel if k == "panel" else Plain)(graph, thread)
            round_times = {key: [] for key in drivers}
            _chain_round(drivers, round_times, r)
            if r:  # round 0 warms up each saver (PostgresSaver prepares its statements)
                for key, t in round_times.items():
                    times[key].extend(t)
        for k in kinds:
            for s in savers:
                table.ratio(
                    "3",
                    f"one decision, {k}, {s} checkpointer (vs in-memory)",
                    median(times[(s, k)]),
                    median(times[("in-memory", k)]),
                    None,
                )
        for s, thread in threads:  # leave the shared PostgreSQL database as we found it
            if s != "in-memory":
                savers[s].delete_thread(thread)
        for saver in savers.values():
            conn = getattr(saver, "conn", None)
            if conn is not None:
                conn.close()


if __name__ == "__main__":  # the worker for figure 2b: prints the per-approval times as JSON
    print(json.dumps(_long_thread_times(sys.argv[1], [int(k) for k in sys.argv[2].split(",")], sys.argv[3] == "1")))
