"""LangGraph's local API server, started and stopped from Python (notebook 13 and the tests).

    with LocalServer() as server:          # `langgraph dev` on a free 127.0.0.1 port
        remote = RemoteGraph("inventory_agent", url=server.url)
        ...                                # the server is stopped here, even on error

`make serve` runs the same server in a terminal. This class adds what a notebook and a
test need on top: a free loopback port, a wait until `/ok` answers, the offline model,
a store file the caller can read (`server.store_path`), and a stop that always happens.

The server runs in its own temporary folder, so its state (`.langgraph_api/`) and its
log never land in the repository and every server starts with no threads. It runs with
`--no-reload`: nothing it writes can make it restart. It is stopped by `stop()`, at the
end of a `with` block, when the Python process exits, and (on Linux) when the process
that started it dies, even by `kill -9`, so a crashed kernel or test leaves nothing behind.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any

from .errors import ServerError

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "langgraph.json"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _langgraph_cli() -> list[str]:
    """`langgraph` from this Python's environment (the kit's .venv), not whatever PATH finds."""
    script = Path(sys.executable).with_name("langgraph.exe" if os.name == "nt" else "langgraph")
    if script.exists():
        return [str(script)]
    found = shutil.which("langgraph")
    if found:
        return [found]
    raise ServerError(
        "The `langgraph` command is not installed. Install the server packages with "
        "`make serve` or `.venv/bin/pip install -r requirements-serve.txt -c requirements.lock`."
    )


def _parent_death_signal():
    """Linux only: a function for `preexec_fn` that makes the OS send the server SIGTERM
    when the thread that started it ends (in a kernel or a test: the main thread, so the
    process). libc is loaded here, in the parent, so the child only makes one call."""
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL("libc.so.6", use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    PR_SET_PDEATHSIG = 1
    return lambda: prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class LocalServer:
    """`langgraph dev` in a subprocess: the kit's agent over HTTP on a free loopback port.

    config     langgraph.json to serve (default: the repository's own); relative graph
               paths in it are resolved against its folder.
    store      SQLite file for the inventory store (HITL_STORE); default: a new file in
               the server's temporary folder, so every server starts from the seed stock.
    offline    True (default) forces the offline model (HITL_OFFLINE=1); False lets the
               server choose as `get_chat_model()` does, from the environment and the
               caller's .env (the server itself runs in a temporary folder).
    """

    def __init__(
        self,
        config: str | Path = DEFAULT_CONFIG,
        *,
        store: str | Path | None = None,
        offline: bool = True,
        host: str = "127.0.0.1",
        port: int | None = None,
        startup_timeout: float = 90.0,
    ) -> None:
        self.config = Path(config).resolve()
        self.host = host
        self.startup_timeout = startup_timeout
        self._requested_port = port
        self._requested_store = store
        self.offline = offline
        self.port: int | None = None
        self.workdir: Path | None = None
        self.store_path: Path | None = None
        self.graphs: list[str] = []
        self._process: subprocess.Popen | None = None
        self._log: IO[bytes] | None = None

    # -- what a caller reads --------------------------------------------------------
    @property
    def url(self) -> str:
        if self.port is None:
            raise ServerError("The server is not running: call start() or use `with LocalServer() as server:`.")
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The server process's id while it runs (its process group has the same id on POSIX)."""
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def log_path(self) -> Path | None:
        return self.workdir / "server.log" if self.workdir else None

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def __repr__(self) -> str:
        state = f"running at {self.url}" if self.running else "stopped"
        return f"<LocalServer {', '.join(self.graphs) or self.config.name} {state}>"

    # -- start and stop -------------------------------------------------------------
    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self) -> LocalServer:
        """Start the server and return once `/ok` answers; raise ServerError otherwise."""
        if self.running:
            return self
        self.workdir = Path(tempfile.mkdtemp(prefix="hitl-langgraph-"))
        self.store_path = (
            Path(self._requested_store).resolve() if self._requested_store else self.workdir / "store.sqlite"
        )
        config = self._write_config()
        atexit.register(self.stop)
        try:
            # A port picked free can be taken before the server binds it: try another.
            for _ in range(3):
                self.port = self._requested_port or free_port(self.host)
                self._spawn(config)
                if self._wait_until_ready():
                    return self
                self._terminate()
                if self._requested_port or "address already in use" not in self.log_tail().lower():
                    break
            raise ServerError(
                f"`langgraph dev` did not become ready on {self.url}.\n--- server log ---\n{self.log_tail()}"
            )
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server (if running) and delete its temporary folder. Safe to call twice."""
        self._terminate()
        atexit.unregister(self.stop)
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
        self.port = None

    # -- the parts ------------------------------------------------------------------
    def _write_config(self) -> Path:
        """A copy of langgraph.json with absolute graph paths, in the server's folder."""
        data = json.loads(self.config.read_text())
        base = self.config.parent
        graphs = {}
        for name, target in data.get("graphs", {}).items():
            path, sep, variable = target.rpartition(":") if isinstance(target, str) else ("", "", "")
            if sep and "/" in path and not Path(path).is_absolute():
                target = f"{(base / path).resolve()}:{variable}"
            graphs[name] = target
        data["graphs"] = graphs
        data["dependencies"] = [
            str((base / dep).resolve()) if dep.startswith(".") else dep for dep in data.get("dependencies", [])
        ]
        self.graphs = list(graphs)
        assert self.workdir is not None, "start() makes the folder first"
        written = self.workdir / "langgraph.json"
        written.write_text(json.dumps(data, indent=2))
        return written

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env["HITL_STORE"] = str(self.store_path)
        if self.offline:
            env["HITL_OFFLINE"] = "1"
        else:  # the server runs in a temporary folder: hand it the .env the caller would read
            from dotenv import dotenv_values, find_dotenv

            found = find_dotenv(usecwd=True)
            env.update({k: v for k, v in (dotenv_values(found) if found else {}).items() if v and k not in env})
        env.setdefault("LANGSMITH_TRACING", "false")  # never send traces from a lesson
        env.setdefault("LANGGRAPH_CLI_NO_ANALYTICS", "1")
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def _spawn(self, config: Path) -> None:
        command = [
            *_langgraph_cli(),
            "dev",
            "--config",
            str(config),
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--no-browser",
            "--no-reload",
            "--server-log-level",
            "WARNING",
        ]
        assert self.log_path is not None, "start() makes the folder first"
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - the server writes to it until stop() closes it
        options: dict[str, Any] = {}
        if os.name == "posix":
            options["start_new_session"] = True  # its own process group: stop() ends all of it
            if (die_with_parent := _parent_death_signal()) is not None:
                options["preexec_fn"] = die_with_parent
        self._process = subprocess.Popen(
            command,
            cwd=self.workdir,
            env=self._environment(),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            **options,
        )

    def _wait_until_ready(self) -> bool:
        deadline = time.monotonic() + self.startup_timeout
        assert self._process is not None, "_spawn() runs first"
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.url}/ok", timeout=2) as response:
                    if response.status == 200:
                        return True
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        return False

    def _terminate(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            self._signal(process, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._signal(process, signal.SIGKILL if os.name == "posix" else signal.SIGTERM)
                process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    @staticmethod
    def _signal(process: subprocess.Popen, sig: int) -> None:
        try:
            if os.name == "posix":
                os.killpg(process.pid, sig)  # the group we created for it, by its id
            else:
                process.send_signal(sig)
        except ProcessLookupError:
            pass
