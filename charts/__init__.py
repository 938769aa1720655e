"""Plotly figure builders: engine results in, go.Figure out. No streamlit here."""

from .lab import delta_error_figure, smallest_error
from .playground import playground_figure

__all__ = ["delta_error_figure", "playground_figure", "smallest_error"]
