"""Why high degrees train slowly: the condition number of the loss surface against the polynomial degree, for raw
powers and standardized ones, and the steps gradient descent then needs even at its best constant learning rate.

At lr = 2 / (lambda_min + lambda_max) every direction's distance to the optimum shrinks at least by
(kappa - 1) / (kappa + 1) per step, the slowest exactly so; the loss along it by that squared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .data import Dataset
from .features import raw_powers
from .limits import MAX_DEGREE

# Beyond this ratio of singular values float64 cannot tell the smallest one from rounding: the condition number of
# X'X is then only known to be huge (reported as inf).
_SINGULAR_FLOOR = 1e-14


@dataclass(frozen=True, eq=False)
class Conditioning:
    """Per degree: the Hessian's condition number and the steps GD needs at its best rate, raw and standardized."""

    degrees: np.ndarray  # (K,)
    raw: np.ndarray  # (K,) condition number of (2/n) X'X for the raw powers x, x^2, ... (inf: beyond float64)
    standardized: np.ndarray  # (K,) the same for standardized powers
    steps_raw: np.ndarray  # (K,) steps for the loss above the optimum to fall to `fraction` of its start
    steps_standardized: np.ndarray
    fraction: float


def steps_at_best_rate(condition_number: float, fraction: float = 0.01) -> float:
    """Steps gradient descent at lr = 2 / (lambda_min + lambda_max) needs for the slowest direction's excess loss to
    fall to `fraction` of its start: ln(fraction) / (2 ln((kappa - 1) / (kappa + 1))); inf for an infinite kappa."""
    if not 0 < fraction < 1:
        raise ValueError(f"the fraction must lie between 0 and 1, got {fraction}")
    if not math.isfinite(condition_number):
        return math.inf
    if condition_number + 1.0 <= 2.0:
        return 1.0  # a round bowl (to rounding): one step lands on the optimum
    rate_log = math.log1p(-2.0 / (condition_number + 1.0))  # ln((k - 1) / (k + 1)) without cancellation
    return float(max(1, math.ceil(math.log(fraction) / (2.0 * rate_log))))


def condition_number(x: np.ndarray, fit_bias: bool = True) -> float:
    """kappa of (2/n) X'X (X: the float64 columns x, with a ones column when fitting a bias), computed from the
    singular values of X with its columns scaled to unit size, so columns of wildly different sizes (x and x^9) do
    not lose it to rounding; inf when it is beyond what float64 resolves."""
    x = np.asarray(x, dtype=np.float64)
    if fit_bias:
        x = np.hstack([x, np.ones((len(x), 1))])
    n = len(x)
    size = np.sqrt(np.mean(x**2, axis=0))
    if np.any(size == 0):
        return math.inf
    _, sigma, vt = np.linalg.svd(x / size, full_matrices=False)
    if len(sigma) < x.shape[1] or sigma[-1] <= _SINGULAR_FLOOR * sigma[0]:
        return math.inf
    s = x.T @ x / n
    lmax = float(np.linalg.eigvalsh(s)[-1])
    # S^-1 = n C^-1 V Sigma^-2 V' C^-1 (C: the column sizes), so lambda_max(S^-1) = n sigma_max(C^-1 V Sigma^-1)^2
    m = (vt.T / size[:, None]) / sigma
    inv_max = n * float(np.linalg.norm(m, 2)) ** 2
    return lmax * inv_max


def conditioning(
    ds: Dataset, degrees=range(1, MAX_DEGREE + 1), fit_bias: bool = True, fraction: float = 0.01
) -> Conditioning:
    """Condition number against the degree for a one-feature dataset's raw and standardized powers (in float64),
    and the steps gradient descent needs at its best constant rate to bring the loss above the optimum down to
    `fraction` of its start."""
    if ds.d != 1:
        raise ValueError(f"polynomial features need data with one input feature, got {ds.d}")
    degrees = np.asarray(list(degrees), dtype=np.int64)
    if not len(degrees) or degrees.min() < 1 or degrees.max() > MAX_DEGREE:
        raise ValueError(f"degrees must be from 1 to {MAX_DEGREE}")
    powers = raw_powers(ds.x.double().numpy()[:, 0], int(degrees.max()))
    sd = powers.std(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        standardized = (powers - powers.mean(axis=0)) / sd
    raw, std = [], []
    for k in degrees:
        raw.append(condition_number(powers[:, :k], fit_bias))
        std.append(math.inf if np.any(sd[:k] == 0) else condition_number(standardized[:, :k], fit_bias))
    raw, std = np.array(raw), np.array(std)
    return Conditioning(
        degrees=degrees,
        raw=raw,
        standardized=std,
        steps_raw=np.array([steps_at_best_rate(k, fraction) for k in raw], dtype=np.float64),
        steps_standardized=np.array([steps_at_best_rate(k, fraction) for k in std], dtype=np.float64),
        fraction=fraction,
    )
