"""The worker processes (server/worker.py): the same numbers as the server's own threads, errors handed back, a killed
worker replaced, long runs in a queue of their own, and no worker left behind when the server's process dies."""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import runpy
import signal
import subprocess
import sys
import textwrap
import time
import types
from pathlib import Path

import numpy as np
import pytest

from compute import family, overfit, runs
from server import worker
from settings import controls

ROOT = Path(__file__).resolve().parents[2]
CASES = {
    "defaults": {},
    "momentum": {"lr": 0.3, "momentum": 0.5},
    "mini-batch": {"batch": "mini-batch", "batch_size": 8, "epochs": 20},
    "two features": {"dataset": "plane", "epochs": 30},
    "adam": {"optimizer": "adam", "lr": 0.1},
    "autograd by hand": {"method": "autograd"},
}


@pytest.fixture(autouse=True)
def workers_on(monkeypatch):
    monkeypatch.setenv(worker.ENV, "1")
    yield
    worker.shutdown()


class CountingLock:
    def __init__(self):
        self.entered = 0

    def __enter__(self):
        self.entered += 1

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("case", CASES)
def test_a_run_from_the_worker_equals_the_run_in_this_process(case):
    values = controls.defaults() | CASES[case]
    lock = CountingLock()
    there = worker.run(runs.compute, values, None, lock=lock)
    here = runs.compute(values)
    assert lock.entered == 0  # the worker's process takes no lock of this one
    assert worker.pids() and os.getpid() not in worker.pids()
    for name in ("params", "loss", "grads"):
        np.testing.assert_array_equal(getattr(there.history, name), getattr(here.history, name))
    assert there.history.diverged == here.history.diverged
    np.testing.assert_array_equal(there.surface.z, here.surface.z)
    assert there.lr_limit == here.lr_limit


def test_a_family_from_the_worker_equals_the_family_in_this_process():
    values = controls.defaults() | {"momentum": 0.3}
    there = worker.run(family.build, values, "lr", None)
    here = family.build(values, "lr")
    np.testing.assert_array_equal(there.sweep.params, here.sweep.params)
    assert there.labels == here.labels


def test_the_overfitting_pages_torch_work_comes_from_the_worker_with_the_same_numbers(monkeypatch):
    values = controls.defaults() | {"test_fraction": 0.25, "degree": 5, "weight_decay": 0.01, "seed": 4}
    lock = CountingLock()
    monkeypatch.setattr(overfit, "TRAIN_LOCK", lock)
    monkeypatch.setattr(overfit, "CACHE", type(overfit.CACHE)(10**8))  # nothing cached by another test
    result, degrees, curve = overfit.cached_fit(values), overfit.cached_degrees(values), overfit.cached_curve(values)
    assert lock.entered == 0 and worker.pids()  # computed in the worker's process, not under this one's lock
    here = overfit.fit(values)
    np.testing.assert_array_equal(result.history.params, here.history.params)
    np.testing.assert_array_equal(result.history.test_loss, here.history.test_loss)
    np.testing.assert_array_equal(result.optimum, here.optimum)
    np.testing.assert_array_equal(degrees.params, overfit.degree_sweep(values).params)
    for there_, here_ in zip(curve, overfit.curve(values), strict=True):
        np.testing.assert_array_equal(there_, here_)
    monkeypatch.setenv(worker.ENV, "0")  # workers off: the same, in this thread under the lock
    again = overfit.cached_fit(values | {"seed": 5})
    assert lock.entered == 1
    np.testing.assert_array_equal(again.history.params, overfit.fit(values | {"seed": 5}).history.params)


def test_the_engine_s_refusal_reaches_the_caller_as_the_same_error():
    values = controls.defaults() | {"batch": "single sample", "epochs": 5_000, "n": 100}
    worker.wait_ready(worker.start(long=True))
    with pytest.raises(ValueError, match="over the cap of 20,000 steps"):
        worker.run(runs.compute, values, None, long=True)


def test_long_runs_have_a_process_of_their_own():
    short = worker.run(os.getpid)
    worker.wait_ready(worker.start(long=True))
    long = worker.run(os.getpid, long=True)
    assert len({short, long, os.getpid()}) == 3
    assert sorted(worker.pids()) == sorted([short, long])


