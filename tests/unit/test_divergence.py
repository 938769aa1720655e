"""A blown-up run stops cleanly: diverged flag, the step index, finite stored arrays, no exception; the kept
steps are the reference loop's steps."""

import numbers

import numpy as np
import pytest

import engine

from .references import np_lstsq, np_mse, torch_optim_loop


def _xy(ds):
    return ds.x.numpy(), ds.y.numpy()


def _check_diverged(hist, epochs):
    assert hist.diverged
    assert isinstance(hist.diverged_at, numbers.Integral) and not isinstance(hist.diverged_at, bool)
    steps = len(hist.params)
    assert steps in (hist.diverged_at + 1, hist.diverged_at)
    assert steps - 1 < epochs * hist.steps_per_epoch
    assert hist.loss.shape == (steps,)
    assert hist.grads.shape == (steps - 1, hist.params.shape[1])
    arrays = [hist.params, hist.loss, hist.grads]
    if hist.batch_loss is not None:
        assert hist.batch_loss.shape == (steps - 1,)
        arrays.append(hist.batch_loss)
    for a in arrays:
        assert np.isfinite(a).all()


@pytest.mark.parametrize("method", ["optimizer", "autograd", "analytic", "finite-difference"])
def test_huge_learning_rate_diverges_cleanly(method):
    ds = engine.make_dataset("line", n=20, seed=0)
    hist = engine.train(ds, engine.TrainConfig(method=method, lr=10.0, epochs=500))
    _check_diverged(hist, 500)
    assert hist.diverged_at <= 20  # |1 - 10 * lmax| ~ 20 per step: the loss passes 1e6 x start quickly
    # The kept steps are the ones PyTorch's own loop takes.
    ref = torch_optim_loop(*_xy(ds), (0.0, 0.0), lr=10.0, epochs=len(hist.params) - 1)
    # (finite differences of a loss that grows 400x a step lose digits to float32 cancellation: looser there)
    rtol = 1e-3 if method == "finite-difference" else 1e-4
    np.testing.assert_allclose(hist.params, ref["params"], rtol=rtol)
    x, y = _xy(ds)
    np.testing.assert_allclose(hist.loss, [np_mse(x, y, p) for p in hist.params], rtol=1e-4)


def test_absurd_learning_rate_overflowing_float32_in_one_step():
    ds = engine.make_dataset("thermometer")
    hist = engine.train(ds, engine.TrainConfig(lr=1e35, epochs=50, init=(1.0, 0.0)))
    _check_diverged(hist, 50)
    assert hist.diverged_at <= 2
    assert hist.loss[0] == pytest.approx(1763.8846, rel=1e-6)


def test_divergence_with_momentum_and_mini_batches():
    ds = engine.make_dataset("line", n=30, seed=3)
    hist = engine.train(ds, engine.TrainConfig(lr=3.0, momentum=0.9, epochs=300, batch_size=4, seed=1))
    _check_diverged(hist, 300)


def test_divergence_with_accumulating_gradients():
    ds = engine.make_dataset("thermometer")
    hist = engine.train(ds, engine.TrainConfig(method="autograd", lr=1e-3, epochs=500, zero_grad=False))
    _check_diverged(hist, 500)


def test_loss_growing_a_millionfold_counts_as_divergence():
    """lr = 1.2 x 2/lmax on the lab data: the error grows by |1 - 2.4| = 1.4 per step, so the loss stays
    finite for hundreds of steps; the run must still stop once it exceeds 1e6 times its start."""
    ds = engine.make_dataset("lab")
    lr = 1.2 * engine.stability(ds).max_stable_lr
    hist = engine.train(ds, engine.TrainConfig(lr=lr, epochs=2000))
    _check_diverged(hist, 2000)
    assert hist.loss.max() <= 1e6 * hist.loss[0] * 2.0**2  # stopped within a step of passing the threshold
    assert hist.diverged_at < 200


def test_a_converging_run_is_not_flagged():
    ds = engine.make_dataset("line", n=20, seed=0)
    hist = engine.train(ds, engine.TrainConfig(lr=0.1, epochs=50))
    assert not hist.diverged and hist.diverged_at is None
    assert len(hist.params) == 51


def test_divergence_threshold_is_a_millionfold_of_the_start_loss():
    """The contract: a run stops once its loss passes 1e6 times the loss at its own start. Starting near the
    optimum (start loss ~0.3, far below mean(y^2) ~ 5.8) with lr = 1.2 x the limit, the loss grows about
    1.96x a step; the run must stop within a step of 1e6 x its start loss."""
    ds = engine.make_dataset("line")
    x, y = _xy(ds)
    opt = np_lstsq(x, y)
    start = (float(opt[0]) + 0.3, float(opt[1]) - 0.2)
    lr = 1.2 * engine.stability(ds).max_stable_lr
    hist = engine.train(ds, engine.TrainConfig(lr=lr, epochs=2000, init=start))
    _check_diverged(hist, 2000)
    assert hist.loss[0] == pytest.approx(np_mse(x, y, start), rel=1e-6)
    mean_y2 = float(np.mean(y.astype(np.float64) ** 2))
    assert hist.loss[0] < 0.1 * mean_y2
    assert hist.loss.max() <= 1e6 * hist.loss[0] * 4.0, (
        f"ran on to loss {hist.loss.max():.4g} (step {hist.diverged_at}); start loss {hist.loss[0]:.4g}, "
        f"so 1e6 x start = {1e6 * hist.loss[0]:.4g} (1e6 x mean(y^2) would be {1e6 * mean_y2:.4g})"
    )
