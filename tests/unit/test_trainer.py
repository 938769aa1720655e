"""History bookkeeping, determinism, initialisation and the step-by-step Trainer, against reference loops."""

import numpy as np
import pytest

import engine

from .references import assert_matches, np_mse, torch_optim_loop

F32 = {"rtol": 1e-5, "atol": 2e-6}


def _xy(ds):
    return ds.x.numpy(), ds.y.numpy()


@pytest.fixture(scope="module")
def line():
    return engine.make_dataset("line", n=15, noise=0.3, seed=6)


@pytest.mark.parametrize("method", ["optimizer", "autograd", "analytic", "finite-difference"])
def test_history_shapes_and_types_full_batch(line, method):
    hist = engine.train(line, engine.TrainConfig(method=method, epochs=12))
    assert hist.params.shape == (13, 2) and hist.loss.shape == (13,) and hist.grads.shape == (12, 2)
    for a in (hist.params, hist.loss, hist.grads):
        assert isinstance(a, np.ndarray) and a.dtype == np.float64
    assert hist.batch_loss is None
    assert hist.steps_per_epoch == 1
    assert not hist.diverged
    assert hist.diverged_at is None


def test_no_bias_history_has_one_column_per_feature():
    ds = engine.make_dataset("plane", n=10, seed=0)
    hist = engine.train(ds, engine.TrainConfig(epochs=5, fit_bias=False))
    assert hist.params.shape == (6, 2) and hist.grads.shape == (5, 2)
    ref = torch_optim_loop(*_xy(ds), (0.0, 0.0), lr=0.01, epochs=5, fit_bias=False)
    assert_matches(hist, ref, **F32)


@pytest.mark.parametrize(
    "cfg",
    [
        {"method": "optimizer", "momentum": 0.9, "nesterov": True},
        {"method": "finite-difference", "momentum": 0.5},
        {"method": "optimizer", "optimizer": "adam", "batch_size": 4},
        {"method": "autograd", "batch_size": 3, "init": "random"},
        {"method": "analytic", "init": "random", "seed": 5},
    ],
)
def test_same_config_gives_an_identical_history(line, cfg):
    c = engine.TrainConfig(lr=0.05, epochs=8, **cfg)
    a, b = engine.train(line, c), engine.train(line, c)
    np.testing.assert_array_equal(a.params, b.params)
    np.testing.assert_array_equal(a.loss, b.loss)
    np.testing.assert_array_equal(a.grads, b.grads)
    if a.batch_loss is not None:
        np.testing.assert_array_equal(a.batch_loss, b.batch_loss)


def test_random_init_depends_on_the_seed_and_then_trains_like_the_reference(line):
    a = engine.train(line, engine.TrainConfig(init="random", seed=0, epochs=10, lr=0.05))
    b = engine.train(line, engine.TrainConfig(init="random", seed=1, epochs=10, lr=0.05))
    assert np.isfinite(a.params[0]).all()
    assert not np.array_equal(a.params[0], b.params[0])
    ref = torch_optim_loop(*_xy(line), tuple(a.params[0]), lr=0.05, epochs=10)
    assert_matches(a, ref, **F32)


def test_zeros_init_and_tuple_init(line):
    z = engine.train(line, engine.TrainConfig(epochs=1))
    np.testing.assert_array_equal(z.params[0], [0.0, 0.0])
    t = engine.train(line, engine.TrainConfig(epochs=1, init=(1.5, -2.5)))
    np.testing.assert_array_equal(t.params[0], [1.5, -2.5])
    x, y = _xy(line)
    assert t.loss[0] == pytest.approx(np_mse(x, y, (1.5, -2.5)), rel=1e-6)


@pytest.mark.parametrize(("init", "fit_bias"), [((1.0,), True), ((1.0, 2.0, 3.0), True), ((1.0, 2.0), False)])
def test_init_tuple_of_the_wrong_length_is_a_value_error(line, init, fit_bias):
    with pytest.raises(ValueError):
        engine.train(line, engine.TrainConfig(epochs=2, init=init, fit_bias=fit_bias))


@pytest.mark.parametrize(
    "cfg",
    [
        {"method": "optimizer", "momentum": 0.9},
        {"method": "autograd", "batch_size": 4, "seed": 3},
        {"method": "finite-difference"},
        {"method": "optimizer", "optimizer": "rmsprop"},
    ],
)
def test_trainer_step_by_step_gives_the_same_numbers_as_train(line, cfg):
    c = engine.TrainConfig(lr=0.05, epochs=6, init=(0.5, -0.5), **cfg)
    full = engine.train(line, c)
    steps = len(full.params) - 1
    trainer = engine.Trainer(line, c)
    assert not trainer.done
    trainer.step()
    trainer.step()
    early = trainer.history()
    assert early.params.shape[0] == 3 and early.grads.shape[0] == 2
    np.testing.assert_array_equal(early.params, full.params[:3])
    np.testing.assert_array_equal(early.loss, full.loss[:3])
    np.testing.assert_array_equal(early.grads, full.grads[:2])
    trainer.run(steps - 3)
    assert not trainer.done
    trainer.step()
    assert trainer.done
    final = trainer.history()
    np.testing.assert_array_equal(final.params, full.params)
    np.testing.assert_array_equal(final.loss, full.loss)
    np.testing.assert_array_equal(final.grads, full.grads)
    if full.batch_loss is not None:
        np.testing.assert_array_equal(final.batch_loss, full.batch_loss)
    assert final.steps_per_epoch == full.steps_per_epoch


def test_trainer_history_before_any_step_is_the_start(line):
    trainer = engine.Trainer(line, engine.TrainConfig(init=(1.0, 1.0), epochs=3))
    h = trainer.history()
    assert h.params.shape == (1, 2) and h.loss.shape == (1,)
    np.testing.assert_array_equal(h.params[0], [1.0, 1.0])
    x, y = _xy(line)
    assert h.loss[0] == pytest.approx(np_mse(x, y, (1.0, 1.0)), rel=1e-6)
