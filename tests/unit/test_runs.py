"""compute.runs: control values -> TrainConfig -> RunResult, checked against numpy: the least-squares optimum, gradient
descent written out in float64, and the stability limit from the Hessian's eigenvalues."""

import numpy as np
import pytest

import engine
from compute import runs
from settings import controls
from settings.controls import LR_GRID

from .references import design, np_lstsq

DEFAULTS = controls.defaults()


def _values(**changes) -> dict:
    return DEFAULTS | changes


def _raw_xy(values: dict) -> tuple[np.ndarray, np.ndarray]:
    raw = engine.make_dataset(values["dataset"], n=values["n"], noise=values["noise"], seed=values["seed"])
    return raw.x.double().numpy(), raw.y.double().numpy()


def _lmax(x: np.ndarray, fit_bias: bool = True) -> float:
    big_x = design(x, fit_bias)
    return float(np.linalg.eigvalsh(2.0 / len(big_x) * big_x.T @ big_x)[-1])


def _np_heavy_ball(x, y, start, lr, beta, steps, fit_bias=True) -> np.ndarray:
    """Full-batch gradient descent with torch.optim.SGD's momentum, in float64: v = beta v + g; p -= lr v."""
    big_x = design(x, fit_bias)
    p, v = np.array(start, dtype=np.float64), np.zeros(len(start))
    for _ in range(steps):
        g = 2.0 / len(y) * big_x.T @ (big_x @ p - y)
        v = beta * v + g
        p = p - lr * v
    return p


# ----------------------------------------------------------------------------------------------------
# build_config
# ----------------------------------------------------------------------------------------------------


def _config(**changes) -> engine.TrainConfig:
    values = _values(**changes)
    _, ds = runs.build_dataset(values)
    return runs.build_config(values, ds)


def test_build_config_at_the_defaults():
    cfg = _config()
    assert cfg == engine.TrainConfig(
        method="optimizer",
        optimizer="sgd",
        lr=0.1,
        momentum=0.8,
        nesterov=False,
        epochs=60,
        batch_size=None,
        init=(-1.0, -2.0),
        fit_bias=True,
        fd_delta=0.1,
        seed=0,
        device="cpu",
    )


@pytest.mark.parametrize(
    "batch, batch_size, expected", [("full", 8, None), ("single sample", 8, 1), ("mini-batch", 5, 5)]
)
def test_batch_modes(batch, batch_size, expected):
    assert _config(batch=batch, batch_size=batch_size).batch_size == expected


@pytest.mark.parametrize("optimizer", ["adam", "adagrad"])
def test_momentum_and_nesterov_dropped_for_adam_and_adagrad(optimizer):
    cfg = _config(optimizer=optimizer, momentum=0.9, nesterov=True)
    assert cfg.optimizer == optimizer
    assert cfg.momentum == 0.0
    assert cfg.nesterov is False


def test_rmsprop_keeps_momentum_but_not_nesterov():
    cfg = _config(optimizer="rmsprop", momentum=0.9, nesterov=True)
    assert (cfg.momentum, cfg.nesterov) == (0.9, False)


def test_nesterov_off_when_momentum_is_zero():
    cfg = _config(momentum=0.0, nesterov=True)  # TrainConfig itself would refuse nesterov without momentum
    assert (cfg.momentum, cfg.nesterov) == (0.0, False)


@pytest.mark.parametrize("method", ["optimizer", "autograd", "finite-difference", "analytic"])
def test_nesterov_kept_with_momentum(method):
    cfg = _config(method=method, momentum=0.5, nesterov=True)
    assert (cfg.method, cfg.momentum, cfg.nesterov) == (method, 0.5, True)


@pytest.mark.parametrize("method", ["autograd", "finite-difference", "analytic"])
def test_manual_methods_use_plain_sgd_whatever_the_optimizer_control_says(method):
    cfg = _config(method=method, optimizer="adam", momentum=0.7)
    assert (cfg.optimizer, cfg.momentum) == ("sgd", 0.7)


def test_the_other_controls_pass_through():
    cfg = _config(lr=0.0123, epochs=7, fd_delta=3e-5, seed=42, method="finite-difference")
    assert (cfg.lr, cfg.epochs, cfg.fd_delta, cfg.seed, cfg.device) == (0.0123, 7, 3e-5, 42, "cpu")


