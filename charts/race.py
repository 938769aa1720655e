"""Several runs animated together on one loss surface: the optimizer race and the mini-batch noise picture.

Left, the loss surface (a banded picture, see raster.py) with one path per run; right, every run's loss on one
log axis. Static traces (the surface, start, optimum, whole loss curves, bands) are sent once; each frame carries
one thinned path per run and two traces holding every run's current point (on the surface and on the loss curve),
so the frames move all runs together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

import engine

from .common import (
    COLORS,
    MARKERS,
    animation_controls,
    f32,
    frame_steps,
    log_ticks,
    moving_trace,
    padded,
    positive,
    thin_indices,
    trail_indices,
)
from .raster import add_surface_image

RACE_FRAMES = 100  # several paths per frame: fewer frames than the playground keeps the figure small


@dataclass(frozen=True, eq=False)
class Track:
    """One animated run: its parameters and full-data loss at each recorded step, and where each step sits on the
    loss panel's x axis (the step, or the epoch)."""

    name: str
    params: np.ndarray  # (k + 1, p)
    loss: np.ndarray  # (k + 1,)
    time: np.ndarray  # (k + 1,) increasing
    color: str

    @classmethod
    def of(cls, name: str, history: engine.History, color: str, per_epoch: bool = False) -> Track:
        steps = np.arange(len(history.loss), dtype=np.float64)
        return cls(name, history.params, history.loss, steps / history.steps_per_epoch if per_epoch else steps, color)


@dataclass(frozen=True, eq=False)
class Band:
    """A shaded range of the loss per step (e.g. min to max over seeds), drawn under the curves."""

    name: str
    time: np.ndarray
    low: np.ndarray
    high: np.ndarray
    color: str


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def race_figure(
    surface: engine.Surface,
    tracks: list[Track],
    time_title: str = "step",
    bands: tuple[Band, ...] = (),
    ghosts: tuple[Track, ...] = (),
    height: int = 560,
    max_frames: int = RACE_FRAMES,
) -> go.Figure:
    """Paths of `tracks` over the surface and their losses, animated together; `ghosts` are extra runs drawn
    faintly and still (other seeds), `bands` shade the loss panel."""
    if not tracks:
        raise ValueError("give at least one run to draw")
    curve = surface.kind == "curve"
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.52, 0.48],
        horizontal_spacing=0.1,
        subplot_titles=(
            "Loss along w and each run's position" if curve else "Loss surface (darker is lower) and the paths",
            "Loss (mean squared error), log scale",
        ),
    )
    cols = list(surface.columns)
    # where each track is drawn on the surface panel: (w, b) or (w1, w2); (w, loss) when the surface is a curve
    xy = [np.column_stack([t.params[:, cols[0]], t.loss]) if curve else t.params[:, cols] for t in tracks]
    _surface_panel(fig, surface, tracks, ghosts, curve)
    _loss_panel(fig, tracks, bands, time_title)

    master = max(tracks, key=lambda t: t.time[-1] if len(t.time) else 0.0)
    frame_idx = frame_steps(len(master.time) - 1, max_frames=max_frames)
    times = master.time[frame_idx]
    # each track's index at each frame time (the last recorded step at or before it; a diverged run stays put)
    at = [np.clip(np.searchsorted(t.time, times, side="right") - 1, 0, len(t.time) - 1) for t in tracks]
    moving = []
    for k, t in enumerate(tracks):
        fig.add_trace(
            go.Scatter(
                x=f32(xy[k][:1, 0]),
                y=f32(xy[k][:1, 1]),
                mode="lines",
                name=t.name,
                legendgroup=t.name,
                line={"color": t.color, "width": 2.5},
            ),
            row=1,
            col=1,
        )
        moving.append(len(fig.data) - 1)
    head = {"size": 11, "color": [t.color for t in tracks], "line": {"color": "white", "width": 1.5}}
    heads = {  # each racer's head: on the surface (col 1) and on its loss curve (col 2)
        1: ([p[0, 0] for p in xy], [p[0, 1] for p in xy]),
        2: ([t.time[0] for t in tracks], [positive(t.loss)[0] for t in tracks]),
    }
    for col, (x0, y0) in heads.items():
        scatter = go.Scatter(x=f32(x0), y=f32(y0), mode="markers", marker=head, showlegend=False, hoverinfo="skip")
        fig.add_trace(scatter, row=1, col=col)
        moving.append(len(fig.data) - 1)

    losses = [positive(t.loss) for t in tracks]

    def frame(i: int) -> list:
        now = [int(a[i]) for a in at]
        out = []
        for k, j in enumerate(now):
            trail = trail_indices(j, recent=25, older=15)
            out.append(moving_trace("scatter", x=xy[k][trail, 0], y=xy[k][trail, 1]))
        out.append(
            moving_trace(
                "scatter",
                x=[p[j, 0] for p, j in zip(xy, now, strict=True)],
                y=[p[j, 1] for p, j in zip(xy, now, strict=True)],
            )
        )
        out.append(
            moving_trace(
                "scatter",
                x=[t.time[j] for t, j in zip(tracks, now, strict=True)],
                y=[v[j] for v, j in zip(losses, now, strict=True)],
            )
        )
        return out

    names = [str(i) for i in range(len(frame_idx))]
    fig.frames = [{"name": n, "data": frame(i), "traces": moving} for i, n in enumerate(names)]
    labels = [f"{time_title} {_fmt_time(t)}" for t in times]
    fig.update_layout(
        height=height,
        template="plotly_white",
        margin={"l": 55, "r": 20, "t": 40, "b": 110},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.06, "x": 0.0, "font": {"size": 12}},
        hovermode="closest",
        **_below_axis_titles(animation_controls(labels, names)),
    )
    return fig


