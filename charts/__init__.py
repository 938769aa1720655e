"""Plotly figure builders: engine results in, go.Figure out. No streamlit here."""

from .common import from_spec, to_spec
from .lab import delta_error_figure, smallest_error
from .playground import playground_figure

__all__ = ["delta_error_figure", "from_spec", "playground_figure", "smallest_error", "to_spec"]
