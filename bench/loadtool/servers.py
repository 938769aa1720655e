"""Starting and stopping the servers under test, and waiting until they answer.

`StreamlitServer`: one `streamlit run` (or another launcher) on a free port, in its own process group, its output in
a log file. `ProxySetup`: deploy/start.sh, K Streamlit processes behind nginx, with the PIDs of its processes and a
wait for the ones server/recycle.py replaces. Every process started here is stopped by the object that started it.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

from bench.loadtool import REPO_ROOT
from bench.loadtool.session import HEALTH_PATH


def health_ok(base_url: str, timeout: float = 2.0) -> bool:
    """Does GET /_stcore/health answer 'ok'? (blocking; for start-up polling)"""
    try:
        with urllib.request.urlopen(base_url.rstrip("/") + HEALTH_PATH, timeout=timeout) as response:
            return response.read().decode(errors="replace").strip() == "ok"
    except (urllib.error.URLError, OSError, ValueError):
        return False


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_port_range(count: int, attempts: int = 50) -> int:
    """A first port such that `count` consecutive ports are free on 127.0.0.1."""
    for _ in range(attempts):
        base = random.randrange(20_000, 60_000 - count)
        socks = []
        try:
            for p in range(base, base + count):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError(f"no {count} consecutive free ports found")


class StreamlitServer:
    """One `streamlit run` from the repository root (so .streamlit/config.toml applies), in its own process group."""

    def __init__(
        self,
        script: Path,
        port: int,
        log: Path,
        extra_args: Sequence[str] = (),
        launcher: Sequence[str] | None = None,
    ):
        """`launcher`: the command before Streamlit's options (default `python -m streamlit run SCRIPT`; for
        example `python scripts/serve.py`)."""
        self.script, self.port, self.log = Path(script), port, Path(log)
        self.url = f"http://127.0.0.1:{port}"
        self.extra_args = list(extra_args)
        self.launcher = list(launcher or [sys.executable, "-m", "streamlit", "run", str(self.script)])
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        cmd = [
            *self.launcher,
            "--server.port", str(self.port),
            "--server.address", "127.0.0.1",
            "--server.headless", "true",
            "--browser.gatherUsageStats", "false",
            *self.extra_args,
        ]  # fmt: skip
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
        with self.log.open("a") as out:  # a file, not a pipe: a pipe nobody reads fills up and blocks the server
            self.proc = subprocess.Popen(
                cmd, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise RuntimeError("not started")
        return self.proc.pid

    def wait_healthy(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while not health_ok(self.url):
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"{self.script.name} on port {self.port} exited early; log:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.script.name}: no 'ok' from {HEALTH_PATH} in {timeout:.0f} s")
            time.sleep(0.25)

    def kill(self) -> None:
        """SIGKILL the server (a crash), and reap it."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)

    def stop(self) -> None:
        """SIGTERM the server's process group (only what this object started); SIGKILL if it lingers."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)
        except ProcessLookupError:
            pass

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"


def nginx_available() -> str | None:
    """Path of an nginx executable, or None."""
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


class ProxySetup:
    """deploy/start.sh: K Streamlit processes behind nginx, started as one process group and stopped together."""

    START = REPO_ROOT / "deploy" / "start.sh"

    def __init__(
        self,
        processes: int,
        run_dir: Path,
        listen_port: int | None = None,
        app: str = "app.py",
        env: Mapping[str, str] | None = None,
    ):
        self.processes, self.run_dir, self.app, self.env = processes, Path(run_dir), app, dict(env or {})
        self.listen_port = listen_port or free_port()
        self.url = f"http://127.0.0.1:{self.listen_port}"
        self.proc: subprocess.Popen | None = None
        self.log = self.run_dir.parent / f"{self.run_dir.name}-start.log"

    def start(self, timeout: float = 180.0) -> None:
        env = {
            **os.environ,
            "PLAYGROUND_PROCESSES": str(self.processes),
            "PLAYGROUND_LISTEN_PORT": str(self.listen_port),
            "PLAYGROUND_LISTEN_ADDR": "127.0.0.1",
            "PLAYGROUND_BASE_PORT": str(free_port_range(self.processes)),
            "PLAYGROUND_RUN_DIR": str(self.run_dir),
            "PLAYGROUND_APP": self.app,
            "PYTHON": sys.executable,
            **self.env,
        }
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                ["bash", str(self.START)], cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while not (self.ready_file().exists() and health_ok(self.url)):
            if self.proc.poll() is not None:
                raise RuntimeError(f"deploy/start.sh exited with {self.proc.returncode}; output:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"deploy/start.sh not ready in {timeout:.0f} s; output:\n{self.log_tail()}")
            time.sleep(0.5)

    def ready_file(self) -> Path:
        return self.run_dir / "ready"

    def backend_pids(self) -> list[int]:
        """PIDs of the Streamlit processes (start.sh writes one streamlit-<port>.pid each)."""
        return [int(p.read_text().split()[0]) for p in sorted(self.run_dir.glob("streamlit-*.pid"))]

    def wait_replaced(self, old_pids: Sequence[int], timeout: float) -> list[int]:
        """Wait until start.sh has replaced every process in `old_pids` (server/recycle.py stops an idle one) and
        the new ones answer their health check; their PIDs. TimeoutError if that takes longer than `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            pids = self.backend_pids()
            if len(pids) == len(old_pids) and not set(pids) & set(old_pids):
                if all(health_ok(f"http://127.0.0.1:{port}") for port in self.backend_ports()):
                    return pids
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"deploy/start.sh exited; output:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the processes {list(old_pids)} were not all replaced in {timeout:.0f} s")
            time.sleep(1.0)

    def backend_ports(self) -> list[int]:
        return [int(p.stem.split("-")[1]) for p in sorted(self.run_dir.glob("streamlit-*.pid"))]

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM start.sh (it stops nginx and the servers), then SIGKILL its group if anything lingers."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)
            except ProcessLookupError:
                pass
        for pid in self.backend_pids():  # belt and braces: nothing of ours survives
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no output)"
