"""engine.degree_sweep and engine.decay_sweep: each batched run is the single run engine.train makes with the same
settings, and the closed-form references per run agree with numpy's lstsq / closed-form ridge on the same rows."""

from __future__ import annotations

import numpy as np
import pytest

import engine

from .references import np_mse


@pytest.fixture(scope="module")
def line():
    return engine.make_dataset("line", n=30, noise=0.8, seed=4)


def _np_design(x, degree):
    """numpy's own standardized powers of x (population sd), then a ones column."""
    cols = np.vander(np.asarray(x, dtype=np.float64), degree + 1, increasing=True)[:, 1:]
    cols = (cols - cols.mean(0)) / cols.std(0)
    return np.hstack([cols, np.ones((len(cols), 1))])


def test_each_degree_is_the_single_run(line):
    sweep = engine.degree_sweep(line, epochs=300, test_fraction=0.25, seed=2, weight_decay=0.01, momentum=0.5)
    assert list(sweep.degrees) == list(range(1, 10)) and sweep.loss.shape == (301, 9)
    for k, degree in enumerate(sweep.degrees):
        cfg = engine.TrainConfig(
            method="analytic",
            lr=float(sweep.lrs[k]),
            epochs=300,
            test_fraction=0.25,
            seed=2,
            weight_decay=0.01,
            momentum=0.5,
        )
        hist = engine.train(engine.polynomial(line, int(degree)), cfg)
        np.testing.assert_allclose(sweep.params[:, k, : degree + 1], hist.params, rtol=1e-5, atol=2e-6)
        np.testing.assert_array_equal(sweep.params[:, k, degree + 1 :], 0.0)  # the padding stays zero
        np.testing.assert_allclose(sweep.loss[:, k], hist.loss, rtol=1e-5)
        np.testing.assert_allclose(sweep.test_loss[:, k], hist.test_loss, rtol=1e-5)
        assert sweep.lrs[k] == pytest.approx(
            engine.stability(engine.split(engine.polynomial(line, int(degree)), 0.25, 2)[0], True, 0.01).best_lr
        )


def test_closed_form_fits_per_degree_are_numpys_and_the_test_curve_turns_up(line):
    """Per degree: numpy's lstsq on the training rows' features (the float32 features engine.polynomial makes, which
    test_regularization checks against numpy's own powers; high degrees are too ill-conditioned for float32-rounded
    and float64 features to give the same coefficients), and its MSE on the held-out rows."""
    sweep = engine.degree_sweep(line, epochs=5, test_fraction=0.3, seed=1)
    for k, degree in enumerate(sweep.degrees):
        train, test = engine.split(engine.polynomial(line, int(degree)), 0.3, 1)
        X = np.hstack([train.x.double().numpy(), np.ones((train.n, 1))])
        coef = np.linalg.lstsq(X, train.y.double().numpy(), rcond=None)[0]
        np.testing.assert_allclose(sweep.optimum[k], coef, rtol=1e-7, atol=1e-9)
        assert sweep.optimum_loss[k] == pytest.approx(np_mse(train.x.numpy(), train.y.numpy(), coef), rel=1e-7)
        assert sweep.optimum_test_loss[k] == pytest.approx(np_mse(test.x.numpy(), test.y.numpy(), coef), rel=1e-7)
        # and the fitted curve is numpy's polyfit on the raw training x (the features' kept means and scales)
        raw = engine.split(line, 0.3, 1)[0]
        fit = np.polyfit(raw.x.double().numpy()[:, 0], raw.y.double().numpy(), int(degree))
        grid = np.linspace(-1.5, 1.5, 5)
        curve = engine.polynomial(line, int(degree)).polynomial.predict(sweep.optimum[k], grid)
        np.testing.assert_allclose(curve, np.polyval(fit, grid), rtol=1e-3, atol=1e-3)
    assert np.all(np.diff(sweep.optimum_loss) <= 1e-12)  # more columns never fit the training rows worse
    assert sweep.optimum_test_loss[-1] > 2 * sweep.optimum_test_loss.min()  # but degree 9 overfits


def test_each_decay_is_the_single_run_and_its_ridge(line):
    pds = engine.polynomial(line, 9)
    decays = np.geomspace(1e-3, 10, 20)
    sweep = engine.decay_sweep(pds, decays, epochs=200, test_fraction=0.25, seed=3, l1=0.01)
    assert sweep.loss.shape == (201, 20) and np.all(sweep.degrees == 9)
    for k in (0, 7, 19):
        cfg = engine.TrainConfig(
            method="analytic",
            lr=float(sweep.lrs[k]),
            epochs=200,
            test_fraction=0.25,
            seed=3,
            weight_decay=decays[k],
            l1=0.01,
        )
        hist = engine.train(pds, cfg)
        np.testing.assert_allclose(sweep.params[:, k], hist.params, rtol=1e-5, atol=2e-6)
        np.testing.assert_allclose(sweep.test_loss[:, k], hist.test_loss, rtol=1e-5)
    train, _ = engine.split(pds, 0.25, 3)
    no_l1 = engine.decay_sweep(pds, decays, epochs=2, test_fraction=0.25, seed=3)
    for k in (0, 19):
        X = np.hstack([train.x.double().numpy(), np.ones((train.n, 1))])
        y = train.y.double().numpy()
        D = np.diag([1.0] * 9 + [0.0])
        ridge = np.linalg.solve(2 / train.n * X.T @ X + decays[k] * D, 2 / train.n * X.T @ y)
        np.testing.assert_allclose(no_l1.optimum[k], ridge, rtol=1e-6, atol=1e-8)
    # stronger decay fits the training rows worse
    assert np.all(np.diff(no_l1.optimum_loss) > 0)


def test_a_fixed_learning_rate_too_large_for_high_degrees_diverges_only_there(line):
    lr = 0.9 * engine.stability(engine.split(engine.polynomial(line, 2), 0.25, 0)[0]).max_stable_lr
    sweep = engine.degree_sweep(line, lr=lr, epochs=400)
    assert not sweep.diverged[0] and sweep.diverged[-1]
    assert np.isnan(sweep.loss[-1, -1]) and sweep.final_loss[-1] == np.inf


def test_sweeps_refuse_bad_settings(line):
    with pytest.raises(ValueError, match="degrees"):
        engine.degree_sweep(line, degrees=[0, 3])
    with pytest.raises(ValueError, match="weight decay"):
        engine.decay_sweep(engine.polynomial(line, 3), [0.1, -1.0])
    with pytest.raises(ValueError, match="learning rate"):
        engine.degree_sweep(line, lr=-0.1)
    with pytest.raises(ValueError, match="epochs"):
        engine.degree_sweep(line, epochs=0)
