"""Shared helpers for `make bench`: timing, medians and the result table.

Benchmarks report; they never fail on a number. Each row carries its floor (the same
work done without the kit, measured in the same run) so a ratio means something on
any machine.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# Children inherit the offline switch and no model key, as `make test` does.
ENV = {
    k: v
    for k, v in os.environ.items()
    if k not in {"OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_BASE", "OPENAI_MODEL"}
}
ENV["HITL_OFFLINE"] = "1"


def median(values) -> float:
    return statistics.median(values)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


def child(argv: list[str], cwd: Path | str = ROOT, timeout: float = 300, check: bool = True) -> tuple[float, float]:
    """(wall seconds, CPU seconds) a child process and its own children take; raises when it fails
    (unless `check` is false: then a failure returns a negative wall time).

    CPU time (user + sys) barely moves when other work shares the machine; wall time does.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=timeout)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0 and not check:
        return -elapsed, 0.0
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip().splitlines()[-15:]
        raise RuntimeError(f"{' '.join(map(str, argv))} exited {done.returncode}:\n" + "\n".join(tail))
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def wall(argv: list[str], cwd: Path | str = ROOT, timeout: float = 300, check: bool = True) -> float:
    """Seconds a child process takes from spawn to exit; raises when it fails (negative, if not `check`)."""
    return child(argv, cwd, timeout, check)[0]


def say(message: str) -> None:
    """Progress on stderr, so the table on stdout stays clean."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


@dataclass
class Row:
    figure: str
    what: str
    value: str
    floor: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None  # None: no target, or not measured

    @property
    def verdict(self) -> str:
        return {True: "ok", False: "MISS", None: ""}[self.met]


@dataclass
class Table:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *args, **kwargs) -> Row:
        row = Row(*args, **kwargs)
        self.rows.append(row)
        return row

    def ratio(self, figure: str, what: str, value: float, floor: float, limit: float | None, unit=ms) -> Row:
        """A row comparing `value` against its `floor`; `limit` is the target ratio, if any."""
        r = value / floor if floor else float("nan")
        return self.add(
            figure,
            what,
            unit(value),
            unit(floor),
            r,
            f"<= {limit:g}x" if limit is not None else "",
            (r <= limit) if limit is not None else None,
        )

    def render(self) -> str:
        head = ("#", "measurement", "value", "floor", "ratio", "target", "")
        body = [
            (r.figure, r.what, r.value, r.floor, f"{r.ratio:.2f}x" if r.ratio is not None else "", r.target, r.verdict)
            for r in self.rows
        ]
        widths = [max(len(str(line[i])) for line in [head, *body]) for i in range(len(head))]

        def fmt(line):
            return "  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=False)).rstrip()

        lines = [fmt(head), fmt(tuple("-" * w for w in widths)), *map(fmt, body)]
        if self.notes:
            lines += ["", *(f"note: {n}" for n in self.notes)]
        return "\n".join(lines)