def test_until_the_worker_of_long_runs_is_up_they_run_here_under_the_lock():
    """A worker takes seconds to start: the first long run does not wait for it. It runs here,
    as before there were workers, and starts the worker for the next."""
    lock = CountingLock()
    assert worker.run(pid_under, lock=lock, long=True) == os.getpid()
    assert lock.entered == 1
    deadline = time.monotonic() + 60
    while not worker._ready("long") and time.monotonic() < deadline:
        time.sleep(0.05)
    there = worker.run(pid_under, lock=lock, long=True)
    assert there != os.getpid() and there in worker.pids() and lock.entered == 1


def test_planned_steps_route_runs_by_their_length():
    d = controls.defaults()
    assert runs.planned_steps(d) == d["epochs"]
    assert runs.planned_steps(d | {"batch": "single sample", "n": 100, "epochs": 11}) == 1_100
    assert runs.planned_steps(d | {"batch": "mini-batch", "batch_size": 8, "n": 30, "epochs": 10}) == 40
    assert runs.planned_steps(d | {"batch": "mini-batch", "batch_size": 64, "n": 30, "epochs": 10}) == 10


def test_only_runs_for_the_long_queue_get_a_spinner():
    from compute import cache

    d = controls.defaults()
    assert not cache.takes_long(d)
    assert cache.takes_long(d | {"batch": "single sample", "n": 100, "epochs": 11})


def test_a_worker_starts_and_runs_no_main_script_whatever_this_process_calls_main(tmp_path, monkeypatch):
    """Spawn would run the parent's __main__ file again in the worker. Streamlit's AppTest names a page's own file
    there (a page that itself calls for a worker: multiprocessing refuses, the worker dies at birth). The worker
    must start with no main script at all, and leave this process's __main__ as it was."""
    marker = tmp_path / "ran"
    script = tmp_path / "page.py"
    script.write_text(f"open({str(marker)!r}, 'w').close()\nraise SystemExit('a page is no worker')\n")
    page = types.ModuleType("__main__")
    page.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", page)
    worker.shutdown()
    pid = worker.run(pid_under)
    assert pid != os.getpid() and pid in worker.pids()  # in a worker, not here after a failed start
    assert not marker.exists()
    assert sys.modules["__main__"] is page


def pid_under(lock=None):
    """This process's pid, with `lock` held when given (in a worker it is None)."""
    with lock or contextlib.nullcontext():
        return os.getpid()


def echo(value, lock=None):
    return value


def test_a_call_cut_short_never_hands_its_answer_to_the_next_caller():
    first = worker.run(os.getpid)
    w = worker._workers["short"]

    def cut_short(*args, **kwargs):
        raise KeyboardInterrupt  # say, the server stopping while a call waits for its answer

    w.conn.recv_bytes = cut_short
    with pytest.raises(KeyboardInterrupt):
        worker.run(os.getpid)  # its answer (the pid) is left in the pipe
    del w.conn.recv_bytes
    assert worker.run(echo, "the next call") == "the next call"  # not the pid left in the pipe
    assert worker.run(os.getpid) not in (first, os.getpid())  # a fresh worker took over


def test_a_killed_worker_costs_one_run_in_this_process_then_a_new_worker_takes_over():
    values = controls.defaults()
    first = worker.run(os.getpid)
    os.kill(first, signal.SIGKILL)
    time.sleep(0.5)
    lock = CountingLock()
    result = worker.run(runs.compute, values, None, lock=lock)  # the broken pool: this call runs here
    assert lock.entered == 1
    np.testing.assert_array_equal(result.history.params, runs.compute(values).history.params)
    second = worker.run(os.getpid)
    assert second not in (first, os.getpid())


def no_more_processes(self):
    """multiprocessing's Process.start on a machine that can start no more processes."""
    raise OSError(11, "Resource temporarily unavailable")


def test_a_worker_that_cannot_start_leaves_the_runs_in_this_process(monkeypatch):
    monkeypatch.setattr(worker.multiprocessing.get_context("spawn").Process, "start", no_more_processes)
    worker.wait_ready(worker.start())  # app.py's warm-up: done in this process, logged, not raised
    assert worker.pids() == []
    lock = CountingLock()
    result = worker.run(runs.compute, controls.defaults(), None, lock=lock)
    assert lock.entered == 1 and result.history.steps == controls.defaults()["epochs"]
    failed = concurrent.futures.Future()
    failed.set_exception(EOFError("the worker died while it warmed up"))
    worker.wait_ready(failed)  # logged, not raised
    worker.wait_ready(None)


