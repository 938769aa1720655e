"""Every sentence of the playground's texts checked against the number behind it (issue "Every sentence true"):
the learning rate at the limit, finite differences' rounding, the limits that apply to mini-batches, the loss panel,
the help texts, R², the plane's slice, and the controls the run must honour (Nesterov in the family, zero_grad,
the teacher's locks, one schema). References are numpy float64 loops and closed forms that share no code with
the engine."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

import engine
from compute import explore, family, runs
from settings import controls, lesson
from settings.controls import CONTROLS
from ui import explain, explore_text

from .references import design, np_hessian_eigenvalues, np_lstsq

DEFAULTS = controls.defaults()


def _values(**changes) -> dict:
    return DEFAULTS | changes


def _np_data(values: dict) -> tuple[np.ndarray, np.ndarray]:
    """The raw data the controls name, and the scaled inputs as the run sees them (float64, from the float32 data)."""
    raw, ds = runs.build_dataset(values)
    return ds.x.double().numpy(), ds.y.double().numpy()


def _np_gd_excess(x, y, start, lr, steps) -> np.ndarray:
    """Plain full-batch gradient descent in float64; the loss above the least-squares minimum after each step."""
    big_x = design(x)
    best = np_lstsq(x, y)
    lmin = np.mean((big_x @ best - y) ** 2)
    p, out = np.array(start, dtype=np.float64), []
    for _ in range(steps + 1):
        out.append(np.mean((big_x @ p - y) ** 2) - lmin)
        p = p - lr * 2.0 / len(y) * big_x.T @ (big_x @ p - y)
    return np.array(out)


# ----------------------------------------------------------------------------------------------------
# 1. a learning rate at the limit is not "converges"; just above it is "diverges", with the digits to tell
# ----------------------------------------------------------------------------------------------------

AT_LIMIT_CASES = [("thermometer", "standardize"), ("line", "standardize")]


@pytest.mark.parametrize("dataset, scaling", AT_LIMIT_CASES)
def test_standardized_data_puts_the_limit_at_lr_1_and_the_run_there_makes_no_progress(dataset, scaling):
    values = _values(dataset=dataset, scaling=scaling, lr=1.0, momentum=0.0, epochs=500)
    x, y = _np_data(values)
    limit = 2.0 / np_hessian_eigenvalues(x)[-1]
    assert limit == pytest.approx(1.0, abs=1e-6)
    excess = _np_gd_excess(x, y, runs.build_config(values, runs.build_dataset(values)[1]).init, 1.0, 500)
    assert excess[500] == pytest.approx(excess[200], rel=1e-3) and excess[500] > 0.1 * excess[0]  # no progress

    result = runs.compute(values)
    assert engine.lr_regime(1.0, result.lr_limit) == engine.AT_LIMIT
    caption = explain.lr_limit_caption(result)
    assert "at the limit" in caption and "% of it" not in caption
    message = runs.growing_message(result)
    assert message is not None and "at the stability limit" in message and "converge" not in message
    assert result.history.loss[-1] > 10 * result.surface.min_loss  # as the message says: it stays above the best


def test_line_times_0_1_at_lr_1_is_just_above_its_limit_and_diverges_slowly():
    values = _values(dataset="line", scaling="x0.1", lr=1.0, momentum=0.0)
    x, y = _np_data(values)
    limit = 2.0 / np_hessian_eigenvalues(x)[-1]
    assert 1.0 / limit == pytest.approx(1.000114, abs=2e-6)
    start = runs.build_config(values, runs.build_dataset(values)[1]).init
    excess = _np_gd_excess(x, y, start, 1.0, 5000)
    assert excess[5000] > 5 * excess[200]  # it grows: not "converges"

    result = runs.compute(values)
    assert engine.lr_regime(1.0, result.lr_limit) == engine.DIVERGES
    caption = explain.lr_limit_caption(result)
    assert "1.000114× over" in caption and "0.9998862" in caption  # enough digits to tell 1 from the limit
    (case,) = [c for c in explore.scaling("line", 1.0) if c.dataset.scaling and c.dataset.scaling.how == "multiply"]
    assert case.probe_diverged_at < 0  # the probe's 200 steps do not blow up...
    text = explore_text.probe_text(case)
    assert "diverges" in text and "converges" not in text  # ...but the text does not call it converging


def test_the_scaling_page_calls_lr_1_on_standardized_thermometer_at_the_limit():
    (case,) = [
        c for c in explore.scaling("thermometer", 1.0) if c.dataset.scaling and c.dataset.scaling.how == "standardize"
    ]
    text = explore_text.probe_text(case)
    assert "flip between two points" in text and "it converges" not in text


def test_the_family_label_at_the_limit():
    values = _values(dataset="line", scaling="standardize", momentum=0.0)
    fam = family.build(values, "lr")
    k = list(fam.values).index(1.0)
    assert "at the stability limit" in fam.labels[k]
    assert "converges" in fam.labels[list(fam.values).index(0.5)]


@pytest.mark.parametrize(
    "lr, limit, regime",
    [(0.5, 1.0, engine.CONVERGES), (1.0, 1.0 + 5e-8, engine.AT_LIMIT), (1.0, 0.9998862, engine.DIVERGES)],
)
def test_regimes_against_the_ratio(lr, limit, regime):
    assert engine.lr_regime(lr, limit) == regime
    assert float(engine.ratio_text(lr, limit)) == pytest.approx(lr / limit, rel=1e-6)


# ----------------------------------------------------------------------------------------------------
# 4. a finite-difference run that blows up below the limit is blamed on δ, with the numbers
# ----------------------------------------------------------------------------------------------------


def test_a_tiny_delta_not_the_learning_rate_makes_finite_differences_diverge():
    values = _values(method="finite-difference", fd_delta=1e-7)
    result = runs.compute(values)
    assert result.history.diverged and result.config.lr < result.lr_limit  # below the limit, and yet it blew up
    for method in ("autograd", "analytic", "optimizer"):  # the other methods, same settings: no blow-up
        assert not runs.compute(values | {"method": method}).history.diverged
    assert not runs.compute(values | {"fd_delta": 0.1}).history.diverged  # a larger δ fixes it
    # the estimate at the start, by hand in float32 as the tutorial computes it: rounding noise, not the gradient
    ds, cfg = result.dataset, result.config
    x, y, p = ds.x[:, 0], ds.y, torch.tensor(cfg.init, dtype=torch.float32)

    def loss(q):
        return ((q[0] * x + q[1] - y) ** 2).mean()

    delta = torch.tensor([1e-7, 0.0])
    estimate = float((loss(p + delta) - loss(p - delta)) / 2e-7)
    true = float(np.mean(2 * ((cfg.init[0] * x.double().numpy() + cfg.init[1]) - y.double().numpy()) * x.numpy()))
    assert abs(estimate - true) > 0.3 * abs(true)
    message = runs.divergence_message(result)
    assert "δ = 1e-07" in message and "ten times smaller" not in message
    noise = runs.fd_noise(result)
    assert noise["error"] == pytest.approx(float(result.history.loss[0]) * 2.0**-24 / 1e-7)
    assert noise["error"] > 0.5 * noise["grad"]


def test_a_finite_difference_run_above_the_limit_is_still_blamed_on_the_learning_rate():
    result = runs.compute(_values(method="finite-difference", fd_delta=0.1, lr=3.0))
    assert result.history.diverged and runs.fd_noise(result) is None
    assert "limit" in runs.divergence_message(result) and "δ" not in runs.divergence_message(result)


def test_the_method_help_says_the_same_path_unless_delta_is_tiny():
    assert "unless" in controls.BY_KEY["method"].help and "δ" in controls.BY_KEY["method"].help
    same = [runs.compute(_values(method=m, epochs=20)).history.params for m in engine.METHODS]
    for params in same[1:]:
        np.testing.assert_allclose(params, same[0], rtol=1e-4, atol=1e-5)


# ----------------------------------------------------------------------------------------------------
# 6 and 12. mini-batch runs: the limit that applies, and what the every-batch rate promises
# ----------------------------------------------------------------------------------------------------


def test_a_single_sample_caption_shows_the_every_batch_rate_a_diverging_run_is_over():
    result = runs.compute(_values(batch="single sample", lr=0.3))
    assert result.history.diverged
    caption = explain.lr_limit_caption(result)
    assert "for the full batch" in caption and "Mini-batches: below" in caption
    x = result.dataset.x.double().numpy()
    rule = (1 - 0.8) / np.max(np.sum(design(x) ** 2, axis=1))
    assert f"{rule:.3g}" in caption and 0.3 > rule
    assert "rule of thumb" in caption  # with momentum it is not a proof


def test_without_momentum_the_every_batch_rate_is_a_true_bound():
    """Below 1/max|x_i|², every batch's own Hessian has lr·λmax <= 2: no single-batch step can grow the error."""
    values = _values(dataset="four-points", batch="mini-batch", batch_size=2, momentum=0.0)
    result = runs.compute(values | {"lr": 0.01})
    bound = result.batch_lr_limit
    big_x = design(result.dataset.x.double().numpy(), result.fit_bias)
    for rows in [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3), (3,)]:
        sub = big_x[list(rows)]
        assert bound * np.linalg.eigvalsh(2.0 / len(sub) * sub.T @ sub)[-1] <= 2 + 1e-9
    assert "no batch's own step can grow the error" in explain.lr_limit_caption(result)


