"""The live figure's Python side: registers the component (Streamlit components v2) and serves Plotly.js to it.

The JavaScript and CSS are this folder's live_figure.js and live_figure.css. Plotly.js is the copy inside the
installed plotly package (plotly/package_data/plotly.min.js): no CDN, which a school network may block, no npm
build and no copy in the repository. It is copied into the app's static/ folder (git-ignored), which Streamlit
serves at app/static/ (server.enableStaticServing in .streamlit/config.toml).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import plotly
import streamlit as st

HERE = Path(__file__).resolve().parent
STATIC = HERE.parent / "static"  # beside app.py: what Streamlit serves at app/static/
PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"

_mount = st.components.v2.component(
    "playground_live_figure",
    css=(HERE / "live_figure.css").read_text(encoding="utf-8"),
    js=(HERE / "live_figure.js").read_text(encoding="utf-8"),
    isolate_styles=False,  # Plotly.js styles its hover labels and axes through a stylesheet in the page's head
)


def ensure_plotly_js(static: Path = STATIC) -> Path:
    """static/plotly.min.js, copied from the plotly package when it is missing or another version's (once per
    server process, at start; written aside and renamed, so a browser never reads half a file)."""
    target = static / "plotly.min.js"
    if not target.exists() or target.stat().st_size != PLOTLY_JS.stat().st_size:
        static.mkdir(exist_ok=True)
        partial = target.with_suffix(".partial")
        shutil.copyfile(PLOTLY_JS, partial)
        partial.replace(target)
    return target


def live_figure(
    data: dict,
    key: str,
    on_lr: Callable[[], None],
    on_momentum: Callable[[], None],
    on_epochs: Callable[[], None],
    on_start: Callable[[], None],
):
    """Mount the figure with its payload (charts.live.payload). The callbacks run when a slider of the figure comes
    to rest (its value under "lr", "momentum" or "epochs" in st.session_state[key]) or the surface is tapped
    ("start")."""
    return _mount(
        key=key,
        data=data,
        on_lr_change=on_lr,
        on_momentum_change=on_momentum,
        on_epochs_change=on_epochs,
        on_start_change=on_start,
    )
