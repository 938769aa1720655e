"""The Explorer's engine: batched sweeps against single runs, measured momentum rates against the heavy-ball theory,
the theory against numpy's eigenvalues, the optimizer race's tuning, the scaling facts and the mini-batch spread.

References never share the code under test: engine.train for the batched runs, numpy eigenvalues of matrices
written here, numpy gradient descent (references.np_gd), closed forms."""

import dataclasses
import math

import numpy as np
import pytest

import engine
from engine.explore import MAP_MOMENTA, rounded_best_pair
from engine.sweep import DIVERGES, MONOTONE, RIPPLES

from .references import THERMOMETER_X, THERMOMETER_Y, np_gd, np_hessian_eigenvalues, np_lstsq, np_mse


def _data(name: str) -> engine.Dataset:
    return engine.make_dataset(name)


def _np_rate(eigenvalues, lr: float, beta: float) -> float:
    """Largest |eigenvalue| over the modes of heavy-ball momentum's 2x2 update, by numpy."""
    return max(
        float(np.abs(np.linalg.eigvals(np.array([[1.0 + beta - lr * lam, -beta], [1.0, 0.0]]))).max())
        for lam in eigenvalues
    )


# ----------------------------------------------------------------------------------------------------------------
# gd_sweep: one batched run equals many single runs
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["line", "plane", "thermometer", "single-point"])
@pytest.mark.parametrize("nesterov", [False, True])
def test_batched_sweep_equals_single_analytic_runs(name, nesterov):
    ds = _data(name)
    fit_bias = ds.default_fit_bias
    limit = engine.stability(ds, fit_bias).max_stable_lr
    lrs = limit * np.array([0.01, 0.3, 0.9, 1.05, 1.5])
    momenta = np.array([0.5, 0.9, 0.3, 0.0, 0.6]) if nesterov else np.array([0.0, 0.9, 0.5, 0.3, 0.0])
    init = tuple([0.5] * (ds.d + int(fit_bias)))
    sweep = engine.gd_sweep(
        ds, lrs, momenta, epochs=80, fit_bias=fit_bias, init=init, nesterov=nesterov, keep_params=True
    )
    for i, (lr, beta) in enumerate(zip(lrs, momenta, strict=True)):
        if nesterov and beta == 0:
            continue
        cfg = engine.TrainConfig(
            method="analytic", lr=float(lr), momentum=float(beta), nesterov=nesterov, epochs=80, init=init,
            fit_bias=fit_bias,
        )  # fmt: skip
        h = engine.train(ds, cfg)
        assert bool(sweep.diverged[i]) == h.diverged
        end = h.diverged_at if h.diverged else len(h.params)
        assert sweep.diverged_at[i] == (h.diverged_at if h.diverged else -1)
        if nesterov:  # grad + beta*buf: one rounding in torch.add(alpha=), two in the batched product and sum
            np.testing.assert_allclose(sweep.params[:end, i], h.params[:end], rtol=1e-5, atol=1e-6)
        else:  # the very same float32 arithmetic
            np.testing.assert_array_equal(sweep.params[:end, i], h.params[:end])
        np.testing.assert_allclose(sweep.loss[:end, i], h.loss[:end], rtol=1e-5 if nesterov else 1e-12)
        if h.diverged:
            assert np.isnan(sweep.loss[end:, i]).all() and math.isinf(sweep.final_loss[i])


@pytest.mark.parametrize("momentum", [0.0, 0.8])
def test_a_sweep_at_one_momentum_is_each_single_run_bit_for_bit(momentum):
    """The playground's learning-rate family: one momentum for every run (gd_sweep then skips picking between the
    plain gradient and the momentum buffer, step by step); each run is still exactly the single analytic run."""
    ds = _data("line")
    lrs = engine.stability(ds).max_stable_lr_with_momentum(momentum) * np.array([0.01, 0.2, 0.7, 0.99, 1.2])
    sweep = engine.gd_sweep(ds, lrs, momentum, epochs=60, init=(0.5, 0.5), keep_params=True)
    for i, lr in enumerate(lrs):
        cfg = engine.TrainConfig(method="analytic", lr=float(lr), momentum=momentum, epochs=60, init=(0.5, 0.5))
        h = engine.train(ds, cfg)
        end = h.diverged_at if h.diverged else len(h.params)
        assert sweep.diverged_at[i] == (h.diverged_at if h.diverged else -1)
        np.testing.assert_array_equal(sweep.params[:end, i], h.params[:end])


