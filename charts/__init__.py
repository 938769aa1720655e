"""Plotly figure builders: engine results in, go.Figure out. No streamlit here."""

from .playground import playground_figure

__all__ = ["playground_figure"]
