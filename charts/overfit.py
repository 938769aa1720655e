"""Figures of the "Overfitting & regularization" page: the degree and weight-decay sweeps, the ridge / lasso picture
of two weights, conditioning against the degree, and the eigen-direction view (the fitted curve and its losses are
the fit player's: charts/fit_player.py). Arrays in, Plotly JSON (dicts) out; no streamlit here.
"""

from __future__ import annotations

import functools

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

import engine

from .common import COLORS, MARKERS, f32, log_ticks, padded, positive
from .explore import DIVERGED_COLOR

TRAIN_STYLE = {"color": COLORS["data"], "width": 2}
TEST_STYLE = {"color": COLORS["path"], "width": 2}
LEGEND = {"orientation": "h", "yanchor": "bottom", "y": 1.08, "x": 0.0, "font": {"size": 12}}


def _layout(fig: go.Figure, height: int, top: int = 30, bottom: int = 50, legend: dict = LEGEND) -> None:
    """The page's figures share one look: legend above, closest-point hover (and the white template, _spec)."""
    fig.update_layout(
        height=height,
        margin={"l": 55, "r": 20, "t": top, "b": bottom},
        legend=legend,
        hovermode="closest",
    )


@functools.cache
def _white() -> dict:
    return pio.templates["plotly_white"].to_plotly_json()


def _spec(fig: go.Figure, **layout) -> dict:
    """The figure as plain Plotly JSON, with the white template (and `layout`, e.g. animation controls) added as
    JSON: plotly.py copies and checks a template on every figure (~12 ms each) and every animation frame; these
    parts are Plotly's own (the template) or checked once by the tests (tests/unit/test_overfit.py)."""
    spec = fig.to_plotly_json()
    spec["layout"] = {**spec["layout"], "template": _white(), **layout}
    return spec


def _log_range(values) -> list[float]:
    v = positive(np.asarray(values, dtype=np.float64)[np.isfinite(values)])
    return padded(float(np.log10(v.min())), float(np.log10(v.max())), 0.05)


def _log_axis(values) -> dict:
    rng = _log_range(values)
    return {"type": "log", "range": rng, **log_ticks(*rng)}


def _sweep_lines(sweep: engine.FitSweep, test_first: bool, train_width: float = TRAIN_STYLE["width"]) -> list[tuple]:
    """(name, final losses, line style) of a sweep: training and test loss, gradient descent solid and the
    closed-form optimum's dashed."""
    train = [
        ("training loss, gradient descent", sweep.final_loss, {**TRAIN_STYLE, "width": train_width}),
        ("training loss, closed form", sweep.optimum_loss, {**TRAIN_STYLE, "width": train_width, "dash": "dash"}),
    ]
    test = []
    if sweep.test_loss is not None:
        test = [
            ("test loss, gradient descent", sweep.final_test_loss, TEST_STYLE),
            ("test loss, closed form", sweep.optimum_test_loss, {**TEST_STYLE, "dash": "dash"}),
        ]
    return test + train if test_first else train + test


def _sweep_figure(x: np.ndarray, lines: list[tuple], diverged: np.ndarray, x_axis: dict, hover_x: str, height) -> dict:
    """Final losses against the swept setting (log loss axis), an x where a run diverged. The page's own value is
    added by degree_mark / decay_mark (so the figure is the same whatever it is)."""
    fig = go.Figure()
    for name, values, style in lines:
        fig.add_trace(
            go.Scatter(
                x=f32(x),
                y=f32(np.where(np.isfinite(values), values, np.nan)),
                mode="lines+markers",
                name=name,
                line=style,
                marker={"size": 5},
                hovertemplate=f"{name}<br>{hover_x}<br>loss %{{y:.4g}}<extra></extra>",
            )
        )
    axis = _log_axis(np.concatenate([v[np.isfinite(v)] for _, v, _ in lines]))
    if diverged.any():
        bad = x[diverged]
        fig.add_trace(
            go.Scatter(
                x=f32(bad),
                y=[10 ** axis["range"][1]] * len(bad),
                mode="markers",
                name="diverged",
                marker={"symbol": "x", "color": DIVERGED_COLOR, "size": 10},
            )
        )
    fig.update_xaxes(**x_axis)
    fig.update_yaxes(title_text="loss (mean squared error)", **axis)
    _layout(fig, height)
    return _spec(fig)