def _below_axis_titles(controls: dict) -> dict:
    """Move the Play button and the step slider under the x-axis titles of a one-row figure."""
    controls["updatemenus"][0]["y"] = -0.16
    controls["sliders"][0]["y"] = -0.14
    return controls


def _fmt_time(t: float) -> str:
    return f"{t:.0f}" if float(t).is_integer() else f"{t:.2f}"


def _surface_panel(fig: go.Figure, s: engine.Surface, tracks: list[Track], ghosts, curve: bool) -> None:
    cols = list(s.columns)
    if curve:
        fig.add_trace(
            go.Scatter(
                x=f32(s.a),
                y=f32(s.z),
                mode="lines",
                name="loss L(w)",
                showlegend=False,
                line={"color": COLORS["true"], "width": 2},
            ),
            row=1,
            col=1,
        )
        fig.update_xaxes(title_text=s.axes[0], range=[float(s.a[0]), float(s.a[-1])], row=1, col=1)
        fig.update_yaxes(title_text="loss", range=padded(0.0, float(s.z.max()), 0.05), row=1, col=1)
        star = ([float(s.optimum[0])], [s.min_loss])
        start = ([float(tracks[0].params[0, cols[0]])], [float(tracks[0].loss[0])])
    else:
        # no colour bar: between the two panels it would cover the loss axis (the title says darker is lower)
        add_surface_image(fig, s.a, s.b, np.log10(positive(s.z)), row=1, col=1, colorbar=False)
        fixed = "".join(f" (slice at {k} = {v:.3g})" for k, v in s.fixed.items())
        fig.update_xaxes(title_text=s.axes[0] + fixed, range=[float(s.a[0]), float(s.a[-1])], row=1, col=1)
        fig.update_yaxes(title_text=s.axes[1], range=[float(s.b[0]), float(s.b[-1])], row=1, col=1)
        star = ([float(s.optimum[0])], [float(s.optimum[1])])
        start = ([float(tracks[0].params[0, cols[0]])], [float(tracks[0].params[0, cols[1]])])
        for g in ghosts:
            keep = thin_indices(len(g.params), 300)
            fig.add_trace(
                go.Scatter(
                    x=f32(g.params[keep, cols[0]]),
                    y=f32(g.params[keep, cols[1]]),
                    mode="lines",
                    line={"color": _rgba(g.color, 0.35), "width": 1},
                    legendgroup=g.name,
                    showlegend=False,
                    hoverinfo="skip",
                ),
                row=1,
                col=1,
            )
    for name, (x, y) in (("start", start), ("least squares", star)):
        fig.add_trace(go.Scatter(x=f32(x), y=f32(y), mode="markers", name=name, marker=MARKERS[name]), row=1, col=1)


def _loss_panel(fig: go.Figure, tracks: list[Track], bands, time_title: str) -> None:
    for band in bands:
        fig.add_trace(
            go.Scatter(
                x=f32(band.time),
                y=f32(positive(band.low)),
                mode="lines",
                line={"width": 0},
                showlegend=False,
                hoverinfo="skip",
                legendgroup=band.name,
            ),
            row=1,
            col=2,
        )
        fig.add_trace(
            go.Scatter(
                x=f32(band.time),
                y=f32(positive(band.high)),
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor=_rgba(band.color, 0.25),
                name=band.name,
                legendgroup=band.name,
                hoverinfo="skip",
            ),
            row=1,
            col=2,
        )
    lo, hi = np.inf, -np.inf
    for t in tracks:
        keep = thin_indices(len(t.loss))
        loss = positive(t.loss)
        lo, hi = min(lo, float(loss.min())), max(hi, float(loss.max()))
        fig.add_trace(
            go.Scatter(
                x=f32(t.time[keep]),
                y=f32(loss[keep]),
                mode="lines",
                name=t.name,
                legendgroup=t.name,
                showlegend=False,
                line={"color": t.color, "width": 1.2},
                hovertemplate=f"{t.name}<br>{time_title} %{{x}}<br>loss %{{y:.4g}}<extra></extra>",
            ),
            row=1,
            col=2,
        )
    for band in bands:
        lo = min(lo, float(positive(band.low).min()))
    lo_log, hi_log = np.log10(lo), np.log10(hi)
    end = max(float(t.time[-1]) for t in tracks)
    fig.update_xaxes(title_text=time_title, range=padded(0.0, max(end, 1e-9), 0.01), row=1, col=2)
    loss_range = padded(float(lo_log), float(hi_log), 0.05)
    # plain labels (0.5, 1, 2, 5 ...): plotly's minor log labels write 0.5 as a bare "5" under the 1
    fig.update_yaxes(type="log", title_text="loss", range=loss_range, **log_ticks(*loss_range), row=1, col=2)
