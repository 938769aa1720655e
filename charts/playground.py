"""The playground's one animated figure: the fit over the data, the path over the loss surface, the loss per step.

Static traces (data, reference lines, the surface, the loss curve) are sent once; each animation frame carries
only the traces that move (the fitted line or plane, the path so far, the current point, the loss marker), and
the path so far is thinned (recent steps exact, older ones sampled), so the figure's size stays bounded for any
run length. The figure is built as plain Plotly JSON (charts.spec): plotly.py's per-property checking of it and
its frames cost several times the computing.
"""

from __future__ import annotations

import numpy as np

import engine

from .common import (
    COLORS,
    animation_controls,
    f32,
    fmt_params,
    frame_steps,
    moving_trace,
    padded,
    positive,
    thin_indices,
    trail_indices,
)
from .spec import Grid, axis_title, trace
from .surface import add_backdrop, path_traces


def _line_points(ds: engine.Dataset, params, xs: np.ndarray) -> np.ndarray:
    """y of the model (w, [b]) at xs, for one feature."""
    b = params[1] if len(params) > 1 else 0.0
    return params[0] * xs + b


def _plane_z(params, g1: np.ndarray, g2: np.ndarray) -> np.ndarray:
    b = params[2] if len(params) > 2 else 0.0
    return params[0] * g1 + params[1] * g2 + b


class _Panels:
    """Builds the static traces and, per frame, the moving ones; remembers which trace index is which."""

    def __init__(self, fig: Grid, ds, history, surface, optimum, fit_bias: bool):
        self.fig, self.ds, self.h, self.surface, self.optimum = fig, ds, history, surface, optimum
        self.fit_bias = fit_bias
        self.moving: list[int] = []

    def add(self, trace: dict, row: int, col: int, moving: bool = False) -> int:
        index = self.fig.add(trace, row, col)
        if moving:
            self.moving.append(index)
        return index


def playground_figure(
    ds: engine.Dataset,
    history: engine.History,
    surface: engine.Surface,
    optimum: np.ndarray,
    fit_bias: bool = True,
    height: int = 760,
) -> dict:
    """The animated three-panel figure (Plotly JSON) for one run; frames sampled from the whole run (at most 150).
    still_panel draws one of its panels alone, at the last step."""
    three_d = ds.d == 2
    fig = Grid(
        rows=2,
        cols=2,
        cells={(1, 1): ("scene" if three_d else "xy", 1), (1, 2): ("xy", 1), (2, 1): ("xy", 2)},
        row_heights=[0.64, 0.36],
        column_widths=[0.5, 0.5],
        titles={PANELS[name]: title for name, title in _titles(ds, surface).items()},
    )
    panels = _Panels(fig, ds, history, surface, optimum, fit_bias)
    steps = frame_steps(history.steps, history.diverged_at)
    panel_frames = [_build(name, panels, steps) for name in PANELS]  # each panel's moving traces at frame i

    def moving(i: int) -> list:
        return [t for frame in panel_frames for t in frame(i)]

    layout = {
        "height": height,
        "margin": {"l": 50, "r": 20, "t": 40, "b": 120},
        "template": "plotly_white",
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.04, "x": 0.0, "font": {"size": 11}},
        "hovermode": "closest",
    }
    names = [str(s) for s in steps]
    frames = [{"name": name, "data": moving(i), "traces": panels.moving} for i, name in enumerate(names)]
    labels = [
        f"{s} (epoch {history.epoch_of(int(s)):.4g}) · loss {history.loss[s]:.4g} · "
        f"{fmt_params(history.param_names, history.params[s])}"
        for s in steps
    ]
    return {**fig.figure(**layout, **animation_controls(labels, names, prefix="step ")), "frames": frames}


PANELS = {"data": (1, 1), "surface": (1, 2), "loss": (2, 1)}  # each panel's cell in the three-panel figure


