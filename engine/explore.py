"""The questions a learner asks next, answered with numbers: which learning rate, which momentum, why scale the
inputs, how much do mini-batches shake a run.

Full-batch questions run as one batched gd_sweep; the mini-batch one trains with engine.train per seed.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from .analysis import Stability, Surface, loss_surface, stability
from .config import TrainConfig
from .data import Dataset
from .limits import MAX_EPOCHS
from .sweep import Sweep, gd_sweep, heavy_ball_rate, heavy_ball_rates, heavy_ball_regions
from .train import History, train

SWEEP_SPAN = (1e-3, 2.0)  # the learning-rate sweep runs from 1/1000 of the stability limit to twice it
MAP_SPAN = (1e-2, 3.5)  # the momentum map's learning rates, as multiples of the limit without momentum
MAP_MOMENTA = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99)
MAP_STEPS = 2_000  # long enough for the slowest mode to dominate the measured tail
CONVERGED = 0.01  # "converged": the excess loss L - L* is down to 1 % of where it started


def _limit(stab: Stability) -> float:
    if not math.isfinite(stab.max_stable_lr):
        raise ValueError("the loss does not depend on the parameters here, so there is no learning rate to explore")
    return stab.max_stable_lr


def sweep_lrs(stab: Stability, count: int = 50, span: tuple[float, float] = SWEEP_SPAN) -> np.ndarray:
    """`count` learning rates evenly spaced on a log scale from span[0] to span[1] times 2 / lambda_max."""
    return _limit(stab) * np.geomspace(span[0], span[1], count)


def lr_sweep(ds: Dataset, fit_bias: bool = True, init=None, epochs: int = 100, count: int = 50) -> Sweep:
    """Full-batch gradient descent at `count` learning rates from far too small to divergent, as one batched run."""
    return gd_sweep(ds, sweep_lrs(stability(ds, fit_bias), count), epochs=epochs, fit_bias=fit_bias, init=init)


def steps_for(rate, fraction: float = CONVERGED) -> np.ndarray:
    """Steps for the excess loss to fall to `fraction` of its start when the distance shrinks by `rate` a step (the
    loss by rate^2): log(fraction) / (2 log(rate)). inf for rate >= 1 (or NaN), 0 for rate 0."""
    rate = np.asarray(rate, dtype=np.float64)
    with np.errstate(all="ignore"):
        steps = np.log(fraction) / (2.0 * np.log(rate))
    return np.where(np.isfinite(rate) & (rate < 1.0), steps, np.inf)


def rounded_best_pair(stab: Stability, decimals: int = 2) -> tuple[float, float]:
    """The best (learning rate, momentum) pair with the momentum rounded up to `decimals` places, for a link or a
    slider. The exact pair sits a hair from the divergence edge on ill-conditioned data, where rounding can push it
    over; with momentum beta >= best_momentum every mode ripples at the optimal rate sqrt(beta) for any learning
    rate in [(1 - sqrt(beta))^2 / lambda_min, (1 + sqrt(beta))^2 / lambda_max], so take that range's middle."""
    lmin, lmax = float(stab.eigenvalues[0]), float(stab.eigenvalues[-1])
    if not lmax > 0:
        raise ValueError("the loss does not depend on the parameters here, so there is no learning rate to explore")
    top = 1.0 - 10.0**-decimals
    beta = min(math.ceil(round(stab.best_momentum * 10**decimals, 9)) / 10**decimals, top)
    root = math.sqrt(beta)
    hi = (1.0 + root) ** 2 / lmax
    lo = min((1.0 - root) ** 2 / lmin, hi) if lmin > 0 else hi
    return math.sqrt(lo * hi), beta


@dataclass(frozen=True, eq=False)
class MomentumMap:
    """Convergence rates over a (momentum, learning rate) grid: rows momenta, columns learning rates."""

    lrs: np.ndarray  # (L,)
    momenta: np.ndarray  # (M,)
    measured: np.ndarray  # (M, L) rate read from the runs' loss curves; NaN where a run diverged
    theory: np.ndarray  # (M, L) heavy_ball_rates
    regions: np.ndarray  # (M, L) heavy_ball_regions codes
    stability: Stability
    steps: int


def momentum_map(
    ds: Dataset,
    fit_bias: bool = True,
    init=None,
    steps: int = MAP_STEPS,
    count: int = 36,
    momenta=MAP_MOMENTA,
) -> MomentumMap:
    """Heavy-ball momentum (torch.optim.SGD's) at every grid pair, all runs as one gd_sweep, beside the theory."""
    stab = stability(ds, fit_bias)
    lrs = _limit(stab) * np.geomspace(MAP_SPAN[0], MAP_SPAN[1], count)
    momenta = np.asarray(momenta, dtype=np.float64)
    grid_lr, grid_m = np.meshgrid(lrs, momenta)  # (M, L) each
    sweep = gd_sweep(ds, grid_lr.ravel(), grid_m.ravel(), epochs=steps, fit_bias=fit_bias, init=init)
    return MomentumMap(
        lrs=lrs,
        momenta=momenta,
        measured=_measured_rates(sweep).reshape(grid_lr.shape),
        theory=heavy_ball_rates(stab.eigenvalues, lrs, momenta),
        regions=heavy_ball_regions(stab.eigenvalues, lrs, momenta),
        stability=stab,
        steps=steps,
    )


