"""Figures of the Explorer pages: the learning-rate sweep, the momentum map and the feature-scaling comparison.

None of them is animated, so heat maps and plain traces are safe here (see raster.py for why animated figures
draw their contours as a picture).
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

import engine
from engine.explore import MomentumMap, ScalingCase, steps_for
from engine.sweep import DIVERGES, MONOTONE, RIPPLES

from .common import COLORS, MARKERS, f32, log_ticks, padded, positive, thin_indices
from .raster import add_surface_image, colorscale

DIVERGED_COLOR = "#C0392B"
LIMIT_STYLE = {"color": DIVERGED_COLOR, "dash": "dash", "width": 1.5}
BEST_STYLE = {"color": COLORS["fit"], "dash": "dot", "width": 2}
REGION_NAMES = {MONOTONE: "monotone", RIPPLES: "ripples", DIVERGES: "diverges"}


def _vline(fig: go.Figure, x: float, lo: float, hi: float, name: str, style: dict, row: int, legend: bool) -> None:
    """A vertical line as a trace (exact on a log axis, and it gets a legend entry)."""
    fig.add_trace(
        go.Scatter(
            x=[x, x],
            y=[lo, hi],
            mode="lines",
            name=name,
            line=style,
            legendgroup=name,
            showlegend=legend,
            hovertemplate=f"{name}<extra></extra>",
        ),
        row=row,
        col=1,
    )


def sweep_figure(sweep: engine.Sweep, stab: engine.Stability, fraction: float = 0.01, height: int = 620) -> go.Figure:
    """Final loss (top) and steps to get within `fraction` of the optimum (bottom) against the learning rate, log
    axes, with the stability limit 2/lambda_max and the best rate 2/(lambda_min + lambda_max) drawn across both."""
    steps = len(sweep.loss) - 1
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.1,
        row_heights=[0.55, 0.45],
        subplot_titles=(
            f"Loss after {steps} steps",
            f"Steps until the extra loss above the best possible is down to {fraction:.0%} of where it started",
        ),
    )
    lrs, final = sweep.lrs, sweep.final_loss
    ok = np.isfinite(final)
    loss = positive(final[ok]) if ok.any() else np.array([1.0])
    lo, hi = float(loss.min()), float(loss.max())
    top = hi * 10.0  # where diverged runs are marked
    fig.add_trace(
        go.Scatter(
            x=lrs[ok],
            y=loss,
            mode="lines+markers",
            name="final loss",
            line={"color": COLORS["loss"], "width": 2},
            marker={"size": 6},
            hovertemplate="lr %{x:.3g}<br>final loss %{y:.4g}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    bad = sweep.diverged
    fig.add_trace(
        go.Scatter(
            x=lrs[bad],
            y=np.full(int(bad.sum()), top),
            mode="markers",
            name="diverged",
            marker={"symbol": "x", "size": 9, "color": DIVERGED_COLOR},
            customdata=sweep.diverged_at[bad],
            hovertemplate="lr %{x:.3g}<br>diverged at step %{customdata}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    reach = sweep.steps_to(fraction)
    got = reach >= 0
    fig.add_trace(
        go.Scatter(
            x=lrs[got],
            y=np.maximum(reach[got], 0.5),
            mode="lines+markers",
            name=f"steps to within {fraction:.0%}",
            line={"color": COLORS["data"], "width": 2},
            marker={"size": 6},
            hovertemplate="lr %{x:.3g}<br>%{y:.0f} steps<extra></extra>",
        ),
        row=2,
        col=1,
    )
    slow = ~got & ~bad
    fig.add_trace(
        go.Scatter(
            x=lrs[slow],
            y=np.full(int(slow.sum()), float(steps)),
            mode="markers",
            name=f"not within {steps} steps",
            marker={"symbol": "triangle-up", "size": 8, "color": COLORS["true"]},
            hovertemplate="lr %{x:.3g}<br>not there after " + str(steps) + " steps<extra></extra>",
        ),
        row=2,
        col=1,
    )
    for row, (y0, y1) in ((1, (lo / 3.0, top * 3.0)), (2, (0.5, steps * 1.5))):
        _vline(fig, stab.max_stable_lr, y0, y1, f"limit 2/λmax = {stab.max_stable_lr:.3g}", LIMIT_STYLE, row, row == 1)
        _vline(fig, stab.best_lr, y0, y1, f"best 2/(λmin+λmax) = {stab.best_lr:.3g}", BEST_STYLE, row, row == 1)
    fig.update_xaxes(type="log", exponentformat="power", range=_log_range(lrs), row=1, col=1)
    fig.update_xaxes(type="log", exponentformat="power", title_text="learning rate (log scale)", row=2, col=1)
    loss_range, steps_range = _log_range([lo / 3, top * 3]), _log_range([0.5, steps * 1.5])
    fig.update_yaxes(type="log", title_text="loss", range=loss_range, **log_ticks(*loss_range), row=1)
    fig.update_yaxes(type="log", title_text="steps", range=steps_range, **log_ticks(*steps_range), row=2)
    fig.update_layout(
        height=height,
        template="plotly_white",
        margin={"l": 60, "r": 20, "t": 60, "b": 50},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.06, "x": 0.0},
        hovermode="closest",
        clickmode="event+select",
    )
    return fig


def _log_range(values) -> list[float]:
    v = np.log10(np.asarray(values, dtype=np.float64))
    return padded(float(v.min()), float(v.max()), 0.03)


def _speed(rates: np.ndarray) -> np.ndarray:
    """log10 of the steps the loss needs to fall tenfold at this rate (NaN where it does not fall)."""
    steps = steps_for(rates, 0.1)
    with np.errstate(all="ignore"):
        return np.where(np.isfinite(steps) & (steps > 0), np.log10(np.maximum(steps, 1.0)), np.nan)


MAP_PANELS = ("measured", "theory")


def momentum_map_figure(m: MomentumMap, panel: str, height: int = 540) -> go.Figure:
    """One heat map over (learning rate, momentum), "measured" (the rate measured from the runs) or "theory" (the
    heavy-ball theory), coloured by the steps the loss needs to fall tenfold on one scale for both, with the regions
    outlined and the best pair starred. One figure per panel, so that the page puts them in two columns (side by
    side on a laptop, one under the other on a phone); the measured one carries the legend."""
    if panel not in MAP_PANELS:
        raise ValueError(f"panel must be one of {MAP_PANELS}")
    fig = make_subplots(rows=1, cols=1)
    measured, theory = _speed(m.measured), _speed(m.theory)
    finite = np.concatenate([measured[np.isfinite(measured)], theory[np.isfinite(theory)], [0.0, 1.0]])
    zmax = float(min(np.ceil(finite.max()), 6.0))
    ticks = list(range(int(zmax) + 1))
    z, rates = (measured, m.measured) if panel == "measured" else (theory, m.theory)
    fig.add_trace(
        go.Heatmap(
            x=m.lrs,
            y=m.momenta,
            z=np.minimum(z, zmax),
            customdata=np.dstack([rates, np.power(10.0, z)]),
            coloraxis="coloraxis",
            hovertemplate="lr %{x:.3g}, momentum %{y:.2f}<br>rate %{customdata[0]:.4f}"
            "<br>loss ÷10 every %{customdata[1]:.3g} steps<extra></extra>",
            name=panel,
        ),
        row=1,
        col=1,
    )
    _regions(fig, m, 1, legend=panel == "measured")
    title = f"Measured from {m.steps}-step runs" if panel == "measured" else "Theory: heavy-ball momentum"
    fig.update_xaxes(type="log", exponentformat="power", title_text="learning rate (log scale)")
    fig.update_yaxes(title_text="momentum", range=[-0.03, 1.0])
    fig.update_layout(
        height=height,
        template="plotly_white",
        title={"text": title, "font": {"size": 14}},
        plot_bgcolor="#D5D8DC",  # diverged cells are left empty: grey
        # the legend under the axis (in a half-width column it wraps to three lines: above, it covered the title);
        # both panels keep its room, so that they line up
        margin={"l": 60, "r": 20, "t": 40, "b": 130},
        legend={"orientation": "h", "yanchor": "top", "y": -0.22, "x": 0.0},
        coloraxis={
            "colorscale": colorscale(),
            "cmin": 0.0,
            "cmax": zmax,
            "colorbar": {
                "title": {"text": "steps for<br>loss ÷10", "side": "top"},
                "tickvals": ticks,
                "ticktext": [f"{10**t:,}" for t in ticks],
                "thickness": 12,
            },
        },
    )
    return fig


def _regions(fig: go.Figure, m: MomentumMap, col: int, legend: bool) -> None:
    """Outline where the theory says monotone / ripples / diverges, name each region, star the best pair."""
    stab = m.stability
    lmax = float(stab.eigenvalues[-1])
    beta = np.linspace(0.0, float(m.momenta[-1]), 60)
    edge = (2.0 + 2.0 * beta) / lmax
    inside = edge <= m.lrs[-1]
    fig.add_trace(
        go.Scatter(
            x=edge[inside],
            y=beta[inside],
            mode="lines",
            name="stability limit (2+2·momentum)/λmax",
            line={"color": DIVERGED_COLOR, "width": 2, "dash": "dash"},
            legendgroup="limit",
            showlegend=legend,
            hoverinfo="skip",
        ),
        row=1,
        col=col,
    )
    boundary = _ripple_boundary(m)
    if boundary is not None:
        fig.add_trace(
            go.Scatter(
                x=boundary[0],
                y=boundary[1],
                mode="lines",
                name="monotone | ripples boundary",
                line={"color": COLORS["start"], "width": 2.5},
                legendgroup="boundary",
                showlegend=legend,
                hoverinfo="skip",
            ),
            row=1,
            col=col,
        )
    labels = []
    for code, name in REGION_NAMES.items():
        rows, cols = np.nonzero(m.regions == code)
        if len(rows) < 3:
            continue
        if code == DIVERGES:  # a wedge on the right, widest at the lowest momentum: label it there
            cols = cols[rows == rows.min()]
            rows = np.full(len(cols), min(int(rows.min()) + 1, len(m.momenta) - 1))
        labels.append((float(np.exp(np.median(np.log(m.lrs[cols])))), float(np.median(m.momenta[rows])), name))
    if labels:
        fig.add_trace(
            go.Scatter(
                x=[p[0] for p in labels],
                y=[p[1] for p in labels],
                text=[f"<b>{p[2]}</b>" for p in labels],
                mode="text",
                textfont={"color": "white", "size": 13},
                showlegend=False,
                hoverinfo="skip",
            ),
            row=1,
            col=col,
        )
    fig.add_trace(
        go.Scatter(
            x=[stab.best_momentum_lr],
            y=[stab.best_momentum],
            mode="markers",
            name=f"best pair: lr {stab.best_momentum_lr:.3g}, momentum {stab.best_momentum:.3g}",
            marker={"symbol": "star", "size": 18, "color": "white", "line": {"color": "black", "width": 1.5}},
            legendgroup="best",
            showlegend=legend,
            hovertemplate="best pair<br>lr %{x:.3g}, momentum %{y:.3f}<extra></extra>",
        ),
        row=1,
        col=col,
    )


def _ripple_boundary(m: MomentumMap) -> tuple[np.ndarray, np.ndarray] | None:
    """For each momentum, the smallest grid learning rate where the ripples start (None if they never do)."""
    xs, ys = [], []
    for i, beta in enumerate(m.momenta):
        ripples = np.flatnonzero(m.regions[i] == RIPPLES)
        if len(ripples):
            j = int(ripples[0])
            xs.append(math.sqrt(m.lrs[j] * m.lrs[j - 1]) if j > 0 else m.lrs[0])
            ys.append(beta)
    return (np.array(xs), np.array(ys)) if len(xs) >= 2 else None


def scaling_figure(case: ScalingCase, height: int = 360) -> go.Figure:
    """One scaling's loss surface at equal axis scales (a thin valley, or a round bowl), with gradient descent's path
    at that case's best learning rate from the common start to the least-squares star. One figure per case, so that
    the page puts each in its own column (side by side on a laptop, one under another on a phone)."""
    s = case.surface
    if s.kind != "grid":
        raise ValueError("the scaling comparison needs data with a bias or two features (a surface to draw)")
    fig = make_subplots(rows=1, cols=1)  # the banded picture is placed on a subplot's axes
    add_surface_image(fig, s.a, s.b, np.log10(positive(s.z)), row=1, col=1, colorbar=False)
    path = case.best.params[:, 0, :][:, list(s.columns)]
    path = path[np.isfinite(path).all(axis=1)]
    keep = thin_indices(len(path), 400)
    fig.add_trace(
        go.Scatter(
            x=f32(path[keep, 0]),
            y=f32(path[keep, 1]),
            mode="lines+markers",
            name="gradient descent at the best learning rate",
            line={"color": COLORS["path"], "width": 2},
            marker={"size": 3},
        )
    )
    fig.add_trace(
        go.Scatter(x=f32(path[:1, 0]), y=f32(path[:1, 1]), mode="markers", name="start", marker=MARKERS["start"])
    )
    fig.add_trace(
        go.Scatter(
            x=f32(s.optimum[:1]),
            y=f32(s.optimum[1:2]),
            mode="markers",
            name="least squares",
            marker={"symbol": "star", "size": 14, "color": COLORS["optimum"]},
        )
    )
    fig.update_xaxes(title_text=s.axes[0], range=[float(s.a[0]), float(s.a[-1])], constrain="domain")
    fig.update_yaxes(
        title_text=s.axes[1], range=[float(s.b[0]), float(s.b[-1])], scaleanchor="x", scaleratio=1, constrain="domain"
    )
    fig.update_layout(
        height=height,
        template="plotly_white",
        margin={"l": 50, "r": 10, "t": 10, "b": 40},
        showlegend=False,  # the caption names the path, the start and the star
    )
    return fig
