"""Regularized least squares: the ridge and lasso optima, the regularized loss, and early stopping.

The loss a run with TrainConfig(weight_decay=wd, l1=l1) minimizes is

    MSE(w, b) + (wd / 2) ||w||^2 + l1 ||w||_1        (the bias b is never penalized)

and everything here is in float64, computed on columns rescaled to unit size and mapped back, so raw powers such as
x^9 do not lose the answer to rounding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .analysis import Quadratic
from .data import Dataset

LASSO_TOL = 1e-13  # coordinate descent stops when no (rescaled) coefficient moves by more than this
LASSO_MAX_SWEEPS = 100_000


def _check(weight_decay: float, l1: float = 0.0) -> None:
    if not (math.isfinite(weight_decay) and weight_decay >= 0):
        raise ValueError(f"weight decay must be a number of at least 0, got {weight_decay}")
    if not (math.isfinite(l1) and l1 >= 0):
        raise ValueError(f"the L1 strength must be a number of at least 0, got {l1}")


def regularized_loss(ds: Dataset, params, weight_decay: float = 0.0, l1: float = 0.0) -> np.ndarray:
    """MSE + (wd/2) ||w||^2 + l1 ||w||_1 at one parameter vector (p,) or many (..., p), exactly (float64)."""
    params = np.asarray(params, dtype=np.float64)
    fit_bias = params.shape[-1] == ds.d + 1
    loss = Quadratic.of(ds, fit_bias).loss(params)
    w = params[..., : ds.d]
    return loss + 0.5 * weight_decay * np.sum(w**2, axis=-1) + l1 * np.sum(np.abs(w), axis=-1)


@dataclass(frozen=True, eq=False)
class _Scaled:
    """The problem on rescaled, (with a bias) centred columns: Z = (X - mean) / scale, so that w = v / scale and
    b = mean_y - mean_x . w."""

    gram: np.ndarray  # Z'Z / n
    zty: np.ndarray  # Z'y / n (y centred with a bias)
    scale: np.ndarray
    mean_x: np.ndarray | None
    mean_y: float

    @classmethod
    def of(cls, ds: Dataset, fit_bias: bool) -> _Scaled:
        x = ds.x.double().numpy()
        y = ds.y.double().numpy()
        mean_x, mean_y = (x.mean(0), float(y.mean())) if fit_bias else (None, 0.0)
        if fit_bias:
            x, y = x - mean_x, y - mean_y
        scale = np.sqrt(np.mean(x**2, axis=0))
        scale = np.where(scale > 0, scale, 1.0)
        z = x / scale
        return cls(z.T @ z / len(y), z.T @ y / len(y), scale, mean_x, mean_y)

    def params(self, v: np.ndarray) -> np.ndarray:
        w = v / self.scale
        return w if self.mean_x is None else np.append(w, self.mean_y - float(self.mean_x @ w))


def ridge(ds: Dataset, weight_decay: float, fit_bias: bool = True) -> np.ndarray:
    """The minimizer (w..., b) of MSE + (weight_decay / 2) ||w||^2, intercept unpenalized, in closed form:
    ((2/n) X'X + wd D) p = (2/n) X'y. With weight_decay 0, the least-squares optimum (the minimum-norm one when it
    is not unique)."""
    _check(weight_decay)
    if weight_decay == 0:
        return Quadratic.of(ds, fit_bias).optimum
    return _ridge(_Scaled.of(ds, fit_bias), weight_decay)


def _ridge(s: _Scaled, weight_decay: float) -> np.ndarray:
    # on the rescaled columns the penalty is (wd / 2) sum (v_j / scale_j)^2
    v = np.linalg.solve(s.gram + np.diag(0.5 * weight_decay / s.scale**2), s.zty)
    return s.params(v)


def lasso(ds: Dataset, l1: float, fit_bias: bool = True, weight_decay: float = 0.0) -> np.ndarray:
    """The minimizer (w..., b) of MSE + l1 ||w||_1 (+ (weight_decay / 2) ||w||^2), intercept unpenalized: cyclic
    coordinate descent in float64 (each coordinate's exact minimizer, a soft-threshold), finished by solving the
    active set's equations exactly and checking the optimality conditions."""
    _check(weight_decay, l1)
    if l1 == 0:
        return ridge(ds, weight_decay, fit_bias)
    return _lasso(_Scaled.of(ds, fit_bias), l1, weight_decay)


def _lasso(s: _Scaled, l1: float, weight_decay: float) -> np.ndarray:
    p = len(s.zty)
    half_l1 = 0.5 * l1 / s.scale  # per rescaled coordinate: the threshold l1_j / 2
    curvature = np.diag(s.gram) + 0.5 * weight_decay / s.scale**2
    if np.any(curvature <= 0):
        raise ValueError("a feature is all zero: its weight is not determined")
    gram, zty = s.gram.tolist(), s.zty.tolist()
    v = [0.0] * p
    for _ in range(LASSO_MAX_SWEEPS // 100):
        for _ in range(100):
            biggest = 0.0
            for j in range(p):
                row = gram[j]
                rho = zty[j] - sum(row[k] * v[k] for k in range(p) if k != j)
                new = math.copysign(max(abs(rho) - half_l1[j], 0.0), rho) / curvature[j]
                biggest = max(biggest, abs(new - v[j]))
                v[j] = new
            if biggest <= LASSO_TOL:
                return s.params(np.array(v))
        exact = _active_set_solution(s, np.array(v), half_l1, weight_decay)
        if exact is not None:
            return s.params(exact)
    return s.params(np.array(v))


def _active_set_solution(s: _Scaled, v: np.ndarray, half_l1: np.ndarray, weight_decay: float) -> np.ndarray | None:
    """The exact minimizer with the nonzero pattern and signs of v, if it satisfies the optimality conditions."""
    active = np.flatnonzero(v != 0)
    signs = np.sign(v[active])
    h = s.gram + np.diag(0.5 * weight_decay / s.scale**2)
    exact = np.zeros_like(v)
    if len(active):
        try:
            exact[active] = np.linalg.solve(h[np.ix_(active, active)], s.zty[active] - half_l1[active] * signs)
        except np.linalg.LinAlgError:
            return None
        if np.any(np.sign(exact[active]) != signs):
            return None
    slack = s.zty - h @ exact  # for inactive j it must lie within [-l1_j / 2, l1_j / 2]
    inactive = np.setdiff1d(np.arange(len(v)), active)
    if np.any(np.abs(slack[inactive]) > half_l1[inactive] * (1 + 1e-9)):
        return None
    return exact


def regularized_optimum(ds: Dataset, fit_bias: bool = True, weight_decay: float = 0.0, l1: float = 0.0) -> np.ndarray:
    """The minimizer of MSE + (wd/2) ||w||^2 + l1 ||w||_1: ridge's closed form, or the lasso (elastic net) solution."""
    return lasso(ds, l1, fit_bias, weight_decay) if l1 else ridge(ds, weight_decay, fit_bias)


def optima(ds: Dataset, fit_bias: bool, weight_decays, l1: float = 0.0) -> list[np.ndarray]:
    """regularized_optimum for many weight decays on one dataset, its statistics computed once."""
    for wd in weight_decays:
        _check(float(wd), l1)
    scaled = None
    out = []
    for wd in weight_decays:
        if wd == 0 and l1 == 0:
            out.append(Quadratic.of(ds, fit_bias).optimum)
            continue
        scaled = scaled or _Scaled.of(ds, fit_bias)
        out.append(_lasso(scaled, l1, float(wd)) if l1 else _ridge(scaled, float(wd)))
    return out


@dataclass(frozen=True, eq=False)
class EarlyStop:
    """The step with the lowest test loss (the first one, on a tie), and the parameters there."""

    step: int
    test_loss: float
    train_loss: float
    params: np.ndarray


def early_stop(history) -> EarlyStop:
    """Where early stopping would have stopped this run: the step of its lowest held-out loss (History.test_loss).
    A ValueError when the run had no test set."""
    test_loss = getattr(history, "test_loss", None)
    if test_loss is None or len(test_loss) == 0:
        raise ValueError("early stopping needs a held-out test set: train with a test fraction above 0")
    step = int(np.argmin(test_loss))
    return EarlyStop(step, float(test_loss[step]), float(history.loss[step]), history.params[step].copy())