@pytest.mark.parametrize(
    "dataset, init, fit_bias",
    [
        ("line", (1.5, -0.5), True),
        ("plane", (1.5, 4.0, -0.5), True),
        ("thermometer", (1.5, -0.5), True),
        ("lab", (1.5, -0.5), True),
        ("single-point", (1.5,), False),
        ("four-points", (1.5,), False),
    ],
)
def test_start_point_without_scaling(dataset, init, fit_bias):
    cfg = _config(dataset=dataset, w0=1.5, w2_0=4.0, b0=-0.5)
    assert cfg.init == init
    assert cfg.fit_bias is fit_bias


@pytest.mark.parametrize("dataset", ["line", "thermometer", "plane"])
def test_standardize_start_point_in_scaled_units(dataset):
    """x' = (x - m) / s, so w x + b = (w s) x' + (b + w m): the start given in x's units, converted by hand."""
    values = _values(dataset=dataset, scaling="standardize", w0=1.5, w2_0=-4.0, b0=0.5)
    x, _ = _raw_xy(values)
    m, s = x.mean(axis=0), x.std(axis=0)
    w = np.array([1.5, -4.0][: x.shape[1]])
    expected = np.concatenate([w * s, [0.5 + float(w @ m)]])
    np.testing.assert_allclose(_config(**values).init, expected, rtol=1e-6, atol=1e-6)


def test_multiply_start_point_in_scaled_units():
    """x' = 0.1 x, so w x + b = (10 w) x' + b."""
    cfg = _config(dataset="thermometer", scaling="x0.1", w0=1.5, b0=-0.5)
    np.testing.assert_allclose(cfg.init, (15.0, -0.5), rtol=1e-12)


def test_standardize_without_bias_only_divides():
    """No bias, so no centring: x' = x / s and w x = (w s) x'."""
    values = _values(dataset="four-points", scaling="standardize", w0=1.5)
    x, _ = _raw_xy(values)
    cfg = _config(**values)
    assert cfg.fit_bias is False
    np.testing.assert_allclose(cfg.init, [1.5 * x.std()], rtol=1e-6)


