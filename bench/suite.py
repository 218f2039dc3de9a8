"""Figures 4 and 5: the notebooks, each on its own fresh kernel.

4. `pytest notebooks/NN.ipynb` (the repo's strict nbval settings), one subprocess per
   notebook, against the floor: a trivial notebook (one `1+1` cell) run by the same
   pytest with the same nbval flags, from a temp dir with `-c /dev/null`. The floor is
   pytest's start plus one kernel's start and shutdown; the total's floor is as many
   trivial notebooks as there are notebooks.
5. Peak RSS (VmHWM) of the kernel after running notebook 07 with nbclient, against a
   kernel that ran the trivial notebook.
"""

from __future__ import annotations

import ast
import os
import tempfile
from pathlib import Path

import nbformat
from common import PYTHON, ROOT, Table, median, say, wall

NBVAL_FLAGS = ["-p", "no:cacheprovider", "--nbval", "--nbval-current-env", "-q"]
PANEL_NOTEBOOK = ROOT / "notebooks" / "07-approval-panel.ipynb"
MiB = 1024 * 1024
FLOOR_EVERY = 4


def trivial_notebook() -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("1+1", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=1)]
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def nbval_suite(table: Table, runs: int) -> None:
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    if not notebooks:
        table.add("4", "nbval suite", "skipped")
        table.notes.append("4: no notebooks/NN-*.ipynb found.")
        return
    # The trivial notebooks are all alike: FLOOR_EVERY real runs share one trivial run, spread through the loop.
    count = len(notebooks)
    say(f"4 nbval: {count} notebooks x {runs} runs, and a trivial notebook after every {FLOOR_EVERY}")
    real = {nb: [] for nb in notebooks}
    floor = []
    with tempfile.TemporaryDirectory(prefix="hitl-bench-nb-") as tmp:
        empty = Path(tmp) / "empty.ipynb"
        nbformat.write(trivial_notebook(), empty)
        trivial = [PYTHON, "-m", "pytest", "-c", os.devnull, "--rootdir", tmp, *NBVAL_FLAGS, empty.name]
        floor.append(wall(trivial, cwd=tmp))
        for run in range(runs):
            for i, nb in enumerate(notebooks if run % 2 == 0 else notebooks[::-1]):
                real[nb].append(
                    wall([PYTHON, "-m", "pytest", str(nb.relative_to(ROOT)), "-q"], timeout=600, check=False)
                )
                if (run * count + i) % FLOOR_EVERY == FLOOR_EVERY - 1:
                    floor.append(wall(trivial, cwd=tmp))
    one = median(floor)
    failed = [nb.stem for nb, t in real.items() if any(x < 0 for x in t)]
    for nb in notebooks:
        row = table.ratio("4", f"nbval {nb.stem} (vs trivial notebook)", median(abs(x) for x in real[nb]), one, None)
        if nb.stem in failed:
            row.target, row.met = "tests pass", False
    if failed:
        table.notes.append(
            f"4: nbval FAILED on {', '.join(failed)} in some run (its time is still shown); see `make test`."
        )
    total = sum(median(abs(x) for x in t) for t in real.values())
    table.ratio("4", f"nbval total, {count} notebooks (vs {count} trivial)", total, count * one, None)
    table.notes.append(
        f"4: `pytest notebooks/NN.ipynb` (the repo's strict nbval settings), a fresh process each, median of {runs}; "
        f"floor: one `1+1` notebook through the same pytest and nbval flags with -c {os.devnull} (pytest start + one "
        f"kernel start and stop), median of {len(floor)} runs spread through the loop; "
        f"the total's floor is {count}x that."
    )


_PROBE = """
import os
with open(f"/proc/{os.getpid()}/status") as f:
    print({k: v.split()[0] for k, v in (line.split(":", 1) for line in f) if k in ("VmHWM", "VmRSS")})
"""
_PROBE_PSUTIL = """
import psutil
rss = psutil.Process().memory_info().rss // 1024
print({"VmHWM": rss, "VmRSS": rss})
"""


def kernel_peak_rss(nb: nbformat.NotebookNode, cwd: Path) -> float:
    """Run `nb` on a fresh python3 kernel with nbclient; the kernel's peak RSS in bytes."""
    from nbclient import NotebookClient

    nb = nbformat.from_dict(nb)
    probe = _PROBE if Path("/proc/self/status").exists() else _PROBE_PSUTIL  # psutil: current RSS, not peak
    nb.cells.append(nbformat.v4.new_code_cell(probe))
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(cwd)}})
    client.execute()
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.get("output_type") == "stream")
    return int(ast.literal_eval(text.strip())["VmHWM"]) * 1024


def kernel_memory(table: Table) -> None:
    if not PANEL_NOTEBOOK.exists():
        table.add("5", "kernel peak RSS after notebook 07", "skipped")
        table.notes.append(f"5: {PANEL_NOTEBOOK.name} does not exist yet.")
        return
    say("5 kernel peak RSS: notebook 07 and a trivial notebook, via nbclient")
    with tempfile.TemporaryDirectory(prefix="hitl-bench-mem-") as tmp:
        floor = kernel_peak_rss(trivial_notebook(), Path(tmp))
    peak = kernel_peak_rss(nbformat.read(PANEL_NOTEBOOK, as_version=4), PANEL_NOTEBOOK.parent)

    def mib(b):
        return f"{b / MiB:.0f} MiB"

    row = table.ratio("5", "kernel peak RSS after notebook 07 (vs 1+1 kernel)", peak, floor, None, unit=mib)
    row.target, row.met = "<= 200 MiB", peak <= 200 * MiB
