"""JupyterLab and Chromium for the browser tests: started by the test, always stopped.

Every wait here is bounded: a server that does not answer, or a browser that does not start,
fails the test with what it logged instead of hanging it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tests.conftest import IN_CI

REPO = Path(__file__).resolve().parents[2]
#: Screenshots of each step (test-artifacts/ is gitignored).
ARTIFACTS = REPO / "test-artifacts" / "browser"
#: Chromium comes from Debian's package (`apt-get install chromium`), never `playwright install`.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TOKEN = "credkit-browser-test"
SERVER_START_SECONDS = 60
SERVER_STOP_SECONDS = 15


def skip_or_fail(reason: str) -> None:
    """Skip the test, but fail it under CI (CI=true), where everything it needs must be there."""
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def require_modules(*names: str) -> None:
    """The Python packages the browser tests drive (the dev and notebook extras)."""
    for name in names:
        try:
            __import__(name)
        except ImportError as error:
            skip_or_fail(f"the browser tests need {name} ({error})")


def require_chromium() -> Path:
    """Debian's Chromium; skips the test without it (fails it under CI)."""
    if not CHROMIUM.is_file():
        skip_or_fail(
            f"the browser tests need Chromium at {CHROMIUM} "
            "(as root: apt-get update && apt-get install -y chromium)"
        )
    return CHROMIUM


class Deadline:
    """The test's time budget: every wait gets at most what is left of it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def ms(self, seconds: float) -> float:
        """A Playwright timeout (ms): seconds, or less when the budget is nearly spent."""
        left = self.end - time.monotonic()
        if left <= 0:
            raise AssertionError(f"the test ran over its {self.seconds:g} s budget")
        return min(seconds, left) * 1000


class Screenshots:
    """Numbered screenshots of the page at each size, in a folder emptied of the last run's."""

    SIZES = ((1366, 768), (1920, 1080))

    def __init__(self, page: Any, folder: Path) -> None:
        self.page = page
        self.folder = folder
        self.count = 0
        self.taken: list[Path] = []
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.png"):
            old.unlink()

    def take(self, name: str, top: Any = None) -> list[Path]:
        """The viewport at each size (the first one last, so the test goes on at it), after
        scrolling so that top (a locator) is at the viewport's top."""
        self.count += 1
        paths = []
        for width, height in (*self.SIZES[1:], self.SIZES[0]):
            self.page.set_viewport_size({"width": width, "height": height})
            if top is not None:
                top.evaluate("element => element.scrollIntoView({block: 'start'})")
            self.page.wait_for_timeout(400)  # let the canvas and the scroll settle
            path = self.folder / f"{self.count:02d}-{name}-{width}x{height}.png"
            self.page.screenshot(path=str(path))
            paths.append(path)
        self.taken.extend(paths)
        return paths


# --- the runbook -------------------------------------------------------------------------------


def runbook_copy(
    source: Path,
    target: Path,
    parameters: dict[str, object],
    *,
    last_cell_containing: str | None = None,
) -> Path:
    """A copy of a runbook with its `parameters` cell set to parameters, outputs stripped.

    With last_cell_containing, the copy ends at the first cell whose source contains it.
    """
    notebook = nbformat.read(source, as_version=4)
    tagged = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{source.name} should have one cell tagged 'parameters'"
    for name in parameters:
        assert f"{name} =" in tagged[0].source, f"{source.name} has no parameter {name!r}"
    tagged[0].source = "\n".join(f"{name} = {value!r}" for name, value in parameters.items())
    if last_cell_containing is not None:
        ends = [i for i, cell in enumerate(notebook.cells) if last_cell_containing in cell.source]
        assert ends, f"{source.name} has no cell containing {last_cell_containing!r}"
        notebook.cells = notebook.cells[: ends[0] + 1]
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    notebook.metadata.pop("widgets", None)
    nbformat.validate(notebook)
    nbformat.write(notebook, target)
    return target


# --- JupyterLab --------------------------------------------------------------------------------


