"""scale_inputs: the scaled inputs by numpy's formulas, and Scaling.to_original mapping fitted parameters back
so that the predictions (and so the least squares) are those of the raw data."""

import numpy as np
import pytest

import engine

from .references import np_lstsq, np_predict


def _xy(ds):
    return ds.x.numpy(), ds.y.numpy()


@pytest.mark.parametrize("name", ["line", "plane", "thermometer", "lab"])
def test_standardize_is_mean_zero_population_std_one(name):
    raw = engine.make_dataset(name)
    ds = engine.scale_inputs(raw, "standardize")
    x = raw.x.numpy().astype(np.float64)
    expected = (x - x.mean(axis=0)) / x.std(axis=0)  # numpy's default std is the population one (ddof=0)
    np.testing.assert_allclose(ds.x.numpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(ds.y.numpy(), raw.y.numpy())
    assert ds.x.shape == raw.x.shape
    # The original is left as it was.
    np.testing.assert_array_equal(raw.x.numpy(), engine.make_dataset(name).x.numpy())


@pytest.mark.parametrize("factor", [0.1, 0.01, 3.0])
def test_multiply_scales_by_the_factor(factor):
    raw = engine.make_dataset("thermometer")
    ds = engine.scale_inputs(raw, "multiply", factor=factor)
    np.testing.assert_allclose(ds.x.numpy(), factor * raw.x.numpy().astype(np.float64), rtol=1e-6)
    np.testing.assert_array_equal(ds.y.numpy(), raw.y.numpy())


def test_multiply_default_factor_is_0_1():
    raw = engine.make_dataset("thermometer")
    ds = engine.scale_inputs(raw, "multiply")
    np.testing.assert_allclose(ds.x.numpy(), 0.1 * raw.x.numpy().astype(np.float64), rtol=1e-6)


@pytest.mark.parametrize("how", ["standardize", "multiply"])
@pytest.mark.parametrize("name", ["line", "plane", "thermometer", "lab"])
def test_least_squares_on_scaled_data_maps_back_to_least_squares_on_raw_data(name, how):
    raw = engine.make_dataset(name)
    ds = engine.scale_inputs(raw, how)
    back = np.asarray(ds.scaling.to_original(np_lstsq(*_xy(ds))))
    np.testing.assert_allclose(back, np_lstsq(*_xy(raw)), rtol=1e-4, atol=1e-5)
    # The engine's own closed form on the scaled data, mapped back, too.
    back_engine = np.asarray(ds.scaling.to_original(engine.least_squares(ds)))
    np.testing.assert_allclose(back_engine, np_lstsq(*_xy(raw)), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("how", ["standardize", "multiply"])
@pytest.mark.parametrize("name", ["line", "plane", "thermometer"])
def test_mapped_parameters_give_the_same_predictions_on_raw_inputs(name, how):
    """For any parameters, not just the optimum: x_scaled . w + b == x_raw . w' + b'."""
    raw = engine.make_dataset(name)
    ds = engine.scale_inputs(raw, how)
    rng = np.random.default_rng(0)
    for _ in range(3):
        params = rng.normal(size=raw.x.shape[1] + 1) * 3
        back = np.asarray(ds.scaling.to_original(params), dtype=np.float64)
        assert back.shape == params.shape
        np.testing.assert_allclose(
            np_predict(raw.x.numpy(), back), np_predict(ds.x.numpy(), params), rtol=1e-4, atol=1e-4
        )


def test_multiply_to_original_by_hand():
    ds = engine.scale_inputs(engine.make_dataset("thermometer"), "multiply", factor=0.1)
    np.testing.assert_allclose(ds.scaling.to_original([5.3671, -17.3012]), [0.53671, -17.3012], rtol=1e-6)


def test_trained_on_standardized_thermometer_maps_back_to_the_raw_optimum():
    raw = engine.make_dataset("thermometer")
    ds = engine.scale_inputs(raw, "standardize")
    hist = engine.train(ds, engine.TrainConfig(lr=0.1, epochs=200, method="analytic"))
    np.testing.assert_allclose(ds.scaling.to_original(hist.params[-1]), np_lstsq(*_xy(raw)), rtol=1e-4)


def test_unknown_scaling_is_a_value_error():
    with pytest.raises(ValueError):
        engine.scale_inputs(engine.make_dataset("line"), "logarithm")