def _page_mark(spec: dict, at: float, name: str) -> dict:
    """A dotted vertical line at the page's own value across a sweep figure's (log) loss axis."""
    lo, hi = spec["layout"]["yaxis"]["range"]
    line = {"color": COLORS["optimum"], "dash": "dot", "width": 1.5}
    return {"type": "scatter", "x": [at, at], "y": [10**lo, 10**hi], "mode": "lines", "name": name, "line": line}


def degree_figure(sweep: engine.FitSweep, height: int = 420) -> dict:
    """Final training and test loss against the degree (gradient descent, solid) with the closed-form optimum's
    (dashed), log axis."""
    x_axis = {"title_text": "polynomial degree", "dtick": 1}
    lines = _sweep_lines(sweep, test_first=False)
    return _sweep_figure(sweep.degrees, lines, sweep.diverged, x_axis, "degree %{x}", height)


def degree_mark(spec: dict, degree: int) -> list[dict]:
    """The page's degree on degree_figure's spec, as traces to add."""
    return [_page_mark(spec, degree, f"this page's degree ({degree})")]


def decay_figure(sweep: engine.FitSweep, height: int = 420) -> dict:
    """Final test (and training) loss against the weight decay, log axes, gradient descent solid and the ridge
    optimum dashed."""
    x_axis = {"title_text": "weight decay (log scale)", "type": "log", "tickformat": "~g"}
    lines = _sweep_lines(sweep, test_first=True, train_width=1.5)
    return _sweep_figure(sweep.weight_decays, lines, sweep.diverged, x_axis, "weight decay %{x:.2g}", height)


def decay_mark(spec: dict, weight_decay: float) -> list[dict]:
    """The page's weight decay on decay_figure's spec when it is on the axis (above 0), as traces to add."""
    return [_page_mark(spec, weight_decay, f"this page's weight decay ({weight_decay:g})")] if weight_decay > 0 else []


def _log_contours(x, y, z: np.ndarray, lo: float, name: str, color: str, depth: float = 3.0, **extra) -> go.Contour:
    """One contour trace of log10(z - lo): 14 rings evenly spaced on a log scale from `depth` decades under the
    grid's 90th percentile up to it (one trace, one copy of the grid)."""
    excess = np.maximum(np.asarray(z, dtype=np.float64) - lo, 0.0)
    top = max(float(np.quantile(excess, 0.9)), 1e-300)
    floor = top * 10.0**-depth
    levels = np.log10(np.maximum(excess, floor * 1e-3))
    start, end = float(np.log10(floor)), float(np.log10(top))
    return go.Contour(
        x=f32(x),
        y=f32(y),
        z=f32(levels),
        showscale=False,
        hoverinfo="skip",
        contours={"coloring": "none", "start": start, "end": end, "size": (end - start) / 13},
        line={"color": color, "width": 1},
        name=name,
        **extra,
    )


