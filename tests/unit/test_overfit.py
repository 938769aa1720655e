"""The overfitting page's pieces (compute/overfit.py, charts/overfit.py, ui/overfit_text.py) and the playground's
split and decay: numbers against numpy references that share no code with the engine (polyfit on the raw x, a
closed-form ridge with an unpenalized intercept, a profiled bias, sign changes counted by hand, scikit-learn's Lasso
with its objective mapped), and every sentence's numbers against them."""

from __future__ import annotations

import json
import re

import numpy as np
import plotly.graph_objects as go
import pytest

import charts
import engine
from compute import overfit, runs
from settings import controls
from ui import overfit_text

BASE = controls.defaults() | {"test_fraction": 0.25, "degree": 3, "shape": "line"}  # most checks: the line data


def _np_split(values: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_test, y_test) in float64, from the page's own row indices."""
    result = overfit.fit(values)
    x = result.base.x.double().numpy()[:, 0]
    y = result.base.y.double().numpy()
    return x[result.train_rows], y[result.train_rows], x[result.test_rows], y[result.test_rows]


def _np_ridge(z: np.ndarray, y: np.ndarray, wd: float) -> np.ndarray:
    """argmin mean((z w + b - y)^2) + (wd/2)||w||^2 with b free: (w..., b) from the normal equations in float64."""
    design = np.hstack([z, np.ones((len(z), 1))])
    penalty = np.diag([wd / 2.0] * z.shape[1] + [0.0])
    return np.linalg.solve(design.T @ design / len(y) + penalty, design.T @ y / len(y))


# ----------------------------------------------------------------------------------------------------------------
# the run, its split and its optima
# ----------------------------------------------------------------------------------------------------------------


def test_the_split_is_disjoint_complete_and_seeded():
    result = overfit.fit(BASE)
    rows = np.concatenate([result.train_rows, result.test_rows])
    assert sorted(rows.tolist()) == list(range(30)) and len(result.test_rows) == round(30 * 0.25)
    again = overfit.fit(BASE)
    assert np.array_equal(again.test_rows, result.test_rows)
    assert not np.array_equal(overfit.fit(BASE | {"seed": 1}).test_rows, result.test_rows)


def test_the_unregularized_optimum_is_numpys_polyfit_on_the_training_points():
    x, y, xt, yt = _np_split(BASE)
    result = overfit.fit(BASE)
    coeffs = np.polyfit(x, y, 3)  # highest power first
    mine = result.data.polynomial.to_power_coefficients(result.least_squares)  # (c1, c2, c3, c0)
    # the model sees the standardized powers as float32, polyfit the raw x in float64: agreement to float32 rounding
    np.testing.assert_allclose(mine, [coeffs[2], coeffs[1], coeffs[0], coeffs[3]], rtol=1e-4, atol=1e-6)
    assert result.optimum_test_loss == pytest.approx(np.mean((np.polyval(coeffs, xt) - yt) ** 2), rel=1e-4)


def test_the_ridge_optimum_is_numpys_closed_form_with_a_free_intercept():
    values = BASE | {"weight_decay": 0.5, "degree": 5}
    result = overfit.fit(values)
    z = result.data.x.double().numpy()[result.train_rows]
    y = result.base.y.double().numpy()[result.train_rows]
    np.testing.assert_allclose(result.optimum, _np_ridge(z, y, 0.5), rtol=1e-7, atol=1e-9)


def test_the_runs_losses_are_the_training_and_held_out_mse_of_its_parameters():
    result = overfit.fit(BASE)
    h = result.history
    z = result.data.x.double().numpy()
    y = result.base.y.double().numpy()
    pred = z @ h.params[-1][:3] + h.params[-1][3]
    train, test = result.train_rows, result.test_rows
    assert h.loss[-1] == pytest.approx(np.mean((pred[train] - y[train]) ** 2), rel=1e-6)
    assert h.test_loss[-1] == pytest.approx(np.mean((pred[test] - y[test]) ** 2), rel=1e-6)
    assert result.stop.step == int(np.argmin(h.test_loss))


