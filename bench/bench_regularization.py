"""Cost of the overfitting page's two batched sweeps against one engine.train run of the same length, in one process:
the degree sweep (engine.degree_sweep, degrees 1..9 as one batched run) and the weight-decay sweep
(engine.decay_sweep, 20 decays on degree-9 features). The single run: degree-9 features, a 25 % test split, weight
decay, the default method ("optimizer", torch.optim.SGD with two parameter groups).

    python bench/bench_regularization.py            # n = 30 and 10^4 points; 100, 500 and 2,000 steps
    python bench/bench_regularization.py --l1 0.01  # with an L1 term too

Prints ratios (sweep time / single-run time; the target is at most 2). Each figure is the best of a few repeats,
sweep and single run interleaved so that load on a shared machine hits both alike.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import engine  # noqa: E402

torch.set_num_threads(1)

DECAYS = np.geomspace(1e-4, 10.0, 20)


def best_of(fns, repeats: int) -> list[float]:
    """The best time of each function over `repeats` interleaved rounds."""
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--l1", type=float, default=0.0)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, 1 thread; l1 = {args.l1}; best of {args.repeats}")
    print(f"{'n':>7} {'steps':>6} {'single ms':>10} {'degrees ms':>11} {'ratio':>6} {'decays ms':>10} {'ratio':>6}")
    for n in (30, 10_000):
        ds = engine.make_dataset("line", n=n, noise=0.5, seed=0)
        top = engine.polynomial(ds, 9)
        for steps in (100, 500, 2000):
            cfg = engine.TrainConfig(lr=0.05, epochs=steps, test_fraction=0.25, weight_decay=0.01, l1=args.l1)

            def single(cfg=cfg, top=top):
                return engine.train(top, cfg)

            def degrees(ds=ds, steps=steps):
                return engine.degree_sweep(ds, epochs=steps, test_fraction=0.25, weight_decay=0.01, l1=args.l1)

            def decays(top=top, steps=steps):
                return engine.decay_sweep(top, DECAYS, epochs=steps, test_fraction=0.25, l1=args.l1)

            best_of([single, degrees, decays], 1)  # warm up
            t_single, t_degrees, t_decays = best_of([single, degrees, decays], args.repeats)
            print(
                f"{n:>7} {steps:>6} {1e3 * t_single:>10.1f} {1e3 * t_degrees:>11.1f} {t_degrees / t_single:>6.2f} "
                f"{1e3 * t_decays:>10.1f} {t_decays / t_single:>6.2f}"
            )


if __name__ == "__main__":
    main()
