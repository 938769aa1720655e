"""The playground's live figure, Python side: registers the component (Streamlit components v2). Its JavaScript and
CSS are live_figure.js and live_figure.css, after figure_common.js (components/assets.py)."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from .assets import script, style

_mount = st.components.v2.component(
    "playground_live_figure",
    css=style(),  # figure_common.css: it has no rules of its own
    js=script("live_figure"),
    isolate_styles=False,  # Plotly.js styles the plane's 3-D scene through a stylesheet in the page's head
)


def live_figure(
    data: dict,
    key: str,
    on_lr: Callable[[], None],
    on_momentum: Callable[[], None],
    on_epochs: Callable[[], None],
    on_start: Callable[[], None],
    on_noise: Callable[[], None] | None = None,
):
    """Mount the figure with its payload (charts.live.payload). The callbacks run when a slider of the figure comes
    to rest (its value under "lr", "momentum", "epochs" or "noise" in st.session_state[key]) or the surface is
    tapped ("start"). The noise slider shows only where the payload says where to fetch its runs ("fetch")."""
    return _mount(
        key=key,
        data=data,
        on_lr_change=on_lr,
        on_momentum_change=on_momentum,
        on_epochs_change=on_epochs,
        on_start_change=on_start,
        on_noise_change=on_noise,
    )