@dataclass
class Lab:
    """A running JupyterLab: its base URL, and the folder it serves."""

    base_url: str
    root: Path
    log: Path

    def url(self, path: str) -> str:
        """A page of the server, with the token."""
        return f"{self.base_url}{path}?token={TOKEN}"

    def api(self, method: str, path: str, timeout: float = 10) -> Any:
        """Call the REST API; the decoded JSON answer (None when empty)."""
        request = urllib.request.Request(
            f"{self.base_url}{path}",
            method=method,
            headers={"Authorization": f"token {TOKEN}"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launcher() -> Any:
    """tools/launch.py, the module `make lab` and `make app` run."""
    spec = importlib.util.spec_from_file_location("credkit_launch", REPO / "tools" / "launch.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextmanager
def jupyter_lab(root: Path, state: Path, env: dict[str, str] | None = None) -> Iterator[Lab]:
    """JupyterLab serving root as `make lab` starts it (tools/launch.py: the repository's
    jupyter_server_config.py), with the current interpreter, on a free port; its runtime,
    config, data, settings and workspaces live in state. The lab extensions are still found
    in the environment (sys.prefix), since JUPYTER_PATH is left alone. Kernels and server are
    stopped on the way out."""
    dirs = _state_dirs(state)
    settings = dirs["config"] / "lab" / "user-settings"
    _quiet_notifications(settings)
    port = free_port()
    command = [
        *launcher().lab_command(sys.executable, root),
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={TOKEN}",
        f"--LabApp.workspaces_dir={dirs['workspaces']}",
        f"--LabApp.user_settings_dir={settings}",
    ]
    lab = Lab(f"http://127.0.0.1:{port}", root, state / "jupyterlab.log")
    with _server(command, root, env, dirs, lab, "/api/status"):
        yield lab


@contextmanager
def voila_app(root: Path, state: Path, env: dict[str, str] | None = None) -> Iterator[Lab]:
    """Voilà serving the runbooks in root as `make app` starts it (tools/launch.py)."""
    dirs = _state_dirs(state)
    port = free_port()
    command = [
        *launcher().app_command(sys.executable, root),
        "--no-browser",
        "--Voila.ip=127.0.0.1",
        f"--port={port}",
        f"--token={TOKEN}",
    ]
    app = Lab(f"http://127.0.0.1:{port}", root, state / "voila.log")
    with _server(command, root, env, dirs, app, "/"):
        yield app


def _state_dirs(state: Path) -> dict[str, Path]:
    dirs = {name: state / name for name in ("runtime", "config", "data", "ipython", "workspaces")}
    for folder in dirs.values():
        folder.mkdir(parents=True, exist_ok=True)
    return dirs


@contextmanager
def _server(
    command: list[str],
    root: Path,
    env: dict[str, str] | None,
    dirs: dict[str, Path],
    server: Lab,
    ready_path: str,
) -> Iterator[None]:
    environment = os.environ | (env or {})
    environment |= {
        "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
        "JUPYTER_CONFIG_DIR": str(dirs["config"]),
        "JUPYTER_DATA_DIR": str(dirs["data"]),
        "IPYTHONDIR": str(dirs["ipython"]),
        "PYTHONUNBUFFERED": "1",
    }
    with open(server.log, "wb") as log_stream:
        process = subprocess.Popen(
            command,
            cwd=root,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log_stream,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_ready(server, process, ready_path)
            yield
        finally:
            _stop(server, process, dirs["runtime"])


def _quiet_notifications(settings: Path) -> None:
    """No news or update toasts over the notebook (and no requests to the outside)."""
    path = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))


def _wait_until_ready(lab: Lab, process: subprocess.Popen[bytes], path: str) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The server exited ({process.returncode}):\n{lab.log_tail()}")
        try:
            urllib.request.urlopen(lab.url(path), timeout=2).read()
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.25)
    raise RuntimeError(f"The server did not answer in {SERVER_START_SECONDS} s:\n{lab.log_tail()}")


def _stop(lab: Lab, process: subprocess.Popen[bytes], runtime: Path) -> None:
    """Shut the kernels down, stop the server, and kill whatever of ours is left."""
    if process.poll() is None:
        try:
            for kernel in lab.api("GET", "/api/kernels", timeout=5) or []:
                lab.api("DELETE", f"/api/kernels/{kernel['id']}", timeout=10)
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass  # the server stops its kernels itself on SIGTERM
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=SERVER_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=SERVER_STOP_SECONDS)
    # Kernels run in their own sessions; any left is named by our runtime folder.
    for pid in _processes_mentioning(str(runtime)):
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command_line = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in command_line:
            found.append(int(entry.name))
    return found


# --- Chromium ----------------------------------------------------------------------------------


@contextmanager
def chromium_page(profile: Path, width: int = 1366, height: int = 768) -> Iterator[Any]:
    """A Playwright page in headless Debian Chromium, with a fresh profile folder."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": width, "height": height},
            timeout=60_000,
        )
        try:
            context.set_default_timeout(30_000)
            page = context.pages[0] if context.pages else context.new_page()
            yield page
        finally:
            context.close()


def run_all(page: Any, url: str, deadline: Deadline) -> Any:
    """Open a notebook in JupyterLab, close the file browser (more room for the grid) and run
    every cell, as an operator does before the first counted action. Returns the status bar's
    "kernel idle" locator, to wait on after each step."""
    import re

    page.goto(url, timeout=deadline.ms(60))
    kernel_idle = page.locator("#jp-main-statusbar").get_by_text(re.compile(r"^Python 3.*\| Idle$"))
    kernel_idle.wait_for(timeout=deadline.ms(60))
    if page.locator("#filebrowser").is_visible():
        page.locator("li[data-id='filebrowser']").click(timeout=deadline.ms(10))
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click(
        timeout=deadline.ms(10)
    )
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click(
        timeout=deadline.ms(10)
    )
    return kernel_idle
