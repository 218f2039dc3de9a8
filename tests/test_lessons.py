"""The exercises' self-check: a sentence either way, never a traceback."""

from __future__ import annotations

import pytest

from hitl_widgets.lessons import PASSED, expect_error, self_check


def test_an_unsolved_exercise_says_what_is_missing_and_how_to_run_the_solution(capsys) -> None:
    def check() -> None:
        raise AssertionError("Your tool is named 'x'.")

    self_check(check, solution="solutions/01-state-and-tools.py")
    said = capsys.readouterr().out
    assert "Not solved yet: Your tool is named 'x'." in said
    assert "%run -i solutions/01-state-and-tools.py" in said
    assert PASSED not in said


def test_a_solved_exercise_prints_the_line_test_solutions_looks_for(capsys) -> None:
    self_check(lambda: None, solution="solutions/01-state-and-tools.py")
    assert capsys.readouterr().out.strip() == PASSED


def test_a_broken_check_is_not_hidden() -> None:
    def check() -> None:
        raise NameError("exercise_reply")  # a typo in the notebook, not an unsolved exercise

    with pytest.raises(NameError):
        self_check(check, solution="solutions/01-state-and-tools.py")


def test_expect_error_prints_the_error_in_one_line(capsys) -> None:
    with expect_error(ValueError):
        raise ValueError("resume value must not be None")
    assert capsys.readouterr().out == "ValueError: resume value must not be None\n"


def test_expect_error_fails_when_the_pitfall_is_gone() -> None:
    gone = "Expected ValueError here, and nothing was raised"
    with pytest.raises(AssertionError, match=gone), expect_error(ValueError):
        pass


def test_expect_error_lets_another_error_through() -> None:
    with pytest.raises(KeyError), expect_error(ValueError):
        raise KeyError("thread")
