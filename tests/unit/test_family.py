"""The families of runs behind the live figure's sliders (compute.family): which settings share one family, which runs
have none, their words, and the panel around them. (Every run against references: test_live.py.)"""

import numpy as np
import pytest

from charts.common import log_ticks
from compute import family, live, runs
from settings import controls

DEFAULTS = controls.defaults()


def _xy(values: dict):
    raw, ds = runs.build_dataset(values)
    return ds.x.double().numpy(), ds.y.double().numpy()


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
    fam = family.build(DEFAULTS | {"epochs": 1}, "lr")
    assert "after 1 step," in fam.labels[fam.active], fam.labels[fam.active]


def test_the_panel_is_around_the_runs_that_come_down_not_one_on_its_way_up():
    """Plain SGD on the default data: lr 1 is just above the stability limit (0.949) and grows for 60 steps
    without counting as diverged. The live figure's loss panel, around the learning-rate family, is the box around
    the paths of the rates below the limit and the optimum, with loss_surface's 15 % margin on each side; that run
    leaves through its edge. (It stretched the panel to 10x.)"""
    values = DEFAULTS | {"momentum": 0.0}
    fam, result = family.build(values, "lr"), runs.compute(values)
    sw, s = fam.sweep, live.surface_for(result, [fam])
    limit = result.lr_limit
    up = (sw.lrs > limit) & ~sw.diverged
    assert up.any() and (sw.loss[-1, up] > 100 * sw.loss[0, up]).all()  # the case: growing, not called diverged
    cols = list(s.columns)
    below = sw.params[:, sw.lrs < limit][..., cols].reshape(-1, len(cols))  # by the closed-form limit
    points = np.vstack([below, s.optimum[None, :]])
    for axis, lo, hi in zip((s.a, s.b), points.min(0), points.max(0), strict=True):
        assert axis[0] <= lo and hi <= axis[-1]
        assert axis[-1] - axis[0] <= 1.3 * (hi - lo) * (1 + 1e-9)
    off = sw.params[:, np.flatnonzero(up)[0]][:, cols]
    assert (off.min(0) < [s.a[0], s.b[0]]).any() or (off.max(0) > [s.a[-1], s.b[-1]]).any()  # it leaves the panel
