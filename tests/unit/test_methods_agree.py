"""The four ways of getting the gradient (torch.optim, autograd by hand, finite differences, closed form)
give the same run, and every run matches PyTorch's own nn.Linear + MSELoss + torch.optim loop: with and
without momentum and Nesterov, full batch and mini-batches, SGD and the adaptive optimizers, and with the
forgotten zero_grad."""

import numpy as np
import pytest

import engine

from .references import (
    assert_matches,
    batch_orders,
    np_grad,
    np_mse,
    torch_optim_loop,
    tutorial001_loop,
    tutorial003_fd_loop,
)

METHODS = ["optimizer", "autograd", "analytic", "finite-difference"]
EXACT_METHODS = ["optimizer", "autograd", "analytic"]
F32 = {"rtol": 1e-5, "atol": 2e-6}
# Central differences are exact for a quadratic loss, but float32 loses ~eps * loss / delta to cancellation.
FD = {"rtol": 1e-4, "atol": 2e-5}
MOMENTA = [(0.0, False), (0.9, False), (0.5, True), (0.9, True)]


def _tol(method):
    return FD if method == "finite-difference" else F32


def _xy(ds):
    return ds.x.numpy(), ds.y.numpy()


@pytest.fixture(scope="module")
def line():
    return engine.make_dataset("line", n=20, noise=0.5, seed=1)


@pytest.fixture(scope="module")
def plane():
    return engine.make_dataset("plane", n=25, noise=0.5, seed=2)


@pytest.mark.parametrize(("momentum", "nesterov"), MOMENTA)
@pytest.mark.parametrize("method", METHODS)
def test_every_method_matches_torch_optim_sgd_on_a_line(line, method, momentum, nesterov):
    init = (-0.7, 1.3)
    mom = {"momentum": momentum, "nesterov": nesterov}
    cfg = engine.TrainConfig(method=method, lr=0.05, epochs=60, init=init, **mom)
    hist = engine.train(line, cfg)
    ref = torch_optim_loop(*_xy(line), init, lr=0.05, epochs=60, **mom)
    assert_matches(hist, ref, **_tol(method))


@pytest.mark.parametrize(("momentum", "nesterov"), MOMENTA)
@pytest.mark.parametrize("method", METHODS)
def test_every_method_matches_torch_optim_sgd_on_a_plane(plane, method, momentum, nesterov):
    init = (0.5, 0.25, -1.0)
    mom = {"momentum": momentum, "nesterov": nesterov}
    cfg = engine.TrainConfig(method=method, lr=0.03, epochs=50, init=init, **mom)
    hist = engine.train(plane, cfg)
    ref = torch_optim_loop(*_xy(plane), init, lr=0.03, epochs=50, **mom)
    assert hist.params.shape == (51, 3)
    assert_matches(hist, ref, **_tol(method))


@pytest.mark.parametrize(("momentum", "nesterov"), MOMENTA)
def test_finite_differences_follow_tutorial_003_with_the_sgd_momentum_rule(line, momentum, nesterov):
    init = (0.2, -0.4)
    cfg = engine.TrainConfig(
        method="finite-difference",
        fd_delta=0.1,
        lr=0.05,
        momentum=momentum,
        nesterov=nesterov,
        epochs=60,
        init=init,
    )
    hist = engine.train(line, cfg)
    ref = tutorial003_fd_loop(*_xy(line), init, lr=0.05, epochs=60, momentum=momentum, nesterov=nesterov)
    assert_matches(hist, ref, **FD)


@pytest.mark.parametrize("method", METHODS)
def test_four_methods_agree_without_bias(method):
    ds = engine.make_dataset("four-points")
    cfg = engine.TrainConfig(method=method, lr=0.02, momentum=0.5, epochs=30, init=(5.0,), fit_bias=False)
    hist = engine.train(ds, cfg)
    ref = torch_optim_loop(*_xy(ds), (5.0,), lr=0.02, epochs=30, fit_bias=False, momentum=0.5)
    assert hist.params.shape == (31, 1)
    assert_matches(hist, ref, **_tol(method))


