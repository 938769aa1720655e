"""Figures built as plain Plotly JSON (dicts), and shown without plotly.py validating them again.

plotly.py checks every property it is given against its schema, and st.plotly_chart re-checks a dict figure in
full. For the playground's figure (a hundred and fifty animation frames) that checking cost about ten times the
work of computing the numbers, on every slider move of every student. The figures built here are plain JSON whose
shape the tests check once against plotly.py's own validation (tests/unit/test_spec.py), so they need not be
checked on every run.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field

import numpy as np
from plotly.basedatatypes import BaseFigure

from .common import packed

SUBPLOT_TITLE_FONT = {"size": 16}


@dataclass
class Grid:
    """A figure laid out as rows x columns of subplots, the way plotly.subplots.make_subplots lays them out.

    cells maps (row, col) (1-based) to "xy" or "scene" and, optionally, a column span; other cells stay empty.
    place maps a cell as a figure's code names it to the cell where it lies in this grid: the same code can then
    draw one of its panels alone (charts.playground.still_panel).
    """

    rows: int
    cols: int
    cells: dict[tuple[int, int], tuple[str, int]]
    row_heights: list[float]
    column_widths: list[float]
    vertical_spacing: float = 0.11
    horizontal_spacing: float = 0.09
    titles: dict[tuple[int, int], str] = field(default_factory=dict)
    place: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)
    data: list[dict] = field(default_factory=list)
    layout: dict = field(default_factory=dict)
    _refs: dict = field(default_factory=dict)

    def __post_init__(self):
        col_domains = _domains(self.column_widths, self.horizontal_spacing)
        # rows are listed top to bottom; paper y runs bottom to top
        row_domains = _domains(self.row_heights[::-1], self.vertical_spacing)[::-1]
        annotations, count = [], {"xy": 0, "scene": 0}  # numbered per kind, as make_subplots numbers them
        for (row, col), (kind, span) in sorted(self.cells.items()):
            x = [col_domains[col - 1][0], col_domains[col - 1 + span - 1][1]]
            y = row_domains[row - 1]
            count[kind] += 1
            n = count[kind]
            if kind == "scene":
                name = "scene" if n == 1 else f"scene{n}"
                self.layout[name] = {"domain": {"x": x, "y": y}}
                self._refs[(row, col)] = {"scene": name}
            else:
                suffix = "" if n == 1 else str(n)
                self.layout[f"xaxis{suffix}"] = {"domain": x, "anchor": f"y{suffix}"}
                self.layout[f"yaxis{suffix}"] = {"domain": y, "anchor": f"x{suffix}"}
                self._refs[(row, col)] = {"xaxis": f"x{suffix}", "yaxis": f"y{suffix}"}
            if (row, col) in self.titles:
                annotations.append(_title(self.titles[(row, col)], (x[0] + x[1]) / 2, y[1]))
        self.layout["annotations"] = annotations

    def add(self, trace: dict, row: int, col: int) -> int:
        """Append a trace (a Plotly trace dict) to subplot (row, col); returns its index in the figure's data."""
        self.data.append({**trace, **self.refs(row, col)})
        return len(self.data) - 1

    def refs(self, row: int, col: int) -> dict:
        """The axis references of subplot (row, col): {"xaxis": "x2", "yaxis": "y2"} or {"scene": "scene"}."""
        return self._refs[self.place.get((row, col), (row, col))]

    def axes(self, row: int, col: int, x: dict | None = None, y: dict | None = None) -> None:
        """Merge properties into the x and y axes of subplot (row, col)."""
        refs = self.refs(row, col)
        for ref, props in ((refs["xaxis"], x), (refs["yaxis"], y)):
            if props:
                self.layout[ref.replace("x", "xaxis").replace("y", "yaxis")].update(props)

    def scene(self, row: int, col: int, **props) -> None:
        """Merge properties into the 3-D scene of subplot (row, col)."""
        self.layout[self.refs(row, col)["scene"]].update(props)

    def figure(self, **layout) -> dict:
        """The Plotly JSON: {"data": [...], "layout": {...}} (frames are added by the caller)."""
        return {"data": self.data, "layout": {**self.layout, **layout}}


def _domains(sizes: list[float], spacing: float) -> list[list[float]]:
    """Paper-coordinate [start, end] of each cell along one direction, as make_subplots computes them."""
    room = 1.0 - spacing * (len(sizes) - 1)
    total = sum(sizes)
    out, start = [], 0.0
    for size in sizes:
        end = start + room * size / total
        out.append([start, end])
        start = end + spacing
    return out


def _title(text: str, x: float, y: float) -> dict:
    return {
        "text": text,
        "x": x,
        "y": y,
        "xref": "paper",
        "yref": "paper",
        "xanchor": "center",
        "yanchor": "bottom",
        "showarrow": False,
        "font": SUBPLOT_TITLE_FONT,
    }


def axis_title(text: str, **props) -> dict:
    """An axis's title property ({"text": ...}), with extra properties such as standoff. The text is escaped:
    Plotly renders some HTML tags in titles (<b>, <a href>), and column names come from learners' files."""
    return {"text": html.escape(text, quote=False), **props}


class Prebuilt(BaseFigure):
    """A figure whose JSON was built and checked beforehand, for st.plotly_chart.

    st.plotly_chart turns a Figure into JSON with Figure.to_dict() (a deep copy of every property) and re-validates
    a dict in full; this hands it the ready JSON instead. It is only a carrier: plotly.py's figure methods are not
    available on it.
    """

    def __init__(self, spec: dict):  # no super().__init__: nothing of plotly.py's object tree is built
        object.__setattr__(self, "_spec", spec)

    def to_dict(self) -> dict:
        return self._spec

    def __repr__(self) -> str:
        return f"Prebuilt(traces={len(self._spec.get('data', []))}, frames={len(self._spec.get('frames', []))})"


def trace(kind: str, **props) -> dict:
    """A Plotly trace as JSON; numpy arrays become float32 typed arrays (what plotly.py would send)."""
    return {"type": kind, **{key: packed(v) if isinstance(v, np.ndarray) else v for key, v in props.items()}}


def from_spec(spec: str) -> Prebuilt:
    """A figure back from its JSON text (charts.to_spec), for st.plotly_chart: it was checked when it was built."""
    return Prebuilt(json.loads(spec))
