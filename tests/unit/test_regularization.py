"""Issue 26's engine: polynomial features, the held-out split, weight decay and L1 in train(), ridge and lasso
optima, early stopping and stability with decay, each against a reference that shares no code with the engine:
numpy's polyfit / lstsq, a numpy closed-form ridge, PyTorch's own loop with two parameter groups, scikit-learn's
Lasso, and training runs just below and above the computed limit."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.linear_model import Lasso

import engine

from .references import batch_orders, np_mse

# the engine's optimizer method IS torch.optim: same kernels, so the same float32 numbers up to summation order
F32 = {"rtol": 1e-5, "atol": 2e-6}


@pytest.fixture(scope="module")
def line():
    return engine.make_dataset("line", n=40, noise=0.5, seed=3)


# ----------------------------------------------------------------------------------------------------
# References (numpy float64, PyTorch written the way users write it); nothing here calls the engine
# ----------------------------------------------------------------------------------------------------


def np_powers(x, degree: int, standardize: bool) -> np.ndarray:
    """x, x^2, ..., x^degree as numpy columns, each standardized with its population standard deviation."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    cols = np.vander(x, degree + 1, increasing=True)[:, 1:]
    if standardize:
        cols = (cols - cols.mean(0)) / cols.std(0)
    return cols


def np_ridge(x, y, weight_decay: float) -> np.ndarray:
    """argmin (1/n)||X w + b - y||^2 + (wd/2)||w||^2 with b free: centre, then (X'X/n + wd/2 I) w = X'y/n."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    xm, ym = x.mean(0), y.mean()
    xc, yc = x - xm, y - ym
    n, d = xc.shape
    w = np.linalg.solve(xc.T @ xc / n + 0.5 * weight_decay * np.eye(d), xc.T @ yc / n)
    return np.append(w, ym - xm @ w)


def torch_decay_loop(x, y, init, lr, epochs, weight_decay=0.0, l1=0.0, momentum=0.0, batch_size=None, seed=0):
    """nn.Linear + MSELoss + torch.optim.SGD with two parameter groups (weights decayed, bias not) and the L1 term
    added to the loss, as a PyTorch user writes it. Returns the parameters (w..., b) before every step and after the
    last."""
    X = torch.tensor(np.asarray(x), dtype=torch.float32)
    Y = torch.tensor(np.asarray(y), dtype=torch.float32)
    n, d = X.shape
    model = torch.nn.Linear(d, 1)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([init[:d]], dtype=torch.float32))
        model.bias.copy_(torch.tensor(init[d:], dtype=torch.float32))
    optimizer = torch.optim.SGD(
        [
            {"params": [model.weight], "weight_decay": weight_decay},
            {"params": [model.bias], "weight_decay": 0.0},
        ],
        lr=lr,
        momentum=momentum,
    )
    loss_fn = torch.nn.MSELoss()
    orders = [[list(range(n))]] * epochs if batch_size is None else batch_orders(n, batch_size, seed, epochs)
    path = []
    for batches in orders:
        for idx in batches:
            path.append(torch.cat([model.weight.detach().flatten(), model.bias.detach()]).double().numpy())
            optimizer.zero_grad()
            loss = loss_fn(model(X[idx]).squeeze(1), Y[idx]) + l1 * model.weight.abs().sum()
            loss.backward()
            optimizer.step()
    path.append(torch.cat([model.weight.detach().flatten(), model.bias.detach()]).double().numpy())
    return np.array(path)


# ----------------------------------------------------------------------------------------------------
# Polynomial features
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("standardize", [True, False])
@pytest.mark.parametrize("degree", [1, 2, 5, 9])
def test_polynomial_columns_are_the_standardized_powers(line, degree, standardize):
    pds = engine.polynomial(line, degree, standardize=standardize)
    assert pds.d == degree and pds.n == line.n
    assert pds.feature_names == tuple(["x"] + [f"x^{k}" for k in range(2, degree + 1)])
    np.testing.assert_allclose(pds.x.double().numpy(), np_powers(line.x.numpy(), degree, standardize), rtol=2e-6)
    assert torch.equal(pds.y, line.y)


@pytest.mark.parametrize("degree", [1, 3, 6])
def test_the_least_squares_fit_on_the_features_is_numpys_polyfit(line, degree):
    """Closed form on the (standardized) features, mapped back to raw powers, equals np.polyfit on raw x; and the
    curve drawn from the kept means and scales is polyfit's curve."""
    pds = engine.polynomial(line, degree)
    x, y = line.x.double().numpy()[:, 0], line.y.double().numpy()
    coeffs = np.polyfit(x, y, degree)  # highest power first
    mapped = pds.polynomial.to_power_coefficients(engine.least_squares(pds))  # (c1..cd, c0)
    np.testing.assert_allclose(mapped[:-1][::-1], coeffs[:-1], rtol=1e-4, atol=1e-4)
    assert mapped[-1] == pytest.approx(coeffs[-1], abs=1e-4)
    grid = np.linspace(x.min(), x.max(), 7)
    curve = pds.polynomial.predict(engine.least_squares(pds), grid)
    np.testing.assert_allclose(curve, np.polyval(coeffs, grid), rtol=1e-4, atol=1e-4)


