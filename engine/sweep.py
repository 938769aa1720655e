"""Many full-batch gradient-descent runs at once: a learning-rate sweep, a (learning rate, momentum) map.

All runs advance together as one (K, p) tensor: the gradient of every run comes from one matrix product with
the exact quadratic's X'X (the analytic method), so K runs cost little more than one. The arithmetic is the
analytic method's (float64 gradient, float32 parameters, torch.optim.SGD's momentum), so each run equals
engine.train(..., method="analytic") with the same settings, bit for bit (with Nesterov to float32 rounding: the
single run adds beta * v with one rounding, the batched one with two).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .analysis import Quadratic
from .data import Dataset
from .devices import resolve_device
from .limits import DIVERGENCE_FACTOR, MAX_EPOCHS

MAX_RUNS = 10_000  # runs in one sweep


@dataclass(frozen=True, eq=False)
class Sweep:
    """K runs side by side: settings (K,), loss (steps + 1, K), optional params (steps + 1, K, p)."""

    lrs: np.ndarray
    momenta: np.ndarray
    loss: np.ndarray  # full-data MSE; after a run diverges, its later entries are NaN
    params: np.ndarray | None
    diverged_at: np.ndarray  # (K,) first step over the divergence limit, -1 if never
    min_loss: float

    @property
    def diverged(self) -> np.ndarray:
        return self.diverged_at >= 0

    @property
    def came_down(self) -> np.ndarray:
        """(K,) runs that did not diverge and end at or below the loss they started from. The others blew up or
        are on their way up when they end: just above the stability limit, a run can grow for many steps before
        it counts as diverged, far out of the region every other run stays in."""
        with np.errstate(invalid="ignore"):
            return ~self.diverged & (self.loss[-1] <= self.loss[0])

    @property
    def final_loss(self) -> np.ndarray:
        """Loss after the last step (inf for a diverged run)."""
        return np.where(self.diverged, np.inf, self.loss[-1])

    def steps_to(self, fraction: float = 0.01) -> np.ndarray:
        """First step at which the excess loss L - L* falls to `fraction` of its start; -1 if never."""
        excess = self.loss - self.min_loss
        reached = excess <= fraction * excess[0]
        first = np.argmax(reached, axis=0)
        return np.where(reached.any(axis=0), first, -1)

    def measured_rate(self) -> np.ndarray:
        """Per-step contraction of the distance to the optimum, measured from each run's loss curve.

        The excess loss L - L* shrinks like rate^(2k) once the slowest mode dominates; the rate is read over the
        second half of the stretch where it is still well above float32 precision (1e-7 of the start), so that
        faster modes have died out (on ill-conditioned data they hold most of the loss at first). NaN for diverged
        runs and runs too short to tell.
        """
        excess = self.loss - self.min_loss
        rates = np.full(excess.shape[1], np.nan)
        for i in np.flatnonzero(~self.diverged):
            e = excess[:, i]
            above = np.flatnonzero(e > 1e-7 * e[0])
            b = int(above[-1]) if len(above) else 0
            a = b // 2
            if b - a >= 4 and e[a] > 0:
                # the upper envelope (momentum makes the loss ripple), then a least-squares slope of its log
                window = np.maximum.accumulate(e[a : b + 1][::-1])[::-1]
                slope = np.polyfit(np.arange(a, b + 1), np.log(window), 1)[0]
                rates[i] = float(np.exp(slope / 2))
        return rates


def gd_sweep(
    ds: Dataset,
    lrs,
    momenta=0.0,
    epochs: int = 100,
    fit_bias: bool = True,
    init=None,
    nesterov: bool = False,
    keep_params: bool = False,
    device: str = "cpu",
) -> Sweep:
    """Full-batch gradient descent for every (lr, momentum) pair at once (momenta broadcast against lrs)."""
    lrs64 = np.atleast_1d(np.asarray(lrs, dtype=np.float64))
    mom64 = np.broadcast_to(np.asarray(momenta, dtype=np.float64), lrs64.shape).copy()
    if lrs64.ndim != 1 or not len(lrs64) or len(lrs64) > MAX_RUNS:
        raise ValueError(f"give between 1 and {MAX_RUNS:,} learning rates")
    if not (np.isfinite(lrs64).all() and (lrs64 > 0).all()):
        raise ValueError("every learning rate must be a positive number")
    if not (np.isfinite(mom64).all() and ((mom64 >= 0) & (mom64 < 1)).all()):
        raise ValueError("every momentum must be at least 0 and below 1")
    if not 1 <= int(epochs) <= MAX_EPOCHS:
        raise ValueError(f"epochs must be from 1 to the cap of {MAX_EPOCHS:,}")
    quad = Quadratic.of(ds, fit_bias)
    p = len(quad.optimum)
    dev = torch.device(resolve_device(device))
    start = torch.zeros(p) if init is None else torch.tensor(np.asarray(init, dtype=np.float32))
    if start.shape != (p,):
        raise ValueError(f"the starting point needs {p} numbers")
    k = len(lrs64)
    wide = torch.float32 if dev.type == "mps" else torch.float64
    gram = torch.as_tensor(2.0 * quad.S, dtype=wide, device=dev)  # (2/n) X'X
    xty = torch.as_tensor(2.0 * quad.q, dtype=wide, device=dev)  # (2/n) X'y
    lr = torch.as_tensor(lrs64, dtype=torch.float32, device=dev)[:, None]
    beta = torch.as_tensor(mom64, dtype=torch.float32, device=dev)[:, None]
    history = torch.empty(int(epochs) + 1, k, p, device=dev)
    history[0] = start.to(dev)
    params = history[0]
    # what does not change from step to step is decided once: the loop runs ~10 tiny operations a step, each costing
    # far more in PyTorch's overhead than in arithmetic
    moving = bool((mom64 > 0).any())
    everywhere = bool((mom64 > 0).all())  # every run has momentum: no torch.where to pick the plain gradient
    has_momentum = beta > 0
    buf = None
    for step in range(int(epochs)):
        grad = (params.to(wide) @ gram - xty).to(torch.float32)  # gram is symmetric: (gram @ p_i) for every row
        if moving:
            buf = grad.clone() if buf is None else buf.mul_(beta).add_(grad)
            direction = grad + beta * buf if nesterov else buf
            if not everywhere:
                direction = torch.where(has_momentum, direction, grad)
        else:
            direction = grad
        params = torch.sub(params, lr * direction, out=history[step + 1])
    hist = history.cpu().double().numpy()
    with np.errstate(all="ignore"):
        loss = quad.loss(hist)  # (steps + 1, K)
        limit = DIVERGENCE_FACTOR * np.maximum(loss[0], 1e-6 * float(np.mean(ds.y.double().numpy() ** 2)) + 1e-30)
        bad = ~np.isfinite(loss) | (loss > limit) | ~np.isfinite(hist).all(axis=2)
    diverged_at = np.where(bad.any(axis=0), np.argmax(bad, axis=0), -1)
    after = np.arange(len(loss))[:, None] >= np.where(diverged_at >= 0, diverged_at, len(loss))[None, :]
    loss = np.where(after, np.nan, loss)
    if keep_params:
        hist = np.where(after[..., None], np.nan, hist)
    return Sweep(lrs64, mom64, loss, hist if keep_params else None, diverged_at, quad.min_loss)


MONOTONE, RIPPLES, DIVERGES = 0, 1, 2  # heavy_ball_regions codes


def _modes(eigenvalues, lrs, momenta) -> tuple[np.ndarray, np.ndarray]:
    """Per (momentum, lr, eigenvalue): the largest |sigma| of the 2x2 update matrix [[1 + beta - lr*lambda, -beta],
    [1, 0]] and the discriminant of its characteristic polynomial (negative: a complex pair, |sigma| = sqrt(beta))."""
    lam = np.asarray(eigenvalues, dtype=np.float64)
    lam = lam[lam > 0]
    lr = np.asarray(lrs, dtype=np.float64)[None, :, None]
    beta = np.asarray(momenta, dtype=np.float64)[:, None, None]
    trace = 1.0 + beta - lr * lam  # sigma^2 - trace*sigma + beta = 0
    disc = trace**2 - 4.0 * beta
    size = np.where(disc >= 0, (np.abs(trace) + np.sqrt(np.abs(disc))) / 2.0, np.sqrt(beta))
    return size, disc


def heavy_ball_rates(eigenvalues, lrs, momenta) -> np.ndarray:
    """Theoretical per-step contraction of heavy-ball momentum on a quadratic over a grid (rows momenta, columns
    learning rates): the largest |sigma| over the modes' 2x2 update matrices (1 or more: divergence)."""
    size, _ = _modes(eigenvalues, lrs, momenta)
    if size.shape[2] == 0:
        return np.full(size.shape[:2], math.nan)
    return size.max(axis=2)


def heavy_ball_rate(eigenvalues, lr: float, momentum: float) -> float:
    """heavy_ball_rates for one (lr, momentum) pair."""
    return float(heavy_ball_rates(eigenvalues, [lr], [momentum])[0, 0])


def heavy_ball_regions(eigenvalues, lrs, momenta) -> np.ndarray:
    """What each (momentum, lr) pair does, rows momenta and columns learning rates: DIVERGES when the rate reaches 1,
    else RIPPLES when the slowest mode's update matrix has complex eigenvalues ((1 + beta - lr*lambda)^2 < 4 beta:
    the distance to the optimum spirals down), else MONOTONE (real eigenvalues)."""
    size, disc = _modes(eigenvalues, lrs, momenta)
    if size.shape[2] == 0:
        return np.full(size.shape[:2], MONOTONE)
    slowest = np.argmax(size, axis=2)[..., None]
    rate = np.take_along_axis(size, slowest, axis=2)[..., 0]
    complex_pair = np.take_along_axis(disc, slowest, axis=2)[..., 0] < 0
    return np.where(rate >= 1.0, DIVERGES, np.where(complex_pair, RIPPLES, MONOTONE))