def penalty_figure(
    w1: np.ndarray,
    w2: np.ndarray,
    data_loss: np.ndarray,
    penalty: np.ndarray,
    path: np.ndarray,
    least_squares: np.ndarray,
    optimum: np.ndarray,
    weight_decay: float,
    l1: float,
    height: int = 520,
) -> dict:
    """The ridge / lasso picture: the data loss's contours (bias at its best everywhere), the penalty's (circles for
    L2, diamonds for L1), the run's path, the unregularized and the regularized optimum."""
    fig = go.Figure()
    fig.add_trace(_log_contours(w1, w2, data_loss, float(data_loss.min()), "data loss (MSE)", COLORS["data"]))
    penalized = weight_decay > 0 or l1 > 0
    if penalized:

        def penalty_at(w) -> float:
            return 0.5 * weight_decay * float(np.sum(np.square(w))) + l1 * float(np.sum(np.abs(w)))

        # the ring through the regularized optimum solid, rings at 1/4, 1/2, 2 and 4 times its level dotted
        unit = penalty_at(optimum) if penalty_at(optimum) > 0 else max(penalty_at(least_squares), 1e-12)
        ratio = np.log2(np.maximum(penalty, unit * 1e-6) / unit)
        kind = "L2 circles" if l1 == 0 else ("L1 diamonds" if weight_decay == 0 else "L2 + L1")
        for start, end, style in ((-2.0, 2.0, {"width": 1, "dash": "dot"}), (0.0, 0.0, {"width": 2.5})):
            fig.add_trace(
                go.Contour(
                    x=f32(w1),
                    y=f32(w2),
                    z=f32(ratio),
                    showscale=False,
                    hoverinfo="skip",
                    contours={"coloring": "none", "start": start, "end": end, "size": 1.0},
                    line={"color": COLORS["path"], **style},
                    name=f"penalty ({kind})",
                    legendgroup="penalty",
                    showlegend=start == 0.0,
                )
            )
    finite = path[np.isfinite(path).all(axis=1)]
    fig.add_trace(
        go.Scatter(
            x=f32(finite[:, 0]),
            y=f32(finite[:, 1]),
            mode="lines+markers",
            name="gradient descent",
            line={"color": COLORS["current"], "width": 2},
            marker={"size": 3},
        )
    )
    fig.add_trace(go.Scatter(x=[0.0], y=[0.0], mode="markers", name="start (0, 0)", marker=MARKERS["start"]))
    fig.add_trace(
        go.Scatter(
            x=[float(least_squares[0])],
            y=[float(least_squares[1])],
            mode="markers",
            name="unregularized optimum",
            marker=MARKERS["least squares"],
        )
    )
    if penalized:
        fig.add_trace(
            go.Scatter(
                x=[float(optimum[0])],
                y=[float(optimum[1])],
                mode="markers",
                name="regularized optimum",
                marker={
                    "symbol": "diamond",
                    "size": 13,
                    "color": COLORS["path"],
                    "line": {"color": "white", "width": 1.5},
                },
            )
        )
    # one unit is as long on both axes, so L2's rings are round and L1's diamonds square; the plot area shrinks to
    # the square grid (constrain="domain") rather than widening the axis past the rings
    fig.update_xaxes(
        title_text="w1 (weight of x)", range=[float(w1[0]), float(w1[-1])], zeroline=True, constrain="domain"
    )
    fig.update_yaxes(
        title_text="w2 (weight of x²)",
        range=[float(w2[0]), float(w2[-1])],
        zeroline=True,
        scaleanchor="x",
        scaleratio=1,
        constrain="domain",
    )
    _layout(fig, height)
    return _spec(fig)


def conditioning_figure(cond: engine.Conditioning, height: int = 420) -> dict:
    """Left: the condition number against the degree, raw and standardized powers; right: the steps gradient
    descent needs at its best rate. Log axes; infinite values (beyond float64) are left out. The page's own degree
    is marked by conditioning_marks (the figure is the same for every degree)."""
    fig = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.12,
        subplot_titles=("Condition number λmax/λmin", f"GD steps to {cond.fraction:.0%}, best rate"),
    )
    d = cond.degrees
    for col, (raw, std) in enumerate(((cond.raw, cond.standardized), (cond.steps_raw, cond.steps_standardized)), 1):
        for name, values, style in (("raw powers", raw, TEST_STYLE), ("standardized powers", std, TRAIN_STYLE)):
            shown = np.where(np.isfinite(values), values, np.nan)
            fig.add_trace(
                go.Scatter(
                    x=d,
                    y=shown,
                    mode="lines+markers",
                    name=name,
                    line=style,
                    legendgroup=name,
                    showlegend=col == 1,
                    hovertemplate=f"{name}<br>degree %{{x}}<br>%{{y:.3g}}<extra></extra>",
                ),
                row=1,
                col=col,
            )
        both = np.concatenate([raw, std])
        axis = _log_axis(both[np.isfinite(both)])
        fig.update_yaxes(**axis, row=1, col=col)
        fig.update_xaxes(title_text="polynomial degree", dtick=1, row=1, col=col)
    _layout(fig, height, top=60)
    return _spec(fig)


