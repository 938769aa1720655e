"""The fit player on the Overfitting page: its payload, its two sliders as a teacher's link leaves them, and what
they change when they come to rest (the same controls as the sidebar's, through ui/figure.settled: locks hold and
the URL follows)."""

from __future__ import annotations

import components
from compute import overfit
from ui import figure

KEY = "fit_player"
SLIDERS = ("degree", "weight_decay")


def show(values: dict, lesson) -> None:
    """Mount the player for these control values (a ValueError from the engine propagates to the page)."""
    states = {k: "hidden" if k in lesson.hidden else "locked" if k in lesson.locked else "free" for k in SLIDERS}
    components.fit_player(
        overfit.cached_player(values, states),
        key=KEY,
        on_degree=lambda: figure.settled("degree", KEY),
        on_weight_decay=lambda: figure.settled("weight_decay", KEY),
    )
