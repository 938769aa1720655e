"""The engine reproduces each tutorial's own loop step by step, and the published figures behind 003."""

import numpy as np
import pytest

import engine

from .references import (
    assert_matches,
    book_analytic_loop,
    np_lstsq,
    np_mse,
    torch_optim_loop,
    tutorial001_loop,
    tutorial002_lab_loop,
    tutorial002_scalar_loop,
    tutorial003_fd_loop,
)

TIGHT = {"rtol": 2e-6, "atol": 2e-6}


def _xy(ds):
    return ds.x.numpy(), ds.y.numpy()


# -- tutorial 001: raw tensors, loss.backward(), W -= lr * W.grad, grad.zero_() ------------------------


def test_tutorial_001_autograd_loop_every_step():
    ds = engine.make_dataset("line", n=10, noise=0.1, seed=0)
    init = (1.803, -0.394)  # the tutorial's printed starting parameters
    cfg = engine.TrainConfig(method="autograd", lr=0.01, epochs=200, init=init)
    hist = engine.train(ds, cfg)
    ref = tutorial001_loop(*_xy(ds), init, lr=0.01, epochs=200)
    assert_matches(hist, ref, **TIGHT)
    assert hist.steps_per_epoch == 1 and hist.batch_loss is None
    assert not hist.diverged and hist.diverged_at is None
    # The tutorial's outcome: close to the true W = 2, b = 1 and to the least-squares fit.
    np.testing.assert_allclose(hist.params[-1], np_lstsq(*_xy(ds)), atol=0.1)


# -- tutorial 002: one point, then a batch, then torch.optim -------------------------------------------


