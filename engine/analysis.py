"""Closed-form facts about a linear least-squares problem: optimum, fit quality, curvature, loss surface.

All of it follows from the sufficient statistics X'X, X'y (X with a ones column when fitting a bias), so every
function here costs the same for ten points or a million once those are computed, in float64.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .data import Dataset


def design_matrix(ds: Dataset, fit_bias: bool) -> np.ndarray:
    """X as float64 numpy, with a ones column appended when the model has a bias."""
    x = ds.x.double().numpy()
    return np.hstack([x, np.ones((ds.n, 1))]) if fit_bias else x


@dataclass(frozen=True, eq=False)
class Quadratic:
    """The MSE as an exact quadratic: L(p) = L* + (p - p*)' S (p - p*), S = X'X / n (half the Hessian)."""

    S: np.ndarray  # X'X / n
    q: np.ndarray  # X'y / n
    optimum: np.ndarray  # a minimiser (the minimum-norm one when it is not unique)
    min_loss: float  # L* computed from the residuals directly, so no cancellation

    @classmethod
    def of(cls, ds: Dataset, fit_bias: bool) -> Quadratic:
        X = design_matrix(ds, fit_bias)
        y = ds.y.double().numpy()
        optimum = np.linalg.lstsq(X, y, rcond=None)[0]
        residual = X @ optimum - y
        return cls(S=X.T @ X / ds.n, q=X.T @ y / ds.n, optimum=optimum, min_loss=float(residual @ residual / ds.n))

    def loss(self, params) -> np.ndarray:
        """MSE at one parameter vector (p,) or many (k, p); finite inputs give a finite, non-negative answer."""
        delta = np.asarray(params, dtype=np.float64) - self.optimum
        with np.errstate(all="ignore"):
            quad = np.einsum("...i,ij,...j->...", delta, self.S, delta)
        return self.min_loss + np.maximum(quad, 0.0)

    def grad(self, params) -> np.ndarray:
        """Gradient of the MSE, 2 S (p - p*) = (2/n) X'(X p - y)."""
        return 2.0 * (np.asarray(params, dtype=np.float64) - self.optimum) @ self.S

    @cached_property
    def eigenvalues(self) -> np.ndarray:
        """Eigenvalues of the Hessian 2 S, ascending, rounding noise below zero clipped."""
        return np.clip(np.linalg.eigvalsh(2.0 * self.S), 0.0, None)


def optimum_problem(ds: Dataset, fit_bias: bool = True) -> str | None:
    """A plain sentence when the data has no unique least-squares optimum, else None."""
    p = ds.d + int(fit_bias)
    names = ", ".join(ds.param_names(fit_bias))
    if ds.n < p:
        return (
            f"{ds.n} point{'s' if ds.n > 1 else ''} cannot pin down {p} parameters ({names}): "
            "infinitely many fits are equally good. Add points or fit without a bias."
        )
    x = ds.x.double().numpy()
    if fit_bias:
        constant = [f for f, col in zip(ds.feature_names, x.T, strict=True) if np.ptp(col) == 0]
        if constant:
            return (
                f"the feature {constant[0]!r} has the same value in every row, so its weight and the bias "
                "cannot be told apart. Use data where it varies, or fit without a bias."
            )
    lam = Quadratic.of(ds, fit_bias).eigenvalues
    if lam[-1] == 0 or lam[0] <= 1e-12 * lam[-1]:
        what = (
            "the two features move together (one is a multiple of the other)"
            if ds.d == 2
            else "the inputs are all zero"
        )
        return f"{what}, so no single best fit exists: many parameter values give the same loss."
    return None


def least_squares(ds: Dataset, fit_bias: bool = True) -> np.ndarray:
    """The closed-form optimum (w..., b); a ValueError in plain words when it is not unique."""
    problem = optimum_problem(ds, fit_bias)
    if problem:
        raise ValueError(problem)
    return Quadratic.of(ds, fit_bias).optimum


def _residuals(ds: Dataset, params) -> np.ndarray:
    params = np.asarray(params, dtype=np.float64)
    if len(params) not in (ds.d, ds.d + 1):
        raise ValueError(f"expected {ds.d} or {ds.d + 1} parameters for {ds.d} feature(s), got {len(params)}")
    return design_matrix(ds, len(params) == ds.d + 1) @ params - ds.y.double().numpy()


def rmse(ds: Dataset, params) -> float:
    """Root mean squared error of the fit, in the target's units."""
    r = _residuals(ds, params)
    return float(np.sqrt(np.mean(r**2)))


def r2(ds: Dataset, params) -> float:
    """Coefficient of determination, 1 - SS_res / SS_tot; NaN when every target is the same."""
    r = _residuals(ds, params)
    y = ds.y.double().numpy()
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    if ss_tot == 0.0:
        return math.nan
    return 1.0 - float(np.sum(r**2)) / ss_tot


@dataclass(frozen=True)
class Stability:
    """How large a learning rate gradient descent can take on this quadratic, and the best choices."""

    eigenvalues: np.ndarray
    condition_number: float
    max_stable_lr: float
    best_lr: float
    best_momentum_lr: float
    best_momentum: float

    def max_stable_lr_with_momentum(self, beta: float, nesterov: bool = False) -> float:
        """Heavy-ball momentum stays stable for lr < (2 + 2 beta) / lambda_max; Nesterov's (torch's form) for
        lr < (2 + 2 beta) / ((1 + 2 beta) lambda_max)."""
        lmax = float(self.eigenvalues[-1])
        if lmax == 0:
            return math.inf
        return (2.0 + 2.0 * beta) / ((1.0 + 2.0 * beta) if nesterov else 1.0) / lmax


