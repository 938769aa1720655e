"""The eigen-plane picture, the milestones split and the conditioning figures, against numpy's eigenvectors, the
closed-form dynamics of gradient descent on a quadratic, mpmath's high-precision eigenvalues, and real runs."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

import engine


@pytest.fixture(scope="module")
def line():
    return engine.make_dataset("line", n=30, noise=0.5, seed=6)


def np_loss(x, y, params, weight_decay=0.0, l1=0.0):
    """MSE + (wd/2)||w||^2 + l1||w||_1 with a bias as the last parameter, numpy float64."""
    x, y, p = np.asarray(x, np.float64), np.asarray(y, np.float64), np.asarray(params, np.float64)
    w = p[: x.shape[1]]
    return float(np.mean((x @ w + p[-1] - y) ** 2) + 0.5 * weight_decay * w @ w + l1 * np.abs(w).sum())


def np_hessian(x, weight_decay):
    X = np.hstack([np.asarray(x, np.float64), np.ones((len(x), 1))])
    return 2 / len(X) * X.T @ X + weight_decay * np.diag([1.0] * (X.shape[1] - 1) + [0.0])


# ----------------------------------------------------------------------------------------------------
# The eigen-plane
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("weight_decay", "l1"), [(0.0, 0.0), (0.3, 0.0), (0.1, 0.05)])
def test_plane_surface_is_the_exact_loss_on_numpys_extreme_eigenvectors(line, weight_decay, l1):
    pds = engine.polynomial(line, 4)
    hist = engine.train(pds, engine.TrainConfig(lr=0.1, epochs=100, weight_decay=weight_decay, l1=l1))
    surf = engine.plane_surface(pds, hist.params, weight_decay=weight_decay, l1=l1, resolution=9)
    lam, vecs = np.linalg.eigh(np_hessian(pds.x.numpy(), weight_decay))
    steep, flat = vecs[:, -1], vecs[:, 0]
    assert abs(surf.plane.steep @ steep) == pytest.approx(1.0, abs=1e-9)  # the same direction, up to sign
    assert abs(surf.plane.flat @ flat) == pytest.approx(1.0, abs=1e-9)
    center = surf.plane.center
    x, y = pds.x.numpy(), pds.y.numpy()
    for i, j in ((0, 0), (4, 7), (8, 3)):
        point = center + surf.a[j] * surf.plane.steep + surf.b[i] * surf.plane.flat
        assert surf.z[i, j] == pytest.approx(np_loss(x, y, point, weight_decay, l1), rel=1e-9)
    assert surf.min_loss == pytest.approx(np_loss(x, y, center, weight_decay, l1), rel=1e-12)
    assert surf.z.min() >= surf.min_loss - 1e-12  # the optimum is the lowest point of the plane
    # the path's loss is at its own points; its coordinates are the projections
    np.testing.assert_allclose(
        surf.path_loss[[0, 50]], [np_loss(x, y, hist.params[k], weight_decay, l1) for k in (0, 50)]
    )
    delta = hist.params[7] - center
    np.testing.assert_allclose(surf.path[7], [delta @ surf.plane.steep, delta @ surf.plane.flat], atol=1e-12)
    residual = delta - surf.path[7, 0] * surf.plane.steep - surf.path[7, 1] * surf.plane.flat
    assert surf.off_plane[7] == pytest.approx(np.linalg.norm(residual), abs=1e-12)


def test_with_two_parameters_the_plane_is_the_whole_space():
    ds = engine.polynomial(engine.make_dataset("line", n=20, seed=2), 2)
    hist = engine.train(ds, engine.TrainConfig(lr=0.1, epochs=50, fit_bias=False))
    surf = engine.plane_surface(ds, hist.params, fit_bias=False)
    np.testing.assert_allclose(surf.off_plane, 0.0, atol=1e-12)
    np.testing.assert_allclose(surf.plane.point(surf.path[:, 0], surf.path[:, 1]), hist.params, atol=1e-12)


# ----------------------------------------------------------------------------------------------------
# Milestones
# ----------------------------------------------------------------------------------------------------


def test_milestones_follow_gradient_descents_closed_form(line):
    """On a quadratic, GD at rate lr multiplies the error along eigenvector i by (1 - lr lambda_i) each step, so
    its share of the loss by (1 - lr lambda_i)^2. At lr = 1 / lambda_max (no overshoot) the steep directions die
    first, the flat ones last."""
    pds = engine.polynomial(line, 3)
    wd = 0.2
    lr = 1.0 / np.linalg.eigvalsh(np_hessian(pds.x.numpy(), wd))[-1]
    hist = engine.train(pds, engine.TrainConfig(method="analytic", lr=lr, epochs=60, weight_decay=wd))
    m = engine.milestones(pds, hist.params, weight_decay=wd)
    lam = np.linalg.eigvalsh(np_hessian(pds.x.numpy(), wd))
    np.testing.assert_allclose(m.eigenvalues, lam, rtol=1e-9)
    ridge_opt = np.linalg.solve(
        np_hessian(pds.x.numpy(), wd),
        2 / pds.n * np.hstack([pds.x.double().numpy(), np.ones((pds.n, 1))]).T @ pds.y.double().numpy(),
    )
    x, y = pds.x.numpy(), pds.y.numpy()
    for k in (0, 10, 60):
        excess = np_loss(x, y, hist.params[k], wd) - np_loss(x, y, ridge_opt, wd)
        assert m.total[k] == pytest.approx(excess, rel=1e-6, abs=1e-12)
    for k in (1, 5, 20):
        expected = m.excess[0] * (1 - lr * lam) ** (2 * k)
        np.testing.assert_allclose(m.excess[k], expected, rtol=1e-3, atol=1e-9)
    below = m.excess < 1e-4 * m.excess[0]
    first = np.where(below.any(0), below.argmax(0), 10**9)
    assert np.all(np.diff(first) <= 0), first  # ascending eigenvalues: steeper ones get there no later


# ----------------------------------------------------------------------------------------------------
# Conditioning
# ----------------------------------------------------------------------------------------------------


def _mp_condition(x, degree, standardize):
    """kappa of (X'X)/n in 80-digit arithmetic from the float64 data (powers and standardization in mpmath too)."""
    mpmath.mp.dps = 80
    xs = [mpmath.mpf(float(v)) for v in x]
    n = len(xs)
    cols = [[v**k for v in xs] for k in range(1, degree + 1)]
    if standardize:
        out = []
        for c in cols:
            mean = mpmath.fsum(c) / n
            sd = mpmath.sqrt(mpmath.fsum((v - mean) ** 2 for v in c) / n)
            out.append([(v - mean) / sd for v in c])
        cols = out
    cols.append([mpmath.mpf(1)] * n)
    s = mpmath.matrix(len(cols), len(cols))
    for i, a in enumerate(cols):
        for j, b in enumerate(cols):
            s[i, j] = mpmath.fsum(u * v for u, v in zip(a, b, strict=True)) / n
    ev = mpmath.eigsy(s, eigvals_only=True)
    ev = sorted(float(e) for e in ev)
    return ev[-1] / ev[0]


@pytest.mark.parametrize("name", ["line", "thermometer"])
def test_condition_numbers_are_mpmaths(name):
    ds = engine.make_dataset(name)
    cond = engine.conditioning(ds, degrees=[1, 3, 5, 7])
    x = ds.x.double().numpy()[:, 0]
    for k, degree in enumerate(cond.degrees):
        assert cond.raw[k] == pytest.approx(_mp_condition(x, int(degree), False), rel=1e-4)
        assert cond.standardized[k] == pytest.approx(_mp_condition(x, int(degree), True), rel=1e-4)
    assert np.all(np.diff(cond.raw) > 0) and np.all(cond.standardized < cond.raw)


def test_steps_at_the_best_rate_are_what_gradient_descent_takes(line):
    """Start on the optimum plus the flattest eigenvector: then the whole excess lies along the slowest direction,
    and gradient descent at 2 / (lambda_min + lambda_max) takes the predicted number of steps (one either way)."""
    pds = engine.polynomial(line, 3)
    st = engine.stability(pds)
    predicted = engine.steps_at_best_rate(st.condition_number, 0.01)
    plane = engine.eigen_plane(pds)
    start = tuple(plane.center + plane.flat)
    hist = engine.train(
        pds, engine.TrainConfig(method="analytic", lr=st.best_lr, epochs=int(predicted) + 5, init=start)
    )
    quad_min = engine.regularized_loss(pds, plane.center)
    excess = hist.loss - quad_min
    taken = int(np.argmax(excess <= 0.01 * excess[0]))
    assert abs(taken - predicted) <= 1, (taken, predicted)
    assert engine.conditioning(pds.polynomial.base, degrees=[3]).steps_standardized[0] == pytest.approx(
        predicted, rel=1e-6
    )


def test_steps_formula_edges():
    assert engine.steps_at_best_rate(1.0) == 1.0
    assert engine.steps_at_best_rate(math.inf) == math.inf
    assert engine.steps_at_best_rate(1e30) == pytest.approx(math.log(100) / 4 * 1e30, rel=1e-6)
    with pytest.raises(ValueError):
        engine.steps_at_best_rate(10.0, 1.5)
