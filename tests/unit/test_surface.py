"""engine.loss_surface: exact MSE at grid points (numpy float64); bounds holding the optimum and the path."""

import numpy as np
import pytest

import engine

from .references import np_lstsq, np_mse


def _xy(ds):
    return ds.x.numpy(), ds.y.numpy()


def _some_indices(surface):
    na, nb = len(surface.a), len(surface.b)
    return [(0, 0), (na - 1, nb - 1), (na // 2, nb // 3), (1, nb - 2), (na - 3, 2)]


def test_single_feature_grid_is_exact_mse_over_w_and_b():
    ds = engine.make_dataset("line", n=20, seed=2)
    x, y = _xy(ds)
    s = engine.loss_surface(ds, fit_bias=True, resolution=25)
    assert s.kind == "grid"
    assert isinstance(s.axes, tuple) and len(s.axes) == 2
    assert s.a.ndim == 1 and s.b.ndim == 1
    assert s.z.shape == (len(s.b), len(s.a))
    assert np.all(np.diff(s.a) > 0) and np.all(np.diff(s.b) > 0)
    for i, j in _some_indices(s):
        assert s.z[j, i] == pytest.approx(np_mse(x, y, (s.a[i], s.b[j])), rel=1e-5, abs=1e-7)
    opt = np_lstsq(x, y)
    assert s.a.min() <= opt[0] <= s.a.max() and s.b.min() <= opt[1] <= s.b.max()
    # No grid point lies below the least-squares loss.
    assert s.z.min() >= np_mse(x, y, opt) * (1 - 1e-6) - 1e-9


def test_two_feature_grid_is_over_w1_w2_with_b_at_its_least_squares_value():
    ds = engine.make_dataset("plane", n=30, seed=4)
    x, y = _xy(ds)
    opt = np_lstsq(x, y)
    s = engine.loss_surface(ds, fit_bias=True, resolution=20)
    assert s.kind == "grid" and len(s.axes) == 2
    assert s.z.shape == (len(s.b), len(s.a))
    for i, j in _some_indices(s):
        assert s.z[j, i] == pytest.approx(np_mse(x, y, (s.a[i], s.b[j], opt[2])), rel=1e-5, abs=1e-7)
    assert s.a.min() <= opt[0] <= s.a.max() and s.b.min() <= opt[1] <= s.b.max()
    assert s.z.min() >= np_mse(x, y, opt) * (1 - 1e-6) - 1e-9


def test_two_features_without_bias():
    ds = engine.make_dataset("plane", n=30, seed=4)
    x, y = _xy(ds)
    s = engine.loss_surface(ds, fit_bias=False, resolution=15)
    for i, j in _some_indices(s):
        assert s.z[j, i] == pytest.approx(np_mse(x, y, (s.a[i], s.b[j])), rel=1e-5, abs=1e-7)
    opt = np_lstsq(x, y, fit_bias=False)
    assert s.a.min() <= opt[0] <= s.a.max() and s.b.min() <= opt[1] <= s.b.max()


def test_bounds_include_every_point_of_a_given_path():
    ds = engine.make_dataset("thermometer")
    hist = engine.train(ds, engine.TrainConfig(lr=1e-4, epochs=60, init=(1.0, 0.0)))
    s = engine.loss_surface(ds, fit_bias=True, path=hist.params, resolution=30)
    assert s.a.min() <= hist.params[:, 0].min() and hist.params[:, 0].max() <= s.a.max()
    assert s.b.min() <= hist.params[:, 1].min() and hist.params[:, 1].max() <= s.b.max()
    opt = np_lstsq(*_xy(ds))
    assert s.a.min() <= opt[0] <= s.a.max() and s.b.min() <= opt[1] <= s.b.max()
    x, y = _xy(ds)
    for i, j in _some_indices(s):
        assert s.z[j, i] == pytest.approx(np_mse(x, y, (s.a[i], s.b[j])), rel=1e-5, abs=1e-6)


def test_far_away_path_widens_the_bounds():
    ds = engine.make_dataset("line", n=20, seed=2)
    path = np.array([[-40.0, 25.0], [10.0, -30.0], [2.0, 1.0]])
    s = engine.loss_surface(ds, fit_bias=True, path=path, resolution=20)
    assert s.a.min() <= -40.0 and s.a.max() >= 10.0
    assert s.b.min() <= -30.0 and s.b.max() >= 25.0


def test_two_feature_path_bounds_use_the_two_weights():
    ds = engine.make_dataset("plane", n=30, seed=4)
    hist = engine.train(ds, engine.TrainConfig(lr=0.05, epochs=30, init=(-6.0, 7.0, 0.0)))
    s = engine.loss_surface(ds, fit_bias=True, path=hist.params, resolution=20)
    assert s.a.min() <= hist.params[:, 0].min() and hist.params[:, 0].max() <= s.a.max()
    assert s.b.min() <= hist.params[:, 1].min() and hist.params[:, 1].max() <= s.b.max()


def test_single_point_without_bias_is_a_curve_over_w():
    ds = engine.make_dataset("single-point")
    hist = engine.train(ds, engine.TrainConfig(lr=0.01, epochs=40, init=(-3.0,), fit_bias=False))
    s = engine.loss_surface(ds, fit_bias=False, path=hist.params, resolution=40)
    assert s.kind == "curve"
    assert s.b is None
    assert s.z.ndim == 1 and s.z.shape == s.a.shape
    np.testing.assert_allclose(s.z, (2.0 * s.a - 4.0) ** 2, rtol=1e-6, atol=1e-9)
    assert s.a.min() <= min(-3.0, 2.0) and s.a.max() >= 2.0
    assert s.a.min() <= hist.params[:, 0].min() and hist.params[:, 0].max() <= s.a.max()
