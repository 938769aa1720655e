"""server/recycle.py: when a classroom server's process stops itself so that a fresh one gives the memory back.

The decision is tested with a fake clock, session count and memory; the real thing (a process under deploy/start.sh
that is replaced after a class) is tested in tests/load/test_deploy.py.
"""

from __future__ import annotations

import importlib.util
import math
import threading
from pathlib import Path

import pytest

from server import recycle
from server.recycle import Policy, Watcher

MB = 1_000_000
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"PLAYGROUND_RECYCLE_IDLE_S": ""}, None),
        ({"PLAYGROUND_RECYCLE_IDLE_S": "0"}, None),
        ({"PLAYGROUND_RECYCLE_IDLE_S": "0.0"}, None),
        ({"PLAYGROUND_RECYCLE_IDLE_S": "300"}, Policy(300.0, 16.0)),
        ({"PLAYGROUND_RECYCLE_IDLE_S": " 120 ", "PLAYGROUND_RECYCLE_GROWTH_MB": "50"}, Policy(120.0, 50.0)),
        ({"PLAYGROUND_RECYCLE_IDLE_S": "60", "PLAYGROUND_RECYCLE_GROWTH_MB": "0"}, Policy(60.0, 0.0)),
        # malformed: off, never a crash (a typo in a deployment must not take the server down)
        ({"PLAYGROUND_RECYCLE_IDLE_S": "five minutes"}, None),
        ({"PLAYGROUND_RECYCLE_IDLE_S": "-5"}, None),
        ({"PLAYGROUND_RECYCLE_IDLE_S": "inf"}, None),
        ({"PLAYGROUND_RECYCLE_IDLE_S": "nan"}, None),
        ({"PLAYGROUND_RECYCLE_IDLE_S": "60", "PLAYGROUND_RECYCLE_GROWTH_MB": "lots"}, None),
        ({"PLAYGROUND_RECYCLE_IDLE_S": "60", "PLAYGROUND_RECYCLE_GROWTH_MB": "-1"}, None),
    ],
)
def test_the_policy_comes_from_the_environment_and_anything_malformed_turns_it_off(env, expected):
    assert recycle.policy_from_env(env) == expected


def test_the_check_interval_is_a_fraction_of_the_idle_time_within_bounds():
    assert Policy(300).poll_s == 5.0
    assert Policy(8).poll_s == 2.0
    assert Policy(1).poll_s == 0.5


class Fake:
    """A clock, a number of connected sessions and a resident memory, set by the test."""

    def __init__(self, rss: int = 400 * MB):
        self.now, self.sessions, self.memory = 0.0, 0, rss

    def watcher(self, idle_s: float = 60, growth_mb: float = 16) -> Watcher:
        return Watcher(Policy(idle_s, growth_mb), lambda: self.sessions, lambda: self.memory, lambda: self.now)


def test_it_stops_only_after_the_idle_time_with_nobody_connected_and_memory_grown():
    fake = Fake()
    watcher = fake.watcher(idle_s=60, growth_mb=16)
    assert watcher.baseline == 400 * MB
    fake.sessions, fake.memory = 30, 520 * MB  # a class
    for t in range(0, 600, 5):
        fake.now = t
        assert not watcher.due()
    fake.sessions = 0  # the class has left at t = 600
    fake.now = 600
    assert not watcher.due()
    fake.now = 659.9
    assert not watcher.due()
    fake.now = 660
    assert watcher.due()
    assert watcher.growth_mb() == pytest.approx(120)


def test_a_student_who_connects_during_the_wait_starts_it_again():
    fake = Fake()
    watcher = fake.watcher(idle_s=60)
    fake.memory = 500 * MB
    fake.now = 0
    assert not watcher.due()
    fake.now, fake.sessions = 50, 1  # one student comes back
    assert not watcher.due()
    fake.now, fake.sessions = 70, 0
    assert not watcher.due()  # 20 s idle, not 70
    fake.now = 129.9
    assert not watcher.due()
    fake.now = 130
    assert watcher.due()


def test_a_process_whose_memory_did_not_grow_is_left_alone_however_long_it_idles():
    fake = Fake()
    watcher = fake.watcher(idle_s=60, growth_mb=16)
    fake.memory = 400 * MB + 15 * MB  # a few page loads, no class
    for t in range(0, 10_000, 5):
        fake.now = t
        assert not watcher.due()
    fake.memory = 400 * MB + 16 * MB
    assert watcher.due()


def test_what_cannot_be_read_never_stops_the_process():
    fake = Fake()
    unknown_sessions = Watcher(Policy(1, 0), lambda: None, lambda: fake.memory, lambda: fake.now)
    unknown_memory = Watcher(Policy(1, 0), lambda: 0, lambda: None, lambda: fake.now)
    for t in range(100):
        fake.now = t
        assert not unknown_sessions.due()
        assert not unknown_memory.due()
    assert unknown_memory.growth_mb() is None


def test_process_memory_is_read_from_proc_and_sessions_need_a_running_server():
    rss = recycle.process_rss()
    assert rss is not None and 20 * MB < rss < 64_000 * MB and math.isfinite(rss)
    assert recycle.connected_sessions() is None  # no Streamlit server in this test process


def test_start_does_nothing_unless_asked_and_outside_a_server_it_stays_off():
    stopped = threading.Event()
    assert recycle.start({}, stop=stopped.set) is None
    assert recycle.start({"PLAYGROUND_RECYCLE_IDLE_S": "1"}, stop=stopped.set) is None  # no server: cannot count
    assert not stopped.is_set()


