"""Built-in data sets against the tutorials' numbers and the generator recipe; dataset_from_arrays checks."""

import math

import numpy as np
import pytest
import torch

import engine

from .references import THERMOMETER_X, THERMOMETER_Y, line_recipe, plane_recipe

ALL_NAMES = ["line", "plane", "thermometer", "single-point", "lab", "four-points"]


def _message_mentions(exc: pytest.ExceptionInfo, *words: str) -> bool:
    text = str(exc.value).lower()
    return any(w.lower() in text for w in words)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_every_dataset_has_the_documented_shape_and_types(name):
    ds = engine.make_dataset(name)
    assert isinstance(ds.x, torch.Tensor) and isinstance(ds.y, torch.Tensor)
    assert ds.x.dtype == torch.float32 and ds.y.dtype == torch.float32
    assert ds.x.ndim == 2 and ds.y.ndim == 1
    n, d = ds.x.shape
    assert ds.y.shape == (n,) and n >= 1 and d in (1, 2)
    assert ds.name == name
    assert len(ds.feature_names) == d and all(isinstance(f, str) for f in ds.feature_names)
    assert isinstance(ds.target_name, str)
    assert isinstance(ds.default_fit_bias, bool)
    assert torch.isfinite(ds.x).all() and torch.isfinite(ds.y).all()


def test_thermometer_is_tutorial_003_readings_exactly():
    ds = engine.make_dataset("thermometer")
    np.testing.assert_array_equal(ds.x[:, 0].numpy(), np.array(THERMOMETER_X, dtype=np.float32))
    np.testing.assert_array_equal(ds.y.numpy(), np.array(THERMOMETER_Y, dtype=np.float32))
    assert ds.true_params is None
    # n and noise are ignored for the real readings.
    ds2 = engine.make_dataset("thermometer", n=3, noise=5.0, seed=7)
    np.testing.assert_array_equal(ds2.x.numpy(), ds.x.numpy())
    np.testing.assert_array_equal(ds2.y.numpy(), ds.y.numpy())


@pytest.mark.parametrize(("n", "noise", "seed"), [(50, 0.5, 0), (10, 0.1, 0), (7, 0.0, 3), (33, 2.0, 12345)])
def test_line_reproduces_the_generator_recipe(n, noise, seed):
    x, y = line_recipe(n, noise, seed)
    ds = engine.make_dataset("line", n=n, noise=noise, seed=seed)
    np.testing.assert_array_equal(ds.x.numpy(), x.numpy())
    np.testing.assert_array_equal(ds.y.numpy(), y.numpy())
    np.testing.assert_allclose(ds.true_params, (2.0, 1.0))


def test_line_defaults_are_n50_noise05_seed0():
    x, y = line_recipe(50, 0.5, 0)
    ds = engine.make_dataset("line")
    np.testing.assert_array_equal(ds.x.numpy(), x.numpy())
    np.testing.assert_array_equal(ds.y.numpy(), y.numpy())


def test_line_seed_changes_the_data():
    a = engine.make_dataset("line", seed=0)
    b = engine.make_dataset("line", seed=1)
    assert not np.array_equal(a.x.numpy(), b.x.numpy())


@pytest.mark.parametrize(("n", "noise", "seed"), [(50, 0.5, 0), (12, 0.0, 4)])
def test_plane_reproduces_the_generator_recipe(n, noise, seed):
    x, y = plane_recipe(n, noise, seed)
    ds = engine.make_dataset("plane", n=n, noise=noise, seed=seed)
    np.testing.assert_array_equal(ds.x.numpy(), x.numpy())
    np.testing.assert_array_equal(ds.y.numpy(), y.numpy())
    np.testing.assert_allclose(ds.true_params, (2.0, -3.0, 1.0))
    assert len(ds.feature_names) == 2


def test_noise_free_line_lies_exactly_on_y_2x_plus_1():
    ds = engine.make_dataset("line", n=20, noise=0.0, seed=5)
    np.testing.assert_allclose(ds.y.numpy(), 2 * ds.x[:, 0].numpy() + 1, rtol=1e-6, atol=1e-6)


def test_single_point_is_x2_y4_without_bias():
    ds = engine.make_dataset("single-point")
    np.testing.assert_array_equal(ds.x.numpy(), [[2.0]])
    np.testing.assert_array_equal(ds.y.numpy(), [4.0])
    assert ds.default_fit_bias is False
    assert ds.true_params[0] == pytest.approx(2.0)
    assert len(ds.true_params) in (1, 2)
    if len(ds.true_params) == 2:
        assert ds.true_params[1] == pytest.approx(0.0)


