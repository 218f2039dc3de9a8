"""Session-wide setup for every pytest run from the repo, `pytest notebooks/` included.

The environment is changed at import time, before nbval starts any kernel, so every
kernel inherits it and a learner's key in the shell can never reach a saved output.
"""

import os
from pathlib import Path

import nbval.kernel
import pytest

from hitl_widgets.models import MODEL_VARIABLES

os.environ["HITL_OFFLINE"] = "1"
for name in MODEL_VARIABLES:
    os.environ.pop(name, None)


def _start_kernel_as_jupyterlab_does(*args, **kwargs):
    """nbval's kernels start without PYTEST_CURRENT_TEST, as JupyterLab's do.

    ipykernel skips its file-descriptor capture when it sees that variable, and its
    sys.stderr then has no fileno(): a subprocess a cell starts with stderr passed on
    (notebook 15's MCP server) would fail under nbval, and nowhere else.
    """
    kwargs.setdefault("env", {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"})
    return _start_new_kernel(*args, **kwargs)


_start_new_kernel = nbval.kernel.start_new_kernel
nbval.kernel.start_new_kernel = _start_kernel_as_jupyterlab_does

NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"
NEEDS_POSTGRES = "12-production"
"""The lesson that runs on a real PostgreSQL server (its nbval cells and its solution test)."""


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Fail when notebooks/ was asked for but one of its notebooks yielded no test.

    Runs before -k/-m deselection, so a filtered run is not mistaken for a broken one;
    this catches a lost `--nbval` or a `norecursedirs` that hides the notebooks.
    """
    _skip_postgres_lessons_without_server(items)
    if not _notebooks_requested(config):
        return
    expected = set(NOTEBOOKS.glob("*.ipynb"))
    collected = {item.path for item in items}
    missing = sorted(path.name for path in expected - collected)
    if missing:
        pytest.exit(f"No tests collected from notebooks: {', '.join(missing)}", returncode=1)


def _notebooks_requested(config: pytest.Config) -> bool:
    """True when the run's paths include notebooks/ itself or a folder containing it."""
    start = config.invocation_params.dir
    requested = [(start / arg.split("::")[0]).resolve() for arg in config.args]
    return any(NOTEBOOKS.is_relative_to(path) for path in requested)


def _skip_postgres_lessons_without_server(items: list[pytest.Item]) -> None:
    """A learner without PostgreSQL still gets a green `make test`; CI never skips it."""
    if os.environ.get("POSTGRES_URL") or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(
        reason="POSTGRES_URL is unset: install PostgreSQL (apt-get install postgresql) and run make test"
    )
    for item in items:
        if NEEDS_POSTGRES in item.nodeid:
            item.add_marker(skip)