def test_lr_sweep_runs_from_far_too_small_to_divergent():
    ds = _data("line")
    stab = engine.stability(ds)
    sweep = engine.lr_sweep(ds, epochs=60, init=(-1.0, -2.0))
    assert len(sweep.lrs) == 50
    np.testing.assert_allclose(sweep.lrs[[0, -1]], [1e-3 * stab.max_stable_lr, 2.0 * stab.max_stable_lr])
    assert np.allclose(np.diff(np.log(sweep.lrs)), np.log(sweep.lrs[1] / sweep.lrs[0]))  # a log grid
    assert sweep.diverged[sweep.lrs > 1.01 * stab.max_stable_lr].all()
    assert not sweep.diverged[sweep.lrs < 0.99 * stab.max_stable_lr].any()
    reach = sweep.steps_to(0.01)
    assert reach[0] == -1  # far too small: nowhere near in 60 steps
    fastest = sweep.lrs[np.argmin(np.where(reach >= 0, reach, 10**9))]
    assert 0.5 * stab.best_lr < fastest < stab.max_stable_lr


def test_steps_to_is_the_first_step_within_the_fraction():
    ds = _data("line")
    sweep = engine.gd_sweep(ds, [0.05], epochs=200, init=(-1.0, -2.0))
    excess = sweep.loss[:, 0] - sweep.min_loss
    k = int(sweep.steps_to(0.01)[0])
    assert excess[k] <= 0.01 * excess[0] < excess[k - 1]


def test_steps_for_matches_the_closed_form():
    assert engine.steps_for(0.5, 0.01) == pytest.approx(math.log(0.01) / (2 * math.log(0.5)))
    assert (
        math.isinf(engine.steps_for(1.0)) and math.isinf(engine.steps_for(1.5)) and math.isinf(engine.steps_for(np.nan))
    )


# ----------------------------------------------------------------------------------------------------------------
# heavy-ball theory against an independent computation, and against measured runs
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["line", "thermometer", "lab", "plane"])
def test_theory_rate_equals_numpy_eigenvalues_of_the_update_matrix(name):
    ds = _data(name)
    lam = np_hessian_eigenvalues(ds.x.numpy(), True)
    lrs = 2.0 / lam[-1] * np.geomspace(0.01, 2.5, 13)
    momenta = np.array(MAP_MOMENTA)
    rates = engine.heavy_ball_rates(lam, lrs, momenta)
    assert rates.shape == (len(momenta), len(lrs))
    for i, beta in enumerate(momenta):
        for j, lr in enumerate(lrs):
            assert rates[i, j] == pytest.approx(_np_rate(lam, lr, beta), rel=1e-7, abs=1e-12)
    assert engine.heavy_ball_rate(lam, lrs[3], 0.5) == pytest.approx(_np_rate(lam, lrs[3], 0.5), rel=1e-7)


def test_theory_closed_forms():
    lam = np.array([0.5, 4.0])
    # no momentum: the slowest of |1 - lr lambda|
    for lr in (0.01, 0.2, 0.45, 0.6):
        assert engine.heavy_ball_rate(lam, lr, 0.0) == pytest.approx(max(abs(1 - lr * lam)), rel=1e-12)
    # complex eigenvalues for every mode: |sigma| = sqrt(beta), whatever the learning rate
    beta = 0.81
    for lr in (0.1, 0.3, 0.8):
        assert all((1 + beta - lr * v) ** 2 < 4 * beta for v in lam)
        assert engine.heavy_ball_rate(lam, lr, beta) == pytest.approx(math.sqrt(beta), rel=1e-12)
    # the optimal pair reaches (sqrt(kappa) - 1) / (sqrt(kappa) + 1)
    k = lam[1] / lam[0]
    lr_star, beta_star = (
        (2 / (math.sqrt(lam[0]) + math.sqrt(lam[1]))) ** 2,
        ((math.sqrt(k) - 1) / (math.sqrt(k) + 1)) ** 2,
    )
    assert engine.heavy_ball_rate(lam, lr_star, beta_star) == pytest.approx(
        (math.sqrt(k) - 1) / (math.sqrt(k) + 1), rel=1e-6
    )


def test_regions_follow_the_discriminant_and_the_rate():
    lam = np.array([0.2, 3.0])
    lrs = np.geomspace(0.005, 2.0, 40)
    momenta = np.linspace(0.0, 0.98, 25)
    regions = engine.heavy_ball_regions(lam, lrs, momenta)
    assert set(np.unique(regions)) == {MONOTONE, RIPPLES, DIVERGES}
    for i, beta in enumerate(momenta):
        for j, lr in enumerate(lrs):
            sizes = [_np_rate([v], lr, beta) for v in lam]
            slowest = lam[int(np.argmax(sizes))]
            if max(sizes) >= 1:
                expected = DIVERGES
            elif (1 + beta - lr * slowest) ** 2 < 4 * beta:
                expected = RIPPLES
            else:
                expected = MONOTONE
            assert regions[i, j] == expected, (beta, lr)
    # divergence starts at (2 + 2 beta) / lambda_max
    for i, beta in enumerate(momenta):
        diverges = lrs[regions[i] == DIVERGES]
        assert diverges.min() >= (2 + 2 * beta) / lam[-1] * (1 - 1e-9)


