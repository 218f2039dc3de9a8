"""Every exercise's solution really solves it.

nbval runs the notebooks as committed, where each exercise is still a stub and its
self-check says "Not solved yet" (`hitl_widgets.lessons.self_check`). Here each
notebook runs again with its solution cell switched on (`# %run -i solutions/NN-slug.py`
uncommented, exactly what a stuck learner does), and every self-check must then
print `Self-check passed ✓`. Generic: it picks up any notebooks/solutions/NN-slug.py
and the notebook of the same name.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from hitl_widgets.models import MODEL_VARIABLES

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SOLUTIONS = NOTEBOOKS / "solutions"
SOLUTION_NAME = re.compile(r"^\d{2}-[a-z0-9-]+\.py$")
RUN_LINE = re.compile(r"^#\s*%run -i\s+(solutions/\S+)\s*$")
PASSED = "Self-check passed"
SELF_CHECK_CALL = "self_check("
CELL_TIMEOUT = 120  # seconds per cell: a hung cell fails the test instead of hanging the run


def solution_files() -> list[Path]:
    return sorted(p for p in SOLUTIONS.glob("*.py") if SOLUTION_NAME.match(p.name))


def numbered_notebooks(first: int) -> list[Path]:
    return sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]-*.ipynb") if int(p.name[:2]) >= first)


def run_cells(notebook: nbformat.NotebookNode) -> list[tuple[int, str]]:
    """(index, 'solutions/...py') for each code cell that is only a `# %run -i` line."""
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            match = RUN_LINE.match(cell.source.strip())
            if match:
                found.append((index, match.group(1)))
    return found


def switch_on(cell: nbformat.NotebookNode) -> None:
    """What a stuck learner does: delete the `# ` in front of `%run -i`."""
    cell.source = cell.source.strip().lstrip("#").strip()


def self_check_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in notebook.cells if cell.cell_type == "code" and SELF_CHECK_CALL in cell.source]


def cell_text(cell: nbformat.NotebookNode) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type == "error":
            parts.append(f"{output.ename}: {output.evalue}")
    return "".join(parts)


def test_there_are_solutions() -> None:
    assert solution_files(), f"No solution files (NN-slug.py) found in {SOLUTIONS}"


@pytest.mark.parametrize("notebook_path", numbered_notebooks(first=1), ids=lambda p: p.stem)
def test_notebook_loads_an_existing_solution(notebook_path: Path) -> None:
    notebook = nbformat.read(notebook_path, as_version=4)
    loads = run_cells(notebook)
    assert loads, f"{notebook_path.name} has no `# %run -i solutions/{notebook_path.stem}.py` cell"
    for _, relative in loads:
        assert (NOTEBOOKS / relative).is_file(), f"{notebook_path.name} loads {relative}, which does not exist"
    assert self_check_cells(notebook), f"{notebook_path.name} has no self-check cell (one calling self_check(...))"


@pytest.mark.parametrize("solution", solution_files(), ids=lambda p: p.stem)
def test_solution_passes_self_check(solution: Path) -> None:
    notebook_path = NOTEBOOKS / f"{solution.stem}.ipynb"
    assert notebook_path.is_file(), f"{solution.name} has no notebook {notebook_path.name}"
    notebook = nbformat.read(notebook_path, as_version=4)

    targets = [index for index, relative in run_cells(notebook) if relative == f"solutions/{solution.name}"]
    assert targets, f"{notebook_path.name} has no `# %run -i solutions/{solution.name}` cell to switch on"
    for index in targets:
        switch_on(notebook.cells[index])
    checks = self_check_cells(notebook)
    assert checks, f"{notebook_path.name} has no self-check cell printing {PASSED!r}"

    env = {**os.environ, "HITL_OFFLINE": "1"}
    for name in (*MODEL_VARIABLES, "PYTEST_CURRENT_TEST"):  # the latter: see pytest_runtest_setup in ../conftest.py
        env.pop(name, None)
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(NOTEBOOKS)}},  # the kernel's cwd, as in JupyterLab
    )
    client.execute(env=env)  # any cell that raises raises CellExecutionError here

    for cell in checks:
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, f"Self-check failed with the solution loaded:\n{cell_text(cell)}"
        assert PASSED in cell_text(cell), f"Self-check did not print {PASSED!r}:\n{cell_text(cell)}"
