"""engine.stability against numpy's eigenvalues, and its learning-rate limits checked by training just below
and just above them."""

import numpy as np
import pytest

import engine

from .references import np_gd, np_hessian_eigenvalues, np_lstsq, np_mse


def _xy(ds):
    return ds.x.numpy(), ds.y.numpy()


def _data(name):
    if name == "thermometer-standardized":
        return engine.scale_inputs(engine.make_dataset("thermometer"), "standardize")
    return engine.make_dataset(name)


@pytest.mark.parametrize(
    ("name", "fit_bias"),
    [
        ("line", True),
        ("line", False),
        ("plane", True),
        ("plane", False),
        ("thermometer", True),
        ("lab", True),
    ],
)
def test_eigenvalues_and_derived_figures_match_numpy(name, fit_bias):
    ds = engine.make_dataset(name)
    st = engine.stability(ds, fit_bias=fit_bias)
    ev = np_hessian_eigenvalues(ds.x.numpy(), fit_bias)
    lmin, lmax = ev[0], ev[-1]
    k = lmax / lmin
    np.testing.assert_allclose(st.eigenvalues, ev, rtol=1e-5)
    assert np.all(np.diff(st.eigenvalues) >= 0)
    assert st.condition_number == pytest.approx(k, rel=1e-5)
    assert st.max_stable_lr == pytest.approx(2 / lmax, rel=1e-5)
    assert st.best_lr == pytest.approx(2 / (lmin + lmax), rel=1e-5)
    assert st.best_momentum_lr == pytest.approx((2 / (np.sqrt(lmin) + np.sqrt(lmax))) ** 2, rel=1e-5)
    assert st.best_momentum == pytest.approx(((np.sqrt(k) - 1) / (np.sqrt(k) + 1)) ** 2, rel=1e-5, abs=1e-12)
    for beta in (0.0, 0.5, 0.9):
        assert st.max_stable_lr_with_momentum(beta) == pytest.approx((2 + 2 * beta) / lmax, rel=1e-5)


def test_single_feature_hessian_by_hand():
    """lab: x = 0..9, H = 2 [[mean x^2, mean x], [mean x, 1]] = [[57, 9], [9, 2]]."""
    st = engine.stability(engine.make_dataset("lab"))
    tr, det = 59.0, 57.0 * 2 - 81.0
    disc = np.sqrt(tr**2 - 4 * det)
    np.testing.assert_allclose(st.eigenvalues, [(tr - disc) / 2, (tr + disc) / 2], rtol=1e-6)


@pytest.mark.parametrize("name", ["line", "thermometer", "thermometer-standardized"])
def test_lr_just_below_the_limit_converges(name):
    ds = _data(name)
    st = engine.stability(ds)
    lr = 0.95 * st.max_stable_lr
    hist = engine.train(ds, engine.TrainConfig(lr=lr, epochs=300))
    assert not hist.diverged
    assert len(hist.params) == 301
    # lr < 2 / lmax: plain gradient descent never increases the loss.
    assert np.all(np.diff(hist.loss) <= 1e-6 * hist.loss[:-1] + 1e-9)
    x, y = _xy(ds)
    opt = np_lstsq(x, y)
    ev, vecs = np.linalg.eigh(2 / len(x) * np.c_[x, np.ones(len(x))].T @ np.c_[x, np.ones(len(x))])
    v_max = vecs[:, -1]
    # The stiff direction (the one that limits lr) is contracted by |1 - lr lmax| = 0.9 per step.
    start = abs(v_max @ (hist.params[0] - opt))
    end = abs(v_max @ (hist.params[-1] - opt))
    assert end < 1e-4 * start
    if ev[-1] / ev[0] < 100:  # well-conditioned: all the way to the least-squares loss
        assert hist.loss[-1] == pytest.approx(np_mse(x, y, opt), rel=1e-5, abs=1e-7)
    # Every 50th step as float64 gradient descent takes it.
    ref = np_gd(x, y, (0.0, 0.0), lr, 300)
    np.testing.assert_allclose(hist.params[::50], ref[::50], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["line", "thermometer", "thermometer-standardized"])
def test_lr_just_above_the_limit_diverges(name):
    ds = _data(name)
    lr = 1.05 * engine.stability(ds).max_stable_lr
    hist = engine.train(ds, engine.TrainConfig(lr=lr, epochs=1000))
    assert hist.diverged
    assert hist.diverged_at is not None and hist.diverged_at < 1000
    assert np.isfinite(hist.params).all() and np.isfinite(hist.loss).all()