@pytest.mark.parametrize("name", ["line", "thermometer", "lab"])
def test_measured_rates_match_theory(name):
    """Rates read off 612 runs' loss curves against the heavy-ball formula: the bulk within a few per cent. The
    stragglers are cells where two modes shrink at nearly the same pace, which a finite run cannot tell apart."""
    ds = _data(name)
    m = engine.momentum_map(ds, init=(-1.0, -2.0))
    assert (np.isnan(m.measured) == (m.theory >= 1.0)).all()  # diverged runs exactly where the theory says
    converging = m.theory < 0.999
    rel = np.abs(m.measured - m.theory)[converging] / m.theory[converging]
    assert np.median(rel) < 0.01 and np.quantile(rel, 0.9) < 0.03
    slow = converging & (m.theory > 0.5)  # steps per tenfold drop: measured over predicted
    speed = np.abs(np.log(m.measured[slow]) / np.log(m.theory[slow]) - 1)
    assert np.median(speed) < 0.02 and np.quantile(speed, 0.9) < 0.08
    # spiralling at sqrt(momentum), with enough steps above float32's floor to read the envelope's slope
    ripples = converging & (m.theory > 0.8) & (m.regions == RIPPLES)
    if ripples.any():
        np.testing.assert_allclose(m.measured[ripples], m.theory[ripples], rtol=0.02)


def test_rounded_best_pair_keeps_the_optimal_rate_on_ill_conditioned_data():
    stab = engine.stability(_data("thermometer"))
    lr, beta = rounded_best_pair(stab)
    assert beta == pytest.approx(round(beta, 2)) and beta >= stab.best_momentum
    lam = stab.eigenvalues
    rate = _np_rate(lam, float(f"{lr:.3g}"), beta)  # as the link carries it
    assert rate == pytest.approx(math.sqrt(beta), rel=1e-6)
    assert rate < 1 and rate <= _np_rate(lam, stab.best_momentum_lr, stab.best_momentum) * 1.001
    assert lr < (2 + 2 * beta) / lam[-1]


# ----------------------------------------------------------------------------------------------------------------
# the optimizer race
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["line", "thermometer"])
def test_tune_lr_picks_a_stable_rate_no_worse_than_the_default(name):
    ds = _data(name)
    stab = engine.stability(ds)
    init = (-1.0, -2.0)
    for racer in engine.RACERS:
        tuning = engine.tune_lr(ds, racer, init, steps=40)
        default = racer.default_lr(stab)
        np.testing.assert_allclose(tuning.candidates, default * np.geomspace(10**-1.5, 10**1.5, 9), rtol=1e-12)
        assert tuning.lr in tuning.candidates
        best = engine.train(ds, racer.config(tuning.lr, 40, init))
        assert not best.diverged
        assert np.isfinite(tuning.final_loss[list(tuning.candidates).index(tuning.lr)])
        start = engine.train(ds, racer.config(default, 40, init))
        assert best.final_loss <= start.final_loss * (1 + 1e-6)
        if not racer.adaptive:
            assert tuning.lr < stab.max_stable_lr_with_momentum(racer.momentum, racer.nesterov)


def test_sgd_defaults_sit_inside_their_stability_limits():
    stab = engine.stability(_data("thermometer"))
    for racer in engine.RACERS:
        lr = racer.default_lr(stab)
        if not racer.adaptive:
            assert lr < 0.6 * stab.max_stable_lr_with_momentum(racer.momentum, racer.nesterov)
            assert lr / (1 - racer.momentum) == pytest.approx(1 / stab.eigenvalues[-1])


def test_race_runs_every_racer_from_one_start_with_torch_optim():
    ds = _data("line")
    stab = engine.stability(ds)
    lrs = [r.default_lr(stab) for r in engine.RACERS]
    runs = engine.run_race(ds, lrs, (-1.0, -2.0), steps=30)
    assert [h.steps for h in runs] == [30] * len(engine.RACERS)
    assert all(np.array_equal(h.params[0], [-1.0, -2.0]) for h in runs)
    optimum = np_lstsq(ds.x.numpy(), ds.y.numpy())
    plain = np_gd(ds.x.numpy(), ds.y.numpy(), [-1.0, -2.0], lrs[0], 30)[-1]  # SGD against numpy's own loop
    np.testing.assert_allclose(runs[0].params[-1], plain, rtol=1e-5, atol=1e-6)
    assert all(h.final_loss < h.loss[0] for h in runs)
    assert np.linalg.norm(runs[0].params[-1] - optimum) < 1e-3
    with pytest.raises(ValueError, match="one learning rate per racer"):
        engine.run_race(ds, lrs[:2], (-1.0, -2.0), steps=5)


