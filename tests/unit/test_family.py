"""The in-chart family of runs (ui.family, charts.family): every frame against references that do not share the
code under test (tutorial 000's nn.Linear + torch.optim.SGD loop, float64 numpy gradient descent, the closed-form
stability limit), the figure's size bound, finite JSON, and which settings share one cached family."""

import dataclasses
import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

import charts
from charts.common import log_ticks
from charts.family import LOSS_POINTS, PATH_POINTS
from ui import controls, family, runs

from .references import np_gd, np_hessian_eigenvalues, np_mse, torch_optim_loop
from .test_charts import _arr, _no_constants

DEFAULTS = controls.defaults()


def _figure(values: dict, setting: str) -> tuple[charts.Family, dict]:
    fam = family.build(values, setting)
    spec = json.loads(pio.to_json(charts.family_figure(fam), validate=False), parse_constant=_no_constants)
    return fam, spec


def _xy(values: dict):
    raw, ds = runs.build_dataset(values)
    return ds.x.double().numpy(), ds.y.double().numpy()


def _frame(spec: dict, name: str) -> list[dict]:
    return next(f for f in spec["frames"] if f["name"] == name)["data"]


def test_the_pages_own_run_is_the_tutorial_loop():
    """The frame at the sidebar's learning rate is tutorial 000's loop (nn.Linear + SGD with momentum)."""
    fam, spec = _figure(DEFAULTS, "lr")
    assert fam.values[fam.active] == DEFAULTS["lr"]
    x, y = _xy(DEFAULTS)
    ref = torch_optim_loop(x, y, (-1.0, -2.0), lr=0.1, epochs=60, momentum=0.8)
    path, _, loss = _frame(spec, "learning rate 0.1")
    steps = np.rint(_arr(loss["x"])).astype(int)
    np.testing.assert_allclose(_arr(loss["y"]), ref["loss"][steps], rtol=1e-4, atol=1e-6)
    # the path's points are parameters of the reference at some steps: each one matches a reference step
    pts = np.stack([_arr(path["x"]), _arr(path["y"])], axis=1)
    gaps = np.abs(pts[:, None, :] - ref["params"][None, :, :]).max(axis=2).min(axis=1)
    assert gaps.max() < 1e-4
    assert np.allclose(pts[0], [-1.0, -2.0]) and np.allclose(pts[-1], ref["params"][-1], atol=1e-4)


@pytest.mark.parametrize("momentum", [0.0, 0.8])
def test_every_learning_rate_against_numpy_and_the_stability_limit(momentum):
    values = DEFAULTS | {"momentum": momentum}
    fam, spec = _figure(values, "lr")
    x, y = _xy(values)
    lam = np_hessian_eigenvalues(x).max()
    limit = 2 * (1 + momentum) / lam
    assert len(spec["frames"]) == len(controls.LR_GRID) == len(fam.labels)
    for lr, label, frame in zip(fam.values, fam.labels, spec["frames"], strict=True):
        assert frame["name"] == f"learning rate {lr:.6g}" and label.startswith(f"{lr:g}: ")
        if lr > 1.02 * limit:
            assert "diverg" in label, (lr, limit, label)
            continue
        if lr < 0.98 * limit:
            assert "diverg" not in label, (lr, limit, label)
            params = np_gd(x, y, (-1.0, -2.0), lr, 60, momentum)
            loss = np.array([np_mse(x, y, p) for p in params])
            steps = np.rint(_arr(frame["data"][2]["x"])).astype(int)
            np.testing.assert_allclose(_arr(frame["data"][2]["y"]), loss[steps], rtol=2e-3, atol=1e-5)
            end = np.array([_arr(frame["data"][1]["x"])[0], _arr(frame["data"][1]["y"])[0]])
            np.testing.assert_allclose(end, params[-1], rtol=1e-3, atol=1e-4)