@pytest.mark.parametrize("name", ["line", "thermometer", "thermometer-standardized"])
def test_with_momentum_just_below_the_limit_converges(name):
    ds = _data(name)
    st = engine.stability(ds)
    lr = 0.95 * st.max_stable_lr_with_momentum(0.5)
    assert lr > st.max_stable_lr  # heavier steps than plain gradient descent could take
    hist = engine.train(ds, engine.TrainConfig(lr=lr, momentum=0.5, epochs=300))
    assert not hist.diverged
    x, y = _xy(ds)
    opt = np_lstsq(x, y)
    big_x = np.c_[x, np.ones(len(x))]
    ev, vecs = np.linalg.eigh(2 / len(x) * big_x.T @ big_x)
    v_max = vecs[:, -1]
    start = abs(v_max @ (hist.params[0] - opt))
    end = abs(v_max @ (hist.params[-1] - opt))
    assert end < 1e-4 * start
    if ev[-1] / ev[0] < 100:
        assert hist.loss[-1] == pytest.approx(np_mse(x, y, opt), rel=1e-5, abs=1e-7)
    ref = np_gd(x, y, (0.0, 0.0), lr, 300, momentum=0.5)
    np.testing.assert_allclose(hist.params[::50], ref[::50], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["line", "thermometer", "thermometer-standardized"])
def test_with_momentum_just_above_the_limit_diverges(name):
    ds = _data(name)
    lr = 1.05 * engine.stability(ds).max_stable_lr_with_momentum(0.5)
    hist = engine.train(ds, engine.TrainConfig(lr=lr, momentum=0.5, epochs=1000))
    assert hist.diverged
    assert np.isfinite(hist.params).all() and np.isfinite(hist.loss).all()


def test_best_lr_beats_smaller_and_larger_rates():
    """Plain gradient descent on the plane: after 10 steps from a generic start, best_lr is closest."""
    ds = engine.make_dataset("plane", n=30, seed=8)
    st = engine.stability(ds)
    opt = np_lstsq(*_xy(ds))

    def distance(lr):
        cfg = engine.TrainConfig(method="analytic", lr=lr, epochs=10, init=(-3.0, 4.0, 5.0))
        return np.linalg.norm(engine.train(ds, cfg).params[-1] - opt)

    best = distance(st.best_lr)
    assert best < distance(0.8 * st.best_lr)
    assert best < distance(1.2 * st.best_lr)


def test_best_momentum_beats_plain_gradient_descent_on_ill_conditioned_data():
    """Thermometer readings (condition number ~3e4): heavy ball with best_momentum and best_momentum_lr gets
    within a hundredth of the distance that plain descent at best_lr covers in the same 2000 steps."""
    ds = engine.make_dataset("thermometer")
    st = engine.stability(ds)
    assert st.condition_number > 1e4
    opt = np_lstsq(*_xy(ds))
    plain = engine.train(ds, engine.TrainConfig(method="analytic", lr=st.best_lr, epochs=2000))
    heavy = engine.train(
        ds,
        engine.TrainConfig(method="analytic", lr=st.best_momentum_lr, momentum=st.best_momentum, epochs=2000),
    )
    assert not plain.diverged and not heavy.diverged
    assert np.linalg.norm(heavy.params[-1] - opt) < 0.01 * np.linalg.norm(plain.params[-1] - opt)


@pytest.mark.parametrize("scale", [0.95, 1.05])
def test_nesterov_limit(scale):
    """torch's Nesterov form on curvature lam: z^2 - (1 + beta)(1 - h) z + beta (1 - h) with h = lr lam; the
    root z = -1 sits at h = (2 + 2 beta) / (1 + 2 beta): below it converges, above it diverges."""
    ds = engine.make_dataset("line")
    st = engine.stability(ds)
    beta = 0.5
    limit = (2 + 2 * beta) / (1 + 2 * beta) / st.eigenvalues[-1]
    assert st.max_stable_lr_with_momentum(beta, nesterov=True) == pytest.approx(limit, rel=1e-6)
    hist = engine.train(ds, engine.TrainConfig(lr=scale * limit, momentum=beta, nesterov=True, epochs=1000))
    assert hist.diverged == (scale > 1)
    if scale < 1:
        x, y = _xy(ds)
        assert hist.loss[-1] == pytest.approx(np_mse(x, y, np_lstsq(x, y)), rel=1e-5)
        ref = np_gd(x, y, (0.0, 0.0), scale * limit, 1000, momentum=beta, nesterov=True)
        np.testing.assert_allclose(hist.params[::100], ref[::100], rtol=1e-4, atol=1e-5)
