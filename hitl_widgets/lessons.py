"""What the notebooks' exercises share: a self-check that ends in a sentence, not a traceback.

An unsolved exercise is the normal state of a notebook on GitHub and in a fresh
checkout, so its self-check must read as a friendly line there. `make test` still
fails a wrong solution: tests/test_solutions.py runs every notebook with its
solution and requires the line `Self-check passed ✓`, which only a passing
check prints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

PASSED = "Self-check passed ✓"


def self_check(check: Callable[[], object], *, solution: str) -> None:
    """Run `check` (a function of asserts); say whether the exercise is solved.

    `solution` is the notebook-relative path of the solution file, named in the hint
    so a stuck learner knows the one line that runs it. Returns nothing, so the cell's
    saved output is the sentence alone.
    """
    try:
        check()
    except AssertionError as missing:
        reason = str(missing) or "one of the checks did not hold"
        print(f"Not solved yet: {reason}")
        print(f"Fill in the exercise and run it, or run the solution: `%run -i {solution}`. Then run this cell again.")
        return
    print(PASSED)


@contextmanager
def expect_error(*kinds: type[BaseException]) -> Iterator[None]:
    """Run a pitfall on purpose: print the error it raises in one line, instead of a traceback.

    A saved traceback reads as "this notebook is broken" on GitHub. The block must raise
    (one of `kinds`, when given): if LangGraph stops raising there, the cell fails, so
    the lesson cannot go on describing a behaviour that is gone.
    """
    expected = kinds or (Exception,)
    try:
        yield
    except expected as error:
        print(f"{type(error).__name__}: {error}")
    else:
        names = ", ".join(kind.__name__ for kind in expected)
        raise AssertionError(f"Expected {names} here, and nothing was raised.")