def test_momentum_family_runs_at_the_pages_learning_rate():
    fam, spec = _figure(DEFAULTS, "momentum")
    assert fam.setting == "momentum" and fam.values[fam.active] == DEFAULTS["momentum"]
    assert [f["name"] for f in spec["frames"]][:3] == ["momentum 0", "momentum 0.05", "momentum 0.1"]
    x, y = _xy(DEFAULTS)
    for beta in (0.0, 0.5, 0.9):
        params = np_gd(x, y, (-1.0, -2.0), DEFAULTS["lr"], 60, beta)
        end = _frame(spec, f"momentum {beta:.6g}")[1]
        np.testing.assert_allclose([_arr(end["x"])[0], _arr(end["y"])[0]], params[-1], rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize(
    "case",
    [
        {"epochs": 5000},
        {"lr": 10.0, "momentum": 0.99},
        {"dataset": "plane", "epochs": 5000},
        {"dataset": "thermometer"},
    ],
)
def test_bounded_and_finite_for_long_and_exploding_runs(case):
    values = DEFAULTS | case
    for setting in ("lr", "momentum"):
        fam, spec = _figure(values, setting)  # _no_constants: no NaN or Infinity anywhere in the JSON
        go.Figure(spec)  # plotly.py accepts every property
        text = pio.to_json(charts.family_figure(fam), validate=False)
        assert len(text) < 300_000, len(text)
        for frame in spec["frames"]:
            path, now, loss = frame["data"]
            assert len(_arr(path["x"])) <= PATH_POINTS + 1 and len(_arr(loss["x"])) <= LOSS_POINTS + 1
            for arr in (path["x"], path["y"], loss["y"]):
                assert np.isfinite(_arr(arr)).all()


def test_single_point_rides_the_loss_curve():
    """One parameter: the panel is the loss along w, and the path's y values are the loss."""
    values = DEFAULTS | {"dataset": "single-point"}
    fam, spec = _figure(values, "lr")
    assert fam.surface.kind == "curve"
    path, _, loss = _frame(spec, f"learning rate {fam.values[fam.active]:.6g}")
    np.testing.assert_allclose(_arr(path["y"])[0], _arr(loss["y"])[0], rtol=1e-6)


def test_pick_starts_the_figure_at_a_run():
    fam, spec = _figure(DEFAULTS, "lr")
    k = 5
    charts.pick(spec, k)
    assert spec["layout"]["sliders"][0]["active"] == k
    frame = spec["frames"][k]
    for index, update in zip(frame["traces"], frame["data"], strict=True):
        assert spec["data"][index]["x"] == update["x"] and spec["data"][index]["y"] == update["y"]


def test_one_family_serves_every_value_of_its_setting():
    """Moving the learning rate along its ladder, or switching the gradient method, reuses the same family;
    a value off the ladder, other data or another momentum makes a new one."""
    base = family.anchor(DEFAULTS, "lr")
    assert family.anchor(DEFAULTS | {"lr": 0.02}, "lr") == base
    assert family.anchor(DEFAULTS | {"method": "analytic"}, "lr") == base
    assert family.anchor(DEFAULTS | {"lr": 0.0123}, "lr") != base
    assert family.anchor(DEFAULTS | {"momentum": 0.5}, "lr") != base
    assert family.anchor(DEFAULTS | {"noise": 1.0}, "lr") != base
    assert 0.0123 in family.ladder("lr", 0.0123) and family.ladder("lr", 0.1) == controls.LR_GRID
    fam = family.build(DEFAULTS | {"lr": 0.0123}, "lr")
    assert fam.values[fam.active] == 0.0123 and len(fam.values) == len(controls.LR_GRID) + 1


@pytest.mark.parametrize(
    "case, words",
    [
        ({"optimizer": "adam"}, "adaptive optimizer"),
        ({"batch": "mini-batch"}, "full-batch"),
        ({"batch": "single sample"}, "full-batch"),
        ({"zero_grad": False}, "zero the gradient"),
    ],
)
def test_runs_the_family_does_not_describe_are_named(case, words):
    assert words in family.unavailable(DEFAULTS | case)


@pytest.mark.parametrize("case", [{}, {"method": "analytic"}, {"method": "finite-difference"}, {"optimizer": "sgd"}])
def test_sgd_runs_have_a_family(case):
    assert family.unavailable(DEFAULTS | case) is None


def _inside(path: np.ndarray, surface) -> bool:
    axes = [surface.a] if surface.kind == "curve" else [surface.a, surface.b]
    return all(axis[0] <= column.min() and column.max() <= axis[-1] for column, axis in zip(path.T, axes, strict=True))


@pytest.mark.parametrize("dataset", ["thermometer", "single-point", "plane"])
def test_the_main_figure_shares_the_familys_panel_while_its_run_stays_on_it(dataset):
    """Every learning rate that converges is drawn on the family's panel (the same axes and picture as the family
    chart, whatever the rate); a diverging run leaves it and gets a panel around its own path."""
    values = DEFAULTS | {"dataset": dataset}
    fam = family.build(values, "lr")
    shared = fam.surface
    limit = runs.compute(values).lr_limit
    for lr in [v for v in controls.LR_GRID if v < 0.9 * limit][::4]:
        result = runs.compute(values | {"lr": lr})
        cols = list(shared.columns)
        assert _inside(result.history.params[:, cols], shared)  # checked apart from the code under test
        assert family.backdrop(result, shared) is shared
    diverging = runs.compute(values | {"lr": next(v for v in controls.LR_GRID if v > 1.5 * limit)})
    assert diverging.history.diverged
    assert not _inside(diverging.history.params[:, list(shared.columns)], shared)
    assert family.backdrop(diverging, shared) is diverging.surface
    assert family.backdrop(diverging, None) is diverging.surface


def test_a_run_just_off_the_family_panel_gets_its_own():
    result = runs.compute(DEFAULTS)
    shared = family.build(DEFAULTS, "lr").surface
    span = shared.a[-1] - shared.a[0]
    moved = dataclasses.replace(shared, a=shared.a - shared.a[0] + result.history.params[:, 0].min() + 0.01 * span)
    assert family.backdrop(result, moved) is result.surface
    assert family.backdrop(result, dataclasses.replace(shared, kind="curve", columns=(0,))) is result.surface


def test_a_run_brings_its_learning_rate_family_once():
    """family.run_with_family (the worker's task for a new run): the run as runs.compute makes it, and its
    learning-rate family (as family.build makes it) only the first time that family is asked for."""
    values = DEFAULTS | {"momentum": 0.37, "lr": 0.05}
    result, fam = family.run_with_family(values, data_id="test: once")
    np.testing.assert_array_equal(result.history.params, runs.compute(values).history.params)
    here = family.build(family.anchor(values, "lr"), "lr")
    np.testing.assert_array_equal(fam.sweep.params, here.sweep.params)
    assert fam.labels == here.labels
    assert family.run_with_family(values | {"lr": 0.2}, data_id="test: once")[1] is None  # handed out already
    other = family.run_with_family(values | {"momentum": 0.38}, data_id="test: once")[1]
    assert other is not None and float(other.sweep.momenta[0]) == pytest.approx(0.38)
    assert family.run_with_family(values, data_id="test: other data")[1] is not None
    assert family.run_with_family(values | {"optimizer": "adam"}, data_id="test: adam")[1] is None  # no family


@pytest.mark.parametrize("lo, hi", [(-0.55, 1.3), (-8.0, 3.0), (0.5, 0.6), (-3.2, -2.9), (-15.6, 1.3), (-30.0, 2.0)])
def test_log_ticks_stay_in_range_and_read_plainly(lo, hi):
    ticks = log_ticks(lo, hi)
    if "tickvals" not in ticks:
        assert ticks == {"tickformat": "~g"}
        return
    values = np.array(ticks["tickvals"])
    assert len(values) >= 2 and (np.log10(values) >= lo - 1e-12).all() and (np.log10(values) <= hi + 1e-12).all()
    mantissas = {round(v / 10 ** np.floor(np.log10(v) + 1e-12)) for v in values}
    assert mantissas <= {1, 2, 5} and (hi - lo <= 5 or mantissas == {1})
    assert ticks["ticktext"] == [f"{v:g}" for v in values]
    assert len(values) <= 8 or mantissas != {1}  # zero noise: 16 decades, not 17 labels (every second power)
    if mantissas == {1}:
        gaps = np.diff(np.round(np.log10(values)))
        assert len(set(gaps)) == 1  # evenly spaced powers of ten


def test_one_epoch_reads_as_one_step():
    fam, spec = _figure(DEFAULTS | {"epochs": 1}, "lr")
    assert "after 1 step," in fam.labels[fam.active], fam.labels[fam.active]
    loss_axis = spec["layout"][spec["data"][-1]["xaxis"].replace("x", "xaxis")]
    assert loss_axis["dtick"] == 1 and loss_axis["range"][1] >= 1


@pytest.mark.parametrize("epochs", [1, 2])
def test_runs_on_their_way_up_leave_the_loss_axis_through_the_top(epochs):
    """With one or two epochs the fastest rates jump far up (3,800 and 877,000 from 15.8 here) before they count as
    diverged: the loss axis covers the runs that come down, so those do not squeeze the others into its bottom."""
    fam, spec = _figure(DEFAULTS | {"epochs": epochs}, "lr")
    loss_axis = spec["layout"][spec["data"][-1]["yaxis"].replace("y", "yaxis")]
    lo, hi = loss_axis["range"]
    start, final = fam.sweep.loss[0, 0], fam.sweep.loss[-1]
    assert not fam.sweep.diverged.any() and final.max() > 100 * start  # the case: up, and not called diverged
    assert np.log10(start) < hi < np.log10(start) + 0.5
    down = final <= start
    assert lo <= np.log10(final[down].min()) and np.log10(final[~down].max()) > hi
    _, _, loss = _frame(spec, "learning rate 0.1")  # the page's own run is inside the axis at every step
    assert (np.log10(_arr(loss["y"])) >= lo).all() and (np.log10(_arr(loss["y"])) <= hi).all()


def test_the_panel_is_around_the_runs_that_come_down_not_one_on_its_way_up():
    """Plain SGD on the default data: lr 1 is just above the stability limit (0.949) and grows for 60 steps
    without counting as diverged. The family's loss panel (which the main figure shares) is the box around the
    paths of the rates below the limit and the optimum, with loss_surface's 15 % margin on each side; that run
    leaves through its edge and the main figure draws it on a panel of its own. (It stretched the panel to 10x.)"""
    values = DEFAULTS | {"momentum": 0.0}
    fam = family.build(values, "lr")
    sw, s = fam.sweep, fam.surface
    limit = runs.compute(values).lr_limit
    up = (sw.lrs > limit) & ~sw.diverged
    assert up.any() and (sw.loss[-1, up] > 100 * sw.loss[0, up]).all()  # the case: growing, not called diverged
    cols = list(s.columns)
    below = sw.params[:, sw.lrs < limit][..., cols].reshape(-1, len(cols))  # by the closed-form limit
    points = np.vstack([below, s.optimum[None, :]])
    for axis, lo, hi in zip((s.a, s.b), points.min(0), points.max(0), strict=True):
        assert axis[0] <= lo and hi <= axis[-1]
        assert axis[-1] - axis[0] <= 1.3 * (hi - lo) * (1 + 1e-9)
    off = runs.compute(values | {"lr": float(sw.lrs[up][0])})
    assert not _inside(off.history.params[:, cols], s)
    assert family.backdrop(off, s) is off.surface
