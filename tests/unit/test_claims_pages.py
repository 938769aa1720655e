"""Every sentence of the step-by-step, mini-batch, scaling and race pages checked against the number behind it
(issue "Every sentence true"): a forgotten zero_grad, mini-batches on exact data, the condition number, the race's
loss panel, SGD's zig-zag and each optimizer's update rule. References are numpy float64 loops, eigvalsh and
lstsq, and the engine's own runs for what the pages say those runs do."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

import engine
from compute import explore, runs
from settings import controls
from ui import explore_text, lab

from .references import design, np_lstsq

DEFAULTS = controls.defaults()
LINE = engine.make_dataset("line", n=30, noise=0.5, seed=0)  # the pages' default data
START = (-1.0, -2.0)


def _np_hessian(x) -> np.ndarray:
    big_x = design(x)
    return 2.0 / len(big_x) * big_x.T @ big_x


def _x(ds: engine.Dataset) -> np.ndarray:
    return ds.x.double().numpy()


LINE_BEST_LOSS = float(
    np.mean((design(_x(LINE)) @ np_lstsq(_x(LINE), LINE.y.double().numpy()) - LINE.y.double().numpy()) ** 2)
)


def _not_zeroed(lr, momentum=0.0, nesterov=False, epochs=300, batch_size=None, ds=LINE) -> engine.History:
    cfg = engine.TrainConfig(
        lr=lr, momentum=momentum, nesterov=nesterov, epochs=epochs, batch_size=batch_size, init=START, zero_grad=False
    )
    return engine.train(ds, cfg)


def _whole(lr, momentum=0.0, nesterov=False, epochs=60, **changes) -> runs.RunResult:
    """The whole run the lab steps through with zero_grad off (the config the page builds)."""
    values = DEFAULTS | {"lr": lr, "momentum": momentum, "nesterov": nesterov, "epochs": epochs} | changes
    raw, ds = runs.build_dataset(values)
    return runs.compute_for(raw, ds, dataclasses.replace(runs.build_config(values, ds), zero_grad=False))


def _growth(h: engine.History, window: int = 10) -> float:
    """Measured growth per step of the swings: the slope of log(largest distance to the optimum in each window)."""
    dist = np.linalg.norm(h.params - np_lstsq(_x(LINE), LINE.y.double().numpy()), axis=1)
    tops = [dist[i : i + window].max() for i in range(len(dist) // 2, len(dist) - window, window)]
    slope = np.polyfit(np.arange(len(tops)) * window, np.log(tops), 1)[0]
    return float(np.exp(slope))


# ----------------------------------------------------------------------------------------------------
# 2. a forgotten zero_grad: momentum 1 in effect; swings for ever without momentum, grow with any
# ----------------------------------------------------------------------------------------------------


def test_not_zeroing_without_momentum_swings_for_ever_at_the_same_size():
    h = _not_zeroed(0.1)
    lam_max = np.linalg.eigvalsh(_np_hessian(_x(LINE)))[-1]
    assert 0.1 * lam_max == pytest.approx(0.2108, abs=1e-4)  # below 4
    assert not h.diverged and h.steps == 300
    steps = np.linalg.norm(np.diff(h.params, axis=0), axis=1)
    early, late = steps[:50].max(), steps[-50:].max()
    assert early == pytest.approx(1.78, abs=0.02) and late == pytest.approx(early, rel=0.02)  # neither grows nor dies
    best = LINE_BEST_LOSS
    assert h.loss[-100:].min() > best + 0.3  # never settles: even its lowest point late on is far above L*
    assert h.loss[-100:].max() > 10 * h.loss[-100:].min()  # the loss rises and falls
    assert lab.swing_growth(engine.stability(LINE).eigenvalues, 0.1) == pytest.approx(1.0, abs=1e-9)
    text = lab.zero_grad_warning(_whole(0.1))
    assert "neither growing nor dying down" in text and "lr·λmax = 0.211, below 4" in text
    assert "wider and wider" not in text


@pytest.mark.parametrize(
    "lr, momentum, nesterov, blows_up_at", [(0.01, 0.8, False, 114), (0.01, 0.8, True, None), (0.001, 0.5, False, None)]
)
def test_not_zeroing_with_momentum_grows_at_any_learning_rate(lr, momentum, nesterov, blows_up_at):
    h = _not_zeroed(lr, momentum, nesterov, epochs=300 if blows_up_at else 2000)
    rho = lab.swing_growth(engine.stability(LINE).eigenvalues, lr, momentum, nesterov)
    assert rho > 1.0
    if blows_up_at is not None:
        assert h.diverged_at == blows_up_at  # the run: 1 % of the zeroed limit, blown up at step 114
        assert _growth(h) == pytest.approx(rho, rel=0.02)
    else:
        assert _growth(h) > 1.0 and _growth(h) - 1.0 == pytest.approx(rho - 1.0, rel=0.25)
    whole = _whole(lr, momentum, nesterov, epochs=300)
    text = lab.zero_grad_warning(whole)
    assert "at any learning rate however small" in text
    assert f"about {100 * (rho - 1):.2g}% a step" in text
    whole = whole.history
    assert (f"blows up at step {whole.diverged_at}." in text) == whole.diverged


def test_not_zeroing_above_four_grows_and_the_warning_says_when_it_blows_up():
    h = _not_zeroed(2.0, epochs=60)
    assert h.diverged and lab.swing_growth(engine.stability(LINE).eigenvalues, 2.0) > 1.5
    text = lab.zero_grad_warning(_whole(2.0))
    assert "lr·λmax = 4.22, above 4" in text and f"blows up at step {h.diverged_at}." in text


def test_not_zeroing_with_mini_batches_never_settles():
    h = _not_zeroed(0.1, batch_size=8, epochs=200)
    steps = np.linalg.norm(np.diff(h.params, axis=0), axis=1)
    assert steps[-100:].max() > steps[:100].max()  # the swings grew (here to a blow-up)
    text = lab.zero_grad_warning(_whole(0.1, epochs=200, batch="mini-batch", batch_size=8))
    assert "never settles" in text and f"blows up at step {h.diverged_at}" in text


# ----------------------------------------------------------------------------------------------------
# 3. mini-batches settle when every point lies on the fit; jitter by the residuals otherwise
# ----------------------------------------------------------------------------------------------------


def test_mini_batches_settle_on_exact_data():
    result = explore.batch_noise(DEFAULTS | {"noise": 0.0, "lr": 0.05})
    one, _, full = result.groups
    assert max(h.final_loss for h in one.runs) < 1e-12  # every seed: about 2e-14
    assert full.runs[0].final_loss > 1e-4  # the full batch is still on its way (7e-4)
    text = explore_text.noise_text(result)
    assert "every point lies on the best line" in text and "do not settle" not in text


def test_mini_batches_jitter_by_how_far_the_points_lie_from_the_fit():
    x, y = _x(LINE), LINE.y.double().numpy()
    residual = design(x) @ np_lstsq(x, y) - y
    spread = float(np.sqrt(np.mean(residual**2)))
    finals = {}
    for lr in (0.05, 0.1):
        result = explore.batch_noise(DEFAULTS | {"lr": lr})
        one, eight, full = result.groups
        excess = [h.final_loss - LINE_BEST_LOSS for h in one.runs]
        assert min(excess) > 1e-3  # batch size 1 does not settle, on any seed
        assert np.all(np.diff(full.runs[0].loss) <= 1e-7 * full.runs[0].loss[:-1])  # the full batch never rises
        tail = one.runs[0].loss[-one.steps_per_epoch :]
        assert np.sum(np.diff(tail) > 0) > 5  # it jitters
        finals[lr] = (np.median(excess), np.median([h.final_loss - LINE_BEST_LOSS for h in eight.runs]))
        text = explore_text.noise_text(result)
        assert f"RMS of {spread:.3g}" in text and f"best possible {LINE_BEST_LOSS:.3g}" in text
    assert finals[0.05][0] < finals[0.1][0]  # a smaller learning rate narrows it
    assert finals[0.1][1] < finals[0.1][0]  # and so does a larger batch


def test_a_rate_over_the_limit_is_named_as_the_cause_on_the_noise_page():
    result = explore.batch_noise(DEFAULTS | {"dataset": "thermometer", "lr": 0.1})
    limit = 2.0 / np.linalg.eigvalsh(_np_hessian(_x(result.dataset)))[-1]
    text = explore_text.noise_text(result)
    assert f"limit 2/λmax = {limit:.2g}" in text and "walks smoothly" not in text
    assert f"blew up at step {result.groups[-1].runs[0].diverged_at}" in text


# ----------------------------------------------------------------------------------------------------
# 10. the condition number: curvatures, the diagonal valley, centring, the plane's oval
# ----------------------------------------------------------------------------------------------------


def _kappa(x) -> float:
    lam = np.linalg.eigvalsh(_np_hessian(x))
    return float(lam[-1] / lam[0])


def test_scaling_numbers_match_the_hessian():
    cases = explore.scaling("thermometer", 0.01)
    x = _x(cases[0].dataset)
    kappas = [_kappa(_x(c.dataset)) for c in cases]
    assert [round(k, 0) for k in kappas] == [33599.0, 357.0, 1.0]
    ratios = [np.diag(_np_hessian(_x(c.dataset))) for c in cases[:2]]
    assert [round(float(d[0] / d[1]), 1) for d in ratios] == [2940.8, 29.4]  # not kappa: the valley is diagonal
    centred = _kappa(x - x.mean(0))
    assert centred == pytest.approx(float(x.var()), rel=1e-6) and round(centred) == 258
    text = explore_text.scaling_text(cases)
    assert "compares curvatures, not slopes" in text and "steeper" not in text
    assert "2,941 times more sharply along w than along b, and κ = 33,599" in text
    assert "mean at 51.8" in text and "Centring alone (subtracting the mean) gives κ = 258" in text
    assert "29.4 times more sharply along w than along b, and κ = 357" in text
    assert "κ = 1, a round bowl" in text and cases[2].converged_at == 1 and "in 1 step." in text


def test_the_plane_standardized_is_an_oval_not_a_round_bowl():
    cases = explore.scaling("plane", 0.01)
    x = _x(cases[0].dataset)
    r = float(np.corrcoef(x.T)[0, 1])
    kappa = _kappa(_x(cases[2].dataset))
    assert kappa == pytest.approx((1 + abs(r)) / (1 - abs(r)), rel=1e-5) and round(kappa, 2) == 1.99
    text = explore_text.scaling_text(cases)
    assert "κ = 1, a round bowl" not in text and f"= {kappa:.3g}, an oval" in text
    assert "mean at" not in text  # centring barely changes kappa here: the mean is not the cause
    assert _kappa(x - x.mean(0)) == pytest.approx(_kappa(x), rel=0.05)


def test_each_panel_starts_from_the_same_line_in_its_own_units():
    cases = explore.scaling("thermometer", 0.01)
    x = np.array(engine.data.THERMOMETER_X)
    expected = [(1.0, 0.0), (10.0, 0.0), (x.std(), x.mean())]  # y = 1·x + 0 = 10·(x/10) = std·z + mean
    for case, start in zip(cases, expected, strict=True):
        np.testing.assert_allclose(case.start, start, rtol=1e-6)
        np.testing.assert_allclose(case.best.params[0, 0], start, rtol=1e-6)  # where the drawn path begins
    text = explore_text.start_text(cases)
    assert "w = 1, b = 0" in text and "w = 10, b = 0" in text and "w = 16.05, b = 51.8" in text


# ----------------------------------------------------------------------------------------------------
# 7, 11, 14. the race: what the loss panel plots, SGD's (absent) zig-zag, each optimizer's update rule
# ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def race() -> explore.RaceResult:
    return explore.race(DEFAULTS, False)


def _by_name(race, name) -> tuple[float, engine.History]:
    i = [r.name for r in engine.RACERS].index(name)
    return race.lrs[i], race.histories[i]


def test_the_race_text_says_what_the_panel_plots_and_why_losses_rise(race):
    text = explore_text.race_intro(race)
    assert "ten times closer" not in text
    assert f"L* = {LINE_BEST_LOSS:.3g}" in text and race.min_loss == pytest.approx(LINE_BEST_LOSS, rel=1e-6)
    for racer, h in zip(engine.RACERS, race.histories, strict=True):
        up = int(np.sum(np.diff(h.loss) > 1e-6 * h.loss[:-1]))
        assert h.loss.min() > LINE_BEST_LOSS  # L flattens above L*; only L - L* keeps shrinking
        if racer.name in ("SGD", "RMSprop", "Adagrad"):
            assert up == 0
        else:  # momentum ripple at a stable rate: the learning rate is 10 % of its limit or less
            assert up > 10 and f"{racer.name} on {up} of {h.steps} steps" in text
    assert "It never went up for SGD, RMSprop, Adagrad." in text


def test_sgd_at_the_fair_rate_clears_the_steep_direction_in_one_step_without_zig_zag(race):
    x = _x(race.dataset)
    lam, vec = np.linalg.eigh(_np_hessian(x))
    best = np_lstsq(x, race.dataset.y.double().numpy())
    lr, h = _by_name(race, "SGD")
    assert lr * lam[-1] == pytest.approx(1.0, rel=1e-6)
    steep, flat = (h.params - best) @ vec[:, -1], (h.params - best) @ vec[:, 0]
    assert abs(steep[0]) > 1 and np.abs(steep[1:]).max() < 1e-5 * abs(steep[0])  # gone after one step
    assert np.all(np.sign(flat[:8]) == np.sign(flat[0]))  # the flat direction never crosses over either
    # between 1/lambda_max and 2/lambda_max it does zig-zag: the steep component changes sign every step
    zig = engine.train(race.dataset, engine.TrainConfig(lr=1.5 / lam[-1], epochs=10, init=START))
    signs = np.sign((zig.params - best) @ vec[:, -1])
    assert np.all(signs[1:] == -signs[:-1])
    text = explore_text.race_notes(race)
    assert "no zig-zag" in text and "zig-zags across a valley only with lr·λmax between 1 and 2" in text
    assert "lr·λmax = 1," in text and "zig-zags across and crawls" not in text


def _np_race(name: str, lr: float, x, y, steps: int) -> np.ndarray:
    """The updates the race page writes, in numpy float64, with torch.optim's defaults (eps: Adam and RMSprop 1e-8,
    Adagrad 1e-10)."""
    big_x = design(x)
    p = np.array(START)
    v, m, s = np.zeros(2), np.zeros(2), np.zeros(2)
    out = [p]
    for t in range(1, steps + 1):
        g = 2.0 / len(y) * big_x.T @ (big_x @ p - y)
        if name in ("Momentum 0.9", "Nesterov 0.9"):
            v = 0.9 * v + g
            p = p - lr * ((g + 0.9 * v) if name == "Nesterov 0.9" else v)
        elif name == "Adam":
            m, s = 0.9 * m + 0.1 * g, 0.999 * s + 0.001 * g**2
            p = p - lr * (m / (1 - 0.9**t)) / (np.sqrt(s / (1 - 0.999**t)) + 1e-8)
        elif name == "RMSprop":
            s = 0.99 * s + 0.01 * g**2
            p = p - lr * g / (np.sqrt(s) + 1e-8)
        else:  # Adagrad: the all-time sum of squared gradients
            s = s + g**2
            p = p - lr * g / (np.sqrt(s) + 1e-10)
        out.append(p)
    return np.array(out)


@pytest.mark.parametrize("name", ["Momentum 0.9", "Nesterov 0.9", "Adam", "RMSprop", "Adagrad"])
def test_each_racer_updates_as_the_page_writes_it(race, name):
    x, y = _x(race.dataset), race.dataset.y.double().numpy()
    lr, h = _by_name(race, name)
    np.testing.assert_allclose(h.params[:21], _np_race(name, lr, x, y, 20), rtol=1e-4, atol=1e-5)
    text = explore_text.race_notes(race)
    rule = {
        "Momentum 0.9": "v ← 0.9·v + g, p ← p − lr·v",
        "Nesterov 0.9": "p ← p − lr·(g + 0.9·v), with the new v",
        "Adam": "p ← p − lr·m̂/(√ŝ + ε)",
        "RMSprop": "s ← 0.99·s + 0.01·g²",
        "Adagrad": "s ← s + g², the sum of all squared gradients so far",
    }[name]
    assert rule in text


def test_the_race_notes_numbers(race):
    x = _x(race.dataset)
    best = np_lstsq(x, race.dataset.y.double().numpy())
    lam, vec = np.linalg.eigh(_np_hessian(x))
    text = explore_text.race_notes(race)
    # Adagrad is no running average: a running average would have let its step grow back
    _, adagrad = _by_name(race, "Adagrad")
    grads = adagrad.grads
    rate = 0.1 / np.sqrt(np.cumsum(grads**2, axis=0))
    assert np.all(np.diff(rate, axis=0) <= 0)  # lr / sqrt(s) only shrinks
    # Adam's step: exactly lr on the first, at most about lr after
    _, adam = _by_name(race, "Adam")
    moves = np.abs(np.diff(adam.params, axis=0))
    np.testing.assert_allclose(moves[0], 0.1, rtol=1e-5)
    assert moves.max() <= 0.1 * 1.05
    # momentum coasts past the bottom: the steep component changes sign along the way
    _, mom = _by_name(race, "Momentum 0.9")
    _, nest = _by_name(race, "Nesterov 0.9")
    assert np.any(np.diff(np.sign((mom.params - best) @ vec[:, -1])) != 0)
    found = re.search(r"extra loss after (\d+) steps is (\S+), against (\S+) for Momentum", text)
    assert int(found[1]) == nest.steps
    assert float(found[2]) == pytest.approx(nest.loss[-1] - LINE_BEST_LOSS, rel=0.05)
    assert float(found[3]) == pytest.approx(mom.loss[-1] - LINE_BEST_LOSS, rel=0.05)
    assert float(found[2]) < float(found[3])
    assert f"lr·λmin = {_by_name(race, 'SGD')[0] * lam[0]:.2g}" in text