def test_start_runs_the_watch_in_a_thread_that_stops_the_process_when_due(monkeypatch):
    sessions = [3]
    memory = [400 * MB]
    monkeypatch.setattr(recycle, "connected_sessions", lambda: sessions[0])
    monkeypatch.setattr(recycle, "process_rss", lambda: memory[0])
    stopped = threading.Event()
    thread = recycle.start({"PLAYGROUND_RECYCLE_IDLE_S": "0.2", "PLAYGROUND_RECYCLE_GROWTH_MB": "10"}, stop=stopped.set)
    assert thread is not None and thread.daemon
    assert recycle.start({"PLAYGROUND_RECYCLE_IDLE_S": "0.2"}, stop=stopped.set) is thread  # one per process
    assert not stopped.wait(1.2)  # students connected
    sessions[0] = 0
    assert not stopped.wait(1.2)  # idle, but no growth
    memory[0] = 450 * MB
    assert stopped.wait(5)
    thread.join(2)
    assert not thread.is_alive()


def test_with_a_restart_command_the_process_replaces_itself_in_place(monkeypatch):
    """scripts/serve.py sets recycle.restart_command: when due, the process execs it (same PID, fresh memory)."""
    calls = []
    monkeypatch.setattr(recycle, "restart_command", ["/usr/bin/python3", "/srv/scripts/serve.py", "--x"])
    monkeypatch.setattr(recycle.os, "execv", lambda path, argv: calls.append((path, argv)))
    closed_on_exec = []  # recorded, not done: this test process keeps its descriptors as they are
    monkeypatch.setattr(recycle.os, "set_inheritable", lambda fd, flag: closed_on_exec.append((fd, flag)))
    monkeypatch.setattr(recycle, "_watching", None)
    monkeypatch.setattr(recycle, "connected_sessions", lambda: 0)
    memory = [400 * MB]
    monkeypatch.setattr(recycle, "process_rss", lambda: memory[0])
    thread = recycle.start({"PLAYGROUND_RECYCLE_IDLE_S": "0.1", "PLAYGROUND_RECYCLE_GROWTH_MB": "10"})
    assert thread is not None
    memory[0] = 450 * MB
    thread.join(5)
    assert calls == [("/usr/bin/python3", ["/usr/bin/python3", "/srv/scripts/serve.py", "--x"])]
    assert closed_on_exec and all(fd > 2 and flag is False for fd, flag in closed_on_exec)


def load_serve_script():
    spec = importlib.util.spec_from_file_location("serve_script", ROOT / "scripts" / "serve.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # imports torch and the app's packages; starts nothing
    return module


@pytest.mark.parametrize(
    ("args", "env", "idle", "rest"),
    [
        ([], {}, "300", []),
        (["--server.port", "8600"], {"PLAYGROUND_RECYCLE_IDLE_S": "60"}, "60", ["--server.port", "8600"]),
        (["--recycle-idle", "0", "--server.port", "8600"], {}, "0", ["--server.port", "8600"]),
        (["--server.headless", "true", "--recycle-idle=120"], {}, "120", ["--server.headless", "true"]),
    ],
)
def test_serve_takes_its_own_option_and_passes_the_rest_to_streamlit(monkeypatch, args, env, idle, rest):
    serve = load_serve_script()
    monkeypatch.delenv("PLAYGROUND_RECYCLE_IDLE_S", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert serve.take_recycle_idle(args) == (idle, rest)


@pytest.mark.parametrize(("idle", "ok"), [("300", True), ("0", True), ("0.0", True), ("abc", False), ("-1", False)])
def test_serve_accepts_a_number_of_seconds_or_zero(idle, ok):
    assert load_serve_script().valid_idle(idle) is ok


def test_a_restart_that_cannot_exec_leaves_the_server_running(monkeypatch):
    def fail(path, argv):
        raise FileNotFoundError(path)

    monkeypatch.setattr(recycle, "restart_command", ["/gone/python3", "/srv/scripts/serve.py"])
    monkeypatch.setattr(recycle.os, "execv", fail)
    monkeypatch.setattr(recycle.os, "set_inheritable", lambda fd, flag: None)
    monkeypatch.setattr(recycle, "_watching", None)
    monkeypatch.setattr(recycle, "connected_sessions", lambda: 0)
    memory = [400 * MB]
    monkeypatch.setattr(recycle, "process_rss", lambda: memory[0])
    escaped = []
    monkeypatch.setattr(threading, "excepthook", escaped.append)
    thread = recycle.start({"PLAYGROUND_RECYCLE_IDLE_S": "0.1", "PLAYGROUND_RECYCLE_GROWTH_MB": "10"})
    memory[0] = 450 * MB
    thread.join(5)
    assert not thread.is_alive()
    assert escaped == []  # the error was logged in the thread; no traceback escaped it


def test_under_uvicorn_the_server_is_told_to_exit_so_the_process_ends_with_status_0(monkeypatch):
    # app.py is an st.App: uvicorn's SIGTERM handler would shut down and raise the signal again (status 143, a crash
    # to deploy/start.sh); its server's should_exit shuts it down the same way and the process returns normally
    import signal

    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app=None))
    killed = []
    monkeypatch.setattr(recycle.os, "kill", lambda pid, sig: killed.append(sig))
    previous = signal.signal(signal.SIGTERM, server.handle_exit)
    try:
        recycle.stop_process()
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert server.should_exit and not killed and not server._captured_signals
    recycle.stop_process()  # any other handler: the signal itself
    assert killed == [signal.SIGTERM]