@pytest.mark.parametrize("method", METHODS)
def test_recorded_loss_and_gradient_are_exact_at_the_recorded_params(plane, method):
    """Against the float64 closed forms: loss = mean((X p - y)^2), gradient = (2/n) X'(X p - y)."""
    cfg = engine.TrainConfig(method=method, lr=0.05, epochs=25, init=(1.0, 1.0, 1.0))
    hist = engine.train(plane, cfg)
    x, y = _xy(plane)
    loss = [np_mse(x, y, p) for p in hist.params]
    grads = [np_grad(x, y, p) for p in hist.params[:-1]]
    np.testing.assert_allclose(hist.loss, loss, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(hist.grads, grads, **_tol(method))
    # Plain gradient descent: each step moves by -lr times the recorded gradient.
    np.testing.assert_allclose(np.diff(hist.params, axis=0), -0.05 * hist.grads, rtol=1e-4, atol=1e-6)


# -- mini-batches --------------------------------------------------------------------------------------


@pytest.mark.parametrize("momentum", [0.0, 0.5])
@pytest.mark.parametrize("method", METHODS)
def test_mini_batches_match_the_reference_sampler_loop(line, method, momentum):
    n = line.x.shape[0]  # 20 points in batches of 6: 6, 6, 6, 2
    batches = {"batch_size": 6, "seed": 4}
    cfg = engine.TrainConfig(method=method, lr=0.05, momentum=momentum, epochs=5, init=(0.5, 0.0), **batches)
    hist = engine.train(line, cfg)
    ref = torch_optim_loop(*_xy(line), (0.5, 0.0), lr=0.05, epochs=5, momentum=momentum, **batches)
    assert hist.steps_per_epoch == int(np.ceil(n / 6)) == 4
    assert hist.params.shape == (5 * 4 + 1, 2)
    assert hist.grads.shape == (5 * 4, 2)
    assert_matches(hist, ref, **_tol(method))
    assert hist.batch_loss is not None and hist.batch_loss.shape == (20,)
    np.testing.assert_allclose(hist.batch_loss, ref["batch_loss"], **_tol(method))


def test_mini_batch_of_one_point_on_two_features(plane):
    cfg = engine.TrainConfig(lr=0.02, epochs=2, batch_size=1, seed=9, init=(0.0, 0.0, 0.0))
    hist = engine.train(plane, cfg)
    ref = torch_optim_loop(*_xy(plane), (0.0, 0.0, 0.0), lr=0.02, epochs=2, batch_size=1, seed=9)
    assert hist.steps_per_epoch == 25
    assert_matches(hist, ref, **F32)
    np.testing.assert_allclose(hist.batch_loss, ref["batch_loss"], **F32)


def test_batch_size_at_least_n_is_one_step_per_epoch_on_all_points(line):
    cfg = engine.TrainConfig(method="autograd", lr=0.05, epochs=10, batch_size=50, init=(0.0, 0.0))
    hist = engine.train(line, cfg)
    ref = torch_optim_loop(*_xy(line), (0.0, 0.0), lr=0.05, epochs=10)
    assert hist.steps_per_epoch == 1
    assert_matches(hist, ref, **F32)


def test_mini_batches_are_reshuffled_every_epoch(line):
    orders = batch_orders(20, 6, seed=4, epochs=2)
    assert orders[0] != orders[1]  # the reference sampler itself reshuffles
    assert sorted(sum(orders[1], [])) == list(range(20))
    cfg = engine.TrainConfig(method="optimizer", lr=0.05, epochs=2, batch_size=6, seed=4, init=(0.5, 0.0))
    hist = engine.train(line, cfg)
    reshuffled = torch_optim_loop(*_xy(line), (0.5, 0.0), lr=0.05, epochs=2, batch_size=6, seed=4)
    same_order = torch_optim_loop(*_xy(line), (0.5, 0.0), 0.05, 2, batch_size=6, seed=4, reshuffle=False)
    assert_matches(hist, reshuffled, **F32)
    # Same first epoch, different second epoch: the engine does not reuse epoch 1's order.
    np.testing.assert_allclose(hist.batch_loss[:4], same_order["batch_loss"][:4], **F32)
    assert not np.allclose(hist.batch_loss[4:], same_order["batch_loss"][4:], rtol=1e-4)


def test_mini_batch_seed_changes_the_order_and_same_seed_repeats(line):
    base = {"method": "optimizer", "lr": 0.05, "epochs": 3, "batch_size": 4, "init": (0.0, 0.0)}
    a = engine.train(line, engine.TrainConfig(seed=1, **base))
    b = engine.train(line, engine.TrainConfig(seed=1, **base))
    c = engine.train(line, engine.TrainConfig(seed=2, **base))
    np.testing.assert_array_equal(a.params, b.params)
    np.testing.assert_array_equal(a.batch_loss, b.batch_loss)
    assert not np.allclose(a.batch_loss, c.batch_loss)


# -- adaptive optimizers -------------------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop", "adagrad"])
def test_adaptive_optimizers_match_torch_optim_on_a_line(line, optimizer):
    cfg = engine.TrainConfig(method="optimizer", optimizer=optimizer, lr=0.1, epochs=60, init=(-1.0, 2.0))
    hist = engine.train(line, cfg)
    ref = torch_optim_loop(*_xy(line), (-1.0, 2.0), lr=0.1, epochs=60, optimizer=optimizer)
    assert_matches(hist, ref, **F32)


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop", "adagrad"])
def test_adaptive_optimizers_match_torch_optim_on_a_plane_with_mini_batches(plane, optimizer):
    run = {"optimizer": optimizer, "lr": 0.05, "epochs": 4, "batch_size": 7, "seed": 3}
    hist = engine.train(plane, engine.TrainConfig(init=(0.0, 0.0, 0.0), **run))
    ref = torch_optim_loop(*_xy(plane), (0.0, 0.0, 0.0), **run)
    assert_matches(hist, ref, **F32)
    np.testing.assert_allclose(hist.batch_loss, ref["batch_loss"], **F32)


# -- the tutorial-002 bug: forgetting grad.zero_() -----------------------------------------------------


def test_forgetting_zero_grad_reproduces_tutorial_001_loop_without_zero():
    ds = engine.make_dataset("line", n=10, noise=0.1, seed=0)
    init = (1.803, -0.394)
    cfg = engine.TrainConfig(method="autograd", lr=0.01, epochs=40, init=init, zero_grad=False)
    hist = engine.train(ds, cfg)
    ref = tutorial001_loop(*_xy(ds), init, lr=0.01, epochs=40, zero_grad=False)
    good = tutorial001_loop(*_xy(ds), init, lr=0.01, epochs=40, zero_grad=True)
    assert not np.allclose(ref["params"], good["params"])  # the bug matters on this run
    assert_matches(hist, ref, **F32)  # grads: the accumulated .grad each step used


@pytest.mark.parametrize("method", METHODS)
def test_forgetting_zero_grad_accumulates_the_gradient_in_every_method(line, method):
    cfg = engine.TrainConfig(method=method, lr=0.01, epochs=30, init=(0.0, 0.0), zero_grad=False)
    hist = engine.train(line, cfg)
    ref = torch_optim_loop(*_xy(line), (0.0, 0.0), lr=0.01, epochs=30, zero_grad=False)
    assert_matches(hist, ref, **_tol(method))
    # The step uses the running sum of the exact gradients at every params so far.
    x, y = _xy(line)
    running = np.cumsum([np_grad(x, y, p) for p in hist.params[:-1]], axis=0)
    np.testing.assert_allclose(np.diff(hist.params, axis=0), -0.01 * running, rtol=1e-4, atol=1e-6)


def test_finite_differences_use_the_configured_delta():
    """On a quadratic loss central differences are exact for any delta, so delta shows only in float32
    rounding, which tutorial 003's way of computing pins down: at [1, 0] on the raw thermometer every loss
    lies in [1024, 2048), so L(p + delta e_j) - L(p - delta e_j) is a whole multiple of 2**-13, and with
    delta = 2**-10 the gradient is a whole multiple of 2**-13 / 2**-9 = 1/16 (not so with delta = 0.1)."""
    ds = engine.make_dataset("thermometer")
    x, y = _xy(ds)
    delta = 2.0**-10
    ref = tutorial003_fd_loop(x, y, (1.0, 0.0), lr=1e-5, epochs=1, delta=delta)
    assert 1024 <= ref["loss"][0] < 2048
    np.testing.assert_array_equal(ref["grads"][0] * 16, np.round(ref["grads"][0] * 16))  # the property holds
    cfg = engine.TrainConfig(method="finite-difference", fd_delta=delta, lr=1e-5, epochs=1, init=(1.0, 0.0))
    grads = engine.train(ds, cfg).grads[0]
    np.testing.assert_array_equal(grads * 16, np.round(grads * 16))
    np.testing.assert_allclose(grads, np_grad(x, y, (1.0, 0.0)), atol=0.5)  # within a few quanta of exact
    coarse = engine.TrainConfig(method="finite-difference", fd_delta=0.1, lr=1e-5, epochs=1, init=(1.0, 0.0))
    g01 = engine.train(ds, coarse).grads[0]
    assert not np.array_equal(g01 * 16, np.round(g01 * 16))