def test_degree_k_columns_are_the_first_columns_of_degree_9(line):
    nine = engine.polynomial(line, 9).x
    for k in range(1, 9):
        assert torch.equal(engine.polynomial(line, k).x, nine[:, :k])


def test_polynomial_true_parameters_give_the_true_line(line):
    pds = engine.polynomial(line, 4)
    grid = np.linspace(-2, 2, 5)
    np.testing.assert_allclose(pds.polynomial.predict(pds.true_params, grid), 2 * grid + 1, atol=1e-9)


@pytest.mark.parametrize("degree", [0, 10, 2.5, True])
def test_polynomial_refuses_bad_degrees(line, degree):
    with pytest.raises(ValueError, match="degree"):
        engine.polynomial(line, degree)


def test_polynomial_needs_one_feature_and_a_spread():
    with pytest.raises(ValueError, match="one input feature"):
        engine.polynomial(engine.make_dataset("plane"), 2)
    with pytest.raises(ValueError, match="single value"):
        engine.polynomial(engine.dataset_from_arrays([2.0, 2.0, 2.0], [1.0, 2.0, 3.0]), 2)


def test_dataset_from_arrays_still_takes_at_most_two_columns():
    with pytest.raises(ValueError, match="one or two input features"):
        engine.dataset_from_arrays(np.ones((5, 3)), np.ones(5))


# ----------------------------------------------------------------------------------------------------
# The split
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 3, 10, 41])
@pytest.mark.parametrize("fraction", [0.01, 0.25, 0.5])
def test_split_is_disjoint_complete_and_nonempty(n, fraction):
    x = np.arange(n, dtype=np.float64)  # row i holds x = i, y = -i: rows can be told apart
    ds = engine.dataset_from_arrays(x, -x)
    train, test = engine.split(ds, fraction, seed=5)
    train_x, test_x = train.x[:, 0].numpy(), test.x[:, 0].numpy()
    assert len(train_x) >= 1 and len(test_x) >= 1
    assert len(test_x) == min(max(round(n * fraction), 1), n - 1)
    assert set(train_x).isdisjoint(test_x)
    assert sorted([*train_x, *test_x]) == list(range(n))
    np.testing.assert_array_equal(train.y.numpy(), -train_x)  # x and y stay paired
    np.testing.assert_array_equal(test.y.numpy(), -test_x)


def test_split_is_seeded():
    ds = engine.dataset_from_arrays(np.arange(50.0), np.arange(50.0))
    a, b, c = (engine.split(ds, 0.3, seed)[1].x[:, 0].tolist() for seed in (1, 1, 2))
    assert a == b and a != c


def test_split_with_fraction_zero_keeps_everything(line):
    train, test = engine.split(line, 0.0, seed=0)
    assert train is line and test.n == 0


@pytest.mark.parametrize("fraction", [-0.1, 0.51, 1.0])
def test_split_refuses_bad_fractions(line, fraction):
    with pytest.raises(ValueError, match="test fraction"):
        engine.split(line, fraction, 0)
    with pytest.raises(ValueError, match="test fraction"):
        engine.TrainConfig(test_fraction=fraction)


# ----------------------------------------------------------------------------------------------------
# train() with a split, weight decay and L1
# ----------------------------------------------------------------------------------------------------


