"""Closed-form optimum, R^2 and RMSE against numpy float64 formulas; no unique optimum is a ValueError."""

import numpy as np
import pytest

import engine

from .references import np_lstsq, np_r2, np_rmse


def _xy(ds):
    return ds.x.numpy(), ds.y.numpy()


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
def test_least_squares_matches_numpy_lstsq(name, fit_bias):
    ds = engine.make_dataset(name)
    got = engine.least_squares(ds, fit_bias=fit_bias)
    assert isinstance(got, np.ndarray)
    assert got.shape == (ds.x.shape[1] + int(fit_bias),)
    np.testing.assert_allclose(got, np_lstsq(*_xy(ds), fit_bias), rtol=1e-6, atol=1e-7)


def test_least_squares_default_is_with_bias():
    ds = engine.make_dataset("line")
    np.testing.assert_allclose(engine.least_squares(ds), np_lstsq(*_xy(ds), True), rtol=1e-6)


@pytest.mark.parametrize(
    ("name", "fit_bias", "expected"),
    [("lab", True, [3.0, 2.0]), ("four-points", False, [2.0]), ("single-point", False, [2.0])],
)
def test_least_squares_recovers_exact_tutorial_answers(name, fit_bias, expected):
    got = engine.least_squares(engine.make_dataset(name), fit_bias=fit_bias)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


def test_noise_free_plane_gives_the_true_parameters():
    ds = engine.make_dataset("plane", n=12, noise=0.0, seed=3)
    np.testing.assert_allclose(engine.least_squares(ds), [2.0, -3.0, 1.0], rtol=1e-5, atol=1e-5)


def test_single_point_with_bias_has_no_unique_optimum():
    with pytest.raises(ValueError) as exc:
        engine.least_squares(engine.make_dataset("single-point"), fit_bias=True)
    assert str(exc.value).strip()


def test_constant_feature_with_bias_has_no_unique_optimum():
    ds = engine.dataset_from_arrays([3.0, 3.0, 3.0, 3.0], [1.0, 2.0, 3.0, 5.0])
    with pytest.raises(ValueError) as exc:
        engine.least_squares(ds, fit_bias=True)
    assert str(exc.value).strip()
    # Without the bias the same data do have one optimum: w = sum(x y) / sum(x^2).
    np.testing.assert_allclose(engine.least_squares(ds, fit_bias=False), [33.0 / 36.0], rtol=1e-6)


def test_two_points_with_two_features_and_bias_has_no_unique_optimum():
    ds = engine.dataset_from_arrays([[1.0, 2.0], [3.0, 1.0]], [1.0, 2.0])
    with pytest.raises(ValueError):
        engine.least_squares(ds, fit_bias=True)


def test_collinear_features_have_no_unique_optimum():
    x = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0], [4.0, 8.0]])
    ds = engine.dataset_from_arrays(x, [1.0, 2.0, 2.5, 4.0])
    with pytest.raises(ValueError):
        engine.least_squares(ds, fit_bias=True)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("line", (1.5, 0.5)),
        ("line", (2.0,)),
        ("plane", (1.0, -2.0, 0.5)),
        ("plane", (1.0, -2.0)),
        ("thermometer", (0.5, -17.0)),
        ("thermometer", (1.0, 0.0)),
    ],
)
def test_r2_and_rmse_match_their_formulas(name, params):
    ds = engine.make_dataset(name)
    x, y = _xy(ds)
    assert engine.r2(ds, params) == pytest.approx(np_r2(x, y, params), rel=1e-6, abs=1e-9)
    assert engine.rmse(ds, params) == pytest.approx(np_rmse(x, y, params), rel=1e-6)


def test_r2_is_one_and_rmse_zero_on_an_exact_fit():
    ds = engine.make_dataset("lab")
    assert engine.r2(ds, (3.0, 2.0)) == pytest.approx(1.0, abs=1e-9)
    assert engine.rmse(ds, (3.0, 2.0)) == pytest.approx(0.0, abs=1e-6)


def test_r2_at_the_least_squares_fit_of_the_thermometer():
    ds = engine.make_dataset("thermometer")
    x, y = _xy(ds)
    opt = np_lstsq(x, y)
    assert engine.r2(ds, opt) == pytest.approx(np_r2(x, y, opt), rel=1e-7)
    assert engine.rmse(ds, opt) == pytest.approx(np.sqrt(2.9276460), rel=1e-5)