@pytest.mark.parametrize(
    "changes",
    [
        {"dataset": "thermometer", "scaling": "standardize", "lr": 0.5, "momentum": 0.0, "epochs": 50},
        {"dataset": "plane", "scaling": "standardize", "lr": 0.5, "momentum": 0.0, "epochs": 100},
        {"dataset": "lab", "scaling": "x0.1", "lr": 0.5, "momentum": 0.8, "epochs": 1000},
        {"dataset": "four-points", "scaling": "standardize", "lr": 0.1, "momentum": 0.0, "epochs": 100},
        {
            "dataset": "thermometer",
            "scaling": "x0.1",
            "lr": 0.015,
            "momentum": 0.9,
            "epochs": 5000,
            "method": "analytic",
        },
    ],
)
def test_training_on_scaled_inputs_maps_back_to_the_raw_least_squares(changes):
    values = _values(**changes)
    result = runs.compute(values)
    assert not result.history.diverged
    x, y = _raw_xy(values)
    expected = np_lstsq(x, y, fit_bias=result.fit_bias)
    scaling = result.dataset.scaling
    assert scaling is not None
    np.testing.assert_allclose(scaling.to_original(result.history.final_params), expected, rtol=2e-4, atol=2e-4)
    # and the run started where the controls said, in the raw units
    start = [values["w0"]] + ([values["w2_0"]] if x.shape[1] == 2 else []) + ([values["b0"]] if result.fit_bias else [])
    np.testing.assert_allclose(scaling.to_original(result.history.params[0]), start, rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------------------------------------
# compute()
# ----------------------------------------------------------------------------------------------------


def test_compute_at_the_defaults_converges_to_the_least_squares_optimum():
    result = runs.compute(DEFAULTS)
    x, y = _raw_xy(DEFAULTS)
    optimum = np_lstsq(x, y)
    h = result.history
    assert not h.diverged
    assert h.steps == 60
    np.testing.assert_allclose(h.params[0], [-1.0, -2.0])
    np.testing.assert_allclose(h.final_params, optimum, atol=0.01)
    min_loss = float(np.mean((design(x) @ optimum - y) ** 2))
    assert h.final_loss == pytest.approx(min_loss, rel=0.01)
    np.testing.assert_allclose(result.optimum, optimum, rtol=1e-9)
    assert result.surface.min_loss == pytest.approx(min_loss, rel=1e-9)
    assert result.optimum_note is None


def test_compute_at_the_defaults_follows_numpy_gradient_descent_step_by_step():
    result = runs.compute(DEFAULTS)
    x, y = _raw_xy(DEFAULTS)
    for k in (1, 2, 10, 60):
        expected = _np_heavy_ball(x, y, [-1.0, -2.0], lr=0.1, beta=0.8, steps=k)
        np.testing.assert_allclose(result.history.params[k], expected, rtol=1e-4, atol=1e-5)


def test_compute_names_and_shapes():
    result = runs.compute(_values(dataset="plane", epochs=3))
    assert result.param_names == ("w1", "w2", "b")
    assert result.history.params.shape == (4, 3)
    assert result.fit_bias is True
    assert runs.compute(_values(dataset="single-point", epochs=3)).param_names == ("w",)


def test_compute_refuses_impossible_settings_with_a_value_error():
    with pytest.raises(ValueError):
        runs.compute(_values(dataset="single-point", scaling="standardize"))  # one point has no spread


# ----------------------------------------------------------------------------------------------------
# the stability limit
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"momentum": 0.0},
        {"momentum": 0.95},
        {"dataset": "thermometer", "momentum": 0.5},
        {"dataset": "plane", "n": 100},
        {"dataset": "lab", "method": "analytic"},
        {"dataset": "four-points"},
        {"dataset": "single-point", "method": "autograd"},
    ],
)
def test_lr_limit_is_two_one_plus_beta_over_lambda_max(changes):
    values = _values(epochs=1, **changes)
    result = runs.compute(values)
    x, _ = _raw_xy(values)
    expected = 2.0 * (1.0 + values["momentum"]) / _lmax(x, result.fit_bias)
    assert result.lr_limit == pytest.approx(expected, rel=1e-9)


def _spectral_radius(lr: float, lam: float, beta: float, nesterov: bool) -> float:
    """Of one eigen-direction's linear update (x, v) -> (x', v') as torch.optim.SGD applies it."""
    if nesterov:  # v' = beta v + lam x; x' = x - lr (lam x + beta v')
        m = np.array([[1 - lr * lam * (1 + beta), -lr * beta**2], [lam, beta]])
    else:  # v' = beta v + lam x; x' = x - lr v'
        m = np.array([[1 - lr * lam, -lr * beta], [lam, beta]])
    return float(np.max(np.abs(np.linalg.eigvals(m))))


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.8, 0.95])
@pytest.mark.parametrize("nesterov", [False, True])
def test_lr_limit_is_where_the_update_stops_contracting(beta, nesterov):
    values = _values(momentum=beta, nesterov=nesterov, epochs=1)
    result = runs.compute(values)
    lam = _lmax(_raw_xy(values)[0])
    limit = result.lr_limit
    assert _spectral_radius(0.99 * limit, lam, beta, nesterov and beta > 0) < 1.0
    assert _spectral_radius(1.01 * limit, lam, beta, nesterov and beta > 0) > 1.0


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop", "adagrad"])
def test_no_fixed_limit_for_adaptive_optimizers(optimizer):
    assert runs.compute(_values(optimizer=optimizer, epochs=2)).lr_limit is None


def test_just_below_the_limit_converges_and_just_above_diverges():
    x, y = _raw_xy(DEFAULTS)
    limit = 2.0 * 1.8 / _lmax(x)
    below = runs.compute(_values(lr=0.9 * limit, epochs=1000))
    assert not below.history.diverged
    np.testing.assert_allclose(below.history.final_params, np_lstsq(x, y), atol=1e-3)
    above = runs.compute(_values(lr=1.1 * limit, epochs=1000))
    assert above.history.diverged