def test_with_workers_off_runs_stay_in_this_process_under_the_lock(monkeypatch):
    monkeypatch.setenv(worker.ENV, "0")
    lock = CountingLock()
    assert worker.run(lambda lock=None: os.getpid(), lock=lock) == os.getpid()
    assert worker.start() is None and worker.pids() == []
    worker.run(runs.compute, controls.defaults(), None, lock=lock)
    assert lock.entered == 1


def test_workers_end_when_the_server_s_process_is_killed(tmp_path):
    script = textwrap.dedent(
        """
        import os, sys, time
        sys.path.insert(0, sys.argv[1])
        from server import worker
        if __name__ == "__main__":
            worker.wait_ready(worker.start(long=True))
            print(worker.run(os.getpid), worker.run(os.getpid, long=True), flush=True)
            time.sleep(600)
        """
    )
    (tmp_path / "server.py").write_text(script)
    proc = subprocess.Popen([sys.executable, "server.py", str(ROOT)], cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    try:
        children = [int(pid) for pid in proc.stdout.readline().split()]
        assert len(children) == 2 and all(Path(f"/proc/{pid}").exists() for pid in children)
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in children)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited (nobody waits for it once its parent is gone)


def test_app_py_does_nothing_when_a_worker_imports_it():
    names = runpy.run_path(str(ROOT / "app.py"), run_name="__mp_main__")
    assert "st" not in names and "PAGES" not in names


def sleep_then_pid(seconds: float, lock=None) -> int:
    """Sleeps, then this process's pid: a task that hangs as far as a short timeout can tell."""
    import time

    time.sleep(seconds)
    return os.getpid()


def test_a_hung_worker_times_out_the_run_goes_here_and_a_fresh_worker_takes_over(monkeypatch):
    worker.shutdown()
    first = worker.run(pid_under)
    monkeypatch.setattr(worker, "CALL_TIMEOUT_S", 1.0)
    assert worker.run(sleep_then_pid, 3.0) == os.getpid()  # no answer within 1 s: run here instead
    assert first not in worker.pids()  # the stuck worker is gone
    monkeypatch.setattr(worker, "CALL_TIMEOUT_S", 120.0)
    fresh = worker.run(pid_under)
    assert fresh != os.getpid() and fresh != first


def test_a_busy_worker_is_kept_and_the_waiting_run_goes_here(monkeypatch):
    worker.shutdown()
    pid = worker.run(pid_under)
    w = worker._workers["short"]
    monkeypatch.setattr(worker, "CALL_TIMEOUT_S", 0.5)
    with w.lock:  # another student's call holds the worker
        assert worker.run(pid_under) == os.getpid()
    assert worker.run(pid_under) == pid  # the same worker, still there


def test_a_worker_s_start_up_data_names_no_main_script_and_this_process_s_main_is_left_alone(tmp_path, monkeypatch):
    """Streamlit's script runner writes sys.modules["__main__"] on every rerun: a worker starting meanwhile (from a
    student's thread) must not swap it and put an old one back. The worker's start-up data leaves the main script
    out instead; other processes' start-up data keeps it."""
    import multiprocessing.spawn

    script = tmp_path / "page.py"
    script.write_text("")
    page = types.ModuleType("__main__")
    page.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", page)
    ours = multiprocessing.spawn.get_preparation_data("playground-short-worker")
    other = multiprocessing.spawn.get_preparation_data("someone-else")
    assert "init_main_from_path" not in ours and "init_main_from_name" not in ours
    assert other.get("init_main_from_path") == str(script)
    assert sys.modules["__main__"] is page


def test_wait_ready_keeps_the_worker_in_place_when_a_warm_up_failed():
    import concurrent.futures

    worker.shutdown()
    pid = worker.run(pid_under)
    failed = concurrent.futures.Future()
    failed.set_exception(EOFError("an old warm-up's worker died"))
    assert worker.wait_ready(failed) is False
    assert worker.run(pid_under) == pid  # the healthy worker started since is still the one in use