def test_train_fits_the_training_rows_and_reports_both_losses(line):
    pds = engine.polynomial(line, 3)
    cfg = engine.TrainConfig(lr=0.05, epochs=40, test_fraction=0.25, seed=7)
    hist = engine.train(pds, cfg)
    train, test = engine.split(pds, 0.25, 7)
    alone = engine.train(train, engine.TrainConfig(lr=0.05, epochs=40, seed=7))
    np.testing.assert_array_equal(hist.params, alone.params)  # the test rows never touch the training
    assert hist.test_loss is not None and hist.test_loss.shape == hist.loss.shape
    for k in (0, 10, 40):
        assert hist.loss[k] == pytest.approx(np_mse(train.x.numpy(), train.y.numpy(), hist.params[k]), rel=1e-9)
        assert hist.test_loss[k] == pytest.approx(np_mse(test.x.numpy(), test.y.numpy(), hist.params[k]), rel=1e-9)
    assert engine.train(pds, engine.TrainConfig(lr=0.05, epochs=5)).test_loss is None


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize(("weight_decay", "l1"), [(0.3, 0.0), (0.0, 0.2), (0.5, 0.1)])
def test_the_optimizer_method_is_pytorchs_loop_with_two_parameter_groups(line, weight_decay, l1, momentum):
    pds = engine.polynomial(line, 3)
    init = (0.4, -0.3, 0.2, 0.1)
    cfg = engine.TrainConfig(lr=0.05, epochs=60, init=init, weight_decay=weight_decay, l1=l1, momentum=momentum)
    hist = engine.train(pds, cfg)
    ref = torch_decay_loop(pds.x.numpy(), pds.y.numpy(), init, 0.05, 60, weight_decay, l1, momentum)
    np.testing.assert_allclose(hist.params, ref, **F32)


def test_mini_batches_with_decay_follow_pytorchs_loop(line):
    pds = engine.polynomial(line, 2)
    init = (0.1, 0.2, 0.3)
    cfg = engine.TrainConfig(lr=0.05, epochs=8, init=init, weight_decay=0.2, l1=0.05, batch_size=6, seed=4)
    hist = engine.train(pds, cfg)
    ref = torch_decay_loop(pds.x.numpy(), pds.y.numpy(), init, 0.05, 8, 0.2, 0.05, batch_size=6, seed=4)
    np.testing.assert_allclose(hist.params, ref, **F32)


@pytest.mark.parametrize(("momentum", "nesterov"), [(0.0, False), (0.9, False), (0.5, True)])
@pytest.mark.parametrize("method", ["autograd", "analytic", "finite-difference"])
def test_every_method_makes_the_same_regularized_update(line, method, momentum, nesterov):
    pds = engine.polynomial(line, 3)
    common = {"lr": 0.03, "epochs": 50, "init": (0.4, -0.3, 0.2, 0.1), "weight_decay": 0.4, "l1": 0.1}
    common.update(momentum=momentum, nesterov=nesterov, test_fraction=0.2)
    ref = engine.train(pds, engine.TrainConfig(**common))
    hist = engine.train(pds, engine.TrainConfig(method=method, **common))
    tol = {"rtol": 1e-4, "atol": 2e-5} if method == "finite-difference" else F32
    np.testing.assert_allclose(hist.params, ref.params, **tol)
    np.testing.assert_allclose(hist.grads, ref.grads, rtol=tol["rtol"], atol=10 * tol["atol"])
    np.testing.assert_allclose(hist.test_loss, ref.test_loss, rtol=1e-4)


@pytest.mark.parametrize("method", engine.METHODS)
def test_recorded_gradient_is_the_regularized_gradient(line, method):
    """grads[k] = (2/n) X'(X p - y) + wd * w + l1 * sign(w) at params[k], bias unpenalized (numpy)."""
    pds = engine.polynomial(line, 2)
    cfg = engine.TrainConfig(method=method, lr=0.05, epochs=20, init=(0.5, -0.5, 0.0), weight_decay=0.3, l1=0.2)
    hist = engine.train(pds, cfg)
    X = np.hstack([pds.x.double().numpy(), np.ones((pds.n, 1))])
    y = pds.y.double().numpy()
    for k in (0, 5, 19):
        p = hist.params[k]
        grad = 2 / pds.n * X.T @ (X @ p - y)
        grad[:2] += 0.3 * p[:2] + 0.2 * np.sign(p[:2])
        np.testing.assert_allclose(hist.grads[k], grad, rtol=1e-4, atol=1e-4)