def test_lr_above_the_limit_diverges_with_a_message_naming_both_numbers():
    result = runs.compute(_values(lr=2.0))
    limit = 2.0 * 1.8 / _lmax(_raw_xy(DEFAULTS)[0])
    assert 2.0 > limit
    h = result.history
    assert h.diverged
    assert h.diverged_at is not None and 0 < h.diverged_at <= h.steps
    assert np.isfinite(h.params).all() and np.isfinite(h.loss).all()
    message = runs.divergence_message(result)
    assert "diverged" in message
    assert f"at step {h.diverged_at}" in message
    assert "learning rate 2 " in message
    assert f"{limit:.3g}" in message
    assert "momentum 0.8" in message


@pytest.mark.parametrize(
    ("lr", "momentum", "epochs", "growing"),
    [
        (1.0, 0.0, 60, True),  # limit 0.949: down to step 3, then up to 454,000, not yet called diverged
        (1.0, 0.05, 60, True),  # limit 0.996: down, then up, still below the start at the end
        (2.0, 0.8, 60, False),  # blew up: the divergence message says it
        (0.9, 0.0, 60, False),  # below the limit
        (5.0, 0.0, 1, True),  # five times the limit, one step: 15.8 to 827, short of the divergence check
        (1.0, 0.0, 3, False),  # above the limit, but still coming down after three steps: nothing to say yet
    ],
)
def test_a_run_above_the_limit_that_has_not_blown_up_yet_is_called_diverging(lr, momentum, epochs, growing):
    result = runs.compute(_values(lr=lr, momentum=momentum, epochs=epochs))
    h = result.history
    message = runs.growing_message(result)
    assert (message is not None) == growing
    if growing:
        assert not h.diverged and lr > result.lr_limit
        low = int(np.argmin(h.loss))
        assert h.loss[-1] > h.loss[low]
        assert f"limit {result.lr_limit:.3g}" in message and f"{h.loss[-1]:.4g}" in message
        assert (f"at step {low}" in message) == (low > 0)
        assert f"in {h.steps} step{'s' if h.steps != 1 else ''}." in message


def test_divergence_message_for_mini_batches_below_the_full_data_limit():
    result = runs.compute(_values(batch="single sample", lr=1.0))
    assert result.history.diverged
    assert result.config.lr < result.lr_limit
    message = runs.divergence_message(result)
    assert "learning rate 1 " in message
    assert f"{result.lr_limit:.3g}" in message
    assert "batch" in message


def test_divergence_message_for_an_adaptive_optimizer_on_mini_batches():
    """RMSprop (no fixed limit: lr_limit is None) blowing up on mini-batches must still get its message."""
    opt = np_lstsq(*_raw_xy(_values(dataset="thermometer")))
    values = _values(
        dataset="thermometer",
        optimizer="rmsprop",
        momentum=0.0,
        lr=10.0,
        batch="mini-batch",
        batch_size=2,
        w0=round(float(opt[0]), 2),
        b0=round(float(opt[1]), 2),
    )
    result = runs.compute(values)
    assert result.lr_limit is None
    assert result.history.diverged
    message = runs.divergence_message(result)  # raised TypeError: format of None
    assert "diverged" in message
    assert "10" in message


# ----------------------------------------------------------------------------------------------------
# safe_lr
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [1.7075, 1.0, 0.0627, 0.1667, 3e-4, 11.2, 100.0])
def test_safe_lr_is_the_largest_grid_value_at_most_ninety_percent_of_the_limit(limit):
    safe = runs.safe_lr(limit, LR_GRID)
    assert safe in LR_GRID
    assert safe <= 0.9 * limit
    larger = [v for v in LR_GRID if v > safe]
    assert not larger or larger[0] > 0.9 * limit


def test_safe_lr_at_the_defaults_and_below_the_grid():
    limit = 2.0 * 1.8 / _lmax(_raw_xy(DEFAULTS)[0])
    assert runs.safe_lr(limit, LR_GRID) == 1.5
    assert runs.safe_lr(1e-6, LR_GRID) == LR_GRID[0]


def test_the_safe_lr_of_a_diverged_run_converges():
    diverged = runs.compute(_values(lr=2.0))
    safe = runs.safe_lr(diverged.lr_limit, LR_GRID)
    fixed = runs.compute(_values(lr=safe, epochs=500))
    assert not fixed.history.diverged
    np.testing.assert_allclose(fixed.history.final_params, np_lstsq(*_raw_xy(DEFAULTS)), atol=1e-3)