@pytest.mark.parametrize("method", ["autograd", "optimizer"])
def test_tutorial_002_single_point(method):
    ds = engine.make_dataset("single-point")
    cfg = engine.TrainConfig(method=method, lr=0.01, epochs=40, init=(0.0,), fit_bias=False)
    hist = engine.train(ds, cfg)
    ref = tutorial002_scalar_loop(*_xy(ds), w0=0.0, lr=0.01, epochs=40)
    assert hist.params.shape == (41, 1)
    assert_matches(hist, ref, **TIGHT)
    # Closed form: w_{k+1} = w_k - 0.01 * 4 (2 w_k - 4) = 0.92 w_k + 0.16, so w_k = 2 (1 - 0.92^k).
    k = np.arange(41)
    np.testing.assert_allclose(hist.params[:, 0], 2 * (1 - 0.92**k), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("method", ["autograd", "optimizer", "analytic"])
def test_tutorial_002_four_point_batch(method):
    ds = engine.make_dataset("four-points")
    cfg = engine.TrainConfig(method=method, lr=0.01, epochs=40, init=(0.0,), fit_bias=False)
    hist = engine.train(ds, cfg)
    ref = tutorial002_scalar_loop(*_xy(ds), w0=0.0, lr=0.01, epochs=40)
    assert_matches(hist, ref, **TIGHT)
    # grad = 2 w mean(x^2) - 2 mean(x y) = 15 w - 30 -> w_k = 2 (1 - 0.85^k).
    k = np.arange(41)
    np.testing.assert_allclose(hist.params[:, 0], 2 * (1 - 0.85**k), rtol=1e-5, atol=1e-6)


def test_tutorial_002_lab_with_torch_optim_sgd():
    ds = engine.make_dataset("lab")
    cfg = engine.TrainConfig(method="optimizer", optimizer="sgd", lr=0.01, epochs=50, init=(0.0, 0.0))
    hist = engine.train(ds, cfg)
    ref = tutorial002_lab_loop(*_xy(ds), init=(0.0, 0.0), lr=0.01, epochs=50)
    assert hist.params.shape == (51, 2)
    # Near the end the gradient (~0.1) is a difference of terms ~2 * 29 * 9: float32 leaves ~3e-5 of noise in
    # it, whether the model is computed as w * x + b (the tutorial) or x @ W + b (nn.Linear).
    assert_matches(hist, ref, **TIGHT, grads_atol=1e-4)


def test_lab_default_init_is_zeros():
    ds = engine.make_dataset("lab")
    hist = engine.train(ds, engine.TrainConfig(epochs=3))
    np.testing.assert_array_equal(hist.params[0], [0.0, 0.0])


# -- tutorial 000: nn.Linear(2, 1) + MSELoss + SGD(lr=1e-2, momentum=0.9) ------------------------------


def test_tutorial_000_linear_module_with_momentum_on_the_plane():
    ds = engine.make_dataset("plane", n=30, noise=0.5, seed=3)
    init = (0.3, -0.2, 0.1)
    cfg = engine.TrainConfig(method="optimizer", lr=1e-2, momentum=0.9, epochs=150, init=init)
    hist = engine.train(ds, cfg)
    ref = torch_optim_loop(*_xy(ds), init, lr=1e-2, epochs=150, momentum=0.9)
    assert hist.params.shape == (151, 3)
    assert_matches(hist, ref, rtol=1e-5, atol=2e-6)


# -- tutorial 003: central finite differences on the thermometer ---------------------------------------


def test_tutorial_003_raw_readings_blow_up_within_a_few_steps():
    ds = engine.make_dataset("thermometer")
    cfg = engine.TrainConfig(method="finite-difference", fd_delta=0.1, lr=1e-2, epochs=100, init=(1.0, 0.0))
    hist = engine.train(ds, cfg)
    assert hist.diverged
    assert hist.diverged_at is not None and hist.diverged_at <= 5
    # The first recorded loss is the loss at [1, 0]: the book's "Epoch 1, Loss 1763.884766".
    x, y = _xy(ds)
    assert hist.loss[0] == pytest.approx(np_mse(x, y, (1.0, 0.0)), rel=1e-6)
    assert hist.loss[0] == pytest.approx(1763.8846, abs=1e-3)
    # The tutorial's own loop explodes the same way: the engine's kept steps equal its steps.
    kept = len(hist.params)
    ref = tutorial003_fd_loop(x, y, (1.0, 0.0), lr=1e-2, epochs=kept - 1)
    # (loose: float32 finite differences of a loss of 1e6 and more lose digits to cancellation)
    np.testing.assert_allclose(hist.params, ref["params"], rtol=1e-3)
    np.testing.assert_allclose(hist.loss, ref["loss"], rtol=1e-3)
    for a in (hist.params, hist.loss, hist.grads):
        assert np.isfinite(a).all()


def test_tutorial_003_inputs_times_0_1_converge_to_the_closed_form():
    raw = engine.make_dataset("thermometer")
    ds = engine.scale_inputs(raw, "multiply", factor=0.1)
    x, y = _xy(ds)
    np.testing.assert_allclose(x[:, 0], 0.1 * raw.x[:, 0].numpy(), rtol=1e-6)
    cfg = engine.TrainConfig(method="finite-difference", fd_delta=0.1, lr=1e-2, epochs=5000, init=(1.0, 0.0))
    hist = engine.train(ds, cfg)
    assert not hist.diverged
    ref = tutorial003_fd_loop(x, y, (1.0, 0.0), lr=1e-2, epochs=5000)
    # Every 250th step against the tutorial's own finite-difference loop.
    np.testing.assert_allclose(hist.params[::250], ref["params"][::250], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(hist.params[-1], ref["params"][-1], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(hist.loss[-1], ref["loss"][-1], rtol=1e-5)
    # Near the least-squares optimum (slow direction not yet fully converged after 5000 epochs).
    opt = np_lstsq(x, y)
    np.testing.assert_allclose(hist.params[-1], opt, atol=1e-2)
    assert hist.loss[-1] == pytest.approx(np_mse(x, y, opt), rel=1e-5)
    # Mapped back to raw readings (w times 0.1, b unchanged): the least squares on the raw readings.
    np.testing.assert_allclose(ds.scaling.to_original(opt), np_lstsq(*_xy(raw)), rtol=1e-5)


# -- published figures of Deep Learning with PyTorch, ch. 5 (checked first against book_analytic_loop) -
# The book's training_loop prints the loss computed *before* the epoch's update, so its "Epoch N, Loss L" is
# our loss[N - 1], and the params it returns are our params[N].


def test_published_figures_reproduced_by_the_independent_loops():
    raw = engine.make_dataset("thermometer")
    x, y = _xy(raw)
    scaled = book_analytic_loop(0.1 * x, y, (1.0, 0.0), lr=1e-2, epochs=5000)
    np.testing.assert_allclose(scaled["params"][-1], [5.3671, -17.3012], atol=3e-4)
    assert scaled["loss"][4999] == pytest.approx(2.927648, abs=3e-4)
    small_lr = tutorial003_fd_loop(x, y, (1.0, 0.0), lr=1e-4, epochs=100)
    np.testing.assert_allclose(small_lr["params"][-1], [0.2327, -0.0438], atol=3e-4)
    assert small_lr["loss"][99] == pytest.approx(29.0227, abs=3e-4)


@pytest.mark.parametrize("method", ["finite-difference", "analytic", "autograd", "optimizer"])
def test_published_figures_scaled_inputs_lr_1e_2_5000_epochs(method):
    ds = engine.scale_inputs(engine.make_dataset("thermometer"), "multiply", factor=0.1)
    cfg = engine.TrainConfig(method=method, lr=1e-2, epochs=5000, init=(1.0, 0.0))
    hist = engine.train(ds, cfg)
    np.testing.assert_allclose(hist.params[5000], [5.3671, -17.3012], atol=3e-4)
    assert hist.loss[4999] == pytest.approx(2.927648, abs=3e-4)


@pytest.mark.parametrize("method", ["finite-difference", "analytic", "autograd", "optimizer"])
def test_published_figures_raw_inputs_lr_1e_4_100_epochs(method):
    ds = engine.make_dataset("thermometer")
    cfg = engine.TrainConfig(method=method, lr=1e-4, epochs=100, init=(1.0, 0.0))
    hist = engine.train(ds, cfg)
    assert not hist.diverged
    np.testing.assert_allclose(hist.params[100], [0.2327, -0.0438], atol=3e-4)
    assert hist.loss[99] == pytest.approx(29.0227, abs=3e-4)
