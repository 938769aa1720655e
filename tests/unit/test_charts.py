"""charts.playground_figure, read back from the JSON the browser gets: frame sampling, which traces move, every
frame's numbers against the model at that step (numpy), finiteness after a divergence, size caps, the PNG surface
picture; and the frame/trail samplers of charts.common."""

import base64
import json
import struct
import zlib

import numpy as np
import plotly.io as pio
import pytest

import charts
from charts import raster
from charts.common import MAX_FRAMES, frame_steps, trail_indices
from compute import runs
from settings import controls

from .references import design, np_lstsq

DEFAULTS = controls.defaults()

CASES = {
    "defaults": {},
    "diverged": {"lr": 2.0},
    "plane": {"dataset": "plane"},
    "single-point": {"dataset": "single-point"},
    "long": {"epochs": 5000, "method": "analytic"},  # 5000 full-batch steps
    # the largest run the controls allow: 2000 points, 20 mini-batches x 1000 epochs = MAX_STEPS
    "largest": {"n": 2000, "batch": "mini-batch", "batch_size": 100, "epochs": 1000, "method": "analytic"},
    "largest-plane": {
        "dataset": "plane",
        "n": 2000,
        "batch": "mini-batch",
        "batch_size": 100,
        "epochs": 1000,
        "method": "analytic",
    },
}
_BUILT: dict = {}


def _no_constants(token: str):
    raise AssertionError(f"the figure's JSON holds {token}")


def _built(case: str):
    """(result, figure, JSON text, parsed JSON) for one case, built once per test session."""
    if case not in _BUILT:
        result = runs.compute(DEFAULTS | CASES[case])
        fig = charts.playground_figure(result.dataset, result.history, result.surface, result.optimum, result.fit_bias)
        text = pio.to_json(fig, validate=False)
        _BUILT[case] = (result, fig, text, json.loads(text, parse_constant=_no_constants))
    return _BUILT[case]


def _arr(value) -> np.ndarray:
    """A JSON array as numpy: plain lists, or Plotly's base64 typed arrays {"dtype", "bdata", "shape"}."""
    if isinstance(value, dict):
        assert set(value) <= {"dtype", "bdata", "shape"}, value.keys()
        out = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]).newbyteorder("<"))
        if "shape" in value:
            shape = value["shape"]
            shape = [int(s) for s in shape.split(",")] if isinstance(shape, str) else list(shape)
            out = out.reshape(shape)
        return out.astype(np.float64)
    return np.asarray(value, dtype=np.float64)


