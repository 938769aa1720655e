"""Custom Streamlit components: small pieces of browser code where Streamlit's own elements cannot do the job.

live_figure: the playground's figure, which plays runs by itself and moves its learning rate and momentum in the
browser; live_route: the HTTP routes it and the fit player fetch new runs from, without a rerun of the page
(app.py serves them beside Streamlit's own routes). fit_player: the Overfitting page's fitted curve and losses,
which play by themselves and move the degree and the weight decay in the browser. race_player: several runs played
together (the optimizer race, the mini-batch noise runs). Their 2-D panels are drawn by panel.js (SVG and a canvas);
the plane's 3-D data by Plotly.js from the installed plotly package (assets.py). Nothing here computes: the engine
and charts/ do, through compute/.
"""

from .assets import ensure_plotly_js
from .fit_player import fit_player
from .live_figure import live_figure
from .race_player import race_player

__all__ = ["ensure_plotly_js", "fit_player", "live_figure", "race_player"]
