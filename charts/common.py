"""Shared pieces of every figure: colours, frame sampling, compact arrays, animation controls."""

from __future__ import annotations

import base64

import numpy as np
import plotly.io as pio

COLORS = {
    "data": "#4C6A92",
    "fit": "#0F766E",
    "optimum": "#1F2933",
    "true": "#9AA5B1",
    "path": "#E4572E",
    "current": "#C2185B",
    "loss": "#0F766E",
    "start": "#F2A541",
}
RACE_COLORS = ("#E4572E", "#0F766E", "#4C6A92", "#F2A541", "#8E44AD", "#2E86AB", "#6B8E23")
# the two points every loss panel marks: where the run starts, and the least-squares optimum
MARKERS = {
    "start": {"symbol": "circle-open", "size": 12, "color": COLORS["start"], "line": {"width": 3}},
    "least squares": {
        "symbol": "star",
        "size": 16,
        "color": "white",
        "line": {"color": COLORS["optimum"], "width": 1.5},
    },
}
MAX_FRAMES = 150
MAX_STATIC_POINTS = 1_500  # loss curves longer than this are thinned (every extreme kept) before drawing


def f32(values) -> np.ndarray:
    """float32 array: Plotly ships numpy arrays as base64 typed arrays, about 5 characters a number."""
    return np.asarray(values, dtype=np.float32)


def packed(values) -> dict:
    """float32 values as Plotly's typed-array spec ({dtype, bdata}): what f32 arrays become in the JSON anyway,
    but about fifteen times cheaper for plotly.py to validate (for the many small arrays of animation frames)."""
    data = np.ascontiguousarray(values, dtype="<f4")
    spec = {"dtype": "f4", "bdata": base64.b64encode(data.tobytes()).decode("ascii")}
    if data.ndim > 1:
        spec["shape"] = ",".join(str(n) for n in data.shape)
    return spec


def to_spec(fig) -> str:
    """The figure as its JSON spec: cheap to cache and to copy (a pickled go.Figure is rebuilt and re-validated)."""
    return pio.to_json(fig, validate=False)


def moving_trace(kind: str, **arrays) -> dict:
    """An animation frame's update of one trace: its type and its arrays, packed (no plotly.py object)."""
    return {"type": kind, **{key: packed(value) for key, value in arrays.items()}}


