"""Figure 1: cold start, each in a fresh process (the page cache warmed once first).

1a. `import hitl_widgets` against the bare libraries it stands on.
1b. To the first rendered panel: build the kit's graph, `ApprovalPanel(graph, config)`,
    run it to its first interrupt and render it, against the same script driving the
    graph by hand (`graph.invoke(..., version="v2")` to the same interrupt).
"""

from __future__ import annotations

import re
import subprocess

from common import ENV, PYTHON, ROOT, Table, child, median, say

BARE = "import langgraph.graph, ipywidgets, langchain_core"
KIT = "import hitl_widgets"

_GRAPH = """
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from hitl_widgets import OfflineChatModel
from hitl_widgets.graphs import build_review_graph
from hitl_widgets.inventory import InventoryStore, make_tools
graph = build_review_graph(OfflineChatModel(), make_tools(InventoryStore()), InMemorySaver())
config = {"configurable": {"thread_id": "cold"}}
inputs = {"messages": [HumanMessage("Check stock of widget-x in SF-01")]}
"""
FIRST_PANEL = (
    _GRAPH
    + """
from IPython.display import display
from hitl_widgets import ApprovalPanel
panel = ApprovalPanel(graph, config)
panel.run(inputs)
assert len(panel.pending) == 1, panel.pending
display(panel)
"""
)
FIRST_INTERRUPT = (
    _GRAPH
    + """
out = graph.invoke(inputs, config, version="v2")
assert len(out.interrupts) == 1, out
print(out.interrupts[0].value["tool_call"])
"""
)


def _rotate(scripts: dict[str, str], runs: int) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) seconds of each script in fresh processes, the order rotating every run."""

    def argv(code):
        return [PYTHON, "-c", code]

    for code in scripts.values():
        child(argv(code))  # warm the page cache (and .pyc files, where they can be written)
    times = {name: [] for name in scripts}
    names = list(scripts)
    for i in range(runs):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            times[name].append(child(argv(scripts[name])))
    return {name: (median(w for w, _ in t), median(c for _, c in t)) for name, t in times.items()}


def _import_times(code: str) -> dict[str, tuple[int, int]]:
    """module -> (cumulative us, depth) from `python -X importtime`."""
    done = subprocess.run([PYTHON, "-X", "importtime", "-c", code], cwd=ROOT, env=ENV, capture_output=True, text=True)
    found = {}
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m:
            found[m.group(4)] = (int(m.group(2)), len(m.group(3)) // 2)
    return found


def import_hot_spots(top: int = 4) -> str:
    """The outermost modules `import hitl_widgets` loads beyond the bare floor, slowest first."""
    kit, bare = _import_times(KIT), _import_times(BARE)
    extra = {name: t for name, t in kit.items() if name not in bare and name != "hitl_widgets"}
    outer = min((depth for _, depth in extra.values()), default=0)
    # The outermost extras (the ones the kit, or a kit module, imports directly).
    heads = sorted(((us, n) for n, (us, depth) in extra.items() if depth <= outer + 1), reverse=True)[:top]
    return ", ".join(f"{n} {us / 1000:.0f} ms" for us, n in heads)


def measure(table: Table, runs: int, panel_ready: bool) -> None:
    scripts = {"kit": KIT, "bare": BARE}
    if panel_ready:
        scripts |= {"panel": FIRST_PANEL, "plain": FIRST_INTERRUPT}
    say(f"1 cold start: {', '.join(scripts)}; {runs} fresh processes each, rotating")
    t = _rotate(scripts, runs)
    wall, cpu = (lambda name: t[name][0]), (lambda name: t[name][1])
    table.ratio("1a", "cold `import hitl_widgets` (vs bare libs)", wall("kit"), wall("bare"), 1.2)
    table.ratio("1a", "  the same, CPU time (user+sys)", cpu("kit"), cpu("bare"), 1.2)
    if table.rows[-1].met is False or table.rows[-2].met is False:
        table.notes.append(
            f"1a: `import hitl_widgets` loads beyond the bare floor (-X importtime, cumulative): {import_hot_spots()}."
        )
    if not panel_ready:
        table.add("1b", "cold start to first rendered panel", "skipped")
        return
    table.ratio("1b", "cold start to first rendered panel (vs bare libs)", wall("panel"), wall("bare"), None)
    table.ratio("1b", "cold start to first rendered panel (vs plain invoke)", wall("panel"), wall("plain"), 1.2)
    table.ratio("1b", "  the same, CPU time (user+sys)", cpu("panel"), cpu("plain"), 1.2)
    table.notes.append(
        "1b: a fresh process builds the kit's graph (offline model, InMemorySaver), runs it to its first "
        "interrupt through ApprovalPanel and display()s it; the plain floor invokes the same graph to the same "
        "interrupt (it imports hitl_widgets too, for the graph)."
    )