def still_panel(
    name: str,
    ds: engine.Dataset,
    history: engine.History,
    surface: engine.Surface,
    optimum: np.ndarray,
    fit_bias: bool = True,
    height: int = 360,
    last_step: int | None = None,
) -> dict:
    """One panel of the three-panel figure ("data", "surface" or "loss"), alone and still: at the run's last step, with
    the path up to it; last_step fixes the loss axis to the whole run's length. The step-by-step lab redraws the
    three after every click, in columns that stack on a phone, where one figure's three panels would share its
    width."""
    kind = "scene" if name == "data" and ds.d == 2 else "xy"
    fig = Grid(
        rows=1,
        cols=1,
        cells={(1, 1): (kind, 1)},
        row_heights=[1.0],
        column_widths=[1.0],
        titles={(1, 1): _titles(ds, surface)[name]},
        place={PANELS[name]: (1, 1)},
    )
    panels = _Panels(fig, ds, history, surface, optimum, fit_bias)
    steps = frame_steps(history.steps, history.diverged_at)
    _show_last(panels, _build(name, panels, steps, last_step)(len(steps) - 1))
    return fig.figure(
        height=height,
        margin={"l": 50, "r": 20, "t": 36, "b": 40},
        template="plotly_white",
        legend={"orientation": "h", "yanchor": "top", "y": -0.24, "x": 0.0, "font": {"size": 11}},
        hovermode="closest",
    )


def _titles(ds: engine.Dataset, surface: engine.Surface) -> dict[str, str]:
    return {
        "data": "Data and fitted plane" if ds.d == 2 else "Data and fitted line",
        "surface": "Loss along w" if surface.kind == "curve" else "Loss surface and path",
        "loss": "Loss (mean squared error) per step",
    }


def _build(name: str, panels: _Panels, steps: np.ndarray, last_step: int | None = None):
    """Draw one panel's static traces; returns its frame function (the moving traces at frame i)."""
    if name == "data":
        params = panels.h.params[steps]
        return _plane_panel(panels, params) if panels.ds.d == 2 else _line_panel(panels, params)
    if name == "surface":
        return _surface_panel(panels, steps)
    return _loss_panel(panels, steps, last_step)


def _show_last(panels: _Panels, moving: list) -> None:
    """Put the moving traces' last frame into the figure itself (a still figure has no frames)."""
    for index, trace_ in zip(panels.moving, moving, strict=True):
        panels.fig.data[index].update({k: v for k, v in trace_.items() if k != "type"})


def _line_panel(panels: _Panels, params: np.ndarray):
    """Row 1, col 1: the points, the true and least-squares lines, and the fitted line of the frame."""
    ds = panels.ds
    x, y = ds.x[:, 0].double().numpy(), ds.y.double().numpy()
    xr = padded(float(x.min()), float(x.max()))
    xs = np.array(xr)
    panels.add(
        trace(
            "scatter",
            x=f32(x),
            y=f32(y),
            mode="markers",
            name="data",
            marker={"color": COLORS["data"], "size": 7, "opacity": 0.8},
        ),
        1,
        1,
    )

    def line(name: str, ys: np.ndarray, style: dict, moving: bool = False) -> None:
        panels.add(trace("scatter", x=f32(xs), y=f32(ys), mode="lines", name=name, line=style), 1, 1, moving=moving)

    refs = [_line_points(ds, panels.optimum, xs)]
    if ds.true_params is not None and len(ds.true_params) == len(panels.optimum):
        true_y = _line_points(ds, ds.true_params, xs)
        refs.append(true_y)
        line("true line", true_y, {"color": COLORS["true"], "dash": "dot", "width": 2})
    line("least squares", refs[0], {"color": COLORS["optimum"], "dash": "dash", "width": 1.5})
    fitted = [_line_points(ds, p, xs) for p in params]
    line("model now", fitted[0], {"color": COLORS["fit"], "width": 3}, moving=True)
    lo = min(float(y.min()), *(float(r.min()) for r in refs))
    hi = max(float(y.max()), *(float(r.max()) for r in refs))
    panels.fig.axes(
        1,
        1,
        x={"title": axis_title(ds.feature_names[0]), "range": xr},
        y={"title": axis_title(ds.target_name), "range": padded(lo, hi, 0.12)},
    )
    return lambda i: [moving_trace("scatter", x=xs, y=fitted[i])]


