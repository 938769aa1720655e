"""The every-batch learning-rate bound: closed form against numpy, and empirically safe with momentum."""

import numpy as np
import pytest

import engine


def test_bound_is_one_minus_beta_over_the_largest_squared_row():
    ds = engine.make_dataset("lab")
    x = ds.x[:, 0].double().numpy()
    biggest = np.max(x**2 + 1.0)  # the row with its 1 for the bias
    assert engine.batch_max_stable_lr(ds, True, 0.0) == pytest.approx(1.0 / biggest)
    assert engine.batch_max_stable_lr(ds, True, 0.8) == pytest.approx(0.2 / biggest)
    assert engine.batch_max_stable_lr(ds, False, 0.0) == pytest.approx(1.0 / np.max(x**2))


@pytest.mark.parametrize("name", ["line", "plane", "thermometer"])
@pytest.mark.parametrize(("beta", "nesterov"), [(0.0, False), (0.8, False), (0.9, True)])
def test_mini_batch_runs_below_the_bound_do_not_diverge(name, beta, nesterov):
    ds = engine.make_dataset(name, n=30, noise=0.5, seed=1)
    lr = 0.9 * engine.batch_max_stable_lr(ds, True, beta, nesterov)
    for batch_size in (1, 4):
        cfg = engine.TrainConfig(
            method="analytic", lr=lr, momentum=beta, nesterov=nesterov, batch_size=batch_size, epochs=60, seed=2
        )
        assert not engine.train(ds, cfg).diverged


def test_single_samples_diverge_where_the_full_batch_is_stable():
    """Why the bound exists: the full-data limit is far too generous for single samples."""
    ds = engine.make_dataset("line", n=30, noise=0.5, seed=0)
    lr = 0.9 * engine.stability(ds).max_stable_lr
    assert not engine.train(ds, engine.TrainConfig(method="analytic", lr=lr, epochs=60)).diverged
    assert engine.train(ds, engine.TrainConfig(method="analytic", lr=lr, epochs=60, batch_size=1)).diverged