def test_no_bias_with_decay_decays_every_weight(line):
    pds = engine.polynomial(line, 2)
    hist = engine.train(pds, engine.TrainConfig(lr=0.05, epochs=400, fit_bias=False, weight_decay=0.5))
    X, y = pds.x.double().numpy(), pds.y.double().numpy()
    expected = np.linalg.solve(X.T @ X / pds.n + 0.25 * np.eye(2), X.T @ y / pds.n)
    np.testing.assert_allclose(hist.final_params, expected, atol=1e-4)
    np.testing.assert_allclose(engine.ridge(pds, 0.5, fit_bias=False), expected, rtol=1e-10)


# ----------------------------------------------------------------------------------------------------
# Closed-form optima
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("degree", [1, 3, 9])
@pytest.mark.parametrize("weight_decay", [0.01, 0.3, 5.0])
def test_ridge_is_the_numpy_closed_form_with_a_free_intercept(line, degree, weight_decay):
    pds = engine.polynomial(line, degree)
    expected = np_ridge(pds.x.numpy(), pds.y.numpy(), weight_decay)
    np.testing.assert_allclose(engine.ridge(pds, weight_decay), expected, rtol=1e-8, atol=1e-10)


def test_ridge_with_no_decay_is_least_squares_and_gd_reaches_ridge(line):
    pds = engine.polynomial(line, 3)
    np.testing.assert_allclose(
        engine.ridge(pds, 0.0),
        np.linalg.lstsq(np.hstack([pds.x.double().numpy(), np.ones((pds.n, 1))]), pds.y.double().numpy(), rcond=None)[
            0
        ],
        rtol=1e-9,
    )
    st = engine.stability(pds, weight_decay=1.0)
    hist = engine.train(pds, engine.TrainConfig(lr=st.best_lr, epochs=2000, weight_decay=1.0))
    np.testing.assert_allclose(hist.final_params, np_ridge(pds.x.numpy(), pds.y.numpy(), 1.0), atol=2e-5)


def test_ridge_handles_raw_high_powers():
    """Raw powers of the thermometer's readings reach 1e17: rescaled internally, the answer still solves the
    normal equations (checked by numpy on column-scaled data)."""
    ds = engine.polynomial(engine.make_dataset("thermometer"), 4, standardize=False)
    w = engine.ridge(ds, 1e-3)
    x = ds.x.double().numpy()
    s = np.sqrt((x**2).mean(0))
    X = np.hstack([x / s, np.ones((ds.n, 1))])
    y = ds.y.double().numpy()
    v = np.append(w[:-1] * s, w[-1])  # the same fit, on scaled columns
    grad = 2 / ds.n * X.T @ (X @ v - y) + np.append(1e-3 * w[:-1] / s, 0.0)  # chain rule: d/dv = (d/dw) / s
    assert np.abs(grad).max() < 1e-9 * max(1.0, np.abs(y).max())


@pytest.mark.parametrize("degree", [1, 3, 6])
@pytest.mark.parametrize("l1", [0.02, 0.2, 1.0])
def test_lasso_is_scikit_learns_lasso(line, degree, l1):
    # scikit-learn's Lasso minimizes (1/(2n)) ||y - X w - b||^2 + alpha ||w||_1. Our loss is
    # (1/n) ||y - X w - b||^2 + l1 ||w||_1 = 2 * [(1/(2n)) ||...||^2 + (l1/2) ||w||_1], so alpha = l1 / 2
    # gives the same minimizer (both leave the intercept unpenalized).
    pds = engine.polynomial(line, degree)
    x, y = pds.x.double().numpy(), pds.y.double().numpy()  # float64: scikit-learn would solve float32 in float32
    ref = Lasso(alpha=l1 / 2, fit_intercept=True, tol=1e-14, max_iter=1_000_000).fit(x, y)
    ours = engine.lasso(pds, l1)
    np.testing.assert_allclose(ours[:-1], ref.coef_, atol=1e-7)
    assert ours[-1] == pytest.approx(ref.intercept_, abs=1e-7)
    assert (
        engine.regularized_loss(pds, ours, l1=l1)
        <= engine.regularized_loss(pds, ref.coef_.tolist() + [ref.intercept_], l1=l1) + 1e-12
    )


