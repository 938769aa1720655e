"""charts.spec: figures built as plain Plotly JSON must be what plotly.py itself would build and accept.

The reference is plotly.py: make_subplots for the layout, go.Figure's full validation for every property of every
trace and frame, and st.plotly_chart's own conversion for the Prebuilt carrier. The banded surface picture is
checked against a direct per-pixel colour interpolation.
"""

import base64
import html
import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import plotly.tools
import pytest
from plotly.subplots import make_subplots

import charts
import engine
from charts import raster
from charts.spec import Grid, Prebuilt, trace
from compute import runs
from settings import controls

CASES = {
    "defaults": {},
    "diverged": {"lr": 2.0},
    "plane": {"dataset": "plane"},
    "single-point": {"dataset": "single-point"},
    "mini-batch": {"batch": "mini-batch", "batch_size": 4},
    "no bias": {"fit_bias": False},
}


def _layout_of_make_subplots(three_d: bool) -> dict:
    fig = make_subplots(
        rows=2,
        cols=2,
        specs=[[{"type": "scene" if three_d else "xy"}, {"type": "xy"}], [{"type": "xy", "colspan": 2}, None]],
        row_heights=[0.64, 0.36],
        column_widths=[0.5, 0.5],
        vertical_spacing=0.11,
        horizontal_spacing=0.09,
        subplot_titles=("A", "B", "C"),
    )
    return fig.to_dict()["layout"]


@pytest.mark.parametrize("three_d", [False, True])
def test_grid_lays_out_subplots_as_make_subplots_does(three_d):
    grid = Grid(
        rows=2,
        cols=2,
        cells={(1, 1): ("scene" if three_d else "xy", 1), (1, 2): ("xy", 1), (2, 1): ("xy", 2)},
        row_heights=[0.64, 0.36],
        column_widths=[0.5, 0.5],
        titles={(1, 1): "A", (1, 2): "B", (2, 1): "C"},
    )
    ours, theirs = grid.figure()["layout"], _layout_of_make_subplots(three_d)
    axes = [k for k in theirs if k.startswith(("xaxis", "yaxis", "scene"))]
    assert sorted(axes) == sorted(k for k in ours if k.startswith(("xaxis", "yaxis", "scene")))
    for key in axes:
        if "anchor" in theirs[key]:
            assert ours[key]["anchor"] == theirs[key]["anchor"], key
        want = theirs[key]["domain"]
        # a cartesian axis' domain is one [start, end] list; a 3-D scene's is a dict of them, {"x": [...], "y": [...]}
        want = want if isinstance(want, dict) else {"": want}
        got = ours[key]["domain"] if isinstance(ours[key]["domain"], dict) else {"": ours[key]["domain"]}
        assert sorted(got) == sorted(want), key
        for side in want:
            assert got[side] == pytest.approx(want[side]), (key, side)
    got = sorted((a["text"], a["x"], a["y"]) for a in ours["annotations"])
    want = sorted((a["text"], a["x"], a["y"]) for a in theirs["annotations"])
    assert [g[0] for g in got] == [w[0] for w in want]
    assert np.allclose([g[1:] for g in got], [w[1:] for w in want])
    # traces land on the same axes make_subplots would give them
    assert grid.refs(2, 1) == ({"xaxis": "x2", "yaxis": "y2"} if three_d else {"xaxis": "x3", "yaxis": "y3"})


@pytest.mark.parametrize("case", CASES)
def test_playground_json_passes_plotly_validation(case):
    """go.Figure(spec) validates every property of the data, the layout and every frame: a typo, a wrong value
    type or an unknown property raises. The validated figure's JSON carries the same numbers."""
    r = runs.compute(controls.defaults() | CASES[case])
    spec = charts.playground_figure(r.dataset, r.history, r.surface, r.optimum, r.fit_bias)
    validated = go.Figure(spec)  # raises ValueError on anything plotly.py would not accept
    assert len(validated.frames) == len(spec["frames"]) > 1
    again = json.loads(pio.to_json(validated, validate=False))
    assert len(again["data"]) == len(spec["data"])
    for ours, theirs in zip(spec["data"], again["data"], strict=True):
        assert ours["type"] == theirs["type"]
        for key in ("x", "y", "z"):
            if isinstance(ours.get(key), dict):
                assert theirs[key]["bdata"] == ours[key]["bdata"]


@pytest.mark.parametrize("case", CASES)
def test_the_still_panels_alone_pass_plotly_validation_and_draw_the_last_step(case):
    """charts.still_panel draws one panel of the three-panel figure on axes of its own, with no frames (the
    step-by-step lab's three charts): plotly.py accepts each, the three hold the figure's traces, and the moving ones
    show the last step."""
    r = runs.compute(controls.defaults() | CASES[case])
    h = r.history
    whole = charts.playground_figure(r.dataset, h, r.surface, r.optimum, r.fit_bias)
    parts = [charts.still_panel(n, r.dataset, h, r.surface, r.optimum, r.fit_bias) for n in ("data", "surface", "loss")]
    for part in parts:
        go.Figure(part)
        assert "frames" not in part and "sliders" not in part["layout"]
        assert {t.get("xaxis", "x") for t in part["data"] if "scene" not in t} <= {"x"}
        assert len(part["layout"]["annotations"]) == 1  # its title
    names = [t.get("name") for part in parts for t in part["data"]]
    assert names == [t.get("name") for t in whole["data"]]
    if r.dataset.d == 1 and not h.diverged:  # the model's line at the last step: w x + b, from the run's parameters
        model = next(t for t in parts[0]["data"] if t["name"] == "model now")
        xs = np.frombuffer(base64.b64decode(model["x"]["bdata"]), "<f4")
        ys = np.frombuffer(base64.b64decode(model["y"]["bdata"]), "<f4")
        w, b = h.params[-1][0], (h.params[-1][1] if r.fit_bias else 0.0)
        np.testing.assert_allclose(ys, w * xs + b, rtol=1e-4, atol=1e-4)


