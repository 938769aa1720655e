"""The playground's torch work (its runs and its families of runs) in worker processes beside the server's.

Why: PyTorch lets go of the GIL around every operation it runs (about 1,400 times in a 60-step run) and must take
it back each time. While another student's script runs Python in the same process (its widgets, a figure), every
take-back waits for that script to let go, up to Python's switch interval (5 ms). Measured
(`python bench/bench_worker.py`): a 60-step run that takes 13-20 ms alone took 6.5-7 s beside one thread running
Python. In a process of its own a run has a GIL of its own; on a 2-core server it also runs on the second core
while the server's process answers the other students. With 30 students on one process, a move's p95 went from
194-215 ms to 114-148 ms (docs/performance.md, "The GIL and the worker").

Two queues, one process each: runs of up to LONG_STEPS updates, and longer ones, so that a short run never waits
behind another student's long one (the process-wide lock of compute/cache.py interleaved them by chunks; a queue of
their own does it without chunks). The worker of short runs starts with the server (app.py's warm-up); that of long runs
with the first long run, in the background: until it is up (about 2 s), long runs train in the server's thread under
the lock, as they did before there were workers (`python bench/bench_worker.py --first-long`). A task is a
module-level function of an importable module (not of a main script: a worker has none) and its arguments; both ways
they travel as plain pickles over a pipe (no shared-memory tensors: nothing depends on the size of /dev/shm). The
numbers are the same as in the server's process: the same code with the same torch settings
(tests/unit/test_worker.py, bit for bit). A worker ends when its pipe closes: when the server's process ends, is
killed or replaces itself (exec).

If a worker dies (killed for memory, say) or cannot start, the call runs in the server's thread instead, under the
lock, and the next call starts a fresh worker. Off (everything in the server's threads, as before) with
PLAYGROUND_WORKERS=0.

Multiprocessing starts the workers with "spawn" (a fresh interpreter; the server's threads make fork unsafe), with
no main script (spawn would import the parent's in each worker: see _without_main_script).
"""

from __future__ import annotations

import concurrent.futures
import logging
import multiprocessing
import multiprocessing.spawn
import os
import pickle
import threading
from collections.abc import Callable

LOG = logging.getLogger(__name__)  # stdlib logging, not Streamlit's: a worker imports this module and no Streamlit

ENV = "PLAYGROUND_WORKERS"  # "0": no worker processes
LONG_STEPS = 1_000  # runs with more updates than this (about 0.25 s) go to the queue of long runs
QUEUES = ("short", "long")
CALL_TIMEOUT_S = 120.0  # an answer later than this: the worker is stuck (the longest run allowed takes seconds)
INFRASTRUCTURE = (EOFError, OSError, TimeoutError)  # a worker that died, hung or could not start (not the task's)


class Busy(Exception):
    """The worker's queue did not free up within CALL_TIMEOUT_S: this call runs in the server's thread instead,
    and the worker, which may only be slow, is kept."""


def enabled() -> bool:
    return os.environ.get(ENV, "1").strip() != "0"