def stability(ds: Dataset, fit_bias: bool = True) -> Stability:
    """Eigenvalues of the MSE Hessian (2/n) X'X and the learning-rate limits they set."""
    lam = Quadratic.of(ds, fit_bias).eigenvalues
    lmin, lmax = float(lam[0]), float(lam[-1])
    if lmax == 0.0:
        return Stability(lam, math.inf, math.inf, math.inf, math.inf, 0.0)
    kappa = lmax / lmin if lmin > 0 else math.inf
    root = math.sqrt(kappa)
    best_momentum = 1.0 if math.isinf(kappa) else ((root - 1.0) / (root + 1.0)) ** 2
    return Stability(
        eigenvalues=lam,
        condition_number=kappa,
        max_stable_lr=2.0 / lmax,
        best_lr=2.0 / (lmin + lmax),
        best_momentum_lr=(2.0 / (math.sqrt(lmin) + math.sqrt(lmax))) ** 2,
        best_momentum=best_momentum,
    )


def batch_max_stable_lr(ds: Dataset, fit_bias: bool = True, beta: float = 0.0, nesterov: bool = False) -> float:
    """A conservative learning rate for mini-batches: (1 - beta) / max_i |x_i|^2 (x_i with its 1 for the bias).

    No batch's Hessian has an eigenvalue above 2 max_i |x_i|^2, so a plain SGD step below 1 / max_i |x_i|^2 never
    overshoots on any batch; momentum stretches the effective step to lr / (1 - beta), and with batches that keep
    changing the bigger momentum limit of a fixed quadratic no longer holds, so the rate shrinks by (1 - beta).
    The same bound serves Nesterov's form.
    """
    X = design_matrix(ds, fit_bias)
    biggest = float(np.max(np.sum(X**2, axis=1)))
    return math.inf if biggest == 0 else (1.0 - beta) / biggest


@dataclass(frozen=True, eq=False)
class Surface:
    """The exact MSE over a grid of two parameters (kind "grid") or over one (kind "curve")."""

    kind: str
    axes: tuple[str, ...]
    a: np.ndarray
    b: np.ndarray | None
    z: np.ndarray
    optimum: np.ndarray  # the least-squares point in these axes
    fixed: dict  # parameters held constant for the slice, e.g. {"b": 1.02}
    columns: tuple[int, ...]  # which History.params columns the axes are
    min_loss: float  # the loss at the least-squares optimum


def surface_columns(d: int, fit_bias: bool) -> tuple[int, ...]:
    """The parameter columns a surface is drawn over: (w, b), (w1, w2) or (w,)."""
    if d == 1:
        return (0, 1) if fit_bias else (0,)
    return (0, 1)


def loss_surface(
    ds: Dataset,
    fit_bias: bool = True,
    path=None,
    resolution: int = 60,
    max_loss_factor: float = 100.0,
    square: bool = False,
) -> Surface:
    """Exact MSE over a grid around the optimum, the start and the tame part of a path.

    Path points whose loss is above max_loss_factor times the start's do not stretch the bounds, so a
    diverging run still gets readable axes (its last steps leave the plot). square=True widens the narrower axis
    to the wider one's span, so that drawn at equal scale a round bowl looks round and a thin valley thin.
    """
    quad = Quadratic.of(ds, fit_bias)
    cols = surface_columns(ds.d, fit_bias)
    names = ds.param_names(fit_bias)
    points = [quad.optimum[list(cols)]]
    if path is not None:
        path = np.asarray(path, dtype=np.float64)
        path = path[np.isfinite(path).all(axis=1)]
        if len(path):
            losses = quad.loss(path)
            tame = path[losses <= max_loss_factor * max(losses[0], quad.min_loss, 1e-12)]
            points.append(path[0][list(cols)])
            if len(tame):
                points.extend(tame[:, list(cols)])
    pts = np.array(points)
    lo, hi = pts.min(0), pts.max(0)
    span = hi - lo
    scale = np.maximum(np.abs(pts).max(0), 1.0)
    span = np.where(span < 1e-9 * scale, 0.5 * scale, span)
    if square:
        centre = (lo + hi) / 2.0
        span = np.full_like(span, span.max())
        lo, hi = centre - span / 2.0, centre + span / 2.0
    lo, hi = lo - 0.15 * span, hi + 0.15 * span
    fixed = {names[i]: float(quad.optimum[i]) for i in range(len(names)) if i not in cols}
    a = np.linspace(lo[0], hi[0], resolution)
    if len(cols) == 1:
        grid = np.zeros((resolution, len(names)))
        grid[:, cols[0]] = a
        return Surface(
            "curve", (names[cols[0]],), a, None, quad.loss(grid), quad.optimum[list(cols)], fixed, cols, quad.min_loss
        )
    b = np.linspace(lo[1], hi[1], resolution)
    A, B = np.meshgrid(a, b)
    grid = np.tile(quad.optimum, (resolution, resolution, 1))
    grid[..., cols[0]], grid[..., cols[1]] = A, B
    return Surface(
        "grid",
        (names[cols[0]], names[cols[1]]),
        a,
        b,
        quad.loss(grid),
        quad.optimum[list(cols)],
        fixed,
        cols,
        quad.min_loss,
    )
