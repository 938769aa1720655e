"""The playground's torch work (its runs and its families of runs) in worker processes beside the server's.

Why: PyTorch lets go of the GIL around every operation it runs (about 1,400 times in a 60-step run) and must take
it back each time. While another student's script runs Python in the same process (its widgets, a figure), every
take-back waits for that script to let go, up to Python's switch interval (5 ms). Measured
(`python bench/bench_worker.py`): a 60-step run that takes 13-20 ms alone took 6.5-7 s beside one thread running
Python. In a process of its own a run has a GIL of its own; on a 2-core server it also runs on the second core
while the server's process answers the other students. With 30 students on one process, a move's p95 went from
194-215 ms to 114-148 ms (deploy/README.md).

Two queues, one process each: runs of up to LONG_STEPS updates, and longer ones, so that a short run never waits
behind another student's long one (the process-wide lock of ui/cache.py interleaved them by chunks; a queue of
their own does it without chunks). A task is a module-level function and its arguments; both ways they travel as
plain pickles (no shared-memory tensors: nothing depends on the size of /dev/shm). The numbers are the same as in
the server's process: the same code with the same torch settings (tests/unit/test_worker.py, bit for bit).

If a worker dies (killed for memory, say) or cannot start, the call runs in the server's thread instead, under the
lock, and the next call starts a fresh worker. Off (everything in the server's threads, as before) with
PLAYGROUND_WORKERS=0.

Multiprocessing starts the workers with "spawn" (a fresh interpreter; the server's threads make fork unsafe). Spawn
imports the main script of the parent in each worker as `__mp_main__`: under Streamlit that is app.py, which does
nothing when imported under that name.
"""

from __future__ import annotations

import concurrent.futures
import logging
import multiprocessing
import multiprocessing.connection
import os
import pickle
import threading
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool

LOG = logging.getLogger(__name__)  # stdlib logging, not Streamlit's: a worker imports this module and no Streamlit

ENV = "PLAYGROUND_WORKERS"  # "0": no worker processes
LONG_STEPS = 1_000  # runs with more updates than this (about 0.25 s) go to the queue of long runs
QUEUES = ("short", "long")
INFRASTRUCTURE = (BrokenProcessPool, OSError)  # a worker that died or could not start (not the task's own error)
_pools: dict[str, concurrent.futures.ProcessPoolExecutor] = {}
_guard = threading.Lock()


def enabled() -> bool:
    return os.environ.get(ENV, "1").strip() != "0"


def _init() -> None:
    """A worker's set-up: the server's torch settings (tiny tensors: one thread, as app.py sets), and a thread that
    ends the worker when the server's process is gone (killed, or replaced by an exec): a worker never sees its
    task queue close, since it holds both ends of it."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent.sentinel,), name="exit-with-server", daemon=True).start()


def _exit_with(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(0)


def _call(payload: bytes) -> bytes:
    """In the worker: run a pickled (function, args, kwargs) and pickle its result (or the exception it raised)."""
    fn, args, kwargs = pickle.loads(payload)
    try:
        return pickle.dumps((True, fn(*args, **kwargs)), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # noqa: BLE001 (handed back to the caller, who raises it)
        try:
            return pickle.dumps((False, exc), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 (an exception that cannot be pickled: its words still reach the caller)
            return pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")))


def _warm() -> bool:
    import engine

    engine.warm_up()
    return True


def _pool(queue: str) -> concurrent.futures.ProcessPoolExecutor:
    with _guard:
        pool = _pools.get(queue)
        if pool is None:
            context = multiprocessing.get_context("spawn")
            pool = _pools[queue] = concurrent.futures.ProcessPoolExecutor(1, mp_context=context, initializer=_init)
        return pool


def start() -> concurrent.futures.Future | None:
    """Start the queue of short runs and warm its worker up (the first student's run then waits for neither);
    the future of that warm-up for wait_ready(), or None when workers are off or cannot start."""
    if not enabled():
        return None
    try:
        return _pool("short").submit(_call, pickle.dumps((_warm, (), {})))
    except INFRASTRUCTURE as exc:
        _discard("short", exc)
        return None


def wait_ready(warming: concurrent.futures.Future | None) -> None:
    """Wait for start()'s warm-up. A worker that could not start is logged, not raised: runs then go in the
    server's threads, and the next one tries a fresh worker."""
    if warming is not None:
        try:
            warming.result()
        except INFRASTRUCTURE as exc:
            _discard("short", exc)


def _discard(queue: str, exc: BaseException, failed: concurrent.futures.ProcessPoolExecutor | None = None) -> None:
    """Forget the queue's worker (`failed`, if given: not a fresh one another thread started meanwhile)."""
    LOG.warning("the %s-run worker failed (%r): runs go in the server's thread until a fresh one starts", queue, exc)
    with _guard:
        pool = _pools.get(queue)
        if pool is not None and failed in (None, pool):
            del _pools[queue]
        else:
            pool = None
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


def run(fn: Callable, *args, lock=None, long: bool = False, **kwargs):
    """fn(*args, **kwargs) in a worker process (the queue of long runs if `long`), its result or its exception.
    In the server's thread instead, as fn(*args, lock=lock, **kwargs), when workers are off or the worker failed."""
    if enabled():
        queue = QUEUES[bool(long)]
        payload = pickle.dumps((fn, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        pool = None
        try:
            pool = _pool(queue)
            ok, value = pickle.loads(pool.submit(_call, payload).result())
        except INFRASTRUCTURE as exc:
            _discard(queue, exc, pool)
        else:
            if ok:
                return value
            raise value
    return fn(*args, lock=lock, **kwargs)


def pids() -> list[int]:
    """The worker processes running now (for tests and the load tool's memory and CPU figures)."""
    with _guard:
        pools = list(_pools.values())
    return [p.pid for pool in pools for p in (getattr(pool, "_processes", None) or {}).values()]


def shutdown() -> None:
    """Stop every worker (tests; a process about to exec itself anew does not need it: the workers see their pipe
    close and exit)."""
    with _guard:
        pools = list(_pools.items())
        _pools.clear()
    for _, pool in pools:
        pool.shutdown(wait=True, cancel_futures=True)