def frame_steps(last_step: int, diverged_at: int | None = None, max_frames: int = MAX_FRAMES) -> np.ndarray:
    """At most max_frames step indices sampled over 0..last_step, always with the first, the last and the blow-up."""
    count = min(max_frames, last_step + 1)
    steps = set(np.round(np.linspace(0, last_step, count)).astype(int).tolist())
    steps.add(last_step)
    if diverged_at is not None and diverged_at <= last_step:
        steps.add(int(diverged_at))
    steps = sorted(steps)
    keep = {0, last_step, diverged_at}
    while len(steps) > max_frames:  # the must-have steps pushed us over: drop the interior sample nearest the middle
        middle = steps[len(steps) // 2]
        drop = min((s for s in steps if s not in keep), key=lambda s: abs(s - middle))
        steps.remove(drop)
    return np.array(steps)


def thin_indices(length: int, max_points: int = MAX_STATIC_POINTS) -> np.ndarray:
    """Indices of at most ~max_points evenly spread samples of a long series, first and last included."""
    if length <= max_points:
        return np.arange(length)
    return np.unique(np.round(np.linspace(0, length - 1, max_points)).astype(int))


def trail_indices(upto: int, recent: int = 40, older: int = 20) -> np.ndarray:
    """Which of the frame points 0..upto draw the path so far: the last `recent` exactly, older ones thinned."""
    if upto + 1 <= recent + older:
        return np.arange(upto + 1)
    cut = upto + 1 - recent
    return np.concatenate([np.round(np.linspace(0, cut - 1, older)).astype(int), np.arange(cut, upto + 1)])


def positive(values: np.ndarray) -> np.ndarray:
    """Values safe for a log axis: zeros (an exact fit) become a tiny positive number."""
    values = np.asarray(values, dtype=np.float64)
    top = float(np.max(values)) if len(values) else 1.0
    floor = max(top * 1e-16, 1e-300)
    return np.maximum(values, floor)


def padded(lo: float, hi: float, frac: float = 0.08) -> list[float]:
    """An axis range around [lo, hi] with a margin; a zero-width range gets a unit margin."""
    span = hi - lo
    if span <= 0 or not np.isfinite(span):
        span = max(abs(lo), 1.0)
    return [lo - frac * span, hi + frac * span]


FRAME_NOW = {"frame": {"duration": 0, "redraw": True}, "mode": "immediate", "transition": {"duration": 0}}


def animation_controls(labels: list[str], names: list[str], prefix: str = "", redraw: bool = True) -> dict:
    """One Play / Pause pair and one step slider, as layout.updatemenus and layout.sliders.

    Frames redraw: without it plotly.js drops contour traces and some static lines during an animation.
    """
    frame_args = {**FRAME_NOW, "frame": {"duration": 0, "redraw": redraw}}
    play = {
        "frame": {"duration": 80, "redraw": redraw},
        "fromcurrent": True,
        "transition": {"duration": 0},
        "mode": "immediate",
    }
    return {
        "updatemenus": [
            {
                "type": "buttons",
                "direction": "left",
                "showactive": False,
                "x": 0.0,
                "xanchor": "left",
                "y": -0.09,
                "yanchor": "top",
                "pad": {"t": 0, "r": 10},
                "buttons": [
                    {"label": "▶ Play", "method": "animate", "args": [None, play]},
                    {"label": "❚❚ Pause", "method": "animate", "args": [[None], frame_args]},
                ],
            }
        ],
        **slider_controls(labels, names, prefix, x=0.18, y=-0.07, frame_args=frame_args),
    }


def slider_controls(
    labels: list[str],
    names: list[str],
    prefix: str = "",
    active: int = 0,
    x: float = 0.0,
    y: float = -0.07,
    frame_args: dict = FRAME_NOW,
) -> dict:
    """One slider over the named frames (layout.sliders): dragging it shows each frame at once, in the browser.
    Only the picked step's label is shown, after the prefix."""
    return {
        "sliders": [
            {
                "active": active,
                "x": x,
                "len": 1.0 - x,
                "y": y,
                "yanchor": "top",
                "pad": {"t": 0, "b": 0},
                "currentvalue": {"prefix": prefix, "font": {"size": 13, "color": "#1F2933"}},
                "font": {"size": 1, "color": "rgba(0,0,0,0)"},  # per-step labels: only the current one is shown
                "ticklen": 0,
                "minorticklen": 0,
                "steps": [
                    {"label": label, "method": "animate", "args": [[name], frame_args]}
                    for label, name in zip(labels, names, strict=True)
                ],
            }
        ],
    }


def fmt_params(names, values) -> str:
    """w = 1.23, b = -0.45"""
    return ", ".join(f"{n} = {v:.4g}" for n, v in zip(names, values, strict=True))


MAX_LOG_TICKS = 8  # labels on a log axis: a loss that falls to float rounding spans 16 decades


def log_ticks(lo: float, hi: float) -> dict:
    """Tick values for a log axis over 10^lo .. 10^hi: 1, 2, 5 per decade over a short range, powers of ten over a
    long one, every second, third ... power over a very long one, at most MAX_LOG_TICKS (plotly's own choice
    crowds the minor labels on a tall panel)."""
    first, last = int(np.floor(lo)), int(np.ceil(hi))
    steps = (1, 2, 5) if last - first <= 4 else (1,)
    stride = max(1, -(-(last - first + 1) // MAX_LOG_TICKS))
    values = [
        m * 10.0**k
        for k in range(first, last + 1)
        if k % stride == 0
        for m in steps
        if lo <= np.log10(m * 10.0**k) <= hi
    ]
    if len(values) < 2:  # within one decade with no 1, 2 or 5 in it: plotly's own ticks
        return {"tickformat": "~g"}
    return {"tickvals": values, "ticktext": [f"{v:g}" for v in values]}