def _unpacked(value) -> np.ndarray:
    """A packed float32 array of a payload ({dtype, bdata, shape}) as numpy float64."""
    import base64

    out = np.frombuffer(base64.b64decode(value["bdata"]), dtype="<f4").astype(np.float64)
    return out.reshape([int(n) for n in value["shape"].split(",")]) if "shape" in value else out


def _drawn_curve(payload: dict, params: np.ndarray, degree: int) -> np.ndarray:
    """What components/fit_player.js draws for these parameters: y = F[:, :degree] w + b."""
    features = _unpacked(payload["features"])
    return features[:, :degree] @ params[:degree] + params[degree]


def test_the_players_own_run_is_the_pages_run_and_its_curve_the_polynomial():
    values = BASE | {"epochs": 100}
    result, payload = overfit.fit(values), overfit.player(values)
    frames = payload["frames"]
    assert frames[0] == 0 and frames[-1] == 100 and len(frames) <= overfit.FRAMES
    own = _unpacked(payload["own"]["params"])[0]
    np.testing.assert_allclose(own, result.history.params[frames], rtol=1e-6, atol=1e-7)  # float32 on the wire
    grid = _unpacked(payload["grid"])
    # against the power coefficients of the raw x, evaluated by numpy (shares nothing with the features shipped)
    k = len(frames) // 2
    c1, c2, c3, c0 = result.data.polynomial.to_power_coefficients(result.history.params[frames[k]])
    reference = np.polyval([c3, c2, c1, c0], grid)
    np.testing.assert_allclose(_drawn_curve(payload, own[k], 3), reference, rtol=1e-4, atol=1e-4)
    test = _unpacked(payload["own"]["test"])[0]
    np.testing.assert_allclose(test, result.history.test_loss[frames], rtol=1e-6)
    assert payload["own"]["stop"] == result.stop.step
    assert sorted(payload["held_out"]) == sorted(result.test_rows.tolist())


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"shape": "wave", "degree": 9, "weight_decay": 0.01, "test_fraction": 0.0},
        {"l1": 0.01, "degree": 7, "test_fraction": 0.3, "noise": 0.9},
        {"degree": 1, "powers": "raw", "epochs": 300},
        {"weight_decay": 0.03, "lr": 0.05},
    ],
)
def test_the_players_payload_from_its_families_alone_is_the_whole_to_float32_rounding(changes):
    """player_first (the route's answer for a run the player draws at once) takes the page's run from the degree sweep
    instead of training it: engine.train's path to float32 rounding, the same words, and the rest of the payload the
    whole's exactly."""
    values = BASE | changes
    overfit.CACHE.clear()
    first, whole, result = overfit.player_first(values), overfit.player(values), overfit.fit(values)
    assert first is not None and first.keys() == whole.keys()
    assert {k: v for k, v in first.items() if k != "own"} == {k: v for k, v in whole.items() if k != "own"}
    runs = ("params", "loss", "test", "stop", "label")
    assert {k: v for k, v in first["own"].items() if k not in runs} == {
        k: v for k, v in whole["own"].items() if k not in runs
    }
    # the step of the lowest test loss: where that loss is flat to float32 rounding, rounding may pick a neighbour
    stop, words = first["own"]["stop"], re.sub(r"at step \d+", "", first["own"]["label"])
    assert words == re.sub(r"at step \d+", "", whole["own"]["label"])
    if result.history.test_loss is None:
        assert stop == whole["own"]["stop"] == -1
    else:
        lowest = result.history.test_loss[whole["own"]["stop"]]
        assert f"at step {stop}" in first["own"]["label"]
        assert abs(result.history.test_loss[stop] - lowest) <= 1e-6 * lowest
    frames = first["frames"]
    own = _unpacked(first["own"]["params"])[0]
    np.testing.assert_allclose(own, result.history.params[frames], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_unpacked(first["own"]["loss"])[0], result.history.loss[frames], rtol=1e-4, atol=1e-6)
    if result.history.test_loss is not None:
        test = _unpacked(first["own"]["test"])[0]
        np.testing.assert_allclose(test, result.history.test_loss[frames], rtol=1e-4, atol=1e-6)


