"""The Explorer's figure builders: which traces they draw, what values those hold, how the frames move, and that
the JSON a browser receives stays small."""

import base64
import json
import math

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

import charts
import engine
from charts.common import packed
from charts.race import RACE_FRAMES
from compute import explore
from engine.sweep import DIVERGES
from settings import controls

MAX_JSON = 600_000  # bytes: what one figure may cost a classroom's network


def _values(**changes) -> dict:
    return controls.defaults() | changes


def _array(v) -> np.ndarray:
    """A trace's data as numpy, whether plotly holds it as an array, a list or a typed-array spec."""
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"])).astype(np.float64)
    return np.asarray(v, dtype=np.float64)


def _json_size(fig: go.Figure) -> int:
    return len(pio.to_json(fig, validate=False))


def _by_name(fig: go.Figure, start: str) -> list:
    return [t for t in fig.data if (t.name or "").startswith(start)]


def test_packed_round_trips_float32():
    values = np.array([1.5, -2.25, 1e-3, 7.0])
    np.testing.assert_array_equal(_array(packed(values)), values.astype(np.float32))


# ----------------------------------------------------------------------------------------------------------------
# learning-rate sweep
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["line", "thermometer"])
def test_sweep_figure_plots_every_run_against_its_learning_rate(name):
    sweep, stab = explore.lr_sweep(_values(dataset=name))
    fig = charts.sweep_figure(sweep, stab)
    assert not fig.frames
    final = _by_name(fig, "final loss")[0]
    ok = ~sweep.diverged
    np.testing.assert_allclose(_array(final.x), sweep.lrs[ok])
    np.testing.assert_allclose(_array(final.y), np.maximum(sweep.final_loss[ok], 1e-300), rtol=1e-12)
    diverged = _by_name(fig, "diverged")[0]
    assert len(diverged.x) == int(sweep.diverged.sum()) > 0
    np.testing.assert_array_equal(diverged.customdata, sweep.diverged_at[sweep.diverged])
    reach = sweep.steps_to(0.01)
    steps = _by_name(fig, "steps to within")[0]
    np.testing.assert_allclose(_array(steps.x), sweep.lrs[reach >= 0])
    np.testing.assert_allclose(_array(steps.y), np.maximum(reach[reach >= 0], 0.5))
    slow = _by_name(fig, "not within")[0]
    assert len(slow.x) == int(((reach < 0) & ok).sum())
    for start, value in (("limit 2/λmax", stab.max_stable_lr), ("best 2/(λmin+λmax)", stab.best_lr)):
        lines = _by_name(fig, start)
        assert len(lines) == 2  # across both panels
        assert all(list(t.x) == [value, value] for t in lines)
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"
    assert _json_size(fig) < MAX_JSON
    # both value axes label plain numbers (1, 2, 5 a decade or powers of ten), not plotly's crowded minor labels,
    # inside their ranges, and the plotted values lie within those ranges
    for axis, trace in ((fig.layout.yaxis, final), (fig.layout.yaxis2, steps)):
        lo, hi = axis.range
        ticks = np.log10(np.asarray(axis.tickvals, dtype=np.float64))
        assert 2 <= len(ticks) <= 15 and lo <= ticks.min() and ticks.max() <= hi
        assert list(axis.ticktext) == [f"{v:g}" for v in axis.tickvals]
        values = np.log10(_array(trace.y))
        assert lo <= values.min() and values.max() <= hi


# ----------------------------------------------------------------------------------------------------------------
# momentum map
# ----------------------------------------------------------------------------------------------------------------


