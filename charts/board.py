"""The class board's figure: the runs a class shared, as points on the (learning rate, momentum) plane coloured by
outcome, with heavy-ball theory drawn over them (the stability limit (2 + 2 momentum) / lambda_max and the best
pair). Plain numbers and strings in, a Plotly figure out: the outcomes and their order come from the caller."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

import engine
from charts.common import COLORS, log_ticks, padded

# one style per outcome, best first (the caller's order): teal stars, blue dots, amber diamonds, red crosses; the
# symbols tell the outcomes apart without the colours
STYLES = (
    {"symbol": "star", "color": COLORS["fit"], "size": 15},
    {"symbol": "circle", "color": COLORS["data"], "size": 11},
    {"symbol": "diamond", "color": COLORS["start"], "size": 11},
    {"symbol": "x", "color": COLORS["path"], "size": 11},
)
LIMIT_STYLE = {"color": "#B91C1C", "width": 2, "dash": "dash"}
NAMES_IN_HOVER = 6
MOMENTUM_TOP = 0.99


@dataclass(frozen=True)
class Point:
    """One shared run: where it sits, and who shared it (plain text, escaped here for the hover label)."""

    lr: float
    momentum: float
    nickname: str
    detail: str = ""  # e.g. "final loss 0.31" (plain text)


def _grouped(points: Sequence[Point]) -> list[tuple[float, float, list[Point]]]:
    """Runs at the same (learning rate, momentum) as one marker: several students often pick the same pair."""
    found: dict[tuple[float, float], list[Point]] = {}
    for p in points:
        found.setdefault((float(p.lr), float(p.momentum)), []).append(p)
    return [(lr, m, group) for (lr, m), group in found.items()]


def _hover(group: list[Point], outcome: str) -> str:
    shown = [f"{html.escape(p.nickname)}" + (f": {html.escape(p.detail)}" if p.detail else "") for p in group]
    more = len(group) - NAMES_IN_HOVER
    lines = shown[:NAMES_IN_HOVER] + ([f"and {more} more"] if more > 0 else [])
    head = f"{len(group)} runs, {outcome}" if len(group) > 1 else outcome
    return "<br>".join([head, *lines])


def _x_range(lrs: list[float], stab: engine.Stability | None) -> list[float]:
    span = list(lrs)
    if stab is not None:
        span += [stab.max_stable_lr * 0.01, stab.max_stable_lr_with_momentum(MOMENTUM_TOP) * 1.2]
    if not span:
        span = [1e-3, 1.0]
    logs = np.log10(np.asarray(span, dtype=np.float64))
    return padded(float(logs.min()), float(logs.max()), 0.05)


def board_figure(
    groups: Sequence[tuple[str, Sequence[Point]]],
    stab: engine.Stability | None,
    height: int = 460,
) -> go.Figure:
    """The class's runs on the (learning rate, momentum) plane, one trace per outcome (`groups`, best first), a
    marker per distinct pair (larger when several runs share it); with `stab`, the stability limit and the best
    pair of the lesson's data."""
    fig = go.Figure()
    lrs = [p.lr for _, pts in groups for p in pts if p.lr > 0]
    x_range = _x_range(lrs, stab)
    if stab is not None:
        beta = np.linspace(0.0, MOMENTUM_TOP, 100)
        limit = np.array([stab.max_stable_lr_with_momentum(float(b)) for b in beta])
        fig.add_trace(
            go.Scatter(
                x=limit,
                y=beta,
                mode="lines",
                line=LIMIT_STYLE,
                name="stability limit (2 + 2·momentum)/λmax: right of it, runs blow up",
                hovertemplate="stability limit<br>lr %{x:.3g} at momentum %{y:.2f}<extra></extra>",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=[stab.best_momentum_lr],
                y=[stab.best_momentum],
                mode="markers",
                marker={"symbol": "star", "size": 20, "color": "white", "line": {"color": "black", "width": 1.5}},
                name=f"best pair (theory): lr {stab.best_momentum_lr:.3g}, momentum {stab.best_momentum:.2f}",
                hovertemplate="best pair (theory)<br>lr %{x:.3g}, momentum %{y:.3f}<extra></extra>",
            )
        )
    for (outcome, points), style in zip(groups, STYLES, strict=False):
        marked = [g for g in _grouped(points) if g[0] > 0]
        sizes = [style["size"] + 3 * min(len(g[2]) - 1, 5) for g in marked]
        fig.add_trace(
            go.Scatter(
                x=[g[0] for g in marked],
                y=[g[1] for g in marked],
                mode="markers",
                name=f"{outcome} ({len(points)})",
                marker={
                    "symbol": style["symbol"],
                    "color": style["color"],
                    "size": sizes,
                    "line": {"color": "white", "width": 1},
                    "opacity": 0.9,
                },
                text=[_hover(g[2], outcome) for g in marked],
                hovertemplate="%{text}<br>lr %{x:.3g}, momentum %{y:.2f}<extra></extra>",
                visible=True if points else "legendonly",
            )
        )
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        legend={"orientation": "h", "yanchor": "top", "y": -0.18, "x": 0, "font": {"size": 12}},
        hovermode="closest",
        plot_bgcolor="white",
    )
    fig.update_xaxes(
        type="log",
        range=x_range,
        title_text="learning rate",
        gridcolor="#E5E7EB",
        **log_ticks(*x_range),
    )
    fig.update_yaxes(range=[-0.04, 1.0], title_text="momentum", gridcolor="#E5E7EB", zeroline=False)
    return fig
