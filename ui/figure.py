"""The live figure on the playground: its payload, its controls as a teacher's link leaves them, where its noise
slider fetches new runs (components/live_route.py), the sidebar's choices it follows, and what its sliders and a tap on
its surface change when they come to rest (the same controls as the sidebar's, through widgets.set_values, so locks
hold and the URL follows)."""

from __future__ import annotations

import streamlit as st

import components
from components import live_route
from compute import cache, live
from settings.controls import BY_KEY
from ui import widgets

KEY = "live_figure"


def settled(setting: str, key: str = KEY) -> None:
    """A slider of a figure (the component under `key`) came to rest: its value becomes the control's."""
    value = (st.session_state.get(key) or {}).get(setting)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return
    try:  # what the browser sends is checked as a URL's value is: in range, whole where whole
        widgets.set_values(**{setting: BY_KEY[setting].coerce(value)})
    except ValueError:
        return


def _tapped() -> None:
    point = (st.session_state.get(KEY) or {}).get("start")
    if not isinstance(point, list) or not point or not all(isinstance(v, (int, float)) for v in point):
        return
    values = widgets.values_now()
    widgets.set_values(**live.start_values(cache.run(values), point))


FOLLOWED = ("dataset", "method")  # the sidebar's select boxes the figure follows as soon as one is picked


def choices(keys=FOLLOWED) -> dict[str, dict[str, str]]:
    """For a figure to follow the sidebar's select boxes (or radio buttons) of these settings: each option's label,
    as the sidebar shows it, to the option; not a learner's own data (it stays in their session: the figures' routes
    do not compute it)."""
    return {key: {str(BY_KEY[key].labels.get(o, o)): o for o in BY_KEY[key].options if o != "custom"} for key in keys}


def show(values: dict, shown: set[str], lesson) -> None:
    """Mount the figure for these control values (a ValueError from the engine propagates to the page)."""
    states = live.control_states(values, shown, lesson.hidden, lesson.locked)
    components.live_figure(
        cache.live_figure(values, states) | {"fetch": live_route.fetch(), "choices": choices()},
        key=KEY,
        on_lr=lambda: settled("lr"),
        on_momentum=lambda: settled("momentum"),
        on_epochs=lambda: settled("epochs"),
        on_start=_tapped,
        on_noise=lambda: settled("noise"),
    )