def _steps_per_tenfold(rate: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.where(rate < 1, np.log(0.1) / (2 * np.log(rate)), np.nan)


@pytest.mark.parametrize("name", ["line", "thermometer"])
def test_momentum_map_figure_colours_cells_by_speed_and_marks_the_regions(name):
    m = explore.momentum_map(_values(dataset=name))
    figs = [charts.momentum_map_figure(m, panel) for panel in charts.MAP_PANELS]
    heat = [t for fig in figs for t in fig.data if t.type == "heatmap"]
    assert [t.name for t in heat] == ["measured", "theory"]
    zmax = figs[0].layout.coloraxis.cmax
    assert figs[1].layout.coloraxis.cmax == zmax  # one colour scale for both
    for trace, rates in zip(heat, (m.measured, m.theory), strict=True):
        z = np.array(trace.z, dtype=np.float64)
        assert z.shape == (len(m.momenta), len(m.lrs))
        expected = np.minimum(np.log10(np.maximum(_steps_per_tenfold(rates), 1.0)), zmax)
        np.testing.assert_allclose(z, expected, rtol=1e-9, equal_nan=True)
        assert np.isnan(z[m.regions == DIVERGES]).all() or trace.name == "measured"
        np.testing.assert_allclose(trace.x, m.lrs)
        np.testing.assert_allclose(trace.y, m.momenta)
    stars = [star for fig in figs for star in _by_name(fig, "best pair")]
    assert len(stars) == 2
    for star in stars:
        assert star.x[0] == pytest.approx(m.stability.best_momentum_lr)
        assert star.y[0] == pytest.approx(m.stability.best_momentum)
    limit = _by_name(figs[1], "stability limit")[0]
    np.testing.assert_allclose(np.array(limit.x), (2 + 2 * np.array(limit.y)) / m.stability.eigenvalues[-1])
    labels = {
        s.replace("<b>", "").replace("</b>", "")
        for t in figs[0].data
        if t.type == "scatter" and t.mode == "text"
        for s in t.text
    }
    assert {"monotone", "diverges"} <= labels
    # the legend once, on the measured panel
    assert _by_name(figs[0], "best pair")[0].showlegend is not False
    assert _by_name(figs[1], "best pair")[0].showlegend is False
    assert all(_json_size(fig) < MAX_JSON for fig in figs)
    with pytest.raises(ValueError):
        charts.momentum_map_figure(m, "both")


# ----------------------------------------------------------------------------------------------------------------
# feature scaling
# ----------------------------------------------------------------------------------------------------------------


def test_each_scaling_figure_draws_its_surface_at_equal_scale_with_its_path():
    cases = explore.scaling("thermometer", 0.01)
    for case in cases:
        fig = charts.scaling_figure(case)
        assert len(fig.layout.images) == 1 and not fig.frames
        (path,) = [t for t in fig.data if t.name == "gradient descent at the best learning rate"]
        full = case.best.params[:, 0, :]
        x, y = _array(path.x), _array(path.y)
        assert len(x) <= 400 + 1
        np.testing.assert_allclose([x[0], y[0]], full[0], rtol=1e-6)  # from the common start
        np.testing.assert_allclose([x[-1], y[-1]], full[-1], rtol=1e-6)
        assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.scaleratio == 1
        assert _json_size(fig) < MAX_JSON
    with pytest.raises(ValueError, match="surface"):
        (single,) = engine.compare_scalings({"raw": engine.make_dataset("single-point")}, False, (1.0,))
        charts.scaling_figure(single)


# ----------------------------------------------------------------------------------------------------------------
# the race player's data (optimizer race and mini-batch noise)
# ----------------------------------------------------------------------------------------------------------------


def _shaped(v: dict) -> np.ndarray:
    """A packed array of a player's payload, in its shape."""
    return _array(v).reshape([int(n) for n in v["shape"].split(",")])


def _player_arrays(payload: dict) -> tuple[np.ndarray, np.ndarray]:
    return _shaped(payload["pos"]), _shaped(payload["loss"])


@pytest.mark.parametrize("name", ["line", "plane", "single-point"])
def test_the_race_player_moves_every_racer_together(name):
    result = explore.race(_values(dataset=name, epochs=100), tuned=False)
    tracks = explore.race_tracks(result)
    payload = explore.race_player(result)
    pos, loss = _player_arrays(payload)
    k, frames = len(tracks), len(payload["times"])
    assert k == len(engine.RACERS) == 6 and [t["name"] for t in payload["tracks"]] == [t.name for t in tracks]
    assert 2 <= frames <= RACE_FRAMES and pos.shape == (k, frames, 2) and loss.shape == (k, frames)
    cols = list(result.surface.columns)
    for index in (0, -1):  # every racer at its first and last recorded step, drawn where the engine put it
        assert payload["times"][index] == tracks[0].time[index]
        for j, t in enumerate(tracks):
            expected = (
                (t.params[index, cols[0]], t.loss[index]) if result.surface.kind == "curve" else t.params[index, cols]
            )
            np.testing.assert_allclose(pos[j, index], expected, rtol=1e-5, atol=1e-6)
            assert loss[j, index] == pytest.approx(max(t.loss[index], 1e-300), rel=1e-6)
    # the loss axis labels plain numbers inside its range, and every racer's loss curve starts inside it
    lo, hi = payload["loss_range"]
    ticks = payload["loss_ticks"]
    assert ticks["ticktext"] == [f"{v:g}" for v in ticks["tickvals"]] and len(ticks["tickvals"]) >= 2
    assert all(lo <= np.log10(v) <= hi for v in ticks["tickvals"])
    assert all(lo <= np.log10(t.loss[0]) <= hi for t in tracks)
    assert payload["summary"].startswith("6 optimizers from one start, 100 steps")
    assert len(json.dumps(payload)) < MAX_JSON


def test_the_race_player_stays_small_for_long_runs():
    result = explore.race(_values(dataset="plane", epochs=5000), tuned=False)
    assert result.shortened_from == 5000 and result.histories[0].steps == explore.RACE_MAX_STEPS
    payload = explore.race_player(result)
    assert len(payload["times"]) <= RACE_FRAMES
    size = len(json.dumps(payload))
    assert size < MAX_JSON, f"{size:,} bytes"


def test_the_noise_runs_line_up_by_epoch_with_bands_and_ghosts():
    result = explore.batch_noise(_values(dataset="line", epochs=20, batch_size=4))
    tracks, ghosts, bands = explore.noise_tracks(result)
    assert [t.name for t in tracks] == ["batch size 1", "batch size 4", "full batch"]
    assert len(ghosts) == 2 * (explore.NOISE_SEEDS - 1) and len(bands) == 2
    payload = explore.noise_player(result)
    n = result.dataset.n
    assert tracks[0].time[-1] == pytest.approx(20.0) and tracks[0].time[1] == pytest.approx(1 / n)
    assert tracks[2].time[-1] == pytest.approx(20.0) and len(tracks[2].time) == 21
    assert len(payload["bands"]) == 2 and len(payload["ghosts"]) == len(ghosts)
    np.testing.assert_allclose(
        _array(payload["bands"][0]["high"]), np.maximum(result.groups[0].high, 1e-300), rtol=1e-6
    )
    # every frame puts each batch size at the same epoch: the full batch (one step an epoch) at the last epoch
    # at or before the frame's time
    times = np.asarray(payload["times"])
    pos, _ = _player_arrays(payload)
    full = tracks[2]
    for f in range(0, len(times), max(1, len(times) // 7)):
        step = int(np.floor(times[f] + 1e-9))
        np.testing.assert_allclose(pos[2, f], full.params[step, list(result.surface.columns)], rtol=1e-5, atol=1e-6)
    assert math.isclose(times[-1], 20.0) and payload["time_title"] == "epoch"
    assert len(json.dumps(payload)) < MAX_JSON


def test_the_race_player_needs_a_run():
    surface = engine.loss_surface(engine.make_dataset("line"))
    with pytest.raises(ValueError, match="at least one run"):
        charts.race_payload(surface, [], "a race", "nothing")
