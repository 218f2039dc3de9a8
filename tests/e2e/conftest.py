"""Fixtures for the browser tests: one JupyterLab and one Chromium per run, a fresh page and kernel per test.

Run them with `make e2e` (they are marked `e2e`, which the default `pytest` run deselects).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from labdriver import CHROMIUM, CHROMIUM_ARGS, JupyterLab, copy_notebooks
from playwright.sync_api import sync_playwright


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder is a browser test, whatever its module says."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in item.path.resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def lab_root(tmp_path_factory) -> Path:
    """The folder JupyterLab serves: a scratch copy of notebooks/ (plus what tests add to it)."""
    return copy_notebooks(tmp_path_factory.mktemp("lab") / "notebooks")


@pytest.fixture(scope="session")
def lab(lab_root, tmp_path_factory):
    server = JupyterLab(lab_root, tmp_path_factory.mktemp("lab-state")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install chromium`), never a downloaded one."
        )
    with sync_playwright() as playwright:
        # Playwright gives each launch a fresh, empty --user-data-dir of its own.
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory) -> Path:
    """Screenshots of failed tests (pytest's temporary folder, never the repository)."""
    return tmp_path_factory.mktemp("e2e-failures")


@pytest.fixture
def page(browser, lab, artifacts, request):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
    finally:
        failed = getattr(request.node, "rep_call", None)
        if failed is not None and failed.failed:
            shot = artifacts / f"{request.node.name}.png"
            page.screenshot(path=shot, full_page=True)
            print(f"Screenshot of the failed page: {shot}")
        context.close()
        lab.shutdown_kernels()
    assert not errors, f"JavaScript errors in the page: {errors}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