# ----------------------------------------------------------------------------------------------------------------
# feature scaling (tutorial 003)
# ----------------------------------------------------------------------------------------------------------------


def _np_condition(x: np.ndarray) -> float:
    X = np.column_stack([x, np.ones_like(x)])
    lam = np.linalg.eigvalsh(2.0 / len(x) * X.T @ X)
    return float(lam[-1] / lam[0])


def test_scaling_facts_for_the_thermometer_against_numpy():
    raw = _data("thermometer")
    cases = engine.compare_scalings(
        {
            "raw": raw,
            "x0.1": engine.scale_inputs(raw, "multiply", 0.1),
            "standardized": engine.scale_inputs(raw, "standardize"),
        },
        True,
        (1.0, 0.0),
        probe_lr=0.01,
    )
    x, y = np.array(THERMOMETER_X), np.array(THERMOMETER_Y)
    z = (x - x.mean()) / x.std()
    expected = [_np_condition(x), _np_condition(0.1 * x), _np_condition(z)]
    got = [c.stability.condition_number for c in cases]
    np.testing.assert_allclose(got, expected, rtol=1e-4)
    assert got[0] > 3e4 and got[1] > 300 and got[2] == pytest.approx(1.0, abs=1e-5)
    # tutorial 003's lr = 1e-2 blows up on the raw readings within a few steps, and numpy's own loop agrees
    raw_case, tenth, standard = cases
    assert 0 <= raw_case.probe_diverged_at <= 5
    blown = np_gd(x, y, [1.0, 0.0], 0.01, raw_case.probe_diverged_at + 1)[-1]
    assert np_mse(x, y, blown) > 1e6 * np_mse(x, y, [1.0, 0.0])
    assert tenth.probe_diverged_at == -1 and standard.probe_diverged_at == -1
    # steps to converge at each one's best rate: a round bowl in one step, the raw valley not in 5,000
    assert standard.converged_at == 1
    assert 0 < tenth.converged_at < 1000
    assert raw_case.converged_at == -1 and raw_case.predicted_steps > 5_000
    # the scaled problems have the same optimum, expressed in their own units
    for case in cases:
        optimum = np_lstsq(case.dataset.x.numpy()[:, 0], y)
        np.testing.assert_allclose(case.surface.optimum, optimum, rtol=1e-4)
        assert case.surface.a[-1] - case.surface.a[0] == pytest.approx(case.surface.b[-1] - case.surface.b[0])


# ----------------------------------------------------------------------------------------------------------------
# mini-batch noise
# ----------------------------------------------------------------------------------------------------------------


def test_batch_noise_runs_each_seed_as_engine_train_does():
    ds = engine.make_dataset("line", n=24)
    cfg = engine.TrainConfig(method="analytic", lr=0.05, epochs=10, init=(-1.0, -2.0), seed=3)
    groups = engine.batch_noise(ds, cfg, batch_sizes=(1, 4, None), seeds=3)
    assert [g.batch_size for g in groups] == [1, 4, None]
    assert [len(g.runs) for g in groups] == [3, 3, 1]
    assert [g.steps_per_epoch for g in groups] == [24, 6, 1]
    for g in groups[:2]:
        for i, h in enumerate(g.runs):
            ref = engine.train(ds, dataclasses.replace(cfg, batch_size=g.batch_size, seed=3 + i))
            np.testing.assert_array_equal(h.params, ref.params)
        assert not np.array_equal(g.runs[0].params, g.runs[1].params)  # other shuffles, other paths
        table = np.array([h.loss for h in g.runs])
        np.testing.assert_allclose(g.low, table.min(0))
        np.testing.assert_allclose(g.high, table.max(0))
        assert (g.low <= g.high).all()
    full = groups[2]
    np.testing.assert_array_equal(full.low, full.high)
    np.testing.assert_array_equal(full.runs[0].params, engine.train(ds, cfg).params)
    with pytest.raises(ValueError, match="at least one seed"):
        engine.batch_noise(ds, cfg, seeds=0)
    small = engine.make_dataset("four-points")  # 4 points: a batch of 8 is the full batch, shown once
    few = engine.batch_noise(small, dataclasses.replace(cfg, init=(0.0,), fit_bias=False), (1, 8, None), seeds=2)
    assert [g.batch_size for g in few] == [1, None]


def test_came_down_is_the_runs_that_end_at_or_below_their_start_and_did_not_diverge():
    nan = math.nan
    loss = np.array([[4.0, 4.0, 4.0, 4.0], [2.0, 9.0, 50.0, 4.0], [1.0, 30.0, nan, 4.0]])  # down, up, blew up, flat
    sweep = engine.Sweep(np.ones(4), np.zeros(4), loss, None, np.array([-1, -1, 2, -1]), 0.5)
    np.testing.assert_array_equal(sweep.came_down, [True, False, False, True])
