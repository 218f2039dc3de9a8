"""Drive a real JupyterLab in Debian's Chromium, the way a user would.

`JupyterLab` starts `jupyter lab` on 127.0.0.1 with a random token over a temporary
copy of the notebooks (the committed files are never opened by the browser), and
stops it even when a test fails. `Notebook` opens one notebook, runs cells with the
toolbar's run button and waits on the page's own signals: the cell's execution
count, the kernel indicator going idle, a widget appearing. Nothing here sleeps.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from hitl_widgets.models import MODEL_VARIABLES

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
# As root in a sandbox, and with no network: nothing may phone home at start.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
START_TIMEOUT_S = 90
KERNEL_TIMEOUT_MS = 90_000
"""A cell may import langgraph on a cold kernel: generous, but bounded (nothing may hang)."""

# JupyterLab settings for the test user: no news or update toasts over the notebook.
USER_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
        "doNotDisturbMode": True,
    },
    # Every cell stays in the page, so a locator finds cells scrolled out of view.
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    # The scratch notebooks are never saved over while a test runs.
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class JupyterLab:
    """`jupyter lab` over `root` (a scratch folder), on a free local port, with a random token."""

    def __init__(self, root: Path, scratch: Path) -> None:
        self.root = root
        self.scratch = scratch
        self.token = secrets.token_hex(24)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = scratch / "jupyterlab.log"
        self._proc: subprocess.Popen | None = None

    # -- lifecycle ---------------------------------------------------------------
    def start(self) -> JupyterLab:
        settings = self.scratch / "user-settings"
        for name, values in USER_SETTINGS.items():
            path = settings / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        env = {
            **os.environ,
            "HITL_OFFLINE": "1",
            # The test user's own Jupyter and IPython folders, not the machine's.
            "JUPYTER_CONFIG_DIR": str(self.scratch / "config"),
            "JUPYTER_DATA_DIR": str(self.scratch / "data"),
            "JUPYTER_RUNTIME_DIR": str(self.scratch / "runtime"),
            "IPYTHONDIR": str(self.scratch / "ipython"),
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        for name in MODEL_VARIABLES:  # offline, whatever the shell says: no key reaches a kernel
            env.pop(name, None)
        command = [
            str(VENV_BIN / "jupyter"),
            "lab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            f"--LabApp.workspaces_dir={self.scratch / 'workspaces'}",
            f"--LabApp.user_settings_dir={settings}",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.news_url=",
            "--LabApp.extension_manager=readonly",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")
        self._log = self.log_path.open("wb")
        self._proc = subprocess.Popen(
            command,
            cwd=self.root,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self) -> None:
        """Poll the server's own status endpoint until it answers (or the process dies)."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self._proc.returncode}:\n{self.log_tail()}")
            try:
                self.api("GET", "/api/status", timeout=2)
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                with contextlib.suppress(subprocess.TimeoutExpired):  # the poll interval; ends early if it dies
                    self._proc.wait(timeout=0.25)
        raise RuntimeError(f"jupyter lab did not answer within {START_TIMEOUT_S}s:\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM (the server shuts its kernels down), then SIGKILL the group if it lingers."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # the group we created for it, nothing else
                proc.wait(timeout=10)
        self._log.close()

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:]).replace(self.token, "<token>")

    # -- REST ----------------------------------------------------------------------
    def api(self, method: str, path: str, timeout: float = 10):
        request = urllib.request.Request(
            f"{self.url}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """End every session (and its kernel), so the next test starts on a fresh kernel."""
        for session in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{session['id']}")

    def lab_url(self, notebook: str) -> str:
        return f"{self.url}/lab/tree/{notebook}?reset&token={self.token}"


def copy_notebooks(destination: Path) -> Path:
    """A scratch copy of notebooks/ (with solutions/), outputs cleared, so nothing committed is touched.

    Clearing matters: a saved "[1]:" prompt or a saved output would let a wait succeed
    before the cell ran at all.
    """
    import nbformat

    shutil.copytree(REPO / "notebooks", destination, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for path in destination.glob("*.ipynb"):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nbformat.write(notebook, path)
    return destination


PROMPT = re.compile(r"\[(\d+|\*| )\]:")


class Notebook:
    """One open notebook in the page: select a cell, run it with the toolbar, wait on the page."""

    def __init__(self, page: Page, lab: JupyterLab, name: str) -> None:
        self.page = page
        self.lab = lab
        self.name = name
        self.runs = 0
        """Cells run so far on this (fresh) kernel: the next run's prompt is [runs + 1]."""

    def open(self) -> Notebook:
        self.page.goto(self.lab.lab_url(self.name))
        self.panel = self.page.locator(".jp-NotebookPanel:visible")
        expect(self.panel).to_have_count(1, timeout=KERNEL_TIMEOUT_MS)
        expect(self.panel.locator(".jp-Notebook .jp-Cell").first).to_be_visible()
        self.wait_kernel_ready()
        return self

    # -- locating ------------------------------------------------------------------
    def code_cells(self) -> Locator:
        return self.panel.locator(".jp-Notebook .jp-CodeCell")

    def code_cell(self, index: int) -> Locator:
        return self.code_cells().nth(index)

    def code_sources(self) -> list[str]:
        """The source of each code cell, from the notebook model (all cells, rendered or not)."""
        return self.page.evaluate(
            """() => {
                const panel = [...document.querySelectorAll('.jp-NotebookPanel')].find(p => p.offsetParent !== null);
                return [...panel.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-editor')]
                    .map(e => e.textContent);
            }"""
        )

    def indicator(self) -> Locator:
        return self.panel.locator(".jp-Notebook-ExecutionIndicator")

    # -- waiting -------------------------------------------------------------------
    def wait_kernel_ready(self) -> None:
        """The status bar names the kernel and says Idle (before that it says "No Kernel",
        and the toolbar's indicator already reads idle while nothing is connected)."""
        ready = self.page.locator(".jp-StatusBar-TextItem").filter(has_text=re.compile(r"\(ipykernel\) \| Idle$"))
        expect(ready).to_have_count(1, timeout=KERNEL_TIMEOUT_MS)
        self.wait_idle()

    def wait_idle(self) -> None:
        """The notebook toolbar's kernel indicator says idle (not busy, no cell queued)."""
        expect(self.indicator()).to_have_attribute("data-status", "idle", timeout=KERNEL_TIMEOUT_MS)

    # -- running -------------------------------------------------------------------
    def select(self, cell: Locator) -> None:
        """Select a cell in command mode by clicking its prompt area (not its editor)."""
        cell.locator(".jp-InputPrompt").first.click()  # scrolls it into view, retries if re-rendered
        expect(cell).to_have_class(re.compile(r"\bjp-mod-selected\b"))

    def run_code_cell(self, index: int) -> Locator:
        """Run the index-th code cell with the toolbar's run button; wait for its result."""
        cell = self.code_cell(index)
        self.select(cell)
        self.panel.locator('.jp-NotebookPanel-toolbar [data-command="notebook:run-cell-and-select-next"]').click()
        self.runs += 1
        prompt = cell.locator(".jp-InputPrompt").first
        expect(prompt).to_have_text(f"[{self.runs}]:", timeout=KERNEL_TIMEOUT_MS)
        self.wait_idle()
        errors = cell.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
        if errors.count() and "Traceback" in errors.first.inner_text():
            raise AssertionError(f"Code cell {index} raised:\n{errors.first.inner_text()}")
        return cell

    def run_code_cells(self, indexes) -> None:
        for index in indexes:
            self.run_code_cell(index)


# -- the approval panel, as a reviewer sees it in the page ---------------------------------
PANEL_DEMO = "panel_demo.ipynb"
PANEL_DEMO_CELLS = (
    # The agent, its store and a panel, shown; every decision is left to clicks.
    "from langgraph.checkpoint.memory import InMemorySaver\n"
    "\n"
    "from hitl_widgets import OfflineChatModel\n"
    "from hitl_widgets.graphs import build_review_graph\n"
    "from hitl_widgets.inventory import InventoryStore, make_tools\n"
    "from hitl_widgets.panel import ApprovalPanel\n"
    "\n"
    "store = InventoryStore()\n"
    "graph = build_review_graph(OfflineChatModel(), make_tools(store), InMemorySaver())\n"
    'panel = ApprovalPanel(graph, {"configurable": {"thread_id": "browser"}})\n'
    "panel.run(\"Check widget-x in SF-01. If stock is below 10 units, order 100 from 'Acme Supply', \"\n"
    '          "then notify the team on slack.")\n'
    "panel",
    # What happened, read back in the kernel: the test's ground truth after the clicks.
    "import json\n"
    "print(json.dumps({\n"
    '    "decisions": [[r.decision["type"], r.tool, r.edited_args, r.message] for r in panel.decisions],\n'
    '    "runs": store.tool_runs(),\n'
    '    "orders": store.purchase_orders(),\n'
    '    "pending": len(panel.pending),\n'
    "}))",
)


def write_panel_demo(root: Path, name: str = PANEL_DEMO) -> str:
    """A small notebook (written at test time, never committed) that shows a panel and decides nothing."""
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in PANEL_DEMO_CELLS]
    nbformat.write(notebook, root / name)
    return name


