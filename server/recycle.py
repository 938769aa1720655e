"""Give a classroom server's memory back after a class: a process that no student has been connected to for a while,
and that has grown since its start, stops itself; its supervisor (deploy/start.sh, Kubernetes) starts a fresh one.

Why a fresh process: after a class, about 80-90 MB stay on top of the warmed-up baseline. None of it is a leak
(tracemalloc finds nothing of a closed session): a third is the bounded caches, the rest memory that CPython's and
the C library's allocators keep in partly used pages. Emptying the caches and calling malloc_trim gave back a third
of it; another allocator (jemalloc) gave back nothing more (bench/load_test.py --recycle-probe). So this is the
worker-recycling of gunicorn's max_requests or Celery's max_memory_per_child, done only when nobody is connected.
Nothing a student cares about is lost: the URL holds every run, so a later visit shows the same run (the restart
test in tests/load/test_deploy.py).

It is on only where something starts the process again: deploy/start.sh and the Kubernetes manifest set
PLAYGROUND_RECYCLE_IDLE_S and restart a process that stopped; scripts/serve.py sets it too and sets
`restart_command`, so that the process replaces itself in place (exec: same PID, its port opened again by the new
image once warm). A plain `streamlit run app.py` never stops on its own.

    PLAYGROUND_RECYCLE_IDLE_S     seconds without a connected session before the process stops (unset or 0: off)
    PLAYGROUND_RECYCLE_GROWTH_MB  only when its memory grew at least this much since the start (default 16)
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from streamlit.logger import get_logger

LOG = get_logger(__name__)  # Streamlit's handler and level: the lines land in the server's log

ENV_IDLE = "PLAYGROUND_RECYCLE_IDLE_S"
ENV_GROWTH = "PLAYGROUND_RECYCLE_GROWTH_MB"
# scripts/serve.py's own command line (absolute paths): set, the process execs it instead of stopping
restart_command: list[str] | None = None
_watching: threading.Thread | None = None  # the one watcher thread of this process, once started
DEFAULT_GROWTH_MB = 16.0  # above what a fresh process gains from its first page loads (~10 MB, measured)


@dataclass(frozen=True)
class Policy:
    """When to stop: `idle_s` seconds with no session connected, and the RSS `growth_mb` above the baseline."""

    idle_s: float
    growth_mb: float = DEFAULT_GROWTH_MB

    @property
    def poll_s(self) -> float:
        return max(0.5, min(5.0, self.idle_s / 4))


def policy_from_env(env: Mapping[str, str]) -> Policy | None:
    """The policy the environment asks for; None when it is off or malformed (a warning in the server log says
    which value was wrong: a typo in a deployment must not stop the server, and off is the safe reading)."""
    raw_idle = env.get(ENV_IDLE, "").strip()
    if not raw_idle:
        return None
    raw_growth = env.get(ENV_GROWTH, "").strip() or str(DEFAULT_GROWTH_MB)
    try:
        idle, growth = float(raw_idle), float(raw_growth)
    except ValueError:
        LOG.warning("recycling off: %s=%r or %s=%r is not a number", ENV_IDLE, raw_idle, ENV_GROWTH, raw_growth)
        return None
    if idle == 0:
        return None
    if not (math.isfinite(idle) and idle > 0 and math.isfinite(growth) and growth >= 0):
        LOG.warning("recycling off: %s must be > 0 and %s >= 0 (got %r, %r)", ENV_IDLE, ENV_GROWTH, idle, growth)
        return None
    return Policy(idle, growth)


class Watcher:
    """Decides, one check at a time, when the process should stop. The baseline is the RSS when it is made (after
    the app's warm-up); `sessions` and `rss` may return None when they cannot tell, which never stops anything."""

    def __init__(
        self,
        policy: Policy,
        sessions: Callable[[], int | None],
        rss: Callable[[], int | None],
        clock: Callable[[], float] = time.monotonic,
    ):
        self.policy, self._sessions, self._rss, self._clock = policy, sessions, rss, clock
        self.baseline = rss()
        self.idle_since: float | None = None

    def due(self) -> bool:
        """True when no session has been connected for policy.idle_s seconds and memory grew policy.growth_mb."""
        now, connected = self._clock(), self._sessions()
        if connected is None or connected > 0:
            self.idle_since = None
            return False
        if self.idle_since is None:
            self.idle_since = now
        if now - self.idle_since < self.policy.idle_s:
            return False
        grown = self.growth_mb()
        return grown is not None and grown >= self.policy.growth_mb

    def growth_mb(self) -> float | None:
        rss = self._rss()
        return None if rss is None or self.baseline is None else (rss - self.baseline) / 1e6


def process_rss() -> int | None:
    """This process's resident memory in bytes (Linux /proc); None elsewhere."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def connected_sessions() -> int | None:
    """Sessions with an open websocket in this Streamlit server: the `active_sessions` gauge that Streamlit also
    serves at /_stcore/metrics. None outside a running server or if Streamlit stops publishing it."""
    from server import compat

    if not compat.tested():  # an internal API of the tested releases only: never recycle on a guess
        return None
    try:
        from streamlit.runtime import Runtime

        stats = Runtime.instance().stats_mgr.get_stats(["active_sessions"])
        return int(sum(stat.value for stat in stats["active_sessions"]))
    except Exception:  # noqa: BLE001 (an internal API changed: never recycle rather than ever break a page)
        return None


def stop_process() -> None:
    """Stop the server as SIGTERM would, but so that the process exits with status 0 ("stopped itself"). app.py is an
    st.App, served by uvicorn, whose SIGTERM handler (Server.handle_exit) shuts the server down and then raises the
    signal again, ending the process with status 143 as a crash would: its server is told to exit directly instead.
    Any other handler (Streamlit's own server) gets the signal."""
    server = getattr(signal.getsignal(signal.SIGTERM), "__self__", None)
    if server is not None and hasattr(server, "should_exit"):
        server.should_exit = True  # uvicorn's main loop looks at it every 0.1 s
        return
    os.kill(os.getpid(), signal.SIGTERM)


def restart_in_place() -> None:
    """Replace this process with a fresh run of `restart_command`: the same PID, nothing of the old memory. Every
    descriptor but stdin, stdout and stderr is closed by the exec (Streamlit marks its listening socket inheritable,
    for uvicorn's workers), so the new image can open the port again once it is warm."""
    assert restart_command, "restart_command is not set"
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError, ValueError):
            if int(name) > 2:
                os.set_inheritable(int(name), False)
    os.execv(restart_command[0], restart_command)


def start(env: Mapping[str, str] | None = None, stop: Callable[[], None] | None = None) -> threading.Thread | None:
    """Watch this process in a daemon thread when the environment turns recycling on; the thread, or None. One
    thread per process: a second call while it runs (a cleared st.cache_resource reruns the warm-up) returns it."""
    global _watching
    if _watching is not None and _watching.is_alive():
        return _watching
    policy = policy_from_env(os.environ if env is None else env)
    if policy is None:
        return None
    if process_rss() is None or connected_sessions() is None:
        LOG.warning("recycling off: this server's memory or its sessions cannot be read here")
        return None
    watcher = Watcher(policy, connected_sessions, process_rss)
    if stop is None:
        stop = restart_in_place if restart_command else stop_process
    how = "restarting in place" if stop is restart_in_place else "stopping so a fresh process takes over"

    def watch() -> None:
        while not watcher.due():
            time.sleep(policy.poll_s)
        grown = watcher.growth_mb() or 0.0
        LOG.warning("recycling: no session for %.0f s and %.0f MB over the start; %s", policy.idle_s, grown, how)
        try:
            stop()
        except OSError as exc:  # an exec that cannot start (the interpreter moved): keep serving as before
            LOG.error("recycling off: %s failed: %s", how, exc)

    thread = _watching = threading.Thread(target=watch, name="playground-recycle", daemon=True)
    thread.start()
    LOG.info("recycling on: %s, baseline %.0f MB", policy, (watcher.baseline or 0) / 1e6)
    return thread
