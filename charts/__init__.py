"""Plotly figure builders: engine results in, go.Figure or plain Plotly JSON (charts.spec) out. No streamlit here."""

from .common import to_spec
from .explore import MAP_PANELS, momentum_map_figure, scaling_figure, sweep_figure
from .fit_player import FitRuns
from .fit_player import payload as fit_payload
from .lab import delta_error_figure, smallest_error
from .live import Family, Ladder
from .live import payload as live_payload
from .overfit import (
    conditioning_figure,
    conditioning_marks,
    decay_figure,
    decay_mark,
    degree_figure,
    degree_mark,
    eigen_figure,
    penalty_figure,
)
from .playground import playground_figure, still_panel
from .race import Band, Track
from .race import payload as race_payload
from .spec import Prebuilt, from_spec

__all__ = [
    "MAP_PANELS",
    "from_spec",
    "to_spec",
    "Band",
    "Family",
    "FitRuns",
    "fit_payload",
    "Ladder",
    "live_payload",
    "Prebuilt",
    "Track",
    "conditioning_figure",
    "decay_figure",
    "degree_figure",
    "eigen_figure",
    "conditioning_marks",
    "degree_mark",
    "decay_mark",
    "penalty_figure",
    "delta_error_figure",
    "momentum_map_figure",
    "playground_figure",
    "still_panel",
    "race_payload",
    "scaling_figure",
    "smallest_error",
    "sweep_figure",
]