def test_with_momentum_the_every_batch_rate_is_only_a_rule_of_thumb():
    """Four points, β 0.8, 0.99× the rate: some shuffle orders still grow (the issue's counterexample)."""
    values = _values(dataset="four-points", batch="single sample", momentum=0.8)
    probe = runs.compute(values | {"lr": 0.001})
    lr = 0.99 * probe.batch_lr_limit
    grew = 0
    for seed in range(40):
        cfg = dataclasses.replace(probe.config, lr=lr, seed=seed, epochs=50)
        loss = engine.train(probe.dataset, cfg).loss
        grew += bool(np.any(loss[1:] > 1.0045 * loss[:-1] + 1e-12))
    assert grew > 0
    assert "rule of thumb" in explain.lr_limit_caption(runs.compute(values | {"lr": 0.01}))


# ----------------------------------------------------------------------------------------------------
# 7. the loss panel: L flattens at L*, plain descent below the limit never rises, momentum ripples
# ----------------------------------------------------------------------------------------------------


def test_the_loss_panel_text_matches_what_the_runs_do():
    momentum_run = runs.compute(_values())
    rises = int(np.sum(np.diff(momentum_run.history.loss) > 0))
    assert momentum_run.config.lr < 0.1 * momentum_run.lr_limit and rises > 10  # the default ripples, far below
    for dataset in ("line", "thermometer", "lab", "plane"):
        result = runs.compute(_values(dataset=dataset, momentum=0.0, lr=1e-5 if dataset == "thermometer" else 0.01))
        h = result.history
        assert result.config.lr < result.lr_limit
        assert np.all(np.diff(h.loss) <= 1e-6 * h.loss[:-1]), dataset  # plain descent never rises (but rounding)
    h = runs.compute(_values(momentum=0.0, epochs=1000)).history
    best = runs.compute(_values()).surface.min_loss
    assert h.loss[-1] == pytest.approx(best, rel=1e-3)  # L flattens at L*, far above 0
    text = explain.what_am_i_looking_at(momentum_run)
    assert "best possible loss, not at zero" in text and "ripple" in text and "√10" in text
    assert "A learning rate that is too large makes it zig-zag" not in text
    # the figure's noise slider is named where the data has a noise level (controls.relevant shows it) and only there
    for dataset in ("line", "plane", "thermometer", "single-point"):
        values = _values(dataset=dataset)
        named = "**Noise level** slider" in explain.what_am_i_looking_at(runs.compute(values))
        assert named == ("noise" in controls.relevant(values)), dataset