def test_strong_lasso_zeroes_weights_and_subgradient_descent_chatters_around_zero(line):
    """The lasso optimum has exact zeros; plain (sub)gradient descent with l1 * sign(w) never lands on them: the
    zeroed weights keep flipping sign at the size of about lr * l1."""
    pds = engine.polynomial(line, 5)
    l1 = 0.5
    optimum = engine.lasso(pds, l1)
    zero = np.flatnonzero(optimum[:-1] == 0)
    assert len(zero) >= 2, optimum
    lr = 0.02
    hist = engine.train(pds, engine.TrainConfig(lr=lr, epochs=3000, l1=l1))
    tail = hist.params[-200:, zero]
    assert np.all(np.abs(tail) < 5 * lr * l1)  # near zero ...
    assert np.mean(tail != 0) > 0.9  # ... but (almost) never exactly there
    flips = np.mean(np.sign(tail[1:]) != np.sign(tail[:-1]))
    assert flips > 0.2, flips  # and it chatters
    assert engine.regularized_loss(pds, hist.final_params, l1=l1) == pytest.approx(
        engine.regularized_loss(pds, optimum, l1=l1), rel=1e-2
    )


# ----------------------------------------------------------------------------------------------------
# Early stopping
# ----------------------------------------------------------------------------------------------------


def test_early_stop_is_the_step_of_the_lowest_test_loss():
    ds = engine.polynomial(engine.make_dataset("line", n=14, noise=1.0, seed=2), 9)
    hist = engine.train(ds, engine.TrainConfig(lr=0.05, epochs=3000, test_fraction=0.3, seed=1))
    stop = engine.early_stop(hist)
    assert stop.test_loss == hist.test_loss.min() == hist.test_loss[stop.step]
    assert np.all(hist.test_loss[: stop.step] > stop.test_loss)
    np.testing.assert_array_equal(stop.params, hist.params[stop.step])
    assert stop.train_loss == hist.loss[stop.step]
    assert 0 < stop.step < hist.steps  # degree 9 on 10 points overfits: the test loss turns up again
    assert hist.test_loss[-1] > 1.5 * stop.test_loss
    with pytest.raises(ValueError, match="test"):
        engine.early_stop(engine.train(ds, engine.TrainConfig(epochs=3)))


# ----------------------------------------------------------------------------------------------------
# Stability with weight decay
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fit_bias", [True, False])
@pytest.mark.parametrize("weight_decay", [0.1, 2.0])
def test_stability_with_decay_is_numpys_regularized_hessian(line, fit_bias, weight_decay):
    pds = engine.polynomial(line, 4)
    X = pds.x.double().numpy()
    X = np.hstack([X, np.ones((pds.n, 1))]) if fit_bias else X
    d = np.diag([1.0] * 4 + [0.0] * int(fit_bias))
    ev = np.linalg.eigvalsh(2 / pds.n * X.T @ X + weight_decay * d)
    st = engine.stability(pds, fit_bias, weight_decay=weight_decay)
    np.testing.assert_allclose(st.eigenvalues, ev, rtol=1e-9)
    assert st.max_stable_lr == pytest.approx(2 / ev[-1])
    assert st.best_lr == pytest.approx(2 / (ev[0] + ev[-1]))


def test_stability_without_decay_is_unchanged(line):
    a, b = engine.stability(line), engine.stability(line, True, weight_decay=0.0)
    np.testing.assert_array_equal(a.eigenvalues, b.eigenvalues)
    for field in ("condition_number", "max_stable_lr", "best_lr", "best_momentum_lr", "best_momentum"):
        assert getattr(a, field) == getattr(b, field)


@pytest.mark.parametrize("method", ["optimizer", "analytic"])
@pytest.mark.parametrize("weight_decay", [0.5, 4.0])
def test_the_limit_with_decay_holds_in_training(line, method, weight_decay):
    """0.95x the computed limit converges to the ridge optimum; 1.05x blows up."""
    pds = engine.polynomial(line, 3)
    limit = engine.stability(pds, weight_decay=weight_decay).max_stable_lr
    below = engine.train(
        pds, engine.TrainConfig(method=method, lr=0.95 * limit, epochs=3000, weight_decay=weight_decay)
    )
    above = engine.train(
        pds, engine.TrainConfig(method=method, lr=1.05 * limit, epochs=3000, weight_decay=weight_decay)
    )
    assert not below.diverged and above.diverged
    np.testing.assert_allclose(below.final_params, np_ridge(pds.x.numpy(), pds.y.numpy(), weight_decay), atol=1e-4)


def test_new_config_fields_are_validated():
    for bad in ({"weight_decay": -1.0}, {"l1": -0.1}, {"weight_decay": float("nan")}, {"l1": float("inf")}):
        with pytest.raises(ValueError):
            engine.TrainConfig(**bad)
    assert engine.TrainConfig().test_fraction == engine.TrainConfig().weight_decay == engine.TrainConfig().l1 == 0.0