def _typed_arrays(obj):
    """Every base64 typed array anywhere in a JSON tree, decoded."""
    if isinstance(obj, dict):
        if "bdata" in obj:
            yield _arr(obj)
            return
        for v in obj.values():
            yield from _typed_arrays(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _typed_arrays(v)


def _numbers(obj):
    """Every plain JSON number anywhere in a tree."""
    if isinstance(obj, dict):
        if "bdata" not in obj:
            for v in obj.values():
                yield from _numbers(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _numbers(v)
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield obj


def _trace_index(spec, name: str, axis: str | None = None) -> int:
    """Index in data of the trace with this name (and x axis, or scene, when names repeat)."""
    found = [
        i
        for i, t in enumerate(spec["data"])
        if t.get("name") == name and (axis is None or t.get("xaxis", t.get("scene")) == axis)
    ]
    assert len(found) == 1, (name, axis, found)
    return found[0]


def _frame_trace(spec, frame, name: str, axis: str | None = None) -> dict:
    return frame["data"][frame["traces"].index(_trace_index(spec, name, axis))]


def _xy_raw(result):
    return result.raw.x.double().numpy(), result.raw.y.double().numpy()


def _np_loss(result, params) -> np.ndarray:
    """MSE of the trained-on data at each parameter row, in float64 numpy."""
    big_x = design(result.dataset.x.double().numpy(), result.fit_bias)
    y = result.dataset.y.double().numpy()
    params = np.atleast_2d(params)
    return np.mean((params @ big_x.T - y) ** 2, axis=1)


def _padded(lo: float, hi: float, frac: float = 0.08) -> list[float]:
    span = hi - lo if hi > lo else max(abs(lo), 1.0)  # one point: a margin of 8 % of its size
    return [lo - frac * span, hi + frac * span]


def _surface_axes(spec) -> tuple[str, str]:
    t = spec["data"][_trace_index(spec, "path")]
    return t["xaxis"], t["yaxis"]


def _layout_axis(spec, ref: str) -> dict:
    """layout["xaxis2"] for "x2", layout["yaxis"] for "y"."""
    return spec["layout"][ref[0] + "axis" + ref[1:]]


# ----------------------------------------------------------------------------------------------------
# frames: which steps, which traces
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(CASES))
def test_frames_sample_the_run_with_first_last_and_blow_up(case):
    result, fig, _, spec = _built(case)
    h = result.history
    steps = [int(f["name"]) for f in spec["frames"]]
    assert 2 <= len(steps) <= MAX_FRAMES
    assert steps == sorted(set(steps))
    assert steps[0] == 0 and steps[-1] == h.steps
    if h.diverged and h.diverged_at <= h.steps:  # (a blow-up to inf/nan is cut off before its step)
        assert h.diverged_at in steps
    if h.steps + 1 <= MAX_FRAMES:
        assert steps == list(range(h.steps + 1))
    else:
        assert len(steps) == MAX_FRAMES
        assert max(np.diff(steps)) <= 2 * h.steps / (MAX_FRAMES - 1) + 2  # spread over the whole run
    # the step slider animates to each frame by name, in order
    slider = spec["layout"]["sliders"][0]["steps"]
    assert [s["args"][0] for s in slider] == [[f["name"]] for f in spec["frames"]]
    assert [s["label"].split(" ")[0] for s in slider] == [str(s) for s in steps]
    play = spec["layout"]["updatemenus"][0]["buttons"][0]
    assert play["method"] == "animate" and play["args"][0] is None


def test_case_sizes_are_what_they_claim():
    assert _built("defaults")[0].history.steps == 60
    assert _built("long")[0].history.steps == 5000
    largest = _built("largest")[0]
    assert largest.history.steps == 20_000 == controls.engine.MAX_STEPS
    assert largest.dataset.n == controls.MAX_UI_POINTS
    assert _built("diverged")[0].history.diverged
    assert _built("single-point")[0].surface.kind == "curve"


MOVING = {
    "line": [("model now", "x"), ("path", "x2"), ("now", "x2"), ("now", "x3")],
    "plane": [("least squares", "scene"), ("model now", "scene"), ("path", "x"), ("now", "x"), ("now", "x2")],
}
STATIC = {
    "line": [("data", "x"), ("least squares", "x"), ("true line", "x"), ("loss", "x3")],
    "plane": [("data", "scene"), ("loss", "x2"), ("least squares", "x"), ("start", "x")],
}


@pytest.mark.parametrize("case", list(CASES))
def test_frames_carry_only_the_moving_traces_and_all_the_same(case):
    result, _, _, spec = _built(case)
    kind = "plane" if result.dataset.d == 2 else "line"
    moving = sorted(_trace_index(spec, n, a) for n, a in MOVING[kind])
    traces = spec["frames"][0]["traces"]
    assert sorted(traces) == moving
    for frame in spec["frames"]:
        assert frame["traces"] == traces
        assert len(frame["data"]) == len(traces)
        for j, index in enumerate(traces):
            assert frame["data"][j]["type"] == spec["data"][index]["type"]
    for name, axis in STATIC[kind]:
        assert _trace_index(spec, name, axis) not in traces


# ----------------------------------------------------------------------------------------------------
# frames: the numbers are the model at that step
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["defaults", "diverged", "single-point", "long", "largest"])
def test_fitted_line_in_each_frame_is_the_model_at_that_step(case):
    result, _, _, spec = _built(case)
    x, _ = _xy_raw(result)
    ends = _padded(float(x.min()), float(x.max()))
    for frame in spec["frames"]:
        step = int(frame["name"])
        p = result.history.params[step]
        w, b = p[0], (p[1] if result.fit_bias else 0.0)
        t = _frame_trace(spec, frame, "model now", "x")
        fx, fy = _arr(t["x"]), _arr(t["y"])
        np.testing.assert_allclose(fx, ends, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(fy, w * fx + b, rtol=1e-5, atol=1e-5 * max(1.0, abs(w), abs(b)))


def _is_subsequence(points: np.ndarray, rows: np.ndarray) -> bool:
    """Whether each point matches (to float32 rounding) a later row than the point before it did."""
    j = 0
    for p in points:
        while j < len(rows) and not np.allclose(p, rows[j], rtol=1e-6, atol=1e-6):
            j += 1
        if j == len(rows):
            return False
        j += 1
    return True


@pytest.mark.parametrize("case", ["defaults", "diverged", "plane", "long", "largest", "largest-plane"])
def test_path_and_current_point_in_each_frame(case):
    result, _, _, spec = _built(case)
    params = result.history.params
    frame_params = params[[int(f["name"]) for f in spec["frames"]]]
    surface_axis = _surface_axes(spec)[0]
    for k, frame in enumerate(spec["frames"]):
        step = int(frame["name"])
        now = _frame_trace(spec, frame, "now", surface_axis)
        np.testing.assert_allclose([_arr(now["x"])[0], _arr(now["y"])[0]], params[step][:2], rtol=1e-6, atol=1e-6)
        path = _frame_trace(spec, frame, "path")
        px, py = _arr(path["x"]), _arr(path["y"])
        assert len(px) == len(py) <= 60
        np.testing.assert_allclose([px[0], py[0]], params[0][:2], rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose([px[-1], py[-1]], params[step][:2], rtol=1e-6, atol=1e-6)
        # the path is a subsequence of the frames' points up to this one, in order
        assert _is_subsequence(np.c_[px, py], frame_params[: k + 1, :2])


@pytest.mark.parametrize("case", list(CASES))
def test_loss_marker_and_loss_curve_are_the_mse_at_each_step(case):
    result, _, _, spec = _built(case)
    loss_axis = spec["data"][_trace_index(spec, "loss")]["xaxis"]
    for frame in spec["frames"]:
        step = int(frame["name"])
        marker = _frame_trace(spec, frame, "now", loss_axis)
        assert list(_arr(marker["x"])) == [step]
        expected = _np_loss(result, result.history.params[step])
        np.testing.assert_allclose(_arr(marker["y"]), expected, rtol=2e-5, atol=1e-12)
    curve = spec["data"][_trace_index(spec, "loss")]
    xs = _arr(curve["x"]).astype(int)
    assert xs[0] == 0 and xs[-1] == result.history.steps
    assert len(xs) <= 1_600
    assert np.all(np.diff(xs) > 0)
    np.testing.assert_allclose(_arr(curve["y"]), _np_loss(result, result.history.params[xs]), rtol=2e-5, atol=1e-12)


@pytest.mark.parametrize("case", list(CASES))
def test_the_loss_is_drawn_on_a_log_axis(case):
    _, _, _, spec = _built(case)
    trace = spec["data"][_trace_index(spec, "loss")]
    axis = _layout_axis(spec, trace["yaxis"])
    assert axis["type"] == "log"
    lo, hi = axis["range"]  # a log axis's range is in powers of ten
    values = _arr(trace["y"])
    assert lo <= np.log10(values.min()) and np.log10(values.max()) <= hi


def test_least_squares_and_true_lines_at_the_defaults():
    result, _, _, spec = _built("defaults")
    x, y = _xy_raw(result)
    w, b = np_lstsq(x, y)
    ls = spec["data"][_trace_index(spec, "least squares", "x")]
    np.testing.assert_allclose(_arr(ls["y"]), w * _arr(ls["x"]) + b, rtol=1e-5)
    true = spec["data"][_trace_index(spec, "true line", "x")]
    np.testing.assert_allclose(_arr(true["y"]), 2 * _arr(true["x"]) + 1, rtol=1e-5)
    data = spec["data"][_trace_index(spec, "data", "x")]
    np.testing.assert_allclose(_arr(data["x"]), x[:, 0], rtol=1e-6)
    np.testing.assert_allclose(_arr(data["y"]), y, rtol=1e-6)
    star = spec["data"][_trace_index(spec, "least squares", "x2")]
    np.testing.assert_allclose([_arr(star["x"])[0], _arr(star["y"])[0]], [w, b], rtol=1e-5)


def test_plane_frames_hold_the_fitted_and_least_squares_planes():
    result, _, _, spec = _built("plane")
    x, y = _xy_raw(result)
    opt = np_lstsq(x, y)
    r1, r2 = _padded(x[:, 0].min(), x[:, 0].max()), _padded(x[:, 1].min(), x[:, 1].max())
    for frame in spec["frames"]:
        p = result.history.params[int(frame["name"])]
        for name, q in (("model now", p), ("least squares", opt)):
            t = _frame_trace(spec, frame, name, "scene")
            g1, g2, z = _arr(t["x"]), _arr(t["y"]), _arr(t["z"])
            assert g1.shape == g2.shape == z.shape == (2, 2)
            np.testing.assert_allclose(sorted(set(g1.ravel())), r1, rtol=1e-6)
            np.testing.assert_allclose(sorted(set(g2.ravel())), r2, rtol=1e-6)
            np.testing.assert_allclose(z, q[0] * g1 + q[1] * g2 + q[2], rtol=1e-5, atol=1e-5)
    data = spec["data"][_trace_index(spec, "data", "scene")]
    np.testing.assert_allclose(np.c_[_arr(data["x"]), _arr(data["y"])], x, rtol=1e-6)
    np.testing.assert_allclose(_arr(data["z"]), y, rtol=1e-6)


def test_single_point_draws_the_loss_curve_over_w():
    result, _, _, spec = _built("single-point")
    assert result.surface.kind == "curve"
    assert "images" not in spec["layout"] or not spec["layout"]["images"]
    curve = spec["data"][_trace_index(spec, "loss L(w)")]
    a = _arr(curve["x"])
    np.testing.assert_allclose(_arr(curve["y"]), (2 * a - 4) ** 2, rtol=1e-5, atol=1e-6)  # one point x=2, y=4
    star = spec["data"][_trace_index(spec, "least squares", "x2")]
    np.testing.assert_allclose([_arr(star["x"])[0], _arr(star["y"])[0]], [2.0, 0.0], atol=1e-6)
    for frame in spec["frames"]:
        w = result.history.params[int(frame["name"])][0]
        now = _frame_trace(spec, frame, "now", "x2")
        np.testing.assert_allclose(_arr(now["x"]), [w], rtol=1e-6)
        np.testing.assert_allclose(_arr(now["y"]), [(2 * w - 4) ** 2], rtol=1e-5, atol=1e-9)
        path = _frame_trace(spec, frame, "path")
        px = _arr(path["x"])
        np.testing.assert_allclose(_arr(path["y"]), (2 * px - 4) ** 2, rtol=1e-5, atol=1e-9)


# ----------------------------------------------------------------------------------------------------
# the JSON: finite, bounded
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(CASES))
def test_no_nan_or_infinity_anywhere_in_the_json(case):
    _, _, _, spec = _built(case)  # json.loads (parse_constant) already refused NaN / Infinity tokens
    arrays = list(_typed_arrays(spec))
    assert len(arrays) > 10
    for a in arrays:
        assert np.isfinite(a).all()
    assert all(np.isfinite(v) for v in _numbers(spec))


def test_the_diverged_figure_ends_at_the_blow_up_and_keeps_finite_axes():
    result, _, _, spec = _built("diverged")
    h = result.history
    assert int(spec["frames"][-1]["name"]) == h.steps
    assert h.diverged_at == h.steps  # lr = 2 grows the loss past the cap while still finite: its step is drawn
    x_axis, y_axis = _surface_axes(spec)
    for ref in (x_axis, y_axis):
        lo, hi = _layout_axis(spec, ref)["range"]
        assert np.isfinite([lo, hi]).all() and lo < hi


@pytest.mark.parametrize("case, limit", [("defaults", 300_000), ("largest", 1_000_000), ("largest-plane", 1_000_000)])
def test_json_size(case, limit):
    _, _, text, spec = _built(case)
    assert len(text.encode()) < limit
    assert len(spec["frames"]) <= MAX_FRAMES


def test_a_long_run_costs_little_more_than_a_short_one():
    """Frames are capped and the loss curve thinned: 333x the steps, at most a few times the bytes."""
    short = len(_built("defaults")[2])
    assert len(_built("largest")[2]) < 5 * short


# ----------------------------------------------------------------------------------------------------
# the loss-surface picture
# ----------------------------------------------------------------------------------------------------


def _png(uri: str):
    prefix = "data:image/png;base64,"
    assert uri.startswith(prefix)
    data = base64.b64decode(uri[len(prefix) :], validate=True)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        tag, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(tag + body) & 0xFFFFFFFF, tag
        chunks.append((tag, body))
        pos += 12 + length
    assert pos == len(data)
    assert [t for t, _ in chunks][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, interlace) == (8, 0) and color in (2, 3)  # 8-bit RGB or palette indices, not interlaced
    channels = 3 if color == 2 else 1
    raw = zlib.decompress(b"".join(body for tag, body in chunks if tag == b"IDAT"))
    assert len(raw) == height * (1 + channels * width)
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(height, 1 + channels * width)
    assert (rows[:, 0] == 0).all()  # filter "none" on every row
    if color == 2:
        return rows[:, 1:].reshape(height, width, 3)
    plte = [body for tag, body in chunks if tag == b"PLTE"]
    assert len(plte) == 1 and len(plte[0]) % 3 == 0 and len(plte[0]) <= 3 * 256
    palette = np.frombuffer(plte[0], dtype=np.uint8).reshape(-1, 3)
    assert rows[:, 1:].max() < len(palette)  # every index names a colour of the palette
    return palette[rows[:, 1:]]


@pytest.mark.parametrize("case", ["defaults", "plane", "diverged"])
def test_surface_image_is_a_png_placed_over_the_surface_axes(case):
    result, _, _, spec = _built(case)
    images = spec["layout"]["images"]
    assert len(images) == 1
    image = images[0]
    rgb = _png(image["source"])
    s = result.surface
    assert rgb.shape[0] >= len(s.b) and rgb.shape[1] >= len(s.a)
    x_axis, y_axis = _surface_axes(spec)
    assert (image["xref"], image["yref"]) == (x_axis, y_axis)
    assert image["layer"] == "below" and image["sizing"] == "stretch"
    assert (image["xanchor"], image["yanchor"]) == ("left", "top")
    x_range, y_range = _layout_axis(spec, x_axis)["range"], _layout_axis(spec, y_axis)["range"]
    assert image["x"] == pytest.approx(x_range[0]) and image["sizex"] == pytest.approx(x_range[1] - x_range[0])
    assert image["y"] == pytest.approx(y_range[1]) and image["sizey"] == pytest.approx(y_range[1] - y_range[0])

    def pixel(a, b):
        col = round((a - x_range[0]) / (x_range[1] - x_range[0]) * (rgb.shape[1] - 1))
        row = round((y_range[1] - b) / (y_range[1] - y_range[0]) * (rgb.shape[0] - 1))  # top row is the highest b
        return rgb[row, col].astype(int)

    # dark at the least-squares point, light where the loss is largest
    j, i = np.unravel_index(np.argmax(s.z), s.z.shape)
    dark, light = pixel(*s.optimum), pixel(s.a[i], s.b[j])
    assert dark.sum() < 200 < 500 < light.sum()


def test_the_indexed_picture_holds_the_banded_colours_pixel_for_pixel():
    """The loss panel is sent as a palette PNG (a third of the bytes to compress): decoded, it is the RGB picture
    banded_rgb draws, pixel for pixel, and an RGB PNG of that picture decodes to the same."""
    z = np.random.default_rng(5).normal(size=(25, 33)).cumsum(axis=1)
    lo, hi = float(z.min()), float(z.max())
    index, palette = raster.banded_indices(z, 24, lo, hi)
    assert index.dtype == np.uint8 and palette.shape == (48, 3) and index.max() < 48
    expected = raster.banded_rgb(z, 24, lo, hi)
    assert np.array_equal(_png(raster.png_indexed_uri(index, palette)), expected)
    assert np.array_equal(_png(raster.png_data_uri(expected)), expected)
    with pytest.raises(ValueError, match="256 colours"):
        raster.png_indexed_uri(index, np.zeros((300, 3), np.uint8))
    with pytest.raises(ValueError, match="every index"):
        raster.png_indexed_uri(index, palette[:10])


# ----------------------------------------------------------------------------------------------------
# charts.common samplers
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("last", [0, 1, 2, 10, 148, 149, 150, 151, 299, 1000, 4999, 20_000])
@pytest.mark.parametrize("blow_up", [None, "first", "middle", "last", "off-by-one"])
def test_frame_steps_properties(last, blow_up):
    diverged_at = {None: None, "first": 1, "middle": last // 2 + 1, "last": last, "off-by-one": last - 1}[blow_up]
    if diverged_at is not None:
        diverged_at = min(max(diverged_at, 0), last)
    steps = frame_steps(last, diverged_at)
    assert isinstance(steps, np.ndarray)
    values = steps.tolist()
    assert values == sorted(set(values))
    assert values[0] == 0 and values[-1] == last
    assert len(values) <= MAX_FRAMES
    assert all(0 <= s <= last for s in values)
    if diverged_at is not None:
        assert diverged_at in values
    if last + 1 <= MAX_FRAMES:
        assert values == list(range(last + 1))
    else:
        assert len(values) == MAX_FRAMES
        assert max(np.diff(values)) <= 2 * last / (MAX_FRAMES - 1) + 2


@pytest.mark.parametrize("max_frames", [3, 10, 50])
def test_frame_steps_with_a_smaller_cap(max_frames):
    for last in (5, 99, 1234):
        for diverged_at in (None, 7 * last // 13):
            values = frame_steps(last, diverged_at, max_frames=max_frames).tolist()
            assert len(values) == min(max_frames, last + 1)
            assert values[0] == 0 and values[-1] == last
            if diverged_at is not None:
                assert diverged_at in values


def test_frame_steps_ignores_a_blow_up_after_the_end():
    assert frame_steps(10, 50).tolist() == list(range(11))


@pytest.mark.parametrize("recent, older", [(40, 20), (5, 3)])
def test_trail_indices_properties(recent, older):
    for upto in range(0, 400):
        t = trail_indices(upto, recent=recent, older=older).tolist()
        assert t == sorted(set(t))
        assert t[0] == 0 and t[-1] == upto
        assert len(t) <= recent + older
        if upto + 1 <= recent + older:
            assert t == list(range(upto + 1))
        else:
            assert t[-recent:] == list(range(upto + 1 - recent, upto + 1))  # the recent steps exactly
            assert len(t) == recent + older
