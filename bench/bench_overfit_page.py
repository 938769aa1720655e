"""The "Overfitting & regularization" page's server work for one slider move, against the playground's in the same
process (a machine here is shared and noisy: the ratio travels better than the milliseconds).

    python bench/bench_overfit_page.py          # best of 3 per move

Each move asks for values no cache holds yet (a new seed per repetition), then times what the page computes and
draws for it (compute/overfit.py: the run, the two sweeps, the fit player's weight-decay family and payload, the
two-weight picture, conditioning, the figures; the caches hold the parts the move does not change, as on the
page). The baseline is the playground's work for a new learning rate (compute.cache.run and its live figure's data).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from compute import cache, overfit  # noqa: E402
from settings import controls  # noqa: E402


def page(values: dict) -> None:
    overfit.cached_fit(values)
    overfit.cached_player(values, {})
    overfit.cached_degrees(values)
    overfit.degree_figure(values)
    overfit.cached_decays(values)
    overfit.decay_figure(values)
    overfit.cached_pair(values)
    overfit.pair_figure(values)
    overfit.cached_conditioning(values)
    overfit.conditioning_figure(values)
    overfit.eigen_figure(values)


def playground(values: dict) -> None:
    cache.run(values)
    cache.live_figure(values, {})


def best_ms(work, make_values, repeats: int = 3) -> float:
    times = []
    for k in range(repeats):
        base, moved = make_values(k)
        work(base)  # the page as it was before the move: its caches warm
        t0 = time.perf_counter()
        work(moved)
        times.append(time.perf_counter() - t0)
    return 1e3 * min(times)


def main() -> None:
    torch.set_num_threads(1)
    defaults = controls.defaults()
    page_base = defaults | {"test_fraction": 0.25}

    def seeded(k: int, **moved):
        values = page_base | {"seed": 100 + k}
        return values, values | moved

    rows = {
        "playground: a new learning rate (baseline)": best_ms(
            playground, lambda k: (defaults | {"seed": 200 + k}, defaults | {"seed": 200 + k, "lr": 0.15})
        ),
        "overfitting page: a new degree": best_ms(page, lambda k: seeded(k, degree=5)),
        "overfitting page: a new weight decay": best_ms(page, lambda k: seeded(k, weight_decay=0.01)),
        "overfitting page: new noise (everything anew)": best_ms(page, lambda k: seeded(k, noise=0.8)),
        "overfitting page: the same values again (cached)": best_ms(page, lambda k: seeded(k)),
    }
    base = next(iter(rows.values()))
    print("server work of one move, best of 3, one process")
    for name, ms in rows.items():
        print(f"  {name:<50}{ms:8.1f} ms {ms / base:6.2f}x")


if __name__ == "__main__":
    main()