def conditioning_marks(cond: engine.Conditioning, degree: int, powers: str) -> list[dict]:
    """The page's own (degree, powers) ringed on both panels of conditioning_figure, as traces to add to it."""
    d = cond.degrees
    k = int(np.flatnonzero(d == degree)[0]) if degree in d else None
    marks = []
    for col, own in enumerate(
        (cond.raw, cond.steps_raw) if powers == "raw" else (cond.standardized, cond.steps_standardized), 1
    ):
        if k is None or not np.isfinite(own[k]):
            continue
        marks.append(
            {
                "type": "scatter",
                "x": [degree],
                "y": [float(own[k])],
                "mode": "markers",
                "showlegend": col == 1,
                "name": f"this page (degree {degree}, {powers})",
                "legendgroup": "page",
                "marker": {"symbol": "circle-open", "size": 16, "color": COLORS["optimum"], "line": {"width": 2.5}},
                "xaxis": "x" if col == 1 else f"x{col}",
                "yaxis": "y" if col == 1 else f"y{col}",
            }
        )
    return marks


def eigen_figure(plane: engine.PlaneSurface, miles: engine.Milestones, height: int = 460) -> dict:
    """Left: the loss on the plane of the steepest and the flattest direction through the optimum, with the run's
    path projected on it. Right: the loss above its minimum along each eigen-direction, per step (log axis)."""
    fig = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.12,
        column_widths=[0.5, 0.5],
        subplot_titles=("Loss on the eigen-plane", "Extra loss per direction"),
    )
    ring = _log_contours(plane.a, plane.b, plane.z, plane.min_loss, "loss contours", COLORS["data"], depth=8.0)
    fig.add_trace(ring.update(showlegend=False), row=1, col=1)
    if plane.path is not None and len(plane.path):
        fig.add_trace(
            go.Scatter(
                x=f32(plane.path[:, 0]),
                y=f32(plane.path[:, 1]),
                mode="lines+markers",
                name="path (projected)",
                showlegend=False,
                marker={"size": 3},
                line={"color": COLORS["current"], "width": 2},
            ),
            row=1,
            col=1,
        )
    fig.add_trace(
        go.Scatter(x=[0.0], y=[0.0], mode="markers", name="optimum", showlegend=False, marker=MARKERS["least squares"]),
        row=1,
        col=1,
    )
    fig.update_xaxes(title_text=plane.axes[0], range=[float(plane.a[0]), float(plane.a[-1])], row=1, col=1)
    fig.update_yaxes(title_text=plane.axes[1], range=[float(plane.b[0]), float(plane.b[-1])], row=1, col=1)

    lam = miles.eigenvalues
    p = len(lam)
    t = np.arange(len(miles.excess))
    palette = [
        "#0F766E",
        "#2E86AB",
        "#4C6A92",
        "#8E44AD",
        "#C2185B",
        "#E4572E",
        "#F2A541",
        "#6B8E23",
        "#9AA5B1",
        "#1F2933",
    ]
    shown = []
    for i in range(p - 1, -1, -1):  # steepest first
        values = miles.excess[:, i]
        label = "steepest" if i == p - 1 else ("flattest" if i == 0 else f"direction {p - i}")
        fig.add_trace(
            go.Scatter(
                x=t,
                y=f32(positive(values)),
                mode="lines",
                name=f"{label} (λ = {lam[i]:.3g})",
                line={"color": palette[(p - 1 - i) % len(palette)], "width": 1.8},
            ),
            row=1,
            col=2,
        )
        shown.append(values)
    everything = positive(np.concatenate(shown))
    top = float(np.log10(everything.max()))
    rng = [max(top - 12, float(np.log10(everything.min()))), top + 0.2]
    fig.update_yaxes(type="log", range=rng, **log_ticks(*rng), title_text="extra loss", row=1, col=2)
    fig.update_xaxes(title_text="step", row=1, col=2)
    _layout(fig, height, top=60, legend={**LEGEND, "y": -0.3, "yanchor": "top"})
    return _spec(fig)
