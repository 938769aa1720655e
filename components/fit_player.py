"""The Overfitting page's fit player, Python side: registers the component (Streamlit components v2). Its JavaScript
and CSS are fit_player.js and fit_player.css, after figure_common.js and .css (components/assets.py)."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from .assets import script, style

_mount = st.components.v2.component(
    "overfit_fit_player",
    css=style("fit_player"),
    js=script("fit_player"),
    isolate_styles=False,  # the figures' shared classes (figure_common.css) live in the page, as the live figure's must
)


def fit_player(data: dict, key: str, on_degree: Callable[[], None], on_weight_decay: Callable[[], None]):
    """Mount the player with its payload (charts.fit_payload). The callbacks run when its Degree or Weight decay
    slider comes to rest (the value under "degree" or "weight_decay" in st.session_state[key])."""
    return _mount(key=key, data=data, on_degree_change=on_degree, on_weight_decay_change=on_weight_decay)
