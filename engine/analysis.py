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


# Beyond this condition number the loss surface counts as degenerate: float32 gradient descent cannot reach the optimum
# (it needs on the order of that many steps), and after normalizing the inputs it means the inputs themselves are
# (nearly) dependent.
DEGENERATE_CONDITION = 1e12
# The condition number below which input scaling is no longer needed (the "Your data" page's hint starts above it).
WELL_SCALED_CONDITION = 1e3


@dataclass(frozen=True, eq=False)
class BadScale:
    """A unique optimum that float32 gradient descent cannot reach: the inputs' size next to their spread, or next
    to the constant 1 that the bias multiplies, stretches the loss surface beyond any run (condition_number)."""

    condition_number: float  # of the Hessian (2/n) X'X of the raw inputs, computed without cancellation
    standardized_condition: float  # after standardizing the inputs, as the input-scaling control does
    shifted_condition: float | None  # after subtracting each feature's first value (with a bias only)
    optimum: np.ndarray  # the float64 least-squares optimum in the raw units, solved on the normalized inputs


def _normalized(x: np.ndarray, fit_bias: bool) -> tuple[np.ndarray, np.ndarray]:
    """(Z'Z/n, T) with X = Z @ T: Z's columns are the inputs centred and divided by their standard deviation, then the
    ones column, with a bias; the inputs divided by their root mean square without. Both from centred sums, so no
    cancellation. Needs every column to vary (with a bias) or to be non-zero (without)."""
    d = x.shape[1]
    if fit_bias:
        mean = x.mean(0)
        centred = x - mean
        cov = centred.T @ centred / len(x)
        sd = np.sqrt(np.diag(cov))
        sz, t = np.eye(d + 1), np.zeros((d + 1, d + 1))
        sz[:d, :d] = cov / np.outer(sd, sd)
        t[:d, :d], t[d, :d], t[d, d] = np.diag(sd), mean, 1.0
        return sz, t
    second = x.T @ x / len(x)
    rms = np.sqrt(np.diag(second))
    return second / np.outer(rms, rms), np.diag(rms)


def _condition(x: np.ndarray, fit_bias: bool) -> tuple[float, float]:
    """(condition number of (2/n) X'X, that of the normalized inputs' Z'Z), free of the cancellation that forming
    X'X with huge entries causes: kappa = lambda_max(S) * lambda_max(S^-1), S^-1 = T^-1 (Z'Z/n)^-1 T^-T."""
    sz, t = _normalized(x, fit_bias)
    lam_z = np.linalg.eigvalsh(sz)
    if lam_z[0] <= lam_z[-1] / DEGENERATE_CONDITION:
        return math.inf, math.inf
    t_inv = np.linalg.inv(t)
    s_inv = t_inv @ np.linalg.inv(sz) @ t_inv.T
    s = t.T @ sz @ t
    return float(np.linalg.eigvalsh(s)[-1] * np.linalg.eigvalsh(s_inv)[-1]), float(lam_z[-1] / lam_z[0])


def bad_scale(ds: Dataset, fit_bias: bool = True) -> BadScale | None:
    """The figures of badly scaled inputs (see BadScale), or None when the inputs are fine or the optimum is not
    unique for another reason (too few rows, a constant or all-zero column, dependent features)."""
    x = ds.x.double().numpy()
    degenerate = np.ptp(x, axis=0) == 0 if fit_bias else ~np.any(x, axis=0)
    if ds.n < ds.d + int(fit_bias) or degenerate.any():
        return None
    kappa, kappa_z = _condition(x, fit_bias)
    if not math.isfinite(kappa_z) or kappa <= DEGENERATE_CONDITION:
        return None
    # the optimum on the normalized inputs Z (well conditioned), mapped back: X p = Z T p, so p = T^-1 p_z
    _, t = _normalized(x, fit_bias)
    if fit_bias:
        z = np.hstack([(x - t[ds.d, : ds.d]) / np.diag(t)[: ds.d], np.ones((ds.n, 1))])
    else:
        z = x / np.diag(t)
    optimum = np.linalg.solve(t, np.linalg.lstsq(z, ds.y.double().numpy(), rcond=None)[0])
    shifted = _condition(x - x[0], True)[0] if fit_bias else None
    standardized = kappa_z if fit_bias else _condition(x / x.std(0), False)[0]
    return BadScale(kappa, standardized, shifted, optimum)


def _span_text(col: np.ndarray) -> str:
    """'from A to B', with enough digits that A and B differ when they do."""
    lo, hi = float(col.min()), float(col.max())
    digits = 3 + max(0, math.ceil(math.log10(max(abs(lo), abs(hi)) / (hi - lo))))
    return f"from {lo:.{digits}g} to {hi:.{digits}g}"