# ----------------------------------------------------------------------------------------------------
# 8 and 14. help texts: the step with momentum is lr·v; standardizing without a bias only divides
# ----------------------------------------------------------------------------------------------------


def test_with_momentum_the_step_is_lr_times_the_buffer_as_the_help_says():
    result = runs.compute(_values(epochs=3))
    h, cfg = result.history, result.config
    step = h.params[1] - h.params[2]
    assert not np.allclose(step, cfg.lr * h.grads[1], rtol=1e-3)
    np.testing.assert_allclose(step, cfg.lr * (cfg.momentum * h.grads[0] + h.grads[1]), rtol=1e-5)
    assert "lr × v" in controls.BY_KEY["lr"].help and "Adam" in controls.BY_KEY["lr"].help


def test_nesterov_is_torchs_form_as_the_update_rule_writes_it():
    result = runs.compute(_values(nesterov=True, epochs=3))
    h, cfg = result.history, result.config
    v1 = h.grads[0]
    v2 = cfg.momentum * v1 + h.grads[1]
    np.testing.assert_allclose(h.params[1] - h.params[2], cfg.lr * (h.grads[1] + cfg.momentum * v2), rtol=1e-5)
    assert "change of variables" in explain.update_rule(result)
    assert "change of variables" in controls.BY_KEY["nesterov"].help


