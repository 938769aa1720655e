"""Fixtures for the real-browser tests: a live Streamlit server and a Chromium that can run here.

Every test under tests/e2e gets the `e2e` marker. The tests never skip: a missing app, a server that
does not start or a browser that does not launch is an error.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .helpers import ARTIFACTS_DIR, CHROMIUM_ARGS, REPO_ROOT, app_path, chromium_executable

E2E_DIR = Path(__file__).resolve().parent
SERVER_START_TIMEOUT_S = 90.0
SERVER_LOG = ARTIFACTS_DIR / "streamlit-server.log"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test in this folder as `e2e` (the hook sees the whole session, so filter by path)."""
    for item in items:
        if E2E_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.e2e)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _log_tail(path: Path, chars: int = 6000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return "(no server log)"


def _health(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.read().decode(errors="replace").strip()
    except (urllib.error.URLError, OSError):
        return None


@pytest.fixture(scope="session")
def app_server() -> Iterator[str]:
    """Start `streamlit run` on a free port from the repository root; yield its base URL."""
    app = app_path()
    if not app.is_file():
        pytest.fail(f"Streamlit app not found: {app} (set PLAYGROUND_APP to test another script)")

    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}

    # Output goes to a file, not a pipe: a pipe nobody reads fills up and blocks the server.
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    with SERVER_LOG.open("w") as log:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"Streamlit server exited with code {proc.returncode} before answering.\n"
                    f"command: {' '.join(cmd)}\n--- server output ({SERVER_LOG}) ---\n{_log_tail(SERVER_LOG)}"
                )
            if _health(f"{base_url}/_stcore/health") == "ok":
                break
            if time.monotonic() > deadline:
                pytest.fail(
                    f"Streamlit server did not answer 'ok' on /_stcore/health within "
                    f"{SERVER_START_TIMEOUT_S:.0f} s.\ncommand: {' '.join(cmd)}\n"
                    f"--- server output ({SERVER_LOG}) ---\n{_log_tail(SERVER_LOG)}"
                )
            time.sleep(0.25)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


@pytest.fixture(scope="session")
def base_url(app_server: str) -> str:
    """pytest-playwright's base URL, so `page.goto("/")` opens the app."""
    return app_server


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any], browser_name: str) -> dict[str, Any]:
    """Launch Debian's Chromium when it is installed (Playwright cannot download its own everywhere)."""
    args = dict(browser_type_launch_args)
    if browser_name == "chromium":
        executable = chromium_executable()
        if executable:
            args["executable_path"] = executable
        args["args"] = [*args.get("args", []), *CHROMIUM_ARGS]
    return args