class Worker:
    """One process and the pipe to it: a call sends a pickled task and waits for the pickled answer, one call at a
    time (a lock queues the others, as the one process would).

    Not concurrent.futures.ProcessPoolExecutor: its calls pass through two threads of this process (its manager
    and its queue's feeder) and each hand-over waits for the GIL, which another student's script may hold for up to
    the switch interval. Here the calling thread writes to the pipe and waits on it itself: one wait for the GIL,
    when the answer is in (`python bench/bench_worker.py --round-trip`: the round trip beside threads running
    Python)."""

    def __init__(self, queue: str):
        context = multiprocessing.get_context("spawn")
        self.conn, theirs = context.Pipe()
        self.process = context.Process(target=_serve, args=(theirs,), name=f"{NAME}-{queue}-worker", daemon=True)
        try:
            self.process.start()
        finally:
            theirs.close()  # the worker's end lives in the worker only: it sees EOF once this process is gone
        self.lock = threading.Lock()
        self.ready = False  # it has answered a call (until then a long run goes in the server's thread, run())
        self.unread = False  # a call sent its task and did not read the answer (it was cut short)

    def call(self, payload: bytes, timeout: float | None = None) -> bytes:
        """The answer to one task; Busy when the calls before it held the worker past `timeout` (CALL_TIMEOUT_S by
        default), TimeoutError when its own answer did not come within it (the worker is then taken for stuck)."""
        timeout = CALL_TIMEOUT_S if timeout is None else timeout
        if not self.lock.acquire(timeout=timeout):
            raise Busy(f"the worker was busy for {timeout:g} s")
        try:
            if self.unread:  # that answer is still in the pipe: it must never reach another caller
                raise EOFError("an earlier call to this worker was cut short")
            self.unread = True
            self.conn.send_bytes(payload)
            if not self.conn.poll(timeout):
                raise TimeoutError(f"no answer from the worker within {timeout:g} s")
            answer = self.conn.recv_bytes()
            self.unread = False
            return answer
        finally:
            self.lock.release()

    def stop(self) -> None:
        self.conn.close()  # the worker reads EOF and ends
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


NAME = "playground"  # the workers' process names start with it


def _without_main_script(prepare: Callable) -> Callable:
    """multiprocessing.spawn.get_preparation_data, but with no main script for this module's workers.

    Spawn runs the parent's __main__ file again in the child (as __mp_main__). Under `streamlit run` that file is
    app.py, which does nothing under that name; but Streamlit's test harness, running one page's file on its own
    (AppTest.from_file("views/...")), names that page there, and a worker would run the page. The worker needs
    nothing from any main script (its task is a module-level function), so its start-up data names none. Set once
    at import: swapping sys.modules["__main__"] around a start instead raced with Streamlit's script runner, which
    writes the same slot on every rerun of every student's script."""

    def get_preparation_data(name: str) -> dict:
        data = prepare(name)
        if name.startswith(f"{NAME}-"):
            data.pop("init_main_from_path", None)
            data.pop("init_main_from_name", None)
        return data

    get_preparation_data.without_main_script = True
    return get_preparation_data


if not getattr(multiprocessing.spawn.get_preparation_data, "without_main_script", False):
    multiprocessing.spawn.get_preparation_data = _without_main_script(multiprocessing.spawn.get_preparation_data)


_workers: dict[str, Worker] = {}
_guard = threading.Lock()