def _measured_rates(sweep: Sweep) -> np.ndarray:
    """Sweep.measured_rate, with the runs too fast for it (float32 precision within a few steps) given the bound
    the drop itself sets: excess down to e_k from e_0 in k steps means a rate of at most (e_k / e_0)^(1 / 2k)."""
    rates = sweep.measured_rate()
    excess = sweep.loss - sweep.min_loss
    for i in np.flatnonzero(np.isnan(rates) & ~sweep.diverged):
        e = excess[:, i]
        k = max(int(np.argmax(e <= 1e-7 * e[0])), 1) if e[0] > 0 else 1
        rates[i] = float(max(e[k], 0.0) / e[0]) ** (0.5 / k) if e[0] > 0 else 0.0
    return rates


@dataclass(frozen=True, eq=False)
class ScalingCase:
    """One way of scaling the inputs: its loss surface, its curvature facts, and gradient descent at its best rate."""

    label: str
    dataset: Dataset
    stability: Stability
    start: np.ndarray  # the common start, in this case's parameter units
    best: Sweep  # one run at stability.best_lr, params kept
    steps: int  # the steps the best-rate run was given
    converged_at: int  # first step with the excess loss at CONVERGED of its start; -1 if not within `steps`
    predicted_steps: float  # the same from the rate (kappa - 1) / (kappa + 1) of the slowest direction
    surface: Surface  # over a square window, so equal axes show the true shape
    probe_lr: float
    probe_diverged_at: int  # first step over the divergence limit at probe_lr; -1 if it converges


def compare_scalings(
    cases: dict[str, Dataset],
    fit_bias: bool,
    start,
    probe_lr: float = 0.01,
    steps: int = MAX_EPOCHS,
    probe_steps: int = 200,
) -> list[ScalingCase]:
    """For each labelled dataset (the same data scaled differently): condition number, learning-rate limits, steps
    to converge at the best rate 2 / (lambda_min + lambda_max), and whether probe_lr diverges. `start` is in the
    original units; each scaled dataset maps it to its own (Dataset.scaling.to_scaled)."""
    out = []
    for label, ds in cases.items():
        p0 = np.asarray(start, dtype=np.float64)
        if ds.scaling is not None:
            p0 = ds.scaling.to_scaled(p0)
        stab = stability(ds, fit_bias)
        best = gd_sweep(ds, [stab.best_lr], epochs=steps, fit_bias=fit_bias, init=p0, keep_params=True)
        probe = gd_sweep(ds, [probe_lr], epochs=probe_steps, fit_bias=fit_bias, init=p0)
        rate = heavy_ball_rate(stab.eigenvalues, stab.best_lr, 0.0)
        path = best.params[:, 0, :]
        out.append(
            ScalingCase(
                label=label,
                dataset=ds,
                stability=stab,
                start=p0,
                best=best,
                steps=steps,
                converged_at=int(best.steps_to(CONVERGED)[0]),
                predicted_steps=max(1.0, math.ceil(float(steps_for(rate)))) if rate < 1 else math.inf,
                surface=loss_surface(ds, fit_bias, path=path[np.isfinite(path).all(axis=1)], square=True),
                probe_lr=probe_lr,
                probe_diverged_at=int(probe.diverged_at[0]),
            )
        )
    return out


@dataclass(frozen=True, eq=False)
class NoiseRuns:
    """Runs of one batch size over several seeds, and the spread of their full-data loss per step."""

    batch_size: int | None  # None: full batch (one run: every seed gives the same)
    runs: list[History]
    low: np.ndarray  # (steps + 1,) per-step minimum of the full-data loss over the seeds
    high: np.ndarray  # per-step maximum

    @property
    def steps_per_epoch(self) -> int:
        return self.runs[0].steps_per_epoch


def batch_noise(ds: Dataset, cfg: TrainConfig, batch_sizes=(1, 4, None), seeds: int = 5) -> list[NoiseRuns]:
    """The same data, learning rate and start with each batch size; mini-batch runs repeated over `seeds` seeds
    (cfg.seed, cfg.seed + 1, ...), whose spread shows the noise the sampling adds. A batch size of all the points or
    more is the full batch; a size that repeats an earlier one is left out."""
    if seeds < 1:
        raise ValueError("give at least one seed")
    out, seen = [], set()
    for b in batch_sizes:
        full = b is None or b >= ds.n
        if (None if full else int(b)) in seen:
            continue
        seen.add(None if full else int(b))
        count = 1 if full else seeds
        runs = [
            train(ds, dataclasses.replace(cfg, batch_size=None if full else int(b), seed=cfg.seed + i))
            for i in range(count)
        ]
        length = max(len(h.loss) for h in runs)
        table = np.full((count, length), np.nan)
        for i, h in enumerate(runs):
            table[i, : len(h.loss)] = h.loss
        out.append(NoiseRuns(None if full else int(b), runs, np.nanmin(table, 0), np.nanmax(table, 0)))
    return out
