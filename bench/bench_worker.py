"""Why the playground trains in a worker process (server/worker.py): a run beside a thread that runs Python.

    python bench/bench_worker.py               # the default run (60 steps), 7 repeats
    python bench/bench_worker.py --repeats 3 --busy 0.4
    python bench/bench_worker.py --round-trip  # a call's round trip: server/worker.py's pipe against a process pool
    python bench/bench_worker.py --first-long  # a process's first long run, while the worker of long runs starts
    python bench/bench_worker.py --overfit     # the Overfitting page's fit player, new values each time

PyTorch lets go of the GIL around every operation and takes it back after; while another thread of the same process
runs Python (in a server: another student's script), each take-back waits up to the switch interval (5 ms). This
times the playground's default run (ui/runs.compute: training, the loss surface, the stability facts):

- alone, in this process (the baseline);
- in this process, beside a thread that runs Python all the time (`--busy 1`, the worst case) or part of the time
  (`--busy 0.4`: 2 ms of Python, then 3 ms asleep, over and over);
- in the worker process (ui/worker.run), beside the same thread.

It prints medians and their ratio to the baseline, so a noisy shared machine still gives comparable numbers.

With --round-trip it times a call that computes nothing and answers 35 kB (the size of a pickled run), through
server/worker.py's own pipe and through concurrent.futures.ProcessPoolExecutor (the baseline: what server/worker.py used
before), alone and beside the busy thread: a pool's call passes through two more threads of this process, and each
hand-over waits for the GIL.

With --first-long it times the first runs of more than 1,000 updates of a fresh process (the short-run worker
started and warm, as after the app's warm-up), against the same run in this process (the baseline): the worker of
long runs starts with the first of them, and until it is up they run here rather than wait for it.

With --overfit it times the Overfitting page's work for its fit player on values no cache holds (a new seed each
time: its run, its degree sweep, its weight-decay family, the curve's features, the payload;
compute/overfit.cached_player at test fraction 0.25, degree 3), with the workers off (PLAYGROUND_WORKERS=0: the
server's thread) and on, alone and beside the busy thread.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import multiprocessing
import os
import statistics
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from compute import runs
from server import worker
from settings import controls

torch.set_num_threads(1)


class Busy:
    """A thread that runs Python for `share` of every 5 ms (all the time when share is 1)."""

    def __init__(self, share: float):
        self.share, self.stop = share, threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def loop(self) -> None:
        period = 0.005
        while not self.stop.is_set():
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < self.share * period:
                sum(i * i for i in range(200))
            if self.share < 1:
                time.sleep((1 - self.share) * period)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def compare(title: str, here, there, names: tuple[str, str], repeats: int, busy: float) -> None:
    """Time here() and there() (each called three times first) alone and beside the busy thread; print the medians
    and their ratios to here() alone."""
    for _ in range(3):
        here()
        there()
    rows = [(f"{names[0]}, alone", median_time(here, repeats)), (f"{names[1]}, alone", median_time(there, repeats))]
    with Busy(busy):
        rows.append((f"{names[0]}, beside Python {busy:.0%} of the time", median_time(here, repeats)))
        rows.append((f"{names[1]}, beside Python {busy:.0%} of the time", median_time(there, repeats)))
    base = rows[0][1]
    print(f"{title}, median of {repeats}")
    for name, t in rows:
        print(f"  {name:<56} {t * 1e3:9.2f} ms  {t / base:7.2f}x")


ANSWER_BYTES = 35_000  # a pickled RunResult of the default run


def round_trip(repeats: int, busy: float) -> None:
    pool = concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))

    def by_pool() -> None:
        pool.submit(bytes, ANSWER_BYTES).result()

    def by_pipe() -> None:
        worker.run(bytes, ANSWER_BYTES)

    names = ("a process pool", "server/worker.py's pipe")
    compare(f"a call that answers {ANSWER_BYTES:,} bytes", by_pool, by_pipe, names, repeats, busy)
    pool.shutdown()
    worker.shutdown()


def first_long(count: int = 3, pause: float = 4.0) -> None:
    values = controls.defaults() | {"batch": "single sample", "n": 100, "epochs": 11}  # 1,100 updates
    worker.wait_ready(worker.start())
    runs.compute(values | {"seed": 99})  # this process warmed up for this kind of run, as a server is
    t0 = time.perf_counter()
    runs.compute(values)
    base = time.perf_counter() - t0
    print(f"a run of {runs.planned_steps(values):,} updates; the worker of long runs not started yet")
    print(f"  {'in this process (the baseline)':<48} {base * 1e3:9.1f} ms  {1.0:7.2f}x")
    lock = threading.Lock()
    for k in range(count):
        where = "in the worker" if worker._ready("long") else "here: the worker is starting"
        t0 = time.perf_counter()
        worker.run(runs.compute, values | {"seed": k + 1}, None, lock=lock, long=True)
        t = time.perf_counter() - t0
        print(f"  {f'long run {k + 1}, {where}':<48} {t * 1e3:9.1f} ms  {t / base:7.2f}x")
        time.sleep(pause)
    worker.shutdown()


def overfit_player(repeats: int, busy: float) -> None:
    from compute import overfit

    seeds = iter(range(1_000, 100_000))
    values = controls.defaults() | {"test_fraction": 0.25, "degree": 3}

    def player(workers: str):
        def call() -> None:
            os.environ[worker.ENV] = workers
            overfit.cached_player(values | {"seed": next(seeds)}, {})

        return call

    worker.wait_ready(worker.start())
    title = "the Overfitting page's fit player on new values"
    compare(title, player("0"), player("1"), ("in this process", "in the worker"), repeats, busy)
    worker.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--busy", type=float, default=1.0, help="share of the time the other thread runs Python")
    parser.add_argument("--round-trip", action="store_true", help="time a call's round trip, not a run")
    parser.add_argument("--first-long", action="store_true", help="a fresh process's first long runs")
    parser.add_argument("--overfit", action="store_true", help="the Overfitting page's fit player, new values")
    args = parser.parse_args()
    if args.overfit:
        overfit_player(args.repeats, args.busy)
        return
    if args.first_long:
        first_long()
        return
    if args.round_trip:
        round_trip(max(args.repeats, 50), args.busy)
        return
    values = controls.defaults()

    def here() -> None:
        runs.compute(values)

    def there() -> None:
        worker.run(runs.compute, values, None)

    title = "the playground's default run (60 steps)"
    compare(title, here, there, ("in this process", "in the worker"), args.repeats, args.busy)
    worker.shutdown()


if __name__ == "__main__":
    main()
