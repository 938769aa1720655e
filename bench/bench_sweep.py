"""Cost of the learning-rate sweep (engine.gd_sweep, 50 runs as one batched run) against one engine.train run of the
same length with the default settings (method "optimizer", torch.optim.SGD), in one process.

    python bench/bench_sweep.py                 # line n = 30 and 10^4, thermometer; 60, 500 and 5,000 steps
    python bench/bench_sweep.py --device cuda
    python bench/bench_sweep.py --momentum 0.8  # the playground's learning-rate family, at its default momentum

Prints ratios (sweep time / single-run time; the target is at most 2), so a noisy shared machine still gives
comparable numbers. Each figure is the best of a few repeats, sweep and single run interleaved so that load hits
both alike.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

import engine  # noqa: E402

torch.set_num_threads(1)

CASES = (("line", 30), ("line", 10_000), ("thermometer", 11))


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def timed(fn, device: str) -> float:
    sync(device)
    t0 = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - t0


def measure(
    name: str, n: int, steps: int, count: int, device: str, repeats: int, momentum: float = 0.0
) -> tuple[float, float]:
    """(best sweep seconds, best single-run seconds) for `count` rates and `steps` steps."""
    ds = engine.make_dataset(name, n=n)
    init = (-1.0, -2.0)
    lrs = engine.sweep_lrs(engine.stability(ds), count)
    cfg = engine.TrainConfig(lr=float(lrs[count // 2]), momentum=momentum, epochs=steps, init=init, device=device)

    def sweep():
        return engine.gd_sweep(ds, lrs, momentum, epochs=steps, init=init, device=device)

    def single():
        return engine.train(ds, cfg)

    sweep(), single()  # warm
    best_sweep = best_single = float("inf")
    for _ in range(repeats):
        best_sweep = min(best_sweep, timed(sweep, device))
        best_single = min(best_single, timed(single, device))
    return best_sweep, best_single


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", default="60,500,5000")
    parser.add_argument("--rates", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--momentum", type=float, default=0.0, help="the same momentum for every run (0: none)")
    args = parser.parse_args()
    device = engine.resolve_device(args.device)
    engine.warm_up()
    setup = f"device {device}, threads {torch.get_num_threads()}, {args.rates} rates, momentum {args.momentum:g}"
    print(f"torch {torch.__version__}, {setup}")
    print(f"{'data':>12} {'n':>7} {'steps':>6} {'sweep ms':>9} {'one run ms':>11} {'ratio':>6}")
    for name, n in CASES:
        for steps in (int(s) for s in args.steps.split(",")):
            sweep, single = measure(name, n, steps, args.rates, device, args.repeats, args.momentum)
            print(f"{name:>12} {n:>7} {steps:>6} {sweep * 1e3:>9.2f} {single * 1e3:>11.2f} {sweep / single:>6.2f}")


if __name__ == "__main__":
    main()
