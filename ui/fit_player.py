"""The fit player on the Overfitting page: its payload, its two sliders as a teacher's link leaves them, where it
fetches the runs its families do not hold (components/live_route.py), and what its sliders change when they come to
rest (the same controls as the sidebar's, through ui/figure.settled: locks hold and the URL follows)."""

from __future__ import annotations

import components
from components import live_route
from compute import overfit
from settings import controls
from ui import figure

KEY = "fit_player"
SLIDERS = ("degree", "weight_decay")
# the sidebar's other sliders, and its radio buttons: the player fetches the run each asks for from its route, while
# the page reruns
FETCHED = ("lr", "epochs", "l1", "test_fraction", "n", "noise")
CHOICES = ("powers", "shape")


def _steps(key: str, value) -> tuple:
    """The values the sidebar's slider of `key` steps through (for the player to fetch the next one ahead)."""
    control = controls.BY_KEY[key]
    return controls.grid_options(key, value) if control.kind == "grid" else controls.slider_values(key, value)


def show(values: dict, lesson) -> None:
    """Mount the player for these control values (a ValueError from the engine propagates to the page)."""
    states = {k: "hidden" if k in lesson.hidden else "locked" if k in lesson.locked else "free" for k in SLIDERS}
    asks = {
        "query": controls.to_query(values),
        "fetch": live_route.fetch(live_route.FIT_PATH),
        "fetched": {k: controls.BY_KEY[k].label for k in FETCHED + CHOICES},
        "choices": figure.choices(CHOICES),
        "steps": {k: _steps(k, values[k]) for k in FETCHED if k != "n"},  # n: one point more is not worth a fetch
    }
    components.fit_player(
        overfit.cached_player(values, states) | asks,
        key=KEY,
        on_degree=lambda: figure.settled("degree", KEY),
        on_weight_decay=lambda: figure.settled("weight_decay", KEY),
    )