def _bad_scale_text(ds: Dataset, fit_bias: bool, bad: BadScale) -> str:
    """What makes the inputs badly scaled (their sizes, spreads, and the bias's 1), the fix, the float64 optimum."""
    x = ds.x.double().numpy()
    far = WELL_SCALED_CONDITION
    parts = []
    for name, col in zip(ds.feature_names, x.T, strict=True):
        part = f"{name!r} runs {_span_text(col)} (standard deviation {col.std():.2g})"
        rms = float(np.sqrt(np.mean(col**2)))
        if fit_bias and abs(col.mean()) > far * col.std():
            part += ", far from 0 next to that spread"
        if fit_bias and not 1 / far <= rms <= far:
            part += f", far {'larger' if rms > far else 'smaller'} than the constant 1 that the bias multiplies"
        parts.append(part)
    if ds.d == 2:
        rms = np.sqrt(np.mean(x**2, axis=0))
        big, small = (0, 1) if rms[0] > rms[1] else (1, 0)
        if rms[big] > far * rms[small]:
            parts.append(f"{ds.feature_names[big]!r} is far larger than {ds.feature_names[small]!r}")
    kappa = bad.condition_number
    text = (
        f"the inputs are badly scaled: {'; '.join(parts)}. That stretches the loss surface into a valley with "
        f"condition number {kappa:.2g}, so gradient descent would need on the order of {kappa:.1g} steps to reach "
        f"the best fit (about {math.sqrt(kappa):.1g} even with the best momentum), far more than any run takes. "
        "Fix: standardize the inputs (the playground's Input scaling: standardize), which brings the condition "
        f"number to {bad.standardized_condition:.2g}"
    )
    if bad.shifted_condition is not None:
        shifted = bad.shifted_condition
        if shifted <= WELL_SCALED_CONDITION:
            text += f", or subtract the first value from each input, which brings it to {shifted:.2g}"
        else:
            text += f" (subtracting the first value alone is not enough here: it leaves {shifted:.2g})"
    fit = ", ".join(f"{name} = {v:.6g}" for name, v in zip(ds.param_names(fit_bias), bad.optimum, strict=True))
    how = "centred, rescaled inputs" if fit_bias else "rescaled inputs"
    return text + f". The best fit, solved in float64 on {how} and mapped back: {fit}."


def optimum_problem(ds: Dataset, fit_bias: bool = True) -> str | None:
    """A plain sentence when the data has no unique least-squares optimum, or one that float32 gradient descent
    cannot reach because the inputs are badly scaled (then with the float64 optimum); else None."""
    p = ds.d + int(fit_bias)
    names = ", ".join(ds.param_names(fit_bias))
    if ds.n < p:
        return (
            f"{ds.n} point{'s' if ds.n > 1 else ''} cannot pin down {p} parameters ({names}): "
            "infinitely many fits are equally good. Add points or fit without a bias."
        )
    x = ds.x.double().numpy()
    zero = [f for f, col in zip(ds.feature_names, x.T, strict=True) if not np.any(col)]
    if zero:
        what = "the inputs are all zero" if ds.d == 1 else f"the feature {zero[0]!r} is all zero"
        return f"{what}, so no single best fit exists: many parameter values give the same loss."
    if fit_bias:
        constant = [f for f, col in zip(ds.feature_names, x.T, strict=True) if np.ptp(col) == 0]
        if constant:
            return (
                f"the feature {constant[0]!r} has the same value in every row, so its weight and the bias "
                "cannot be told apart. Use data where it varies, or fit without a bias."
            )
    if math.isinf(_condition(x, fit_bias)[1]):
        plus = ", plus a constant" if fit_bias else ""
        return (
            f"the two features move together (one is a multiple of the other{plus}), so no single best fit "
            "exists: many parameter values give the same loss."
        )
    bad = bad_scale(ds, fit_bias)
    return _bad_scale_text(ds, fit_bias, bad) if bad else None


def least_squares(ds: Dataset, fit_bias: bool = True) -> np.ndarray:
    """The closed-form optimum (w..., b); a ValueError in plain words when it is not unique, or when the inputs are
    too badly scaled for float32 training to reach it (the message then gives the float64 optimum)."""
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


def stability(ds: Dataset, fit_bias: bool = True, weight_decay: float = 0.0) -> Stability:
    """Eigenvalues of the MSE Hessian (2/n) X'X and the learning-rate limits they set; with weight decay, of the
    regularized loss's Hessian (2/n) X'X + weight_decay * D (D: the identity on the weights, 0 on the bias)."""
    if not (math.isfinite(weight_decay) and weight_decay >= 0):
        raise ValueError(f"weight decay must be a number of at least 0, got {weight_decay}")
    if weight_decay == 0:
        lam = Quadratic.of(ds, fit_bias).eigenvalues
    else:
        lam = np.clip(np.linalg.eigvalsh(regularized_hessian(ds, fit_bias, weight_decay)), 0.0, None)
    return _stability_of(lam)


def regularized_hessian(ds: Dataset, fit_bias: bool = True, weight_decay: float = 0.0) -> np.ndarray:
    """(2/n) X'X + weight_decay * D in float64: the Hessian of MSE + (weight_decay / 2) ||w||^2, bias unpenalized."""
    hessian = 2.0 * Quadratic.of(ds, fit_bias).S
    hessian[np.arange(ds.d), np.arange(ds.d)] += weight_decay
    return hessian


def _stability_of(lam: np.ndarray) -> Stability:
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
