"""Helpers for the app tests: app.py run headless through Streamlit's AppTest harness.

A plain module: tests/app has no __init__.py on purpose (a package named `app` would shadow app.py), and pytest
puts this folder on sys.path for the test modules in it.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "app.py"


def open_app(**query) -> AppTest:
    """app.py (router; default page: the playground) with these URL query values, run once."""
    at = AppTest.from_file(str(APP), default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = str(value)
    return at.run()


def open_page(page: str, **query) -> AppTest:
    """app.py with these URL query values, switched to another page (e.g. "views/lab.py") and run.

    AppTest's switch_page needs one run of the router first (on its default page, the playground), as a learner who
    opens the app and then picks a page in the sidebar; the controls keep the values of the link on the way.
    """
    return open_app(**query).switch_page(page).run()


def chart_spec(at: AppTest, index: int = 0) -> dict:
    """The figure JSON of the page's index-th Plotly chart."""
    return json.loads(at.get("plotly_chart")[index].proto.spec)


def chart_keys(at: AppTest) -> list[str]:
    """The keys of the page's Plotly charts, in page order (the playground has none: its figure is a component)."""
    return [chart.key for chart in at.get("plotly_chart")]


def keyed_chart_spec(at: AppTest, key: str) -> dict:
    """The figure JSON of the chart with this key."""
    return json.loads(next(c for c in at.get("plotly_chart") if c.key == key).proto.spec)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def assert_no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def arr(value) -> np.ndarray:
    """A JSON array as numpy: a plain list, or Plotly's base64 typed array {"dtype", "bdata", "shape"}."""
    if isinstance(value, dict):
        out = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]).newbyteorder("<"))
        if "shape" in value:
            shape = value["shape"]
            out = out.reshape([int(s) for s in shape.split(",")] if isinstance(shape, str) else list(shape))
        return out.astype(np.float64)
    return np.asarray(value, dtype=np.float64)


def trace_index(spec: dict, name: str, axis: str = "x") -> int:
    """Index in data of the trace with this name on this x axis (or scene)."""
    found = [i for i, t in enumerate(spec["data"]) if t.get("name") == name and t.get("xaxis", t.get("scene")) == axis]
    assert len(found) == 1, (name, axis, found)
    return found[0]


def fitted_line(spec: dict, frame: int = -1) -> tuple[float, float]:
    """(w, b) of the "model now" line in one frame of a one-feature figure, read from its two end points."""
    f = spec["frames"][frame]
    t = f["data"][f["traces"].index(trace_index(spec, "model now"))]
    x, y = arr(t["x"]), arr(t["y"])
    w = (y[1] - y[0]) / (x[1] - x[0])
    return float(w), float(y[0] - w * x[0])


def figure(at: AppTest) -> dict:
    """The playground's live figure: the payload its component was given (charts.live.payload, with controls)."""
    (element,) = at.get("bidi_component")
    return json.loads(element.proto.json)


def figure_run(fig: dict, setting: str | None = None, index: int | None = None) -> dict[str, np.ndarray]:
    """One run of the live figure as numpy, at its frames: the page's own (setting None) or a ladder's run
    `index`; params (F, p), loss (F,), grad and mom (F, a), the two parts of the next step on the surface."""
    block = fig["own"] if setting is None else fig["ladders"][setting]
    j = 0 if setting is None else index
    return {name: arr(block[name])[j] for name in ("params", "loss", "grad", "mom")}


def fitted(fig: dict, frame: int = -1) -> np.ndarray:
    """The page's own run's parameters at one of the figure's frames (the last by default)."""
    return figure_run(fig)["params"][frame]
