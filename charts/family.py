"""A family of runs in one figure: a slider in the chart picks the learning rate (or the momentum), and the path
over the loss surface and the loss curve of that run appear at once, with no round trip to the server.

Every run of the family is computed in one batched call (engine.gd_sweep) and shipped as one animation frame
holding only its path and loss curve, thinned to a bounded number of points, so the figure's size stays bounded
for any number of epochs (as Distill's "Why Momentum Really Works" lets a reader drag its sliders).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import engine

from .common import (
    COLORS,
    f32,
    frame_steps,
    log_ticks,
    moving_trace,
    padded,
    positive,
    slider_controls,
    thin_indices,
)
from .spec import Grid, axis_title, trace
from .surface import add_backdrop, path_traces

PATH_POINTS = 70  # points per run's path in the figure (first, last and blow-up always among them)
LOSS_POINTS = 120  # points per run's loss curve
# Frames only restyle the three scatter traces (the surface is a layout image, which frames leave alone), so they
# need no full redraw: a picked run shows in about half the time.
NO_REDRAW = {"frame": {"duration": 0, "redraw": False}, "mode": "immediate", "transition": {"duration": 0}}
TOO_BIG = 1e30  # coordinates past this (on the way to overflow) are left out of a path: float32 tops out at 3e38


@dataclass(frozen=True)
class Family:
    """The runs to draw: one setting varied over `values` (the rest shared), gd_sweep's runs, and labels."""

    sweep: engine.Sweep  # with params
    surface: engine.Surface
    setting: str  # "learning rate" or "momentum"
    values: np.ndarray
    labels: list[str]  # per run, what the slider shows when it is picked
    active: int  # the run the page's own controls describe


def family_figure(family: Family, height: int = 460) -> dict:
    """Plotly JSON: loss surface with the picked run's path (left), its loss per step (right), one slider."""
    sw, s = family.sweep, family.surface
    grid = Grid(
        rows=1,
        cols=2,
        cells={(1, 1): ("xy", 1), (1, 2): ("xy", 1)},
        row_heights=[1.0],
        column_widths=[0.5, 0.5],
        horizontal_spacing=0.1,
        titles={
            (1, 1): "Loss along w" if s.kind == "curve" else "Loss surface and path",
            (1, 2): "Loss per step",
        },
    )
    start = sw.params[0, 0][list(s.columns)]
    add_backdrop(grid, s, 1, 1, start=start, colorbar=False)  # the playground's figure above explains the colours
    runs = [_run_arrays(sw, k, s) for k in range(len(sw.lrs))]
    moving = [grid.add(t, 1, 1) for t in path_traces(s, *runs[family.active][:2])]
    steps, loss = runs[family.active][2:]
    moving.append(
        grid.add(
            trace(
                "scatter",
                x=f32(steps),
                y=f32(loss),
                mode="lines",
                name="loss",
                line={"color": COLORS["loss"], "width": 2},
                showlegend=False,
            ),
            1,
            2,
        )
    )
    last = len(sw.loss) - 1
    # the range of the runs that came down (and the start): a run that blows up, or is on its way up when it ends
    # (with one or two epochs the fastest rates jump far up before they count as diverged), leaves through the top
    # rather than squeezing every other curve into the bottom of the panel
    calm = sw.loss[:, sw.came_down]
    finite = np.concatenate([calm[np.isfinite(calm)], sw.loss[:1, 0]])
    lo, hi = np.log10(positive(finite).min()), np.log10(positive(finite).max())
    y_range = padded(float(lo), float(hi), 0.05)
    grid.axes(
        1,
        2,
        x={
            "title": axis_title("step"),
            "range": padded(0.0, float(max(last, 1)), 0.01),
            "tickformat": "d",
            **({"dtick": 1} if last < 8 else {}),  # whole steps only: "0 0 1 1" otherwise
        },
        y={"type": "log", "title": axis_title("loss"), "range": y_range, **log_ticks(*y_range)},
    )
    names = [f"{family.setting} {v:.6g}" for v in family.values]
    frames = []
    for name, (px, py, st, ls) in zip(names, runs, strict=True):
        data = [
            moving_trace("scatter", x=px, y=py),
            moving_trace("scatter", x=px[-1:], y=py[-1:]),
            moving_trace("scatter", x=st, y=ls),
        ]
        frames.append({"name": name, "data": data, "traces": moving})
    layout = {
        "height": height,
        "margin": {"l": 50, "r": 20, "t": 40, "b": 120},
        "template": "plotly_white",
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.08, "x": 0.0, "font": {"size": 11}},
        "hovermode": "closest",
        **slider_controls(
            family.labels, names, prefix=f"{family.setting} ", active=family.active, y=-0.2, frame_args=NO_REDRAW
        ),
    }
    return {**grid.figure(**layout), "frames": frames}


def _run_arrays(sw: engine.Sweep, k: int, s: engine.Surface) -> tuple[np.ndarray, ...]:
    """Run k's path (x, y in the panel's coordinates) and its loss curve (steps, loss), thinned and finite."""
    last = len(sw.loss) - 1
    blew_up = int(sw.diverged_at[k]) if sw.diverged_at[k] >= 0 else None
    end = last if blew_up is None else blew_up
    params = sw.params[: end + 1, k]
    ok = np.isfinite(params).all(axis=1) & (np.abs(params) < TOO_BIG).all(axis=1)
    usable = int(np.argmin(ok)) if not ok.all() else len(ok)  # the path up to its first unusable point
    steps = frame_steps(max(usable - 1, 0), None, PATH_POINTS)
    path = params[steps][:, list(s.columns)]
    ys = sw.loss[steps, k] if s.kind == "curve" else path[:, 1]
    if s.kind == "curve":
        ys = np.where(np.isfinite(ys), ys, TOO_BIG)
    loss = sw.loss[: end + 1, k]
    keep = thin_indices(int(np.isfinite(loss).sum()), LOSS_POINTS)
    return path[:, 0], ys, keep.astype(np.float64), positive(loss[keep])


def pick(spec: dict, index: int) -> dict:
    """Start the family figure (its JSON, changed in place) at run `index`: the slider and the drawn traces."""
    frame = spec["frames"][index]
    for trace_index, update in zip(frame["traces"], frame["data"], strict=True):
        spec["data"][trace_index].update({k: v for k, v in update.items() if k != "type"})
    spec["layout"]["sliders"][0]["active"] = index
    return spec
