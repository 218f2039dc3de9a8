"""The series as saved files keeps issue 17's promises: small lessons, true on GitHub.

These checks read the committed notebooks only (no kernel): what a learner sees on
GitHub or in a fresh checkout. nbval compares outputs; this file checks what nbval
cannot: how big a lesson is, that no saved output is a traceback or stale widget state,
that a diagram has a rendering GitHub shows, that sentences known to be untrue stay
gone, and that the numbering, the headings and the solutions fit together. Each failure
names the notebook and the cell (`[i]`, counting from 0, as nbformat does).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SOLUTIONS = NOTEBOOKS / "solutions"
NUMBERED = re.compile(r"^(\d{2})-[a-z0-9-]+\.ipynb$")

MAX_CELLS = 36  # "at most about 35 cells"
MAX_CODE_LINES = 15
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
MERMAID = "text/vnd.mermaid"
MERMAID_STARTS = ("graph ", "graph;", "flowchart", "---", "%%{", "stateDiagram", "sequenceDiagram")
TRACEBACK = "Traceback (most recent call last)"
RUN_SOLUTION = re.compile(r"^#\s*%run -i\s+(solutions/\S+)\s*$")

TUTORIAL_TITLE = "LangGraph Human-in-the-Loop: Interrupt Patterns in Python"
TUTORIAL_AUTHOR = "Balys Kriksciunas"
TUTORIAL_NAME = "the tutorial this kit grew from"

# tests/sanitize.cfg's placeholders (matched as written: `<uuid>` as a stand-in in code is fine).
MASK_PLACEHOLDERS = ("<HEXID>", "<TIMESTAMP>", "<UUID>")
# Sentences issue 17 found untrue, as they would read in a notebook's markdown (any case).
UNTRUE_IN_MARKDOWN = {
    "how a pause for a human shows up": "02 promised a streamed pause that never comes",
    "the reference tutorial": f"cite the tutorial as {TUTORIAL_NAME!r}, the name 00 gives it",
    "the tutorial the kit grew from": f"cite the tutorial as {TUTORIAL_NAME!r}, the name 00 gives it",
}
LOAD_MAGIC = "%load"  # inserts a solution without running it: exercises use `%run -i`


def notebook_paths() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def numbered_paths() -> list[Path]:
    return [path for path in notebook_paths() if NUMBERED.match(path.name)]


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def cells_of(path: Path, kind: str) -> list[tuple[int, nbformat.NotebookNode]]:
    return [(index, cell) for index, cell in enumerate(read(path).cells) if cell.cell_type == kind]


def markdown_of(path: Path) -> str:
    return "\n".join(cell.source for _, cell in cells_of(path, "markdown"))


def where(path: Path, index: int) -> str:
    return f"{path.name} cell [{index}]"


def outputs_of(path: Path):
    for index, cell in cells_of(path, "code"):
        for output in cell.get("outputs", []):
            yield index, output


def exercise_solution(path: Path) -> list[str]:
    """The solution files a notebook's `# %run -i solutions/...` cells name."""
    found = []
    for _, cell in cells_of(path, "code"):
        match = RUN_SOLUTION.match(cell.source.strip())
        if match:
            found.append(match.group(1))
    return found


def case_id(path: Path) -> str:
    """'09 production', not '09-production': ../conftest.py skips ids naming the PostgreSQL lesson
    when no server runs, and these checks read files, so they never need one."""
    return path.stem.replace("-", " ", 1)


every_notebook = pytest.mark.parametrize("path", notebook_paths(), ids=case_id)
every_numbered = pytest.mark.parametrize("path", numbered_paths(), ids=case_id)


def test_there_are_notebooks() -> None:
    assert numbered_paths(), f"No numbered notebooks (NN-slug.ipynb) found in {NOTEBOOKS}"


@every_notebook
def test_at_most_about_35_cells(path: Path) -> None:
    count = len(read(path).cells)
    assert count <= MAX_CELLS, f"{path.name} has {count} cells; a lesson has at most about 35 ({MAX_CELLS})."


@every_notebook
def test_code_cells_are_small(path: Path) -> None:
    long = [
        f"{where(path, index)}: {len(cell.source.strip().splitlines())} lines"
        for index, cell in cells_of(path, "code")
        if len(cell.source.strip().splitlines()) > MAX_CODE_LINES
    ]
    assert not long, f"Code cells over {MAX_CODE_LINES} lines (split them): " + "; ".join(long)


@every_notebook
def test_no_saved_error_or_traceback(path: Path) -> None:
    problems = []
    for index, output in outputs_of(path):
        if output.output_type == "error":
            problems.append(f"{where(path, index)}: saved error {output.ename}: {output.evalue}")
        elif output.output_type == "stream" and TRACEBACK in output.text:
            problems.append(f"{where(path, index)}: a traceback printed to {output.name}")
    assert not problems, (
        "Saved outputs end in a traceback (use hitl_widgets.lessons.expect_error for a pitfall, "
        "self_check for an exercise): " + "; ".join(problems)
    )


@every_notebook
def test_no_saved_widget_state(path: Path) -> None:
    widgets = read(path).metadata.get("widgets", {})
    assert WIDGET_STATE not in widgets, (
        f"{path.name} saves widget state (each panel's final state, shown first by viewers that render it); "
        "refresh it with scripts/refresh_notebook.py, which drops it."
    )


