"""What the figures that play runs in the browser are made of: their JavaScript and CSS (in this folder, each
figure's own file after figure_common.js and panel.js, which they share), and Plotly.js, for the live figure's one
3-D panel (the plane's data).

Plotly.js is the copy inside the installed plotly package (plotly/package_data/plotly.min.js): no CDN, which a
school network may block, no npm build and no copy in the repository. It is copied into the app's static/ folder
(git-ignored), which Streamlit serves at app/static/ (server.enableStaticServing in .streamlit/config.toml).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import plotly

HERE = Path(__file__).resolve().parent
STATIC = HERE.parent / "static"  # beside app.py: what Streamlit serves at app/static/
PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"


def script(name: str) -> str:
    """A figure's JavaScript module: the shared helpers, the panel that draws 2-D charts, then its own file."""
    files = ("figure_common.js", "panel.js", f"{name}.js")
    return "\n".join((HERE / f).read_text(encoding="utf-8") for f in files)


def style(name: str = "") -> str:
    """A figure's CSS: the shared rules, then its own file (name.css) when it has one."""
    own = HERE / f"{name}.css"
    extra = own.read_text(encoding="utf-8") if name and own.exists() else ""
    return (HERE / "figure_common.css").read_text(encoding="utf-8") + "\n" + extra


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
