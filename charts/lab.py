"""Figures of the step-by-step lab: how the finite-difference error depends on delta."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from engine.gradients import DeltaSweep

from .common import COLORS, positive

STYLES = {
    ("forward", "float32"): {"color": COLORS["path"], "dash": "solid"},
    ("forward", "float64"): {"color": COLORS["path"], "dash": "dot"},
    ("central", "float32"): {"color": COLORS["fit"], "dash": "solid"},
    ("central", "float64"): {"color": COLORS["fit"], "dash": "dot"},
}


def delta_error_figure(sweep: DeltaSweep, chosen_delta: float | None = None, height: int = 380) -> go.Figure:
    """Error of forward and central differences against delta, log-log, in float32 and float64."""
    fig = go.Figure()
    for (kind, dtype), errors in sweep.errors.items():
        fig.add_trace(
            go.Scatter(
                x=sweep.deltas,
                y=positive(errors),
                mode="lines+markers",
                name=f"{kind}, {dtype}",
                line={"width": 2, **STYLES[(kind, dtype)]},
                marker={"size": 5},
                hovertemplate="delta %{x:.1e}<br>error %{y:.2e}<extra>" + f"{kind} {dtype}</extra>",
            )
        )
    if chosen_delta is not None:
        fig.add_vline(
            x=chosen_delta,
            line={"color": COLORS["optimum"], "dash": "dash", "width": 1},
            annotation_text=f"delta = {chosen_delta:g}",
            annotation_position="bottom right",
        )
    fig.update_xaxes(
        type="log", title_text="delta (step of the difference)", autorange="reversed", exponentformat="power"
    )
    fig.update_yaxes(type="log", title_text="largest error against the exact gradient", exponentformat="power")
    fig.update_layout(
        height=height,
        template="plotly_white",
        margin={"l": 60, "r": 20, "t": 30, "b": 50},
        legend={"orientation": "h", "y": 1.12, "x": 0},
    )
    return fig


def smallest_error(sweep: DeltaSweep, kind: str, dtype: str) -> tuple[float, float]:
    """(delta, error) where this kind of difference is most accurate."""
    errors = sweep.errors[(kind, dtype)]
    i = int(np.argmin(errors))
    return float(sweep.deltas[i]), float(errors[i])
