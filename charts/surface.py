"""The loss panel shared by the playground and the learning-rate family: the loss over the parameters (a banded
surface picture, or the loss curve when only w is trained), the start, the least-squares optimum, and the two
traces that move (the path so far and the current point)."""

from __future__ import annotations

import numpy as np

import engine

from .common import COLORS, MARKERS, f32, padded, positive
from .raster import NO_GRID, colorbar_trace, surface_image
from .spec import Grid, axis_title, trace

STAR = MARKERS["least squares"]


def add_backdrop(grid: Grid, s: engine.Surface, row: int, col: int, start: np.ndarray, colorbar: bool = True) -> None:
    """The static part of a loss panel at (row, col), with its axes; start is the starting point (s.columns).
    colorbar=False leaves out the colour bar of the surface picture."""
    if s.kind == "curve":
        grid.add(
            trace("scatter", x=f32(s.a), y=f32(s.z), mode="lines", name="loss L(w)", line={"color": COLORS["loss"]}),
            row,
            col,
        )
        grid.add(
            trace("scatter", x=f32(s.optimum), y=[s.min_loss], mode="markers", name="least squares", marker=STAR),
            row,
            col,
        )
        grid.axes(
            row,
            col,
            x={"title": axis_title(s.axes[0]), "range": [float(s.a[0]), float(s.a[-1])]},
            y={"title": axis_title("loss"), "range": padded(0.0, float(s.z.max()), 0.05)},
        )
        return
    z = np.log10(positive(s.z))
    refs = grid.refs(row, col)
    grid.layout.setdefault("images", []).append(surface_image(s.a, s.b, z, refs["xaxis"], refs["yaxis"]))
    if colorbar:
        bar = colorbar_trace(z)
        bar["marker"]["colorbar"].update(x=grid.layout[refs["xaxis"].replace("x", "xaxis")]["domain"][1] + 0.01)
        grid.add(bar, row, col)
    start_marker = MARKERS["start"]
    grid.add(
        trace("scatter", x=f32(start[:1]), y=f32(start[1:2]), mode="markers", name="start", marker=start_marker),
        row,
        col,
    )
    grid.add(
        trace(
            "scatter", x=f32(s.optimum[:1]), y=f32(s.optimum[1:2]), mode="markers", name="least squares", marker=STAR
        ),
        row,
        col,
    )
    fixed = "".join(f" (slice at {k} = {v:.3g})" for k, v in s.fixed.items())
    grid.axes(
        row,
        col,
        x={"title": axis_title(s.axes[0] + fixed), "range": [float(s.a[0]), float(s.a[-1])], **NO_GRID},
        y={"title": axis_title(s.axes[1]), "range": [float(s.b[0]), float(s.b[-1])], **NO_GRID},
    )


def path_traces(s: engine.Surface, x: np.ndarray, y: np.ndarray) -> tuple[dict, dict]:
    """The path (x, y) and its last point as the moving traces: (w, loss) on a curve, (a, b) on a surface."""
    curve = s.kind == "curve"
    path = trace(
        "scatter",
        x=f32(x),
        y=f32(y),
        mode="lines+markers",
        name="path",
        line={"color": COLORS["path"], "width": 1 if curve else 2},
        marker={"size": 5 if curve else 4},
    )
    now_marker = (
        {"size": 13, "color": COLORS["current"]}
        if curve
        else {
            "size": 12,
            "color": COLORS["current"],
            "line": {"color": "white", "width": 1.5},
        }
    )
    now = trace("scatter", x=f32(x[-1:]), y=f32(y[-1:]), mode="markers", name="now", marker=now_marker)
    return path, now