def test_four_points_is_tutorial_002_batch():
    ds = engine.make_dataset("four-points")
    np.testing.assert_array_equal(ds.x[:, 0].numpy(), [1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(ds.y.numpy(), [2.0, 4.0, 6.0, 8.0])
    assert ds.default_fit_bias is False


def test_lab_is_y_3x_plus_2_for_x_0_to_9():
    ds = engine.make_dataset("lab")
    x = np.arange(10, dtype=np.float32)
    np.testing.assert_array_equal(ds.x[:, 0].numpy(), x)
    np.testing.assert_array_equal(ds.y.numpy(), 3 * x + 2)
    np.testing.assert_allclose(ds.true_params, (3.0, 2.0))
    assert ds.default_fit_bias is True


def test_unknown_name_raises_value_error():
    with pytest.raises(ValueError):
        engine.make_dataset("no-such-data")


def test_dataset_from_arrays_accepts_1d_and_2d_inputs():
    ds = engine.dataset_from_arrays([1.0, 2.0, 3.5], [2.0, 3.0, 4.0])
    assert ds.x.shape == (3, 1) and ds.y.shape == (3,)
    assert ds.x.dtype == torch.float32 and ds.y.dtype == torch.float32
    np.testing.assert_array_equal(ds.x[:, 0].numpy(), np.float32([1.0, 2.0, 3.5]))
    assert ds.name == "custom"
    x2 = np.array([[1.0, 2.0], [3.0, -4.0], [0.5, 0.25]])
    ds2 = engine.dataset_from_arrays(x2, np.array([1.0, 2.0, 3.0]), name="mine")
    assert ds2.x.shape == (3, 2) and ds2.name == "mine"
    np.testing.assert_array_equal(ds2.x.numpy(), x2.astype(np.float32))
    assert len(ds2.feature_names) == 2


@pytest.mark.parametrize(
    ("x", "y"),
    [
        ([1.0, float("nan"), 3.0], [1.0, 2.0, 3.0]),
        ([1.0, 2.0, 3.0], [1.0, float("inf"), 3.0]),
        ([1.0, -math.inf, 3.0], [1.0, 2.0, 3.0]),
    ],
)
def test_dataset_from_arrays_rejects_non_finite_values(x, y):
    with pytest.raises(ValueError) as exc:
        engine.dataset_from_arrays(x, y)
    assert _message_mentions(exc, "finite", "nan", "inf", "missing"), str(exc.value)


def test_dataset_from_arrays_rejects_mismatched_lengths():
    with pytest.raises(ValueError) as exc:
        engine.dataset_from_arrays([1.0, 2.0, 3.0], [1.0, 2.0])
    assert _message_mentions(exc, "length", "same number", "match", "3", "2"), str(exc.value)


def test_dataset_from_arrays_rejects_zero_points():
    with pytest.raises(ValueError) as exc:
        engine.dataset_from_arrays(np.zeros(0), np.zeros(0))
    assert _message_mentions(exc, "empty", "no point", "no data", "zero", "at least"), str(exc.value)


def test_dataset_from_arrays_rejects_more_than_two_features():
    with pytest.raises(ValueError) as exc:
        engine.dataset_from_arrays(np.ones((4, 3)), np.ones(4))
    assert _message_mentions(exc, "feature", "column", "2", "two"), str(exc.value)


@pytest.mark.parametrize("name", ["line", "plane"])
@pytest.mark.parametrize("how", [None, "standardize"])
def test_a_dataset_pickles_its_tensors_as_numpy_and_comes_back_the_same(name, how):
    """A run's result is pickled on every move (worker -> server, in and out of st.cache_data): the data travels as
    numpy arrays, not through torch's storage pickling (two thirds of a result's pickling time), and comes back
    identical, as float32 tensors that a run can use."""
    import pickle

    ds = engine.make_dataset(name, n=12, noise=0.3, seed=4)
    if how is not None:
        ds = engine.scale_inputs(ds, how)
    blob = pickle.dumps(ds)
    assert b"torch" not in blob  # no torch storage, no torch._utils rebuild function
    back = pickle.loads(blob)
    assert isinstance(back.x, torch.Tensor) and back.x.dtype == torch.float32 and back.y.dtype == torch.float32
    assert torch.equal(back.x, ds.x) and torch.equal(back.y, ds.y)
    fields = ("name", "feature_names", "source", "scaling", "default_fit_bias")
    assert [getattr(back, f) for f in fields] == [getattr(ds, f) for f in fields]
    back.x.add_(0.0)  # writable: a run may move it to a device or scale it
    cfg = engine.TrainConfig(epochs=3)
    assert engine.train(back, cfg).final_loss == engine.train(ds, cfg).final_loss