def test_standardizing_without_a_bias_only_divides_as_the_help_says():
    raw, ds = runs.build_dataset(_values(dataset="four-points", scaling="standardize"))
    x, sx = raw.x.double().numpy()[:, 0], ds.x.double().numpy()[:, 0]
    np.testing.assert_allclose(sx, x / x.std(), rtol=1e-6)
    assert sx.mean() == pytest.approx(2.236, abs=1e-3)  # not mean 0
    assert "only divides" in controls.BY_KEY["scaling"].help


def test_adagrads_denominator_is_the_all_time_sum_as_the_texts_say():
    ds = engine.make_dataset("line", n=30, noise=0.5, seed=0)
    cfg = engine.TrainConfig(optimizer="adagrad", lr=0.5, epochs=5, init=(-1.0, -2.0))
    h = engine.train(ds, cfg)
    total = np.cumsum(h.grads**2, axis=0)
    np.testing.assert_allclose(h.params[:-1] - h.params[1:], 0.5 * h.grads / (np.sqrt(total) + 1e-10), rtol=1e-4)
    result = runs.compute(_values(optimizer="adagrad"))
    for text in (explain.lr_limit_caption(result), explain.update_rule(result)):
        assert "sum of all the squared gradients so far" in text and "running size" not in text


# ----------------------------------------------------------------------------------------------------
# 15. R² can be negative; the plane's rings are a slice at the best b
# ----------------------------------------------------------------------------------------------------


def test_r2_is_negative_for_an_unconverged_run_as_its_help_says():
    result = runs.compute(_values(epochs=1, momentum=0.0, lr=1e-4))
    x, y = result.dataset.x.double().numpy(), result.dataset.y.double().numpy()
    pred = design(x) @ result.history.final_params
    r2 = 1 - np.sum((pred - y) ** 2) / np.sum((y - y.mean()) ** 2)
    assert r2 < 0 and explain.r2_of(result) == pytest.approx(r2, rel=1e-5)
    assert "negative" in explain.R2_HELP


def test_the_planes_rings_are_a_slice_at_the_best_b_while_the_paths_b_moves():
    result = runs.compute(_values(dataset="plane"))
    best_b = np_lstsq(result.dataset.x.double().numpy(), result.dataset.y.double().numpy())[-1]
    assert result.surface.fixed["b"] == pytest.approx(best_b, rel=1e-4)
    assert np.ptp(result.history.params[:, -1]) > 0.5
    assert "slice at the best b" in explain.what_am_i_looking_at(result)


# ----------------------------------------------------------------------------------------------------
# 16. the momentum family honours Nesterov
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("momentum", [0.8, 0.81])
def test_the_momentum_family_is_nesterovs_when_the_run_is(momentum):
    values = _values(nesterov=True, momentum=momentum)
    fam = family.build(family.anchor(values, "momentum"), "momentum")
    k = list(fam.values).index(momentum)
    page = runs.compute(values).history.params
    np.testing.assert_allclose(fam.sweep.params[:, k, :], page, rtol=1e-4, atol=1e-5)
    heavy_ball = runs.compute(values | {"nesterov": False}).history.params
    assert np.abs(fam.sweep.params[:, k, :] - heavy_ball).max() > 0.1  # it is not the heavy-ball run


# ----------------------------------------------------------------------------------------------------
# 17. zero_grad reaches the run, and what a run that never zeroes does is said exactly
# ----------------------------------------------------------------------------------------------------


def test_the_playground_run_honours_zero_grad():
    off = runs.compute(_values(zero_grad=False, momentum=0.0, lr=0.1, epochs=300))
    assert off.config.zero_grad is False
    h = off.history
    steps = np.linalg.norm(np.diff(h.params, axis=0), axis=1)
    # the largest step of a swing: 1.79 in the first, 1.78 after 300 steps; the swing's reach stays put too
    assert steps[:40].max() == pytest.approx(1.79, abs=0.01) and steps[-40:].max() == pytest.approx(1.78, abs=0.01)
    reach = np.linalg.norm(h.params - off.optimum, axis=1)
    assert reach[-40:].max() == pytest.approx(reach[:40].max(), rel=0.01)
    assert h.loss[0] == pytest.approx(15.8, abs=0.1) and not h.diverged
    assert not np.allclose(h.params, runs.compute(_values(momentum=0.0, lr=0.1, epochs=300)).history.params)
    text = explain.lr_limit_caption(off)
    assert "swing for ever" in text and "never settling" in text
    blown = runs.compute(_values(zero_grad=False, lr=0.01, epochs=200))
    assert blown.history.diverged and "every learning rate" in runs.divergence_message(blown)


