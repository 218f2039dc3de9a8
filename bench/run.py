"""`make bench`: the kit's performance, each figure against its own floor, as one table.

Benchmarks report; they never fail on a number (the exit status is 0 unless a
measurement itself breaks). Targets are marked ok / MISS. Knobs, for a quick look:
  BENCH_RUNS        fresh processes per cold-start script (default 9)
  BENCH_ROUNDS      threads per decision figure, 3 decisions each (default 40)
  BENCH_TURNS       the last approval timed in the long thread (default 1000)
  BENCH_ALL_REAL    1: run every approval of the long thread (default: jump from 305 to 995)
  BENCH_NBVAL_RUNS  runs of every notebook (default 3; a trivial notebook runs after every 4)
  BENCH_PAUSED      paused threads the inbox lists (default 1000)
  BENCH_ONLY        comma-separated figures to run, e.g. "1,2a" (default: all)
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ENV, Table, say  # noqa: E402

os.environ.clear()
os.environ.update(ENV)  # offline, no model key: for this process and every kernel it starts


def panel_ready() -> bool:
    try:
        from hitl_widgets import ApprovalPanel  # noqa: F401
    except ImportError:
        return False
    return True


def main() -> None:
    def number(name, default):
        return int(os.environ.get(name, default))

    only = {f.strip() for f in os.environ.get("BENCH_ONLY", "").split(",") if f.strip()}

    def wanted(figure):
        return not only or figure in only or figure[0] in only

    ready = panel_ready()
    table = Table()
    if not ready:
        table.notes.append("hitl_widgets.ApprovalPanel is not importable yet: the panel figures are skipped.")
    started = time.perf_counter()

    import decisions
    import inbox
    import startup
    import suite

    sections = [
        ("1", lambda: startup.measure(table, number("BENCH_RUNS", 9), ready)),
        ("2a", lambda: ready and decisions.panel_vs_plain(table, number("BENCH_ROUNDS", 40))),
        ("2c", lambda: ready and decisions.middleware_panel_vs_plain(table, number("BENCH_ROUNDS", 40))),
        ("2b", lambda: decisions.long_thread(table, number("BENCH_TURNS", 1000), ready)),
        ("3", lambda: decisions.checkpointers(table, max(5, number("BENCH_ROUNDS", 40) // 3), ready)),
        ("4", lambda: suite.nbval_suite(table, number("BENCH_NBVAL_RUNS", 3))),
        ("5", lambda: suite.kernel_memory(table)),
        ("6", lambda: ready and inbox.inbox(table, number("BENCH_PAUSED", 1000))),
    ]
    broken = []
    for figure, measure in sections:
        if wanted(figure):
            begun = time.perf_counter()
            try:
                measure()
            except Exception as error:  # report it and go on: one broken figure must not hide the rest
                table.add(figure, "(not measured)", "ERROR")
                table.notes.append(f"{figure}: failed: {type(error).__name__}: {str(error).strip().splitlines()[0]}")
                traceback.print_exc()
                broken.append(figure)
            say(f"   figure {figure} took {time.perf_counter() - begun:.0f} s")

    table.notes.append(
        f"medians; every ratio is against its floor measured in the same run; {os.cpu_count()} CPUs; "
        f"Python {sys.version.split()[0]}; took {time.perf_counter() - started:.0f} s."
    )
    print(table.render())
    if broken:  # a measurement broke (not a missed target): say so in the exit status
        sys.exit(1)


if __name__ == "__main__":
    main()