def test_prebuilt_reaches_streamlit_unchanged():
    """st.plotly_chart converts figures with plotly.tools.return_figure_from_figure_or_data: the carrier must hand
    over its JSON as is (no deep copy, no re-validation), and the JSON text must equal plotly.py's own."""
    r = runs.compute(controls.defaults())
    spec = charts.playground_figure(r.dataset, r.history, r.surface, r.optimum, r.fit_bias)
    assert plotly.tools.return_figure_from_figure_or_data(Prebuilt(spec), validate_figure=True) is spec
    assert pio.to_json(Prebuilt(spec).to_dict(), validate=False) == pio.to_json(spec, validate=False)


def test_trace_packs_arrays_as_float32():
    t = trace("scatter", x=np.array([0.5, 1.5]), y=[1, 2], mode="lines")
    assert t["type"] == "scatter" and t["y"] == [1, 2] and t["mode"] == "lines"
    assert np.frombuffer(__import__("base64").b64decode(t["x"]["bdata"]), "<f4").tolist() == [0.5, 1.5]


def _reference_banded_rgb(z, bands, lo, hi):
    """Each pixel's colour interpolated from the stops on its own (the picture's definition, pixel by pixel)."""
    t = np.clip((z - lo) / (hi - lo), 0.0, 1.0)
    band = np.minimum((t * bands).astype(int), bands - 1)
    u = (band + 0.5) / bands * (len(raster._STOPS) - 1)
    i = np.minimum(u.astype(int), len(raster._STOPS) - 2)
    frac = (u - i)[..., None]
    rgb = raster._STOPS[i] * (1 - frac) + raster._STOPS[i + 1] * frac
    edge = np.zeros(band.shape, dtype=bool)
    edge[1:, :] |= band[1:, :] != band[:-1, :]
    edge[:, 1:] |= band[:, 1:] != band[:, :-1]
    rgb[edge] *= 0.78
    return rgb.astype(np.uint8)


@pytest.mark.parametrize("bands", [5, 24])
def test_banded_picture_matches_pixel_by_pixel_colours(bands):
    z = np.random.default_rng(3).normal(size=(30, 40)).cumsum(axis=0)
    lo, hi = float(z.min()), float(z.max())
    assert np.array_equal(raster.banded_rgb(z, bands, lo, hi), _reference_banded_rgb(z, bands, lo, hi))


@pytest.mark.parametrize("d", [1, 2])
def test_column_names_reach_the_figure_as_text_not_html(d):
    """Learners' column names become axis titles; Plotly renders tags such as <b> or <a href> in titles, so the
    names must arrive escaped, in the 2-D axes and in the 3-D scene alike."""
    hostile = ['<a href="javascript:alert(1)">x</a>', "<b>y & z</b>", "<img src=x onerror=alert(1)>"]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, d))
    ds = engine.dataset_from_arrays(x, x @ np.ones(d) + 1.0, feature_names=hostile[:d], target_name=hostile[2])
    h = engine.train(ds, engine.TrainConfig(lr=0.1, epochs=5))
    spec = charts.playground_figure(ds, h, engine.loss_surface(ds, path=h.params), engine.least_squares(ds))
    titles = json.dumps(spec["layout"], ensure_ascii=False)
    for name in hostile[:d] + hostile[2:]:
        assert json.dumps(name)[1:-1] not in titles  # not as it came
        assert json.dumps(html.escape(name, quote=False))[1:-1] in titles  # but as text


def test_a_surface_picture_is_drawn_once_per_field():
    """The same loss panel comes back (as another copy of the array) for every learning rate of a family: its
    picture is reused by content, and a different field gets its own picture."""
    a, b = np.linspace(-1, 1, 30), np.linspace(0, 2, 20)
    z = np.add.outer(b**2, a**2) + 0.1
    first = raster.surface_image(a, b, z, "x", "y")
    hits = raster._picture.cache_info().hits
    again = raster.surface_image(a, b, z.copy(), "x2", "y2")
    assert raster._picture.cache_info().hits == hits + 1
    assert again["source"] == first["source"] and (again["xref"], again["yref"]) == ("x2", "y2")
    other = raster.surface_image(a, b, z * 2 + 1e-3 * np.outer(b, a), "x", "y")
    assert other["source"] != first["source"]
    lo, hi = float(z.min()), float(z.max())  # and the picture is still the uncached one, pixel for pixel
    assert first["source"] == raster.png_indexed_uri(*raster.banded_indices(raster.upsample(z, 8)[::-1], 24, lo, hi))