def _serve(conn) -> None:
    """A worker's life: the server's torch settings (tiny tensors: one thread, as app.py sets), then task after
    task until the pipe closes (the server's process ended, was killed or replaced itself by an exec)."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    while True:
        try:
            payload = conn.recv_bytes()
        except (EOFError, OSError):
            return
        answer = _call(payload)
        try:
            conn.send_bytes(answer)
        except OSError:
            return


def _call(payload: bytes) -> bytes:
    """In the worker: run a pickled (function, args, kwargs) and pickle its result (or the exception it raised)."""
    try:
        fn, args, kwargs = pickle.loads(payload)
        return pickle.dumps((True, fn(*args, **kwargs)), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # noqa: BLE001 (handed back to the caller, who raises it)
        try:
            return pickle.dumps((False, exc), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 (an exception that cannot be pickled: its words still reach the caller)
            return pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")))


def _warm(lock=None) -> bool:
    """A worker's first task (start()): every training path once, so that no student's run pays for a first call."""
    import engine

    engine.warm_up()
    return True


def _worker(queue: str) -> Worker:
    with _guard:
        w = _workers.get(queue)
        if w is None:
            w = _workers[queue] = Worker(queue)
        return w


_FAILED = object()  # what _in_worker answers when the worker died or could not start


def _in_worker(queue: str, fn: Callable, args: tuple, kwargs: dict):
    """(ok, result or exception) of fn(*args, **kwargs) in the queue's worker (started now if there is none), or
    _FAILED when that worker died, hung or could not start (it is forgotten, and the next call starts a fresh one)
    or stayed busy with other calls too long (it is kept)."""
    payload = pickle.dumps((fn, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
    w = None
    try:
        w = _worker(queue)
        answer = pickle.loads(w.call(payload))
    except Busy as exc:
        LOG.warning("the %s-run worker is busy (%s): this run goes in the server's thread", queue, exc)
        return _FAILED
    except INFRASTRUCTURE as exc:
        _discard(queue, exc, w)
        return _FAILED
    w.ready = True  # it has answered once: up and warm
    return answer


_warming: dict[str, concurrent.futures.Future] = {}


def start(long: bool = False) -> concurrent.futures.Future | None:
    """Start a queue's worker and warm it up, in a thread; the future of that warm-up for wait_ready(), or None
    when workers are off. The queue of short runs starts with the server (app.py), so that the first student's run
    waits for neither. The queue of long runs starts the first time something is sent to it (run()): a worker takes
    a few seconds to start, and most sessions never need one (~350 MB)."""
    if not enabled():
        return None
    queue = QUEUES[bool(long)]
    with _guard:
        warming = _warming.get(queue)
        if warming is not None:
            return warming  # on its way already
        warming = _warming[queue] = concurrent.futures.Future()

    def warm() -> None:
        try:
            warming.set_result(_in_worker(queue, _warm, (), {}) is not _FAILED)
        except BaseException as exc:  # noqa: BLE001 (wait_ready() decides what to do with it)
            warming.set_exception(exc)
        finally:
            with _guard:
                _warming.pop(queue, None)

    threading.Thread(target=warm, name=f"{queue}-worker-warm-up", daemon=True).start()
    return warming


def wait_ready(warming: concurrent.futures.Future | None) -> bool:
    """Wait for start()'s warm-up; whether the worker is up. One that could not start was logged and forgotten by
    _in_worker() already (runs go in the server's threads, and the next one tries a fresh worker): nothing is
    discarded here, where the worker now in place may be a healthy one another thread started."""
    if warming is None:
        return False
    try:
        return bool(warming.result())
    except Exception as exc:  # noqa: BLE001 (the warm-up's own failure: logged, the page still works)
        LOG.warning("the worker's warm-up failed (%r): runs go in the server's thread", exc)
        return False


def _ready(queue: str) -> bool:
    with _guard:
        w = _workers.get(queue)
    return w is not None and w.ready


def _discard(queue: str, exc: BaseException, failed: Worker | None = None) -> None:
    """Forget the queue's worker (`failed`, if given: not a fresh one another thread started meanwhile)."""
    LOG.warning("the %s-run worker failed (%r): runs go in the server's thread until a fresh one starts", queue, exc)
    with _guard:
        w = _workers.get(queue)
        if w is not None and failed in (None, w):
            del _workers[queue]
        else:
            w = None
    if w is not None:
        threading.Thread(target=w.stop, name="worker-stop", daemon=True).start()


def run(fn: Callable, *args, lock=None, long: bool = False, **kwargs):
    """fn(*args, **kwargs) in a worker process (the queue of long runs if `long`), its result or its exception.
    In the server's thread instead, as fn(*args, lock=lock, **kwargs), when workers are off or the worker failed,
    and for the queue of long runs while its worker starts (started by the first call: that call and any other
    before the worker is up run here, as they did before there were workers, rather than wait seconds for it)."""
    if enabled():
        queue = QUEUES[bool(long)]
        if long and not _ready(queue):
            start(long=True)
        else:
            answer = _in_worker(queue, fn, args, kwargs)
            if answer is not _FAILED:
                ok, value = answer
                if ok:
                    return value
                raise value
    return fn(*args, lock=lock, **kwargs)


def pids() -> list[int]:
    """The worker processes running now (for tests and the load tool's memory and CPU figures)."""
    with _guard:
        workers = list(_workers.values())
    return [w.process.pid for w in workers if w.process.is_alive()]


def shutdown() -> None:
    """Stop every worker (tests; a process about to exec itself anew does not need it: the workers see their pipe
    close and exit)."""
    with _guard:
        workers = list(_workers.values())
        _workers.clear()
    for w in workers:
        with w.lock:  # after the call under way, if any
            w.stop()