class PanelView:
    """An `ApprovalPanel` rendered in a cell's output: cards, buttons, inputs and messages."""

    def __init__(self, notebook: Notebook, cell: Locator) -> None:
        self.page = notebook.page
        self.root = cell.locator(".jp-Cell-outputArea .widget-vbox").filter(has_text="Approval panel").first
        expect(self.root).to_be_visible(timeout=KERNEL_TIMEOUT_MS)

    def cards(self) -> Locator:
        """Boxes that hold their own Approve button: one per pending tool call."""
        return self.root.locator(".widget-vbox:has(> .widget-hbox > button[title^='Approve'])")

    def card(self, text: str) -> Locator:
        """The pending card whose text contains `text` (a tool name, a vendor...), once it shows."""
        card = self.cards().filter(has_text=text)
        expect(card).to_have_count(1, timeout=KERNEL_TIMEOUT_MS)
        return card

    def no_card(self, text: str) -> None:
        expect(self.cards().filter(has_text=text)).to_have_count(0, timeout=KERNEL_TIMEOUT_MS)

    @staticmethod
    def button(card: Locator, title: str) -> Locator:
        """A button by its label, icon or not (Playwright's click waits until it is enabled: a new card arms late)."""
        return card.locator("button").filter(has_text=re.compile(rf"^\s*{re.escape(title)}\s*$"))

    @staticmethod
    def message_box(card: Locator) -> Locator:
        return card.locator("input[placeholder^='Message to the model']")

    @staticmethod
    def errors(card: Locator) -> Locator:
        """What the card says went wrong (its own output area, stderr)."""
        return card.locator(".widget-output .jp-OutputArea-output")

    def answer(self) -> Locator:
        return self.root.locator(".widget-html-content").filter(has_text="Answer")

    def decision_log(self) -> Locator:
        return self.root.locator(".hitl-log").filter(has_text="Decision log")

    def live_region(self) -> Locator:
        """The panel's polite live regions (status line and announcer)."""
        return self.root.locator(".hitl-live[role='status'][aria-live='polite']")
