"""Custom Streamlit components: small pieces of browser code where Streamlit's own elements cannot do the job.

live_figure: the playground's figure, which plays runs by itself and moves its learning rate and momentum in the
browser (Plotly.js from the installed plotly package). Nothing here computes: the engine and charts/ do.
"""

from .live_figure import ensure_plotly_js, live_figure

__all__ = ["ensure_plotly_js", "live_figure"]