def _plane_panel(panels: _Panels, params: np.ndarray):
    """Row 1, col 1 for two features: the points in 3-D, the least-squares plane and the fitted plane."""
    ds = panels.ds
    x, y = ds.x.double().numpy(), ds.y.double().numpy()
    r1, r2 = padded(float(x[:, 0].min()), float(x[:, 0].max())), padded(float(x[:, 1].min()), float(x[:, 1].max()))
    g1, g2 = np.meshgrid(np.array(r1), np.array(r2))
    panels.add(
        trace(
            "scatter3d",
            x=f32(x[:, 0]),
            y=f32(x[:, 1]),
            z=f32(y),
            mode="markers",
            name="data",
            marker={"color": COLORS["data"], "size": 3},
        ),
        1,
        1,
    )
    ls_plane = f32(_plane_z(panels.optimum, g1, g2))
    # The reference plane rides along in every frame (four numbers): a static surface in a 3-D scene is dropped
    # by plotly.js when frames redraw the scene.
    panels.add(
        trace(
            "surface",
            x=f32(g1),
            y=f32(g2),
            z=ls_plane,
            name="least squares",
            showscale=False,
            opacity=0.25,
            colorscale=[[0, COLORS["optimum"]], [1, COLORS["optimum"]]],
            showlegend=True,
            hoverinfo="skip",
        ),
        1,
        1,
        moving=True,
    )
    planes = [_plane_z(p, g1, g2) for p in params]
    panels.add(
        trace(
            "surface",
            x=f32(g1),
            y=f32(g2),
            z=f32(planes[0]),
            name="model now",
            showscale=False,
            opacity=0.6,
            colorscale=[[0, COLORS["fit"]], [1, COLORS["fit"]]],
            showlegend=True,
        ),
        1,
        1,
        moving=True,
    )
    zr = padded(float(y.min()), float(y.max()), 0.3)
    panels.fig.scene(
        1,
        1,
        xaxis={"title": axis_title(ds.feature_names[0]), "range": r1},
        yaxis={"title": axis_title(ds.feature_names[1]), "range": r2},
        zaxis={"title": axis_title(ds.target_name), "range": zr},
        aspectmode="cube",
        camera={"eye": {"x": 1.5, "y": -1.5, "z": 0.9}},
    )
    return lambda i: [moving_trace("surface", x=g1, y=g2, z=ls_plane), moving_trace("surface", x=g1, y=g2, z=planes[i])]


def _surface_panel(panels: _Panels, steps: np.ndarray):
    """Row 1, col 2: contours of the loss (or the loss curve over w) with the path so far and the current point."""
    s, h = panels.surface, panels.h
    path = h.params[steps][:, list(s.columns)]
    add_backdrop(panels.fig, s, 1, 2, start=path[0])
    ys = h.loss[steps] if s.kind == "curve" else path[:, 1]  # along w: the path rides on the loss curve
    for moving in path_traces(s, path[:1, 0], ys[:1]):
        panels.add(moving, 1, 2, moving=True)

    def frame(i):
        t = trail_indices(i)
        return [
            moving_trace("scatter", x=path[t, 0], y=ys[t]),
            moving_trace("scatter", x=path[i : i + 1, 0], y=ys[i : i + 1]),
        ]

    return frame


def _loss_panel(panels: _Panels, steps: np.ndarray, last_step: int | None = None):
    """Row 2: the full-data loss at every step on a log axis, with a marker at the frame's step."""
    h = panels.h
    keep = thin_indices(len(h.loss))
    loss = positive(h.loss)
    panels.add(
        trace(
            "scatter",
            x=keep.astype(np.int32),
            y=f32(loss[keep]),
            mode="lines",
            name="loss",
            line={"color": COLORS["loss"], "width": 2},
            showlegend=False,
        ),
        2,
        1,
    )
    if h.batch_loss is not None:
        bk = thin_indices(len(h.batch_loss))
        panels.add(
            trace(
                "scatter",
                x=bk.astype(np.int32),
                y=f32(positive(h.batch_loss)[bk]),
                mode="lines",
                name="mini-batch loss",
                line={"color": COLORS["true"], "width": 1},
                opacity=0.7,
                showlegend=True,
            ),
            2,
            1,
        )
    panels.add(
        trace(
            "scatter",
            x=[0],
            y=f32(loss[:1]),
            mode="markers",
            name="now",
            showlegend=False,
            marker={"size": 11, "color": COLORS["current"]},
        ),
        2,
        1,
        moving=True,
    )
    lo, hi = np.log10(loss.min()), np.log10(loss.max())
    last = max(last_step or h.steps, 1)
    x = {
        "title": axis_title("step", standoff=4),
        "range": padded(0.0, float(last), 0.01),
        "tickformat": "d",
        **({"dtick": 1} if last < 8 else {}),
    }
    # plain numbers on the log axis ("0.5", not plotly's bare "5" for the minor ticks of a short range)
    y = {"type": "log", "title": axis_title("loss"), "range": padded(float(lo), float(hi), 0.05), "tickformat": "~g"}
    panels.fig.axes(2, 1, x=x, y=y)
    return lambda i: [moving_trace("scatter", x=steps[i : i + 1], y=loss[steps[i] : steps[i] + 1])]