def test_the_players_families_are_computed_together_and_cached_as_each_alone():
    values = BASE | {"noise": 0.83, "weight_decay": 0.03}  # a decay between the rungs: the family's own key
    overfit.CACHE.clear()
    overfit.cached_families(values)
    assert len(overfit.CACHE) == 3
    np.testing.assert_array_equal(overfit.cached_degrees(values).loss, overfit.degree_sweep(values).loss)
    np.testing.assert_array_equal(overfit.cached_decay_family(values).loss, overfit.decay_family(values).loss)
    np.testing.assert_array_equal(overfit.cached_curve(values)[1], overfit.curve(values)[1])
    assert len(overfit.CACHE) == 3  # found there, not computed again


def test_no_payload_from_the_families_for_a_run_that_blows_up():
    assert overfit.player_first(BASE | {"degree": 6, "powers": "raw"}) is None


def test_a_run_the_player_draws_now_comes_from_the_cache_once_it_is_there():
    values = BASE | {"noise": 0.77}
    overfit.CACHE.clear()
    part = overfit.player_now(values)
    assert ("player", overfit._subset(values, overfit.FIT_KEYS)) not in overfit.CACHE._items  # not trained yet
    whole = overfit.cached_player(values, {})
    assert part["own"]["label"] == whole["own"]["label"] and overfit.player_now(values) == whole


