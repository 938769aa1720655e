"""The race player, Python side: registers the component (Streamlit components v2) that plays several runs together
(the optimizer race, the mini-batch noise runs). Its JavaScript and CSS are race_player.js and race_player.css,
after figure_common.js and .css (components/assets.py)."""

from __future__ import annotations

import streamlit as st

from .assets import script, style

_mount = st.components.v2.component(
    "explore_race_player",
    css=style("race_player"),
    js=script("race_player"),
    isolate_styles=False,  # the figures' shared classes (figure_common.css) live in the page, as the live figure's must
)


def race_player(data: dict, key: str):
    """Mount the player with its payload (charts.race_payload). It sends nothing back: it has no setting of its own."""
    return _mount(key=key, data=data)
