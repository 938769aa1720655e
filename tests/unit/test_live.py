"""The live figure's data (charts.live, compute.live): every run its sliders can show against references that share no
code with it (tutorial 000's nn.Linear + torch.optim.SGD loop, float64 numpy gradient descent) and against
engine.train for each method the ladders cover; the arrows; the payload's size; a tapped start."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

import engine
from compute import live, runs
from settings import controls

from .references import np_gd, np_grad, np_hessian_eigenvalues, np_mse, torch_optim_loop

DEFAULTS = controls.defaults()


def _arr(spec: dict) -> np.ndarray:
    out = np.frombuffer(base64.b64decode(spec["bdata"]), dtype="<f4").astype(np.float64)
    return out.reshape([int(n) for n in spec["shape"].split(",")]) if "shape" in spec else out


def _payload(**changes) -> dict:
    return live.build(DEFAULTS | changes)[1]


def _runs(payload: dict, setting: str, name: str = "params") -> np.ndarray:
    return _arr(payload["ladders"][setting][name])


def _xy(values: dict):
    _, ds = runs.build_dataset(values)
    return ds.x.double().numpy(), ds.y.double().numpy()


def test_the_pages_own_run_is_the_tutorial_loop_and_sits_on_both_ladders():
    p = _payload()
    x, y = _xy(DEFAULTS)
    ref = torch_optim_loop(x, y, (-1.0, -2.0), lr=0.1, epochs=60, momentum=0.8)
    own = _arr(p["own"]["params"])[0]
    np.testing.assert_allclose(own, ref["params"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_arr(p["own"]["loss"])[0], ref["loss"], rtol=1e-4, atol=1e-6)
    for setting in ("lr", "momentum"):
        ladder = p["ladders"][setting]
        np.testing.assert_array_equal(_runs(p, setting)[ladder["current"]], own)
    assert p["frames"] == list(range(61))


@pytest.mark.parametrize("momentum, nesterov", [(0.0, False), (0.8, False), (0.8, True)])
def test_every_learning_rate_of_the_slider_against_numpy_and_the_stability_limit(momentum, nesterov):
    values = DEFAULTS | {"momentum": momentum, "nesterov": nesterov}
    p = live.build(values)[1]
    x, y = _xy(values)
    lam = np_hessian_eigenvalues(x).max()
    limit = (2 + 2 * momentum) / ((1 + 2 * momentum) if nesterov else 1) / lam
    params, loss = _runs(p, "lr"), _runs(p, "lr", "loss")
    ladder = p["ladders"]["lr"]
    assert ladder["values"] == list(controls.LR_GRID)
    for k, (lr, label) in enumerate(zip(ladder["values"], ladder["labels"], strict=True)):
        assert label.startswith(f"{lr:g}: ")
        if lr > 1.02 * limit:
            assert "diverg" in label, (lr, limit, label)
        elif lr < 0.98 * limit:
            assert "diverg" not in label, (lr, limit, label)
            ref = np_gd(x, y, (-1.0, -2.0), lr, 60, momentum, nesterov)
            np.testing.assert_allclose(params[k], ref, rtol=1e-3, atol=1e-4)
            np.testing.assert_allclose(loss[k], [np_mse(x, y, q) for q in ref], rtol=2e-3, atol=1e-5)


@pytest.mark.parametrize("method", ["analytic", "optimizer", "autograd", "finite-difference"])
@pytest.mark.parametrize(
    "case",
    [
        {},
        {"dataset": "plane", "momentum": 0.5},
        {"dataset": "thermometer", "scaling": "standardize", "lr": 0.3},
        {"dataset": "single-point", "momentum": 0.0},
        {"nesterov": True, "epochs": 20},
    ],
)
def test_what_the_sliders_show_is_what_engine_train_computes_for_that_setting(case, method):
    """A learning rate and a momentum picked in the browser show the run engine.train makes for them."""
    values = DEFAULTS | case | {"method": method}
    p = live.build(values)[1]
    raw, ds = runs.build_dataset(values)
    for setting in ("lr", "momentum"):
        ladder = p["ladders"][setting]
        for k in (1, len(ladder["values"]) // 2, ladder["current"] - 1):
            picked = values | {setting: ladder["values"][k]}
            cfg = runs.build_config(picked, ds)
            h = engine.train(ds, cfg)
            shown = _runs(p, setting)[k]
            rows = min(len(h.params), len(shown))
            if h.diverged:
                continue  # both blew up: the divergence test checks where
            # float32 rounding, which finite differences amplify (a difference of two rounded losses over 2δ)
            scale = np.abs(h.params[:rows]).max() * (1e-4 if method == "finite-difference" else 1e-5)
            np.testing.assert_allclose(shown[:rows], h.params[:rows], rtol=2e-4, atol=2e-5 + scale)


def test_the_arrows_split_each_step_into_the_gradients_and_the_momentums_parts():
    values = DEFAULTS | {"nesterov": False}
    p = live.build(values)[1]
    x, y = _xy(values)
    own = _arr(p["own"]["params"])[0]
    grad, mom = _arr(p["own"]["grad"])[0], _arr(p["own"]["mom"])[0]
    for k in range(0, 59):
        np.testing.assert_allclose(grad[k], -0.1 * np_grad(x, y, own[k]), rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(grad[k] + mom[k], own[k + 1] - own[k], rtol=1e-4, atol=1e-6)
        if k:  # heavy ball: the momentum's part is beta times the previous step
            np.testing.assert_allclose(mom[k], 0.8 * (own[k] - own[k - 1]), rtol=1e-3, atol=1e-6)
    assert p["arrows"] and not _payload(optimizer="adam")["arrows"]


@pytest.mark.parametrize(
    "case, budget",
    [
        ({}, 300_000),
        ({"epochs": 5000}, 1_000_000),
        ({"dataset": "plane", "epochs": 5000}, 1_000_000),
        ({"n": 2000, "epochs": 5000, "nesterov": True}, 1_000_000),
        ({"lr": 10.0, "momentum": 0.99}, 300_000),
    ],
)
def test_the_payload_stays_within_its_budget(case, budget):
    text = json.dumps(_payload(**case), allow_nan=False)
    assert len(text) <= budget, len(text)
    assert len(json.loads(text)["frames"]) <= 241


def test_runs_no_ladder_describes_play_alone():
    for case in ({"optimizer": "rmsprop"}, {"batch": "single sample"}, {"zero_grad": False}):
        p = _payload(**case)
        assert p["ladders"] == {} and p["labels"]["no_ladder"]
        h = runs.compute(DEFAULTS | case).history
        at = p["frames"]
        np.testing.assert_allclose(_arr(p["own"]["params"])[0][: len(at)], h.params[at], rtol=1e-6)


RUN_ARRAYS = ("params", "loss", "grad", "mom")  # a run's steps in the payload


@pytest.mark.parametrize(
    "case",
    [
        {},
        {"dataset": "plane", "momentum": 0.5},
        {"dataset": "thermometer", "scaling": "standardize", "lr": 0.3},
        {"dataset": "single-point", "momentum": 0.0},
        {"nesterov": True, "epochs": 20, "method": "autograd"},
        {"lr": 0.7, "method": "optimizer", "noise": 2.0},
        {"epochs": 500, "momentum": 0.97},
    ],
)
def test_the_payload_from_the_ladders_alone_is_the_whole_to_float32_rounding(case):
    """live.first (the route's answer for a run the figure draws at once) takes the page's run from its learning-rate
    ladder instead of training it: the same path as engine.train's to float32 rounding, and the rest of the payload
    (surface, sliders, words, the ladders' other runs) the whole's exactly."""
    values = DEFAULTS | case
    whole, part = live.build(values)[1], live.first(values)
    assert part is not None and part.keys() == whole.keys()
    assert {k: v for k, v in part.items() if k not in ("own", "ladders")} == {
        k: v for k, v in whole.items() if k not in ("own", "ladders")
    }
    assert {k: v for k, v in part["own"].items() if k not in RUN_ARRAYS} == {
        k: v for k, v in whole["own"].items() if k not in RUN_ARRAYS
    }  # the summary's words too
    for name in RUN_ARRAYS:
        mine, theirs = _arr(part["own"][name]), _arr(whole["own"][name])
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-5 * max(np.abs(theirs).max(), 1.0))
    for setting, ladder in whole["ladders"].items():
        shown = part["ladders"][setting]
        assert {k: v for k, v in shown.items() if k not in RUN_ARRAYS} == {
            k: v for k, v in ladder.items() if k not in RUN_ARRAYS
        }
        others = np.arange(len(ladder["values"])) != ladder["current"]  # the page's run differs by rounding only
        for name in RUN_ARRAYS:
            np.testing.assert_array_equal(_runs(part, setting, name)[others], _runs(whole, setting, name)[others])


def test_the_payload_from_the_ladders_alone_is_the_tutorial_loops_run():
    x, y = _xy(DEFAULTS)
    ref = torch_optim_loop(x, y, (-1.0, -2.0), lr=0.1, epochs=60, momentum=0.8)
    own = live.first(DEFAULTS)["own"]
    np.testing.assert_allclose(_arr(own["params"])[0], ref["params"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_arr(own["loss"])[0], ref["loss"], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(
    "case",
    [
        {"method": "finite-difference"},  # its estimate's rounding is its own: the ladder's path is not its path
        {"lr": 5.0},  # diverges: engine.train ends it at a step of its own
        {"optimizer": "adam", "method": "optimizer"},
        {"batch": "single sample"},
        {"zero_grad": False},
        {"weight_decay": 0.1},
    ],
)
def test_no_payload_from_the_ladders_where_they_do_not_stand_for_the_run(case):
    assert live.first(DEFAULTS | case) is None


def test_the_surface_is_around_the_runs_that_come_down():
    """Plain SGD, default data: lr 1 is just above the limit and grows for 60 steps without counting as diverged;
    the panel is the box around the learning-rate ladder's runs that come down (and the optimum), with
    loss_surface's 15 % margin a side, and that run leaves it rather than stretching it. The same panel for every
    learning rate: a learning-rate move need not redraw it."""
    values = DEFAULTS | {"momentum": 0.0}
    result, p = live.build(values)
    s = p["surface"]
    a, b = _arr(s["a"]), _arr(s["b"])
    calm = []
    for setting in ("lr",):
        params, loss = _runs(p, setting), _runs(p, setting, "loss")
        down = np.isfinite(loss).all(axis=1) & (loss[:, -1] <= loss[:, 0])
        calm.append(params[down].reshape(-1, 2))
    points = np.vstack([*calm, result.optimum[None, :]])
    for axis, lo, hi in zip((a, b), points.min(0), points.max(0), strict=True):
        assert axis[0] <= lo + 1e-6 and hi - 1e-6 <= axis[-1]
        assert axis[-1] - axis[0] <= 1.3 * (hi - lo) * (1 + 1e-6)
    k = p["ladders"]["lr"]["values"].index(1.0)
    climbing = _runs(p, "lr")[k]
    loss = _runs(p, "lr", "loss")[k]
    assert loss[-1] > 100 * loss[0] and np.abs(climbing[:, 0]).max() > a[-1]  # it leaves through the edge
    other = live.build(values | {"lr": 0.3})[1]["surface"]
    assert other["a"] == s["a"] and other["b"] == s["b"] and other["z"] == s["z"]  # another rate, the same panel


def test_a_tapped_point_becomes_the_start_in_the_original_units():
    for case in (
        {},
        {"dataset": "thermometer", "scaling": "standardize"},
        {"dataset": "plane"},
        {"dataset": "single-point"},
    ):
        values = DEFAULTS | case
        result = runs.compute(values)
        point = [0.7, -0.3][: len(result.surface.columns)]
        start = live.start_values(result, point)
        moved = runs.build_config(values | start, result.dataset).init
        np.testing.assert_allclose(np.array(moved)[list(result.surface.columns)], point, rtol=1e-3, atol=2e-3)


def test_controls_follow_the_lesson_and_the_run():
    shown = controls.relevant(DEFAULTS)
    assert live.control_states(DEFAULTS, shown, frozenset(), frozenset({"lr"})) == {
        "lr": "locked",
        "momentum": "free",
        "epochs": "free",
        "noise": "free",
        "start": "free",
    }
    assert live.control_states(DEFAULTS, shown, frozenset({"epochs"}), frozenset())["epochs"] == "hidden"
    assert live.control_states(DEFAULTS, shown, frozenset({"noise"}), frozenset())["noise"] == "hidden"
    thermometer = DEFAULTS | {"dataset": "thermometer"}  # a real dataset has no noise level to move
    states = live.control_states(thermometer, controls.relevant(thermometer), frozenset(), frozenset())
    assert states["noise"] == "hidden"
    adam = DEFAULTS | {"optimizer": "adam"}
    assert live.control_states(adam, controls.relevant(adam), frozenset(), frozenset())["momentum"] == "hidden"
    assert live.control_states(DEFAULTS, shown, frozenset({"b0"}), frozenset())["start"] == "locked"


@pytest.mark.parametrize("epochs", [60, 1000])
def test_fewer_epochs_picked_in_the_browser_are_what_engine_train_computes_for_them(epochs):
    """The epochs slider shows the first steps of the shipped runs: each choice up to the page's own epochs ends on
    a frame, and those frames are exactly engine.train's run with that many epochs."""
    values = DEFAULTS | {"epochs": epochs}
    p = live.build(values)[1]
    frames = np.array(p["frames"])
    assert p["own"]["epochs"] == epochs and epochs in p["epochs"]
    assert set(p["epochs"]) == set(controls.EPOCH_GRID) | {epochs}
    assert len(frames) <= 241 and set(range(41)) <= set(frames.tolist())
    own = _arr(p["own"]["params"])[0]
    _, ds = runs.build_dataset(values)
    for fewer in [e for e in p["epochs"] if e < epochs][::3]:
        assert fewer in frames  # the shorter run ends on its own last step
        shown = frames <= fewer
        h = engine.train(ds, runs.build_config(values | {"epochs": fewer}, ds))
        np.testing.assert_allclose(own[shown], h.params[frames[shown]], rtol=1e-6, atol=1e-7)


def test_the_epochs_slider_needs_the_ladders():
    assert _payload(optimizer="adam", method="optimizer")["epochs"] == []
    assert _payload(batch="mini-batch")["epochs"] == []