def test_the_family_is_offered_again_when_the_gradient_is_zeroed():
    assert family.unavailable(_values(zero_grad=False)) is not None
    assert family.unavailable(_values()) is None


# ----------------------------------------------------------------------------------------------------
# 18. a teacher's lock holds against every one-click fix
# ----------------------------------------------------------------------------------------------------


def test_a_lesson_allows_only_what_it_neither_hides_nor_locks():
    fixed = lesson.Lesson(hidden=frozenset({"lr"}), locked=frozenset({"scaling"}))
    assert not fixed.allows("lr") and not fixed.allows("scaling") and fixed.allows("momentum")


# ----------------------------------------------------------------------------------------------------
# 19. one schema, honoured: every control changes the run (or the data), or is declared UI-only
# ----------------------------------------------------------------------------------------------------

# values that make each control matter, and another valid value for it
CONTEXT = {
    "n": {},
    "noise": {},
    "seed": {},
    "optimizer": {},
    "batch_size": {"batch": "mini-batch"},
    "fd_delta": {"method": "finite-difference"},
    "w2_0": {"dataset": "plane"},
    "nesterov": {},
    "device": {},
}


def _other(control) -> object:
    if control.kind == "bool":
        return not control.default
    if control.options:
        return next(o for o in control.options if o != control.default and o != "custom")
    return control.default + (control.step or 1) * 3


@pytest.mark.parametrize("control", CONTROLS, ids=lambda c: c.key)
def test_every_control_changes_the_run_or_is_declared_ui_only(control):
    if control.key in controls.UI_ONLY | controls.OVERFIT_ONLY:  # the overfitting page's: tests/unit/test_overfit.py
        return
    base = _values(**CONTEXT.get(control.key, {}))
    changed = base | {control.key: _other(control)}
    if control.key == "device":
        changed["device"] = "cuda"  # the config carries it; training there needs a GPU, so compare configs only
    before_raw, before_ds = runs.build_dataset(base)
    after_raw, after_ds = runs.build_dataset(changed)
    data_changed = not (torch.equal(before_ds.x, after_ds.x) and torch.equal(before_ds.y, after_ds.y))
    config_changed = runs.build_config(base, before_ds) != runs.build_config(changed, after_ds)
    assert data_changed or config_changed, f"{control.key} changes neither the data nor the TrainConfig"


def test_the_momentum_rule_lives_in_one_place():
    for method in engine.METHODS:
        for optimizer in engine.OPTIMIZERS:
            values = _values(method=method, optimizer=optimizer, nesterov=True)
            cfg = runs.build_config(values, runs.build_dataset(values)[1])
            assert cfg.uses_momentum is engine.takes_momentum(method, cfg.optimizer)
            assert ("momentum" in controls.relevant(values)) is engine.takes_momentum(method, optimizer)
    assert math.isclose(runs.compute(_values(optimizer="adam")).config.momentum, 0.0)


def test_the_upload_cap_message_gives_the_true_overflow_point():
    """float32's largest number is 3.4e38; an error of 1.84e19 squares to it, which the loss would overflow past."""
    biggest = float(np.finfo(np.float32).max)
    assert biggest == pytest.approx(3.4e38, rel=0.01)
    assert 1.84e19**2 == pytest.approx(biggest, rel=0.01)
    with np.errstate(over="ignore"):
        assert np.isinf(np.float32(1.9e19) ** 2) and np.isfinite(np.float32(1.8e19) ** 2)


def test_with_a_test_set_the_readouts_are_the_training_rows():
    """Final loss, best possible loss and R² describe the rows the run trained on, and their help says so."""
    values = controls.defaults() | {"test_fraction": 0.25}
    result = runs.compute(values)
    train, _ = engine.split(result.dataset, 0.25, result.config.seed)
    x, y = train.x.double().numpy()[:, 0], train.y.double().numpy()
    w, b = result.history.final_params
    residual = y - (w * x + b)
    np.testing.assert_allclose(result.history.final_loss, np.mean(residual**2), rtol=1e-5)
    r2 = 1 - np.sum(residual**2) / np.sum((y - y.mean()) ** 2)
    np.testing.assert_allclose(explain.r2_of(result), r2, rtol=1e-5)
    assert "training rows" in explain.loss_help(result) and "training rows" in explain.best_loss_help(result)
    plain = runs.compute(controls.defaults())
    assert "all the data" in explain.loss_help(plain) and "training" not in explain.best_loss_help(plain)
