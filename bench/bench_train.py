"""Per-step cost of engine.train() against the bare loop of tutorial 001, on the same data, in one process.

    python bench/bench_train.py            # n = 11, 100, 10^4, 10^6 on the CPU
    python bench/bench_train.py --device cuda

Prints ratios (train step / bare step), so a noisy shared machine still gives comparable numbers. The per-step
cost of train() is its marginal cost: (time for E2 epochs - time for E1 epochs) / (E2 - E1), which leaves out the
one-off set-up (the closed-form optimum, the copy of the history to the host). At 10^6 points it also prints each
step's cost against the time to read the data once (a clone of x and y).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from functools import partial
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

import engine  # noqa: E402

torch.set_num_threads(1)


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def best_of(fn, repeats: int, device: str) -> float:
    """The fastest of `repeats` timings of fn(), in seconds."""
    times = []
    for _ in range(repeats):
        sync(device)
        t0 = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - t0)
    return min(times)


def bare_loop(x: torch.Tensor, y: torch.Tensor, steps: int, lr: float) -> None:
    """Tutorial 001's loop, word for word (no printing)."""
    W = torch.zeros(1, 1, device=x.device, requires_grad=True)
    b = torch.zeros(1, device=x.device, requires_grad=True)
    y_true = y[:, None]
    for _epoch in range(steps):
        y_hat = x @ W + b
        loss = torch.mean((y_hat - y_true) ** 2)
        loss.backward()
        with torch.no_grad():
            W -= lr * W.grad
            b -= lr * b.grad
        W.grad.zero_()
        b.grad.zero_()


def train_seconds(ds, method: str, epochs: int, device: str) -> None:
    engine.train(ds, engine.TrainConfig(method=method, lr=0.01, epochs=epochs, device=device))


def measure(n: int, device: str, repeats: int) -> None:
    """Print one row per method for n points; bare and train timings interleave so load hits both alike."""
    ds = engine.make_dataset("line", n=n, noise=0.5, seed=0)
    steps = max(20, min(2000, 2_000_000 // n))
    x, y = ds.x.to(device), ds.y.to(device)
    bare_loop(x, y, 5, 0.01)  # warm
    bare = best_of(partial(bare_loop, x, y, steps, 0.01), repeats, device) / steps
    read = best_of(partial(lambda a, b: (a.clone(), b.clone()), x, y), repeats * 3, device)
    for method in engine.METHODS:
        train_seconds(ds, method, 5, device)  # warm
        short = best_of(partial(train_seconds, ds, method, steps // 4, device), repeats, device)
        long = best_of(partial(train_seconds, ds, method, steps + steps // 4, device), repeats, device)
        bare = min(bare, best_of(partial(bare_loop, x, y, steps, 0.01), 1, device) / steps)
        per_step = (long - short) / steps
        print(
            f"{n:>9} {method:>18} {bare * 1e6:>13.1f} {per_step * 1e6:>14.1f} {per_step / bare:>7.2f}"
            f" {per_step / read:>10.2f}"
        )
    print(f"{'':>9} {'read x, y once':>18} {read * 1e6:>13.1f}   (bare step / read = {bare / read:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sizes", default="11,100,10000,1000000")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    device = engine.resolve_device(args.device)
    print(f"torch {torch.__version__}, device {device}, threads {torch.get_num_threads()}")
    print(f"{'n':>9} {'method':>18} {'bare us/step':>13} {'train us/step':>14} {'ratio':>7} {'step/read':>10}")
    for n in (int(s) for s in args.sizes.split(",")):
        measure(n, device, args.repeats)


if __name__ == "__main__":
    main()