@pytest.mark.parametrize("degree", [1, 5, 9])
def test_every_degree_on_the_players_slider_is_engine_train_at_that_degree(degree):
    payload = overfit.player(BASE | {"shape": "wave"})
    ladder = payload["ladders"]["degree"]
    j = ladder["values"].index(degree)
    frames = payload["frames"]
    result = overfit.fit(BASE | {"shape": "wave", "degree": degree})
    drawn = _unpacked(ladder["params"])[j][:, : degree + 1]
    # one batched run of all nine degrees against engine.train alone: equal up to float32 rounding
    np.testing.assert_allclose(drawn, result.history.params[frames], rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(_unpacked(ladder["loss"])[j], result.history.loss[frames], rtol=2e-4)
    np.testing.assert_allclose(_unpacked(ladder["optimum"])[j][: degree + 1], result.optimum, rtol=1e-5, atol=1e-6)
    assert ladder["stops"][j] == result.stop.step
    assert ladder["labels"][j].startswith(f"Degree {degree}, weight decay 0:")


@pytest.mark.parametrize("weight_decay", [0.0, 0.01, 2.0])
def test_every_weight_decay_on_the_players_slider_is_engine_train_with_it(weight_decay):
    values = BASE | {"degree": 5}
    payload = overfit.player(values)
    ladder = payload["ladders"]["weight_decay"]
    assert ladder["values"] == list(controls.DECAY_GRID)
    j = ladder["values"].index(weight_decay)
    result = overfit.fit(values | {"weight_decay": weight_decay})
    drawn = _unpacked(ladder["params"])[j][:, :6]
    np.testing.assert_allclose(drawn, result.history.params[payload["frames"]], rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(_unpacked(ladder["optimum"])[j], result.optimum, rtol=1e-5, atol=1e-6)
    assert ladder["current"] == 0  # the page's own decay, 0


def test_a_decay_between_the_rungs_joins_the_players_ladder():
    payload = overfit.player(BASE | {"weight_decay": 0.03})
    ladder = payload["ladders"]["weight_decay"]
    assert 0.03 in ladder["values"] and ladder["values"][ladder["current"]] == 0.03


def test_a_run_that_blows_up_is_called_so_and_its_frames_stop_being_finite():
    payload = overfit.player(BASE | {"degree": 6, "powers": "raw"})
    assert "blows up" in payload["own"]["label"]
    params = _unpacked(payload["own"]["params"])[0]
    assert np.isfinite(params[0]).all() and not np.isfinite(params[-1]).all()
    assert np.isfinite(payload["loss_range"]).all()


def test_the_players_loss_axis_spans_every_shown_loss_but_not_a_machine_zero():
    payload = overfit.player(BASE)
    lo, hi = payload["loss_range"]
    losses = np.concatenate([_unpacked(payload["own"]["loss"]).ravel(), _unpacked(payload["own"]["test"]).ravel()])
    assert 10**lo < losses.min() and losses.max() < 10**hi
    # one training point: degree 9 fits it to ~1e-30; the axis keeps to the top eight decades
    lo, hi = overfit.player(BASE | {"n": 2, "test_fraction": 0.5, "degree": 9})["loss_range"]
    assert hi - lo <= 1.2 * charts.fit_player.LOSS_DECADES  # with its 8 % margins


def test_the_players_payload_stays_within_its_budget():
    default = json.dumps(overfit.player(controls.defaults()))
    largest = json.dumps(overfit.player(controls.defaults() | {"n": 2000, "epochs": 5000, "degree": 9}))
    assert len(default) <= 300_000 and len(largest) <= 1_000_000, (len(default), len(largest))


@pytest.mark.parametrize("key, value", [("degree", 5), ("powers", "raw"), ("l1", 0.1)])
def test_every_control_of_the_page_alone_changes_its_run(key, value):
    base, data, cfg = overfit.setup(BASE)
    _, data2, cfg2 = overfit.setup(BASE | {key: value})
    assert cfg != cfg2 or data.x.shape != data2.x.shape or not np.array_equal(data.x.numpy(), data2.x.numpy())


# ----------------------------------------------------------------------------------------------------------------
# the sweeps: one batched call each, the page's run among them
# ----------------------------------------------------------------------------------------------------------------


def test_the_degree_sweep_holds_the_pages_run_and_numpys_exact_fits():
    sweep = overfit.degree_sweep(BASE)
    x, y, xt, yt = _np_split(BASE)
    for k, degree in enumerate(sweep.degrees):
        coeffs = np.polyfit(x, y, degree)
        numpy_loss = np.mean((np.polyval(coeffs, x) - y) ** 2)
        # polyfit's Vandermonde solve loses digits beyond degree 6 (kappa > 1e6): there the engine must do no worse
        assert sweep.optimum_loss[k] == pytest.approx(numpy_loss, rel=1e-4 if degree <= 6 else 1e-3)
        assert sweep.optimum_loss[k] <= numpy_loss * (1 + 1e-4)
        if degree <= 5:  # beyond, the exact fit's test loss is a difference of huge numbers: compare loosely
            assert sweep.optimum_test_loss[k] == pytest.approx(np.mean((np.polyval(coeffs, xt) - yt) ** 2), rel=1e-4)
    page = overfit.fit(BASE).history
    assert sweep.final_loss[2] == pytest.approx(page.loss[-1], rel=1e-4)
    assert sweep.final_test_loss[2] == pytest.approx(page.test_loss[-1], rel=1e-4)


def test_the_decay_sweep_holds_the_pages_run_at_its_decay_and_numpys_ridge():
    values = BASE | {"weight_decay": overfit.DECAYS[10]}
    sweep = overfit.decay_sweep(values)
    page = overfit.fit(values)
    assert sweep.final_loss[10] == pytest.approx(page.history.loss[-1], rel=1e-4)
    z = page.data.x.double().numpy()[page.train_rows]
    y = page.base.y.double().numpy()[page.train_rows]
    np.testing.assert_allclose(sweep.optimum[5], _np_ridge(z, y, overfit.DECAYS[5]), rtol=1e-6, atol=1e-9)


def test_the_two_weight_picture_is_the_data_loss_with_the_best_bias():
    p = overfit.pair(BASE | {"weight_decay": 0.2})
    z = p.fit.data.x.double().numpy()[p.fit.train_rows]
    y = p.fit.base.y.double().numpy()[p.fit.train_rows]
    i, j = 17, 40
    w = np.array([p.w1[j], p.w2[i]])
    residual = y - z @ w
    assert p.data_loss[i, j] == pytest.approx(np.mean((residual - residual.mean()) ** 2), rel=1e-9)
    assert p.penalty[i, j] == pytest.approx(0.1 * np.sum(w**2), rel=1e-12)
    assert np.all(p.data_loss >= np.mean((y - z @ p.fit.least_squares[:2] - p.fit.least_squares[2]) ** 2) - 1e-9)


# ----------------------------------------------------------------------------------------------------------------
# L1: the lasso optimum against scikit-learn, and the chatter counted by hand
# ----------------------------------------------------------------------------------------------------------------


def test_l1_chatters_around_the_lassos_zeros_and_the_text_says_so():
    from sklearn.linear_model import Lasso

    values = BASE | {"degree": 9, "l1": 0.2, "epochs": 500}
    result = overfit.fit(values)
    z = result.data.x.double().numpy()[result.train_rows]
    y = result.base.y.double().numpy()[result.train_rows]
    # sklearn minimizes (1/(2n))||y - Zw - b||^2 + alpha ||w||_1: half of MSE + l1 ||w||_1, so alpha = l1 / 2
    ref = Lasso(alpha=0.1, fit_intercept=True, tol=1e-12, max_iter=1_000_000).fit(z, y)
    np.testing.assert_allclose(result.optimum[:9], ref.coef_, atol=1e-6)
    zeroed = np.flatnonzero(ref.coef_ == 0)
    tail = result.history.params[-21:, zeroed]
    changes = int(np.sum(np.sign(tail[1:]) * np.sign(tail[:-1]) < 0))
    assert changes > 0 and np.all(tail[-1] != 0)  # gradient descent does not land on 0
    text = overfit_text.chatter_text(result)
    assert f"changed sign {changes} times" in text and f"{np.abs(tail).max():.2g}" in text
    assert "proximal step" in text and not re.search(r"-0[,)]", text)


# ----------------------------------------------------------------------------------------------------------------
# sentences against the numbers
# ----------------------------------------------------------------------------------------------------------------


def test_the_degree_text_names_numpys_best_degrees():
    sweep = overfit.degree_sweep(BASE)
    text = overfit_text.degree_text(sweep, 60)
    x, y, xt, yt = _np_split(BASE)
    exact = [np.mean((np.polyval(np.polyfit(x, y, d), xt) - yt) ** 2) for d in range(1, 10)]
    assert f"degree {int(np.argmin(exact)) + 1} for the exact fit" in text
    assert f"degree {int(np.argmin(sweep.final_test_loss)) + 1} for gradient descent" in text
    assert "never rises" in text  # nested least-squares fits: the training loss cannot rise with the degree
    assert np.all(np.diff([np.mean((np.polyval(np.polyfit(x, y, d), x) - y) ** 2) for d in range(1, 10)]) <= 1e-9)


def test_the_fit_summary_and_the_eigen_text_against_numpy():
    result = overfit.fit(BASE | {"degree": 4, "epochs": 200})
    text = overfit_text.fit_summary(result)
    h = result.history
    step = int(np.argmin(h.test_loss))
    assert (f"lowest at step {step}" in text) or (step == h.steps and "still falling" in text)
    view = overfit.eigen(result)
    z = np.hstack([result.data.x.double().numpy()[result.train_rows], np.ones((len(result.train_rows), 1))])
    lam = np.linalg.eigvalsh(2.0 * z.T @ z / len(z))
    words = overfit_text.eigen_text(view, result)
    assert f"{(1 - 0.1 * lam[-1]) ** 2:.3g} for the steepest" in words
    assert f"{(1 - 0.1 * lam[0]) ** 2:.3g} for the flattest" in words
    # the per-step factor is what the run's own milestones show (plain gradient descent, no momentum)
    ratio = view.milestones.excess[2, -1] / view.milestones.excess[1, -1]
    assert ratio == pytest.approx((1 - 0.1 * lam[-1]) ** 2, rel=1e-3)


def test_the_conditioning_text_gives_the_runs_own_kappa():
    result = overfit.fit(BASE)
    cond = overfit.conditioning(BASE)
    z = np.hstack([result.data.x.double().numpy()[result.train_rows], np.ones((len(result.train_rows), 1))])
    lam = np.linalg.eigvalsh(2.0 * z.T @ z / len(z))
    kappa = lam[-1] / lam[0]
    text = overfit_text.conditioning_text(cond, result)
    assert f"κ = {kappa:.3g}" in text
    steps = int(np.ceil(np.log(0.01) / (2 * np.log((kappa - 1) / (kappa + 1)))))
    assert f": {steps:.3g} steps" in text


def test_a_diverging_raw_run_is_explained_and_the_fix_is_stable():
    values = BASE | {"degree": 6, "powers": "raw"}
    result = overfit.fit(values)
    assert result.history.diverged
    z = np.hstack([result.data.x.double().numpy()[result.train_rows], np.ones((len(result.train_rows), 1))])
    limit = 2.0 / np.linalg.eigvalsh(2.0 * z.T @ z / len(z))[-1]
    text = overfit_text.divergence(result)
    assert f"{limit:.3g}" in text and 0.1 > limit
    safe = overfit_text.safe_lr(result, controls.LR_GRID)
    assert safe <= 0.9 * limit and not overfit.fit(values | {"lr": safe}).history.diverged
    assert "Raw powers of x" in text


def test_a_standardized_run_that_diverges_does_not_blame_raw_powers():
    result = overfit.fit(BASE | {"degree": 5, "lr": 1.0})  # standardized powers, a rate above the limit
    assert result.history.diverged and result.data.polynomial.standardize
    text = overfit_text.divergence(result)
    assert "Raw powers" not in text and "A rate below the limit fixes it." in text


# ----------------------------------------------------------------------------------------------------------------
# figures: valid Plotly, the right traces
# ----------------------------------------------------------------------------------------------------------------


def _valid(spec) -> dict:
    spec = json.loads(charts.to_spec(spec)) if isinstance(spec, go.Figure) else spec.to_dict()
    go.Figure(spec)  # plotly.py's own validation
    return spec


def test_every_figure_is_valid_plotly_with_its_traces():
    values = BASE | {"degree": 5, "l1": 0.05}
    pair = _valid(overfit.pair_figure(values))
    assert any("L1 diamonds" in (t.get("name") or "") for t in pair["data"])
    assert "regularized optimum" in [t.get("name") for t in pair["data"]]
    plain = _valid(overfit.pair_figure(BASE))
    assert not any("penalty" in (t.get("name") or "") for t in plain["data"])
    assert "regularized optimum" not in [t.get("name") for t in plain["data"]]
    _valid(overfit.degree_figure(values))
    decays = _valid(overfit.decay_figure(values))
    assert decays["layout"]["xaxis"]["type"] == "log"
    _valid(overfit.conditioning_figure(values))
    eigen = _valid(overfit.eigen_figure(values))
    assert sum(1 for t in eigen["data"] if re.match(r"(steepest|flattest|direction)", t.get("name") or "")) == 6
    assert overfit.eigen_figure(BASE | {"degree": 1}) is None


# ----------------------------------------------------------------------------------------------------------------
# the playground: split and decay reach the run; defaults leave every link's run as it was
# ----------------------------------------------------------------------------------------------------------------


def test_the_playground_run_is_unchanged_at_the_defaults():
    values = controls.defaults()
    cfg = runs.build_config(values, runs.build_dataset(values)[1])
    assert cfg.test_fraction == 0.0 and cfg.weight_decay == 0.0 and cfg.l1 == 0.0
    old = engine.TrainConfig(lr=0.1, momentum=0.8, epochs=60, init=(-1.0, -2.0), seed=0)
    assert cfg == old
    assert overfit_text.held_out_caption(runs.compute(values)) is None


def test_the_playground_split_and_decay_with_numpys_references():
    values = controls.defaults() | {"test_fraction": 0.25, "weight_decay": 0.1, "momentum": 0.0, "epochs": 400}
    result = runs.compute(values)
    assert result.config.test_fraction == 0.25 and result.config.weight_decay == 0.1
    x = result.dataset.x.double().numpy()
    y = result.dataset.y.double().numpy()
    train = runs.training_rows(result.dataset, result.config)
    assert train.n == 22
    xt, yt = train.x.double().numpy(), train.y.double().numpy()
    ridge = _np_ridge(xt, yt, 0.1)
    np.testing.assert_allclose(result.history.params[-1], ridge, rtol=1e-4)  # it settles at the ridge optimum
    design = np.hstack([xt, np.ones((len(xt), 1))])
    lam = np.linalg.eigvalsh(2.0 * design.T @ design / len(xt) + np.diag([0.1, 0.0]))
    assert result.lr_limit == pytest.approx(2.0 / lam[-1], rel=1e-9)  # the regularized loss's limit
    test = np.setdiff1d(np.arange(30), [i for i in range(30) if any(np.all(x[i] == xt, axis=1))])
    assert len(test) == 8
    final = result.history.params[-1]
    assert result.history.test_loss[-1] == pytest.approx(np.mean((x[test, 0] * final[0] + final[1] - y[test]) ** 2))
    text = overfit_text.held_out_caption(result)
    assert "Trained on 22 of 30 points" in text and f"{result.history.test_loss[-1]:.4g}" in text
    assert _weights(ridge) in text


def _weights(values) -> str:
    return ", ".join(f"{v:.3g}" for v in values)


def test_hostile_links_for_the_new_controls_are_corrected_with_a_note():
    query = {"degree": "99", "l1": "-3", "test_fraction": "<script>", "powers": "evil", "weight_decay": "nan"}
    values, notes = controls.parse_query(query)
    assert (values["degree"], values["l1"], values["test_fraction"], values["powers"], values["weight_decay"]) == (
        9,
        0.0,
        0.0,
        "standardized",
        0.0,
    )
    assert len(notes) == 5
    for c in controls.CONTROLS:
        assert c.coerce(values[c.key]) == values[c.key]
    assert overfit.fit(values).degree == 9


def test_the_default_wave_gives_the_u_shaped_test_curve_numpy_finds():
    """The page's default points (a wave): numpy's least-squares polynomials on the training rows have a test loss
    that falls from degree 1 and rises again by degree 9, and the page's degree sweep has exactly those optima."""
    values = controls.defaults() | {"test_fraction": 0.25}
    assert values["shape"] == "wave"
    base = engine.make_dataset("wave", n=30, noise=0.5, seed=0)
    x, y = base.x.double().numpy()[:, 0], base.y.double().numpy()
    train_rows, test_rows = engine.split(base, 0.25, 0)
    held = np.isin(x, test_rows.x.double().numpy()[:, 0])
    numpy_test = []
    for degree in range(1, 10):
        coef = np.polyfit(x[~held], y[~held], degree)
        numpy_test.append(np.mean((np.polyval(coef, x[held]) - y[held]) ** 2))
    best = int(np.argmin(numpy_test))
    assert 0 < best < 8 and numpy_test[0] > 1.3 * numpy_test[best] and numpy_test[-1] > 1.3 * numpy_test[best]
    sweep = overfit.degree_sweep(values)
    np.testing.assert_allclose(sweep.optimum_test_loss, numpy_test, rtol=1e-3)


def test_the_sweep_and_conditioning_figures_mark_the_pages_own_value_on_a_figure_shared_by_all():
    """The figures are cached without the page's degree or decay (a degree move reuses them); the mark is added."""
    specs = {d: _valid(overfit.degree_figure(BASE | {"degree": d})) for d in (4, 5)}
    marks = {d: [t for t in s["data"] if t.get("name", "").startswith("this page's degree")] for d, s in specs.items()}
    assert [m["x"] for m in marks[5]] == [[5, 5]] and marks[4][0]["name"] == "this page's degree (4)"
    unmarked = [[t for t in s["data"] if not t.get("name", "").startswith("this page")] for s in specs.values()]
    assert unmarked[0] == unmarked[1]
    cond = _valid(overfit.conditioning_figure(BASE | {"degree": 5, "powers": "raw"}))
    rings = [t for t in cond["data"] if t.get("name") == "this page (degree 5, raw)"]
    assert sorted(t["xaxis"] for t in rings) == ["x", "x2"] and all(t["x"] == [5] for t in rings)
    assert not [t for t in _valid(overfit.decay_figure(BASE))["data"] if t.get("name", "").startswith("this page")]
    decay = _valid(overfit.decay_figure(BASE | {"weight_decay": 0.1}))
    assert [t["x"] for t in decay["data"] if t.get("name") == "this page's weight decay (0.1)"] == [[0.1, 0.1]]