@every_notebook
def test_diagrams_have_a_readable_fallback(path: Path) -> None:
    problems = []
    for index, output in outputs_of(path):
        data = output.get("data", {})
        if MERMAID not in data:
            continue
        plain = data.get("text/plain", "")
        text = plain if isinstance(plain, str) else "".join(plain)
        if not text.strip():
            problems.append(f"{where(path, index)}: no text/plain beside the Mermaid source")
        elif text.lstrip().startswith(MERMAID_STARTS) or text.strip() == "".join(data[MERMAID]).strip():
            problems.append(f"{where(path, index)}: its text/plain is Mermaid source, which GitHub shows raw")
    assert not problems, "Diagrams need a readable text fallback (hitl_widgets.diagram.show_graph): " + "; ".join(
        problems
    )


@every_notebook
def test_no_untrue_sentences(path: Path) -> None:
    problems = []
    for index, cell in cells_of(path, "markdown"):
        for placeholder in MASK_PLACEHOLDERS:
            if placeholder in cell.source:
                problems.append(
                    f"{where(path, index)} says {placeholder!r}: saved outputs show real values; "
                    "tests/sanitize.cfg masks them only when nbval compares"
                )
        for phrase, why in UNTRUE_IN_MARKDOWN.items():
            if phrase.lower() in cell.source.lower():
                problems.append(f"{where(path, index)} says {phrase!r} ({why})")
        if "UnboundLocalError" in cell.source and not re.search(r"langgraph \d+\.\d+", cell.source):
            problems.append(
                f"{where(path, index)} shows Command(resume=None)'s UnboundLocalError without the "
                "langgraph version it belongs to (it is a bug, not the API)"
            )
    for index, cell in enumerate(read(path).cells):
        if LOAD_MAGIC in cell.source:
            problems.append(f"{where(path, index)} uses %load (it inserts code without running it; use %run -i)")
    last = numbered_paths()[-1] if numbered_paths() else None
    if path != last:
        for index, cell in cells_of(path, "markdown"):
            if "end of the series" in cell.source.lower():
                problems.append(f"{where(path, index)} says 'end of the series', but {last.name} follows")
    assert not problems, "Untrue or stale text: " + "; ".join(problems)


@every_numbered
def test_goals_and_recap_headings(path: Path) -> None:
    text = markdown_of(path)
    missing = [name for name in ("Goals", "Recap") if not re.search(rf"^#+\s*{name}\b", text, re.MULTILINE)]
    assert not missing, (
        f"{path.name} has no heading {' or '.join(missing)!r} (every lesson opens with Goals, ends with Recap)"
    )


def test_numbered_without_gap_or_duplicate() -> None:
    numbers = [int(NUMBERED.match(path.name).group(1)) for path in numbered_paths()]
    assert numbers, "No numbered notebooks found"
    duplicates = sorted({n for n in numbers if numbers.count(n) > 1})
    missing = sorted(set(range(max(numbers) + 1)) - set(numbers))
    assert not duplicates and not missing, (
        f"Notebooks must be numbered 00..{max(numbers):02d} once each: "
        f"duplicated {[f'{n:02d}' for n in duplicates]}, missing {[f'{n:02d}' for n in missing]}"
    )


def test_each_exercise_has_its_solution_and_each_solution_its_exercise() -> None:
    problems = []
    named = {}
    for path in numbered_paths():
        for relative in exercise_solution(path):
            named[relative] = path
            if relative != f"solutions/{path.stem}.py":
                problems.append(f"{path.name} runs {relative}; its solution is solutions/{path.stem}.py")
            if not (NOTEBOOKS / relative).is_file():
                problems.append(f"{path.name} runs {relative}, which does not exist")
        if "self_check(" in "".join(cell.source for _, cell in cells_of(path, "code")) and not exercise_solution(path):
            problems.append(f"{path.name} has a self-check but no `# %run -i solutions/{path.stem}.py` cell")
    solutions = sorted(SOLUTIONS.glob("[0-9][0-9]-*.py"))
    assert solutions, f"No solution files in {SOLUTIONS}"
    for solution in solutions:
        if f"solutions/{solution.name}" not in named:
            problems.append(f"solutions/{solution.name} is run by no notebook (is {solution.stem}.ipynb renamed?)")
    assert not problems, "Exercises and solutions do not pair up: " + "; ".join(problems)


def test_the_tutorial_is_named_once_in_00_and_cited_by_that_name() -> None:
    start = NOTEBOOKS / "00-start-here.ipynb"
    assert start.is_file(), "notebooks/00-start-here.ipynb is missing"
    intro = markdown_of(start)
    assert TUTORIAL_TITLE in intro and TUTORIAL_AUTHOR in intro, (
        f"00-start-here must name {TUTORIAL_NAME!r}: its title ({TUTORIAL_TITLE!r}) and author ({TUTORIAL_AUTHOR})"
    )
    assert TUTORIAL_NAME in intro.lower(), f"00-start-here must give it the name the others cite: {TUTORIAL_NAME!r}"
    elsewhere = [path.name for path in notebook_paths() if path != start and TUTORIAL_TITLE in markdown_of(path)]
    assert not elsewhere, f"Name the tutorial once, in 00; cite it as {TUTORIAL_NAME!r} in {elsewhere}"


def test_respond_is_explained_where_it_first_appears() -> None:
    for path in numbered_paths():
        shown = [
            index
            for index, output in outputs_of(path)
            if "Respond" in (output.get("text") or "".join(output.get("data", {}).get("text/plain", "")))
        ]
        if shown:
            assert "**Respond**" in markdown_of(path), (
                f"{where(path, shown[0])} is the first to show a Respond choice; "
                f"{path.name}'s markdown must say what **Respond** does"
            )
            return
    pytest.fail("No saved output shows a Respond choice: the check looked at nothing (is the panel lesson gone?)")
